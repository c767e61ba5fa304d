//! `odoo-dump download FILE|REQUEST --output DIR`: bring the result of a done upgrade back.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use odump_upgrade::{SavedRequest, Status};
use serde::Serialize;

use crate::cmd::upload::{self, EventShower};
use crate::output::{self, outln};

/// Download the result of a done upgrade into a new directory: the upgraded directory-format
/// dump, the partial `filestore/` (files the upgrade added or changed), `upgrade-report.html`
/// and `upgrade.log`.
///
/// The request is the one `upload` saved for FILE (the dump that was sent), or the one with
/// that REQUEST id (`odoo-dump status` lists them). Nothing is ever overwritten: DIR must not
/// exist or be empty. An interrupted download continues when run again.
#[derive(clap::Args)]
#[command(after_help = "\
Environment: ODOO_UPGRADE_SERVER, ODOO_DUMP_STATE_DIR, ODOO_UPGRADE_TIMEOUT (see `upload --help`).

Exit codes: 0 downloaded; 1 the request is not done (still running, failed or cancelled): \
nothing to download; 2 error (no such request, DIR exists and is not empty, platform or \
transfer error).")]
pub struct Args {
    /// The dump given to `upload`, or a request id from `odoo-dump status`.
    #[arg(value_name = "FILE|REQUEST")]
    request: String,
    /// A new directory to download into (must not exist, or be empty).
    #[arg(long, short, value_name = "DIR")]
    output: PathBuf,
    /// The upgrade platform, https://HOST[:PORT] (default: $ODOO_UPGRADE_SERVER, else
    /// https://upgrade.odoo.com); requests keep the host they were created on.
    #[arg(long, value_name = "URL")]
    server: Option<String>,
    /// Limit the transfer rate, in KiB/s.
    #[arg(long, value_name = "KIB")]
    bwlimit: Option<u32>,
    /// Print one JSON object: request_id, dir, dump, filestore, report, log.
    #[arg(long)]
    json: bool,
}

#[derive(Serialize)]
struct DownloadReport<'a> {
    request_id: u64,
    source_version: &'a str,
    target: &'a str,
    dir: &'a Path,
    dump: &'a Path,
    filestore: Option<&'a Path>,
    report: Option<&'a Path>,
    log: Option<&'a Path>,
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    // Refuse a destination with files in it before asking anything of the platform.
    if let Ok(mut entries) = std::fs::read_dir(&args.output) {
        if entries.next().is_some() {
            anyhow::bail!(
                "{} exists and is not empty: nothing was downloaded; give a new directory with --output",
                args.output.display()
            );
        }
    } else if args.output.exists() {
        anyhow::bail!(
            "{} exists and is not a directory: give a new directory with --output",
            args.output.display()
        );
    }
    let client = upload::client(args.server.as_deref(), args.bwlimit)?;
    let saved = find(&client, &args.request)?;
    if saved.status.is_final() && saved.status != Status::Done {
        eprintln!(
            "odoo-dump: request {} ended {}{}: there is nothing to download",
            saved.request_id,
            saved.status,
            saved
                .reason
                .as_deref()
                .map_or(String::new(), |r| format!(" ({r})"))
        );
        return Ok(ExitCode::from(1));
    }
    let mut shower = EventShower::new(&args.request);
    let result = client.download(&saved, &args.output, &mut |event| shower.show(event));
    shower.finish();
    let downloaded = match result {
        Ok(downloaded) => downloaded,
        Err(e @ odump_upgrade::Error::NotDone { .. }) => {
            eprintln!("odoo-dump: {e}");
            return Ok(ExitCode::from(1));
        }
        Err(e) => return Err(e.into()),
    };

    if args.json {
        let report = DownloadReport {
            request_id: saved.request_id,
            source_version: &saved.source_version,
            target: &saved.target,
            dir: &downloaded.dir,
            dump: &downloaded.dump,
            filestore: downloaded.filestore.as_deref(),
            report: downloaded.report.as_deref(),
            log: downloaded.log.as_deref(),
        };
        output::emit(&(serde_json::to_string_pretty(&report)? + "\n"));
        return Ok(ExitCode::SUCCESS);
    }
    // Paths as the user wrote --output, so the hint can be pasted as is.
    let shown = |path: &Path| match path.file_name() {
        Some(name) => args.output.join(name).display().to_string(),
        None => path.display().to_string(),
    };
    let mut out = String::new();
    outln!(
        out,
        "downloaded request {} (Odoo {} → {}) into {}",
        saved.request_id,
        saved.source_version,
        saved.target,
        args.output.display()
    );
    outln!(out, "  dump:      {}", shown(&downloaded.dump));
    if let Some(filestore) = &downloaded.filestore {
        outln!(
            out,
            "  filestore: {} (files the upgrade added or changed: copy them into the database's filestore)",
            shown(filestore)
        );
    }
    if let Some(report) = &downloaded.report {
        outln!(out, "  report:    {}", shown(report));
    }
    if let Some(log) = &downloaded.log {
        outln!(out, "  log:       {}", shown(log));
    }
    outln!(
        out,
        "inspect it: odoo-dump inspect {}",
        upload::shell_word(&shown(&downloaded.dump))
    );
    output::emit(&out);
    Ok(ExitCode::SUCCESS)
}

/// The saved request named by `arg`: the dump's request (the done one when there are several),
/// else the request with that id.
fn find(client: &odump_upgrade::Client, arg: &str) -> anyhow::Result<SavedRequest> {
    let path = Path::new(arg);
    let candidates = if path.exists() {
        let found = upload::requests_for(client, path)?;
        if found.is_empty() {
            anyhow::bail!(
                "no saved upgrade request for {arg} (in {}): upload it first, or give a request id from `odoo-dump status`",
                upload::requests_dir(client).display()
            );
        }
        found
    } else if let Ok(id) = arg.parse::<u64>() {
        let found: Vec<SavedRequest> = client
            .list_requests()?
            .into_iter()
            .filter(|r| r.request_id == id)
            .collect();
        if found.is_empty() {
            anyhow::bail!(
                "no saved upgrade request {id} (in {}): `odoo-dump status` lists them",
                upload::requests_dir(client).display()
            );
        }
        found
    } else {
        anyhow::bail!(
            "{arg} is neither a file nor a request id: give the dump given to `upload`, or a request id from `odoo-dump status`"
        );
    };
    let done: Vec<&SavedRequest> = candidates
        .iter()
        .filter(|r| r.status == Status::Done)
        .collect();
    match (done.as_slice(), candidates.as_slice()) {
        ([one], _) => Ok((*one).clone()),
        ([], [one]) => Ok(one.clone()),
        _ => {
            let mut list = String::new();
            for r in &candidates {
                outln!(
                    list,
                    "  request {}: {} → {} ({}), {}",
                    r.request_id,
                    r.source_version,
                    r.target,
                    r.aim,
                    r.status
                );
            }
            anyhow::bail!(
                "{arg} has several saved requests; give the request id instead:\n{}",
                list.trim_end()
            )
        }
    }
}

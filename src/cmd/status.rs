//! `odoo-dump status [FILE]`: the upgrade requests saved by `upload`, and where each one stands.

use std::path::PathBuf;
use std::process::ExitCode;

use odump_upgrade::{Aim, DumpFormat, Phase, SavedRequest, Status};
use serde::Serialize;

use crate::cmd::upload;
use crate::output::{self, outln};

/// Show the upgrade requests saved by `upload`: dump, target, aim, how far this client got, the
/// platform's last status (with the reason of a failure), the masked token, when.
///
/// Nothing is asked of the platform unless --refresh is given: then each unfinished request's
/// status is queried (and saved) first.
#[derive(clap::Args)]
#[command(after_help = "\
Environment: ODOO_DUMP_STATE_DIR (where requests are saved, default ~/.local/state/odoo-dump), \
ODOO_UPGRADE_SERVER.

Exit codes: 0 requests shown (or none saved); 1 a request shown ended failed or cancelled; \
2 error (FILE has no saved request, unreadable state, the platform could not be asked with \
--refresh).")]
pub struct Args {
    /// Only the requests of this dump (the path given to `upload`).
    #[arg(value_name = "FILE")]
    file: Option<PathBuf>,
    /// Ask the platform for the status of each unfinished request first.
    #[arg(long)]
    refresh: bool,
    /// The upgrade platform, https://HOST[:PORT] (default: $ODOO_UPGRADE_SERVER, else
    /// https://upgrade.odoo.com); requests keep the host they were created on.
    #[arg(long, value_name = "URL")]
    server: Option<String>,
    /// Print one JSON object: state_dir, requests (request_id, dump, target, aim, phase, status,
    /// reason, token masked, created_at, updated_at…).
    #[arg(long)]
    json: bool,
}

/// A saved request as shown by `status --json` and `upload --json`: everything but the token,
/// which is masked.
#[derive(Serialize)]
pub struct RequestView {
    pub request_id: u64,
    pub dump: PathBuf,
    pub format: DumpFormat,
    pub source_version: String,
    pub target: String,
    pub aim: Aim,
    pub phase: Phase,
    pub status: Status,
    pub reason: Option<String>,
    /// The last four characters only (`****abcd`).
    pub token: String,
    pub server: String,
    pub host_uri: String,
    pub pg_version_compatible: Option<bool>,
    pub downloaded_to: Option<PathBuf>,
    /// UTC, ISO 8601.
    pub created_at: String,
    /// UTC, ISO 8601.
    pub updated_at: String,
}

impl RequestView {
    pub fn new(r: &SavedRequest) -> Self {
        RequestView {
            request_id: r.request_id,
            dump: r.dump.path.clone(),
            format: r.dump.format,
            source_version: r.source_version.clone(),
            target: r.target.clone(),
            aim: r.aim,
            phase: r.phase,
            status: r.status,
            reason: r.reason.clone(),
            token: r.token.to_string(),
            server: r.server.clone(),
            host_uri: r.host_uri.clone(),
            pg_version_compatible: r.pg_version_compatible,
            downloaded_to: r.downloaded_to.clone(),
            created_at: iso_utc(r.created_at),
            updated_at: iso_utc(r.updated_at),
        }
    }
}

#[derive(Serialize)]
struct StatusReport {
    state_dir: PathBuf,
    requests: Vec<RequestView>,
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let client = upload::client(args.server.as_deref(), None)?;
    let mut requests = match &args.file {
        Some(file) => {
            let found = upload::requests_for(&client, file)?;
            if found.is_empty() {
                anyhow::bail!(
                    "no saved upgrade request for {} (in {}): upload it first with `odoo-dump upload {} --target SERIES`",
                    file.display(),
                    upload::requests_dir(&client).display(),
                    upload::shell_word(&file.to_string_lossy())
                );
            }
            found
        }
        None => client.list_requests()?,
    };
    let mut failures = Vec::new();
    if args.refresh {
        for request in requests.iter_mut().filter(|r| !r.status.is_final()) {
            match client.status(request) {
                Ok(fresh) => *request = fresh,
                Err(e) => failures.push(format!("request {}: {e}", request.request_id)),
            }
        }
    }

    if args.json {
        let report = StatusReport {
            state_dir: client.config().state_dir.clone(),
            requests: requests.iter().map(RequestView::new).collect(),
        };
        output::emit(&(serde_json::to_string_pretty(&report)? + "\n"));
    } else {
        output::emit(&table(&requests, &upload::requests_dir(&client)));
    }
    if !failures.is_empty() {
        for failure in &failures {
            eprintln!("odoo-dump: {failure}");
        }
        return Ok(ExitCode::from(2));
    }
    let ended_badly = requests
        .iter()
        .any(|r| matches!(r.status, Status::Failed | Status::Cancelled));
    Ok(ExitCode::from(if ended_badly { 1 } else { 0 }))
}

/// The human listing: one row per request, reason and download under it.
fn table(requests: &[SavedRequest], dir: &std::path::Path) -> String {
    let mut out = String::new();
    if requests.is_empty() {
        outln!(out, "no saved upgrade requests (in {})", dir.display());
        return out;
    }
    outln!(
        out,
        "{:<8} {:<10} {:<10} {:<10} {:<10} {:<10} {:<9} {:<20} DUMP",
        "REQUEST",
        "STATUS",
        "PHASE",
        "SOURCE",
        "TARGET",
        "AIM",
        "TOKEN",
        "UPDATED (UTC)"
    );
    for r in requests {
        outln!(
            out,
            "{:<8} {:<10} {:<10} {:<10} {:<10} {:<10} {:<9} {:<20} {}",
            r.request_id,
            r.status.to_string(),
            r.phase.to_string(),
            r.source_version,
            r.target,
            r.aim.to_string(),
            r.token.to_string(),
            iso_utc(r.updated_at)
                .replace('T', " ")
                .trim_end_matches('Z'),
            r.dump.path.display()
        );
        if let Some(reason) = &r.reason {
            outln!(out, "{:<8} reason: {reason}", "");
        }
        if let Some(dir) = &r.downloaded_to {
            outln!(out, "{:<8} downloaded to {}", "", dir.display());
        } else if r.status == Status::Done {
            outln!(
                out,
                "{:<8} download: odoo-dump download {} --output DIR",
                "",
                r.request_id
            );
        }
    }
    out
}

/// Seconds since the Unix epoch as `YYYY-MM-DDTHH:MM:SSZ`.
pub fn iso_utc(seconds: u64) -> String {
    let days = (seconds / 86_400) as i64;
    let rest = seconds % 86_400;
    // Howard Hinnant's civil_from_days.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        rest / 3_600,
        rest % 3_600 / 60,
        rest % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utc_dates() {
        assert_eq!(iso_utc(0), "1970-01-01T00:00:00Z");
        assert_eq!(iso_utc(951_782_400), "2000-02-29T00:00:00Z");
        assert_eq!(iso_utc(1_735_689_599), "2024-12-31T23:59:59Z");
        assert_eq!(iso_utc(1_767_225_600), "2026-01-01T00:00:00Z");
    }
}

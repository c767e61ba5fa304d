//! `odoo-dump upload FILE --target SERIES`: check a dump, send it to the Odoo upgrade platform,
//! follow the upgrade to its end. Also the helpers `status` and `download` share: the client
//! configuration (server, state directory and the settings tests and odd networks override) and
//! the transfer progress bar.

use std::io::{IsTerminal, Write};
use std::ops::ControlFlow;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressStyle};
use odump_io::Container;
use odump_odoo::check::{Finding, Severity};
use odump_upgrade::{
    Aim, Client, Config, Direction, DumpFormat, Event, SavedRequest, Secret, Status, UploadRequest,
};
use serde::Serialize;

use crate::cmd::{self, status::RequestView};
use crate::facts::{self, Depth};
use crate::output::{self, outln, Progress};

/// The contract when neither `--contract` nor the dump gives one.
pub const CONTRACT_ENV: &str = "ODOO_UPGRADE_CONTRACT";
/// The SSH user on the platform's hosts (default `odoo`).
pub const SSH_USER_ENV: &str = "ODOO_UPGRADE_SSH_USER";
/// The directory on the platform's hosts (default `/data`).
pub const DATA_DIR_ENV: &str = "ODOO_UPGRADE_DATA_DIR";
/// Seconds between two status polls (default 5).
pub const POLL_ENV: &str = "ODOO_UPGRADE_POLL_INTERVAL";
/// Seconds to wait for the platform to connect and answer (default 30 to connect, 60 to answer).
pub const TIMEOUT_ENV: &str = "ODOO_UPGRADE_TIMEOUT";

/// Check a dump, send it to the Odoo upgrade platform and follow the upgrade to its end.
///
/// Before anything is sent, the dump is read whole and the `check` rules run with the target:
/// a dump that is truncated, corrupt, not Odoo, neutralized, carries a filestore or has any
/// error-level finding is refused (--force sends it anyway). Then: a request is created (with an
/// SSH key made for it), the dump goes by rsync over SSH, the upgrade is started and followed,
/// its log streamed to stderr, until done, failed or cancelled.
///
/// Every step is saved under the state directory: running the same command again resumes the
/// same request (an interrupted upload continues where it stopped) instead of creating another.
/// Ctrl-C stops rsync and keeps what was sent. The contract code and the request token are never
/// printed whole.
#[derive(clap::Args)]
#[command(after_help = "\
Contract: --contract, else $ODOO_UPGRADE_CONTRACT, else the dump's database.enterprise_code.
Environment: ODOO_UPGRADE_SERVER (the platform, default https://upgrade.odoo.com), \
ODOO_DUMP_STATE_DIR (where requests are saved, default ~/.local/state/odoo-dump), \
ODOO_UPGRADE_TIMEOUT (seconds to wait for an answer), ODOO_UPGRADE_POLL_INTERVAL (seconds between \
status polls), ODOO_UPGRADE_SSH_USER and ODOO_UPGRADE_DATA_DIR (user and directory on the \
platform's SSH hosts, default odoo and /data).

Exit codes: 0 the upgrade is done (download it with `odoo-dump download FILE --output DIR`); \
1 the dump was refused before upload (nothing sent), or the upgrade failed or was cancelled \
(reason shown); 2 error (the dump could not be opened, platform or transfer error: the local dump is untouched \
and running the same command again resumes).")]
pub struct Args {
    /// The dump: .sql, .sql.gz, Odoo backup .zip, pg_dump custom file or directory.
    #[arg(value_name = "FILE")]
    file: PathBuf,
    /// The Odoo series to upgrade to (e.g. 18.0, saas~18.2).
    #[arg(long, value_name = "SERIES")]
    target: String,
    /// A test upgrade (a database to try, can be repeated) or the production one.
    #[arg(long, value_enum, default_value_t = AimArg::Test)]
    aim: AimArg,
    /// The subscription code (default: $ODOO_UPGRADE_CONTRACT, else the dump's
    /// database.enterprise_code).
    #[arg(long, value_name = "CODE")]
    contract: Option<String>,
    /// The upgrade platform, https://HOST[:PORT] (default: $ODOO_UPGRADE_SERVER, else
    /// https://upgrade.odoo.com).
    #[arg(long, value_name = "URL")]
    server: Option<String>,
    /// Upload even when the checks refuse the dump (truncated, neutralized, with filestore…).
    #[arg(long)]
    force: bool,
    /// Limit the transfer rate, in KiB/s.
    #[arg(long, value_name = "KIB")]
    bwlimit: Option<u32>,
    /// Print one JSON object at the end: sent, refused, findings, request (id, status, reason…).
    #[arg(long)]
    json: bool,
}

#[derive(Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum AimArg {
    Test,
    Production,
}

impl From<AimArg> for Aim {
    fn from(aim: AimArg) -> Aim {
        match aim {
            AimArg::Test => Aim::Test,
            AimArg::Production => Aim::Production,
        }
    }
}

/// The `upload --json` object.
#[derive(Serialize)]
struct UploadReport<'a> {
    file: &'a str,
    /// Whether the dump went to the platform (in this run or an earlier one).
    sent: bool,
    /// The findings that refuse the upload (also when --force overrode them).
    refused: Vec<&'static str>,
    forced: bool,
    findings: &'a [Finding],
    source_version: Option<String>,
    target: &'a str,
    aim: Aim,
    /// Where the contract came from: `option`, `environment` or `dump`.
    contract_source: Option<&'static str>,
    request: Option<RequestView>,
}

/// Findings that refuse an upload: every error, and a filestore (a warning for `check`, but the
/// platform takes none).
fn refuses(finding: &Finding) -> bool {
    finding.severity == Severity::Error || finding.code == "filestore-included"
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let file = args.file.to_string_lossy().into_owned();
    if file == "-" {
        anyhow::bail!("upload needs the dump as a file or directory, not stdin: save it first");
    }
    let aim = Aim::from(args.aim);

    // Pre-flight: read the dump whole and run the rules. Nothing is sent before this passes.
    let facts = facts::read(&file, Depth::Full, &Progress::new())?;
    let findings = cmd::check::findings(&facts, Some(&args.target));
    let refused: Vec<&'static str> = findings
        .iter()
        .filter(|f| refuses(f))
        .map(|f| f.code)
        .collect();
    let source_version = facts
        .odoo
        .as_ref()
        .and_then(|o| o.series)
        .map(|s| s.to_string());
    let mut report = UploadReport {
        file: &facts.name,
        sent: false,
        refused: refused.clone(),
        forced: args.force && !refused.is_empty(),
        findings: &findings,
        source_version: source_version.clone(),
        target: &args.target,
        aim,
        contract_source: None,
        request: None,
    };

    if !refused.is_empty() && !args.force {
        let mut msg = format!(
            "odoo-dump: {} is not ready for the upgrade platform ({}); nothing was sent:\n",
            facts.name,
            refused.join(", ")
        );
        cmd::check::write_findings(&mut msg, &findings);
        outln!(
            msg,
            "Fix what the findings say and upload again (`odoo-dump check --list` explains each code), or add --force to upload it anyway."
        );
        eprint!("{msg}");
        if args.json {
            output::emit(&(serde_json::to_string_pretty(&report)? + "\n"));
        }
        return Ok(ExitCode::from(1));
    }
    for f in findings.iter().filter(|f| !refuses(f)) {
        if f.severity == Severity::Warning {
            eprintln!("odoo-dump: warning: {}: {}", f.code, f.message);
        }
    }
    if !refused.is_empty() {
        eprintln!(
            "odoo-dump: warning: uploading {} despite {} (--force): the platform may refuse it or upgrade something other than the exact database",
            facts.name,
            refused.join(", ")
        );
    }

    let format = match (facts.container, facts.summary.format) {
        (Container::Gzip, odump_pgdump::DumpFormat::Custom) => anyhow::bail!(
            "{} is a gzip-compressed custom archive, which the upgrade platform does not take: gunzip it and upload the .dump",
            facts.name
        ),
        (Container::Plain, _) => DumpFormat::PlainSql,
        (Container::Gzip, _) => DumpFormat::GzipSql,
        (Container::Zip, _) => DumpFormat::Zip,
        (Container::Custom, _) => DumpFormat::Custom,
        (Container::Directory, _) => DumpFormat::Directory,
    };

    let (contract, contract_source) = if let Some(code) = args.contract.as_deref() {
        (code.to_owned(), "option")
    } else if let Some(code) = env_text(CONTRACT_ENV) {
        (code, "environment")
    } else if let Some(code) = facts.odoo.as_ref().and_then(|o| o.enterprise_code()) {
        (code.to_owned(), "dump")
    } else {
        eprintln!(
            "odoo-dump: no contract for {}: the dump has no database.enterprise_code; give your subscription code with --contract CODE (or set ${CONTRACT_ENV}); nothing was sent",
            facts.name
        );
        report.refused.push("missing-contract");
        if args.json {
            output::emit(&(serde_json::to_string_pretty(&report)? + "\n"));
        }
        return Ok(ExitCode::from(1));
    };
    let contract = Secret::new(contract.trim());
    report.contract_source = Some(contract_source);

    let client = client(args.server.as_deref(), args.bwlimit)?;
    eprintln!(
        "odoo-dump: {}: Odoo {} → {} ({aim}), contract {contract} (from {}), to {}",
        facts.name,
        source_version.as_deref().unwrap_or("of unknown version"),
        args.target,
        match contract_source {
            "option" => "--contract",
            "environment" => CONTRACT_ENV,
            _ => "the dump",
        },
        client.config().server
    );
    let request = UploadRequest {
        dump: args.file.clone(),
        format,
        source_version: source_version.unwrap_or_else(|| "unknown".into()),
        target: args.target.clone(),
        aim,
        contract,
    };
    let mut shower = EventShower::new(&facts.name);
    let finished = client.upload(&request, &mut |event| shower.show(event));
    shower.finish();
    let finished = finished?;
    report.sent = true;
    report.request = Some(RequestView::new(&finished));

    let code = match finished.status {
        Status::Done => 0,
        _ => 1,
    };
    if args.json {
        output::emit(&(serde_json::to_string_pretty(&report)? + "\n"));
    } else {
        output::emit(&final_status(&finished, &file));
    }
    Ok(ExitCode::from(code))
}

/// The lines printed on stdout when a request ends.
fn final_status(saved: &SavedRequest, file: &str) -> String {
    let mut out = String::new();
    outln!(
        out,
        "request {}: {} ({}, Odoo {} → {}, {})",
        saved.request_id,
        saved.status,
        file,
        saved.source_version,
        saved.target,
        saved.aim
    );
    match saved.status {
        Status::Done => outln!(
            out,
            "download the upgraded dump: odoo-dump download {} --output DIR",
            shell_word(file)
        ),
        Status::Failed => outln!(
            out,
            "reason: {}",
            saved
                .reason
                .as_deref()
                .unwrap_or("(the platform gave none)")
        ),
        _ => {
            if let Some(reason) = &saved.reason {
                outln!(out, "reason: {reason}");
            }
        }
    }
    if saved.status != Status::Done {
        outln!(out, "running the same upload again starts a new request");
    }
    out
}

/// `word` as one shell word (quoted when it has anything but plain path characters).
pub(crate) fn shell_word(word: &str) -> String {
    let plain = !word.is_empty()
        && word
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "/._-+~=:,@".contains(c));
    if plain {
        word.to_owned()
    } else {
        format!("'{}'", word.replace('\'', r"'\''"))
    }
}

/// Shows the client's events on stderr: one line per step, a progress bar during transfers
/// (only on a terminal), the platform's log as it comes.
pub(crate) struct EventShower {
    name: String,
    terminal: bool,
    bar: Option<ProgressBar>,
    /// The log's last byte was not a newline.
    log_open: bool,
    /// A final status, shown after the rest of the log (which the client fetches after it).
    final_status: Option<String>,
}

impl EventShower {
    pub(crate) fn new(name: &str) -> Self {
        EventShower {
            name: name.to_owned(),
            terminal: std::io::stderr().is_terminal(),
            bar: None,
            log_open: false,
            final_status: None,
        }
    }

    fn line(&mut self, text: &str) {
        let write = |log_open: bool| {
            let mut err = std::io::stderr().lock();
            let newline = if log_open { "\n" } else { "" };
            let _ = writeln!(err, "{newline}odoo-dump: {text}");
        };
        match &self.bar {
            Some(bar) => bar.suspend(|| write(self.log_open)),
            None => write(self.log_open),
        }
        self.log_open = false;
    }

    pub(crate) fn show(&mut self, event: &Event<'_>) -> ControlFlow<()> {
        match event {
            Event::Created { request_id, host } => {
                self.line(&format!("request {request_id} created (host {host})"))
            }
            Event::Resumed {
                request_id,
                phase,
                status,
            } => self.line(&format!(
                "resuming request {request_id} (phase {phase}, platform status {status})"
            )),
            Event::Replaced { request_id, status } => self.line(&format!(
                "request {request_id} ended {status}: creating a new request"
            )),
            Event::TransferStarted { direction, port } => {
                let what = match direction {
                    Direction::Upload => format!("uploading {}", self.name),
                    Direction::Download => "downloading the result".to_owned(),
                };
                self.line(&format!("{what} (rsync over SSH, port {port})"));
                if self.terminal {
                    self.bar = Some(ProgressBar::hidden());
                }
            }
            Event::Progress(p) => {
                if let Some(bar) = &mut self.bar {
                    if bar.is_hidden() {
                        let new = match p.total {
                            Some(total) => ProgressBar::new(total).with_style(
                                ProgressStyle::with_template(
                                    "{msg:20!} {bar:30} {bytes}/{total_bytes} {bytes_per_sec} eta {eta}",
                                )
                                .unwrap_or_else(|_| ProgressStyle::default_bar()),
                            ),
                            None => ProgressBar::new_spinner().with_style(
                                ProgressStyle::with_template(
                                    "{msg:20!} {spinner} {bytes} {bytes_per_sec}",
                                )
                                .unwrap_or_else(|_| ProgressStyle::default_spinner()),
                            ),
                        };
                        new.set_message(p.direction.as_str());
                        *bar = new;
                    }
                    bar.set_position(p.bytes);
                }
            }
            Event::TransferFinished { direction } => {
                if let Some(bar) = self.bar.take() {
                    bar.finish_and_clear();
                }
                self.line(&format!("{} complete", direction.as_str()));
            }
            Event::Processing {
                pg_version_compatible,
            } => {
                self.line("upgrade requested; following its status");
                if !pg_version_compatible {
                    self.line(
                        "note: the platform's PostgreSQL is newer than this dump's: restore the result with a PostgreSQL at least as new",
                    );
                }
            }
            Event::Status { status, reason } => {
                let text = match reason {
                    Some(reason) => format!("status: {status} ({reason})"),
                    None => format!("status: {status}"),
                };
                if status.is_final() {
                    self.final_status = Some(text);
                } else {
                    self.line(&text);
                }
            }
            Event::Log(bytes) => {
                let mut err = std::io::stderr().lock();
                let _ = err.write_all(bytes);
                let _ = err.flush();
                if let Some(last) = bytes.last() {
                    self.log_open = *last != b'\n';
                }
            }
            _ => {}
        }
        ControlFlow::Continue(())
    }

    /// Clears a bar left by an error, ends an open log line, shows the final status.
    pub(crate) fn finish(&mut self) {
        if let Some(bar) = self.bar.take() {
            bar.finish_and_clear();
        }
        if let Some(text) = self.final_status.take() {
            self.line(&text);
        }
        if self.log_open {
            eprintln!();
            self.log_open = false;
        }
    }
}

/// A non-empty environment variable.
fn env_text(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.trim().is_empty())
}

/// A duration in seconds (decimals allowed) from the environment.
fn env_seconds(name: &str) -> anyhow::Result<Option<Duration>> {
    let Some(text) = env_text(name) else {
        return Ok(None);
    };
    let seconds: f64 = text
        .trim()
        .parse()
        .ok()
        .filter(|s: &f64| s.is_finite() && *s > 0.0)
        .ok_or_else(|| anyhow::anyhow!("${name} is `{text}`: give a positive number of seconds"))?;
    Ok(Some(Duration::from_secs_f64(seconds)))
}

/// The client for `--server` (else `$ODOO_UPGRADE_SERVER`, else the official platform), with
/// the settings the environment overrides.
pub(crate) fn client(server: Option<&str>, bwlimit: Option<u32>) -> anyhow::Result<Client> {
    let mut config = Config::from_env(server)?;
    if let Some(user) = env_text(SSH_USER_ENV) {
        config.remote_user = user;
    }
    if let Some(dir) = env_text(DATA_DIR_ENV) {
        config.remote_dir = dir;
    }
    if let Some(poll) = env_seconds(POLL_ENV)? {
        config.poll_interval = poll;
    }
    if let Some(timeout) = env_seconds(TIMEOUT_ENV)? {
        config.connect_timeout = timeout;
        config.read_timeout = timeout;
    }
    config.bandwidth_limit_kib = bwlimit.filter(|&kib| kib > 0);
    Ok(Client::new(config)?)
}

/// Where requests are saved (for messages).
pub(crate) fn requests_dir(client: &Client) -> PathBuf {
    client.config().state_dir.join("requests")
}

/// The saved requests whose dump is `path` (the dump's canonical path, or its absolute path when
/// it no longer exists), oldest first.
pub(crate) fn requests_for(client: &Client, path: &Path) -> anyhow::Result<Vec<SavedRequest>> {
    let wanted = path
        .canonicalize()
        .or_else(|_| std::path::absolute(path))
        .unwrap_or_else(|_| path.to_owned());
    Ok(client
        .list_requests()?
        .into_iter()
        .filter(|r| r.dump.path == wanted)
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shell_words_are_quoted_when_needed() {
        assert_eq!(shell_word("/tmp/prod.sql.gz"), "/tmp/prod.sql.gz");
        assert_eq!(shell_word("my dump.zip"), "'my dump.zip'");
        assert_eq!(shell_word("it's"), r"'it'\''s'");
    }
}

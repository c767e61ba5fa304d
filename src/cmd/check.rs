//! `odoo-dump check FILE [--target SERIES]`: is this dump ready for the upgrade platform?

use std::process::ExitCode;

use odump_odoo::check::{self, CheckInput, Finding, ReadFailure};
use serde::Serialize;

use crate::facts::{self, Depth, DumpFacts};
use crate::output::{self, outln, Progress};

/// Check a dump before upload: complete, an exact copy (not neutralized), without filestore,
/// Odoo, with clean module states, and — with --target — on a valid upgrade path.
///
/// Every finding has a stable code (`odoo-dump check --list` prints them all with their docs),
/// a severity and a sentence saying what to do.
#[derive(clap::Args)]
#[command(
    after_help = "Exit codes: 0 ready (no error-level finding), 1 not ready, 2 the file could not be opened as a dump."
)]
pub struct Args {
    /// The dump (.sql, .sql.gz, Odoo backup .zip, pg_dump custom file or directory), or - for stdin.
    #[arg(value_name = "FILE", required_unless_present = "list")]
    file: Option<String>,
    /// The Odoo series to upgrade to (e.g. 18.0, saas~18.2).
    #[arg(long, value_name = "SERIES")]
    target: Option<String>,
    /// Print one JSON object: ready, findings (code, severity, message), odoo.
    #[arg(long)]
    json: bool,
    /// List every rule: code, severity, what it checks, why it matters, how to fix.
    #[arg(long)]
    list: bool,
}

#[derive(Serialize)]
struct CheckReport<'a> {
    file: &'a str,
    ready: bool,
    target: Option<&'a str>,
    findings: &'a [Finding],
    odoo: Option<&'a odump_odoo::OdooFacts>,
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    if args.list {
        return list(args.json);
    }
    let file = args.file.as_deref().unwrap_or("-");
    let facts = match facts::read(file, Depth::Full, &Progress::new()) {
        Ok(facts) => facts,
        // A file damaged within its first bytes is still a finding, like damage further in.
        Err(e @ (odump_io::Error::Truncated { .. } | odump_io::Error::Corrupt { .. })) => {
            facts::DumpFacts::unread(file, e)
        }
        Err(e) => return Err(e.into()),
    };
    let findings = findings(&facts, args.target.as_deref());
    let ready = check::ready(&findings);
    if args.json {
        let report = CheckReport {
            file: &facts.name,
            ready,
            target: args.target.as_deref(),
            findings: &findings,
            odoo: facts.odoo.as_ref(),
        };
        output::emit(&(serde_json::to_string_pretty(&report)? + "\n"));
    } else {
        let mut out = String::new();
        let series = facts
            .odoo
            .as_ref()
            .and_then(|o| o.series)
            .map_or("unknown version".to_string(), |s| format!("Odoo {s}"));
        let verdict = if ready { "READY" } else { "NOT READY" };
        let target = args
            .target
            .as_deref()
            .map_or(String::new(), |t| format!(" for an upgrade to {t}"));
        outln!(out, "{}: {series}, {verdict}{target}", facts.name);
        write_findings(&mut out, &findings);
        if findings.is_empty() {
            outln!(out, "  no findings");
        }
        output::emit(&out);
    }
    Ok(ExitCode::from(if ready { 0 } else { 1 }))
}

/// Every rule run on what one read found (`check`, and `upload` before it sends anything).
pub(crate) fn findings(facts: &DumpFacts, target: Option<&str>) -> Vec<Finding> {
    let failure = facts.error.as_ref().map(ReadFailure::from_error);
    check::run_checks(&CheckInput {
        summary: Some(&facts.summary),
        failure: failure.as_ref(),
        odoo: facts.odoo.as_ref(),
        target,
        zip: facts.zip.as_ref(),
    })
}

/// The findings, one line each: severity, code, message.
pub(crate) fn write_findings(out: &mut String, findings: &[Finding]) {
    for f in findings {
        outln!(
            out,
            "  {:<8} {:<26} {}",
            f.severity.to_string(),
            f.code,
            f.message
        );
    }
}

fn list(json: bool) -> anyhow::Result<ExitCode> {
    let rules = check::rules();
    if json {
        output::emit(&(serde_json::to_string_pretty(rules)? + "\n"));
        return Ok(ExitCode::SUCCESS);
    }
    let mut out = String::new();
    outln!(out, "{:<26} {:<8} summary", "code", "severity");
    for r in rules {
        outln!(
            out,
            "{:<26} {:<8} {}",
            r.code,
            r.severity.to_string(),
            r.summary
        );
    }
    outln!(out, "\n{}", "-".repeat(60));
    for r in rules {
        outln!(out, "\n{} ({})\n{}", r.code, r.severity, r.doc.trim());
    }
    output::emit(&out);
    Ok(ExitCode::SUCCESS)
}

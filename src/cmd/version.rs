//! `odoo-dump version FILE`: the Odoo series of a dump, for scripts and import hooks.

use std::process::ExitCode;

use odump_odoo::{Confidence, Manifest, OdooFacts, SeriesEstimate, VersionSource};
use serde::Serialize;

use crate::facts::{self, Depth};
use crate::output::{self, Progress};

/// Print the Odoo series of a dump (`17.0`, `saas~17.2`), and nothing else.
///
/// The series comes from base's row in `ir_module_module`; the read stops as soon as that row
/// is read (and jumps straight to it in custom archives written to a file). A schema-only dump
/// has no rows: the range its schema allows is printed on stderr as an estimate.
#[derive(clap::Args)]
#[command(
    after_help = "Exit codes: 0 the series was read from the database (or, with --fast, the manifest); \
1 a valid dump with no certain Odoo version (not Odoo, or a schema-only estimate); 2 the dump could not be read."
)]
pub struct Args {
    /// The dump (.sql, .sql.gz, Odoo backup .zip, pg_dump custom file or directory), or - for stdin.
    #[arg(value_name = "FILE")]
    file: String,
    /// Print one JSON object: series, base_version, source, confidence, manifest_series, estimate.
    #[arg(long)]
    json: bool,
    /// For a backup zip, answer from manifest.json alone, without reading dump.sql
    /// (the version of the Odoo that made the backup, not the database's own).
    #[arg(long)]
    fast: bool,
}

/// The `version --json` object.
#[derive(Serialize)]
struct VersionReport {
    series: Option<String>,
    base_version: Option<String>,
    source: Option<VersionSource>,
    confidence: Option<Confidence>,
    manifest_series: Option<String>,
    manifest_mismatch: bool,
    estimate: Option<SeriesEstimate>,
}

impl VersionReport {
    fn from_facts(o: &OdooFacts) -> Self {
        VersionReport {
            series: o.series.map(|s| s.to_string()),
            base_version: o.base_version.clone(),
            source: Some(o.source),
            confidence: Some(o.confidence),
            manifest_series: o.manifest_series.map(|s| s.to_string()),
            manifest_mismatch: o.manifest_mismatch,
            estimate: o.estimate.clone(),
        }
    }

    fn none() -> Self {
        VersionReport {
            series: None,
            base_version: None,
            source: None,
            confidence: None,
            manifest_series: None,
            manifest_mismatch: false,
            estimate: None,
        }
    }
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    if args.fast {
        if let Some(code) = from_manifest(&args)? {
            return Ok(code);
        }
    }
    let facts = facts::read(&args.file, Depth::VersionOnly, &Progress::new())?;
    let report = facts.odoo.as_ref().map(VersionReport::from_facts);
    let certain = report
        .as_ref()
        .is_some_and(|r| r.series.is_some() && r.confidence == Some(Confidence::Certain));
    if let Some(error) = &facts.error {
        // A version read before the damage is still what the database says; anything else is
        // not claimed.
        if !certain {
            anyhow::bail!("{error}");
        }
        eprintln!("odoo-dump: warning: {error}");
    }
    // Damaged data where the version comes from (a row with a field missing or extra, data cut
    // short): base's row may be the damaged one, so no version is claimed without it.
    if let Some(problem) = facts.summary.problems.iter().find(|p| {
        p.table
            .as_ref()
            .is_some_and(|t| t.name == "ir_module_module")
    }) {
        let at = problem
            .offset
            .map_or(String::new(), |o| format!(" (byte {o})"));
        if !certain {
            anyhow::bail!(
                "{}: the Odoo version cannot be read: {}{at}; dump the database again",
                facts.name,
                problem.message
            );
        }
        eprintln!(
            "odoo-dump: warning: {}: {}{at}",
            facts.name, problem.message
        );
    }
    let report = report.unwrap_or_else(VersionReport::none);
    if args.json {
        output::emit(&(serde_json::to_string_pretty(&report)? + "\n"));
    } else if certain {
        output::emit(&format!(
            "{}\n",
            report.series.as_deref().unwrap_or_default()
        ));
    }
    if certain {
        if report.manifest_mismatch {
            eprintln!(
                "odoo-dump: warning: {}: manifest.json says {} but the database's base module is {}",
                facts.name,
                report.manifest_series.as_deref().unwrap_or("?"),
                report.base_version.as_deref().unwrap_or("?")
            );
        }
        return Ok(ExitCode::SUCCESS);
    }
    match (&facts.odoo, &report.estimate) {
        (Some(_), Some(e)) => eprintln!(
            "odoo-dump: {}: no module rows (schema-only dump); estimate from the schema: {} to {}",
            facts.name,
            e.min,
            e.max
                .map_or("any later series".to_string(), |m| m.to_string())
        ),
        (Some(_), None) => eprintln!(
            "odoo-dump: {}: an Odoo database without base's row in ir_module_module",
            facts.name
        ),
        (None, _) => eprintln!(
            "odoo-dump: {}: not an Odoo database (no ir_module_module table)",
            facts.name
        ),
    }
    Ok(ExitCode::from(1))
}

/// `--fast` on a seekable backup zip: the manifest from the central directory.
fn from_manifest(args: &Args) -> anyhow::Result<Option<ExitCode>> {
    let input = odump_io::open(&args.file)?;
    let Some(zip) = &input.zip else {
        return Ok(None);
    };
    let manifest = {
        let inventory = zip
            .lock()
            .map_err(|_| anyhow::anyhow!("zip inventory unavailable"))?;
        if !inventory.complete {
            return Ok(None);
        }
        inventory.manifest.as_deref().and_then(Manifest::parse)
    };
    let Some(series) = manifest.as_ref().and_then(Manifest::series) else {
        return Ok(None);
    };
    let report = VersionReport {
        series: Some(series.to_string()),
        base_version: manifest
            .as_ref()
            .and_then(|m| m.modules.get("base").cloned()),
        source: Some(VersionSource::Manifest),
        confidence: Some(Confidence::Certain),
        manifest_series: Some(series.to_string()),
        manifest_mismatch: false,
        estimate: None,
    };
    if args.json {
        output::emit(&(serde_json::to_string_pretty(&report)? + "\n"));
    } else {
        output::emit(&format!("{series}\n"));
    }
    Ok(Some(ExitCode::SUCCESS))
}

//! `odoo-dump inspect FILE…`: what a dump is and holds, without restoring it.

use std::collections::BTreeMap;
use std::process::ExitCode;

use rayon::prelude::*;
use serde::Serialize;

use crate::facts::{self, Depth, DumpFacts};
use crate::output::{self, outln, Progress};

/// Show what a dump is: container, PostgreSQL and pg_dump versions, completeness, object counts,
/// every table with its rows and data bytes, and the Odoo facts.
///
/// Several files are read in parallel and reported in argument order.
#[derive(clap::Args)]
#[command(
    after_help = "Exit codes: 0 every file was read to its end, 2 a file could not be read (truncated, corrupt, not a dump)."
)]
pub struct Args {
    /// Dump files (.sql, .sql.gz, Odoo backup .zip, pg_dump -Fc file, pg_dump -Fd directory), or - for stdin.
    #[arg(required = true, value_name = "FILE")]
    files: Vec<String>,
    /// Print one JSON document (an object for one file, an array for several).
    #[arg(long)]
    json: bool,
    /// List every table in the human output (default: the 15 largest).
    #[arg(long)]
    all_tables: bool,
}

/// The `inspect --json` object (the contract in DESIGN.md).
#[derive(Serialize)]
pub struct Report {
    pub file: String,
    pub container: odump_io::Container,
    pub format: odump_pgdump::DumpFormat,
    pub text_encoding: odump_io::TextEncoding,
    pub compressed_bytes: Option<u64>,
    pub sql_bytes: u64,
    pub complete: bool,
    pub problems: Vec<odump_pgdump::Problem>,
    pub notes: Vec<String>,
    pub error: Option<String>,
    pub postgres: Postgres,
    pub odoo: Option<odump_odoo::OdooFacts>,
    pub filestore: Filestore,
    pub tables: Vec<odump_pgdump::TableStats>,
    pub objects: BTreeMap<String, u64>,
    pub statements: u64,
}

#[derive(Serialize)]
pub struct Postgres {
    pub server_version: Option<String>,
    pub pg_dump_version: Option<String>,
    pub archive_version: Option<String>,
    pub encoding: Option<String>,
    pub database: Option<String>,
}

#[derive(Serialize)]
pub struct Filestore {
    /// The dump carries filestore files (zip entries under `filestore/`).
    pub included: bool,
    pub files: u64,
    pub bytes: u64,
    /// `ir_attachment` rows that point into the filestore (`store_fname`), when known.
    pub referenced_attachments: Option<u64>,
    /// The summed `file_size` of those rows: what an upload without filestore leaves behind.
    pub referenced_bytes: Option<u64>,
}

impl Report {
    pub fn new(facts: &DumpFacts) -> Self {
        let s = &facts.summary;
        let zip = facts.zip.as_ref();
        let refs = facts
            .odoo
            .as_ref()
            .and_then(|o| o.filestore.referenced_attachments.as_ref());
        Report {
            file: facts.name.clone(),
            container: facts.container,
            format: s.format,
            text_encoding: facts.text_encoding,
            compressed_bytes: facts.compressed_size,
            sql_bytes: s.bytes_read,
            complete: s.complete() && facts.error.is_none(),
            problems: s.problems.clone(),
            notes: s.notes.clone(),
            error: facts.error.as_ref().map(ToString::to_string),
            postgres: Postgres {
                server_version: s.server_version.clone(),
                pg_dump_version: s.pg_dump_version.clone(),
                archive_version: s.archive_version.clone(),
                encoding: s.encoding.clone(),
                database: s.database.clone(),
            },
            odoo: facts.odoo.clone(),
            filestore: Filestore {
                included: zip.is_some_and(|z| z.filestore_files > 0),
                files: zip.map_or(0, |z| z.filestore_files),
                bytes: zip.map_or(0, |z| z.filestore_bytes),
                referenced_attachments: refs.map(|r| r.count),
                referenced_bytes: refs.map(|r| r.bytes),
            },
            tables: s.tables.clone(),
            objects: s.object_counts.clone(),
            statements: s.statements,
        }
    }
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let progress = Progress::new();
    let results: Vec<_> = args
        .files
        .par_iter()
        .map(|path| facts::read(path, Depth::Full, &progress))
        .collect();
    let mut failed = false;
    let mut reports = Vec::new();
    for result in results {
        match result {
            Ok(facts) => {
                if let Some(e) = &facts.error {
                    eprintln!("odoo-dump: {e}");
                    failed = true;
                }
                reports.push(Report::new(&facts));
            }
            Err(e) => {
                eprintln!("odoo-dump: {e}");
                failed = true;
            }
        }
    }
    if args.json {
        let doc = if args.files.len() == 1 {
            match reports.first() {
                Some(r) => serde_json::to_value(r)?,
                None => serde_json::Value::Null,
            }
        } else {
            serde_json::to_value(&reports)?
        };
        output::emit(&(serde_json::to_string_pretty(&doc)? + "\n"));
    } else {
        let mut out = String::new();
        for (i, report) in reports.iter().enumerate() {
            if i > 0 {
                out.push('\n');
            }
            print_human(&mut out, report, args.all_tables);
        }
        output::emit(&out);
    }
    Ok(ExitCode::from(if failed { 2 } else { 0 }))
}

fn print_human(out: &mut String, r: &Report, all_tables: bool) {
    let format = match r.format {
        odump_pgdump::DumpFormat::Plain => "plain SQL",
        odump_pgdump::DumpFormat::Custom => "custom archive",
        odump_pgdump::DumpFormat::Directory => "directory archive",
    };
    let container = serde_json::to_value(r.container)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_default();
    let size = match r.compressed_bytes {
        Some(c) if c != r.sql_bytes => {
            format!("{} → {} read", output::bytes(c), output::bytes(r.sql_bytes))
        }
        _ => output::bytes(r.sql_bytes),
    };
    let state = if r.complete {
        "complete".to_string()
    } else if let Some(e) = &r.error {
        format!("INCOMPLETE: {e}")
    } else if let Some(p) = r.problems.first() {
        format!("INCOMPLETE: {}", p.message)
    } else {
        "INCOMPLETE: no end-of-dump trailer".to_string()
    };
    outln!(out, "{}", r.file);
    let encoding = match r.text_encoding {
        odump_io::TextEncoding::Utf16Le => " · UTF-16LE text, transcoded",
        odump_io::TextEncoding::Utf16Be => " · UTF-16BE text, transcoded",
        odump_io::TextEncoding::Utf8Bom => " · UTF-8 with BOM",
        odump_io::TextEncoding::Utf8 => "",
    };
    outln!(
        out,
        "  Container   {container} · {format} · {size}{encoding}"
    );
    outln!(out, "  Complete    {state}");
    for p in r.problems.iter().skip(1) {
        outln!(out, "              also: {}", p.message);
    }
    let pg = &r.postgres;
    let unknown = || "unknown".to_string();
    outln!(
        out,
        "  PostgreSQL  server {} · pg_dump {} · encoding {}",
        pg.server_version.clone().unwrap_or_else(unknown),
        pg.pg_dump_version.clone().unwrap_or_else(unknown),
        pg.encoding.clone().unwrap_or_else(unknown)
    );
    if let Some(odoo) = &r.odoo {
        print_odoo(out, odoo);
    } else {
        outln!(
            out,
            "  Odoo        not an Odoo database (no ir_module_module table)"
        );
    }
    let mut filestore = Vec::new();
    if r.filestore.included {
        filestore.push(format!(
            "included: {} files, {}",
            output::count(r.filestore.files),
            output::bytes(r.filestore.bytes)
        ));
    } else if r.container == odump_io::Container::Zip {
        filestore.push("not included".into());
    }
    if let (Some(n), Some(b)) = (
        r.filestore.referenced_attachments,
        r.filestore.referenced_bytes,
    ) {
        filestore.push(format!(
            "{} attachments reference {} of filestore files",
            output::count(n),
            output::bytes(b)
        ));
    }
    if !filestore.is_empty() {
        outln!(out, "  Filestore   {}", filestore.join(" · "));
    }
    let objects: Vec<String> = {
        let mut v: Vec<_> = r.objects.iter().collect();
        v.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
        v.iter()
            .map(|(k, n)| format!("{} {k}", output::count(**n)))
            .collect()
    };
    if !objects.is_empty() {
        outln!(out, "  Objects     {}", objects.join(" · "));
    }
    let with_data = r.tables.iter().filter(|t| t.rows.is_some()).count();
    let total_rows: u64 = r.tables.iter().filter_map(|t| t.rows).sum();
    outln!(
        out,
        "  Tables      {} tables, {} with data, {} rows",
        output::count(r.tables.len() as u64),
        output::count(with_data as u64),
        output::count(total_rows)
    );
    let mut tables: Vec<_> = r.tables.iter().collect();
    tables.sort_by(|a, b| {
        b.data_bytes
            .cmp(&a.data_bytes)
            .then(b.rows.cmp(&a.rows))
            .then(a.name.cmp(&b.name))
    });
    let shown = if all_tables {
        tables.len()
    } else {
        tables.len().min(15)
    };
    if shown > 0 {
        outln!(out, "  {:>14} {:>10}  table", "rows", "data");
        for t in &tables[..shown] {
            let name = match &t.schema {
                Some(s) => format!("{s}.{}", t.name),
                None => t.name.clone(),
            };
            outln!(
                out,
                "  {:>14} {:>10}  {name}",
                t.rows.map_or("-".into(), output::count),
                t.data_bytes.map_or("-".into(), output::bytes)
            );
        }
        if shown < tables.len() {
            outln!(
                out,
                "  … and {} more (--all-tables lists them)",
                tables.len() - shown
            );
        }
    }
    for note in &r.notes {
        outln!(out, "  Note        {note}");
    }
}

/// The Odoo lines of the human report (also used by `check`).
pub fn print_odoo(out: &mut String, o: &odump_odoo::OdooFacts) {
    use odump_odoo::{Confidence, Edition, Strength};
    let series = match (&o.series, &o.estimate) {
        (Some(s), _) => {
            let source = serde_json::to_value(o.source).ok();
            let source = source.as_ref().and_then(|v| v.as_str()).unwrap_or("?");
            match &o.base_version {
                Some(b) => format!("{s} (base {b}, from {source})"),
                None => format!("{s} (from {source})"),
            }
        }
        (None, Some(e)) => {
            let max = e.max.map_or("…".to_string(), |m| m.to_string());
            format!(
                "estimated {} to {max} from the schema (no module rows)",
                e.min
            )
        }
        (None, None) => "unknown".to_string(),
    };
    let mut head = vec![series];
    match o.edition {
        Some(Edition::Enterprise) => {
            head.push(format!("enterprise ({})", o.enterprise_modules.join(", ")))
        }
        Some(Edition::Community) => head.push("community".into()),
        None => {}
    }
    if o.confidence == Confidence::Certain || !o.installed_modules.is_empty() {
        head.push(format!("{} installed modules", o.installed_modules.len()));
    }
    outln!(out, "  Odoo        {}", head.join(" · "));
    if let (Some(m), true) = (&o.manifest_series, o.manifest_mismatch) {
        outln!(
            out,
            "              manifest.json says {m}: the database's base row wins"
        );
    }
    let strong: Vec<_> = o
        .neutralization_signals
        .iter()
        .filter(|s| s.strength == Strength::Strong)
        .collect();
    let weak: Vec<_> = o
        .neutralization_signals
        .iter()
        .filter(|s| s.strength == Strength::Weak)
        .collect();
    if o.neutralized {
        outln!(out, "  Exact copy  NO: neutralized");
    } else if o.module_count > 0 {
        outln!(out, "  Exact copy  yes (no neutralization signal)");
    }
    for s in strong.iter().chain(weak.iter()) {
        let strength = if s.strength == Strength::Strong {
            "strong"
        } else {
            "weak"
        };
        outln!(out, "              {strength}: {} ({})", s.code, s.evidence);
    }
    let mut db = Vec::new();
    if let Some(uuid) = &o.database_uuid {
        db.push(format!("uuid {uuid}"));
    }
    db.push(match &o.enterprise_code_masked {
        Some(m) => format!("enterprise code {m}"),
        None if o.enterprise_code_present => "enterprise code present".into(),
        None => "no enterprise code".into(),
    });
    if let Some(url) = &o.web_base_url {
        db.push(format!("web.base.url {url}"));
    }
    outln!(out, "  Database    {}", db.join(" · "));
    if !o.unclean_modules.is_empty() {
        let list: Vec<_> = o
            .unclean_modules
            .iter()
            .map(|m| format!("{} ({})", m.name, m.state))
            .collect();
        outln!(out, "  Unclean     {}", list.join(", "));
    }
    for (i, m) in o.custom_modules.iter().enumerate() {
        let label = if i == 0 {
            "  Custom      "
        } else {
            "              "
        };
        outln!(out, "{label}{}: {}", m.name, m.reasons.join("; "));
    }
}

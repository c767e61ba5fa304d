//! `odoo-dump diff BEFORE AFTER`: what changed between two dumps (before and after an upgrade).

use std::collections::BTreeMap;
use std::process::ExitCode;

use odump_io::Decoding;
use odump_odoo::meta::{self, MetaCollector, OdooMeta};
use odump_pgdump::{read_dump, DumpSummary, Tee};
use odump_schema::{Action, Change, DiffOptions, Schema, SchemaBuilder};
use serde::Serialize;

use crate::output::{self, outln, Progress};

/// Compare two dumps: schema (tables, columns, types, constraints, indexes, views, functions,
/// sequences, triggers, comments…), Odoo metadata (installed modules, models, fields) and row
/// counts, with data-loss hazards called out. Owners and grants are left out unless asked.
///
/// The two dumps are read in parallel, each in one pass, without restoring them.
#[derive(clap::Args)]
#[command(after_help = "Exit codes: 0 no differences, 1 differences, 2 error (like diff).")]
pub struct Args {
    /// The dump before (any format, or - for stdin).
    #[arg(value_name = "BEFORE")]
    before: String,
    /// The dump after.
    #[arg(value_name = "AFTER")]
    after: String,
    /// Print one JSON document: changes (kind, object, action, before, after, hazard, hint) and summary.
    #[arg(long, conflicts_with = "markdown")]
    json: bool,
    /// Print a Markdown report to attach to an audit.
    #[arg(long)]
    markdown: bool,
    /// Only the schema: no module, model, field or row-count changes.
    #[arg(long, conflicts_with = "odoo_only")]
    schema_only: bool,
    /// Only the Odoo layer: modules, models, fields and row counts.
    #[arg(long)]
    odoo_only: bool,
    /// Also compare owners.
    #[arg(long)]
    include_owners: bool,
    /// Also compare privileges (GRANT/REVOKE).
    #[arg(long)]
    include_grants: bool,
    /// Leave out tables matching this pattern (`*` wildcard; `schema.table` or `table`); repeatable.
    #[arg(long, value_name = "PATTERN")]
    exclude_table: Vec<String>,
}

/// One dump, read for the diff.
struct Side {
    schema: Schema,
    meta: OdooMeta,
    summary: DumpSummary,
}

fn read_side(path: &str, progress: &Progress) -> anyhow::Result<Side> {
    // The two sides are read at once, one per core: a reader thread per side would only add
    // hand-overs between threads competing for the same two cores.
    let input = odump_io::open_with(path, Decoding::CallingThread)?;
    let _bar = progress.track(path, input.progress.clone());
    let mut builder = SchemaBuilder::new();
    let mut collector = MetaCollector::new();
    let mut tee = Tee::new().with(&mut builder).with(&mut collector);
    let summary = read_dump(input, &mut tee)?;
    Ok(Side {
        schema: builder.finish(),
        meta: collector.finish(),
        summary,
    })
}

/// The `diff --json` document.
#[derive(Serialize)]
struct Report<'a> {
    before: &'a str,
    after: &'a str,
    changes: &'a [Change],
    summary: Summary,
}

#[derive(Serialize)]
struct Summary {
    changes: usize,
    hazards: usize,
    /// Counts by `kind` then `action`.
    by_kind: BTreeMap<String, BTreeMap<String, usize>>,
    /// Objects kept as text because their statement shape is not modelled, per side.
    text_only_objects: [usize; 2],
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let progress = Progress::new();
    let (before, after) = rayon::join(
        || read_side(&args.before, &progress),
        || read_side(&args.after, &progress),
    );
    let (before, after) = (before?, after?);
    for (side, path) in [(&before, &args.before), (&after, &args.after)] {
        if !side.summary.complete() {
            let why = match side.summary.problems.first() {
                Some(p) => format!(" ({}: {})", p.code, p.message),
                None => String::new(),
            };
            eprintln!(
                "odoo-dump: warning: {path} is incomplete{why}; its differences may be partial"
            );
        }
    }
    let options = DiffOptions {
        include_owners: args.include_owners,
        include_grants: args.include_grants,
        exclude_tables: args.exclude_table.clone(),
        rows_before: row_counts(&before.summary),
    };
    let mut changes = Vec::new();
    if !args.odoo_only {
        changes.extend(odump_schema::diff(&before.schema, &after.schema, &options));
    }
    if !args.schema_only {
        changes.extend(meta::diff_odoo(&before.meta, &after.meta));
        changes.extend(meta::diff_rows(&before.summary, &after.summary, &|t| {
            options.excludes(t)
        }));
    }
    let summary = summarize(
        &changes,
        [before.schema.opaque_count(), after.schema.opaque_count()],
    );
    let text = if args.json {
        let report = Report {
            before: &args.before,
            after: &args.after,
            changes: &changes,
            summary,
        };
        serde_json::to_string_pretty(&report)? + "\n"
    } else if args.markdown {
        markdown(&args, &changes, &summary)
    } else {
        human(&args, &changes, &summary)
    };
    output::emit(&text);
    Ok(ExitCode::from(if changes.is_empty() { 0 } else { 1 }))
}

fn row_counts(summary: &DumpSummary) -> BTreeMap<String, u64> {
    summary
        .tables
        .iter()
        .filter_map(|t| Some((format!("{}.{}", t.schema.as_deref()?, t.name), t.rows?)))
        .collect()
}

fn action_name(a: Action) -> &'static str {
    match a {
        Action::Added => "added",
        Action::Removed => "removed",
        Action::Changed => "changed",
    }
}

fn summarize(changes: &[Change], text_only_objects: [usize; 2]) -> Summary {
    let mut by_kind: BTreeMap<String, BTreeMap<String, usize>> = BTreeMap::new();
    for c in changes {
        *by_kind
            .entry(c.kind.clone())
            .or_default()
            .entry(action_name(c.action).to_string())
            .or_default() += 1;
    }
    Summary {
        changes: changes.len(),
        hazards: changes.iter().filter(|c| c.hazard.is_some()).count(),
        by_kind,
        text_only_objects,
    }
}

/// The table (or Odoo model) a change belongs to, for grouping: `schema.table` from
/// `schema.table.column`, the object itself otherwise.
fn group_of(c: &Change) -> String {
    let parent = || {
        c.object
            .rsplit_once('.')
            .map_or(c.object.clone(), |(p, _)| p.to_string())
    };
    match c.kind.as_str() {
        "column" | "constraint" | "trigger" | "rule" | "policy" => parent(),
        // A comment on `schema.table.column` belongs with its table.
        "comment" if c.object.matches('.').count() >= 2 => parent(),
        "field" => format!("model {}", parent()),
        "module" | "model" => "Odoo modules and models".to_string(),
        _ => c.object.clone(),
    }
}

fn sign(a: Action) -> &'static str {
    match a {
        Action::Added => "+",
        Action::Removed => "-",
        Action::Changed => "~",
    }
}

fn describe(c: &Change) -> String {
    let mut line = format!("{} {} {}", sign(c.action), c.kind, c.object);
    match (&c.before, &c.after, c.action) {
        (Some(b), Some(a), Action::Changed) => {
            line += &format!(": {} → {}", one_line(b), one_line(a))
        }
        (_, Some(a), Action::Added) => line += &format!(": {}", one_line(a)),
        (Some(b), _, Action::Removed) => line += &format!(" (was {})", one_line(b)),
        _ => {}
    }
    if let Some(h) = &c.hazard {
        line += &format!("  [{h}]");
    }
    if let Some(h) = &c.hint {
        line += &format!("  ({h})");
    }
    line
}

fn one_line(s: &str) -> String {
    let flat: String = s.split_whitespace().collect::<Vec<_>>().join(" ");
    if flat.chars().count() > 100 {
        flat.chars().take(97).collect::<String>() + "…"
    } else {
        flat
    }
}

fn counts_line(summary: &Summary) -> String {
    summary
        .by_kind
        .iter()
        .map(|(kind, actions)| {
            let parts: Vec<_> = actions.iter().map(|(a, n)| format!("{n} {a}")).collect();
            format!("{kind}: {}", parts.join(", "))
        })
        .collect::<Vec<_>>()
        .join(" · ")
}

fn human(args: &Args, changes: &[Change], summary: &Summary) -> String {
    let mut out = String::new();
    outln!(out, "{} → {}", args.before, args.after);
    if changes.is_empty() {
        outln!(out, "no differences");
        return out;
    }
    outln!(
        out,
        "{} changes, {} hazards",
        summary.changes,
        summary.hazards
    );
    outln!(out, "  {}", counts_line(summary));
    if summary.text_only_objects != [0, 0] {
        outln!(
            out,
            "  objects compared as text (shapes not modelled): {} before, {} after",
            summary.text_only_objects[0],
            summary.text_only_objects[1]
        );
    }
    let hazards: Vec<_> = changes.iter().filter(|c| c.hazard.is_some()).collect();
    if !hazards.is_empty() {
        outln!(out, "\nHazards");
        for c in hazards {
            outln!(out, "  {}", describe(c));
        }
    }
    let mut groups: BTreeMap<String, Vec<&Change>> = BTreeMap::new();
    for c in changes {
        groups.entry(group_of(c)).or_default().push(c);
    }
    outln!(out, "\nChanges");
    for (group, items) in groups {
        outln!(out, "  {group}");
        for c in items {
            outln!(out, "    {}", describe(c));
        }
    }
    out
}

fn markdown(args: &Args, changes: &[Change], summary: &Summary) -> String {
    let mut out = String::new();
    let cell = |s: &str| one_line(s).replace('|', "\\|");
    outln!(out, "# Dump comparison\n");
    outln!(
        out,
        "- before: `{}`\n- after: `{}`",
        args.before,
        args.after
    );
    outln!(
        out,
        "- {} changes, {} hazards\n",
        summary.changes,
        summary.hazards
    );
    if changes.is_empty() {
        outln!(out, "No differences.");
        return out;
    }
    outln!(
        out,
        "## Summary\n\n| kind | added | removed | changed |\n|---|---:|---:|---:|"
    );
    for (kind, actions) in &summary.by_kind {
        let n = |a: &str| actions.get(a).copied().unwrap_or(0);
        outln!(
            out,
            "| {kind} | {} | {} | {} |",
            n("added"),
            n("removed"),
            n("changed")
        );
    }
    let hazards: Vec<_> = changes.iter().filter(|c| c.hazard.is_some()).collect();
    if !hazards.is_empty() {
        outln!(
            out,
            "\n## Hazards\n\n| hazard | kind | object | before | after |\n|---|---|---|---|---|"
        );
        for c in hazards {
            outln!(
                out,
                "| {} | {} | `{}` | {} | {} |",
                c.hazard.as_deref().unwrap_or_default(),
                c.kind,
                c.object,
                cell(c.before.as_deref().unwrap_or("")),
                cell(c.after.as_deref().unwrap_or(""))
            );
        }
    }
    outln!(out, "\n## Changes\n\n| action | kind | object | before | after | note |\n|---|---|---|---|---|---|");
    for c in changes {
        outln!(
            out,
            "| {} | {} | `{}` | {} | {} | {} |",
            action_name(c.action),
            c.kind,
            c.object,
            cell(c.before.as_deref().unwrap_or("")),
            cell(c.after.as_deref().unwrap_or("")),
            cell(c.hint.as_deref().unwrap_or(""))
        );
    }
    out
}

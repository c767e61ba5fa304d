//! The Odoo-level diff of two dumps: installed modules, models and fields (from `ir_model` and
//! `ir_model_fields`), and row counts per table, as [`odump_schema::Change`]s beside the schema
//! diff's.

use std::collections::{BTreeMap, BTreeSet};

use odump_pgdump::{CopyHeader, DumpSummary, Flow, Row, Sink};
use odump_schema::{Action, Change};
use serde::Serialize;

/// Hazard of a table that holds fewer rows after than before.
pub const ROWS_LOST: &str = "rows-lost";

/// States of modules whose code is in the database.
const INSTALLED: &[&str] = &["installed", "to upgrade", "to remove"];

/// What one field of `ir_model_fields` says.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct FieldMeta {
    /// `char`, `many2one`, …
    pub ttype: String,
    /// The comodel of relational fields.
    pub relation: Option<String>,
    /// Stored in a column (`store`).
    pub stored: Option<bool>,
    /// `translate` as stored (a boolean up to 17.0, a mode name later).
    pub translate: Option<String>,
}

impl std::fmt::Display for FieldMeta {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.ttype)?;
        if let Some(r) = &self.relation {
            write!(f, " → {r}")?;
        }
        match self.stored {
            Some(true) => f.write_str(", stored")?,
            Some(false) => f.write_str(", not stored")?,
            None => {}
        }
        match self.translate.as_deref() {
            None | Some("f" | "false" | "") => Ok(()),
            Some("t" | "true") => f.write_str(", translatable"),
            Some(mode) => write!(f, ", translate {mode}"),
        }
    }
}

/// The Odoo metadata of one dump.
#[derive(Clone, Debug, Default)]
pub struct OdooMeta {
    /// Installed modules and their `latest_version`.
    pub modules: BTreeMap<String, Option<String>>,
    /// Model names (`res.partner`).
    pub models: BTreeSet<String>,
    /// Fields by `model.field`.
    pub fields: BTreeMap<String, FieldMeta>,
}

/// A [`Sink`] that reads `ir_module_module`, `ir_model` and `ir_model_fields`.
#[derive(Default)]
pub struct MetaCollector {
    meta: OdooMeta,
}

impl MetaCollector {
    /// A collector with nothing read yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// What was read.
    pub fn finish(self) -> OdooMeta {
        self.meta
    }
}

fn text(row: &Row<'_>, copy: &CopyHeader, column: &str) -> Option<String> {
    row.get(copy.column_index(column))
        .flatten()
        .map(|v| v.into_owned())
}

impl Sink for MetaCollector {
    fn wants_rows(&mut self, copy: &CopyHeader) -> bool {
        matches!(
            copy.table.name.as_str(),
            "ir_module_module" | "ir_model" | "ir_model_fields"
        )
    }

    fn row(&mut self, copy: &CopyHeader, row: &Row<'_>) -> Flow {
        match copy.table.name.as_str() {
            "ir_module_module" => {
                let state = text(row, copy, "state").unwrap_or_default();
                if let (Some(name), true) =
                    (text(row, copy, "name"), INSTALLED.contains(&state.as_str()))
                {
                    let version =
                        text(row, copy, "latest_version").or_else(|| text(row, copy, "db_version"));
                    self.meta.modules.insert(name, version);
                }
            }
            "ir_model" => {
                if let Some(model) = text(row, copy, "model") {
                    self.meta.models.insert(model);
                }
            }
            "ir_model_fields" => {
                if let (Some(model), Some(name)) =
                    (text(row, copy, "model"), text(row, copy, "name"))
                {
                    let field = FieldMeta {
                        ttype: text(row, copy, "ttype").unwrap_or_default(),
                        relation: text(row, copy, "relation").filter(|r| !r.is_empty()),
                        stored: text(row, copy, "store").map(|s| s == "t"),
                        translate: text(row, copy, "translate"),
                    };
                    self.meta.fields.insert(format!("{model}.{name}"), field);
                }
            }
            _ => {}
        }
        Flow::Continue
    }
}

fn change(
    kind: &str,
    object: &str,
    action: Action,
    before: Option<String>,
    after: Option<String>,
) -> Change {
    Change {
        kind: kind.to_string(),
        object: object.to_string(),
        action,
        before,
        after,
        hazard: None,
        hint: None,
    }
}

/// Compares two maps: added, removed, and changed entries (by `show`).
fn diff_maps<V: PartialEq>(
    kind: &str,
    before: &BTreeMap<String, V>,
    after: &BTreeMap<String, V>,
    show: impl Fn(&V) -> Option<String>,
    out: &mut Vec<Change>,
) {
    for (name, b) in before {
        match after.get(name) {
            None => out.push(change(kind, name, Action::Removed, show(b), None)),
            Some(a) if a != b => out.push(change(kind, name, Action::Changed, show(b), show(a))),
            Some(_) => {}
        }
    }
    for (name, a) in after {
        if !before.contains_key(name) {
            out.push(change(kind, name, Action::Added, None, show(a)));
        }
    }
}

/// Modules (installed ones, by version), models and fields that differ.
///
/// ```
/// use odump_odoo::meta::{diff_odoo, OdooMeta};
/// let mut a = OdooMeta::default();
/// a.modules.insert("sale".into(), Some("17.0.1.2".into()));
/// let mut b = a.clone();
/// b.modules.insert("sale".into(), Some("18.0.1.2".into()));
/// let changes = diff_odoo(&a, &b);
/// assert_eq!(changes[0].object, "sale");
/// ```
pub fn diff_odoo(before: &OdooMeta, after: &OdooMeta) -> Vec<Change> {
    let mut out = Vec::new();
    diff_maps(
        "module",
        &before.modules,
        &after.modules,
        |v| v.clone(),
        &mut out,
    );
    let set = |s: &BTreeSet<String>| {
        s.iter()
            .map(|m| (m.clone(), ()))
            .collect::<BTreeMap<_, _>>()
    };
    diff_maps(
        "model",
        &set(&before.models),
        &set(&after.models),
        |_| None,
        &mut out,
    );
    diff_maps(
        "field",
        &before.fields,
        &after.fields,
        |f| Some(f.to_string()),
        &mut out,
    );
    out
}

/// Row counts of tables present with data in both dumps; fewer rows after is a
/// [`ROWS_LOST`] hazard. `skip` leaves tables out (`--exclude-table`).
pub fn diff_rows(
    before: &DumpSummary,
    after: &DumpSummary,
    skip: &dyn Fn(&str) -> bool,
) -> Vec<Change> {
    let rows = |s: &DumpSummary| -> BTreeMap<String, u64> {
        s.tables
            .iter()
            .filter_map(|t| {
                let name = match &t.schema {
                    Some(schema) => format!("{schema}.{}", t.name),
                    None => t.name.clone(),
                };
                Some((name, t.rows?))
            })
            .collect()
    };
    let (b, a) = (rows(before), rows(after));
    let mut out = Vec::new();
    for (table, before_rows) in &b {
        let Some(after_rows) = a.get(table) else {
            continue;
        };
        if after_rows == before_rows || skip(table) {
            continue;
        }
        let mut c = change(
            "rows",
            table,
            Action::Changed,
            Some(before_rows.to_string()),
            Some(after_rows.to_string()),
        );
        if after_rows < before_rows {
            c.hazard = Some(ROWS_LOST.to_string());
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use odump_pgdump::{TableRef, TableStats};

    fn header(table: &str, columns: &[&str]) -> CopyHeader {
        CopyHeader {
            table: TableRef {
                schema: Some("public".into()),
                name: table.into(),
            },
            columns: columns.iter().map(|c| c.to_string()).collect(),
        }
    }

    #[test]
    fn collects_installed_modules_models_and_fields() {
        let mut c = MetaCollector::new();
        let m = header("ir_module_module", &["name", "state", "latest_version"]);
        assert!(c.wants_rows(&m));
        c.row(&m, &Row::new(b"sale\tinstalled\t17.0.1.2"));
        c.row(&m, &Row::new(b"crm\tuninstalled\t\\N"));
        let f = header(
            "ir_model_fields",
            &["model", "name", "ttype", "relation", "store", "translate"],
        );
        c.row(&f, &Row::new(b"res.partner\tname\tchar\t\\N\tt\tf"));
        c.row(
            &f,
            &Row::new(b"res.partner\tparent_id\tmany2one\tres.partner\tt\tf"),
        );
        let meta = c.finish();
        assert_eq!(meta.modules.len(), 1);
        assert_eq!(
            meta.fields["res.partner.parent_id"].to_string(),
            "many2one → res.partner, stored"
        );
    }

    #[test]
    fn field_and_module_changes() {
        let mut a = OdooMeta::default();
        a.modules.insert("sale".into(), Some("17.0.1.2".into()));
        a.modules.insert("old".into(), Some("17.0.1.0".into()));
        a.models.insert("res.partner".into());
        a.fields.insert(
            "res.partner.name".into(),
            FieldMeta {
                ttype: "char".into(),
                ..Default::default()
            },
        );
        let mut b = a.clone();
        b.modules.remove("old");
        b.modules.insert("new".into(), None);
        b.fields.insert(
            "res.partner.name".into(),
            FieldMeta {
                ttype: "text".into(),
                ..Default::default()
            },
        );
        let changes = diff_odoo(&a, &b);
        let got: Vec<_> = changes
            .iter()
            .map(|c| (c.kind.as_str(), c.object.as_str(), c.action))
            .collect();
        assert_eq!(
            got,
            [
                ("module", "old", Action::Removed),
                ("module", "new", Action::Added),
                ("field", "res.partner.name", Action::Changed)
            ]
        );
    }

    #[test]
    fn fewer_rows_is_a_hazard() {
        let summary = |rows: u64| {
            let mut s = DumpSummary::new(odump_pgdump::DumpFormat::Plain);
            s.tables.push(TableStats {
                schema: Some("public".into()),
                name: "t".into(),
                rows: Some(rows),
                data_bytes: Some(0),
            });
            s
        };
        let changes = diff_rows(&summary(10), &summary(7), &|_| false);
        assert_eq!(changes[0].hazard.as_deref(), Some(ROWS_LOST));
        assert!(diff_rows(&summary(10), &summary(10), &|_| false).is_empty());
        assert!(diff_rows(&summary(10), &summary(7), &|_| true).is_empty());
    }
}

//! The schema diff: what changed between two [`Schema`]s, with the dangerous changes called out.

use std::collections::{BTreeMap, BTreeSet, HashSet};

use serde::Serialize;

use crate::model::{Column, Schema, Table, TypeDef};
use crate::types::{type_change_hazard, LOSSY_TYPE_CHANGE};

/// Hazard of a dropped table or column that held rows (or whose row count is unknown).
pub const DATA_LOSS: &str = "data-loss";
/// Hazard of `NOT NULL` set on an existing column: existing NULLs make it fail.
pub const NOT_NULL_ADDED: &str = "not-null-added";

/// What happened to an object.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Action {
    /// Only in the second schema.
    Added,
    /// Only in the first schema.
    Removed,
    /// In both, different.
    Changed,
}

/// One difference between two schemas.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Change {
    /// The object kind: `schema`, `extension`, `type`, `domain`, `sequence`, `table`, `column`,
    /// `constraint`, `index`, `view`, `materialized-view`, `function`, `procedure`, `trigger`,
    /// `rule`, `policy`, `comment`, `owner`, `grant`, `opaque`.
    pub kind: String,
    /// The object's name: `schema.table`, `schema.table.column`, `schema.table.constraint`,
    /// `schema.index`, `schema.function(argtypes)`, `schema.table.trigger`; for a comment, owner
    /// or grant, the name of the object it is on.
    pub object: String,
    /// Added, removed or changed.
    pub action: Action,
    /// The definition before (`None` when added).
    pub before: Option<String>,
    /// The definition after (`None` when removed).
    pub after: Option<String>,
    /// What can go wrong: [`DATA_LOSS`], [`crate::TYPE_NARROWING`],
    /// [`crate::LOSSY_TYPE_CHANGE`], [`NOT_NULL_ADDED`].
    pub hazard: Option<String>,
    /// A reading aid, e.g. `possible rename of public.t.old` on an added column that matches a
    /// removed one.
    pub hint: Option<String>,
}

/// What [`diff`] compares.
#[derive(Clone, Debug, Default)]
pub struct DiffOptions {
    /// Compare owners (`ALTER … OWNER TO`).
    pub include_owners: bool,
    /// Compare privileges (`GRANT`, `REVOKE`, default privileges).
    pub include_grants: bool,
    /// Leave out tables (and views, sequences) matching any of these patterns, and everything on
    /// them. `*` matches any run of characters; a pattern matches `schema.table` or `table`.
    pub exclude_tables: Vec<String>,
    /// Row counts of the tables of the first dump, by `schema.table`: a dropped table or column
    /// is a [`DATA_LOSS`] hazard unless its table is known to have had no rows. Tables absent
    /// here (schema-only dumps) count as possibly holding rows.
    pub rows_before: BTreeMap<String, u64>,
}

/// The differences from `before` to `after`, ordered by object, then kind.
///
/// Children of an added or removed table or view (its columns, constraints, indexes, triggers,
/// comments, owned sequences…) are not listed on their own: the table's change stands for them.
///
/// ```
/// use odump_schema::{diff, Action, DiffOptions, SchemaBuilder};
/// let schema = |sql: &[&str]| {
///     let mut b = SchemaBuilder::new();
///     for s in sql {
///         b.add_statement(None, s);
///     }
///     b.finish()
/// };
/// let a = schema(&["CREATE TABLE public.t (id integer, note text)"]);
/// let b = schema(&["CREATE TABLE public.t (id bigint)"]);
/// let changes = diff(&a, &b, &DiffOptions::default());
/// assert_eq!(changes.len(), 2);
/// assert_eq!((changes[0].object.as_str(), changes[0].action), ("public.t.id", Action::Changed));
/// assert_eq!((changes[1].object.as_str(), changes[1].hazard.as_deref()), ("public.t.note", Some("data-loss")));
/// ```
pub fn diff(before: &Schema, after: &Schema, opts: &DiffOptions) -> Vec<Change> {
    let mut d = Differ {
        out: Vec::new(),
        opts,
    };
    d.objects(before, after);
    d.tables(before, after);
    d.annotations(before, after);

    // Relations added or removed: their children are folded into them.
    let is_relation = |c: &Change, rel: &Option<String>| {
        matches!(c.kind.as_str(), "table" | "view" | "materialized-view")
            && rel.as_deref() == Some(c.object.as_str())
    };
    let gone: BTreeSet<String> = d
        .out
        .iter()
        .filter(|(c, rel)| c.action != Action::Changed && is_relation(c, rel))
        .map(|(c, _)| c.object.clone())
        .collect();
    let mut changes: Vec<Change> = d
        .out
        .into_iter()
        .filter(|(c, rel)| match rel {
            Some(r) => {
                !opts.exclude_tables.iter().any(|p| table_matches(p, r))
                    && (!gone.contains(r) || is_relation(c, rel))
            }
            None => true,
        })
        .map(|(c, _)| c)
        .collect();
    changes.sort_by(|a, b| {
        (&a.object, &a.kind, a.action, &a.before, &a.after)
            .cmp(&(&b.object, &b.kind, b.action, &b.before, &b.after))
    });
    changes
}

impl DiffOptions {
    /// Whether `--exclude-table` patterns leave out this `schema.table`.
    pub fn excludes(&self, qualified: &str) -> bool {
        self.exclude_tables
            .iter()
            .any(|p| table_matches(p, qualified))
    }
}

/// Whether a `*` glob matches `schema.table` or its `table` part.
fn table_matches(pattern: &str, qualified: &str) -> bool {
    let bare = qualified.split_once('.').map_or(qualified, |(_, t)| t);
    glob(pattern.as_bytes(), qualified.as_bytes()) || glob(pattern.as_bytes(), bare.as_bytes())
}

fn glob(p: &[u8], s: &[u8]) -> bool {
    match p.split_first() {
        None => s.is_empty(),
        Some((b'*', rest)) => (0..=s.len()).any(|i| glob(rest, &s[i..])),
        Some((c, rest)) => s.first() == Some(c) && glob(rest, &s[1..]),
    }
}

/// Collects changes, each with the relation (table, view, sequence) it belongs to, if any.
struct Differ<'o> {
    out: Vec<(Change, Option<String>)>,
    opts: &'o DiffOptions,
}

impl Differ<'_> {
    fn push(
        &mut self,
        kind: &str,
        object: &str,
        before: Option<String>,
        after: Option<String>,
        relation: Option<String>,
    ) -> &mut Change {
        let action = match (&before, &after) {
            (Some(_), None) => Action::Removed,
            (None, Some(_)) => Action::Added,
            _ => Action::Changed,
        };
        self.out.push((
            Change {
                kind: kind.to_string(),
                object: object.to_string(),
                action,
                before,
                after,
                hazard: None,
                hint: None,
            },
            relation,
        ));
        &mut self.out.last_mut().expect("just pushed").0
    }

    /// Compares two maps of objects by their rendering.
    fn compare<V>(
        &mut self,
        kind: impl Fn(&V) -> &'static str,
        before: &BTreeMap<String, V>,
        after: &BTreeMap<String, V>,
        render: impl Fn(&V) -> String,
        relation: impl Fn(&str, &V) -> Option<String>,
    ) {
        for (name, b, a) in union(before, after) {
            let (rb, ra) = (b.map(&render), a.map(&render));
            if rb == ra {
                continue;
            }
            let any = a.or(b).expect("in one of the maps");
            self.push(kind(any), name, rb, ra, relation(name, any));
        }
    }

    /// Schemas, extensions, types, domains, sequences, indexes, views, functions, triggers,
    /// rules, policies and opaque statements.
    fn objects(&mut self, before: &Schema, after: &Schema) {
        let set = |s: &BTreeSet<String>| -> BTreeMap<String, ()> {
            s.iter().map(|n| (n.clone(), ())).collect()
        };
        self.compare(
            |_| "schema",
            &set(&before.schemas),
            &set(&after.schemas),
            |_| String::new(),
            |_, _| None,
        );
        self.compare(
            |_| "extension",
            &before.extensions,
            &after.extensions,
            |e| {
                let mut s = String::new();
                if let Some(sc) = &e.schema {
                    s += &format!("SCHEMA {sc}");
                }
                if let Some(v) = &e.version {
                    s += &format!(" VERSION {v}");
                }
                s.trim().to_string()
            },
            |_, _| None,
        );
        let first = self.out.len();
        self.compare(
            |_| "type",
            &before.types,
            &after.types,
            TypeDef::render,
            |_, _| None,
        );
        for (change, _) in &mut self.out[first..] {
            if let (Some(TypeDef::Enum(b)), Some(TypeDef::Enum(a))) = (
                before.types.get(&change.object),
                after.types.get(&change.object),
            ) {
                // A label dropped: values holding it cannot be converted.
                let kept: HashSet<&String> = a.iter().collect();
                if !b.iter().all(|l| kept.contains(l)) {
                    change.hazard = Some(LOSSY_TYPE_CHANGE.into());
                }
            }
        }
        self.compare(
            |_| "domain",
            &before.domains,
            &after.domains,
            |d| d.render(),
            |_, _| None,
        );
        self.compare(
            |_| "sequence",
            &before.sequences,
            &after.sequences,
            |s| s.render(),
            |name, s| {
                Some(match &s.owned_by {
                    Some(col) => col
                        .rsplit_once('.')
                        .map_or(col.clone(), |(t, _)| t.to_string()),
                    None => name.to_string(),
                })
            },
        );
        self.compare(
            |_| "index",
            &before.indexes,
            &after.indexes,
            |i| i.render(),
            |_, i| Some(i.table.clone()),
        );
        self.compare(
            |v| {
                if v.materialized {
                    "materialized-view"
                } else {
                    "view"
                }
            },
            &before.views,
            &after.views,
            |v| match &v.options {
                Some(o) => format!("WITH ({o}) AS {}", v.definition),
                None => v.definition.clone(),
            },
            |name, _| Some(name.to_string()),
        );
        for (name, b, a) in union(&before.functions, &after.functions) {
            let kind = if a.or(b).is_some_and(|f| f.procedure) {
                "procedure"
            } else {
                "function"
            };
            let full = |f: &crate::Function| format!("{} AS {}", f.render_header(), f.body);
            match (b, a) {
                (Some(b), Some(a)) if b == a => {}
                (Some(b), Some(a)) if b.body == a.body => {
                    let (hb, ha) = (b.render_header(), a.render_header());
                    self.push(kind, name, Some(hb), Some(ha), None);
                }
                _ => {
                    self.push(kind, name, b.map(full), a.map(full), None);
                }
            }
        }
        for (kind, b, a) in [
            ("trigger", &before.triggers, &after.triggers),
            ("rule", &before.rules, &after.rules),
            ("policy", &before.policies, &after.policies),
        ] {
            self.compare(
                |_| kind,
                b,
                a,
                |t| t.definition.clone(),
                |_, t| Some(t.table.clone()),
            );
        }
        self.compare(
            |_| "opaque",
            &before.opaque,
            &after.opaque,
            |o| o.statements.join("; "),
            |_, _| None,
        );
        // Opaque changes are named by their object, not their internal key.
        let opaque_names: BTreeMap<&str, &str> = before
            .opaque
            .iter()
            .chain(&after.opaque)
            .map(|(k, o)| (k.as_str(), o.object.as_str()))
            .collect();
        for (change, _) in &mut self.out {
            if change.kind == "opaque" {
                if let Some(obj) = opaque_names.get(change.object.as_str()) {
                    change.object = obj.to_string();
                }
            }
        }
    }

    /// Tables, their columns and constraints, with hazards and rename hints.
    fn tables(&mut self, before: &Schema, after: &Schema) {
        let mut removed = Vec::new();
        let mut added = Vec::new();
        for (name, b, a) in union(&before.tables, &after.tables) {
            match (b, a) {
                (Some(b), None) => removed.push((name, b)),
                (None, Some(a)) => added.push((name, a)),
                (Some(b), Some(a)) => self.table_changes(name, b, a),
                (None, None) => {}
            }
        }
        // Each table's columns as `(name, type)`, made once rather than once per pair.
        let removed_cols: Vec<_> = removed.iter().map(|&(n, t)| (n, column_set(t))).collect();
        let added_cols: Vec<_> = added.iter().map(|&(n, t)| (n, column_set(t))).collect();
        let pairs = if removed.len().saturating_mul(added.len()) > TABLE_RENAME_PAIRS_MAX {
            BTreeMap::new()
        } else {
            rename_pairs(&by_ref(&removed_cols), &by_ref(&added_cols), |cb, ca| {
                let (small, big) = (cb.len().min(ca.len()), cb.len().max(ca.len()));
                // common ≤ small and all ≥ big: too different in size to be alike.
                if small * 5 < big * 4 {
                    return None;
                }
                let common = cb.intersection(ca).count();
                let all = cb.len() + ca.len() - common;
                // Alike when at least 80% of the columns match by name and type.
                (all > 0 && common * 5 >= all * 4).then_some(common * 1000 / all)
            })
        };
        for (name, t) in &removed {
            let hazard = self.loss_hazard(name);
            let c = self.push(
                "table",
                name,
                Some(table_text(t)),
                None,
                Some(name.to_string()),
            );
            c.hazard = hazard;
            if let Some(to) = pairs.get(name) {
                c.hint = Some(format!("possibly renamed to {to}"));
            }
        }
        let renamed_from: BTreeMap<&str, &str> = pairs.iter().map(|(k, v)| (*v, *k)).collect();
        for (name, t) in &added {
            let c = self.push(
                "table",
                name,
                None,
                Some(table_text(t)),
                Some(name.to_string()),
            );
            if let Some(from) = renamed_from.get(name) {
                c.hint = Some(format!("possible rename of {from}"));
            }
        }
    }

    /// The hazard of losing a table's rows: none when the table is known to have had none.
    fn loss_hazard(&self, table: &str) -> Option<String> {
        match self.opts.rows_before.get(table) {
            Some(0) => None,
            _ => Some(DATA_LOSS.to_string()),
        }
    }

    /// Changes inside a table present in both schemas.
    fn table_changes(&mut self, name: &str, b: &Table, a: &Table) {
        let rel = Some(name.to_string());
        let (pb, pa) = (b.render_properties(), a.render_properties());
        if pb != pa {
            self.push("table", name, Some(pb), Some(pa), rel.clone());
        }
        // Each column is looked up on the other side by name: linear in the number of columns.
        let mut removed = Vec::new();
        let mut added = Vec::new();
        for x in b.columns.iter() {
            let Some(y) = a.columns.get(&x.name) else {
                removed.push((x.name.as_str(), x));
                continue;
            };
            if x == y {
                continue;
            }
            let (rx, ry) = (x.render(), y.render());
            if rx != ry {
                let hazard = type_change_hazard(&x.data_type, &y.data_type)
                    .or((!x.not_null && y.not_null).then_some(NOT_NULL_ADDED));
                let c = self.push(
                    "column",
                    &format!("{name}.{}", x.name),
                    Some(rx),
                    Some(ry),
                    rel.clone(),
                );
                c.hazard = hazard.map(str::to_string);
            }
        }
        for y in a.columns.iter() {
            if b.columns.get(&y.name).is_none() {
                added.push((y.name.as_str(), y));
            }
        }
        let pairs = unique_pairs(&removed, &added, |c: &Column| {
            (c.data_type.as_str(), c.not_null)
        });
        let hazard = self.loss_hazard(name);
        for (col, x) in &removed {
            let c = self.push(
                "column",
                &format!("{name}.{col}"),
                Some(x.render()),
                None,
                rel.clone(),
            );
            c.hazard = hazard.clone();
            if let Some(to) = pairs.get(col) {
                c.hint = Some(format!("possibly renamed to {name}.{to}"));
            }
        }
        let renamed_from: BTreeMap<&str, &str> = pairs.iter().map(|(k, v)| (*v, *k)).collect();
        for (col, y) in &added {
            let c = self.push(
                "column",
                &format!("{name}.{col}"),
                None,
                Some(y.render()),
                rel.clone(),
            );
            if let Some(from) = renamed_from.get(col) {
                c.hint = Some(format!("possible rename of {name}.{from}"));
            }
        }
        let qualified = |m: &BTreeMap<String, crate::Constraint>| -> BTreeMap<String, String> {
            m.iter()
                .map(|(k, v)| (format!("{name}.{k}"), v.definition.clone()))
                .collect()
        };
        self.compare(
            |_| "constraint",
            &qualified(&b.constraints),
            &qualified(&a.constraints),
            String::clone,
            |_, _| rel.clone(),
        );
    }

    /// Comments, and owners and grants when asked.
    fn annotations(&mut self, before: &Schema, after: &Schema) {
        let relation = |on: &str, object: &str| -> Option<String> {
            match on {
                "table" | "view" | "materialized view" | "foreign table" | "sequence" => {
                    Some(object.to_string())
                }
                "column" | "constraint" | "trigger" | "rule" | "policy" => {
                    object.rsplit_once('.').map(|(t, _)| t.to_string())
                }
                "index" => before
                    .indexes
                    .get(object)
                    .or_else(|| after.indexes.get(object))
                    .map(|i| i.table.clone()),
                _ => None,
            }
        };
        let mut named = Vec::new();
        self.compare(
            |_| "comment",
            &before.comments,
            &after.comments,
            |c| c.text.clone(),
            |_, c| relation(&c.on, &c.object),
        );
        named.extend(
            before
                .comments
                .iter()
                .chain(&after.comments)
                .map(|(k, c)| (k.clone(), c.object.clone())),
        );
        if self.opts.include_owners {
            self.compare(
                |_| "owner",
                &before.owners,
                &after.owners,
                |o| o.owner.clone(),
                |_, o| relation(&o.on, &o.object),
            );
            named.extend(
                before
                    .owners
                    .iter()
                    .chain(&after.owners)
                    .map(|(k, o)| (k.clone(), o.object.clone())),
            );
        }
        if self.opts.include_grants {
            self.compare(
                |_| "grant",
                &before.grants,
                &after.grants,
                |g| {
                    let mut s = g.statements.clone();
                    s.sort();
                    s.join("; ")
                },
                |_, g| relation(&g.on, &g.object),
            );
            named.extend(
                before
                    .grants
                    .iter()
                    .chain(&after.grants)
                    .map(|(k, g)| (k.clone(), g.object.clone())),
            );
        }
        // Comments, owners and grants are keyed internally by class and name: show the name.
        let named: BTreeMap<String, String> = named.into_iter().collect();
        for (change, _) in &mut self.out {
            if matches!(change.kind.as_str(), "comment" | "owner" | "grant") {
                if let Some(obj) = named.get(&change.object) {
                    change.object = obj.clone();
                }
            }
        }
    }
}

/// A table's columns as `(name, type)` pairs.
type ColumnSet<'t> = BTreeSet<(&'t str, &'t str)>;

/// The columns of a table as `(name, type)` pairs, to tell how alike two tables are.
fn column_set(t: &Table) -> ColumnSet<'_> {
    t.columns
        .iter()
        .map(|c| (c.name.as_str(), c.data_type.as_str()))
        .collect()
}

/// Borrows the values of `(name, value)` pairs.
fn by_ref<'n, 'v, V>(v: &'v [(&'n str, V)]) -> Vec<(&'n str, &'v V)> {
    v.iter().map(|(n, x)| (*n, x)).collect()
}

/// A removed or added table as one line: its columns, then its properties.
fn table_text(t: &Table) -> String {
    let props = t.render_properties();
    if props.is_empty() {
        t.render_columns()
    } else {
        format!("{} {props}", t.render_columns())
    }
}

/// Removed × added tables beyond which no table rename hint is looked for. The search scores
/// every pair: two unrelated databases, or a crafted dump of thousands of tables, would spend
/// minutes on hints. An upgrade between Odoo versions drops and adds a few hundred at most.
const TABLE_RENAME_PAIRS_MAX: usize = 1_000_000;

/// The keys of two maps, in order, with the value on each side.
fn union<'m, V>(
    a: &'m BTreeMap<String, V>,
    b: &'m BTreeMap<String, V>,
) -> impl Iterator<Item = (&'m str, Option<&'m V>, Option<&'m V>)> {
    let keys: BTreeSet<&String> = a.keys().chain(b.keys()).collect();
    keys.into_iter()
        .map(move |k| (k.as_str(), a.get(k), b.get(k)))
}

/// Pairs removed and added objects of the same `key`, when that key is unique to them on both
/// sides: what [`rename_pairs`] gives for a score of 1 between equal keys and none otherwise,
/// in O(n log n) rather than O(removed × added).
fn unique_pairs<'n, 'v, V: ?Sized, K: Ord>(
    removed: &[(&'n str, &'v V)],
    added: &[(&'n str, &'v V)],
    key: impl Fn(&'v V) -> K,
) -> BTreeMap<&'n str, &'n str> {
    // Per key: how many removed and added objects bear it, and the first of each.
    let mut groups: BTreeMap<K, [(usize, &'n str); 2]> = BTreeMap::new();
    for (side, list) in [removed, added].into_iter().enumerate() {
        for &(name, v) in list {
            let g = groups.entry(key(v)).or_insert([(0, ""), (0, "")]);
            if g[side].0 == 0 {
                g[side].1 = name;
            }
            g[side].0 += 1;
        }
    }
    groups
        .into_values()
        .filter_map(|[(nr, r), (na, a)]| (nr == 1 && na == 1).then_some((r, a)))
        .collect()
}

/// Pairs removed and added objects that are alike: `score` says how alike (None: not at all);
/// a pair is kept when each is the other's single best match.
fn rename_pairs<'n, V>(
    removed: &[(&'n str, &V)],
    added: &[(&'n str, &V)],
    score: impl Fn(&V, &V) -> Option<usize>,
) -> BTreeMap<&'n str, &'n str> {
    let best = |from: &[(&'n str, &V)], to: &[(&'n str, &V)], flip: bool| {
        let mut out: BTreeMap<&str, &str> = BTreeMap::new();
        for (n, x) in from {
            let scored: Vec<(usize, &str)> = to
                .iter()
                .filter_map(|(m, y)| {
                    let s = if flip { score(y, x) } else { score(x, y) };
                    s.map(|s| (s, *m))
                })
                .collect();
            let top = scored.iter().map(|(s, _)| *s).max();
            let winners: Vec<&str> = scored
                .iter()
                .filter(|(s, _)| Some(*s) == top)
                .map(|(_, m)| *m)
                .collect();
            if let [only] = winners.as_slice() {
                out.insert(n, only);
            }
        }
        out
    };
    let forward = best(removed, added, false);
    let backward = best(added, removed, true);
    forward
        .into_iter()
        .filter(|(r, a)| backward.get(a) == Some(r))
        .collect()
}

#[cfg(test)]
mod tests;

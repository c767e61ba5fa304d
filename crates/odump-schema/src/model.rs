//! The schema model: every object a pg_dump script creates, keyed by its qualified name.
//!
//! Names are unquoted values (`public.res_partner`, never `public."res_partner"`). Texts that
//! PostgreSQL deparses (defaults, checks, index keys, view queries, trigger definitions) are kept
//! normalized: white space collapsed, and the object's own schema (and `pg_catalog`) left
//! unqualified, so that old-style dumps (pg_dump ≤ 10.2, names unqualified under
//! `SET search_path`) and modern ones (everything qualified) compare equal.

use std::collections::hash_map::Entry;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fmt;
use std::ops::Deref;

use serde::{Serialize, Serializer};

/// A database schema as a pg_dump script describes it.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Schema {
    /// Schemas created by `CREATE SCHEMA` (`public` usually exists without one).
    pub schemas: BTreeSet<String>,
    /// Extensions by name.
    pub extensions: BTreeMap<String, Extension>,
    /// Enum, composite, range and base types by qualified name.
    pub types: BTreeMap<String, TypeDef>,
    /// Domains by qualified name.
    pub domains: BTreeMap<String, Domain>,
    /// Sequences by qualified name (identity sequences included).
    pub sequences: BTreeMap<String, Sequence>,
    /// Tables (partitioned tables and partitions included) by qualified name.
    pub tables: BTreeMap<String, Table>,
    /// Indexes by qualified name (`schema.index`); constraint indexes are constraints instead.
    pub indexes: BTreeMap<String, Index>,
    /// Views and materialized views by qualified name.
    pub views: BTreeMap<String, View>,
    /// Functions and procedures by identity, `schema.name(argtypes)`.
    pub functions: BTreeMap<String, Function>,
    /// Triggers by `schema.table.trigger`.
    pub triggers: BTreeMap<String, TableItem>,
    /// Rules by `schema.table.rule` (not the `_RETURN` rules of views, which are views).
    pub rules: BTreeMap<String, TableItem>,
    /// Row-level security policies by `schema.table.policy`.
    pub policies: BTreeMap<String, TableItem>,
    /// Comments by `"<on> <object>"` (e.g. `column public.res_partner.email`).
    pub comments: BTreeMap<String, Comment>,
    /// Owners by `"<on> <object>"`.
    pub owners: BTreeMap<String, Owner>,
    /// Privileges by `"<on> <object>"`: the GRANT and REVOKE statements of each object.
    pub grants: BTreeMap<String, Grant>,
    /// Statements kept as text only, by `"<TOC type> <object>"`.
    pub opaque: BTreeMap<String, Opaque>,
    /// Statements that carry nothing about the schema (settings, sequence values, statistics,
    /// data, database-level properties) and were skipped.
    pub noise_statements: u64,
}

impl Schema {
    /// The number of objects kept as text only (statements no parser here understood).
    pub fn opaque_count(&self) -> usize {
        self.opaque.len()
    }

    /// The number of text-only objects per pg_dump object type (`TEXT SEARCH CONFIGURATION`…).
    pub fn opaque_kinds(&self) -> BTreeMap<&str, usize> {
        let mut out = BTreeMap::new();
        for o in self.opaque.values() {
            *out.entry(o.kind.as_str()).or_insert(0) += 1;
        }
        out
    }
}

/// An installed extension.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Extension {
    /// `WITH SCHEMA`, when given.
    pub schema: Option<String>,
    /// `VERSION`, when given (pg_dump does not print it).
    pub version: Option<String>,
}

/// A user-defined type.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase", tag = "kind", content = "definition")]
pub enum TypeDef {
    /// `AS ENUM (…)`: the labels in order.
    Enum(Vec<String>),
    /// `AS (…)`: the attributes in order, as `(name, type)`.
    Composite(Vec<(String, String)>),
    /// Any other type (range, base, shell): its normalized definition.
    Other(String),
}

impl TypeDef {
    /// The definition as one line of SQL (`ENUM ('a', 'b')`, `(x integer, y text)`).
    pub fn render(&self) -> String {
        match self {
            TypeDef::Enum(labels) => {
                let quoted: Vec<String> = labels
                    .iter()
                    .map(|l| format!("'{}'", l.replace('\'', "''")))
                    .collect();
                format!("ENUM ({})", quoted.join(", "))
            }
            TypeDef::Composite(attrs) => {
                let a: Vec<String> = attrs.iter().map(|(n, t)| format!("{n} {t}")).collect();
                format!("({})", a.join(", "))
            }
            TypeDef::Other(text) => text.clone(),
        }
    }
}

/// A domain.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Domain {
    /// The base type.
    pub data_type: String,
    /// `COLLATE`, when given.
    pub collation: Option<String>,
    /// `DEFAULT` expression.
    pub default: Option<String>,
    /// `NOT NULL`.
    pub not_null: bool,
    /// CHECK constraints by name (unnamed ones as `check`, `check1`…): their normalized text.
    pub checks: BTreeMap<String, String>,
}

impl Domain {
    /// The definition as one line of SQL.
    pub fn render(&self) -> String {
        let mut s = self.data_type.clone();
        if let Some(c) = &self.collation {
            s += &format!(" COLLATE {c}");
        }
        if let Some(d) = &self.default {
            s += &format!(" DEFAULT {d}");
        }
        if self.not_null {
            s += " NOT NULL";
        }
        for (name, check) in &self.checks {
            s += &format!(" CONSTRAINT {name} {check}");
        }
        s
    }
}

/// A sequence. Its current value (`setval`) is data, not schema, and is not kept.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Sequence {
    /// `AS` type; `bigint` when not given (pg_dump < 10 never gives it).
    pub data_type: String,
    /// `START WITH`.
    pub start: Option<i64>,
    /// `INCREMENT BY`.
    pub increment: i64,
    /// `MINVALUE`; `None` for `NO MINVALUE` (the type's default).
    pub min_value: Option<i64>,
    /// `MAXVALUE`; `None` for `NO MAXVALUE` (the type's default).
    pub max_value: Option<i64>,
    /// `CACHE`.
    pub cache: i64,
    /// `CYCLE`.
    pub cycle: bool,
    /// `OWNED BY schema.table.column`, the column whose sequence this is (serial or identity).
    pub owned_by: Option<String>,
}

impl Default for Sequence {
    fn default() -> Self {
        Sequence {
            data_type: "bigint".into(),
            start: None,
            increment: 1,
            min_value: None,
            max_value: None,
            cache: 1,
            cycle: false,
            owned_by: None,
        }
    }
}

impl Sequence {
    /// The definition as one line of SQL options.
    pub fn render(&self) -> String {
        let mut s = format!("AS {}", self.data_type);
        if let Some(st) = self.start {
            s += &format!(" START WITH {st}");
        }
        s += &format!(" INCREMENT BY {}", self.increment);
        match self.min_value {
            Some(v) => s += &format!(" MINVALUE {v}"),
            None => s += " NO MINVALUE",
        }
        match self.max_value {
            Some(v) => s += &format!(" MAXVALUE {v}"),
            None => s += " NO MAXVALUE",
        }
        s += &format!(" CACHE {}", self.cache);
        if self.cycle {
            s += " CYCLE";
        }
        if let Some(o) = &self.owned_by {
            s += &format!(" OWNED BY {o}");
        }
        s
    }
}

/// A table.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Table {
    /// `UNLOGGED`.
    pub unlogged: bool,
    /// Columns in dump order (inherited columns of `INHERITS` children are not repeated by
    /// pg_dump, so they are not here either), found by name in constant time.
    pub columns: Columns,
    /// Constraints by name.
    pub constraints: BTreeMap<String, Constraint>,
    /// `INHERITS (…)` parents, qualified.
    pub inherits: Vec<String>,
    /// `OF type` for typed tables.
    pub of_type: Option<String>,
    /// `PARTITION BY …` of a partitioned table (`RANGE (date)`).
    pub partition_by: Option<String>,
    /// The parent and bound of a partition (`PARTITION OF` or `ATTACH PARTITION`).
    pub partition_of: Option<Partition>,
    /// `WITH (…)` storage parameters, normalized.
    pub options: Option<String>,
    /// `CLUSTER ON` index.
    pub cluster_on: Option<String>,
    /// `REPLICA IDENTITY` setting (`FULL`, `NOTHING`, `USING INDEX x`).
    pub replica_identity: Option<String>,
    /// `ENABLE ROW LEVEL SECURITY`.
    pub row_security: bool,
    /// `FORCE ROW LEVEL SECURITY`.
    pub force_row_security: bool,
}

impl Table {
    /// The column of this name.
    pub fn column(&self, name: &str) -> Option<&Column> {
        self.columns.get(name)
    }

    /// The column of this name, created (at the end) if the table does not list it yet: an
    /// `ALTER TABLE` on an inherited column.
    pub(crate) fn column_entry(&mut self, name: &str) -> &mut Column {
        self.columns.get_or_push(name)
    }

    /// The table-level properties as one line (everything but columns and constraints).
    pub fn render_properties(&self) -> String {
        let mut parts = Vec::new();
        if self.unlogged {
            parts.push("UNLOGGED".to_string());
        }
        if let Some(t) = &self.of_type {
            parts.push(format!("OF {t}"));
        }
        if !self.inherits.is_empty() {
            parts.push(format!("INHERITS ({})", self.inherits.join(", ")));
        }
        if let Some(p) = &self.partition_by {
            parts.push(format!("PARTITION BY {p}"));
        }
        if let Some(p) = &self.partition_of {
            parts.push(format!("PARTITION OF {} {}", p.parent, p.bound));
        }
        if let Some(o) = &self.options {
            parts.push(format!("WITH {o}"));
        }
        if let Some(c) = &self.cluster_on {
            parts.push(format!("CLUSTER ON {c}"));
        }
        if let Some(r) = &self.replica_identity {
            parts.push(format!("REPLICA IDENTITY {r}"));
        }
        if self.row_security {
            parts.push("ENABLE ROW LEVEL SECURITY".into());
        }
        if self.force_row_security {
            parts.push("FORCE ROW LEVEL SECURITY".into());
        }
        parts.join(" ")
    }

    /// The column list as one line: `(id integer NOT NULL, name text)`.
    pub fn render_columns(&self) -> String {
        let cols: Vec<String> = self
            .columns
            .iter()
            .map(|c| format!("{} {}", c.name, c.render()))
            .collect();
        format!("({})", cols.join(", "))
    }
}

/// The columns of a table: a list in dump order, with an index by name beside it, so that
/// finding a column costs the same in a table of 10 columns or of 100,000.
///
/// Reads as a slice of [`Column`]s (`columns[0]`, `columns.iter()`, `columns.len()`); serializes
/// and compares as that list. Names are unique: [`Columns::insert`] replaces the column of the
/// same name in place, keeping its position.
///
/// ```
/// use odump_schema::{Column, Columns};
/// let mut cols = Columns::default();
/// for (name, ty) in [("id", "integer"), ("name", "text"), ("note", "text")] {
///     cols.insert(Column { name: name.into(), data_type: ty.into(), ..Column::default() });
/// }
/// cols.insert(Column { name: "name".into(), data_type: "character varying".into(), ..Column::default() });
/// assert_eq!(cols.len(), 3);
/// assert_eq!(cols.position("name"), Some(1));
/// assert_eq!(cols.get("name").unwrap().data_type, "character varying");
/// assert_eq!(cols[2].name, "note");
/// assert!(cols.get("missing").is_none());
/// ```
#[derive(Clone, Default)]
pub struct Columns {
    /// The columns in dump order.
    list: Vec<Column>,
    /// The position in `list` of each column, by name.
    by_name: HashMap<Box<str>, usize>,
}

impl Columns {
    /// The column of this name.
    pub fn get(&self, name: &str) -> Option<&Column> {
        self.position(name).map(|i| &self.list[i])
    }

    /// The position (in dump order) of the column of this name.
    pub fn position(&self, name: &str) -> Option<usize> {
        self.by_name.get(name).copied()
    }

    /// Adds a column at the end, or replaces the column of the same name where it stands;
    /// returns its position.
    pub fn insert(&mut self, column: Column) -> usize {
        match self.by_name.entry(column.name.as_str().into()) {
            Entry::Occupied(e) => {
                let i = *e.get();
                self.list[i] = column;
                i
            }
            Entry::Vacant(e) => {
                let i = self.list.len();
                e.insert(i);
                self.list.push(column);
                i
            }
        }
    }

    /// The column of this name, added (at the end, with only its name) when missing.
    pub(crate) fn get_or_push(&mut self, name: &str) -> &mut Column {
        let i = match self.position(name) {
            Some(i) => i,
            None => self.insert(Column {
                name: name.to_string(),
                ..Column::default()
            }),
        };
        &mut self.list[i]
    }
}

impl Deref for Columns {
    type Target = [Column];

    fn deref(&self) -> &[Column] {
        &self.list
    }
}

impl<'a> IntoIterator for &'a Columns {
    type Item = &'a Column;
    type IntoIter = std::slice::Iter<'a, Column>;

    fn into_iter(self) -> Self::IntoIter {
        self.list.iter()
    }
}

impl FromIterator<Column> for Columns {
    /// Columns in this order; a column named like an earlier one replaces it in place.
    fn from_iter<I: IntoIterator<Item = Column>>(iter: I) -> Self {
        let mut cols = Columns::default();
        for c in iter {
            cols.insert(c);
        }
        cols
    }
}

impl PartialEq for Columns {
    fn eq(&self, other: &Self) -> bool {
        // The index follows from the list.
        self.list == other.list
    }
}

impl Eq for Columns {}

impl fmt::Debug for Columns {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(&self.list).finish()
    }
}

impl Serialize for Columns {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.list.serialize(serializer)
    }
}

/// The parent and bound of a partition.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Partition {
    /// The partitioned table, qualified.
    pub parent: String,
    /// `FOR VALUES …` or `DEFAULT`, normalized.
    pub bound: String,
}

/// How an identity column generates its values.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Identity {
    /// `GENERATED ALWAYS AS IDENTITY`.
    Always,
    /// `GENERATED BY DEFAULT AS IDENTITY`.
    ByDefault,
}

/// A table column.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Column {
    /// The name.
    pub name: String,
    /// The type as PostgreSQL prints it (`character varying(64)`, `public.mood[]`), user types
    /// qualified.
    pub data_type: String,
    /// `NOT NULL`.
    pub not_null: bool,
    /// `DEFAULT` expression (inline or from `ALTER COLUMN … SET DEFAULT`).
    pub default: Option<String>,
    /// `GENERATED ALWAYS AS (expr) STORED`: `(expr) STORED` (or `VIRTUAL`).
    pub generated: Option<String>,
    /// `GENERATED … AS IDENTITY`.
    pub identity: Option<Identity>,
    /// `COLLATE`, when not the type's default.
    pub collation: Option<String>,
    /// Per-column settings from `ALTER COLUMN … SET …`: `STATISTICS`, `STORAGE`, `COMPRESSION`,
    /// `OPTIONS` (attribute options), each normalized.
    pub settings: BTreeMap<String, String>,
}

impl Column {
    /// The column definition without its name: `integer NOT NULL DEFAULT 0`.
    pub fn render(&self) -> String {
        let mut s = self.data_type.clone();
        if let Some(c) = &self.collation {
            s += &format!(" COLLATE {c}");
        }
        if let Some(d) = &self.default {
            s += &format!(" DEFAULT {d}");
        }
        if let Some(g) = &self.generated {
            s += &format!(" GENERATED ALWAYS AS {g}");
        }
        match self.identity {
            Some(Identity::Always) => s += " GENERATED ALWAYS AS IDENTITY",
            Some(Identity::ByDefault) => s += " GENERATED BY DEFAULT AS IDENTITY",
            None => {}
        }
        if self.not_null {
            s += " NOT NULL";
        }
        for (k, v) in &self.settings {
            s += &format!(" SET {k} {v}");
        }
        s
    }
}

/// What a constraint is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ConstraintKind {
    /// `PRIMARY KEY`.
    PrimaryKey,
    /// `UNIQUE`.
    Unique,
    /// `FOREIGN KEY`.
    ForeignKey,
    /// `CHECK`.
    Check,
    /// `EXCLUDE`.
    Exclusion,
}

/// A table constraint.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Constraint {
    /// What it is.
    pub kind: ConstraintKind,
    /// The constrained columns (key columns; for a check, empty).
    pub columns: Vec<String>,
    /// The referenced side of a foreign key.
    pub references: Option<ForeignKey>,
    /// The whole definition, normalized (`FOREIGN KEY (a) REFERENCES t(id) ON DELETE CASCADE`).
    pub definition: String,
}

/// The referenced side and actions of a foreign key.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ForeignKey {
    /// The referenced table, qualified.
    pub table: String,
    /// The referenced columns (empty: the primary key).
    pub columns: Vec<String>,
    /// `ON DELETE` action (`NO ACTION` when not given).
    pub on_delete: String,
    /// `ON UPDATE` action (`NO ACTION` when not given).
    pub on_update: String,
}

/// An index.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Index {
    /// The indexed table (or materialized view), qualified.
    pub table: String,
    /// `UNIQUE`.
    pub unique: bool,
    /// `USING` access method (`btree`, `gin`, …).
    pub method: String,
    /// Key columns and expressions, each normalized with its opclass, collation and order.
    pub keys: Vec<String>,
    /// `INCLUDE` columns.
    pub include: Vec<String>,
    /// `WHERE` predicate of a partial index.
    pub predicate: Option<String>,
    /// `WITH (…)` storage parameters.
    pub options: Option<String>,
    /// The partitioned index this one is attached to (`ALTER INDEX … ATTACH PARTITION`).
    pub attached_to: Option<String>,
}

impl Index {
    /// The definition as one line of SQL, from `ON`.
    pub fn render(&self) -> String {
        let mut s = format!(
            "{}ON {} USING {} ({})",
            if self.unique { "UNIQUE " } else { "" },
            self.table,
            self.method,
            self.keys.join(", ")
        );
        if !self.include.is_empty() {
            s += &format!(" INCLUDE ({})", self.include.join(", "));
        }
        if let Some(o) = &self.options {
            s += &format!(" WITH {o}");
        }
        if let Some(p) = &self.predicate {
            s += &format!(" WHERE {p}");
        }
        if let Some(a) = &self.attached_to {
            s += &format!(" ATTACHED TO {a}");
        }
        s
    }
}

/// A view or materialized view.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct View {
    /// A materialized view.
    pub materialized: bool,
    /// `WITH (…)` options.
    pub options: Option<String>,
    /// The query (and any `WITH CHECK OPTION`), normalized.
    pub definition: String,
}

/// A function or procedure argument.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Arg {
    /// `OUT`, `INOUT`, `VARIADIC` (`None` for `IN`).
    pub mode: Option<String>,
    /// The argument's name, if any.
    pub name: Option<String>,
    /// The type.
    pub data_type: String,
    /// `DEFAULT` expression.
    pub default: Option<String>,
}

impl Arg {
    /// The argument as SQL: `INOUT a integer DEFAULT 1`.
    pub fn render(&self) -> String {
        let mut s = String::new();
        if let Some(m) = &self.mode {
            s += m;
            s.push(' ');
        }
        if let Some(n) = &self.name {
            s += n;
            s.push(' ');
        }
        s += &self.data_type;
        if let Some(d) = &self.default {
            s += &format!(" DEFAULT {d}");
        }
        s
    }
}

/// A function or procedure.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Function {
    /// A procedure (`CREATE PROCEDURE`) rather than a function.
    pub procedure: bool,
    /// Arguments in order, with modes, names and defaults.
    pub args: Vec<Arg>,
    /// `RETURNS` (`integer`, `SETOF record`, `TABLE(a integer)`); `None` for procedures.
    pub returns: Option<String>,
    /// `LANGUAGE`.
    pub language: String,
    /// `IMMUTABLE`, `STABLE` or `VOLATILE`.
    pub volatility: String,
    /// Other attributes in dump order (`STRICT`, `SECURITY DEFINER`, `PARALLEL SAFE`,
    /// `COST 1`, `SET search_path TO 'public'`…), normalized.
    pub attributes: Vec<String>,
    /// The body with white space collapsed: the text inside `AS $$…$$` (or `'…'`), the
    /// `AS 'lib', 'symbol'` pair, or an SQL-standard `BEGIN ATOMIC … END` / `RETURN …` body.
    pub body: String,
}

impl Function {
    /// The signature and attributes without the body:
    /// `(a integer DEFAULT 1) RETURNS integer LANGUAGE sql IMMUTABLE STRICT`.
    pub fn render_header(&self) -> String {
        let args: Vec<String> = self.args.iter().map(Arg::render).collect();
        let mut s = format!("({})", args.join(", "));
        if let Some(r) = &self.returns {
            s += &format!(" RETURNS {r}");
        }
        s += &format!(" LANGUAGE {} {}", self.language, self.volatility);
        for a in &self.attributes {
            s.push(' ');
            s += a;
        }
        s
    }
}

/// A trigger, rule or policy: an object that belongs to a table.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct TableItem {
    /// The table it belongs to, qualified.
    pub table: String,
    /// Its definition after its name, normalized (`BEFORE INSERT ON t FOR EACH ROW EXECUTE
    /// FUNCTION f()`).
    pub definition: String,
}

/// A `COMMENT ON`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Comment {
    /// What the comment is on, lower case (`table`, `column`, `function`, …).
    pub on: String,
    /// The object's name (`public.res_partner.email`).
    pub object: String,
    /// The comment.
    pub text: String,
}

/// An `ALTER … OWNER TO`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Owner {
    /// What is owned, lower case (`table`, `sequence`, `function`, …).
    pub on: String,
    /// The object's name.
    pub object: String,
    /// The owning role.
    pub owner: String,
}

/// The privileges statements of one object.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Grant {
    /// What the privileges are on, lower case (`table`, `schema`, `default privileges`, …).
    pub on: String,
    /// The object's name.
    pub object: String,
    /// The normalized GRANT / REVOKE statements, in dump order.
    pub statements: Vec<String>,
}

/// A statement (or the statements of one TOC entry) kept as text only.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Opaque {
    /// The pg_dump object type from the TOC (`TEXT SEARCH CONFIGURATION`, `AGGREGATE`…), or
    /// `STATEMENT` for a statement outside any TOC entry.
    pub kind: String,
    /// The object's name, `schema.name` (or the statement itself without a TOC entry).
    pub object: String,
    /// The normalized statements, in dump order.
    pub statements: Vec<String>,
}

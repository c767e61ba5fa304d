//! [`SchemaBuilder`]: the [`Sink`] that turns pg_dump statements into a [`Schema`].
//!
//! Each statement is tokenized once and handed to the parser of its shape (`CREATE TABLE`,
//! `ALTER TABLE … ADD CONSTRAINT`, `COMMENT ON`, …). pg_dump output is machine-generated and
//! always takes the same shapes, so hand-written parsers over tokens are exact and fast, and they
//! accept the forms `sqlparser` rejects (`ALTER SEQUENCE … OWNED BY`, `COMMENT ON FUNCTION f(args)`,
//! `ATTACH PARTITION`, identity `SEQUENCE NAME`, `WITH NO DATA`…). A statement no parser
//! understands is kept as text under its TOC identity ([`crate::Opaque`]).

mod acl;
mod objects;
mod routine;
mod table;

use odump_pgdump::{Flow, Sink, TocEntry};

use crate::lex::{render, tokenize, Cur, Tk, Token};
use crate::model::{Opaque, Owner, Schema};

/// Builds a [`Schema`] from the statements of a dump.
///
/// Feed it as a [`Sink`] to `odump_pgdump::read_dump`, or statement by statement with
/// [`SchemaBuilder::add_statement`]; then take the model with [`SchemaBuilder::finish`].
///
/// ```
/// use odump_schema::SchemaBuilder;
/// let mut b = SchemaBuilder::new();
/// b.add_statement(None, "SET search_path = public, pg_catalog");
/// b.add_statement(None, "CREATE TABLE res_partner (id integer NOT NULL, name character varying(64))");
/// b.add_statement(None, "ALTER TABLE ONLY res_partner ADD CONSTRAINT res_partner_pkey PRIMARY KEY (id)");
/// let schema = b.finish();
/// let t = &schema.tables["public.res_partner"];
/// assert_eq!(t.columns[1].data_type, "character varying(64)");
/// assert!(t.constraints.contains_key("res_partner_pkey"));
/// ```
#[derive(Debug, Default)]
pub struct SchemaBuilder {
    schema: Schema,
    /// The current `search_path` (empty after pg_dump ≥ 10.3's `set_config('search_path', '')`).
    search_path: Vec<String>,
}

/// What a statement handler knows besides the tokens.
pub(crate) struct Cx<'e> {
    toc: Option<&'e TocEntry>,
    /// The schema unqualified names resolve to.
    schema: String,
    /// The schema unqualified non-builtin type names resolve to: `Some` only under an old-style
    /// `SET search_path`, where pg_dump leaves such names unqualified.
    type_schema: Option<String>,
}

impl SchemaBuilder {
    /// An empty builder.
    pub fn new() -> Self {
        Self::default()
    }

    /// The model built so far.
    pub fn finish(self) -> Schema {
        self.schema
    }

    /// Adds one statement (without its final `;`), with the TOC entry it belongs to, if any.
    pub fn add_statement(&mut self, toc: Option<&TocEntry>, sql: &str) {
        let toks = tokenize(sql);
        if toks.is_empty() {
            return;
        }
        if self.noise(toc, &toks) {
            self.schema.noise_statements += 1;
            return;
        }
        let first_schema = self
            .search_path
            .first()
            .filter(|s| s.as_str() != "pg_catalog")
            .cloned();
        let cx = Cx {
            toc,
            schema: first_schema
                .clone()
                .or_else(|| toc.and_then(|t| t.schema.clone()))
                .unwrap_or_else(|| "public".to_string()),
            type_schema: first_schema,
        };
        if self.dispatch(&cx, &toks).is_none() {
            self.opaque(&cx, &toks);
        }
    }

    /// Settings, data and values: statements that say nothing about the schema. Tracks the
    /// search path on the way.
    fn noise(&mut self, toc: Option<&TocEntry>, toks: &[Token<'_>]) -> bool {
        let mut c = Cur::new(toks);
        if c.kw("SET") {
            c.kw("SESSION");
            if c.kw("search_path") && (c.tok(Tk::Op) || c.kw("TO")) {
                self.search_path = c
                    .rest()
                    .iter()
                    .filter_map(|t| match t.kind {
                        Tk::Str => Some(crate::lex::string_value(t)),
                        _ => t.ident().map(|v| v.into_owned()),
                    })
                    .filter(|s| !s.is_empty())
                    .collect();
            }
            return true;
        }
        if c.kw("SELECT") {
            // `SELECT pg_catalog.set_config('search_path', '', false)`, setval, statistics,
            // large objects: function calls, never schema.
            if toks.iter().any(|t| t.is_kw("set_config")) {
                let strs: Vec<String> = toks
                    .iter()
                    .filter(|t| t.kind == Tk::Str)
                    .map(crate::lex::string_value)
                    .collect();
                if strs.first().map(String::as_str) == Some("search_path") {
                    self.search_path = strs
                        .get(1)
                        .map(|v| {
                            v.split(',')
                                .map(|s| s.trim().trim_matches('"').to_string())
                                .filter(|s| !s.is_empty())
                                .collect()
                        })
                        .unwrap_or_default();
                }
            }
            return true;
        }
        if toc.is_some_and(|t| matches!(t.kind.as_str(), "DATABASE" | "DATABASE PROPERTIES")) {
            return true;
        }
        c.peek_kws(&["RESET"])
            || c.peek_kws(&["COPY"])
            || c.peek_kws(&["INSERT"])
            || c.peek_kws(&["BEGIN"])
            || c.peek_kws(&["COMMIT"])
            || c.peek_kws(&["START", "TRANSACTION"])
            || c.peek_kws(&["REFRESH", "MATERIALIZED", "VIEW"])
            || c.peek_kws(&["CREATE", "DATABASE"])
            || c.peek_kws(&["ALTER", "DATABASE"])
            || c.peek_kws(&["COMMENT", "ON", "DATABASE"])
    }

    fn dispatch(&mut self, cx: &Cx<'_>, toks: &[Token<'_>]) -> Option<()> {
        let mut c = Cur::new(toks);
        let first = c.next()?;
        if first.is_kw("CREATE") {
            c.kws(&["OR", "REPLACE"]);
            let unlogged = c.kw("UNLOGGED");
            return match () {
                _ if c.kw("TABLE") => self.create_table(cx, &mut c, unlogged),
                _ if unlogged => None,
                _ if c.kw("SCHEMA") => self.create_schema(cx, &mut c),
                _ if c.kw("EXTENSION") => self.create_extension(&mut c),
                _ if c.kw("TYPE") => self.create_type(cx, &mut c),
                _ if c.kw("DOMAIN") => self.create_domain(cx, &mut c),
                _ if c.kw("SEQUENCE") => self.create_sequence(cx, &mut c),
                _ if c.peek_kws(&["UNIQUE", "INDEX"]) || c.peek_kws(&["INDEX"]) => {
                    self.create_index(cx, &mut c)
                }
                _ if c.kw("VIEW") => self.create_view(cx, &mut c, false),
                _ if c.kws(&["MATERIALIZED", "VIEW"]) => self.create_view(cx, &mut c, true),
                _ if c.kw("FUNCTION") => self.create_routine(cx, &mut c, false),
                _ if c.kw("PROCEDURE") => self.create_routine(cx, &mut c, true),
                _ if c.kw("TRIGGER") => self.create_trigger(cx, &mut c, false),
                _ if c.kws(&["CONSTRAINT", "TRIGGER"]) => self.create_trigger(cx, &mut c, true),
                _ if c.kw("RULE") => self.create_rule(cx, &mut c),
                _ if c.kw("POLICY") => self.create_policy(cx, &mut c),
                _ => None,
            };
        }
        if first.is_kw("ALTER") {
            if let [.., o, t, role] = toks {
                if o.is_kw("OWNER") && t.is_kw("TO") {
                    let role = role.ident()?.into_owned();
                    return self.alter_owner(cx, &toks[1..toks.len() - 3], role);
                }
            }
            return match () {
                _ if c.kw("TABLE") => self.alter_table(cx, &mut c),
                _ if c.kw("SEQUENCE") => self.alter_sequence(cx, &mut c),
                _ if c.kw("INDEX") => self.alter_index(cx, &mut c),
                _ if c.kw("DOMAIN") => self.alter_domain(cx, &mut c),
                _ if c.kws(&["DEFAULT", "PRIVILEGES"]) => self.default_privileges(&mut c),
                _ => None,
            };
        }
        if first.is_kw("COMMENT") && c.kw("ON") {
            return self.comment(cx, &mut c);
        }
        if first.is_kw("GRANT") || first.is_kw("REVOKE") {
            return self.grant(cx, toks);
        }
        None
    }

    /// Keeps a statement as text under its TOC identity. The TOC's owner of an object created
    /// so is kept too (as for parsed objects: archives carry owners only in the TOC).
    fn opaque(&mut self, cx: &Cx<'_>, toks: &[Token<'_>]) {
        let text = render(toks);
        let (kind, object) = match cx.toc {
            Some(t) => (
                t.kind.clone(),
                match &t.schema {
                    Some(s) => format!("{s}.{}", t.name),
                    None => t.name.clone(),
                },
            ),
            None => ("STATEMENT".to_string(), text.clone()),
        };
        if toks[0].is_kw("CREATE") {
            self.toc_owner(cx, &kind.to_ascii_lowercase(), &object);
        }
        self.schema
            .opaque
            .entry(format!("{kind} {object}"))
            .or_insert_with(|| Opaque {
                kind,
                object,
                statements: Vec::new(),
            })
            .statements
            .push(text);
    }

    /// `schema.name` for a name as written: qualified names keep their schema, unqualified ones
    /// take the statement's default schema.
    fn qualify(&self, cx: &Cx<'_>, parts: &[String]) -> Option<(String, String)> {
        match parts {
            [name] => Some((cx.schema.clone(), name.clone())),
            [schema, name] => Some((schema.clone(), name.clone())),
            _ => None,
        }
    }

    /// Reads a possibly qualified name and returns it as `schema.name`, with its schema.
    fn qualified_name(&self, cx: &Cx<'_>, c: &mut Cur<'_, '_>) -> Option<(String, String)> {
        let parts = c.name()?;
        let (s, n) = self.qualify(cx, &parts)?;
        Some((format!("{s}.{n}"), s))
    }

    /// Records the owner the TOC entry gives a newly created object (archives carry owners
    /// only there; plain dumps repeat them in `ALTER … OWNER TO`).
    fn toc_owner(&mut self, cx: &Cx<'_>, on: &str, object: &str) {
        if let Some(owner) = cx.toc.and_then(|t| t.owner.clone()) {
            self.set_owner(on, object, owner);
        }
    }

    fn set_owner(&mut self, on: &str, object: &str, owner: String) {
        self.schema.owners.insert(
            object_key(on, object),
            Owner {
                on: on.to_string(),
                object: object.to_string(),
                owner,
            },
        );
    }
}

impl Sink for SchemaBuilder {
    fn statement(&mut self, toc: Option<&TocEntry>, sql: &str) -> Flow {
        self.add_statement(toc, sql);
        Flow::Continue
    }
}

/// The key under which comments, owners and grants of an object are kept: the object's name
/// behind a class, so that a column and a constraint of one name, or a schema and an extension,
/// stay apart, while `ALTER TABLE v OWNER` (old dumps) and `ALTER VIEW v OWNER` meet.
pub(crate) fn object_key(on: &str, object: &str) -> String {
    let class = match on {
        "table" | "view" | "materialized view" | "sequence" | "foreign table" | "index" => {
            "relation"
        }
        "function" | "procedure" | "aggregate" | "routine" => "routine",
        "type" | "domain" => "type",
        "language" | "procedural language" => "language",
        other => other,
    };
    format!("{class} {object}")
}

/// Quotes an identifier the way pg_dump does when it must (anything but lower-case letters,
/// digits and underscores, not starting with a digit).
pub(crate) fn quote_ident(name: &str) -> String {
    let plain = !name.is_empty()
        && !name.starts_with(|c: char| c.is_ascii_digit())
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
    if plain {
        name.to_string()
    } else {
        format!("\"{}\"", name.replace('"', "\"\""))
    }
}

#[cfg(test)]
mod tests;

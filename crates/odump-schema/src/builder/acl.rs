//! Statements about existing objects: `COMMENT ON`, `ALTER … OWNER TO`, `GRANT` / `REVOKE`,
//! `ALTER DEFAULT PRIVILEGES`.

use super::objects::single_string;
use super::{object_key, Cx, SchemaBuilder};
use crate::lex::{find_kw, render, render_stripped, Cur, Token};
use crate::model::{Comment, Grant};

/// Object kinds as they follow `COMMENT ON`, `ALTER` and `GRANT … ON`, longest first.
const KINDS: &[&str] = &[
    "MATERIALIZED VIEW",
    "FOREIGN TABLE",
    "FOREIGN DATA WRAPPER",
    "FOREIGN SERVER",
    "TEXT SEARCH CONFIGURATION",
    "TEXT SEARCH DICTIONARY",
    "TEXT SEARCH PARSER",
    "TEXT SEARCH TEMPLATE",
    "OPERATOR CLASS",
    "OPERATOR FAMILY",
    "PROCEDURAL LANGUAGE",
    "EVENT TRIGGER",
    "LARGE OBJECT",
    "ACCESS METHOD",
    "TABLE",
    "COLUMN",
    "VIEW",
    "SEQUENCE",
    "INDEX",
    "SCHEMA",
    "EXTENSION",
    "FUNCTION",
    "PROCEDURE",
    "AGGREGATE",
    "ROUTINE",
    "TYPE",
    "DOMAIN",
    "CONSTRAINT",
    "TRIGGER",
    "RULE",
    "POLICY",
    "LANGUAGE",
    "COLLATION",
    "CONVERSION",
    "OPERATOR",
    "CAST",
    "SERVER",
    "PUBLICATION",
    "SUBSCRIPTION",
    "STATISTICS",
    "TABLESPACE",
    "TRANSFORM",
    "DATABASE",
    "ROLE",
];

/// Reads an object kind; returns it in lower case.
fn read_kind(c: &mut Cur<'_, '_>) -> Option<String> {
    KINDS.iter().find_map(|k| {
        let words: Vec<&str> = k.split(' ').collect();
        c.kws(&words).then(|| k.to_ascii_lowercase())
    })
}

impl SchemaBuilder {
    /// The name of the object a `COMMENT ON` / `ALTER` / `GRANT` names, per its kind:
    /// `schema.name`, `schema.table.column`, `schema.table.constraint`,
    /// `schema.function(argtypes)`, or a bare name (schemas, extensions, languages…). Returns
    /// the kind too, refined for constraints on domains.
    fn target(&self, cx: &Cx<'_>, on: String, toks: &[Token<'_>]) -> Option<(String, String)> {
        let mut c = Cur::new(toks);
        let (on, object) = match on.as_str() {
            "column" => {
                let parts = c.name()?;
                let object = self.column_ref(cx, &parts)?;
                (on, object)
            }
            "function" | "procedure" | "aggregate" | "routine" => {
                let (identity, _, _) = self.routine_signature(cx, &mut c, on == "procedure")?;
                (on, identity)
            }
            "constraint" | "trigger" | "rule" | "policy" => {
                let name = c.ident()?;
                if !c.kw("ON") {
                    return None;
                }
                let on = if c.kw("DOMAIN") {
                    "domain constraint".to_string()
                } else {
                    on
                };
                let (table, _) = self.qualified_name(cx, &mut c)?;
                (on, format!("{table}.{name}"))
            }
            "table"
            | "view"
            | "materialized view"
            | "sequence"
            | "index"
            | "foreign table"
            | "type"
            | "domain"
            | "collation"
            | "conversion"
            | "statistics"
            | "text search configuration"
            | "text search dictionary"
            | "text search parser"
            | "text search template" => {
                let (name, _) = self.qualified_name(cx, &mut c)?;
                (on, name)
            }
            "schema"
            | "extension"
            | "language"
            | "procedural language"
            | "event trigger"
            | "server"
            | "foreign server"
            | "foreign data wrapper"
            | "publication"
            | "subscription"
            | "access method"
            | "tablespace"
            | "role"
            | "database" => (on, c.ident()?),
            _ => (on, render(c.rest())),
        };
        c.at_end().then_some((on, object))
    }

    /// `COMMENT ON kind target IS 'text'`.
    pub(super) fn comment(&mut self, cx: &Cx<'_>, c: &mut Cur<'_, '_>) -> Option<()> {
        let on = read_kind(c)?;
        let rest = c.rest();
        let is = find_kw(rest, &["IS"])?;
        let (on, object) = self.target(cx, on, &rest[..is])?;
        let key = object_key(&on, &object);
        match &rest[is + 1..] {
            [null] if null.is_kw("NULL") => {
                self.schema.comments.remove(&key);
            }
            text => {
                let text = single_string(text)?;
                self.schema
                    .comments
                    .insert(key, Comment { on, object, text });
            }
        }
        Some(())
    }

    /// `ALTER kind target OWNER TO role` (the `OWNER TO role` already taken off).
    pub(super) fn alter_owner(
        &mut self,
        cx: &Cx<'_>,
        toks: &[Token<'_>],
        role: String,
    ) -> Option<()> {
        let mut c = Cur::new(toks);
        let on = read_kind(&mut c)?;
        let (on, object) = self.target(cx, on, c.rest())?;
        self.set_owner(&on, &object, role);
        Some(())
    }

    /// `GRANT privileges ON [kind] target TO roles` / `REVOKE … FROM roles`.
    pub(super) fn grant(&mut self, cx: &Cx<'_>, toks: &[Token<'_>]) -> Option<()> {
        let on_at = find_kw(&toks[1..], &["ON"])? + 1;
        let mut c = Cur::new(&toks[on_at + 1..]);
        let on = read_kind(&mut c).unwrap_or_else(|| "table".to_string());
        let rest = c.rest();
        let to = find_kw(rest, &["TO", "FROM"])?;
        let (on, object) = self.target(cx, on, &rest[..to])?;
        let statement = render_stripped(toks, &[cx.schema.as_str()]);
        self.push_grant(on, object, statement);
        Some(())
    }

    /// `ALTER DEFAULT PRIVILEGES [FOR ROLE r] [IN SCHEMA s] GRANT|REVOKE … ON TABLES …`, kept
    /// under `FOR ROLE r IN SCHEMA s ON TABLES`.
    pub(super) fn default_privileges(&mut self, c: &mut Cur<'_, '_>) -> Option<()> {
        let scope = render(c.until_kw(&["GRANT", "REVOKE"]));
        let action = c.rest();
        let on_at = find_kw(action, &["ON"])?;
        let kind = action.get(on_at + 1)?.text.to_ascii_uppercase();
        let object = format!("{scope} ON {kind}").trim().to_string();
        let statement = render(c.slice(0, c.pos));
        self.push_grant("default privileges".into(), object, statement);
        Some(())
    }

    fn push_grant(&mut self, on: String, object: String, statement: String) {
        self.schema
            .grants
            .entry(object_key(&on, &object))
            .or_insert_with(|| Grant {
                on,
                object,
                statements: Vec::new(),
            })
            .statements
            .push(statement);
    }
}

//! Schemas, extensions, types, domains, views, triggers, rules and policies.

use super::table::default_expr;
use super::{Cx, SchemaBuilder};
use crate::lex::{render, render_stripped, split_commas, string_value, Cur, Tk, Token};
use crate::model::{Domain, Extension, TableItem, TypeDef, View};
use crate::types::render_type;

impl SchemaBuilder {
    /// `CREATE SCHEMA name [AUTHORIZATION role]`.
    pub(super) fn create_schema(&mut self, cx: &Cx<'_>, c: &mut Cur<'_, '_>) -> Option<()> {
        c.kws(&["IF", "NOT", "EXISTS"]);
        let name = c.ident()?;
        if c.kw("AUTHORIZATION") {
            c.ident()?;
        }
        if !c.at_end() {
            return None;
        }
        self.toc_owner(cx, "schema", &name);
        self.schema.schemas.insert(name);
        Some(())
    }

    /// `CREATE EXTENSION [IF NOT EXISTS] name [WITH] [SCHEMA s] [VERSION v]`.
    pub(super) fn create_extension(&mut self, c: &mut Cur<'_, '_>) -> Option<()> {
        c.kws(&["IF", "NOT", "EXISTS"]);
        let name = c.ident()?;
        c.kw("WITH");
        let mut ext = Extension::default();
        while !c.at_end() {
            if c.kw("SCHEMA") {
                ext.schema = Some(c.ident()?);
            } else if c.kw("VERSION") {
                let v = c.next()?;
                ext.version = Some(match v.kind {
                    Tk::Str => string_value(v),
                    _ => v.ident()?.into_owned(),
                });
            } else if c.kw("CASCADE") {
            } else {
                return None;
            }
        }
        self.schema.extensions.insert(name, ext);
        Some(())
    }

    /// `CREATE TYPE name AS ENUM (…) | AS (…) | AS RANGE (…) | (…)`, or a shell type.
    pub(super) fn create_type(&mut self, cx: &Cx<'_>, c: &mut Cur<'_, '_>) -> Option<()> {
        let (name, schema) = self.qualified_name(cx, c)?;
        let strip = [schema.as_str(), "pg_catalog"];
        let def = if c.kws(&["AS", "ENUM"]) {
            let labels = c.group()?;
            TypeDef::Enum(
                split_commas(labels)
                    .into_iter()
                    .map(|l| match l {
                        [t] if t.kind == Tk::Str => Some(string_value(t)),
                        _ => None,
                    })
                    .collect::<Option<_>>()?,
            )
        } else if c.peek_kws(&["AS"]) && c.peek_at(1).is_some_and(|t| t.kind == Tk::LParen) {
            c.kw("AS");
            let attrs = split_commas(c.group()?)
                .into_iter()
                .map(|a| {
                    let mut ac = Cur::new(a);
                    let n = ac.ident()?;
                    let ty = ac.until_kw(&["COLLATE"]);
                    let mut t = render_type(ty, cx.type_schema.as_deref());
                    if ac.kw("COLLATE") {
                        t += &format!(" COLLATE {}", render_stripped(ac.rest(), &["pg_catalog"]));
                    }
                    Some((n, t))
                })
                .collect::<Option<_>>()?;
            TypeDef::Composite(attrs)
        } else {
            TypeDef::Other(render_stripped(c.rest(), &strip))
        };
        if !c.at_end() {
            return None;
        }
        self.schema.types.insert(name.clone(), def);
        self.toc_owner(cx, "type", &name);
        Some(())
    }

    /// `CREATE DOMAIN name [AS] type [COLLATE c] [DEFAULT e] [CONSTRAINT n] NOT NULL | CHECK (…)`.
    pub(super) fn create_domain(&mut self, cx: &Cx<'_>, c: &mut Cur<'_, '_>) -> Option<()> {
        let (name, schema) = self.qualified_name(cx, c)?;
        let strip = [schema.as_str(), "pg_catalog"];
        c.kw("AS");
        let clauses = ["COLLATE", "DEFAULT", "CONSTRAINT", "NOT", "NULL", "CHECK"];
        let mut d = Domain {
            data_type: render_type(c.until_kw(&clauses), cx.type_schema.as_deref()),
            ..Domain::default()
        };
        while !c.at_end() {
            let cname = if c.kw("CONSTRAINT") {
                Some(c.ident()?)
            } else {
                None
            };
            if c.kw("COLLATE") {
                let start = c.pos;
                c.name()?;
                d.collation = Some(render_stripped(c.slice(start, c.pos), &["pg_catalog"]));
            } else if c.kw("DEFAULT") {
                d.default = Some(render_stripped(default_expr(c), &strip));
            } else if c.kws(&["NOT", "NULL"]) {
                d.not_null = true;
            } else if c.kw("NULL") {
            } else if c.peek_kws(&["CHECK"]) {
                let start = c.pos;
                c.next();
                c.group()?;
                c.kws(&["NOT", "VALID"]);
                let n = cname.unwrap_or_else(|| format!("check{}", d.checks.len()));
                d.checks
                    .insert(n, render_stripped(c.slice(start, c.pos), &strip));
            } else {
                return None;
            }
        }
        self.schema.domains.insert(name.clone(), d);
        self.toc_owner(cx, "domain", &name);
        Some(())
    }

    /// `ALTER DOMAIN name ADD CONSTRAINT n CHECK (…) [NOT VALID]`.
    pub(super) fn alter_domain(&mut self, cx: &Cx<'_>, c: &mut Cur<'_, '_>) -> Option<()> {
        let (name, schema) = self.qualified_name(cx, c)?;
        if !c.kws(&["ADD", "CONSTRAINT"]) {
            return None;
        }
        let cname = c.ident()?;
        if !c.peek_kws(&["CHECK"]) {
            return None;
        }
        let check = render_stripped(c.rest(), &[schema.as_str(), "pg_catalog"]);
        self.schema
            .domains
            .get_mut(&name)?
            .checks
            .insert(cname, check);
        Some(())
    }

    /// `CREATE [OR REPLACE] VIEW name [WITH (…)] AS query` and
    /// `CREATE MATERIALIZED VIEW name [WITH (…)] AS query [WITH [NO] DATA]`.
    pub(super) fn create_view(
        &mut self,
        cx: &Cx<'_>,
        c: &mut Cur<'_, '_>,
        materialized: bool,
    ) -> Option<()> {
        c.kws(&["IF", "NOT", "EXISTS"]);
        let (name, schema) = self.qualified_name(cx, c)?;
        let mut options = None;
        loop {
            if c.kw("AS") {
                break;
            } else if c.kw("WITH") {
                options = Some(render(c.group()?));
            } else if c.kw("USING") || c.kw("TABLESPACE") {
                c.ident()?;
            } else if c.peek().is_some_and(|t| t.kind == Tk::LParen) {
                // A column list: pg_dump prints none; the query names the columns anyway.
                c.group()?;
            } else {
                return None;
            }
        }
        let mut query = c.rest();
        if materialized {
            // `WITH [NO] DATA` says whether the view is populated: data, not schema.
            if let [rest @ .., w, d] = query {
                if w.is_kw("WITH") && d.is_kw("DATA") {
                    query = rest;
                }
            }
            if let [rest @ .., w, n, d] = query {
                if w.is_kw("WITH") && n.is_kw("NO") && d.is_kw("DATA") {
                    query = rest;
                }
            }
        }
        let view = View {
            materialized,
            options,
            definition: render_stripped(query, &[schema.as_str(), "pg_catalog"]),
        };
        self.schema.views.insert(name.clone(), view);
        self.toc_owner(
            cx,
            if materialized {
                "materialized view"
            } else {
                "view"
            },
            &name,
        );
        Some(())
    }

    /// `CREATE [CONSTRAINT] TRIGGER name … ON table …`.
    pub(super) fn create_trigger(
        &mut self,
        cx: &Cx<'_>,
        c: &mut Cur<'_, '_>,
        constraint: bool,
    ) -> Option<()> {
        let name = c.ident()?;
        let (start, table, schema) = self.table_of_item(cx, c)?;
        let mut def = render_stripped(c.slice(start, c.pos), &[schema.as_str(), "pg_catalog"]);
        // pg_dump ≤ 10 prints `EXECUTE PROCEDURE`, later ones `EXECUTE FUNCTION`: same thing.
        def = def.replace(" EXECUTE PROCEDURE ", " EXECUTE FUNCTION ");
        if constraint {
            def.insert_str(0, "CONSTRAINT ");
        }
        self.schema.triggers.insert(
            format!("{table}.{name}"),
            TableItem {
                table,
                definition: def,
            },
        );
        Some(())
    }

    /// `CREATE [OR REPLACE] RULE name AS ON event TO table …`. The `_RETURN` rule of a view
    /// (how old dumps break view dependency loops) makes the placeholder table a view.
    pub(super) fn create_rule(&mut self, cx: &Cx<'_>, c: &mut Cur<'_, '_>) -> Option<()> {
        let name = c.ident()?;
        let (start, table, schema) = self.table_of_item(cx, c)?;
        let strip = [schema.as_str(), "pg_catalog"];
        let toks = c.slice(start, c.pos);
        if name == "_RETURN" {
            let at = toks
                .windows(2)
                .position(|w| w[0].is_kw("DO") && w[1].is_kw("INSTEAD"))?;
            self.schema.tables.remove(&table);
            self.schema.views.insert(
                table,
                View {
                    materialized: false,
                    options: None,
                    definition: render_stripped(&toks[at + 2..], &strip),
                },
            );
            return Some(());
        }
        let definition = render_stripped(toks, &strip);
        self.schema
            .rules
            .insert(format!("{table}.{name}"), TableItem { table, definition });
        Some(())
    }

    /// `CREATE POLICY name ON table …`.
    pub(super) fn create_policy(&mut self, cx: &Cx<'_>, c: &mut Cur<'_, '_>) -> Option<()> {
        let name = c.ident()?;
        let (start, table, schema) = self.table_of_item(cx, c)?;
        let definition = render_stripped(c.slice(start, c.pos), &[schema.as_str(), "pg_catalog"]);
        self.schema
            .policies
            .insert(format!("{table}.{name}"), TableItem { table, definition });
        Some(())
    }

    /// For a trigger, rule or policy, after its name: finds the table after the first `ON` (or
    /// `TO`, for rules) and consumes everything. Returns where the definition starts, the table
    /// and its schema.
    fn table_of_item(&self, cx: &Cx<'_>, c: &mut Cur<'_, '_>) -> Option<(usize, String, String)> {
        let start = c.pos;
        let rule = c.peek_kws(&["AS", "ON"]);
        if rule {
            c.kws(&["AS", "ON"]);
            c.next()?;
            if !c.kw("TO") {
                return None;
            }
        } else {
            c.until_kw(&["ON"]);
            if !c.kw("ON") {
                return None;
            }
        }
        let (table, schema) = self.qualified_name(cx, c)?;
        c.rest();
        Some((start, table, schema))
    }
}

/// Whether a token run is exactly one string literal, and its value.
pub(super) fn single_string(toks: &[Token<'_>]) -> Option<String> {
    match toks {
        [t] if matches!(t.kind, Tk::Str | Tk::Dollar) => Some(string_value(t)),
        _ => None,
    }
}

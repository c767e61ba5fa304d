//! Functions and procedures: `CREATE FUNCTION` / `CREATE PROCEDURE`, and the identity
//! `schema.name(argtypes)` that comments, owners and grants refer to.

use super::{Cx, SchemaBuilder};
use crate::lex::{find_kw, render, render_stripped, split_commas, string_value, Cur, Tk, Token};
use crate::model::{Arg, Function};
use crate::types::render_type;

/// Words that start a type of several words: an argument starting with one of them has no name
/// (as a name, pg_dump would have quoted it: they are all keywords).
const MULTIWORD_TYPES: &[&str] = &[
    "bit",
    "char",
    "character",
    "double",
    "interval",
    "national",
    "time",
    "timestamp",
    "varchar",
];

/// Keywords that start a function attribute after the argument list.
const ROUTINE_OPTIONS: &[&str] = &[
    "LANGUAGE",
    "TRANSFORM",
    "WINDOW",
    "IMMUTABLE",
    "STABLE",
    "VOLATILE",
    "NOT",
    "LEAKPROOF",
    "CALLED",
    "STRICT",
    "SECURITY",
    "EXTERNAL",
    "PARALLEL",
    "COST",
    "ROWS",
    "SUPPORT",
    "SET",
    "AS",
    "BEGIN",
    "RETURN",
    "RETURNS",
];

impl SchemaBuilder {
    /// `CREATE [OR REPLACE] FUNCTION|PROCEDURE name(args) [RETURNS t] attributes… AS body`.
    pub(super) fn create_routine(
        &mut self,
        cx: &Cx<'_>,
        c: &mut Cur<'_, '_>,
        procedure: bool,
    ) -> Option<()> {
        let (identity, schema, args) = self.routine_signature(cx, c, procedure)?;
        let strip = [schema.as_str(), "pg_catalog"];
        let mut f = Function {
            procedure,
            args,
            language: "sql".into(),
            volatility: "VOLATILE".into(),
            ..Function::default()
        };
        if c.kw("RETURNS") {
            f.returns = Some(self.return_type(cx, c.until_kw(ROUTINE_OPTIONS), &strip)?);
        }
        while !c.at_end() {
            if c.kw("LANGUAGE") {
                let l = c.next()?;
                f.language = match l.kind {
                    Tk::Str => string_value(l),
                    _ => l.ident()?.into_owned(),
                };
            } else if ["IMMUTABLE", "STABLE", "VOLATILE"]
                .iter()
                .any(|v| c.peek_kws(&[v]))
            {
                f.volatility = c.next()?.text.to_ascii_uppercase();
            } else if c.kws(&["CALLED", "ON", "NULL", "INPUT"])
                || c.kws(&["SECURITY", "INVOKER"])
                || c.kws(&["EXTERNAL", "SECURITY", "INVOKER"])
                || c.kws(&["NOT", "LEAKPROOF"])
                || c.kws(&["PARALLEL", "UNSAFE"])
            {
                // The defaults, spelled out.
            } else if c.kw("STRICT") || c.kws(&["RETURNS", "NULL", "ON", "NULL", "INPUT"]) {
                f.attributes.push("STRICT".into());
            } else if c.kw("AS") {
                let body = c.until_kw(ROUTINE_OPTIONS);
                f.body = match body {
                    [t] if matches!(t.kind, Tk::Str | Tk::Dollar) => collapse(&string_value(t)),
                    _ => render(body),
                };
            } else if c.peek_kws(&["BEGIN", "ATOMIC"]) || c.peek_kws(&["RETURN"]) {
                f.body = render_stripped(c.rest(), &strip);
            } else if ROUTINE_OPTIONS.iter().any(|k| c.peek_kws(&[k])) {
                let start = c.pos;
                c.next();
                c.until_kw(ROUTINE_OPTIONS);
                f.attributes
                    .push(render_stripped(c.slice(start, c.pos), &strip));
            } else {
                return None;
            }
        }
        self.schema.functions.insert(identity.clone(), f);
        self.toc_owner(
            cx,
            if procedure { "procedure" } else { "function" },
            &identity,
        );
        Some(())
    }

    /// Reads `name(args)` and returns the identity `schema.name(argtypes)`, the schema and the
    /// arguments. Identity types are those of the input arguments (`IN`, `INOUT`, `VARIADIC`),
    /// and of `OUT` ones too for procedures.
    pub(super) fn routine_signature(
        &self,
        cx: &Cx<'_>,
        c: &mut Cur<'_, '_>,
        procedure: bool,
    ) -> Option<(String, String, Vec<Arg>)> {
        let parts = c.name()?;
        let (schema, name) = self.qualify(cx, &parts)?;
        let strip = [schema.as_str(), "pg_catalog"];
        let args = split_commas(c.group()?)
            .into_iter()
            .map(|a| self.parse_arg(cx, a, &strip))
            .collect::<Option<Vec<_>>>()?;
        let types: Vec<&str> = args
            .iter()
            .filter(|a| procedure || a.mode.as_deref() != Some("OUT"))
            .map(|a| a.data_type.as_str())
            .collect();
        let identity = format!("{schema}.{name}({})", types.join(", "));
        Some((identity, schema, args))
    }

    /// One argument: `[mode] [name] type [DEFAULT expr | = expr]`, or `*` (aggregates).
    fn parse_arg(&self, cx: &Cx<'_>, toks: &[Token<'_>], strip: &[&str]) -> Option<Arg> {
        let mut c = Cur::new(toks);
        let mut arg = Arg::default();
        for m in ["IN", "OUT", "INOUT", "VARIADIC"] {
            if c.peek_kws(&[m]) && c.slice(c.pos, toks.len()).len() > 1 {
                c.next();
                arg.mode = (m != "IN").then(|| m.to_string());
                break;
            }
        }
        let rest = c.rest();
        let default_at = find_kw(rest, &["DEFAULT"])
            .or_else(|| rest.iter().position(|t| t.kind == Tk::Op && t.text == "="));
        let decl = &rest[..default_at.unwrap_or(rest.len())];
        if let Some(d) = default_at {
            arg.default = Some(render_stripped(&rest[d + 1..], strip));
        }
        let named = decl.len() >= 2
            && decl[0].is_ident()
            && decl[1].is_ident()
            && !(decl[0].kind == Tk::Word
                && MULTIWORD_TYPES.contains(&decl[0].text.to_ascii_lowercase().as_str()));
        let ty = if named {
            arg.name = Some(decl[0].ident()?.into_owned());
            &decl[1..]
        } else {
            decl
        };
        if ty.is_empty() {
            return None;
        }
        arg.data_type = render_type(ty, cx.type_schema.as_deref());
        Some(arg)
    }

    /// `RETURNS` type: `integer`, `SETOF record`, `TABLE(a integer, …)`.
    fn return_type(&self, cx: &Cx<'_>, toks: &[Token<'_>], strip: &[&str]) -> Option<String> {
        let mut c = Cur::new(toks);
        if c.kw("TABLE") {
            let cols = split_commas(c.group()?)
                .into_iter()
                .map(|a| self.parse_arg(cx, a, strip).map(|a| a.render()))
                .collect::<Option<Vec<_>>>()?;
            return Some(format!("TABLE({})", cols.join(", ")));
        }
        let setof = c.kw("SETOF");
        let ty = render_type(c.rest(), cx.type_schema.as_deref());
        Some(if setof { format!("SETOF {ty}") } else { ty })
    }
}

/// White space collapsed to single spaces, trimmed.
fn collapse(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

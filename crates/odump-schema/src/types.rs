//! Data type names: their normalized rendering, and whether changing one into another can lose
//! data.

use crate::lex::{Tk, Token};

/// Hazard of a type change that can truncate or round values (`varchar(64)` → `varchar(32)`,
/// `bigint` → `integer`, `numeric(12,4)` → `numeric(12,2)`).
pub const TYPE_NARROWING: &str = "type-narrowing";
/// Hazard of a type change whose conversion can fail or lose meaning (`text` → `integer`,
/// `jsonb` ↔ `text`, `timestamp` ↔ `timestamptz`, anything unknown).
pub const LOSSY_TYPE_CHANGE: &str = "lossy-type-change";

/// Names of pg_catalog types as `format_type` prints them (first word for multi-word names).
/// Old-style dumps leave these unqualified like every name of the search path; every other
/// unqualified type name there belongs to the dump's current schema.
const BUILTIN: &[&str] = &[
    "aclitem",
    "any",
    "anyarray",
    "anycompatible",
    "anycompatiblearray",
    "anycompatiblemultirange",
    "anycompatiblenonarray",
    "anycompatiblerange",
    "anyelement",
    "anyenum",
    "anymultirange",
    "anynonarray",
    "anyrange",
    "bigint",
    "bit",
    "boolean",
    "box",
    "bytea",
    "char",
    "character",
    "cid",
    "cidr",
    "circle",
    "cstring",
    "date",
    "datemultirange",
    "daterange",
    "double",
    "event_trigger",
    "fdw_handler",
    "gtsvector",
    "index_am_handler",
    "inet",
    "int2vector",
    "int4multirange",
    "int4range",
    "int8multirange",
    "int8range",
    "integer",
    "internal",
    "interval",
    "json",
    "jsonb",
    "jsonpath",
    "language_handler",
    "line",
    "lseg",
    "macaddr",
    "macaddr8",
    "money",
    "name",
    "numeric",
    "nummultirange",
    "numrange",
    "oid",
    "oidvector",
    "opaque",
    "path",
    "pg_ddl_command",
    "pg_dependencies",
    "pg_lsn",
    "pg_mcv_list",
    "pg_ndistinct",
    "pg_node_tree",
    "pg_snapshot",
    "point",
    "polygon",
    "real",
    "record",
    "refcursor",
    "regclass",
    "regcollation",
    "regconfig",
    "regdictionary",
    "regnamespace",
    "regoper",
    "regoperator",
    "regproc",
    "regprocedure",
    "regrole",
    "regtype",
    "setof",
    "smallint",
    "table_am_handler",
    "text",
    "tid",
    "time",
    "timestamp",
    "trigger",
    "tsm_handler",
    "tsmultirange",
    "tsquery",
    "tsrange",
    "tstzmultirange",
    "tstzrange",
    "tsvector",
    "txid_snapshot",
    "unknown",
    "uuid",
    "void",
    "xid",
    "xid8",
    "xml",
];

/// Renders a type's tokens the way `format_type` prints types: `character varying(64)`,
/// `numeric(10,2)`, `integer[]`, `public.mood`. A leading `pg_catalog.` is dropped; an
/// unqualified non-builtin name is qualified with `schema` (the search path's first schema of
/// an old-style dump).
pub(crate) fn render_type(toks: &[Token<'_>], schema: Option<&str>) -> String {
    let mut toks = toks;
    if toks.len() > 2 && toks[0].ident().as_deref() == Some("pg_catalog") && toks[1].kind == Tk::Dot
    {
        toks = &toks[2..];
    }
    let mut out = String::new();
    if let (Some(s), Some(first)) = (schema, toks.first()) {
        let qualified = toks.get(1).is_some_and(|t| t.kind == Tk::Dot);
        let builtin = match first.kind {
            Tk::Word => BUILTIN.contains(&first.text.to_ascii_lowercase().as_str()),
            Tk::Quoted => matches!(first.text, "\"char\"" | "\"any\""),
            _ => true,
        };
        if !qualified && !builtin && s != "pg_catalog" {
            out += &crate::builder::quote_ident(s);
            out.push('.');
        }
    }
    let mut prev: Option<Tk> = None;
    let mut depth = 0;
    for t in toks {
        let glue = matches!(prev, None | Some(Tk::LParen | Tk::LBracket | Tk::Dot))
            || matches!(
                t.kind,
                Tk::LParen | Tk::RParen | Tk::LBracket | Tk::RBracket | Tk::Dot | Tk::Comma
            )
            || (prev == Some(Tk::Comma) && depth > 0);
        if !glue {
            out.push(' ');
        }
        match t.kind {
            Tk::LParen => depth += 1,
            Tk::RParen => depth -= 1,
            _ => {}
        }
        if t.kind == Tk::Word {
            // Keywords of type names print in lower case.
            out += &t.text.to_ascii_lowercase();
        } else {
            out += t.text;
        }
        prev = Some(t.kind);
    }
    out
}

/// A type name taken apart for comparison.
struct Parsed {
    /// The name without modifiers or array brackets (`character varying`, `timestamp with
    /// time zone`).
    base: String,
    /// The modifiers (`64`, `10,2`).
    mods: Vec<i64>,
    array: bool,
    fam: Family,
}

#[derive(Clone, Copy, PartialEq)]
enum Family {
    /// Integer of this many bytes.
    Int(u8),
    Numeric,
    /// Floating point of this many bytes.
    Float(u8),
    /// Character types; `fixed` for `character(n)`.
    Text {
        fixed: bool,
    },
    Json,
    Date,
    /// Timestamps; `true` with time zone.
    Timestamp(bool),
    Other,
}

fn parse(text: &str) -> Parsed {
    let array = text.ends_with(']');
    let core = text.split('[').next().unwrap_or(text);
    let mut base = String::new();
    let mut mods = Vec::new();
    let mut rest = core;
    while !rest.is_empty() {
        if let Some(open) = rest.find('(') {
            base += &rest[..open];
            let close = rest[open..].find(')').map_or(rest.len(), |c| open + c);
            mods.extend(
                rest[open + 1..close]
                    .split(',')
                    .filter_map(|m| m.trim().parse::<i64>().ok()),
            );
            rest = rest.get(close + 1..).unwrap_or("");
        } else {
            base += rest;
            rest = "";
        }
    }
    let base = base.split_whitespace().collect::<Vec<_>>().join(" ");
    let fam = match base.as_str() {
        "smallint" => Family::Int(2),
        "integer" => Family::Int(4),
        "bigint" => Family::Int(8),
        "numeric" => Family::Numeric,
        "real" => Family::Float(4),
        "double precision" => Family::Float(8),
        "text" | "character varying" => Family::Text { fixed: false },
        "character" => Family::Text { fixed: true },
        "json" | "jsonb" => Family::Json,
        "date" => Family::Date,
        "timestamp without time zone" => Family::Timestamp(false),
        "timestamp with time zone" => Family::Timestamp(true),
        _ => Family::Other,
    };
    Parsed {
        base,
        mods,
        array,
        fam,
    }
}

/// Decimal digits an integer of `bytes` bytes may need.
fn int_digits(bytes: u8) -> i64 {
    match bytes {
        2 => 5,
        4 => 10,
        _ => 19,
    }
}

/// Whether a change of column type from `before` to `after` can lose data, and how:
/// [`TYPE_NARROWING`], [`LOSSY_TYPE_CHANGE`], or `None` for a safe widening (`integer` →
/// `bigint`, `varchar(10)` → `text`, anything → unbounded text except JSON).
///
/// ```
/// use odump_schema::type_change_hazard;
/// assert_eq!(type_change_hazard("character varying(64)", "character varying(32)"), Some("type-narrowing"));
/// assert_eq!(type_change_hazard("integer", "bigint"), None);
/// assert_eq!(type_change_hazard("character varying", "jsonb"), Some("lossy-type-change"));
/// ```
pub fn type_change_hazard(before: &str, after: &str) -> Option<&'static str> {
    if before == after {
        return None;
    }
    let (b, a) = (parse(before), parse(after));
    if b.array != a.array {
        return Some(LOSSY_TYPE_CHANGE);
    }
    let narrow = |yes: bool| yes.then_some(TYPE_NARROWING);
    use Family::*;
    match (b.fam, a.fam) {
        (Int(x), Int(y)) => narrow(y < x),
        (Int(x), Numeric) => narrow(
            a.mods
                .first()
                .is_some_and(|&p| p - a.mods.get(1).copied().unwrap_or(0) < int_digits(x)),
        ),
        (Int(x), Float(y)) => narrow(x > 4 || (x == 4 && y == 4)),
        (Numeric | Float(_), Int(_)) => Some(TYPE_NARROWING),
        (Numeric, Numeric) => match (b.mods.as_slice(), a.mods.as_slice()) {
            (_, []) => None,
            ([], _) => Some(TYPE_NARROWING),
            (bm, am) => {
                let (p1, s1) = (bm[0], bm.get(1).copied().unwrap_or(0));
                let (p2, s2) = (am[0], am.get(1).copied().unwrap_or(0));
                narrow(p2 - s2 < p1 - s1 || s2 < s1)
            }
        },
        (Numeric, Float(_)) => Some(TYPE_NARROWING),
        (Float(_), Numeric) => narrow(!a.mods.is_empty()),
        (Float(x), Float(y)) => narrow(y < x),
        (Json, Json) => None,
        (Json, Text { .. }) | (Text { .. }, Json) => Some(LOSSY_TYPE_CHANGE),
        (Text { .. }, Text { fixed }) => match (b.mods.first(), a.mods.first()) {
            (_, None) if !fixed => None,
            (Some(x), Some(y)) => narrow(y < x),
            _ => Some(TYPE_NARROWING),
        },
        (_, Text { fixed: false }) if a.mods.is_empty() => None,
        (_, Text { .. }) => Some(TYPE_NARROWING),
        (Date, Timestamp(_)) => None,
        (Timestamp(_), Date) => Some(TYPE_NARROWING),
        (Timestamp(x), Timestamp(y)) if x == y => narrow(mods_shrink(&b.mods, &a.mods)),
        (Other, Other) if b.base == a.base => narrow(mods_shrink(&b.mods, &a.mods)),
        _ => Some(LOSSY_TYPE_CHANGE),
    }
}

/// Whether a modifier list gets smaller (an absent modifier is the unbounded default).
fn mods_shrink(before: &[i64], after: &[i64]) -> bool {
    match (before, after) {
        (_, []) => false,
        ([], _) => true,
        (b, a) => b.iter().zip(a).any(|(x, y)| y < x),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lex::tokenize;

    #[test]
    fn renders_types_like_format_type() {
        let r = |s: &str, sch: Option<&str>| render_type(&tokenize(s), sch);
        assert_eq!(r("character varying ( 64 )", None), "character varying(64)");
        assert_eq!(r("numeric(10, 2)", None), "numeric(10,2)");
        assert_eq!(r("integer [ ]", None), "integer[]");
        assert_eq!(
            r("timestamp(3) WITHOUT time zone", None),
            "timestamp(3) without time zone"
        );
        assert_eq!(r("mood", Some("public")), "public.mood");
        assert_eq!(r("mood[]", Some("public")), "public.mood[]");
        assert_eq!(r("double precision", Some("public")), "double precision");
        assert_eq!(r("\"char\"", Some("public")), "\"char\"");
        assert_eq!(r("other.mood", Some("public")), "other.mood");
        assert_eq!(r("pg_catalog.text", None), "text");
    }

    #[test]
    fn classifies_type_changes() {
        let h = type_change_hazard;
        assert_eq!(h("character varying(10)", "character varying(20)"), None);
        assert_eq!(h("character varying(10)", "text"), None);
        assert_eq!(h("text", "character varying(10)"), Some(TYPE_NARROWING));
        assert_eq!(h("bigint", "integer"), Some(TYPE_NARROWING));
        assert_eq!(h("integer", "numeric"), None);
        assert_eq!(h("integer", "numeric(5,0)"), Some(TYPE_NARROWING));
        assert_eq!(h("numeric(12,4)", "numeric(12,2)"), Some(TYPE_NARROWING));
        assert_eq!(h("numeric(12,2)", "numeric(14,2)"), None);
        assert_eq!(h("double precision", "real"), Some(TYPE_NARROWING));
        assert_eq!(h("text", "integer"), Some(LOSSY_TYPE_CHANGE));
        assert_eq!(h("jsonb", "text"), Some(LOSSY_TYPE_CHANGE));
        assert_eq!(h("character varying", "jsonb"), Some(LOSSY_TYPE_CHANGE));
        assert_eq!(h("integer", "text"), None);
        assert_eq!(h("integer", "integer[]"), Some(LOSSY_TYPE_CHANGE));
        assert_eq!(
            h("timestamp without time zone", "date"),
            Some(TYPE_NARROWING)
        );
        assert_eq!(h("date", "timestamp without time zone"), None);
        assert_eq!(
            h("timestamp(6) with time zone", "timestamp(0) with time zone"),
            Some(TYPE_NARROWING)
        );
        assert_eq!(h("public.mood", "public.color"), Some(LOSSY_TYPE_CHANGE));
    }
}

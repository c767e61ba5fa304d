//! The identity pg_dump gives every object in its table of contents.

use serde::Serialize;

/// One table-of-contents entry: what pg_dump prints as
/// `-- Name: X; Type: Y; Schema: Z; Owner: W` before an object, and stores as the TOC of a custom
/// or directory archive.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, Serialize)]
pub struct TocEntry {
    /// The tag, e.g. `res_partner`, `COLUMN res_partner.email`, `TABLE res_partner` (for ACLs).
    pub name: String,
    /// The object type (`TABLE`, `TABLE DATA`, `SEQUENCE OWNED BY`, `FK CONSTRAINT`, …).
    pub kind: String,
    /// The namespace, `None` where pg_dump prints `-`.
    pub schema: Option<String>,
    /// The owner, `None` where pg_dump prints `-` or the dump was made with `--no-owner`.
    pub owner: Option<String>,
}

/// A table named by a COPY statement or a TOC entry.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub struct TableRef {
    /// The schema; `None` when the dump names the table without one and no TOC entry says it.
    pub schema: Option<String>,
    /// The table name, unquoted.
    pub name: String,
}

impl TableRef {
    /// `schema.name`, or `name` alone without a schema.
    pub fn qualified(&self) -> String {
        match &self.schema {
            Some(s) => format!("{s}.{}", self.name),
            None => self.name.clone(),
        }
    }
}

/// Parses a plain-format TOC comment line (without the leading `-- `), such as
/// `Data for Name: res_users; Type: TABLE DATA; Schema: public; Owner: odoo`.
/// Returns `None` for any other comment.
///
/// ```
/// let toc = odump_pgdump::parse_toc_comment("Name: res_users_id_seq; Type: SEQUENCE; Schema: public; Owner: -").unwrap();
/// assert_eq!(toc.kind, "SEQUENCE");
/// assert_eq!(toc.schema.as_deref(), Some("public"));
/// assert_eq!(toc.owner, None);
/// ```
pub fn parse_toc_comment(comment: &str) -> Option<TocEntry> {
    let rest = comment
        .strip_prefix("Data for Name: ")
        .or_else(|| comment.strip_prefix("Name: "))?;
    // Names may themselves contain "; " (e.g. a function's argument list is printed with ", "),
    // so the fields are found from the right, where pg_dump always prints them.
    let (rest, tablespace_or_owner) = rest.rsplit_once("; ")?;
    let (rest, owner) = if let Some(ts) = tablespace_or_owner.strip_prefix("Tablespace: ") {
        let _ = ts;
        let (rest, owner) = rest.rsplit_once("; ")?;
        (rest, owner.strip_prefix("Owner: ")?)
    } else {
        (rest, tablespace_or_owner.strip_prefix("Owner: ")?)
    };
    let (rest, schema) = rest.rsplit_once("; Schema: ")?;
    let (name, kind) = rest.rsplit_once("; Type: ")?;
    let dash_is_none = |s: &str| (s != "-").then(|| s.to_string());
    Some(TocEntry {
        name: name.to_string(),
        kind: kind.to_string(),
        schema: dash_is_none(schema),
        owner: dash_is_none(owner),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_data_and_tablespace_forms() {
        let t = parse_toc_comment(
            "Data for Name: res_users; Type: TABLE DATA; Schema: public; Owner: odoo",
        )
        .unwrap();
        assert_eq!(t.kind, "TABLE DATA");
        assert_eq!(t.owner.as_deref(), Some("odoo"));
        let t = parse_toc_comment(
            "Name: big; Type: TABLE; Schema: public; Owner: odoo; Tablespace: fast",
        )
        .unwrap();
        assert_eq!((t.name.as_str(), t.kind.as_str()), ("big", "TABLE"));
        let t =
            parse_toc_comment("Name: f(integer, text); Type: FUNCTION; Schema: public; Owner: -")
                .unwrap();
        assert_eq!(t.name, "f(integer, text)");
        assert!(parse_toc_comment("PostgreSQL database dump").is_none());
        assert!(parse_toc_comment("Dumped by pg_dump version 16.4").is_none());
    }
}

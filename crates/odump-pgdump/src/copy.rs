//! COPY blocks: the header statement and the text-format rows.

use std::borrow::Cow;

use crate::toc::TableRef;

/// The target of a COPY block: `COPY schema.table (col, …) FROM stdin;`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CopyHeader {
    /// The table the rows belong to. An unqualified name takes the schema of its TOC entry.
    pub table: TableRef,
    /// The column names in the order the row fields come (it differs between databases).
    pub columns: Vec<String>,
}

impl CopyHeader {
    /// The position of a column in the rows, if the block has it.
    pub fn column_index(&self, name: &str) -> Option<usize> {
        self.columns.iter().position(|c| c == name)
    }
}

/// Parses a `COPY … FROM stdin` statement (without or with its `;`). Returns `None` for any other
/// statement, including `COPY … TO`.
///
/// ```
/// let h = odump_pgdump::parse_copy_statement(r#"COPY public."Weird ""t""" (id, "Name") FROM stdin;"#).unwrap();
/// assert_eq!(h.table.schema.as_deref(), Some("public"));
/// assert_eq!(h.table.name, r#"Weird "t""#);
/// assert_eq!(h.columns, ["id", "Name"]);
/// ```
pub fn parse_copy_statement(sql: &str) -> Option<CopyHeader> {
    let rest = strip_keyword(sql.trim_start(), "COPY")?;
    let (first, rest) = identifier(rest)?;
    let (table, rest) = match rest.strip_prefix('.') {
        Some(after_dot) => {
            let (name, rest) = identifier(after_dot)?;
            (
                TableRef {
                    schema: Some(first),
                    name,
                },
                rest,
            )
        }
        None => (
            TableRef {
                schema: None,
                name: first,
            },
            rest,
        ),
    };
    let mut rest = rest.trim_start();
    let mut columns = Vec::new();
    if let Some(mut list) = rest.strip_prefix('(') {
        loop {
            let (column, after) = identifier(list)?;
            columns.push(column);
            let after = after.trim_start();
            if let Some(after) = after.strip_prefix(',') {
                list = after;
            } else {
                rest = after.strip_prefix(')')?;
                break;
            }
        }
    }
    let rest = strip_keyword(rest.trim_start(), "FROM")?;
    let rest = strip_keyword(rest.trim_start(), "stdin")?;
    let rest = rest.trim_start();
    (rest.is_empty() || rest.starts_with(';')).then_some(CopyHeader { table, columns })
}

fn strip_keyword<'a>(s: &'a str, keyword: &str) -> Option<&'a str> {
    let head = s.get(..keyword.len())?;
    let rest = &s[keyword.len()..];
    let boundary = rest
        .chars()
        .next()
        .is_none_or(|c| !(c.is_alphanumeric() || c == '_'));
    (head.eq_ignore_ascii_case(keyword) && boundary).then_some(rest)
}

/// One SQL identifier at the start of `s` (after white space): quoted with `""` escapes, or bare
/// (folded to lower case, as PostgreSQL does).
fn identifier(s: &str) -> Option<(String, &str)> {
    let s = s.trim_start();
    if let Some(mut rest) = s.strip_prefix('"') {
        let mut name = String::new();
        loop {
            let end = rest.find('"')?;
            name.push_str(&rest[..end]);
            rest = &rest[end + 1..];
            match rest.strip_prefix('"') {
                Some(after) => {
                    name.push('"');
                    rest = after;
                }
                None => return Some((name, rest)),
            }
        }
    }
    let end = s
        .find(|c: char| !(c.is_alphanumeric() || c == '_' || c == '$'))
        .unwrap_or(s.len());
    (end > 0).then(|| (s[..end].to_lowercase(), &s[end..]))
}

/// One COPY row in PostgreSQL's text format: fields separated by TAB, `\N` for NULL, backslash
/// escapes inside fields. Decoding happens only for the fields asked for.
#[derive(Clone, Copy, Debug)]
pub struct Row<'a> {
    raw: &'a [u8],
}

impl<'a> Row<'a> {
    /// A row from its line, without the line end.
    pub fn new(raw: &'a [u8]) -> Self {
        Row { raw }
    }

    /// The row as it stands in the dump.
    pub fn raw(&self) -> &'a [u8] {
        self.raw
    }

    /// The raw (still escaped) fields.
    pub fn raw_fields(&self) -> impl Iterator<Item = &'a [u8]> {
        self.raw.split(|&b| b == b'\t')
    }

    /// How many fields the row has.
    pub fn len(&self) -> usize {
        memchr::memchr_iter(b'\t', self.raw).count() + 1
    }

    /// Always false: a row has at least one field.
    pub fn is_empty(&self) -> bool {
        false
    }

    /// The decoded text of field `index` (as from [`CopyHeader::column_index`]): `None` when the
    /// index is `None` or past the row's end, `Some(None)` for SQL NULL. Invalid UTF-8 is replaced.
    pub fn get(&self, index: Option<usize>) -> Option<Option<Cow<'a, str>>> {
        let field = self.raw_fields().nth(index?)?;
        Some(decode_field(field).map(|bytes| match bytes {
            Cow::Borrowed(b) => String::from_utf8_lossy(b),
            Cow::Owned(v) => Cow::Owned(String::from_utf8_lossy(&v).into_owned()),
        }))
    }
}

/// Decodes one text-format COPY field: `None` for `\N`, else the bytes with the escapes
/// `\\ \b \f \n \r \t \v \ooo \xhh` resolved (any other escaped character stands for itself).
///
/// ```
/// use odump_pgdump::decode_field;
/// assert_eq!(decode_field(br"\N"), None);
/// assert_eq!(decode_field(br"a\tb\\c\101\x42").unwrap().as_ref(), b"a\tb\\cAB");
/// ```
pub fn decode_field(field: &[u8]) -> Option<Cow<'_, [u8]>> {
    if field == b"\\N" {
        return None;
    }
    let Some(first) = memchr::memchr(b'\\', field) else {
        return Some(Cow::Borrowed(field));
    };
    let mut out = Vec::with_capacity(field.len());
    out.extend_from_slice(&field[..first]);
    let mut i = first;
    while i < field.len() {
        let b = field[i];
        if b != b'\\' || i + 1 == field.len() {
            out.push(b);
            i += 1;
            continue;
        }
        let e = field[i + 1];
        i += 2;
        match e {
            b'b' => out.push(8),
            b'f' => out.push(12),
            b'n' => out.push(b'\n'),
            b'r' => out.push(b'\r'),
            b't' => out.push(b'\t'),
            b'v' => out.push(11),
            b'0'..=b'7' => {
                let mut value = u32::from(e - b'0');
                for _ in 0..2 {
                    match field.get(i) {
                        Some(&d @ b'0'..=b'7') => {
                            value = value * 8 + u32::from(d - b'0');
                            i += 1;
                        }
                        _ => break,
                    }
                }
                out.push(value as u8);
            }
            b'x' if field.get(i).is_some_and(u8::is_ascii_hexdigit) => {
                let mut value = 0u32;
                for _ in 0..2 {
                    match field.get(i).and_then(|d| (*d as char).to_digit(16)) {
                        Some(d) => {
                            value = value * 16 + d;
                            i += 1;
                        }
                        None => break,
                    }
                }
                out.push(value as u8);
            }
            other => out.push(other),
        }
    }
    Some(Cow::Owned(out))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn copy_header_forms() {
        let h = parse_copy_statement("COPY res_users (id, login) FROM stdin;").unwrap();
        assert_eq!(h.table.schema, None);
        assert_eq!(h.columns, ["id", "login"]);
        let h = parse_copy_statement("COPY public.t FROM stdin").unwrap();
        assert!(h.columns.is_empty());
        assert!(parse_copy_statement("COPY public.t TO stdout;").is_none());
        assert!(parse_copy_statement("COPYRIGHT x").is_none());
    }

    #[test]
    fn row_fields_and_nulls() {
        let row = Row::new(b"1\t\\N\tline\\nbreak\t");
        assert_eq!(row.len(), 4);
        assert_eq!(row.get(Some(0)), Some(Some(Cow::Borrowed("1"))));
        assert_eq!(row.get(Some(1)), Some(None));
        assert_eq!(row.get(Some(2)).unwrap().unwrap(), "line\nbreak");
        assert_eq!(row.get(Some(3)).unwrap().unwrap(), "");
        assert_eq!(row.get(Some(4)), None);
        assert_eq!(row.get(None), None);
    }

    #[test]
    fn escapes_at_field_end_do_not_panic() {
        assert_eq!(decode_field(b"a\\").unwrap().as_ref(), b"a\\");
        assert_eq!(decode_field(b"\\x").unwrap().as_ref(), b"x");
        assert_eq!(decode_field(b"\\777").unwrap().as_ref(), &[0xff]);
    }
}

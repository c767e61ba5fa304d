//! Just enough SQL reading for the collector: the column list of a `CREATE TABLE` and the rows of
//! an `INSERT` written by `pg_dump --inserts` / `--column-inserts`.

/// A `CREATE TABLE` statement: the table name (without schema) and, when asked, its columns.
pub(crate) struct CreateTable<'a> {
    /// The table name, unquoted.
    pub name: String,
    /// The text from the column list's `(` on.
    body: &'a str,
}

impl CreateTable<'_> {
    /// The columns with their types (lower-cased, as written: `jsonb`, `character varying`…).
    /// Table constraints are left out.
    pub fn columns(&self) -> Vec<(String, String)> {
        let Some(inner) = parenthesized(self.body) else {
            return Vec::new();
        };
        split_top_level(inner)
            .filter_map(|item| {
                let item = item.trim();
                let first = item
                    .split(|c: char| c.is_whitespace())
                    .next()
                    .unwrap_or("")
                    .to_ascii_uppercase();
                if [
                    "CONSTRAINT",
                    "PRIMARY",
                    "UNIQUE",
                    "CHECK",
                    "FOREIGN",
                    "EXCLUDE",
                    "LIKE",
                ]
                .contains(&first.as_str())
                {
                    return None;
                }
                let (name, rest) = identifier(item)?;
                Some((name, rest.trim().to_ascii_lowercase()))
            })
            .collect()
    }
}

/// Reads `CREATE [UNLOGGED] TABLE [IF NOT EXISTS] [schema.]name (…)`; `None` for anything else
/// (including `CREATE TABLE … PARTITION OF` without a column list, which still yields the name).
pub(crate) fn create_table(sql: &str) -> Option<CreateTable<'_>> {
    let rest = keyword(sql.trim_start(), "CREATE")?;
    let rest = keyword(rest, "UNLOGGED").unwrap_or(rest);
    let rest = keyword(rest, "TABLE")?;
    let rest = keyword(rest, "IF")
        .and_then(|r| keyword(r, "NOT"))
        .and_then(|r| keyword(r, "EXISTS"))
        .unwrap_or(rest);
    let (name, rest) = qualified_name(rest)?;
    Some(CreateTable { name, body: rest })
}

/// One `INSERT` statement's rows (its table is [`insert_target`]'s).
pub(crate) struct Insert {
    /// The column list, when the statement has one (`--column-inserts`).
    pub columns: Option<Vec<String>>,
    /// The rows: one value per column, `None` for `NULL`.
    pub rows: Vec<Vec<Option<String>>>,
}

/// The table an `INSERT INTO` statement writes to, cheaply (no value is read).
pub(crate) fn insert_target(sql: &str) -> Option<(String, &str)> {
    let rest = keyword(sql.trim_start(), "INSERT")?;
    let rest = keyword(rest, "INTO")?;
    qualified_name(rest)
}

/// Reads an `INSERT INTO t [(cols)] VALUES (…)[, (…)]` statement as pg_dump writes it.
/// `None` when it is not one, or uses a form pg_dump does not write (`SELECT`, `DEFAULT`).
pub(crate) fn insert(sql: &str) -> Option<Insert> {
    let (_, rest) = insert_target(sql)?;
    let mut rest = rest.trim_start();
    let columns = if rest.starts_with('(') {
        let inner = parenthesized(rest)?;
        let names = split_top_level(inner)
            .map(|c| identifier(c).map(|(name, _)| name))
            .collect::<Option<Vec<_>>>()?;
        rest = &rest[inner.len() + 2..];
        Some(names)
    } else {
        None
    };
    let mut rest = keyword(rest, "OVERRIDING")
        .and_then(|r| r.trim_start().split_once("VALUE"))
        .map_or(rest, |(_, r)| r);
    rest = keyword(rest, "VALUES")?;
    let mut rows = Vec::new();
    loop {
        let inner = parenthesized(rest.trim_start())?;
        rows.push(
            split_top_level(inner)
                .map(value)
                .collect::<Option<Vec<_>>>()?,
        );
        rest = rest.trim_start()[inner.len() + 2..].trim_start();
        match rest.strip_prefix(',') {
            Some(after) => rest = after,
            None => break,
        }
    }
    Some(Insert { columns, rows })
}

/// One SQL literal as pg_dump writes it: `NULL`, `'text'` (with `''`), `E'…'` (with backslash
/// escapes), a bare number or boolean; a trailing `::type` cast is dropped.
fn value(text: &str) -> Option<Option<String>> {
    let text = text.trim();
    let text = match text.rfind("::") {
        Some(at) if !text[at..].contains('\'') => text[..at].trim_end(),
        _ => text,
    };
    if text.eq_ignore_ascii_case("NULL") {
        return Some(None);
    }
    let (escapes, quoted) = match text.as_bytes().first()? {
        b'E' | b'e' => (true, &text[1..]),
        b'B' | b'b' | b'X' | b'x' if text.len() > 1 && text.as_bytes()[1] == b'\'' => {
            (false, &text[1..])
        }
        _ => (false, text),
    };
    let Some(body) = quoted.strip_prefix('\'') else {
        if text.starts_with(|c: char| c.is_ascii_alphanumeric() || c == '-' || c == '.') {
            return Some(Some(text.to_string()));
        }
        return None;
    };
    let body = body.strip_suffix('\'')?;
    let mut out = String::with_capacity(body.len());
    let mut chars = body.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\'' if chars.peek() == Some(&'\'') => {
                chars.next();
                out.push('\'');
            }
            '\\' if escapes => match chars.next()? {
                'n' => out.push('\n'),
                't' => out.push('\t'),
                'r' => out.push('\r'),
                'b' => out.push('\u{8}'),
                'f' => out.push('\u{c}'),
                other => out.push(other),
            },
            other => out.push(other),
        }
    }
    Some(Some(out))
}

/// Calls `f(index, byte)` for each byte outside quoted literals and quoted identifiers, until
/// `f` returns `false`. Backslashes escape only inside `E'…'` literals (pg_dump writes
/// standard-conforming strings).
fn outside_quotes(s: &str, mut f: impl FnMut(usize, u8) -> bool) {
    let bytes = s.as_bytes();
    let is_word = |b: u8| b.is_ascii_alphanumeric() || b == b'_';
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        if b == b'\'' || b == b'"' {
            let escapes = b == b'\''
                && i > 0
                && matches!(bytes[i - 1], b'E' | b'e')
                && (i < 2 || !is_word(bytes[i - 2]));
            i += 1;
            while i < bytes.len() {
                let c = bytes[i];
                // A backslash escape, or a doubled quote: two bytes of content.
                if (escapes && c == b'\\') || (c == b && bytes.get(i + 1) == Some(&b)) {
                    i += 2;
                } else if c == b {
                    break;
                } else {
                    i += 1;
                }
            }
            i += 1;
            continue;
        }
        if !f(i, b) {
            return;
        }
        i += 1;
    }
}

/// The text inside the parentheses that open `s`, up to the matching `)`, minding quotes.
fn parenthesized(s: &str) -> Option<&str> {
    let s = s.trim_start();
    if !s.starts_with('(') {
        return None;
    }
    let mut depth = 0usize;
    let mut end = None;
    outside_quotes(s, |i, b| {
        match b {
            b'(' => depth += 1,
            b')' => {
                depth -= 1;
                if depth == 0 {
                    end = Some(i);
                    return false;
                }
            }
            _ => {}
        }
        true
    });
    end.map(|i| &s[1..i])
}

/// Splits at commas outside parentheses and quotes.
fn split_top_level(s: &str) -> impl Iterator<Item = &str> {
    let mut cuts = Vec::new();
    let mut depth = 0usize;
    outside_quotes(s, |i, b| {
        match b {
            b'(' => depth += 1,
            b')' => depth = depth.saturating_sub(1),
            b',' if depth == 0 => cuts.push(i),
            _ => {}
        }
        true
    });
    cuts.push(s.len());
    let mut start = 0;
    cuts.into_iter().map(move |end| {
        let piece = &s[start..end];
        start = (end + 1).min(s.len());
        piece
    })
}

/// `s` without a leading keyword (case-insensitive, followed by a non-word character).
fn keyword<'a>(s: &'a str, word: &str) -> Option<&'a str> {
    let s = s.trim_start();
    let head = s.get(..word.len())?;
    let rest = &s[word.len()..];
    let boundary = !rest
        .chars()
        .next()
        .is_some_and(|c| c.is_alphanumeric() || c == '_');
    (head.eq_ignore_ascii_case(word) && boundary).then_some(rest)
}

/// `[schema.]name`: the name alone, and what follows.
fn qualified_name(s: &str) -> Option<(String, &str)> {
    let (first, rest) = identifier(s)?;
    match rest.strip_prefix('.') {
        Some(after) => identifier(after),
        None => Some((first, rest)),
    }
}

/// One identifier at the start of `s`: quoted with `""` escapes, or bare (folded to lower case).
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn create_table_columns() {
        let sql = "CREATE TABLE public.ir_cron (\n    id integer NOT NULL,\n    \"Cron Name\" jsonb,\n    active boolean DEFAULT true,\n    x numeric(10,2),\n    CONSTRAINT c CHECK ((id > 0))\n)";
        let t = create_table(sql).unwrap();
        assert_eq!(t.name, "ir_cron");
        let cols = t.columns();
        let names: Vec<&str> = cols.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(names, ["id", "Cron Name", "active", "x"]);
        assert_eq!(cols[1].1, "jsonb");
        assert!(cols[2].1.starts_with("boolean"));
        let t = create_table("create unlogged table if not exists Foo (a int)").unwrap();
        assert_eq!((t.name.as_str(), t.columns().len()), ("foo", 1));
        assert!(create_table("CREATE INDEX x ON t (a)").is_none());
        assert!(create_table("CREATE TABLESPACE x").is_none());
    }

    #[test]
    fn inserts_of_both_forms() {
        let i = insert("INSERT INTO public.ir_config_parameter (id, key, value) VALUES (1, 'web.base.url', 'http://it''s'), (2, 'x', NULL)").unwrap();
        assert_eq!(i.columns.as_deref().unwrap(), ["id", "key", "value"]);
        assert_eq!(i.rows.len(), 2);
        assert_eq!(i.rows[0][2].as_deref(), Some("http://it's"));
        assert_eq!(i.rows[1][2], None);
        let i = insert("INSERT INTO ir_module_module VALUES (1, 'base', '{\"en_US\": \"Base, (core)\"}', true, -1.5, E'a\\nb', 'x'::jsonb)").unwrap();
        assert!(i.columns.is_none());
        let row = &i.rows[0];
        assert_eq!(row[1].as_deref(), Some("base"));
        assert_eq!(row[2].as_deref(), Some("{\"en_US\": \"Base, (core)\"}"));
        assert_eq!(row[3].as_deref(), Some("true"));
        assert_eq!(row[4].as_deref(), Some("-1.5"));
        assert_eq!(row[5].as_deref(), Some("a\nb"));
        assert_eq!(row[6].as_deref(), Some("x"));
        let i = insert("INSERT INTO t (id) OVERRIDING SYSTEM VALUE VALUES (3)").unwrap();
        assert_eq!(i.rows[0][0].as_deref(), Some("3"));
        assert!(insert("INSERT INTO t SELECT 1").is_none());
        assert!(insert("UPDATE t SET a = 1").is_none());
        assert!(insert("INSERT INTO t VALUES ('unterminated)").is_none());
    }
}

//! Splitting SQL text into statements the way psql does: a `;` ends a statement only outside
//! quotes, quoted identifiers, dollar quotes, comments, parentheses and `BEGIN ATOMIC … END`
//! bodies of SQL functions.

/// Statements longer than this are not kept whole (their text is cut, the statement still ends
/// where it should): pg_dump DDL is far smaller, only hostile input gets there.
pub const MAX_STATEMENT: usize = 64 << 20;

#[derive(Clone, Debug, PartialEq, Eq)]
enum State {
    Normal,
    /// Inside '…'; `backslash` for E'…' strings.
    Single {
        backslash: bool,
    },
    Double,
    /// Inside $tag$…$tag$.
    Dollar(Vec<u8>),
    /// Inside /* … */, nested.
    Block(u32),
}

/// An incremental statement splitter, fed line by line (or any pieces that end at line ends).
///
/// ```
/// use odump_pgdump::StatementSplitter;
/// let mut s = StatementSplitter::new();
/// let mut out = Vec::new();
/// for line in ["CREATE FUNCTION f() RETURNS int\n", "    LANGUAGE sql\n", "    BEGIN ATOMIC\n",
///              " SELECT 1;\n", "END;\n", "SELECT 'a;b';\n"] {
///     s.push(line.as_bytes(), &mut |stmt| out.push(stmt.to_string()));
/// }
/// assert_eq!(out.len(), 2);
/// assert!(out[0].ends_with("END"));
/// assert_eq!(out[1], "SELECT 'a;b'");
/// ```
#[derive(Debug)]
pub struct StatementSplitter {
    buf: Vec<u8>,
    state: State,
    paren_depth: u32,
    begin_depth: u32,
    /// Whether the statement is `CREATE [OR REPLACE] FUNCTION|PROCEDURE`, once known.
    routine: Option<bool>,
    oversized: bool,
}

impl Default for StatementSplitter {
    fn default() -> Self {
        Self::new()
    }
}

fn is_ident(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_' || b >= 0x80
}

impl StatementSplitter {
    /// A splitter with no pending text.
    pub fn new() -> Self {
        StatementSplitter {
            buf: Vec::new(),
            state: State::Normal,
            paren_depth: 0,
            begin_depth: 0,
            routine: None,
            oversized: false,
        }
    }

    /// True when no statement is pending (only white space was fed since the last `;`).
    pub fn is_idle(&self) -> bool {
        self.state == State::Normal && self.buf.iter().all(u8::is_ascii_whitespace)
    }

    /// True when the pending statement is still inside a quote, comment or dollar quote.
    pub fn in_literal(&self) -> bool {
        self.state != State::Normal
    }

    /// Whether the statement last emitted (or pending) outgrew [`MAX_STATEMENT`] and was cut.
    pub fn oversized(&self) -> bool {
        self.oversized
    }

    /// The pending (unterminated) statement text.
    pub fn pending(&self) -> &[u8] {
        &self.buf
    }

    /// Feeds text; calls `emit` with each statement completed, trimmed, without its `;`.
    pub fn push(&mut self, text: &[u8], emit: &mut dyn FnMut(&str)) {
        let mut start = 0;
        let mut i = 0;
        while i < text.len() {
            let b = text[i];
            match &mut self.state {
                State::Normal => match b {
                    b'\'' => {
                        let prev = if i > 0 {
                            Some(text[i - 1])
                        } else {
                            self.buf.last().copied()
                        };
                        let before = if i > 1 { Some(text[i - 2]) } else { None };
                        let backslash =
                            matches!(prev, Some(b'E' | b'e')) && !before.is_some_and(is_ident);
                        self.state = State::Single { backslash };
                    }
                    b'"' => self.state = State::Double,
                    b'$' => {
                        let prev_ident = i > 0 && is_ident(text[i - 1]);
                        if !prev_ident {
                            if let Some(len) = dollar_tag_len(&text[i..]) {
                                self.state = State::Dollar(text[i..i + len].to_vec());
                                i += len;
                                continue;
                            }
                        }
                    }
                    b'-' if text.get(i + 1) == Some(&b'-') => {
                        // A comment to the end of the line.
                        let end = memchr::memchr(b'\n', &text[i..]).map_or(text.len(), |p| i + p);
                        i = end;
                        continue;
                    }
                    b'/' if text.get(i + 1) == Some(&b'*') => {
                        self.state = State::Block(1);
                        i += 2;
                        continue;
                    }
                    b'(' => self.paren_depth += 1,
                    b')' => self.paren_depth = self.paren_depth.saturating_sub(1),
                    b';' if self.paren_depth == 0 && self.begin_depth == 0 => {
                        self.append(&text[start..i]);
                        self.finish(emit);
                        start = i + 1;
                    }
                    b'b' | b'B' | b'c' | b'C' | b'e' | b'E'
                        if (i == 0 || !is_ident(text[i - 1])) && self.paren_depth == 0 =>
                    {
                        let word_end = text[i..]
                            .iter()
                            .position(|&c| !is_ident(c))
                            .map_or(text.len(), |p| i + p);
                        let word = &text[i..word_end];
                        if self.is_routine(&text[start..i]) {
                            // CASE also ends with END, so it counts once inside a body.
                            let opens = word.eq_ignore_ascii_case(b"begin")
                                || (word.eq_ignore_ascii_case(b"case") && self.begin_depth > 0);
                            if opens {
                                self.begin_depth += 1;
                            } else if word.eq_ignore_ascii_case(b"end") {
                                self.begin_depth = self.begin_depth.saturating_sub(1);
                            }
                        }
                        i = word_end;
                        continue;
                    }
                    _ => {}
                },
                State::Single { backslash } => {
                    if b == b'\\' && *backslash {
                        i += 2;
                        continue;
                    }
                    if b == b'\'' {
                        // A doubled '' stays inside the literal.
                        if text.get(i + 1) == Some(&b'\'') {
                            i += 2;
                            continue;
                        }
                        self.state = State::Normal;
                    }
                }
                State::Double => {
                    if b == b'"' {
                        self.state = State::Normal;
                    }
                }
                State::Dollar(tag) => {
                    match memchr::memmem::find(&text[i..], tag) {
                        Some(p) => {
                            i += p + tag.len();
                            self.state = State::Normal;
                        }
                        None => i = text.len(),
                    }
                    continue;
                }
                State::Block(depth) => {
                    if b == b'*' && text.get(i + 1) == Some(&b'/') {
                        *depth -= 1;
                        if *depth == 0 {
                            self.state = State::Normal;
                        }
                        i += 2;
                        continue;
                    }
                    if b == b'/' && text.get(i + 1) == Some(&b'*') {
                        *depth += 1;
                        i += 2;
                        continue;
                    }
                }
            }
            i += 1;
        }
        self.append(&text[start.min(text.len())..]);
    }

    fn append(&mut self, text: &[u8]) {
        if self.buf.is_empty() {
            // Leading white space before a statement is not kept.
            let skip = text.iter().take_while(|b| b.is_ascii_whitespace()).count();
            let text = &text[skip..];
            if text.is_empty() {
                return;
            }
            self.oversized = false;
            self.buf.extend_from_slice(text);
            return;
        }
        let room = MAX_STATEMENT.saturating_sub(self.buf.len());
        if text.len() > room {
            self.oversized = true;
        }
        self.buf.extend_from_slice(&text[..text.len().min(room)]);
    }

    /// Whether the statement (pending text plus `head`, the current piece before the word being
    /// looked at) starts with CREATE [OR REPLACE] FUNCTION|PROCEDURE.
    fn is_routine(&mut self, head: &[u8]) -> bool {
        if let Some(known) = self.routine {
            return known;
        }
        let mut words = Vec::new();
        for part in [&self.buf[..], head] {
            for w in part.split(|c| !is_ident(*c)).filter(|w| !w.is_empty()) {
                words.push(w.to_ascii_uppercase());
            }
        }
        let is = |n: usize, w: &[u8]| words.get(n).is_some_and(|x| x == w);
        let routine_at = |n: usize| is(n, b"FUNCTION") || is(n, b"PROCEDURE");
        let decided = words.len() >= 4 || (words.len() >= 2 && !is(1, b"OR"));
        let known = is(0, b"CREATE")
            && (routine_at(1) || (is(1, b"OR") && is(2, b"REPLACE") && routine_at(3)));
        if decided || known {
            self.routine = Some(known);
        }
        known
    }

    fn finish(&mut self, emit: &mut dyn FnMut(&str)) {
        let text = String::from_utf8_lossy(&self.buf);
        let trimmed = text.trim();
        if !trimmed.is_empty() {
            emit(trimmed);
        }
        self.buf.clear();
        self.paren_depth = 0;
        self.begin_depth = 0;
        self.routine = None;
    }
}

/// Length of a dollar-quote opening tag (`$$`, `$body$`) at the start of `s`, if it is one.
fn dollar_tag_len(s: &[u8]) -> Option<usize> {
    let close = memchr::memchr(b'$', &s[1..])? + 1;
    let tag = &s[1..close];
    let valid = tag.first().is_none_or(|c| !c.is_ascii_digit()) && tag.iter().all(|&c| is_ident(c));
    valid.then_some(close + 1)
}

/// Splits a whole SQL text (e.g. a custom archive's `defn`) into statements.
///
/// ```
/// let stmts = odump_pgdump::split_statements("CREATE TABLE a (x int);\nALTER TABLE a OWNER TO o;\n");
/// assert_eq!(stmts, ["CREATE TABLE a (x int)", "ALTER TABLE a OWNER TO o"]);
/// ```
pub fn split_statements(sql: &str) -> Vec<String> {
    let mut splitter = StatementSplitter::new();
    let mut out = Vec::new();
    for line in sql.split_inclusive('\n') {
        splitter.push(line.as_bytes(), &mut |s| out.push(s.to_string()));
    }
    if !splitter.is_idle() {
        let rest = String::from_utf8_lossy(splitter.pending())
            .trim()
            .to_string();
        out.push(rest);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quotes_and_dollar_quotes_hide_semicolons() {
        let sql = "SELECT 'it''s; fine', \"a;b\";\nCREATE FUNCTION f() RETURNS void AS $_$ BEGIN x := 1; END $_$;\nDO $$ select ';' $$;\nSELECT E'\\';' ;\n";
        let got = split_statements(sql);
        assert_eq!(got.len(), 4, "{got:?}");
        assert!(got[1].ends_with("$_$"));
        assert_eq!(got[3], "SELECT E'\\';'");
    }

    #[test]
    fn begin_atomic_with_case() {
        let sql = "CREATE OR REPLACE FUNCTION public.g(a integer) RETURNS integer\n    LANGUAGE sql\n    BEGIN ATOMIC\n SELECT CASE WHEN a > 0 THEN 1 ELSE 0 END;\n SELECT 2;\nEND;\nSELECT 3;\n";
        let got = split_statements(sql);
        assert_eq!(got.len(), 2, "{got:?}");
        assert_eq!(got[1], "SELECT 3");
    }

    #[test]
    fn comments_and_parameters() {
        let got = split_statements("SELECT $1; -- a; comment\n/* x; /* nested; */ */ SELECT 2;\n");
        assert_eq!(got.len(), 2, "{got:?}");
        assert!(got[1].ends_with("SELECT 2"));
    }

    #[test]
    fn deep_nesting_does_not_recurse() {
        let sql = format!("SELECT {}1{};\n", "(".repeat(100_000), ")".repeat(100_000));
        assert_eq!(split_statements(&sql).len(), 1);
    }

    #[test]
    fn begin_outside_routines_is_plain() {
        let got = split_statements("BEGIN;\nSELECT 1;\nEND;\n");
        assert_eq!(got, ["BEGIN", "SELECT 1", "END"]);
    }
}

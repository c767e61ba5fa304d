//! A small SQL tokenizer for pg_dump's DDL, a cursor over its tokens, and the normalized
//! rendering of token runs.
//!
//! pg_dump output is machine-generated and regular, so the statement parsers work on tokens
//! directly: identifiers (quoted or not), string and dollar-quoted literals, numbers, operators and
//! punctuation, each remembering whether white space preceded it. Comments count as white space.

use std::borrow::Cow;

/// What a token is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Tk {
    /// An unquoted identifier or keyword.
    Word,
    /// A `"quoted"` identifier.
    Quoted,
    /// A string literal, with its prefix (`'…'`, `E'…'`, `B'…'`, `X'…'`, `N'…'`).
    Str,
    /// A dollar-quoted literal, `$tag$…$tag$`.
    Dollar,
    /// A numeric literal.
    Number,
    /// A run of operator characters (`::`, `=`, `<>`, `||`, …), or any other character.
    Op,
    /// A positional parameter, `$1`.
    Param,
    LParen,
    RParen,
    LBracket,
    RBracket,
    Comma,
    Dot,
    Semi,
}

/// One token: its kind, its text in the statement, and whether white space preceded it.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Token<'a> {
    pub kind: Tk,
    pub text: &'a str,
    pub space: bool,
}

impl<'a> Token<'a> {
    /// Whether this is the unquoted keyword `kw` (case-insensitive).
    pub fn is_kw(&self, kw: &str) -> bool {
        self.kind == Tk::Word && self.text.eq_ignore_ascii_case(kw)
    }

    /// Whether this token names something: an unquoted or quoted identifier.
    pub fn is_ident(&self) -> bool {
        matches!(self.kind, Tk::Word | Tk::Quoted)
    }

    /// The identifier's value: unquoted words fold to lower case, quoted ones lose their quotes.
    pub fn ident(&self) -> Option<Cow<'a, str>> {
        match self.kind {
            Tk::Word if self.text.bytes().any(|b| b.is_ascii_uppercase()) => {
                Some(Cow::Owned(self.text.to_ascii_lowercase()))
            }
            Tk::Word => Some(Cow::Borrowed(self.text)),
            Tk::Quoted => {
                let inner = &self.text[1..self.text.len().saturating_sub(1).max(1)];
                Some(if inner.contains("\"\"") {
                    Cow::Owned(inner.replace("\"\"", "\""))
                } else {
                    Cow::Borrowed(inner)
                })
            }
            _ => None,
        }
    }
}

fn is_ident_start(b: u8) -> bool {
    b.is_ascii_alphabetic() || b == b'_' || b >= 0x80
}

fn is_ident_char(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_' || b == b'$' || b >= 0x80
}

fn is_op_char(b: u8) -> bool {
    b"+-*/<>=~!@#%^&|`?:".contains(&b)
}

/// Splits one statement into tokens; a final `;` is dropped. Never fails: an unterminated
/// literal runs to the end of the text.
pub(crate) fn tokenize(sql: &str) -> Vec<Token<'_>> {
    let b = sql.as_bytes();
    let mut out = Vec::with_capacity(sql.len() / 5 + 4);
    let mut i = 0;
    let mut space = false;
    while i < b.len() {
        let c = b[i];
        if c.is_ascii_whitespace() {
            space = true;
            i += 1;
            continue;
        }
        if c == b'-' && b.get(i + 1) == Some(&b'-') {
            i = memchr_nl(b, i);
            space = true;
            continue;
        }
        if c == b'/' && b.get(i + 1) == Some(&b'*') {
            i = skip_block_comment(b, i);
            space = true;
            continue;
        }
        let start = i;
        let kind = match c {
            b'(' => {
                i += 1;
                Tk::LParen
            }
            b')' => {
                i += 1;
                Tk::RParen
            }
            b'[' => {
                i += 1;
                Tk::LBracket
            }
            b']' => {
                i += 1;
                Tk::RBracket
            }
            b',' => {
                i += 1;
                Tk::Comma
            }
            b';' => {
                i += 1;
                Tk::Semi
            }
            b'.' if !b.get(i + 1).is_some_and(u8::is_ascii_digit) => {
                i += 1;
                Tk::Dot
            }
            b'\'' => {
                i = skip_string(b, i + 1, false);
                Tk::Str
            }
            b'"' => {
                i = skip_quoted_ident(b, i + 1);
                Tk::Quoted
            }
            b'$' => {
                if let Some(end) = dollar_tag_end(b, i) {
                    let tag = &b[i..end];
                    i = find_sub(b, end, tag).map_or(b.len(), |p| p + tag.len());
                    Tk::Dollar
                } else {
                    i += 1;
                    while i < b.len() && b[i].is_ascii_digit() {
                        i += 1;
                    }
                    Tk::Param
                }
            }
            b'0'..=b'9' | b'.' => {
                i = skip_number(b, i);
                Tk::Number
            }
            _ if is_ident_start(c) => {
                // String prefixes: E'…' (backslash escapes), B'…', X'…', N'…'.
                if b.get(i + 1) == Some(&b'\'') && b"eEbBxXnN".contains(&c) {
                    i = skip_string(b, i + 2, c == b'e' || c == b'E');
                    Tk::Str
                } else {
                    i += 1;
                    while i < b.len() && is_ident_char(b[i]) {
                        i += 1;
                    }
                    Tk::Word
                }
            }
            _ if is_op_char(c) => {
                i += 1;
                while i < b.len()
                    && is_op_char(b[i])
                    && !(b[i] == b'-' && b.get(i + 1) == Some(&b'-'))
                    && !(b[i] == b'/' && b.get(i + 1) == Some(&b'*'))
                {
                    i += 1;
                }
                Tk::Op
            }
            _ => {
                // Any other character (a backslash, a brace): one token of its own. Characters
                // at or above 0x80 start identifiers, so `i + 1` stays on a char boundary.
                i += 1;
                Tk::Op
            }
        };
        out.push(Token {
            kind,
            text: &sql[start..i],
            space,
        });
        space = false;
    }
    while out.last().is_some_and(|t| t.kind == Tk::Semi) {
        out.pop();
    }
    out
}

fn memchr_nl(b: &[u8], from: usize) -> usize {
    b[from..]
        .iter()
        .position(|&c| c == b'\n')
        .map_or(b.len(), |p| from + p + 1)
}

fn skip_block_comment(b: &[u8], mut i: usize) -> usize {
    let mut depth = 0u32;
    while i < b.len() {
        if b[i] == b'/' && b.get(i + 1) == Some(&b'*') {
            depth += 1;
            i += 2;
        } else if b[i] == b'*' && b.get(i + 1) == Some(&b'/') {
            depth -= 1;
            i += 2;
            if depth == 0 {
                return i;
            }
        } else {
            i += 1;
        }
    }
    b.len()
}

/// From just after the opening quote, the index just after the closing one.
fn skip_string(b: &[u8], mut i: usize, backslash: bool) -> usize {
    while i < b.len() {
        match b[i] {
            b'\\' if backslash => i += 2,
            b'\'' if b.get(i + 1) == Some(&b'\'') => i += 2,
            b'\'' => return i + 1,
            _ => i += 1,
        }
    }
    b.len()
}

fn skip_quoted_ident(b: &[u8], mut i: usize) -> usize {
    while i < b.len() {
        if b[i] == b'"' {
            if b.get(i + 1) == Some(&b'"') {
                i += 2;
                continue;
            }
            return i + 1;
        }
        i += 1;
    }
    b.len()
}

/// If a dollar-quote tag (`$$`, `$tag$`) starts at `i`, the index just after it.
fn dollar_tag_end(b: &[u8], i: usize) -> Option<usize> {
    let mut j = i + 1;
    if b.get(j).is_some_and(|&c| is_ident_start(c)) {
        j += 1;
        while j < b.len() && (b[j].is_ascii_alphanumeric() || b[j] == b'_' || b[j] >= 0x80) {
            j += 1;
        }
    }
    (b.get(j) == Some(&b'$')).then_some(j + 1)
}

fn find_sub(hay: &[u8], from: usize, needle: &[u8]) -> Option<usize> {
    hay.get(from..)?
        .windows(needle.len())
        .position(|w| w == needle)
        .map(|p| from + p)
}

fn skip_number(b: &[u8], mut i: usize) -> usize {
    while i < b.len() && (b[i].is_ascii_digit() || b[i] == b'.' || b[i] == b'_') {
        i += 1;
    }
    if i < b.len() && (b[i] == b'e' || b[i] == b'E') {
        let mut j = i + 1;
        if j < b.len() && (b[j] == b'+' || b[j] == b'-') {
            j += 1;
        }
        if j < b.len() && b[j].is_ascii_digit() {
            i = j;
            while i < b.len() && b[i].is_ascii_digit() {
                i += 1;
            }
        }
    }
    i
}

/// The value of a string literal token: quotes removed, `''` undoubled, and for `E'…'` the
/// common backslash escapes decoded. Other tokens give their text.
pub(crate) fn string_value(tok: &Token<'_>) -> String {
    let t = tok.text;
    if tok.kind == Tk::Dollar {
        let tag_end = t[1..].find('$').map_or(t.len(), |p| p + 2);
        let close = t.len().saturating_sub(tag_end);
        return t.get(tag_end..close.max(tag_end)).unwrap_or("").to_string();
    }
    if tok.kind != Tk::Str {
        return t.to_string();
    }
    let escaped = t.starts_with(['e', 'E']);
    let start = t.find('\'').map_or(0, |p| p + 1);
    let inner = &t[start..t.len().saturating_sub(1).max(start)];
    if !escaped {
        return inner.replace("''", "'");
    }
    let mut out = String::with_capacity(inner.len());
    let mut chars = inner.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => match chars.next() {
                Some('n') => out.push('\n'),
                Some('t') => out.push('\t'),
                Some('r') => out.push('\r'),
                Some('b') => out.push('\u{8}'),
                Some('f') => out.push('\u{c}'),
                Some(other) => out.push(other),
                None => {}
            },
            '\'' => {
                // A doubled quote.
                chars.next();
                out.push('\'');
            }
            _ => out.push(c),
        }
    }
    out
}

/// Renders tokens as one line: a single space wherever the source had white space, except just
/// inside brackets and before commas. The same tokens always render the same way, so two dumps
/// that differ only in layout render equal.
pub(crate) fn render(toks: &[Token<'_>]) -> String {
    render_stripped(toks, &[])
}

/// Like [`render`], but drops the qualification `schema.` for each schema in `strip` (and the
/// same prefix inside a `'schema.name'::regclass` literal). Modern pg_dump qualifies every name;
/// pg_dump ≤ 10.2 left names of the object's own schema unqualified: stripping the object's own
/// schema makes both render alike.
pub(crate) fn render_stripped(toks: &[Token<'_>], strip: &[&str]) -> String {
    let mut out = String::with_capacity(toks.iter().map(|t| t.text.len() + 1).sum());
    let mut pending_space = false;
    let mut prev: Option<Tk> = None;
    let mut i = 0;
    while i < toks.len() {
        let t = toks[i];
        let space = pending_space || t.space;
        pending_space = false;
        if !strip.is_empty()
            && t.is_ident()
            && prev != Some(Tk::Dot)
            && toks.get(i + 1).is_some_and(|d| d.kind == Tk::Dot)
            && toks.get(i + 2).is_some_and(|n| n.is_ident())
            && t.ident().is_some_and(|v| strip.contains(&v.as_ref()))
        {
            pending_space = space;
            i += 2;
            continue;
        }
        if space
            && !out.is_empty()
            && !matches!(prev, Some(Tk::LParen | Tk::LBracket))
            && !matches!(t.kind, Tk::RParen | Tk::RBracket | Tk::Comma)
        {
            out.push(' ');
        }
        let regclass = t.kind == Tk::Str
            && toks.get(i + 1).is_some_and(|c| c.text == "::")
            && toks.get(i + 2).is_some_and(|r| r.is_kw("regclass"));
        match regclass
            .then(|| strip_literal_schema(t.text, strip))
            .flatten()
        {
            Some(s) => out.push_str(&s),
            None => out.push_str(t.text),
        }
        prev = Some(t.kind);
        i += 1;
    }
    out
}

/// `'public.x'` → `'x'` when `public` is in `strip`.
fn strip_literal_schema(lit: &str, strip: &[&str]) -> Option<String> {
    let inner = lit.strip_prefix('\'')?;
    strip.iter().find_map(|s| {
        inner
            .strip_prefix(s)
            .and_then(|r| r.strip_prefix('.'))
            .map(|r| format!("'{r}"))
    })
}

/// Splits a token run at the commas outside brackets.
pub(crate) fn split_commas<'t, 'a>(toks: &'t [Token<'a>]) -> Vec<&'t [Token<'a>]> {
    let mut out = Vec::new();
    let mut depth = 0i32;
    let mut start = 0;
    for (i, t) in toks.iter().enumerate() {
        match t.kind {
            Tk::LParen | Tk::LBracket => depth += 1,
            Tk::RParen | Tk::RBracket => depth -= 1,
            Tk::Comma if depth == 0 => {
                out.push(&toks[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    if start < toks.len() || !out.is_empty() {
        out.push(&toks[start..]);
    }
    out
}

/// The index of the first keyword of `kws` outside brackets (a word after a `.` is a name).
pub(crate) fn find_kw(toks: &[Token<'_>], kws: &[&str]) -> Option<usize> {
    let mut depth = 0i32;
    for (i, t) in toks.iter().enumerate() {
        match t.kind {
            Tk::LParen | Tk::LBracket => depth += 1,
            Tk::RParen | Tk::RBracket => depth -= 1,
            Tk::Word
                if depth == 0
                    && kws.iter().any(|k| t.is_kw(k))
                    && (i == 0 || toks[i - 1].kind != Tk::Dot) =>
            {
                return Some(i)
            }
            _ => {}
        }
    }
    None
}

/// A cursor over a statement's tokens.
pub(crate) struct Cur<'t, 'a> {
    toks: &'t [Token<'a>],
    pub pos: usize,
}

impl<'t, 'a> Cur<'t, 'a> {
    pub fn new(toks: &'t [Token<'a>]) -> Self {
        Cur { toks, pos: 0 }
    }

    pub fn peek(&self) -> Option<&'t Token<'a>> {
        self.toks.get(self.pos)
    }

    /// The token `n` places after the next one.
    pub fn peek_at(&self, n: usize) -> Option<&'t Token<'a>> {
        self.toks.get(self.pos + n)
    }

    pub fn at_end(&self) -> bool {
        self.pos >= self.toks.len()
    }

    /// Whether the next tokens are the keywords `kws`.
    pub fn peek_kws(&self, kws: &[&str]) -> bool {
        kws.iter()
            .enumerate()
            .all(|(k, kw)| self.toks.get(self.pos + k).is_some_and(|t| t.is_kw(kw)))
    }

    /// Consumes the keywords `kws` if they come next.
    pub fn kws(&mut self, kws: &[&str]) -> bool {
        let hit = self.peek_kws(kws);
        if hit {
            self.pos += kws.len();
        }
        hit
    }

    /// Consumes the keyword `kw` if it comes next.
    pub fn kw(&mut self, kw: &str) -> bool {
        self.kws(&[kw])
    }

    /// Consumes a token of kind `kind` if it comes next.
    pub fn tok(&mut self, kind: Tk) -> bool {
        let hit = self.peek().is_some_and(|t| t.kind == kind);
        if hit {
            self.pos += 1;
        }
        hit
    }

    /// Consumes the next token whatever it is.
    pub fn next(&mut self) -> Option<&'t Token<'a>> {
        let t = self.toks.get(self.pos);
        if t.is_some() {
            self.pos += 1;
        }
        t
    }

    /// Consumes an identifier and returns its value.
    pub fn ident(&mut self) -> Option<String> {
        let t = self.peek().filter(|t| t.is_ident())?;
        self.pos += 1;
        t.ident().map(Cow::into_owned)
    }

    /// Consumes a possibly qualified name (`a`, `a.b`, `a.b.c`) and returns its parts.
    pub fn name(&mut self) -> Option<Vec<String>> {
        let mut parts = vec![self.ident()?];
        while self.peek().is_some_and(|t| t.kind == Tk::Dot)
            && self.toks.get(self.pos + 1).is_some_and(|t| t.is_ident())
        {
            self.pos += 1;
            parts.push(self.ident()?);
        }
        Some(parts)
    }

    /// If a `(` comes next, consumes the bracketed group and returns the tokens inside it.
    pub fn group(&mut self) -> Option<&'t [Token<'a>]> {
        if self.peek()?.kind != Tk::LParen {
            return None;
        }
        let mut depth = 0i32;
        for (k, t) in self.toks[self.pos..].iter().enumerate() {
            match t.kind {
                Tk::LParen | Tk::LBracket => depth += 1,
                Tk::RParen | Tk::RBracket => {
                    depth -= 1;
                    if depth == 0 {
                        let inner = &self.toks[self.pos + 1..self.pos + k];
                        self.pos += k + 1;
                        return Some(inner);
                    }
                }
                _ => {}
            }
        }
        None
    }

    /// Consumes tokens up to (not including) the first of `kws` outside brackets, or to the end.
    pub fn until_kw(&mut self, kws: &[&str]) -> &'t [Token<'a>] {
        let rest = &self.toks[self.pos..];
        let n = find_kw(rest, kws).unwrap_or(rest.len());
        self.pos += n;
        &rest[..n]
    }

    /// Whether the token before the cursor is the keyword `kw`.
    pub fn prev_is_kw(&self, kw: &str) -> bool {
        self.pos > 0 && self.toks.get(self.pos - 1).is_some_and(|t| t.is_kw(kw))
    }

    /// The tokens between two cursor positions.
    pub fn slice(&self, from: usize, to: usize) -> &'t [Token<'a>] {
        &self.toks[from..to]
    }

    /// Consumes and returns every remaining token.
    pub fn rest(&mut self) -> &'t [Token<'a>] {
        let rest = &self.toks[self.pos.min(self.toks.len())..];
        self.pos = self.toks.len();
        rest
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(sql: &str) -> Vec<(Tk, &str)> {
        tokenize(sql)
            .into_iter()
            .map(|t| (t.kind, t.text))
            .collect()
    }

    #[test]
    fn tokenizes_literals_and_operators() {
        let k =
            kinds("SELECT E'a\\'b', 'it''s', $f$x;y$f$, $1, \"Q\"\"x\", 1.5e3::numeric -- c\n;");
        assert_eq!(
            k,
            vec![
                (Tk::Word, "SELECT"),
                (Tk::Str, "E'a\\'b'"),
                (Tk::Comma, ","),
                (Tk::Str, "'it''s'"),
                (Tk::Comma, ","),
                (Tk::Dollar, "$f$x;y$f$"),
                (Tk::Comma, ","),
                (Tk::Param, "$1"),
                (Tk::Comma, ","),
                (Tk::Quoted, "\"Q\"\"x\""),
                (Tk::Comma, ","),
                (Tk::Number, "1.5e3"),
                (Tk::Op, "::"),
                (Tk::Word, "numeric"),
            ]
        );
        let t = tokenize("\"Q\"\"x\" E'a\\nb' 'it''s' $$ x $$");
        assert_eq!(t[0].ident().unwrap(), "Q\"x");
        assert_eq!(string_value(&t[1]), "a\nb");
        assert_eq!(string_value(&t[2]), "it's");
        assert_eq!(string_value(&t[3]), " x ");
    }

    #[test]
    fn renders_with_collapsed_space_and_strips_schemas() {
        let t = tokenize("CHECK (( a  >\n 0 ) AND public.f(b) ) ,  x");
        assert_eq!(render(&t), "CHECK ((a > 0) AND public.f(b)), x");
        let t = tokenize("nextval('public.s'::regclass) + public.t.c + x.public.y");
        assert_eq!(
            render_stripped(&t, &["public"]),
            "nextval('s'::regclass) + t.c + x.public.y"
        );
    }

    #[test]
    fn cursor_reads_names_and_groups() {
        let t = tokenize("ONLY public.\"T\" (a, (b)) rest");
        let mut c = Cur::new(&t);
        assert!(c.kw("only"));
        assert_eq!(c.name().unwrap(), vec!["public", "T"]);
        let g = c.group().unwrap();
        assert_eq!(split_commas(g).len(), 2);
        assert!(c.kw("REST"));
        assert!(c.at_end());
    }
}

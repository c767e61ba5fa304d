//! Scanning the rows of one COPY block: counted always, decoded only when a sink wants them.
//! The block ends at a `\.` line (plain dumps) or at the end of its data (archives).

use crate::copy::{CopyHeader, Row};
use crate::summary::DumpSummary;
use crate::{Flow, Sink};

/// Rows longer than this are counted but not handed to a sink (hostile input, or a huge binary
/// attachment stored in the database): see [`CopyBlock::oversized_rows`].
pub(crate) const MAX_ROW: usize = 64 << 20;

const TERMINATORS: [&[u8]; 2] = [b"\\.\n", b"\\.\r\n"];

/// What one call of [`CopyBlock::feed`] came to.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Fed {
    /// All the data was taken; the block goes on.
    NeedMore,
    /// The `\.` line ended the block after `consumed` bytes of the data.
    Ended { consumed: usize },
    /// A sink asked to stop.
    Stop,
}

/// The state of one COPY block being read.
pub(crate) struct CopyBlock {
    pub header: CopyHeader,
    pub wanted: bool,
    /// Plain dumps end a block with `\.`; archive data blocks just end.
    terminated: bool,
    pub rows: u64,
    pub bytes: u64,
    /// Rows too long to hand to the sink.
    pub oversized_rows: u64,
    /// Decoded rows whose field count differs from the COPY column list, and the first one's
    /// number in the block, field count and byte offset in the block's data.
    bad_rows: u64,
    first_bad_row: u64,
    first_bad_fields: usize,
    first_bad_at: u64,
    /// Where the block's data starts in the SQL (plain dumps), for offsets in messages.
    pub start: Option<u64>,
    /// The data ended early (see [`CopyBlock::finish_cut`]).
    cut: bool,
    /// Tabs in the rows' bytes. COPY's text format escapes tabs in values, so every row of a
    /// block with N columns has N-1 of them: the total checks rows that are only counted.
    separators: u64,
    /// A partial line carried to the next piece of data.
    carry: Vec<u8>,
    /// The carried line outgrew [`MAX_ROW`]; the rest of it is only counted.
    carry_dropped: bool,
    /// In skip mode: the data so far ended inside a row, so the next piece starts mid-line.
    mid_line: bool,
}

impl CopyBlock {
    pub(crate) fn new(header: CopyHeader, wanted: bool, terminated: bool) -> Self {
        CopyBlock {
            header,
            wanted,
            terminated,
            rows: 0,
            bytes: 0,
            oversized_rows: 0,
            bad_rows: 0,
            first_bad_row: 0,
            first_bad_fields: 0,
            first_bad_at: 0,
            start: None,
            cut: false,
            separators: 0,
            carry: Vec::new(),
            carry_dropped: false,
            mid_line: false,
        }
    }

    fn is_terminator(&self, line: &[u8]) -> bool {
        self.terminated && TERMINATORS.contains(&line)
    }

    /// One whole line (with its `\n`, except a last line in archives).
    fn line(&mut self, line: &[u8], dropped: bool, sink: &mut dyn Sink) -> Option<Fed> {
        if !dropped && self.is_terminator(line) {
            return Some(Fed::Ended { consumed: 0 });
        }
        self.rows += 1;
        let at = self.bytes;
        self.account(line);
        if self.wanted {
            if dropped {
                self.oversized_rows += 1;
                return None;
            }
            let text = line.strip_suffix(b"\n").unwrap_or(line);
            let text = text.strip_suffix(b"\r").unwrap_or(text);
            let row = Row::new(text);
            let expected = self.header.columns.len();
            if expected > 0 && row.len() != expected {
                // A restore would fail on this row: it is reported, not handed to the sink.
                if self.bad_rows == 0 {
                    self.first_bad_row = self.rows;
                    self.first_bad_fields = row.len();
                    self.first_bad_at = at;
                }
                self.bad_rows += 1;
                return None;
            }
            if sink.row(&self.header, &row) == Flow::Stop {
                return Some(Fed::Stop);
            }
        }
        None
    }

    /// Counts row bytes that are not decoded (or not yet).
    fn account(&mut self, bytes: &[u8]) {
        self.bytes += bytes.len() as u64;
        self.separators += memchr::memchr_iter(b'\t', bytes).count() as u64;
    }

    fn carry_more(&mut self, data: &[u8]) {
        if self.carry_dropped {
            self.account(data);
        } else if self.carry.len() + data.len() > MAX_ROW {
            let carried = std::mem::take(&mut self.carry);
            self.account(&carried);
            self.account(data);
            self.carry_dropped = true;
        } else {
            self.carry.extend_from_slice(data);
        }
    }

    /// Takes the carried line, completed by `rest`.
    fn finish_carry(&mut self, rest: &[u8], sink: &mut dyn Sink) -> Option<Fed> {
        self.carry_more(rest);
        let line = std::mem::take(&mut self.carry);
        let dropped = std::mem::replace(&mut self.carry_dropped, false);
        if dropped {
            // Counted already as bytes; count the row.
            self.rows += 1;
            if self.wanted {
                self.oversized_rows += 1;
            }
            return None;
        }
        let fed = self.line(&line, false, sink);
        self.carry = line;
        self.carry.clear();
        fed
    }

    /// Feeds the next piece of the block's data.
    pub(crate) fn feed(&mut self, data: &[u8], sink: &mut dyn Sink) -> Fed {
        let mut pos = 0;
        if !self.carry.is_empty() || self.carry_dropped || self.mid_line {
            let Some(nl) = memchr::memchr(b'\n', data) else {
                if self.mid_line {
                    self.account(data);
                } else {
                    self.carry_more(data);
                }
                return Fed::NeedMore;
            };
            if self.mid_line {
                self.mid_line = false;
                self.account(&data[..=nl]);
                self.rows += 1;
            } else if let Some(fed) = self.finish_carry(&data[..=nl], sink) {
                return self.consumed(fed, nl + 1);
            }
            pos = nl + 1;
        }
        if self.wanted {
            while let Some(nl) = memchr::memchr(b'\n', &data[pos..]) {
                let end = pos + nl + 1;
                if let Some(fed) = self.line(&data[pos..end], false, sink) {
                    return self.consumed(fed, end);
                }
                pos = end;
            }
            self.carry_more(&data[pos..]);
            return Fed::NeedMore;
        }
        self.skip(data, pos)
    }

    fn consumed(&self, fed: Fed, end: usize) -> Fed {
        match fed {
            Fed::Ended { .. } => Fed::Ended { consumed: end },
            other => other,
        }
    }

    /// Skip mode: count rows without looking at them, find the terminator with a substring search.
    fn skip(&mut self, data: &[u8], pos: usize) -> Fed {
        let region = &data[pos..];
        if self.terminated {
            // The terminator line starts at `pos` or right after a newline.
            let end = if TERMINATORS.iter().any(|t| region.starts_with(t)) {
                Some(0)
            } else {
                let finder = memchr::memmem::Finder::new(b"\n\\.");
                let mut found = None;
                for at in finder.find_iter(region) {
                    let line = &region[at + 1..];
                    if TERMINATORS.iter().any(|t| line.starts_with(t)) {
                        found = Some(at + 1);
                        break;
                    }
                    if line.len() < 4 {
                        break; // a possible terminator cut by the end of the data
                    }
                }
                found
            };
            if let Some(end) = end {
                let rows = &region[..end];
                self.rows += memchr::memchr_iter(b'\n', rows).count() as u64;
                self.account(rows);
                let term_len = if region[end..].starts_with(TERMINATORS[0]) {
                    3
                } else {
                    4
                };
                return Fed::Ended {
                    consumed: pos + end + term_len,
                };
            }
        }
        let newlines = memchr::memchr_iter(b'\n', region).count() as u64;
        self.rows += newlines;
        let tail_start = memchr::memrchr(b'\n', region).map_or(0, |p| p + 1);
        let tail = &region[tail_start..];
        self.account(&region[..tail_start]);
        if tail.is_empty() {
            return Fed::NeedMore;
        }
        let maybe_terminator =
            self.terminated && tail.len() < 4 && TERMINATORS.iter().any(|t| t.starts_with(tail));
        if maybe_terminator || !self.terminated && tail.len() < 4096 {
            self.carry.extend_from_slice(tail);
        } else {
            self.account(tail);
            self.mid_line = true;
        }
        Fed::NeedMore
    }

    /// Records what was wrong with the block's rows in the summary.
    pub(crate) fn report(&self, summary: &mut DumpSummary) {
        let table = self.header.table.qualified();
        if self.oversized_rows > 0 {
            summary.notes.push(format!(
                "{} rows of {table} are longer than {} MiB and were counted but not decoded",
                self.oversized_rows,
                MAX_ROW >> 20
            ));
        }
        if self.bad_rows > 0 {
            // Plain dumps: the offset in the SQL; archives: in the table's COPY text.
            let (offset, at) = match self.start {
                Some(start) => (Some(start + self.first_bad_at), String::new()),
                None => (
                    None,
                    format!(", at byte {} of its COPY text", self.first_bad_at),
                ),
            };
            let rows = match self.bad_rows {
                1 => format!("1 row of {table} does not"),
                n => format!("{n} rows of {table} do not"),
            };
            summary.problem_in(
                &self.header.table,
                "bad-row",
                format!(
                    "{rows} have the {} fields its COPY column list names (first: row {} has {}{at}): the dump is damaged and a restore would fail there",
                    self.header.columns.len(),
                    self.first_bad_row,
                    self.first_bad_fields,
                ),
                offset,
            );
        }
        // Decoded rows were checked one by one; counted ones are checked as a whole, which
        // misses only a row with a field too many made up for by another with one too few. A
        // block cut short ends with part of a row: its end is reported, not its fields.
        let columns = self.header.columns.len() as u64;
        let expected = self.rows * columns.saturating_sub(1);
        if !self.wanted && !self.cut && columns > 0 && self.separators != expected {
            summary.problem_in(
                &self.header.table,
                "bad-row",
                format!(
                    "the COPY data of {table} has {} field separators where {} rows of {columns} columns have {expected}: a row has the wrong number of fields, the dump is damaged and a restore would fail there",
                    self.separators, self.rows
                ),
                None,
            );
        }
    }

    /// The end of the data (archives; or a plain dump that ends inside the block): a last line
    /// without its newline is still a row.
    pub(crate) fn finish(&mut self, sink: &mut dyn Sink) -> Flow {
        if self.mid_line {
            self.mid_line = false;
            self.rows += 1;
            return Flow::Continue;
        }
        if self.carry.is_empty() && !self.carry_dropped {
            return Flow::Continue;
        }
        match self.finish_carry(&[], sink) {
            Some(Fed::Stop) => Flow::Stop,
            _ => Flow::Continue,
        }
    }

    /// The end of data cut short (a plain dump ending inside the block, an archive's COPY data
    /// without its `\.` line): a last line without its newline is part of a row, counted but
    /// never handed to the sink.
    pub(crate) fn finish_cut(&mut self) -> Flow {
        self.cut = true;
        if std::mem::take(&mut self.mid_line) {
            self.rows += 1;
        } else if !self.carry.is_empty() || self.carry_dropped {
            let carried = std::mem::take(&mut self.carry);
            self.account(&carried);
            self.carry_dropped = false;
            self.rows += 1;
        }
        Flow::Continue
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::toc::TableRef;

    struct Collect(Vec<String>);
    impl Sink for Collect {
        fn row(&mut self, _: &CopyHeader, row: &Row<'_>) -> Flow {
            self.0.push(String::from_utf8_lossy(row.raw()).into_owned());
            Flow::Continue
        }
    }

    fn header() -> CopyHeader {
        CopyHeader {
            table: TableRef {
                schema: None,
                name: "t".into(),
            },
            // No column list (`COPY t FROM stdin`): any field count is accepted.
            columns: vec![],
        }
    }

    /// Feeds `data` cut into pieces of `size`, returns (rows, bytes, decoded rows, rest after \.).
    fn run(data: &[u8], size: usize, wanted: bool) -> (u64, u64, Vec<String>, Vec<u8>) {
        let mut block = CopyBlock::new(header(), wanted, true);
        let mut sink = Collect(Vec::new());
        let mut rest = Vec::new();
        let mut ended = false;
        for piece in data.chunks(size) {
            if ended {
                rest.extend_from_slice(piece);
                continue;
            }
            if let Fed::Ended { consumed } = block.feed(piece, &mut sink) {
                ended = true;
                rest.extend_from_slice(&piece[consumed..]);
            }
        }
        assert!(ended, "no terminator found with piece size {size}");
        (block.rows, block.bytes, sink.0, rest)
    }

    #[test]
    fn same_counts_for_any_split_and_mode() {
        let data = b"1\ta\\.b\n2\t\\\\.\n\\.x\n3\tlast\n\\.\nSELECT 1;\n";
        for size in 1..data.len() + 1 {
            for wanted in [false, true] {
                let (rows, bytes, decoded, rest) = run(data, size, wanted);
                assert_eq!(rows, 4, "size {size} wanted {wanted}");
                assert_eq!(bytes, 24, "size {size} wanted {wanted}");
                assert_eq!(rest, b"SELECT 1;\n");
                if wanted {
                    assert_eq!(decoded, ["1\ta\\.b", "2\t\\\\.", "\\.x", "3\tlast"]);
                }
            }
        }
    }

    #[test]
    fn empty_block_and_crlf_terminator() {
        for data in [&b"\\.\nrest"[..], b"\\.\r\nrest"] {
            for size in 1..data.len() {
                let (rows, bytes, _, rest) = run(data, size, false);
                assert_eq!((rows, bytes, rest.as_slice()), (0, 0, &b"rest"[..]));
            }
        }
    }

    #[test]
    fn rows_with_the_wrong_field_count_are_problems() {
        let mut h = header();
        h.columns = vec!["a".into(), "b".into()];
        let mut block = CopyBlock::new(h, true, true);
        let mut sink = Collect(Vec::new());
        let fed = block.feed(b"1\tx\n2\n3\ty\tz\n\\.\n", &mut sink);
        assert!(matches!(fed, Fed::Ended { .. }));
        assert_eq!(sink.0, ["1\tx"]);
        let mut summary = DumpSummary::new(crate::DumpFormat::Plain);
        block.report(&mut summary);
        assert_eq!(summary.problems[0].code, "bad-row");
        assert!(
            summary.problems[0].message.contains("first: row 2"),
            "{:?}",
            summary.problems
        );
    }

    /// Skips `data` (a plain block of two columns) fed in pieces of `size`, returns the problems.
    fn skipped_problems(data: &[u8], size: usize, terminated: bool) -> Vec<String> {
        let mut h = header();
        h.columns = vec!["a".into(), "b".into()];
        let mut block = CopyBlock::new(h, false, terminated);
        let mut sink = Collect(Vec::new());
        for piece in data.chunks(size) {
            if let Fed::Ended { .. } = block.feed(piece, &mut sink) {
                break;
            }
        }
        block.finish(&mut sink);
        let mut summary = DumpSummary::new(crate::DumpFormat::Plain);
        block.report(&mut summary);
        assert!(sink.0.is_empty(), "skipped rows reached the sink");
        summary.problems.into_iter().map(|p| p.code).collect()
    }

    #[test]
    fn counted_rows_are_checked_by_their_separators() {
        let good = &b"1\tx\\ty\n2\t\\N\n"[..];
        let long_value = format!("2\t{}\n", "v".repeat(10_000));
        let cases: [(&[u8], bool, &[&str]); 6] = [
            (b"1\tx\n2\t\\t\n\\.\nSELECT 1;\n", true, &[]),
            (good, false, &[]),
            (b"1\tx\n2\n3\ty\n\\.\n", true, &["bad-row"]),
            (b"1\tx\n2\ty\tz\n\\.\n", true, &["bad-row"]),
            (b"1\tx\n2\tb\n3", false, &["bad-row"]),
            (long_value.as_bytes(), false, &[]),
        ];
        for (data, terminated, expected) in cases {
            for size in [1, 2, 3, 7, data.len()] {
                assert_eq!(
                    skipped_problems(data, size, terminated),
                    expected,
                    "{:?} in pieces of {size}",
                    String::from_utf8_lossy(&data[..data.len().min(40)])
                );
            }
        }
    }

    #[test]
    fn archive_blocks_end_with_the_data() {
        let mut block = CopyBlock::new(header(), true, false);
        let mut sink = Collect(Vec::new());
        assert_eq!(block.feed(b"a\n\\.\nb", &mut sink), Fed::NeedMore);
        block.finish(&mut sink);
        assert_eq!(sink.0, ["a", "\\.", "b"]);
        assert_eq!(block.rows, 3);
    }
}

//! The plain-format (SQL script) reader: TOC comments, statements, psql meta-commands and COPY
//! blocks, from chunks that may cut anywhere.

use std::collections::HashMap;

use crate::copy::parse_copy_statement;
use crate::rows::{CopyBlock, Fed};
use crate::split::{StatementSplitter, MAX_STATEMENT};
use crate::summary::{DumpSummary, TableStats};
use crate::toc::{parse_toc_comment, TableRef, TocEntry};
use crate::{Flow, Sink};

/// Reads one plain dump, chunk by chunk, into a summary and a sink.
pub(crate) struct PlainReader<'s> {
    pub summary: DumpSummary,
    sink: &'s mut dyn Sink,
    splitter: StatementSplitter,
    toc: Option<TocEntry>,
    copy: Option<CopyBlock>,
    /// A statement-mode line cut by a chunk boundary.
    line_carry: Vec<u8>,
    /// Bytes of SQL before the current chunk.
    offset: u64,
    /// Where the pending statement started.
    statement_offset: u64,
    /// Where the line being read ends (a COPY block's data starts there).
    line_end: u64,
    /// `SET search_path = x, pg_catalog` in old dumps: the schema of unqualified names.
    default_schema: Option<String>,
    table_index: HashMap<TableRef, usize>,
    /// Set when reading cannot go on (a line over the size limit).
    aborted: bool,
}

/// What processing an item came to.
enum Step {
    Go,
    Stop,
}

impl<'s> PlainReader<'s> {
    pub(crate) fn new(summary: DumpSummary, sink: &'s mut dyn Sink) -> Self {
        PlainReader {
            summary,
            sink,
            splitter: StatementSplitter::new(),
            toc: None,
            copy: None,
            line_carry: Vec::new(),
            offset: 0,
            statement_offset: 0,
            line_end: 0,
            default_schema: None,
            table_index: HashMap::new(),
            aborted: false,
        }
    }

    /// Feeds the next chunk of SQL. Returns [`Flow::Stop`] when the sink is done or reading
    /// cannot go on.
    pub(crate) fn feed(&mut self, chunk: &[u8]) -> Flow {
        let mut data = chunk;
        let chunk_start = self.offset;
        let flow = loop {
            let at = chunk_start + (chunk.len() - data.len()) as u64;
            if let Some(block) = &mut self.copy {
                match block.feed(data, self.sink) {
                    Fed::NeedMore => break Flow::Continue,
                    Fed::Stop => break Flow::Stop,
                    Fed::Ended { consumed } => {
                        data = &data[consumed..];
                        if let Step::Stop = self.end_copy() {
                            break Flow::Stop;
                        }
                        continue;
                    }
                }
            }
            let Some(nl) = memchr::memchr(b'\n', data) else {
                if self.line_carry.len() + data.len() > MAX_STATEMENT {
                    self.summary.problem(
                        "oversized-line",
                        format!(
                            "a line longer than {} MiB outside COPY data at byte {at}: not a pg_dump script, or a damaged one",
                            MAX_STATEMENT >> 20
                        ),
                        Some(at),
                    );
                    self.aborted = true;
                    break Flow::Stop;
                }
                self.line_carry.extend_from_slice(data);
                break Flow::Continue;
            };
            let step = if self.line_carry.is_empty() {
                self.line(&data[..=nl], at)
            } else {
                let mut line = std::mem::take(&mut self.line_carry);
                line.extend_from_slice(&data[..=nl]);
                let line_start = at - (line.len() - nl - 1) as u64;
                let step = self.line(&line, line_start);
                line.clear();
                self.line_carry = line;
                step
            };
            data = &data[nl + 1..];
            if let Step::Stop = step {
                break Flow::Stop;
            }
        };
        self.offset = chunk_start + chunk.len() as u64;
        self.summary.bytes_read = self.offset;
        flow
    }

    /// One line outside COPY data, with its `\n`, starting at byte `at`.
    fn line(&mut self, line: &[u8], at: u64) -> Step {
        self.line_end = at + line.len() as u64;
        if self.splitter.is_idle() {
            let text = trim_line_end(line);
            if text.is_empty() {
                return Step::Go;
            }
            if let Some(comment) = text.strip_prefix(b"-- ") {
                self.comment(&String::from_utf8_lossy(comment));
                return Step::Go;
            }
            if text.starts_with(b"--") {
                return Step::Go;
            }
            if text.starts_with(b"\\") {
                let meta = String::from_utf8_lossy(text);
                if let Some(db) = meta.strip_prefix("\\connect ") {
                    self.summary.database = Some(db.trim().trim_matches('"').to_string());
                }
                self.sink.meta_command(&meta);
                return Step::Go;
            }
            self.statement_offset = at;
        }
        let mut statements = Vec::new();
        self.splitter
            .push(line, &mut |s| statements.push(s.to_string()));
        for sql in statements {
            if let Step::Stop = self.statement(&sql) {
                return Step::Stop;
            }
        }
        Step::Go
    }

    fn comment(&mut self, comment: &str) {
        if let Some(toc) = parse_toc_comment(comment) {
            *self
                .summary
                .object_counts
                .entry(toc.kind.clone())
                .or_default() += 1;
            if toc.kind == "TABLE" {
                let table = TableRef {
                    schema: toc.schema.clone().or_else(|| self.default_schema.clone()),
                    name: toc.name.clone(),
                };
                self.table(&table);
            }
            self.toc = Some(toc);
        } else if let Some(v) = comment.strip_prefix("Dumped from database version ") {
            self.summary.server_version = Some(v.trim().to_string());
        } else if let Some(v) = comment.strip_prefix("Dumped by pg_dump version ") {
            self.summary.pg_dump_version = Some(v.trim().to_string());
        } else if comment.trim() == "PostgreSQL database dump complete" {
            self.summary.trailer_seen = true;
        }
    }

    /// The index of a table in the summary, added on first sight.
    fn table(&mut self, table: &TableRef) -> usize {
        if let Some(&i) = self.table_index.get(table) {
            return i;
        }
        self.summary.tables.push(TableStats {
            schema: table.schema.clone(),
            name: table.name.clone(),
            rows: None,
            data_bytes: None,
        });
        let i = self.summary.tables.len() - 1;
        self.table_index.insert(table.clone(), i);
        i
    }

    fn statement(&mut self, sql: &str) -> Step {
        self.summary.statements += 1;
        note_settings(&mut self.summary, &mut self.default_schema, sql);
        if self.sink.statement(self.toc.as_ref(), sql) == Flow::Stop {
            return Step::Stop;
        }
        if let Some(mut header) = parse_copy_statement(sql) {
            if header.table.schema.is_none() {
                header.table.schema = self
                    .toc
                    .as_ref()
                    .and_then(|t| t.schema.clone())
                    .or_else(|| self.default_schema.clone());
            }
            let wanted = self.sink.wants_rows(&header);
            let mut block = CopyBlock::new(header, wanted, true);
            block.start = Some(self.line_end);
            self.copy = Some(block);
        }
        Step::Go
    }

    fn end_copy(&mut self) -> Step {
        let Some(block) = self.copy.take() else {
            return Step::Go;
        };
        let i = self.table(&block.header.table);
        let stats = &mut self.summary.tables[i];
        stats.rows = Some(stats.rows.unwrap_or(0) + block.rows);
        stats.data_bytes = Some(stats.data_bytes.unwrap_or(0) + block.bytes);
        block.report(&mut self.summary);
        let stats = TableStats {
            rows: Some(block.rows),
            data_bytes: Some(block.bytes),
            ..self.summary.tables[i].clone()
        };
        match self.sink.table_end(&block.header, &stats) {
            Flow::Stop => Step::Stop,
            Flow::Continue => Step::Go,
        }
    }

    /// The read stops early (the sink has what it needs): what the rows of the COPY block being
    /// read showed so far (rows with the wrong number of fields) is still reported.
    pub(crate) fn stop(mut self) -> DumpSummary {
        if let Some(block) = &self.copy {
            block.report(&mut self.summary);
        }
        self.summary
    }

    /// The end of the input: anything left open makes the dump incomplete.
    pub(crate) fn finish(mut self) -> DumpSummary {
        if self.aborted {
            return self.summary;
        }
        if !self.line_carry.is_empty() {
            let line = std::mem::take(&mut self.line_carry);
            let at = self.offset - line.len() as u64;
            let _ = self.line(&line, at);
        }
        if let Some(block) = &mut self.copy {
            block.finish_cut();
            let table = block.header.table.clone();
            self.summary.problem_in(
                &table,
                "unterminated-copy",
                format!(
                    "the data of {} has no end marker (\\.): the dump stops inside it",
                    table.qualified()
                ),
                Some(self.offset),
            );
            let _ = self.end_copy();
        }
        if !self.splitter.is_idle() {
            let what = if self.splitter.in_literal() {
                "inside a quoted string, identifier or function body"
            } else {
                "without its final ;"
            };
            self.summary.problem(
                "unterminated-statement",
                format!(
                    "the statement starting at byte {} ends {what}",
                    self.statement_offset
                ),
                Some(self.statement_offset),
            );
        }
        self.summary
    }
}

/// Records what `SET` statements say about the dump.
pub(crate) fn note_settings(
    summary: &mut DumpSummary,
    default_schema: &mut Option<String>,
    sql: &str,
) {
    let Some(rest) = sql.strip_prefix("SET ") else {
        return;
    };
    if let Some(value) = rest.strip_prefix("client_encoding = ") {
        summary.encoding = Some(value.trim_matches('\'').to_string());
    } else if let Some(value) = rest.strip_prefix("search_path = ") {
        *default_schema = value
            .split(',')
            .map(|s| s.trim().trim_matches('"'))
            .find(|s| !s.is_empty() && *s != "pg_catalog")
            .map(str::to_string);
    }
}

fn trim_line_end(line: &[u8]) -> &[u8] {
    let line = line.strip_suffix(b"\n").unwrap_or(line);
    line.strip_suffix(b"\r").unwrap_or(line)
}

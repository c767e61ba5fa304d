//! What one read of a dump found out about it, whatever the sinks were.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::toc::TableRef;

/// The pg_dump output format.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum DumpFormat {
    /// A SQL script (`pg_dump -Fp`), whatever container holds it.
    Plain,
    /// A custom-format archive (`pg_dump -Fc`).
    Custom,
    /// A directory-format dump (`pg_dump -Fd`).
    Directory,
}

/// Rows and bytes of one table's data.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct TableStats {
    /// Schema, when the dump says it.
    pub schema: Option<String>,
    /// Table name.
    pub name: String,
    /// Data rows; `None` when the dump holds no data for the table (schema-only dumps).
    pub rows: Option<u64>,
    /// Bytes of data in text COPY form (row lines with their line ends), `None` without data.
    pub data_bytes: Option<u64>,
}

/// Something that makes the dump incomplete or doubtful, with where it was seen.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Problem {
    /// Stable kebab-case code: `unterminated-copy`, `unterminated-statement`, `missing-trailer`,
    /// `missing-data`, `oversized-line`, `bad-row`…
    pub code: String,
    /// One sentence for a person.
    pub message: String,
    /// Byte offset in the uncompressed SQL (or the archive) where it was seen, when known.
    pub offset: Option<u64>,
    /// The table whose data it concerns (`bad-row`, `unterminated-copy`), when it is one table.
    pub table: Option<TableRef>,
}

/// The facts one read of a dump gathered.
#[derive(Clone, Debug, Serialize)]
pub struct DumpSummary {
    /// Plain, custom or directory.
    pub format: DumpFormat,
    /// `Dumped from database version …` / the archive header's server version.
    pub server_version: Option<String>,
    /// `Dumped by pg_dump version …` / the archive header's pg_dump version.
    pub pg_dump_version: Option<String>,
    /// The archive format version (`1.14`…), custom and directory formats only.
    pub archive_version: Option<String>,
    /// The client encoding the dump was written in (`UTF8`).
    pub encoding: Option<String>,
    /// The database name, when the dump says it (archives, `\connect`).
    pub database: Option<String>,
    /// The end-of-dump trailer was seen (plain) / every TOC data block was found (archives).
    pub trailer_seen: bool,
    /// The read stopped because every sink had what it needed: counts cover only what was read.
    pub stopped_early: bool,
    /// Bytes of SQL (or archive) read.
    pub bytes_read: u64,
    /// Statements seen (COPY rows not included).
    pub statements: u64,
    /// Number of TOC entries per object type (`TABLE`, `INDEX`, `TABLE DATA`, …).
    pub object_counts: BTreeMap<String, u64>,
    /// Tables in dump order: every `TABLE` entry, and every COPY block's table.
    pub tables: Vec<TableStats>,
    /// What makes the dump incomplete or doubtful.
    pub problems: Vec<Problem>,
    /// Things worth knowing that do not make the dump incomplete.
    pub notes: Vec<String>,
}

impl DumpSummary {
    /// An empty summary for a dump of this format.
    pub fn new(format: DumpFormat) -> Self {
        DumpSummary {
            format,
            server_version: None,
            pg_dump_version: None,
            archive_version: None,
            encoding: None,
            database: None,
            trailer_seen: false,
            stopped_early: false,
            bytes_read: 0,
            statements: 0,
            object_counts: BTreeMap::new(),
            tables: Vec::new(),
            problems: Vec::new(),
            notes: Vec::new(),
        }
    }

    /// Complete: the trailer (or every data block) was seen and nothing is unterminated.
    /// A read that stopped early cannot tell, and says `false`.
    pub fn complete(&self) -> bool {
        self.trailer_seen && !self.stopped_early && self.problems.is_empty()
    }

    /// Records a problem.
    pub fn problem(&mut self, code: &str, message: impl Into<String>, offset: Option<u64>) {
        self.problems.push(Problem {
            code: code.to_string(),
            message: message.into(),
            offset,
            table: None,
        });
    }

    /// Records a problem with the data of one table.
    pub fn problem_in(
        &mut self,
        table: &TableRef,
        code: &str,
        message: impl Into<String>,
        offset: Option<u64>,
    ) {
        self.problem(code, message, offset);
        if let Some(p) = self.problems.last_mut() {
            p.table = Some(table.clone());
        }
    }
}

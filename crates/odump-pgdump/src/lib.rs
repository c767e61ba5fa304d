//! pg_dump output, in any of its formats, as one stream of items.
//!
//! A dump is read once, front to back, and handed to a [`Sink`]: each SQL statement with the
//! pg_dump table-of-contents identity ([`TocEntry`]) it belongs to, and for the tables the sink
//! asks for, each COPY row ([`Row`]). Rows of other tables are counted but never decoded. The
//! reader returns a [`DumpSummary`]: versions, encoding, completeness, object counts and per-table
//! row and byte counts.
//!
//! Plain SQL (from any container `odump-io` opens) and the custom and directory archive formats
//! produce the same items: for archives, statements come from each TOC entry's `defn` and rows
//! from its data block.
//!
//! ```no_run
//! use odump_pgdump::{read_dump, Flow, Sink, CopyHeader, Row};
//!
//! /// Counts the rows of `res_partner`, decoding the `name` column.
//! struct Names(Vec<String>);
//! impl Sink for Names {
//!     fn wants_rows(&mut self, copy: &CopyHeader) -> bool { copy.table.name == "res_partner" }
//!     fn row(&mut self, copy: &CopyHeader, row: &Row<'_>) -> Flow {
//!         if let Some(Some(name)) = row.get(copy.column_index("name")) {
//!             self.0.push(name.into_owned());
//!         }
//!         Flow::Continue
//!     }
//! }
//! let input = odump_io::open("dump.sql.gz").unwrap();
//! let mut names = Names(Vec::new());
//! let summary = read_dump(input, &mut names).unwrap();
//! println!("{} tables, {} names", summary.tables.len(), names.0.len());
//! ```

pub mod archive;
mod copy;
mod error;
mod from_archive;
mod plain;
mod reader;
mod rows;
mod split;
mod summary;
mod toc;

pub use copy::{decode_field, parse_copy_statement, CopyHeader, Row};
pub use error::Error;
pub use reader::{read_dump, read_dump_partial, ReadOptions};
pub use split::{split_statements, StatementSplitter};
pub use summary::{DumpFormat, DumpSummary, Problem, TableStats};
pub use toc::{parse_toc_comment, TableRef, TocEntry};

/// Whether the reader should go on after an item.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Flow {
    /// Keep reading.
    Continue,
    /// The sink has what it needs: stop reading (the summary says `stopped_early`).
    Stop,
}

/// Receives the items of a dump, in dump order. Every method has a default that ignores the item,
/// so a sink implements only what it needs.
pub trait Sink {
    /// One SQL statement (without its final `;`), with the TOC entry it belongs to (`None` for the
    /// preamble `SET` statements that precede the first entry). COPY statements are passed too.
    fn statement(&mut self, toc: Option<&TocEntry>, sql: &str) -> Flow {
        let _ = (toc, sql);
        Flow::Continue
    }

    /// A psql meta-command line outside COPY data, such as `\restrict KEY` or `\connect db`.
    fn meta_command(&mut self, line: &str) {
        let _ = line;
    }

    /// Whether the rows of this COPY block should be decoded and passed to [`Sink::row`].
    /// Called once per block; returning `false` lets the reader skip the rows cheaply.
    fn wants_rows(&mut self, copy: &CopyHeader) -> bool {
        let _ = copy;
        false
    }

    /// One row of a COPY block the sink asked for.
    fn row(&mut self, copy: &CopyHeader, row: &Row<'_>) -> Flow {
        let _ = (copy, row);
        Flow::Continue
    }

    /// The end of a COPY block (rows counted whether or not they were decoded).
    fn table_end(&mut self, copy: &CopyHeader, stats: &TableStats) -> Flow {
        let _ = (copy, stats);
        Flow::Continue
    }
}

/// Feeds every item to several sinks; stops when all of them said [`Flow::Stop`].
#[derive(Default)]
pub struct Tee<'a> {
    /// Each sink, whether it has stopped, and whether it asked for the current COPY block's rows.
    sinks: Vec<(&'a mut dyn Sink, bool, bool)>,
}

impl<'a> Tee<'a> {
    /// A tee over no sink yet.
    pub fn new() -> Self {
        Tee { sinks: Vec::new() }
    }

    /// Adds a sink.
    pub fn with(mut self, sink: &'a mut dyn Sink) -> Self {
        self.sinks.push((sink, false, false));
        self
    }

    fn each(&mut self, mut f: impl FnMut(&mut dyn Sink) -> Flow) -> Flow {
        let mut all_done = true;
        for (sink, done, _) in self.sinks.iter_mut() {
            if !*done && f(&mut **sink) == Flow::Stop {
                *done = true;
            }
            all_done &= *done;
        }
        if all_done && !self.sinks.is_empty() {
            Flow::Stop
        } else {
            Flow::Continue
        }
    }
}

impl Sink for Tee<'_> {
    fn statement(&mut self, toc: Option<&TocEntry>, sql: &str) -> Flow {
        self.each(|s| s.statement(toc, sql))
    }
    fn meta_command(&mut self, line: &str) {
        for (sink, _, _) in self.sinks.iter_mut() {
            sink.meta_command(line);
        }
    }
    fn wants_rows(&mut self, copy: &CopyHeader) -> bool {
        let mut any = false;
        for (sink, done, wants) in self.sinks.iter_mut() {
            *wants = !*done && sink.wants_rows(copy);
            any |= *wants;
        }
        any
    }
    fn row(&mut self, copy: &CopyHeader, row: &Row<'_>) -> Flow {
        let mut all_done = true;
        for (sink, done, wants) in self.sinks.iter_mut() {
            if *wants && !*done && sink.row(copy, row) == Flow::Stop {
                *done = true;
            }
            all_done &= *done;
        }
        if all_done {
            Flow::Stop
        } else {
            Flow::Continue
        }
    }
    fn table_end(&mut self, copy: &CopyHeader, stats: &TableStats) -> Flow {
        self.each(|s| s.table_end(copy, stats))
    }
}

/// A sink that wants nothing: reading with it yields just the [`DumpSummary`].
pub struct NoSink;
impl Sink for NoSink {}

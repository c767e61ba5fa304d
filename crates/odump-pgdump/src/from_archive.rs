//! Custom and directory archives as the same items as plain SQL: statements from each TOC
//! entry's `defn`, rows from its data block, counted by the same COPY scanner.

use std::collections::HashMap;
use std::io::Read;
use std::ops::ControlFlow;

use crate::archive::{ArchiveReader, ArchiveTocEntry, DataLocation, DataVisit, UnterminatedData};
use crate::copy::{parse_copy_statement, CopyHeader};
use crate::plain::note_settings;
use crate::reader::ReadOptions;
use crate::rows::{CopyBlock, Fed};
use crate::split::split_statements;
use crate::summary::{DumpFormat, DumpSummary, TableStats};
use crate::toc::TableRef;
use crate::{Error, Flow, Sink};

/// TOC entries that a plain dump made without `-C` does not print with a `-- Name:` comment
/// (pg_restore turns the first three into its fixed `SET` preamble): they are not counted as
/// objects, so that every format of one database reports the same counts.
const UNPRINTED_KINDS: [&str; 4] = ["ENCODING", "STDSTRINGS", "SEARCHPATH", "DATABASE"];

/// Reads an archive: TOC first, then data.
pub(crate) fn read_archive(
    name: &str,
    archive: odump_io::Archive,
    sink: &mut dyn Sink,
    options: ReadOptions,
) -> (DumpSummary, Option<Error>) {
    let format = match archive {
        odump_io::Archive::Directory(_) => DumpFormat::Directory,
        _ => DumpFormat::Custom,
    };
    let mut summary = DumpSummary::new(format);
    let mut reader = match ArchiveReader::open(name, archive) {
        Ok(r) => r,
        Err(e) => return (summary, Some(e)),
    };
    let header = reader.header();
    summary.server_version = Some(header.server_version.clone());
    summary.pg_dump_version = Some(header.pg_dump_version.clone());
    summary.database = Some(header.database.clone());
    let (major, minor, rev) = header.version;
    summary.archive_version = Some(format!("{major}.{minor}.{rev}"));
    summary.bytes_read = reader.data_start();

    let mut tables = Tables::default();
    if let Flow::Stop = statements(&reader, sink, &mut summary, &mut tables) {
        summary.stopped_early = true;
        return (summary, None);
    }

    let headers: HashMap<i32, CopyHeader> = reader
        .entries()
        .iter()
        .filter(|e| e.toc.kind == "TABLE DATA")
        .filter_map(|e| {
            let mut h = parse_copy_statement(&e.copy_stmt)?;
            if h.table.schema.is_none() {
                h.table.schema = e.toc.schema.clone();
            }
            Some((e.dump_id, h))
        })
        .collect();
    let mut data = DataReader {
        sink,
        summary: &mut summary,
        tables: &mut tables,
        headers: &headers,
        stopped: false,
    };
    let result = if options.wanted_data_only {
        data.wanted_only(&mut reader)
    } else {
        data.all(&mut reader)
    };
    let stopped = data.stopped;
    match result {
        Ok(visit) => {
            for id in &visit.missing {
                let entry = reader.entry(*id);
                let what = entry.map_or_else(|| format!("dump id {id}"), ArchiveTocEntry::describe);
                let file = match entry.map(|e| &e.data) {
                    Some(DataLocation::File(f)) => format!(" ({f})"),
                    _ => String::new(),
                };
                summary.problem(
                    "missing-data",
                    format!(
                        "the data file{file} of {what} is missing: the directory dump is incomplete; copy it again"
                    ),
                    None,
                );
            }
            summary.stopped_early = stopped;
            summary.trailer_seen = visit.missing.is_empty() && !options.wanted_data_only;
            (summary, None)
        }
        Err(e) => (summary, Some(e)),
    }
}

#[derive(Default)]
struct Tables {
    index: HashMap<TableRef, usize>,
}

impl Tables {
    fn get(&mut self, summary: &mut DumpSummary, table: &TableRef) -> usize {
        *self.index.entry(table.clone()).or_insert_with(|| {
            summary.tables.push(TableStats {
                schema: table.schema.clone(),
                name: table.name.clone(),
                rows: None,
                data_bytes: None,
            });
            summary.tables.len() - 1
        })
    }
}

fn statements(
    reader: &ArchiveReader,
    sink: &mut dyn Sink,
    summary: &mut DumpSummary,
    tables: &mut Tables,
) -> Flow {
    let mut default_schema = None;
    for entry in reader.entries() {
        let kind = entry.toc.kind.as_str();
        if UNPRINTED_KINDS.contains(&kind) {
            for sql in split_statements(&entry.defn) {
                note_settings(summary, &mut default_schema, &sql);
            }
            continue;
        }
        *summary.object_counts.entry(kind.to_string()).or_default() += 1;
        if kind == "TABLE" {
            let table = TableRef {
                schema: entry.toc.schema.clone(),
                name: entry.toc.name.clone(),
            };
            tables.get(summary, &table);
        }
        for sql in split_statements(&entry.defn) {
            summary.statements += 1;
            if sink.statement(Some(&entry.toc), &sql) == Flow::Stop {
                return Flow::Stop;
            }
        }
    }
    Flow::Continue
}

/// Feeds data blocks through the COPY scanner into the sink and the summary.
struct DataReader<'a> {
    sink: &'a mut dyn Sink,
    summary: &'a mut DumpSummary,
    tables: &'a mut Tables,
    headers: &'a HashMap<i32, CopyHeader>,
    stopped: bool,
}

impl DataReader<'_> {
    fn all(&mut self, reader: &mut ArchiveReader) -> Result<DataVisit, Error> {
        let headers = self.headers;
        reader.for_each_data(
            &mut |entry| headers.contains_key(&entry.dump_id),
            &mut |entry, data| self.block(entry, data),
        )
    }

    /// Jumps to the blocks the sink wants when the archive allows it, else reads them all.
    fn wanted_only(&mut self, reader: &mut ArchiveReader) -> Result<DataVisit, Error> {
        let mut wanted: Vec<i32> = self
            .headers
            .iter()
            .filter(|(_, h)| self.sink.wants_rows(h))
            .map(|(id, _)| *id)
            .collect();
        wanted.sort_unstable();
        let mut visit = DataVisit::default();
        for id in wanted {
            if !reader.read_entry_data(id, &mut |entry, data| self.block(entry, data))? {
                return self.all(reader);
            }
            visit.blocks_seen += 1;
            if self.stopped {
                visit.stopped = true;
                break;
            }
        }
        Ok(visit)
    }

    fn block(
        &mut self,
        entry: &ArchiveTocEntry,
        data: &mut dyn Read,
    ) -> Result<ControlFlow<()>, Error> {
        let Some(header) = self.headers.get(&entry.dump_id) else {
            return Ok(ControlFlow::Continue(()));
        };
        let wanted = self.sink.wants_rows(header);
        let mut block = CopyBlock::new(header.clone(), wanted, false);
        let mut buf = vec![0u8; 1 << 20];
        let mut flow = Flow::Continue;
        let cut = loop {
            let (n, cut) = read_some(data, &mut buf)?;
            self.summary.bytes_read += n as u64;
            if n > 0 && block.feed(&buf[..n], self.sink) == Fed::Stop {
                flow = Flow::Stop;
                break cut;
            }
            if n == 0 || cut.is_some() {
                break cut;
            }
        };
        if flow == Flow::Continue {
            flow = match cut {
                // The last line may be part of a row: counted, never handed to the sink.
                Some(_) => block.finish_cut(),
                None => block.finish(self.sink),
            };
        }
        if let Some(cut) = cut {
            self.summary
                .problem_in(&header.table, "unterminated-copy", cut.message, None);
        }
        block.report(self.summary);
        let i = self.tables.get(self.summary, &header.table);
        let stats = &mut self.summary.tables[i];
        stats.rows = Some(stats.rows.unwrap_or(0) + block.rows);
        stats.data_bytes = Some(stats.data_bytes.unwrap_or(0) + block.bytes);
        let stats = stats.clone();
        if flow == Flow::Continue {
            flow = self.sink.table_end(header, &stats);
        }
        if flow == Flow::Stop {
            self.stopped = true;
            return Ok(ControlFlow::Break(()));
        }
        Ok(ControlFlow::Continue(()))
    }
}

/// Fills `buf` as far as the reader allows (archive readers hand out one chunk per call). With
/// the bytes read comes the end of COPY data without its `\.` line, when the reader got there.
fn read_some(
    data: &mut dyn Read,
    buf: &mut [u8],
) -> Result<(usize, Option<UnterminatedData>), Error> {
    let mut filled = 0;
    while filled < buf.len() {
        match data.read(&mut buf[filled..]) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => {
                if let Some(cut) = UnterminatedData::of(&e) {
                    return Ok((filled, Some(cut.clone())));
                }
                return Err(Error::Block(e.to_string()));
            }
        }
    }
    Ok((filled, None))
}

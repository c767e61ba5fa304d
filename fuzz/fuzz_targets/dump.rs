//! Container detection and every reader behind it: `odump_io::from_bytes` sniffs the bytes
//! (plain SQL, UTF-8 BOM, UTF-16, gzip single or multi-member, zip, custom archive, gzip'd
//! custom archive), then `read_dump_partial` runs the plain lexer or the archive reader with a
//! sink that asks for every table's rows and decodes every field.
#![no_main]

use libfuzzer_sys::fuzz_target;
use odump_pgdump::{
    read_dump_partial, CopyHeader, Flow, ReadOptions, Row, Sink, TableStats, TocEntry,
};

/// Asks for every row and decodes each field; optionally stops after a few items, which
/// exercises the early-stop paths (the reader thread must wind down).
struct AllRows {
    stop_after: Option<usize>,
    items: usize,
}

impl AllRows {
    fn tick(&mut self) -> Flow {
        self.items += 1;
        match self.stop_after {
            Some(n) if self.items >= n => Flow::Stop,
            _ => Flow::Continue,
        }
    }
}

impl Sink for AllRows {
    fn statement(&mut self, _toc: Option<&TocEntry>, sql: &str) -> Flow {
        let _ = odump_pgdump::parse_copy_statement(sql);
        self.tick()
    }
    fn wants_rows(&mut self, _copy: &CopyHeader) -> bool {
        true
    }
    fn row(&mut self, copy: &CopyHeader, row: &Row<'_>) -> Flow {
        // Every field decoded once; `get` (linear in the row) on a few indices only, so a row
        // of a million fields stays linear, as it is for the real collectors.
        for field in row.raw_fields() {
            std::hint::black_box(odump_pgdump::decode_field(field));
        }
        let n = row.len();
        for i in [0, 1, n.saturating_sub(1), n] {
            std::hint::black_box(row.get(Some(i)));
        }
        for c in copy.columns.iter().take(8) {
            std::hint::black_box(row.get(copy.column_index(c)));
        }
        self.tick()
    }
    fn table_end(&mut self, _copy: &CopyHeader, _stats: &TableStats) -> Flow {
        self.tick()
    }
}

fuzz_target!(|data: &[u8]| {
    // The last byte picks the sink's behaviour and the way in, without disturbing the head the
    // sniffer reads: in memory as a stream (stdin-like), or as a file (memory map for plain
    // SQL, the central directory for zips, seeks for custom archives).
    let last = data.last().copied().unwrap_or(1);
    let stop_after = (last % 4 == 0).then(|| usize::from(last / 4) + 1);
    let mut sink = AllRows {
        stop_after,
        items: 0,
    };
    let path = std::env::temp_dir().join(format!("odump-fuzz-dump-{}", std::process::id()));
    let input = if last % 8 < 4 {
        odump_io::from_bytes("fuzz", data.to_vec())
    } else {
        std::fs::write(&path, data).unwrap();
        odump_io::open(path.to_str().unwrap())
    };
    if let Ok(input) = input {
        let (summary, err) = read_dump_partial(input, &mut sink, ReadOptions::default());
        // Messages and the summary are formatted as the commands would.
        std::hint::black_box(format!("{summary:?}"));
        if let Some(e) = err {
            std::hint::black_box(e.to_string());
        }
    }
    let _ = std::fs::remove_file(&path);
});

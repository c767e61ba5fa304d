//! Real `pg_dump` archives, damaged the way files get damaged: a directory dump's data file
//! emptied or cut (uncompressed, or recompressed whole), a custom archive cut at any offset, a
//! COPY row with a field missing. Each must be reported where it is, and an intact archive of
//! a table without rows must still read as complete.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use odump_pgdump::archive::{ArchiveReader, DataLocation};
use odump_pgdump::{
    read_dump_partial, CopyHeader, DumpSummary, Error, Flow, NoSink, ReadOptions, Row, Sink,
};
use odump_testpg::{unique_db_name, DumpKind};

/// Three tables: one without rows, one with a few, one big enough for several data chunks.
const SETUP: &str = "
    CREATE TABLE empty_t (a int, b text);
    CREATE TABLE rows_t (id int, name text);
    INSERT INTO rows_t VALUES (1, 'one'), (2, 'two'), (3, 'three');
    CREATE TABLE big_t (id int, name text);
    INSERT INTO big_t SELECT g, 'name ' || g || repeat('x', g % 40) FROM generate_series(1, 20000) g;
";

fn read_with(path: &Path, sink: &mut dyn Sink) -> (DumpSummary, Option<Error>) {
    let input = odump_io::open(path.to_str().unwrap()).unwrap();
    read_dump_partial(input, sink, ReadOptions::default())
}

fn read(path: &Path) -> (DumpSummary, Option<Error>) {
    read_with(path, &mut NoSink)
}

fn rows_of(summary: &DumpSummary, table: &str) -> Option<u64> {
    summary
        .tables
        .iter()
        .find(|t| t.name == table)
        .and_then(|t| t.rows)
}

/// The data file a directory dump's TOC names for a table (without `.gz`).
fn data_file(dir: &Path, table: &str) -> PathBuf {
    let input = odump_io::open(dir.to_str().unwrap()).unwrap();
    let odump_io::Body::Archive(archive) = input.body else {
        panic!("not an archive")
    };
    let reader = ArchiveReader::open("dir", archive).unwrap();
    let entry = reader
        .entries()
        .iter()
        .find(|e| e.toc.kind == "TABLE DATA" && e.toc.name == table)
        .unwrap();
    let DataLocation::File(file) = &entry.data else {
        panic!("{table}: no data file")
    };
    dir.join(file)
}

fn copy_dir(from: &Path, to: &Path) {
    let _ = fs::remove_dir_all(to);
    fs::create_dir_all(to).unwrap();
    for f in fs::read_dir(from).unwrap() {
        let f = f.unwrap();
        fs::copy(f.path(), to.join(f.file_name())).unwrap();
    }
}

fn gzip(data: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    e.write_all(data).unwrap();
    e.finish().unwrap()
}

fn gunzip(data: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    std::io::Read::read_to_end(&mut flate2::read::GzDecoder::new(data), &mut out).unwrap();
    out
}

/// The one problem a damaged read reports about `table`'s data.
fn only_problem<'a>(summary: &'a DumpSummary, ctx: &str) -> &'a odump_pgdump::Problem {
    assert_eq!(summary.problems.len(), 1, "{ctx}: {:?}", summary.problems);
    assert!(!summary.complete(), "{ctx}");
    &summary.problems[0]
}

/// Collects the decoded rows of one table.
struct Rows(&'static str, Vec<String>);
impl Sink for Rows {
    fn wants_rows(&mut self, copy: &CopyHeader) -> bool {
        copy.table.name == self.0
    }
    fn row(&mut self, _: &CopyHeader, row: &Row<'_>) -> Flow {
        self.1.push(String::from_utf8_lossy(row.raw()).into_owned());
        Flow::Continue
    }
}

#[test]
fn directory_data_files_emptied_or_cut_are_reported() {
    let Some(pg) = odump_testpg::require() else {
        return;
    };
    let db = unique_db_name("pgdump_dir");
    pg.create_db(&db, SETUP);
    let tmp = tempfile::tempdir().unwrap();
    let z0 = pg.dump(&db, DumpKind::DirectoryUncompressed, tmp.path());
    let gz = pg.dump(&db, DumpKind::Directory, tmp.path());
    pg.drop_db(&db);

    // What pg_dump writes for a table without rows: the end line and two blank lines. It reads
    // as a complete, empty table.
    assert_eq!(fs::read(data_file(&z0, "empty_t")).unwrap(), b"\\.\n\n\n");
    for dir in [&z0, &gz] {
        let (summary, err) = read(dir);
        assert!(err.is_none(), "{err:?}");
        assert!(summary.complete(), "{:?}", summary.problems);
        assert_eq!(rows_of(&summary, "empty_t"), Some(0));
        assert_eq!(rows_of(&summary, "rows_t"), Some(3));
    }

    // Uncompressed data files emptied or cut (at a line end, inside a row).
    let rows_dat = fs::read(data_file(&z0, "rows_t")).unwrap();
    assert_eq!(rows_dat, b"1\tone\n2\ttwo\n3\tthree\n\\.\n\n\n");
    let work = tmp.path().join("work");
    for (table, content, rows, decoded) in [
        ("empty_t", &b""[..], 0, 3),
        ("rows_t", b"", 0, 0),
        ("rows_t", b"1\tone\n", 1, 1),
        ("rows_t", b"1\tone\n2\ttw", 2, 1),
        ("rows_t", b"1\tone\n2\ttwo\n3\tthree\n\\", 4, 3),
    ] {
        let ctx = format!("{table} as {:?}", String::from_utf8_lossy(content));
        copy_dir(&z0, &work);
        let file = data_file(&work, table);
        fs::write(&file, content).unwrap();
        let mut sink = Rows("rows_t", Vec::new());
        let (summary, err) = read_with(&work, &mut sink);
        assert!(err.is_none(), "{ctx}: {err:?}");
        let p = only_problem(&summary, &ctx);
        assert_eq!(p.code, "unterminated-copy", "{ctx}");
        assert_eq!(p.table.as_ref().map(|t| t.name.as_str()), Some(table));
        let name = file.display().to_string();
        for words in [
            name.as_str(),
            &format!("public.{table}"),
            &format!("ends at byte {} ", content.len()),
            "\\.",
        ] {
            assert!(
                p.message.contains(words),
                "{ctx}: {words:?} in {}",
                p.message
            );
        }
        assert_eq!(rows_of(&summary, table), Some(rows), "{ctx}");
        // A row cut in the middle is counted, never decoded.
        assert_eq!(sink.1.len(), decoded, "{ctx}: {:?}", sink.1);
        assert!(
            sink.1.iter().all(|r| r.contains('\t')),
            "{ctx}: {:?}",
            sink.1
        );
    }

    // Gzip data files: recompressed whole without the end line (empty, cut), or cut in their
    // compressed stream (an error of the gzip kind: truncated).
    let gz_file = PathBuf::from(format!("{}.gz", data_file(&gz, "rows_t").display()));
    let gz_bytes = fs::read(&gz_file).unwrap();
    assert_eq!(gunzip(&gz_bytes), rows_dat);
    for content in [&b""[..], b"1\tone\n"] {
        copy_dir(&gz, &work);
        let file = work.join(gz_file.file_name().unwrap());
        fs::write(&file, gzip(content)).unwrap();
        let (summary, err) = read(&work);
        assert!(err.is_none(), "{err:?}");
        let p = only_problem(&summary, "recompressed");
        assert_eq!(p.code, "unterminated-copy");
        assert!(
            p.message.contains(&file.display().to_string()),
            "{}",
            p.message
        );
    }
    for cut in [0, 1, gz_bytes.len() / 2, gz_bytes.len() - 1] {
        copy_dir(&gz, &work);
        let file = work.join(gz_file.file_name().unwrap());
        fs::write(&file, &gz_bytes[..cut]).unwrap();
        let (_, err) = read(&work);
        assert!(
            matches!(err, Some(Error::Input(odump_io::Error::Truncated { ref path, .. })) if *path == file.display().to_string()),
            "gzip cut at {cut}: {err:?}"
        );
    }

    // lz4 and zstd data files (pg_dump 16+) are not decoded: reading them says so.
    for ext in ["lz4", "zst"] {
        copy_dir(&gz, &work);
        fs::remove_file(work.join(gz_file.file_name().unwrap())).unwrap();
        let file = PathBuf::from(format!("{}.{ext}", data_file(&work, "rows_t").display()));
        fs::write(&file, b"").unwrap();
        let (_, err) = read(&work);
        assert!(
            matches!(err, Some(Error::Unsupported { ref detail, .. }) if detail.contains(if ext == "lz4" { "lz4" } else { "zstd" })),
            "{ext}: {err:?}"
        );
    }
}

#[test]
fn custom_archives_cut_anywhere_are_truncated_at_their_end() {
    let Some(pg) = odump_testpg::require() else {
        return;
    };
    let db = unique_db_name("pgdump_cut");
    pg.create_db(&db, SETUP);
    let tmp = tempfile::tempdir().unwrap();
    let dumps = [
        pg.dump(&db, DumpKind::Custom, tmp.path()),
        pg.dump(&db, DumpKind::CustomPipe, tmp.path()),
        pg.dump(&db, DumpKind::CustomUncompressed, tmp.path()),
    ];
    pg.drop_db(&db);
    for dump in &dumps {
        let bytes = fs::read(dump).unwrap();
        let (summary, err) = read(dump);
        assert!(err.is_none() && summary.complete(), "{err:?}");
        let input = odump_io::open(dump.to_str().unwrap()).unwrap();
        let odump_io::Body::Archive(archive) = input.body else {
            panic!()
        };
        let data_start = ArchiveReader::open("x", archive).unwrap().data_start() as usize;
        let len = bytes.len();
        // In the header, the TOC, at and around the first block, in the data, the last bytes.
        let cuts = [
            5,
            8,
            20,
            60,
            data_start / 2,
            data_start - 1,
            data_start,
            data_start + 1,
            data_start + 6,
            len / 2,
            len * 3 / 4,
            len - 5,
            len - 1,
        ];
        for cut in cuts {
            let ctx = format!("{} cut at {cut} of {len}", dump.display());
            let part = tmp.path().join("part.dump");
            fs::write(&part, &bytes[..cut]).unwrap();
            let from_file = read(&part).1;
            let stream = odump_io::from_bytes("stdin", bytes[..cut].to_vec()).unwrap();
            let from_stream = read_dump_partial(stream, &mut NoSink, ReadOptions::default()).1;
            // Only the rows some sink wants, jumping to them where the archive allows.
            let input = odump_io::open(part.to_str().unwrap()).unwrap();
            let mut sink = Rows("big_t", Vec::new());
            let options = ReadOptions {
                wanted_data_only: true,
            };
            let wanted = read_dump_partial(input, &mut sink, options).1;
            for (how, err) in [("file", from_file), ("stream", from_stream)] {
                let err = err.unwrap_or_else(|| panic!("{ctx} ({how}): read without error"));
                assert!(
                    matches!(err, Error::Truncated { offset, .. } if offset == cut as u64),
                    "{ctx} ({how}): {err}"
                );
                let text = err.to_string();
                assert!(
                    text.contains(&format!("ends at byte {cut}")) && text.contains("truncated"),
                    "{ctx}: {text}"
                );
                assert!(!text.contains('\n'), "{text}");
            }
            // Before big_t's block, or in it: its read runs into the end. After it, the
            // cut is not seen by a read that wants nothing after.
            if let Some(err) = wanted {
                assert!(
                    matches!(err, Error::Truncated { offset, .. } if offset == cut as u64),
                    "{ctx} (wanted only): {err}"
                );
            }
        }
    }
}

#[test]
fn rows_with_a_field_missing_name_their_table_and_offset() {
    let Some(pg) = odump_testpg::require() else {
        return;
    };
    let db = unique_db_name("pgdump_badrow");
    pg.create_db(&db, SETUP);
    let tmp = tempfile::tempdir().unwrap();
    let plain = pg.dump(&db, DumpKind::Plain, tmp.path());
    let z0 = pg.dump(&db, DumpKind::DirectoryUncompressed, tmp.path());
    pg.drop_db(&db);

    // Row 2 of rows_t loses its tab: one field where the COPY column list names two.
    let mangle = |bytes: &mut Vec<u8>| -> usize {
        let at = bytes
            .windows(6)
            .position(|w| w == b"\n2\ttwo")
            .expect("row 2")
            + 1;
        bytes[at + 1] = b' ';
        at
    };
    let mut sql = fs::read(&plain).unwrap();
    let row_at = mangle(&mut sql);
    fs::write(&plain, &sql).unwrap();
    let mut sink = Rows("rows_t", Vec::new());
    let (summary, err) = read_with(&plain, &mut sink);
    assert!(err.is_none());
    let p = only_problem(&summary, "plain");
    assert_eq!(
        (p.code.as_str(), p.offset),
        ("bad-row", Some(row_at as u64))
    );
    assert_eq!(p.table.as_ref().unwrap().name, "rows_t");
    assert!(p.message.contains("first: row 2 has 1"), "{}", p.message);
    assert_eq!(
        sink.1,
        ["1\tone", "3\tthree"],
        "the bad row is not handed out"
    );

    let dat = data_file(&z0, "rows_t");
    let mut bytes = fs::read(&dat).unwrap();
    let at = mangle(&mut bytes);
    fs::write(&dat, &bytes).unwrap();
    let (summary, _) = read_with(&z0, &mut Rows("rows_t", Vec::new()));
    let p = only_problem(&summary, "directory");
    assert_eq!(p.code, "bad-row");
    assert_eq!(p.table.as_ref().unwrap().name, "rows_t");
    assert!(
        p.message.contains(&format!(
            "first: row 2 has 1, at byte {at} of its COPY text"
        )),
        "{}",
        p.message
    );
}

//! `inspect`, `check` and `version` on real pg_dump archives of an Odoo database, damaged: a
//! custom archive cut short (the `truncated` finding, with the byte where it ends), a
//! directory dump whose data file is emptied, base's row of `ir_module_module` with a field
//! missing (in every container).

mod common;

use std::fs;
use std::io::Read;
use std::path::{Path, PathBuf};

use common::{gzip, json, run, run_stdin};
use odump_pgdump::archive::{ArchiveReader, DataLocation};
use odump_testpg::fixtures::{self, OdooOptions};
use odump_testpg::{unique_db_name, DumpKind, DumpOptions};
use serde_json::Value;

const SERIES: &str = "17.0";

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

fn findings(report: &Value) -> Vec<(String, String)> {
    report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["code"].as_str().unwrap().to_string(),
                f["message"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

fn stderr_lines(out: &std::process::Output) -> Vec<String> {
    String::from_utf8_lossy(&out.stderr)
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(str::to_string)
        .collect()
}

fn gunzip(data: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    flate2::read::GzDecoder::new(data)
        .read_to_end(&mut out)
        .unwrap();
    out
}

/// Base's row in `ir_module_module`'s COPY data, as every format stores it, from a plain dump.
fn base_row(sql: &[u8]) -> Vec<u8> {
    let copy = find(sql, b"COPY public.ir_module_module (").expect("the COPY block");
    let data = copy + find(&sql[copy..], b"\n").unwrap() + 1;
    let end = data + find(&sql[data..], b"\n\\.\n").unwrap() + 1;
    sql[data..end]
        .split(|&b| b == b'\n')
        .find(|line| find(line, b"\tbase\t").is_some())
        .expect("base's row")
        .to_vec()
}

/// Base's row loses its first tab (same length: archives keep their chunk lengths): one field
/// fewer than the COPY column list names. Returns the row's offset in `bytes`.
fn drop_a_field_of_base(bytes: &mut [u8], row: &[u8]) -> usize {
    let at = find(bytes, row).expect("base's row");
    let tab = at + find(row, b"\t").unwrap();
    bytes[tab] = b' ';
    at
}

fn copy_dir(from: &Path, to: &Path) {
    fs::create_dir_all(to).unwrap();
    for f in fs::read_dir(from).unwrap() {
        let f = f.unwrap();
        fs::copy(f.path(), to.join(f.file_name())).unwrap();
    }
}

/// The name of the data file a directory dump's TOC gives a table.
fn data_file(dir: &Path, table: &str) -> std::ffi::OsString {
    let input = odump_io::open(dir.to_str().unwrap()).unwrap();
    let odump_io::Body::Archive(archive) = input.body else {
        panic!("not an archive")
    };
    let reader = ArchiveReader::open("dir", archive).unwrap();
    reader
        .entries()
        .iter()
        .find_map(|e| match &e.data {
            DataLocation::File(f) if e.toc.kind == "TABLE DATA" && e.toc.name == table => {
                Some(f.into())
            }
            _ => None,
        })
        .unwrap_or_else(|| panic!("no data file for {table}"))
}

#[test]
fn custom_archives_cut_short_are_truncated() {
    let Some(pg) = odump_testpg::require() else {
        return;
    };
    let db = unique_db_name("damage_cut");
    pg.create_db(&db, &fixtures::odoo(SERIES, OdooOptions::default()));
    let tmp = tempfile::tempdir().unwrap();
    let custom = pg.dump(&db, DumpKind::Custom, tmp.path());
    let pipe = pg.dump(&db, DumpKind::CustomPipe, tmp.path());
    pg.drop_db(&db);
    for dump in [custom, pipe] {
        let bytes = fs::read(&dump).unwrap();
        let len = bytes.len();
        // In the header, the TOC, the data, the very last byte.
        for cut in [7, 300, len / 3, len / 2, len - 1] {
            let ctx = format!("{} cut at {cut} of {len}", dump.display());
            let part = tmp.path().join(format!("cut-{cut}.dump"));
            fs::write(&part, &bytes[..cut]).unwrap();

            let (code, report, stderr) = json(["check".as_ref(), part.as_os_str()]);
            let found = findings(&report);
            assert_eq!(code, 1, "{ctx}: {found:?} {stderr}");
            assert_eq!(report["ready"], false, "{ctx}");
            let truncated = found.iter().find(|(c, _)| c == "truncated");
            assert!(
                truncated.is_some_and(|(_, m)| m.contains(&format!("byte {cut}"))),
                "{ctx}: {found:?}"
            );
            assert!(found.iter().all(|(c, _)| c != "unreadable"), "{ctx}");

            let (code, report, stderr) = json(["inspect".as_ref(), part.as_os_str()]);
            assert_eq!(code, 2, "{ctx}: {stderr}");
            assert_eq!(report["complete"], false, "{ctx}");
            let lines: Vec<&str> = stderr.lines().collect();
            assert_eq!(lines.len(), 1, "{ctx}: {stderr}");
            assert!(
                lines[0].contains(&format!("ends at byte {cut}")) && lines[0].contains("truncated"),
                "{ctx}: {stderr}"
            );

            // The same bytes on stdin, where nothing can be sought.
            let out = run_stdin(["check", "--json", "-"], &bytes[..cut]);
            let report: Value = serde_json::from_slice(&out.stdout).unwrap();
            assert_eq!(out.status.code(), Some(1), "{ctx} (stdin)");
            assert!(
                findings(&report)
                    .iter()
                    .any(|(c, m)| c == "truncated" && m.contains(&format!("byte {cut}"))),
                "{ctx} (stdin): {report}"
            );
        }
    }
}

#[test]
fn directory_data_file_emptied() {
    let Some(pg) = odump_testpg::require() else {
        return;
    };
    let db = unique_db_name("damage_dir");
    let sql = fixtures::odoo(SERIES, OdooOptions::default())
        + "\nCREATE TABLE public.x_never_used (id integer, note text);\n";
    pg.create_db(&db, &sql);
    let tmp = tempfile::tempdir().unwrap();
    let z0 = pg.dump(&db, DumpKind::DirectoryUncompressed, tmp.path());
    pg.drop_db(&db);

    // Intact, the table without rows is complete and empty.
    let (code, report, stderr) = json(["inspect".as_ref(), z0.as_os_str()]);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(report["complete"], true, "{}", report["problems"]);
    let empty = report["tables"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["name"] == "x_never_used")
        .unwrap();
    assert_eq!(empty["rows"], 0);
    let (_, report, _) = json(["check".as_ref(), z0.as_os_str()]);
    assert!(
        findings(&report)
            .iter()
            .all(|(c, _)| c != "incomplete-dump" && c != "truncated"),
        "{report}"
    );

    // Its data file, or base's, emptied.
    let base = data_file(&z0, "ir_module_module");
    let never_used = data_file(&z0, "x_never_used");
    // What pg_dump writes for a table without rows: the end line and two blank lines.
    assert_eq!(fs::read(z0.join(&never_used)).unwrap(), b"\\.\n\n\n");
    for (file, table) in [(base, "ir_module_module"), (never_used, "x_never_used")] {
        let dir = tmp.path().join(format!("emptied-{table}"));
        copy_dir(&z0, &dir);
        fs::write(dir.join(&file), b"").unwrap();
        let ctx = format!("{table}'s {}", file.to_string_lossy());

        let (code, report, stderr) = json(["inspect".as_ref(), dir.as_os_str()]);
        assert_eq!(code, 0, "{ctx}: {stderr}");
        assert_eq!(report["complete"], false, "{ctx}");
        let problem = &report["problems"][0];
        assert_eq!(problem["code"], "unterminated-copy", "{ctx}: {report}");
        assert_eq!(problem["table"]["name"], table, "{ctx}");
        let message = problem["message"].as_str().unwrap();
        assert!(
            message.contains(&*file.to_string_lossy()) && message.contains("ends at byte 0"),
            "{ctx}: {message}"
        );

        let (code, report, _) = json(["check".as_ref(), dir.as_os_str()]);
        assert_eq!(code, 1, "{ctx}");
        assert_eq!(report["ready"], false, "{ctx}");
        assert!(
            findings(&report)
                .iter()
                .any(|(c, m)| c == "incomplete-dump" && m.contains(table)),
            "{ctx}: {report}"
        );

        let out = run(["version".as_ref(), dir.as_os_str()]);
        if table == "ir_module_module" {
            assert_eq!(out.status.code(), Some(2), "{ctx}");
            assert!(out.stdout.is_empty(), "{ctx}");
            let lines = stderr_lines(&out);
            assert_eq!(lines.len(), 1, "{ctx}: {lines:?}");
            assert!(
                lines[0].starts_with("odoo-dump: ") && lines[0].contains("ir_module_module"),
                "{ctx}: {lines:?}"
            );
        } else {
            assert_eq!(out.status.code(), Some(0), "{ctx}");
            assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), SERIES);
        }
    }
}

#[test]
fn version_refuses_base_row_with_a_field_missing() {
    let Some(pg) = odump_testpg::require() else {
        return;
    };
    let db = unique_db_name("damage_row");
    pg.create_db(&db, &fixtures::odoo(SERIES, OdooOptions::default()));
    let tmp = tempfile::tempdir().unwrap();
    let plain = pg.dump(&db, DumpKind::Plain, tmp.path());
    let custom_z0 = pg.dump(&db, DumpKind::CustomUncompressed, tmp.path());
    let pipe_z0 = pg.dump_with(
        &db,
        DumpKind::CustomPipe,
        &DumpOptions::new().arg("-Z0"),
        tmp.path(),
    );
    let dir_z0 = pg.dump(&db, DumpKind::DirectoryUncompressed, tmp.path());
    let dir_gz = pg.dump(&db, DumpKind::Directory, tmp.path());
    pg.drop_db(&db);

    let damaged = tmp.path().join("damaged");
    fs::create_dir(&damaged).unwrap();
    let mut cases: Vec<(String, PathBuf)> = Vec::new();
    let mut sql = fs::read(&plain).unwrap();
    let row = base_row(&sql);
    let row_at = drop_a_field_of_base(&mut sql, &row);
    fs::write(damaged.join("dump.sql"), &sql).unwrap();
    fs::write(damaged.join("dump.sql.gz"), gzip(&sql)).unwrap();
    cases.push((format!("byte {row_at}"), damaged.join("dump.sql")));
    cases.push((format!("byte {row_at}"), damaged.join("dump.sql.gz")));
    for (name, src) in [("custom.dump", &custom_z0), ("pipe.dump", &pipe_z0)] {
        let mut bytes = fs::read(src).unwrap();
        drop_a_field_of_base(&mut bytes, &row);
        fs::write(damaged.join(name), &bytes).unwrap();
        cases.push(("of its COPY text".into(), damaged.join(name)));
    }
    for (name, src) in [("dir-z0", &dir_z0), ("dir-gz", &dir_gz)] {
        let dir = damaged.join(name);
        copy_dir(src, &dir);
        let file = dir.join(data_file(&dir, "ir_module_module"));
        let gz = PathBuf::from(format!("{}.gz", file.display()));
        if gz.exists() {
            let mut text = gunzip(&fs::read(&gz).unwrap());
            drop_a_field_of_base(&mut text, &row);
            fs::write(&gz, gzip(&text)).unwrap();
        } else {
            let mut bytes = fs::read(&file).unwrap();
            drop_a_field_of_base(&mut bytes, &row);
            fs::write(&file, &bytes).unwrap();
        }
        cases.push(("of its COPY text".into(), dir));
    }

    for (at, path) in &cases {
        let ctx = path.display().to_string();
        let mut runs = vec![
            run(["version".as_ref(), path.as_os_str()]),
            run(["version".as_ref(), "--json".as_ref(), path.as_os_str()]),
        ];
        if path.is_file() {
            runs.push(run_stdin(["version", "-"], &fs::read(path).unwrap()));
        }
        for out in runs {
            assert_eq!(out.status.code(), Some(2), "{ctx}: {out:?}");
            assert!(out.stdout.is_empty(), "{ctx}: a version it did not read");
            let lines = stderr_lines(&out);
            assert_eq!(lines.len(), 1, "{ctx}: {lines:?}");
            let line = &lines[0];
            assert!(
                line.starts_with("odoo-dump: ")
                    && line.contains("public.ir_module_module")
                    && line.contains("first: row ")
                    && line.contains(at.as_str()),
                "{ctx}: {line}"
            );
        }
        let (code, report, _) = json(["check".as_ref(), path.as_os_str()]);
        assert_eq!(code, 1, "{ctx}");
        assert!(
            findings(&report)
                .iter()
                .any(|(c, m)| c == "incomplete-dump" && m.contains("ir_module_module")),
            "{ctx}: {report}"
        );
    }
}

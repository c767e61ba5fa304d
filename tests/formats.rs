//! `inspect` on one real database dumped by the real pg_dump in every format: the same tables,
//! row counts (equal to `SELECT count(*)`), object counts and versions, whatever the container.

mod common;

use common::{json, run_stdin};
use odump_testpg::{fixtures, unique_db_name, DumpKind};
use serde_json::Value;

/// `schema.table` → rows, for the tables a report gives rows for.
fn rows(report: &Value) -> Vec<(String, u64)> {
    let mut v: Vec<_> = report["tables"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|t| {
            let name = format!("{}.{}", t["schema"].as_str()?, t["name"].as_str()?);
            Some((name, t["rows"].as_u64()?))
        })
        .collect();
    v.sort();
    v
}

fn table_names(report: &Value) -> Vec<String> {
    let mut v: Vec<String> = report["tables"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| {
            format!(
                "{}.{}",
                t["schema"].as_str().unwrap(),
                t["name"].as_str().unwrap()
            )
        })
        .collect();
    v.sort();
    v
}

#[test]
fn every_format_reports_the_same_facts() {
    let Some(pg) = odump_testpg::require() else {
        return;
    };
    let db = unique_db_name("formats");
    pg.create_db(&db, &fixtures::kitchen_sink());
    let dir = tempfile::tempdir().unwrap();

    // What the server says: every ordinary and partition table, with its own rows.
    let truth: Vec<(String, u64)> = pg
        .query(
            &db,
            "SELECT n.nspname || '.' || c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace \
             WHERE c.relkind IN ('r', 'p') AND n.nspname NOT IN ('pg_catalog', 'information_schema') ORDER BY 1",
        )
        .lines()
        .map(|name| {
            let (schema, table) = name.split_once('.').unwrap();
            let quoted = format!(
                "{}.{}",
                odump_testpg::quote_ident(schema),
                odump_testpg::quote_ident(table)
            );
            let n: u64 = pg
                .query(&db, &format!("SELECT count(*) FROM ONLY {quoted}"))
                .trim()
                .parse()
                .unwrap();
            (name.to_string(), n)
        })
        .collect();
    assert!(truth.len() >= 8, "the fixture has tables: {truth:?}");

    let mut first: Option<(DumpKind, Value)> = None;
    for kind in DumpKind::ALL {
        let path = pg.dump(&db, kind, dir.path());
        let (code, report, stderr) = json(["inspect".as_ref(), path.as_os_str()]);
        assert_eq!(code, 0, "{kind:?}: {stderr}");
        assert_eq!(report["complete"], true, "{kind:?}: {report}");
        assert!(
            report["postgres"]["server_version"]
                .as_str()
                .unwrap()
                .starts_with(pg.server_version()),
            "{kind:?}"
        );
        assert!(report["postgres"]["pg_dump_version"].as_str().is_some());
        assert_eq!(report["postgres"]["encoding"], "UTF8", "{kind:?}");

        // Every table is listed, and every table with data has exactly the server's row count.
        let names = table_names(&report);
        let data = rows(&report);
        for (table, count) in &truth {
            assert!(names.contains(table), "{kind:?}: {table} not listed");
            if let Some((_, got)) = data.iter().find(|(t, _)| t == table) {
                assert_eq!(got, count, "{kind:?}: rows of {table}");
            } else {
                assert_eq!(*count, 0, "{kind:?}: {table} has rows but no data reported");
            }
        }
        match &first {
            None => first = Some((kind, report)),
            Some((first_kind, expected)) => {
                assert_eq!(
                    report["objects"], expected["objects"],
                    "{kind:?} vs {first_kind:?}"
                );
                assert_eq!(
                    report["tables"], expected["tables"],
                    "{kind:?} vs {first_kind:?}"
                );
            }
        }
    }
    pg.drop_db(&db);
}

#[test]
fn streams_from_stdin_match_files() {
    let Some(pg) = odump_testpg::require() else {
        return;
    };
    let db = unique_db_name("stdin");
    pg.create_db(&db, &fixtures::kitchen_sink());
    let dir = tempfile::tempdir().unwrap();
    for kind in [
        DumpKind::PlainGzipMultiMember,
        DumpKind::CustomPipe,
        DumpKind::OdooZip,
    ] {
        let path = pg.dump(&db, kind, dir.path());
        let (_, from_file, _) = json(["inspect".as_ref(), path.as_os_str()]);
        let out = run_stdin(["inspect", "-", "--json"], &std::fs::read(&path).unwrap());
        assert!(
            out.status.success(),
            "{kind:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let from_stdin: Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(from_stdin["tables"], from_file["tables"], "{kind:?}");
        assert_eq!(from_stdin["objects"], from_file["objects"], "{kind:?}");
        assert_eq!(from_stdin["complete"], true);
    }
    pg.drop_db(&db);
}

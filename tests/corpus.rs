//! `inspect` on every file of the shared corpus, against the facts its README lists.

mod common;

use common::{corpus, gzip, json, run, run_stdin};
use serde_json::Value;

fn table<'a>(report: &'a Value, name: &str) -> &'a Value {
    report["tables"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["name"] == name)
        .unwrap_or_else(|| panic!("table {name} not reported"))
}

#[test]
fn enterprise_backup_zip() {
    let Some(path) = corpus("odoo17-enterprise-backup.zip") else {
        return;
    };
    let (code, r, stderr) = json(["inspect".as_ref(), path.as_os_str()]);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(r["container"], "zip");
    assert_eq!(r["format"], "plain");
    assert_eq!(r["complete"], true);
    assert_eq!(r["tables"].as_array().unwrap().len(), 114);
    assert_eq!(r["objects"]["TABLE DATA"], 114);
    assert_eq!(r["objects"]["TABLE"], 114);
    assert!(r["postgres"]["server_version"]
        .as_str()
        .unwrap()
        .starts_with("14.19"));
    assert!(r["postgres"]["pg_dump_version"]
        .as_str()
        .unwrap()
        .starts_with("16.4"));
    assert_eq!(r["postgres"]["encoding"], "UTF8");
    assert_eq!(r["filestore"]["included"], true);
    assert_eq!(r["filestore"]["files"], 12);
    assert_eq!(table(&r, "ir_attachment")["rows"], 15);
}

#[test]
fn odoo12_data_only() {
    let Some(path) = corpus("odoo12-data-only.sql") else {
        return;
    };
    let (code, r, _) = json(["inspect".as_ref(), path.as_os_str()]);
    assert_eq!(code, 0);
    assert_eq!(r["container"], "plain");
    assert_eq!(r["objects"]["TABLE DATA"], 168);
    assert!(r["objects"].get("TABLE").is_none());
    let tables = r["tables"].as_array().unwrap();
    assert_eq!(tables.len(), 168);
    assert!(tables.iter().all(|t| t["rows"].is_u64()));
    assert!(r["postgres"]["server_version"]
        .as_str()
        .unwrap()
        .starts_with("10.10"));
}

#[test]
fn odoo12_schema_only_has_tables_without_rows() {
    let Some(path) = corpus("odoo12-schema-only.sql") else {
        return;
    };
    let (code, r, _) = json(["inspect".as_ref(), path.as_os_str()]);
    assert_eq!(code, 0);
    let tables = r["tables"].as_array().unwrap();
    assert_eq!(tables.len(), 168);
    assert!(tables.iter().all(|t| t["rows"].is_null()));
    assert!(r["objects"].get("TABLE DATA").is_none());
}

#[test]
fn odoo16_schema_dumps() {
    for name in ["odoo16-schema-a.sql", "odoo16-schema-b.sql"] {
        let Some(path) = corpus(name) else { return };
        let (code, r, _) = json(["inspect".as_ref(), path.as_os_str()]);
        assert_eq!(code, 0);
        assert_eq!(r["objects"]["TABLE"], 776, "{name}");
        assert_eq!(r["tables"].as_array().unwrap().len(), 776);
        assert_eq!(r["complete"], true);
    }
}

#[test]
fn old_style_tiny_pair() {
    for name in ["tiny-synthetic-before.sql", "tiny-synthetic-after.sql"] {
        let Some(path) = corpus(name) else { return };
        let (code, r, _) = json(["inspect".as_ref(), path.as_os_str()]);
        assert_eq!(code, 0);
        assert_eq!(r["tables"].as_array().unwrap().len(), 5);
        // Unqualified names take their schema from the TOC / search_path.
        assert!(r["tables"]
            .as_array()
            .unwrap()
            .iter()
            .all(|t| t["schema"] == "public"));
        assert!(r["postgres"]["server_version"]
            .as_str()
            .unwrap()
            .starts_with("9.5"));
    }
}

#[test]
fn utf16_file_is_transcoded() {
    let Some(path) = corpus("empty-utf16.sql") else {
        return;
    };
    let (code, r, stderr) = json(["inspect".as_ref(), path.as_os_str()]);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(r["text_encoding"], "utf16-le");
    assert_eq!(r["complete"], true);
    assert!(r["postgres"]["pg_dump_version"]
        .as_str()
        .unwrap()
        .starts_with("15.15"));
}

#[test]
fn several_files_give_an_array_in_argument_order() {
    let (Some(a), Some(b)) = (
        corpus("tiny-synthetic-after.sql"),
        corpus("odoo12-data-only.sql"),
    ) else {
        return;
    };
    let (code, r, _) = json(["inspect".as_ref(), a.as_os_str(), b.as_os_str()]);
    assert_eq!(code, 0);
    let arr = r.as_array().unwrap();
    assert_eq!(arr.len(), 2);
    assert!(arr[0]["file"]
        .as_str()
        .unwrap()
        .ends_with("tiny-synthetic-after.sql"));
    assert!(arr[1]["file"]
        .as_str()
        .unwrap()
        .ends_with("odoo12-data-only.sql"));
}

#[test]
fn stdin_gzip_and_zip_match_the_file() {
    let Some(path) = corpus("odoo12-data-only.sql") else {
        return;
    };
    let sql = std::fs::read(&path).unwrap();
    let out = run_stdin(["inspect", "-", "--json"], &gzip(&sql));
    assert!(out.status.success());
    let r: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(r["container"], "gzip");
    let (_, direct, _) = json(["inspect".as_ref(), path.as_os_str()]);
    assert_eq!(r["tables"], direct["tables"]);
    assert_eq!(r["objects"], direct["objects"]);

    let Some(zip) = corpus("odoo17-enterprise-backup.zip") else {
        return;
    };
    let out = run_stdin(["inspect", "-", "--json"], &std::fs::read(&zip).unwrap());
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let r: Value = serde_json::from_slice(&out.stdout).unwrap();
    let (_, direct, _) = json(["inspect".as_ref(), zip.as_os_str()]);
    assert_eq!(r["tables"], direct["tables"]);
    assert_eq!(r["filestore"], direct["filestore"]);
}

#[test]
fn truncated_gzip_is_an_error_with_offset_at_any_cut() {
    let Some(path) = corpus("tiny-synthetic-before.sql") else {
        return;
    };
    let whole = gzip(&std::fs::read(&path).unwrap());
    let dir = tempfile::tempdir().unwrap();
    for cut in (1..whole.len())
        .step_by(97)
        .chain([whole.len() - 1, whole.len() - 4])
    {
        let file = dir.path().join(format!("cut{cut}.sql.gz"));
        std::fs::write(&file, &whole[..cut]).unwrap();
        let out = run(["inspect".as_ref(), file.as_os_str()]);
        assert_eq!(out.status.code(), Some(2), "cut at {cut}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            stderr.contains("truncated at compressed byte"),
            "cut {cut}: {stderr}"
        );
        assert!(!stderr.contains("panicked"));
    }
}

#[test]
fn flipped_crc_is_corrupt() {
    let Some(path) = corpus("tiny-synthetic-before.sql") else {
        return;
    };
    let mut whole = gzip(&std::fs::read(&path).unwrap());
    let at = whole.len() - 7;
    whole[at] ^= 0x40;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("crc.sql.gz");
    std::fs::write(&file, &whole).unwrap();
    let (code, r, stderr) = json(["inspect".as_ref(), file.as_os_str()]);
    assert_eq!(code, 2);
    assert_eq!(r["complete"], false);
    assert!(stderr.contains("CRC32 mismatch"), "{stderr}");
    assert!(
        stderr.contains(&format!("compressed byte {}", whole.len() - 8)),
        "{stderr}"
    );
}

#[test]
fn not_a_dump_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    for (name, bytes) in [
        ("empty.sql", &b""[..]),
        ("notes.sql", b"just some notes\n"),
        ("garbage.bin", b"\x00\x13\x99garbage"),
    ] {
        let file = dir.path().join(name);
        std::fs::write(&file, bytes).unwrap();
        let out = run(["inspect".as_ref(), file.as_os_str()]);
        assert_eq!(out.status.code(), Some(2), "{name}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains("not a PostgreSQL dump"), "{name}: {stderr}");
        assert_eq!(stderr.lines().count(), 1, "one line: {stderr}");
    }
}

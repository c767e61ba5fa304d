//! Test harness for odoo-dump's end-to-end tests (dev-only, never shipped): a throwaway real
//! PostgreSQL cluster, databases with known content, and real `pg_dump` output in every format
//! the tool reads.
//!
//! ```no_run
//! use odump_testpg::{fixtures, DumpKind};
//!
//! // In a #[test]: skip (or fail on CI) when PostgreSQL is not installed.
//! let Some(pg) = odump_testpg::require() else { return };
//! let db = odump_testpg::unique_db_name("shop");
//! pg.create_db(&db, &fixtures::odoo("17.0", fixtures::OdooOptions::default()));
//! let out = tempfile::tempdir().unwrap();
//! let dump = pg.dump(&db, DumpKind::CustomPipe, out.path());
//! // … run the tool on `dump`, compare with what the server says:
//! assert_eq!(pg.count(&db, "ir_module_module WHERE state = 'installed'"), 4);
//! ```
//!
//! # The cluster
//!
//! [`require`] / [`shared`] start one cluster per test process on first use (about two
//! seconds): `initdb` into a fresh `/tmp/odump-testpg-XXXXXX`, then `postgres` listening only
//! on a unix socket in that directory (no TCP, so no port clashes), `trust` authentication,
//! superuser `postgres`, UTF-8, locale `C`, time zone UTC, `fsync=off`. As root (CI), the
//! server runs as the `postgres` OS user (via `runuser`, else `su`); client tools run as the
//! current user. Binaries: `$ODUMP_TESTPG_BINDIR`, else `pg_config --bindir`, else the highest
//! `/usr/lib/postgresql/<N>/bin`, else `PATH`.
//!
//! No server outlives the test process: the postmaster is the child of a small shell watchdog
//! that waits for EOF on a pipe held only by the test process; when the process exits for any
//! reason (including SIGKILL) the watchdog shuts the server down and deletes the directory.
//! Directories left by a run killed together with its watchdog are swept (and their server
//! stopped) by the next start. Set `ODUMP_TESTPG_KEEP=1` to keep the directory for debugging.
//! Every child process runs with a deadline, so nothing hangs.
//!
//! Tests in one process share the cluster and run in parallel: give each database a name from
//! [`unique_db_name`].
//!
//! # Dumps
//!
//! [`Cluster::dump`] / [`Cluster::dump_with`] run the real `pg_dump` and return the dump's
//! path; [`DumpKind`] lists the shapes (plain, gzip, multi-member gzip, custom to a file or a
//! pipe, uncompressed custom, directory, Odoo backup zip) and [`DumpOptions`] the options
//! (`--inserts`, `--schema-only`, `--data-only`, any argument, the zip's manifest and filestore).
//!
//! # Fixtures
//!
//! [`fixtures::kitchen_sink`] (every column type and schema object) and [`fixtures::odoo`]
//! (an Odoo database of a given series, edition, neutralization state…) return SQL text.

#![warn(missing_docs)]

mod cluster;
mod dump;
pub mod fixtures;
mod process;
mod sha1;

pub use cluster::{
    pg_version, quote_ident, quote_literal, require, shared, unavailable_reason, unique_db_name,
    Cluster,
};
pub use dump::{DumpKind, DumpOptions};
pub use sha1::sha1_hex;

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;

    #[test]
    fn cluster_runs_and_reports_versions() {
        let Some(pg) = require() else { return };
        assert!(pg.server_version_num() >= 100000);
        assert!(pg
            .server_version()
            .starts_with(&format!("{}.", pg.major_version())));
        assert_eq!(pg_version(), pg.server_version());
        // Same installation: pg_dump has the server's version.
        assert_eq!(pg.pg_dump_version(), pg.server_version());
        assert_eq!(pg.query("postgres", "SELECT 1 + 1"), "2");
        assert_eq!(pg.query("postgres", "SHOW TimeZone"), "UTC");
        assert!(pg
            .socket_dir()
            .join(format!(".s.PGSQL.{}", pg.port()))
            .exists());
        let e = pg
            .psql("postgres", "SELECT 1;\nSELECT no_such_column;")
            .unwrap_err();
        assert!(e.contains("no_such_column"), "{e}");
        assert!(pg.conninfo("x").contains("dbname='x'"));
    }

    #[test]
    fn create_db_fails_loudly_and_can_be_retried() {
        let Some(pg) = require() else { return };
        let db = unique_db_name("broken");
        let e = pg
            .try_create_db(&db, "CREATE TABLE t (id int);\nINSERT INTO t VALUES ('x');")
            .unwrap_err();
        assert!(e.contains("invalid input syntax"), "{e}");
        pg.create_db(
            &db,
            "CREATE TABLE t (id int); INSERT INTO t VALUES (1), (2);",
        );
        assert_eq!(pg.count(&db, "t"), 2);
        pg.drop_db(&db);
    }

    fn read_all(path: &std::path::Path) -> Vec<u8> {
        std::fs::read(path).unwrap()
    }

    #[test]
    fn dumps_in_every_kind() {
        let Some(pg) = require() else { return };
        let db = unique_db_name("dumps");
        pg.create_db(
            &db,
            &fixtures::odoo(
                "17.0",
                fixtures::OdooOptions {
                    with_attachments: 3,
                    ..Default::default()
                },
            ),
        );
        let out = tempfile::tempdir().unwrap();
        let plain = pg.dump(&db, DumpKind::Plain, out.path());
        let sql = read_all(&plain);
        let text = String::from_utf8_lossy(&sql);
        assert!(text.contains("-- PostgreSQL database dump"));
        assert!(text.contains(&format!(
            "-- Dumped from database version {}",
            pg.server_version()
        )));
        assert!(text.contains(&format!(
            "-- Dumped by pg_dump version {}",
            pg.pg_dump_version()
        )));
        assert!(text.contains("COPY public.ir_module_module ("));
        assert!(
            text.trim_end()
                .ends_with("-- PostgreSQL database dump complete")
                || text.contains("-- PostgreSQL database dump complete")
        );

        // Gzip kinds decompress to a plain dump of the same database (the \restrict key of
        // recent pg_dump differs per run, so compare sizes loosely and content markers).
        for kind in [DumpKind::PlainGzip, DumpKind::PlainGzipMultiMember] {
            let p = pg.dump(&db, kind, out.path());
            let gz = read_all(&p);
            assert_eq!(&gz[..2], &[0x1f, 0x8b]);
            let mut back = Vec::new();
            flate2::read::MultiGzDecoder::new(&gz[..])
                .read_to_end(&mut back)
                .unwrap();
            assert!(String::from_utf8_lossy(&back).contains("COPY public.ir_module_module ("));
            assert!(
                (back.len() as i64 - sql.len() as i64).abs() < 200,
                "{kind:?}"
            );
            let members = gz.windows(3).filter(|w| w == &[0x1f, 0x8b, 8]).count();
            if kind == DumpKind::PlainGzipMultiMember {
                assert!(members >= 3, "{members}");
            }
        }

        let opts3 = DumpOptions::new().gzip_members(5).inserts();
        let p = pg.dump_with(&db, DumpKind::PlainGzipMultiMember, &opts3, out.path());
        assert!(p
            .to_string_lossy()
            .ends_with("-plain-gzip-multi-inserts.sql.gz"));
        let mut back = String::new();
        flate2::read::MultiGzDecoder::new(&read_all(&p)[..])
            .read_to_string(&mut back)
            .unwrap();
        assert!(back.contains("INSERT INTO public.ir_module_module VALUES"));

        for kind in [
            DumpKind::Custom,
            DumpKind::CustomPipe,
            DumpKind::CustomUncompressed,
        ] {
            let p = pg.dump(&db, kind, out.path());
            assert_eq!(&read_all(&p)[..5], b"PGDMP", "{kind:?}");
            let mut cmd = pg.command("pg_restore");
            cmd.arg("-l").arg(&p);
            let o = cmd.output().unwrap();
            assert!(
                o.status.success(),
                "{kind:?}: {}",
                String::from_utf8_lossy(&o.stderr)
            );
            assert!(
                String::from_utf8_lossy(&o.stdout).contains("TABLE DATA public ir_module_module")
            );
        }
        let custom = read_all(&out.path().join(format!("{db}-custom.dump")));
        let piped = read_all(&out.path().join(format!("{db}-custom-pipe.dump")));
        assert_ne!(custom, piped, "offsets set vs not set");

        for (kind, ext) in [
            (DumpKind::Directory, ".dat.gz"),
            (DumpKind::DirectoryUncompressed, ".dat"),
        ] {
            let p = pg.dump(&db, kind, out.path());
            assert!(p.is_dir());
            assert_eq!(&read_all(&p.join("toc.dat"))[..5], b"PGDMP");
            let n = std::fs::read_dir(&p)
                .unwrap()
                .filter(|e| {
                    let name = e
                        .as_ref()
                        .unwrap()
                        .file_name()
                        .to_string_lossy()
                        .into_owned();
                    name.ends_with(ext) && (ext == ".dat.gz" || !name.ends_with(".gz"))
                })
                .count();
            assert!(n > 5, "{kind:?}: {n} data files");
        }

        let files = fixtures::attachment_files(3);
        let opts = DumpOptions::new().filestore(files.clone());
        let zip_path = pg.dump_with(&db, DumpKind::OdooZip, &opts, out.path());
        let mut z = zip::ZipArchive::new(std::fs::File::open(&zip_path).unwrap()).unwrap();
        let names: Vec<String> = (0..z.len())
            .map(|i| z.by_index(i).unwrap().name().unwrap().into_owned())
            .collect();
        assert_eq!(names[0], "dump.sql");
        assert_eq!(names[1], "manifest.json");
        assert_eq!(names.len(), 2 + files.len());
        assert_eq!(names[2], format!("filestore/{}", files[0].0));
        let mut manifest = String::new();
        z.by_name("manifest.json")
            .unwrap()
            .read_to_string(&mut manifest)
            .unwrap();
        assert!(manifest.starts_with("{\n    \""), "{manifest}");
        let m: serde_json::Value = serde_json::from_str(&manifest).unwrap();
        assert_eq!(m["odoo_dump"], "1");
        assert_eq!(m["db_name"], db.as_str());
        assert_eq!(m["version"], "17.0");
        assert_eq!(m["major_version"], "17.0");
        assert_eq!(
            m["version_info"],
            serde_json::json!([17, 0, 0, "final", 0, ""])
        );
        assert_eq!(m["pg_version"], format!("{}.0", pg.major_version()));
        assert_eq!(m["modules"]["base"], "17.0.1.3");
        assert_eq!(m["modules"].as_object().unwrap().len(), 4);
        let mut dump_sql = String::new();
        z.by_name("dump.sql")
            .unwrap()
            .read_to_string(&mut dump_sql)
            .unwrap();
        assert!(dump_sql.contains("COPY public.ir_module_module ("));
        assert!(!dump_sql.contains("OWNER TO"), "--no-owner");

        let custom_manifest = serde_json::json!({"odoo_dump": "1", "version": "saas~17.2+e"});
        let p = pg.dump_with(
            &db,
            DumpKind::OdooZip,
            &DumpOptions::new()
                .manifest(custom_manifest.clone())
                .schema_only()
                .file_stem("given"),
            out.path(),
        );
        assert_eq!(p.file_name().unwrap(), "given.zip");
        let mut z = zip::ZipArchive::new(std::fs::File::open(&p).unwrap()).unwrap();
        let mut s = String::new();
        z.by_name("manifest.json")
            .unwrap()
            .read_to_string(&mut s)
            .unwrap();
        assert_eq!(
            serde_json::from_str::<serde_json::Value>(&s).unwrap(),
            custom_manifest
        );
        let mut s = String::new();
        z.by_name("dump.sql")
            .unwrap()
            .read_to_string(&mut s)
            .unwrap();
        assert!(!s.contains("COPY "), "schema-only");

        let m = pg.odoo_manifest(&db, Some("saas~17.2+e")).unwrap();
        assert_eq!(
            m["version_info"],
            serde_json::json!(["saas~17", 2, 0, "final", 0, "e"])
        );
        assert_eq!(m["major_version"], "saas~17.2");
        pg.drop_db(&db);
    }

    #[test]
    fn kitchen_sink_dumps_restore() {
        let Some(pg) = require() else { return };
        let db = unique_db_name("sink_dump");
        pg.create_db(&db, &fixtures::kitchen_sink());
        let out = tempfile::tempdir().unwrap();
        let plain = pg.dump(&db, DumpKind::Plain, out.path());
        let text = std::fs::read_to_string(&plain).unwrap();
        // pg_dump chose the dollar-quote tags the docs promise.
        assert!(text.contains("AS $$ SELECT i + 1; $$;"));
        assert!(text.contains("AS $_$ SELECT $1 || ';' || $2; $_$;"));
        assert!(text.contains("AS $_X$"));
        assert!(text.contains("BEGIN ATOMIC"));
        assert!(text.contains("COPY public.\"Weird Name\" (\"ID\", \"Mixed Case\", \"select\", \"with space\") FROM stdin;"));
        // A plain dump restores into an identical database.
        let copy = unique_db_name("sink_restored");
        pg.create_db(&copy, &text);
        for (schema, table, rows) in fixtures::KITCHEN_SINK_TABLES {
            let name = format!("{}.{}", quote_ident(schema), quote_ident(table));
            assert_eq!(pg.count(&copy, &name), *rows, "{name}");
        }
        let digest = "SELECT md5(string_agg(t::text, '|' ORDER BY id)) FROM public.all_types t";
        assert_eq!(pg.query(&db, digest), pg.query(&copy, digest));
        pg.drop_db(&copy);
        pg.drop_db(&db);
    }
}

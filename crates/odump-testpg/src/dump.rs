//! Dumping a database with the real `pg_dump`, in every format the tool reads.

use std::fs::{self, File};
use std::io::Write;
use std::path::{Path, PathBuf};

use flate2::write::GzEncoder;
use flate2::Compression;
use serde_json::{json, Map, Value};

use crate::cluster::{Cluster, TOOL_TIMEOUT};
use crate::process::{self, Stdout};

/// The shape of a dump: a `pg_dump` format plus the container around it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum DumpKind {
    /// `pg_dump -Fp -f <db>.sql`: plain SQL.
    Plain,
    /// Plain SQL compressed as one gzip member: `.sql.gz` (like `pg_dump | gzip`).
    PlainGzip,
    /// Plain SQL cut at arbitrary byte offsets (mid-line) into several gzip members written one
    /// after the other, like `pigz` output or `cat a.gz b.gz`: `.sql.gz`. Three members unless
    /// [`DumpOptions::gzip_members`] says otherwise.
    PlainGzipMultiMember,
    /// `pg_dump -Fc -f <db>.dump`: custom archive written to a file, so the TOC carries the data
    /// offsets (`K_OFFSET_POS_SET`).
    Custom,
    /// `pg_dump -Fc` writing to a pipe (as Odoo's own "dump" backups do): the TOC data offsets
    /// are NOT set, data blocks must be found by scanning forward.
    CustomPipe,
    /// `pg_dump -Fc -Z0 -f <db>.dump`: custom archive with uncompressed data blocks.
    CustomUncompressed,
    /// `pg_dump -Fd -f <db>/`: directory archive, `toc.dat` plus `<id>.dat.gz` files.
    Directory,
    /// `pg_dump -Fd -Z0 -f <db>/`: directory archive with plain `<id>.dat` files.
    DirectoryUncompressed,
    /// An Odoo database-manager backup `.zip`: `dump.sql` (plain, `--no-owner`), then
    /// `manifest.json`, then `filestore/<2 hex>/<sha1>` files, all deflated, in that order.
    OdooZip,
}

impl DumpKind {
    /// Every kind, in declaration order.
    pub const ALL: [DumpKind; 9] = [
        DumpKind::Plain,
        DumpKind::PlainGzip,
        DumpKind::PlainGzipMultiMember,
        DumpKind::Custom,
        DumpKind::CustomPipe,
        DumpKind::CustomUncompressed,
        DumpKind::Directory,
        DumpKind::DirectoryUncompressed,
        DumpKind::OdooZip,
    ];

    /// A short kebab-case name used in output file names (`custom-pipe`).
    pub fn slug(self) -> &'static str {
        match self {
            DumpKind::Plain => "plain",
            DumpKind::PlainGzip => "plain-gzip",
            DumpKind::PlainGzipMultiMember => "plain-gzip-multi",
            DumpKind::Custom => "custom",
            DumpKind::CustomPipe => "custom-pipe",
            DumpKind::CustomUncompressed => "custom-z0",
            DumpKind::Directory => "directory",
            DumpKind::DirectoryUncompressed => "directory-z0",
            DumpKind::OdooZip => "odoo",
        }
    }

    /// The file name extension, with its dot (`.sql.gz`); empty for directory archives.
    pub fn extension(self) -> &'static str {
        match self {
            DumpKind::Plain => ".sql",
            DumpKind::PlainGzip | DumpKind::PlainGzipMultiMember => ".sql.gz",
            DumpKind::Custom | DumpKind::CustomPipe | DumpKind::CustomUncompressed => ".dump",
            DumpKind::Directory | DumpKind::DirectoryUncompressed => "",
            DumpKind::OdooZip => ".zip",
        }
    }

    /// Whether the dump is a directory rather than a file.
    pub fn is_directory(self) -> bool {
        matches!(self, DumpKind::Directory | DumpKind::DirectoryUncompressed)
    }
}

/// Options for [`Cluster::dump_with`], built with chained calls:
///
/// ```
/// use odump_testpg::DumpOptions;
/// let opts = DumpOptions::new().inserts().arg("--exclude-table=public.big");
/// ```
#[derive(Clone, Debug, Default)]
pub struct DumpOptions {
    args: Vec<String>,
    file_stem: Option<String>,
    gzip_members: Option<usize>,
    manifest: Option<Value>,
    odoo_version: Option<String>,
    filestore: Vec<(String, Vec<u8>)>,
    name_suffix: String,
}

impl DumpOptions {
    /// No options: `pg_dump`'s defaults.
    pub fn new() -> DumpOptions {
        DumpOptions::default()
    }

    fn flag(mut self, flag: &str, suffix: &str) -> DumpOptions {
        self.args.push(flag.to_owned());
        self.name_suffix.push('-');
        self.name_suffix.push_str(suffix);
        self
    }

    /// `--inserts`: data as `INSERT` statements instead of `COPY`.
    pub fn inserts(self) -> DumpOptions {
        self.flag("--inserts", "inserts")
    }

    /// `--column-inserts`: `INSERT` statements naming their columns.
    pub fn column_inserts(self) -> DumpOptions {
        self.flag("--column-inserts", "column-inserts")
    }

    /// `--schema-only`: no data.
    pub fn schema_only(self) -> DumpOptions {
        self.flag("--schema-only", "schema-only")
    }

    /// `--data-only`: no DDL.
    pub fn data_only(self) -> DumpOptions {
        self.flag("--data-only", "data-only")
    }

    /// `--no-owner` (always on for [`DumpKind::OdooZip`], as Odoo does).
    pub fn no_owner(self) -> DumpOptions {
        self.flag("--no-owner", "no-owner")
    }

    /// Any other `pg_dump` argument, passed as is (e.g. `--exclude-table-data=public.big`).
    pub fn arg(mut self, arg: impl Into<String>) -> DumpOptions {
        self.args.push(arg.into());
        self
    }

    /// The output name without extension; default `<db>-<kind slug>[-<option>…]`.
    pub fn file_stem(mut self, stem: impl Into<String>) -> DumpOptions {
        self.file_stem = Some(stem.into());
        self
    }

    /// Number of gzip members for [`DumpKind::PlainGzipMultiMember`] (default 3; fewer when the
    /// SQL has fewer bytes).
    pub fn gzip_members(mut self, n: usize) -> DumpOptions {
        self.gzip_members = Some(n.max(1));
        self
    }

    /// [`DumpKind::OdooZip`]: use this `manifest.json` value instead of deriving one.
    pub fn manifest(mut self, manifest: Value) -> DumpOptions {
        self.manifest = Some(manifest);
        self
    }

    /// [`DumpKind::OdooZip`]: the derived manifest's `version` (e.g. `17.0+e`, `saas~17.2`);
    /// `version_info` and `major_version` follow from it. Default: the series of the database's
    /// `base` module (`+e` when an installed module has license OEEL-1), else `17.0`.
    pub fn odoo_version(mut self, version: impl Into<String>) -> DumpOptions {
        self.odoo_version = Some(version.into());
        self
    }

    /// [`DumpKind::OdooZip`]: add `filestore/<store_fname>` with `content`, where `store_fname`
    /// is an `ir_attachment.store_fname` (`ab/abcdef…`). See [`crate::fixtures::attachment_files`].
    pub fn filestore_file(mut self, store_fname: impl Into<String>, content: &[u8]) -> DumpOptions {
        self.filestore.push((store_fname.into(), content.to_vec()));
        self
    }

    /// [`DumpKind::OdooZip`]: add several filestore files (see [`DumpOptions::filestore_file`]).
    pub fn filestore<I, S>(mut self, files: I) -> DumpOptions
    where
        I: IntoIterator<Item = (S, Vec<u8>)>,
        S: Into<String>,
    {
        self.filestore
            .extend(files.into_iter().map(|(n, c)| (n.into(), c)));
        self
    }
}

impl Cluster {
    /// Dumps `db` as `kind` into `out_dir` with `pg_dump`'s defaults and returns the path of the
    /// dump (`<out_dir>/<db>-<kind slug><extension>`; an existing one is replaced). Panics on
    /// failure with `pg_dump`'s stderr.
    pub fn dump(&self, db: &str, kind: DumpKind, out_dir: &Path) -> PathBuf {
        self.dump_with(db, kind, &DumpOptions::new(), out_dir)
    }

    /// [`dump`](Self::dump) with options. Panics on failure.
    pub fn dump_with(
        &self,
        db: &str,
        kind: DumpKind,
        opts: &DumpOptions,
        out_dir: &Path,
    ) -> PathBuf {
        match self.try_dump(db, kind, opts, out_dir) {
            Ok(p) => p,
            Err(e) => panic!("dumping {db:?} as {kind:?} failed: {e}"),
        }
    }

    /// [`dump_with`](Self::dump_with) returning the error instead of panicking.
    pub fn try_dump(
        &self,
        db: &str,
        kind: DumpKind,
        opts: &DumpOptions,
        out_dir: &Path,
    ) -> Result<PathBuf, String> {
        fs::create_dir_all(out_dir)
            .map_err(|e| format!("cannot create {}: {e}", out_dir.display()))?;
        let stem = opts
            .file_stem
            .clone()
            .unwrap_or_else(|| format!("{db}-{}{}", kind.slug(), opts.name_suffix));
        let path = out_dir.join(format!("{stem}{}", kind.extension()));
        if path.is_dir() {
            fs::remove_dir_all(&path)
        } else if path.exists() {
            fs::remove_file(&path)
        } else {
            Ok(())
        }
        .map_err(|e| format!("cannot replace {}: {e}", path.display()))?;

        let write = |bytes: &[u8]| {
            fs::write(&path, bytes).map_err(|e| format!("writing {}: {e}", path.display()))
        };
        match kind {
            DumpKind::Plain => self.pg_dump_to(db, &["-Fp"], opts, &path)?,
            DumpKind::Custom => self.pg_dump_to(db, &["-Fc"], opts, &path)?,
            DumpKind::CustomUncompressed => self.pg_dump_to(db, &["-Fc", "-Z0"], opts, &path)?,
            DumpKind::Directory => self.pg_dump_to(db, &["-Fd"], opts, &path)?,
            DumpKind::DirectoryUncompressed => self.pg_dump_to(db, &["-Fd", "-Z0"], opts, &path)?,
            DumpKind::CustomPipe => {
                let file = File::create(&path)
                    .map_err(|e| format!("cannot create {}: {e}", path.display()))?;
                self.pg_dump_stdout(db, &["-Fc"], opts, Stdout::File(file))?;
            }
            DumpKind::PlainGzip => {
                let sql = self.pg_dump_stdout(db, &["-Fp"], opts, Stdout::Capture)?;
                write(&gzip(&sql))?;
            }
            DumpKind::PlainGzipMultiMember => {
                let sql = self.pg_dump_stdout(db, &["-Fp"], opts, Stdout::Capture)?;
                write(&gzip_members(&sql, opts.gzip_members.unwrap_or(3)))?;
            }
            DumpKind::OdooZip => {
                let sql = self.pg_dump_stdout(db, &["-Fp", "--no-owner"], opts, Stdout::Capture)?;
                let manifest = match &opts.manifest {
                    Some(m) => m.clone(),
                    None => self.odoo_manifest(db, opts.odoo_version.as_deref())?,
                };
                write_odoo_zip(&path, &sql, &manifest, &opts.filestore)?;
            }
        }
        Ok(path)
    }

    /// The `manifest.json` Odoo's database manager would write for `db`: `odoo_dump`,
    /// `db_name`, `version`, `version_info`, `major_version`, `pg_version` (computed from the
    /// server version the way Odoo does: `"<major>.0"` for PostgreSQL ≥ 10) and `modules`
    /// (installed module → `latest_version`). `version` defaults as in
    /// [`DumpOptions::odoo_version`].
    pub fn odoo_manifest(&self, db: &str, version: Option<&str>) -> Result<Value, String> {
        let mut modules = Map::new();
        let mut derived = None;
        let has_modules = self.psql(
            db,
            "SELECT to_regclass('public.ir_module_module') IS NOT NULL",
        )? == "t";
        if has_modules {
            let rows = self.psql(
                db,
                "SELECT name || '|' || coalesce(latest_version, '') FROM ir_module_module \
                 WHERE state = 'installed' ORDER BY name",
            )?;
            for line in rows.lines() {
                if let Some((name, v)) = line.split_once('|') {
                    modules.insert(name.to_owned(), Value::String(v.to_owned()));
                }
            }
            let base = self.psql(
                db,
                "SELECT coalesce(latest_version, '') FROM ir_module_module WHERE name = 'base'",
            )?;
            let enterprise = self.psql(
                db,
                "SELECT count(*) FROM ir_module_module WHERE state = 'installed' AND license = 'OEEL-1'",
            )? != "0";
            let parts: Vec<&str> = base.split('.').collect();
            if parts.len() >= 2 {
                let series = format!("{}.{}", parts[0], parts[1]);
                derived = Some(if enterprise {
                    format!("{series}+e")
                } else {
                    series
                });
            }
        }
        let version = version
            .map(str::to_owned)
            .or(derived)
            .unwrap_or_else(|| "17.0".to_owned());
        let n = self.server_version_num();
        let pg_version = if n >= 100000 {
            format!("{}.0", n / 10000)
        } else {
            format!("{}.{}", n / 10000, (n / 100) % 100)
        };
        let (series, info) = version_info(&version);
        Ok(json!({
            "odoo_dump": "1",
            "db_name": db,
            "version": version,
            "version_info": info,
            "major_version": series,
            "pg_version": pg_version,
            "modules": modules,
        }))
    }

    fn pg_dump_args(&self, db: &str, format: &[&str], opts: &DumpOptions) -> std::process::Command {
        let mut cmd = self.command("pg_dump");
        cmd.args(format);
        cmd.args(&opts.args);
        cmd.arg("-d").arg(db);
        cmd
    }

    fn pg_dump_to(
        &self,
        db: &str,
        format: &[&str],
        opts: &DumpOptions,
        path: &Path,
    ) -> Result<(), String> {
        let mut cmd = self.pg_dump_args(db, format, opts);
        cmd.arg("-f").arg(path);
        let desc = process::describe(&cmd);
        process::run(cmd, None, Stdout::Capture, TOOL_TIMEOUT)?.success(&desc)?;
        Ok(())
    }

    fn pg_dump_stdout(
        &self,
        db: &str,
        format: &[&str],
        opts: &DumpOptions,
        out: Stdout,
    ) -> Result<Vec<u8>, String> {
        let cmd = self.pg_dump_args(db, format, opts);
        let desc = process::describe(&cmd);
        process::run(cmd, None, out, TOOL_TIMEOUT)?.success(&desc)
    }
}

/// `(major_version, version_info)` for an Odoo release version string, as Odoo's
/// `odoo/release.py` defines them: `17.0+e` → `17.0`, `[17, 0, 0, "final", 0, "e"]`;
/// `saas~17.2` → `saas~17.2`, `["saas~17", 2, 0, "final", 0, ""]`.
fn version_info(version: &str) -> (String, Value) {
    let (core, edition) = match version.split_once('+') {
        Some((c, e)) => (c, e),
        None => (version, ""),
    };
    // Nightly builds append a date: 17.0-20240101.
    let core = core.split('-').next().unwrap_or(core);
    let mut parts = core.splitn(2, '.');
    let major = parts.next().unwrap_or("");
    let minor = parts.next().unwrap_or("0");
    let minor_n: u64 = minor
        .split('.')
        .next()
        .and_then(|m| m.parse().ok())
        .unwrap_or(0);
    let series = format!("{major}.{minor_n}");
    let major_v = match major.parse::<u64>() {
        Ok(n) => json!(n),
        Err(_) => json!(major),
    };
    (series, json!([major_v, minor_n, 0, "final", 0, edition]))
}

fn gzip(data: &[u8]) -> Vec<u8> {
    let mut enc = GzEncoder::new(Vec::new(), Compression::default());
    enc.write_all(data).expect("writing to memory");
    enc.finish().expect("writing to memory")
}

/// `data` cut into `members` pieces at arbitrary (not line-aligned) offsets, each gzipped on its
/// own, concatenated. Never produces an empty member.
pub(crate) fn gzip_members(data: &[u8], members: usize) -> Vec<u8> {
    let members = members.max(1).min(data.len().max(1));
    let mut out = Vec::new();
    let mut start = 0;
    for i in 1..=members {
        let mut end = data.len() * i / members;
        if i < members {
            // Push the cut off a line boundary so a member never ends at a clean newline.
            while end < data.len() && end > start && data[end - 1] == b'\n' {
                end += 1;
            }
        }
        let end = end.min(data.len());
        if end > start || (data.is_empty() && i == 1) {
            out.extend_from_slice(&gzip(&data[start..end]));
        }
        start = end;
    }
    out
}

fn write_odoo_zip(
    path: &Path,
    sql: &[u8],
    manifest: &Value,
    filestore: &[(String, Vec<u8>)],
) -> Result<(), String> {
    use zip::write::SimpleFileOptions;
    let err = |e: &dyn std::fmt::Display| format!("writing {}: {e}", path.display());
    let file = File::create(path).map_err(|e| err(&e))?;
    let mut z = zip::ZipWriter::new(file);
    let o = SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated);
    z.start_file("dump.sql", o).map_err(|e| err(&e))?;
    z.write_all(sql).map_err(|e| err(&e))?;
    // Odoo writes json.dump(manifest, fh, indent=4); serde_json indents by 2, and JSON strings
    // never hold a raw newline, so doubling each line's leading spaces gives Odoo's layout.
    let pretty = serde_json::to_string_pretty(manifest).map_err(|e| err(&e))?;
    let json: String = pretty
        .lines()
        .map(|l| {
            let body = l.trim_start_matches(' ');
            format!("{}{body}\n", " ".repeat(2 * (l.len() - body.len())))
        })
        .collect();
    let json = json.trim_end().as_bytes().to_vec();
    z.start_file("manifest.json", o).map_err(|e| err(&e))?;
    z.write_all(&json).map_err(|e| err(&e))?;
    for (name, content) in filestore {
        z.start_file(format!("filestore/{name}"), o)
            .map_err(|e| err(&e))?;
        z.write_all(content).map_err(|e| err(&e))?;
    }
    z.finish().map_err(|e| err(&e))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn version_info_matches_odoo_release() {
        assert_eq!(
            version_info("17.0+e"),
            ("17.0".into(), json!([17, 0, 0, "final", 0, "e"]))
        );
        assert_eq!(
            version_info("saas~17.2"),
            ("saas~17.2".into(), json!(["saas~17", 2, 0, "final", 0, ""]))
        );
        assert_eq!(
            version_info("16.0-20240101"),
            ("16.0".into(), json!([16, 0, 0, "final", 0, ""]))
        );
    }

    #[test]
    fn gzip_members_round_trip() {
        use std::io::Read;
        let data: Vec<u8> = (0..5000u32)
            .flat_map(|i| format!("line {i}\n").into_bytes())
            .collect();
        let gz = gzip_members(&data, 4);
        let starts = gz.windows(3).filter(|w| w == &[0x1f, 0x8b, 8]).count();
        assert!(starts >= 4, "expected 4 gzip headers, saw {starts}");
        let mut back = Vec::new();
        flate2::read::MultiGzDecoder::new(&gz[..])
            .read_to_end(&mut back)
            .unwrap();
        assert_eq!(back, data);
        // Single-member decoding stops after the first member.
        let mut first = Vec::new();
        flate2::read::GzDecoder::new(&gz[..])
            .read_to_end(&mut first)
            .unwrap();
        assert!(first.len() < data.len());
        assert!(!first.ends_with(b"\n"));
    }
}

//! What a request is, and how it is saved so that running the same command again resumes it.
//!
//! Each request lives in its own directory `<state dir>/requests/<key>/` (0700): `request.json`
//! (0600, written to a temporary file then renamed), the request's SSH key pair `id_ed25519{,.pub}`
//! and the `known_hosts` of the last transfer. The key is derived from the dump's identity
//! (absolute path, size, modification time) and the target and aim, so the same dump sent to the
//! same target for the same aim finds its request again.

use std::fmt;
use std::io::Write;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::{SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::secret::Secret;

/// Why the upgrade is asked: a `test` database to try, or the `production` one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Aim {
    /// A test upgrade (can be repeated).
    Test,
    /// The production upgrade.
    Production,
}

impl Aim {
    /// `test` / `production`, as the protocol spells it.
    pub fn as_str(self) -> &'static str {
        match self {
            Aim::Test => "test",
            Aim::Production => "production",
        }
    }
}

impl fmt::Display for Aim {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Aim {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        match s {
            "test" => Ok(Aim::Test),
            "production" => Ok(Aim::Production),
            other => Err(Error::Invalid(format!(
                "aim `{other}` is neither `test` nor `production`"
            ))),
        }
    }
}

/// The dump's container, which names the uploaded file `origin<ext>` (the platform tells formats
/// apart by extension).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum DumpFormat {
    /// Plain SQL: `origin.sql`.
    PlainSql,
    /// Gzip-compressed plain SQL: `origin.sql.gz`.
    GzipSql,
    /// `pg_dump --format=custom`: `origin.dump`.
    Custom,
    /// A zip holding `dump.sql` (Odoo's backup format): `origin.zip`.
    Zip,
    /// `pg_dump --format=directory`: the directory's content goes to `origin.dump/`.
    Directory,
}

impl DumpFormat {
    /// The format for a `container` name of `odoo-dump inspect` (`plain`, `gzip`, `zip`,
    /// `custom`, `directory`).
    pub fn from_container(container: &str) -> Option<Self> {
        Some(match container {
            "plain" => DumpFormat::PlainSql,
            "gzip" => DumpFormat::GzipSql,
            "zip" => DumpFormat::Zip,
            "custom" => DumpFormat::Custom,
            "directory" => DumpFormat::Directory,
            _ => return None,
        })
    }

    /// The extension the platform expects: `.sql`, `.sql.gz`, `.dump` or `.zip`.
    pub fn extension(self) -> &'static str {
        match self {
            DumpFormat::PlainSql => ".sql",
            DumpFormat::GzipSql => ".sql.gz",
            DumpFormat::Custom | DumpFormat::Directory => ".dump",
            DumpFormat::Zip => ".zip",
        }
    }

    /// `origin<ext>`: the name of the upload on the platform.
    pub fn remote_name(self) -> String {
        format!("origin{}", self.extension())
    }
}

/// A request's status on the platform (`status` of the `status` verb).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// Created, dump not (fully) uploaded.
    New,
    /// Uploaded or queued for processing.
    Pending,
    /// Being upgraded.
    Progress,
    /// Upgraded: the result can be downloaded.
    Done,
    /// The upgrade failed (see the reason).
    Failed,
    /// Cancelled on the platform.
    Cancelled,
}

impl Status {
    /// Parses the protocol's spelling.
    pub fn parse(text: &str) -> Option<Self> {
        Some(match text {
            "new" => Status::New,
            "pending" => Status::Pending,
            "progress" => Status::Progress,
            "done" => Status::Done,
            "failed" => Status::Failed,
            "cancelled" => Status::Cancelled,
            _ => return None,
        })
    }

    /// The protocol's spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::New => "new",
            Status::Pending => "pending",
            Status::Progress => "progress",
            Status::Done => "done",
            Status::Failed => "failed",
            Status::Cancelled => "cancelled",
        }
    }

    /// `done`, `failed` or `cancelled`: nothing more will happen to the request.
    pub fn is_final(self) -> bool {
        matches!(self, Status::Done | Status::Failed | Status::Cancelled)
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How far this client got with a request (the platform's [`Status`] is the other half).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Phase {
    /// `create` answered; nothing sent yet.
    Created,
    /// `transfer/start` called; the upload may be partial (rsync `--partial` continues it).
    Uploading,
    /// Upload complete and `transfer/stop` called.
    Uploaded,
    /// `process` called; the status is being followed.
    Processing,
    /// The platform reported `done`, `failed` or `cancelled`.
    Finished,
}

impl fmt::Display for Phase {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Phase::Created => "created",
            Phase::Uploading => "uploading",
            Phase::Uploaded => "uploaded",
            Phase::Processing => "processing",
            Phase::Finished => "finished",
        })
    }
}

/// What identifies a dump across runs: its absolute path, size and modification time (of
/// `toc.dat` for a directory dump, whose size is the sum of its files).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DumpIdentity {
    /// Canonical absolute path.
    pub path: PathBuf,
    /// Size in bytes.
    pub size: u64,
    /// Modification time, nanoseconds since the Unix epoch.
    pub mtime_ns: u64,
    /// Container.
    pub format: DumpFormat,
}

impl DumpIdentity {
    /// Reads the identity of the dump at `path`. A directory dump must hold `toc.dat`; a file
    /// dump must be a regular file.
    pub fn of(path: &Path, format: DumpFormat) -> Result<Self> {
        let path = path
            .canonicalize()
            .map_err(|e| Error::io("find the dump", path, e))?;
        let (size, stamp_file) = if format == DumpFormat::Directory {
            let toc = path.join("toc.dat");
            if !toc.is_file() {
                return Err(Error::Invalid(format!(
                    "{} is not a directory-format dump (no toc.dat)",
                    path.display()
                )));
            }
            let mut size = 0;
            for entry in std::fs::read_dir(&path).map_err(|e| Error::io("list", &path, e))? {
                let entry = entry.map_err(|e| Error::io("list", &path, e))?;
                let meta = entry
                    .metadata()
                    .map_err(|e| Error::io("stat", entry.path(), e))?;
                if meta.is_file() {
                    size += meta.len();
                }
            }
            (size, toc)
        } else {
            if !path.is_file() {
                return Err(Error::Invalid(format!(
                    "{} is not a file: only a directory-format dump can be a directory",
                    path.display()
                )));
            }
            let size = std::fs::metadata(&path)
                .map_err(|e| Error::io("stat", &path, e))?
                .len();
            (size, path.clone())
        };
        let modified = std::fs::metadata(&stamp_file)
            .and_then(|m| m.modified())
            .map_err(|e| Error::io("stat", &stamp_file, e))?;
        let mtime_ns = modified
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos() as u64);
        Ok(DumpIdentity {
            path,
            size,
            mtime_ns,
            format,
        })
    }

    /// The directory name of a request for this dump, target and aim:
    /// `<file name>-<target>-<aim>-<16 hex digits>`.
    pub(crate) fn key(&self, target: &str, aim: Aim) -> String {
        // FNV-1a 64: stable across Rust versions (unlike `DefaultHasher`), no dependency.
        let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
        let path = self.path.as_os_str().as_encoded_bytes();
        let fields: [&[u8]; 5] = [
            path,
            &self.size.to_le_bytes(),
            &self.mtime_ns.to_le_bytes(),
            target.as_bytes(),
            aim.as_str().as_bytes(),
        ];
        for field in fields {
            for &byte in field.iter().chain(&[0xff]) {
                hash ^= u64::from(byte);
                hash = hash.wrapping_mul(0x0100_0000_01b3);
            }
        }
        let name: String = self
            .path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default()
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-') {
                    c
                } else {
                    '_'
                }
            })
            .take(40)
            .collect();
        let target: String = target
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || c == '.' {
                    c
                } else {
                    '_'
                }
            })
            .collect();
        format!("{name}-{target}-{aim}-{hash:016x}")
    }
}

/// A request as saved on disk: what `odoo-dump status` lists, what a resumed command starts from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct SavedRequest {
    /// The request's directory name under `<state dir>/requests/`.
    pub key: String,
    /// The platform's request id.
    pub request_id: u64,
    /// The request's token (secret: masked when printed).
    pub token: Secret,
    /// The server `create` was sent to.
    pub server: String,
    /// The assigned host all later calls go to (`assigned_host_uri`, then `host_uri`).
    pub host_uri: String,
    /// The dump sent.
    pub dump: DumpIdentity,
    /// The dump's Odoo series, as decided by the caller (for display).
    pub source_version: String,
    /// The target series.
    pub target: String,
    /// Test or production.
    pub aim: Aim,
    /// How far this client got.
    pub phase: Phase,
    /// The last status the platform gave.
    pub status: Status,
    /// The platform's reason, for a failed request.
    pub reason: Option<String>,
    /// Whether `process` answered that the platform's PostgreSQL can restore the result here.
    pub pg_version_compatible: Option<bool>,
    /// Bytes of the platform log already streamed.
    pub log_offset: u64,
    /// Where the result was downloaded, once it was.
    pub downloaded_to: Option<PathBuf>,
    /// Creation time, seconds since the Unix epoch.
    pub created_at: u64,
    /// Last update, seconds since the Unix epoch.
    pub updated_at: u64,
}

/// The seconds since the Unix epoch.
pub(crate) fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

const STATE_FILE: &str = "request.json";

/// The saved requests under `<state dir>/requests/`.
#[derive(Debug, Clone)]
pub(crate) struct Store {
    root: PathBuf,
}

impl Store {
    pub(crate) fn new(state_dir: &Path) -> Self {
        Store {
            root: state_dir.join("requests"),
        }
    }

    /// The directory of request `key` (key pair, known_hosts, state file).
    pub(crate) fn dir(&self, key: &str) -> PathBuf {
        self.root.join(key)
    }

    /// Creates the directory of request `key` (0700) and returns it.
    pub(crate) fn create_dir(&self, key: &str) -> Result<PathBuf> {
        let dir = self.dir(key);
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(&dir)
            .map_err(|e| Error::io("create", &dir, e))?;
        Ok(dir)
    }

    /// The saved request `key`, if there is one.
    pub(crate) fn load(&self, key: &str) -> Result<Option<SavedRequest>> {
        let path = self.dir(key).join(STATE_FILE);
        match std::fs::read(&path) {
            Ok(bytes) => {
                serde_json::from_slice(&bytes)
                    .map(Some)
                    .map_err(|e| Error::CorruptState {
                        path,
                        detail: e.to_string(),
                    })
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(Error::io("read", path, e)),
        }
    }

    /// Writes `request` atomically: a 0600 temporary file, synced, renamed over the old one.
    pub(crate) fn save(&self, request: &mut SavedRequest) -> Result<()> {
        request.updated_at = now();
        let dir = self.create_dir(&request.key)?;
        let path = dir.join(STATE_FILE);
        let temp = dir.join(format!("{STATE_FILE}.tmp"));
        let json = serde_json::to_vec_pretty(request).expect("a saved request serializes");
        let write = || -> std::io::Result<()> {
            let mut file = std::fs::OpenOptions::new()
                .write(true)
                .create(true)
                .truncate(true)
                .mode(0o600)
                .open(&temp)?;
            file.write_all(&json)?;
            file.sync_all()
        };
        write().map_err(|e| Error::io("write", &temp, e))?;
        std::fs::rename(&temp, &path).map_err(|e| Error::io("replace", &path, e))
    }

    /// Every saved request, oldest first.
    pub(crate) fn list(&self) -> Result<Vec<SavedRequest>> {
        let entries = match std::fs::read_dir(&self.root) {
            Ok(entries) => entries,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(Error::io("list", &self.root, e)),
        };
        let mut requests = Vec::new();
        for entry in entries {
            let entry = entry.map_err(|e| Error::io("list", &self.root, e))?;
            let key = entry.file_name().to_string_lossy().into_owned();
            if let Some(request) = self.load(&key)? {
                requests.push(request);
            }
        }
        requests.sort_by_key(|r| (r.created_at, r.request_id));
        Ok(requests)
    }

    /// Deletes request `key`'s directory (state, key pair, known_hosts).
    pub(crate) fn remove(&self, key: &str) -> Result<()> {
        let dir = self.dir(key);
        match std::fs::remove_dir_all(&dir) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(Error::io("remove", dir, e)),
            _ => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    fn identity() -> DumpIdentity {
        DumpIdentity {
            path: "/dumps/prod db.sql.gz".into(),
            size: 42,
            mtime_ns: 7,
            format: DumpFormat::GzipSql,
        }
    }

    #[test]
    fn key_depends_on_dump_target_and_aim() {
        let id = identity();
        let key = id.key("17.0", Aim::Test);
        assert!(key.starts_with("prod_db.sql.gz-17.0-test-"), "{key}");
        assert_eq!(key, id.key("17.0", Aim::Test));
        assert_ne!(key, id.key("18.0", Aim::Test));
        assert_ne!(key, id.key("17.0", Aim::Production));
        let touched = DumpIdentity {
            mtime_ns: 8,
            ..identity()
        };
        assert_ne!(key, touched.key("17.0", Aim::Test));
    }

    #[test]
    fn remote_names_follow_the_container() {
        assert_eq!(DumpFormat::PlainSql.remote_name(), "origin.sql");
        assert_eq!(DumpFormat::GzipSql.remote_name(), "origin.sql.gz");
        assert_eq!(DumpFormat::Custom.remote_name(), "origin.dump");
        assert_eq!(DumpFormat::Directory.remote_name(), "origin.dump");
        assert_eq!(DumpFormat::Zip.remote_name(), "origin.zip");
        assert_eq!(
            DumpFormat::from_container("gzip"),
            Some(DumpFormat::GzipSql)
        );
        assert_eq!(DumpFormat::from_container("tar"), None);
    }

    #[test]
    fn saves_atomically_private_and_lists() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::new(dir.path());
        assert!(store.list().unwrap().is_empty());
        let mut request = SavedRequest {
            key: identity().key("17.0", Aim::Test),
            request_id: 9,
            token: Secret::new("0123456789abcdef"),
            server: "https://upgrade.odoo.com".into(),
            host_uri: "upgrade-p1.odoo.com".into(),
            dump: identity(),
            source_version: "16.0".into(),
            target: "17.0".into(),
            aim: Aim::Test,
            phase: Phase::Created,
            status: Status::New,
            reason: None,
            pg_version_compatible: None,
            log_offset: 0,
            downloaded_to: None,
            created_at: now(),
            updated_at: 0,
        };
        store.save(&mut request).unwrap();
        let file = store.dir(&request.key).join(STATE_FILE);
        let mode = std::fs::metadata(&file).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
        let dir_mode = std::fs::metadata(store.dir(&request.key))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(dir_mode & 0o777, 0o700);
        assert_eq!(store.load(&request.key).unwrap().as_ref(), Some(&request));
        assert_eq!(store.list().unwrap(), vec![request.clone()]);
        std::fs::write(&file, b"{").unwrap();
        assert!(matches!(
            store.load(&request.key),
            Err(Error::CorruptState { .. })
        ));
        store.remove(&request.key).unwrap();
        assert!(store.list().unwrap().is_empty());
    }
}

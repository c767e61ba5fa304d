//! The SSH side: a key pair per request (`ssh-keygen`), and `rsync` over `ssh` with the port and
//! `known_hosts` the platform returned. Programs run as child processes with argument lists.

use std::ffi::{OsStr, OsString};
use std::io::Read;
use std::ops::ControlFlow;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use crate::error::{Error, Result};

/// Which way a transfer goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    /// The dump to the platform.
    Upload,
    /// The result from the platform.
    Download,
}

impl Direction {
    /// `upload` / `download`: the protocol's `transfer_type`.
    pub fn as_str(self) -> &'static str {
        match self {
            Direction::Upload => "upload",
            Direction::Download => "download",
        }
    }
}

/// One progress update parsed from rsync's `--info=progress2` output.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Progress {
    /// Upload or download.
    pub direction: Direction,
    /// Bytes transferred so far (for a resumed upload, counting what was already there).
    pub bytes: u64,
    /// Total bytes when known (the local dump's size for an upload; `None` for a download).
    pub total: Option<u64>,
    /// rsync's own percentage of what it knows so far.
    pub percent: Option<u8>,
    /// rsync's rate, as printed (`12.34MB/s`).
    pub rate: Option<String>,
}

/// Finds `program` on `PATH` (and in `/usr/sbin`, `/sbin`), or says which package provides it.
pub(crate) fn find_program(program: &'static str, package: &'static str) -> Result<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .chain([PathBuf::from("/usr/sbin"), PathBuf::from("/sbin")])
        .map(|dir| dir.join(program))
        .find(|candidate| candidate.is_file())
        .ok_or(Error::MissingProgram { program, package })
}

/// Checks that `ssh-keygen`, `ssh` and `rsync` are installed, before anything is asked of the
/// platform.
pub(crate) fn check_programs() -> Result<()> {
    find_program("ssh-keygen", "openssh-client")?;
    find_program("ssh", "openssh-client")?;
    find_program("rsync", "rsync")?;
    Ok(())
}

/// Generates `<dir>/id_ed25519` (0600) and `.pub` with `ssh-keygen -t ed25519 -N ""`, replacing a
/// stale pair, and returns the public key line.
pub(crate) fn generate_key(dir: &Path) -> Result<String> {
    let keygen = find_program("ssh-keygen", "openssh-client")?;
    let key = dir.join("id_ed25519");
    let public = dir.join("id_ed25519.pub");
    for stale in [&key, &public] {
        match std::fs::remove_file(stale) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                return Err(Error::io("remove", stale, e))
            }
            _ => {}
        }
    }
    let output = Command::new(keygen)
        .args([
            "-q",
            "-t",
            "ed25519",
            "-N",
            "",
            "-C",
            "odoo-dump upgrade request",
            "-f",
        ])
        .arg(&key)
        .stdin(Stdio::null())
        .output()
        .map_err(|e| Error::io("run ssh-keygen for", &key, e))?;
    if !output.status.success() {
        return Err(Error::KeyGen {
            path: key,
            detail: last_line(&output.stderr),
        });
    }
    std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o600))
        .map_err(|e| Error::io("restrict", &key, e))?;
    let line = std::fs::read_to_string(&public).map_err(|e| Error::io("read", &public, e))?;
    Ok(line.trim().to_owned())
}

/// How to reach the platform's SSH endpoint for one transfer.
pub(crate) struct SshTarget<'a> {
    /// Host name or address (no port).
    pub(crate) host: &'a str,
    /// The `ssh_port` of `transfer/start`.
    pub(crate) port: u16,
    /// Remote user (`odoo`).
    pub(crate) user: &'a str,
    /// The request's private key.
    pub(crate) key: PathBuf,
    /// A file holding the `known_hosts` of `transfer/start`.
    pub(crate) known_hosts: PathBuf,
    /// `ssh -o ConnectTimeout`.
    pub(crate) connect_timeout: Duration,
}

impl SshTarget<'_> {
    /// The `-e` command rsync runs. rsync splits it on spaces itself (no shell involved); the
    /// paths in it are checked to have no space or quote, so each stays one argument.
    fn remote_shell(&self) -> Result<String> {
        let ssh = find_program("ssh", "openssh-client")?;
        let parts = [
            plain(&ssh)?,
            "-p".into(),
            self.port.to_string(),
            "-i".into(),
            plain(&self.key)?,
            "-o".into(),
            format!("UserKnownHostsFile={}", plain(&self.known_hosts)?),
            "-o".into(),
            "StrictHostKeyChecking=yes".into(),
            "-o".into(),
            "IdentitiesOnly=yes".into(),
            "-o".into(),
            "BatchMode=yes".into(),
            "-o".into(),
            format!("ConnectTimeout={}", self.connect_timeout.as_secs().max(1)),
        ];
        Ok(parts.join(" "))
    }

    /// `user@host:path` (IPv6 hosts in brackets).
    pub(crate) fn remote(&self, path: &str) -> String {
        if self.host.contains(':') {
            format!("{}@[{}]:{path}", self.user, self.host)
        } else {
            format!("{}@{}:{path}", self.user, self.host)
        }
    }
}

/// A path as text with no whitespace or quote (it goes into rsync's `-e` string and ssh's `-o`).
fn plain(path: &Path) -> Result<String> {
    let text = path.to_str().filter(|t| {
        !t.is_empty()
            && !t
                .chars()
                .any(|c| c.is_whitespace() || c == '\'' || c == '"' || c == '\\')
    });
    text.map(str::to_owned).ok_or_else(|| {
        Error::Invalid(format!(
            "{} has a space, quote or non-UTF-8 character, which ssh options cannot carry; set ODOO_DUMP_STATE_DIR to a plain path",
            path.display()
        ))
    })
}

/// One rsync run.
pub(crate) struct Rsync<'a> {
    /// Where to connect.
    pub(crate) target: SshTarget<'a>,
    /// Upload or download.
    pub(crate) direction: Direction,
    /// Options beyond the common ones (`--delete-after`, `--ignore-missing-args`, …).
    pub(crate) extra: Vec<OsString>,
    /// Sources then destination.
    pub(crate) paths: Vec<OsString>,
    /// Total bytes, when known, for [`Progress::total`].
    pub(crate) total: Option<u64>,
    /// `--bwlimit` in KiB/s.
    pub(crate) bandwidth_limit_kib: Option<u32>,
    /// `--timeout` (seconds without I/O before rsync gives up).
    pub(crate) io_timeout: Duration,
}

/// How an rsync run ended when it did not fail.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum RunEnd {
    /// rsync exited 0.
    Completed,
    /// The progress handler asked to stop: rsync was killed (with `--partial`, what arrived is
    /// kept on the receiving side for the next run).
    Stopped,
}

impl Rsync<'_> {
    /// Runs rsync, feeding each progress line to `on_progress`. Exit status ≠ 0 is
    /// [`Error::Transfer`] with the last stderr line.
    pub(crate) fn run(
        self,
        request_id: u64,
        on_progress: &mut dyn FnMut(&Progress) -> ControlFlow<()>,
    ) -> Result<RunEnd> {
        let rsync = find_program("rsync", "rsync")?;
        let mut command = Command::new(&rsync);
        command
            .arg("--archive")
            .arg("--partial")
            .arg("--info=progress2")
            .arg(format!("--timeout={}", self.io_timeout.as_secs().max(1)))
            .arg("-e")
            .arg(self.target.remote_shell()?);
        if let Some(limit) = self.bandwidth_limit_kib {
            command.arg(format!("--bwlimit={limit}"));
        }
        command
            .args(&self.extra)
            .args(&self.paths)
            // Progress lines in a known format whatever the user's locale.
            .env("LC_ALL", "C")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = command
            .spawn()
            .map_err(|e| Error::io("run", rsync.clone(), e))?;
        let mut stderr = child.stderr.take().expect("stderr is piped");
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            let mut text = Vec::new();
            let _ = stderr.read_to_end(&mut text);
            let _ = tx.send(text);
        });
        let mut stdout = child.stdout.take().expect("stdout is piped");
        let mut line = Vec::new();
        let mut buf = [0u8; 4096];
        let mut stopped = false;
        'read: loop {
            let n = match stdout.read(&mut buf) {
                Ok(0) | Err(_) => break,
                Ok(n) => n,
            };
            for &byte in &buf[..n] {
                if byte != b'\r' && byte != b'\n' {
                    line.push(byte);
                    continue;
                }
                let progress = parse_progress(&line, self.direction, self.total);
                line.clear();
                if let Some(progress) = progress {
                    if on_progress(&progress).is_break() {
                        stopped = true;
                        let _ = child.kill();
                        break 'read;
                    }
                }
            }
        }
        drop(stdout);
        let status = child
            .wait()
            .map_err(|e| Error::io("wait for", rsync.clone(), e))?;
        // ssh, rsync's child, holds stderr open until its session ends: don't wait forever.
        let errors = rx.recv_timeout(Duration::from_secs(10)).unwrap_or_default();
        if stopped {
            return Ok(RunEnd::Stopped);
        }
        if status.success() {
            return Ok(RunEnd::Completed);
        }
        Err(Error::Transfer {
            direction: self.direction.as_str(),
            request_id,
            code: status.code().unwrap_or(-1),
            detail: last_line(&errors),
        })
    }
}

/// Parses one `--info=progress2` line: `  1,081,344  36%  1000.98kB/s  0:00:01 (xfr#1, …)`.
fn parse_progress(line: &[u8], direction: Direction, total: Option<u64>) -> Option<Progress> {
    let text = std::str::from_utf8(line).ok()?;
    let mut fields = text.split_whitespace();
    let bytes_field = fields.next()?;
    if !bytes_field
        .bytes()
        .all(|b| b.is_ascii_digit() || b == b',' || b == b'.')
    {
        return None;
    }
    let digits: String = bytes_field.chars().filter(char::is_ascii_digit).collect();
    let bytes = digits.parse().ok()?;
    let percent = fields
        .next()?
        .strip_suffix('%')
        .and_then(|p| p.parse::<u8>().ok())?;
    let rate = fields
        .next()
        .filter(|r| r.ends_with("/s"))
        .map(str::to_owned);
    Some(Progress {
        direction,
        bytes,
        total,
        percent: Some(percent),
        rate,
    })
}

/// The line of a program's stderr that says most: the last one that is not rsync's own
/// summary (ssh's `Host key verification failed.`, `Permission denied (publickey).`), else the
/// last non-empty line.
fn last_line(text: &[u8]) -> String {
    let text = String::from_utf8_lossy(text);
    let lines: Vec<&str> = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect();
    lines
        .iter()
        .rfind(|l| !l.starts_with("rsync"))
        .or(lines.last())
        .map_or("no message", |l| l)
        .to_owned()
}

/// `path` with a trailing `/` (rsync: send a directory's content, not the directory).
pub(crate) fn with_trailing_slash(path: &Path) -> OsString {
    let mut text = path.as_os_str().to_owned();
    if !path.as_os_str().as_encoded_bytes().ends_with(b"/") {
        text.push(OsStr::new("/"));
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_progress2_lines() {
        let p = parse_progress(
            b"      1,081,344  36%  1000.98kB/s    0:00:01",
            Direction::Upload,
            Some(3_000_000),
        )
        .unwrap();
        assert_eq!(p.bytes, 1_081_344);
        assert_eq!(p.percent, Some(36));
        assert_eq!(p.rate.as_deref(), Some("1000.98kB/s"));
        assert_eq!(p.total, Some(3_000_000));
        let end = parse_progress(
            b"  3,000,000 100%    1.01MB/s    0:00:02 (xfr#1, to-chk=0/1)",
            Direction::Download,
            None,
        )
        .unwrap();
        assert_eq!((end.bytes, end.percent), (3_000_000, Some(100)));
        assert!(parse_progress(b"", Direction::Upload, None).is_none());
        assert!(
            parse_progress(b"sending incremental file list", Direction::Upload, None).is_none()
        );
        assert!(parse_progress(b"origin.sql", Direction::Upload, None).is_none());
    }

    #[test]
    fn error_detail_prefers_ssh_over_rsync_summary() {
        let stderr = b"Host key verification failed.\r\nrsync: connection unexpectedly closed (0 bytes received so far) [sender]\nrsync error: unexplained error (code 255) at io.c(232) [sender=3.2.7]\n";
        assert_eq!(last_line(stderr), "Host key verification failed.");
        assert_eq!(last_line(b"rsync: x\nrsync error: y\n"), "rsync error: y");
        assert_eq!(last_line(b""), "no message");
    }

    #[test]
    fn remote_spec_brackets_ipv6() {
        let t = SshTarget {
            host: "::1",
            port: 22,
            user: "odoo",
            key: "/k".into(),
            known_hosts: "/kh".into(),
            connect_timeout: Duration::from_secs(5),
        };
        assert_eq!(t.remote("/data/origin.sql"), "odoo@[::1]:/data/origin.sql");
    }

    #[test]
    fn paths_for_ssh_options_must_be_plain() {
        assert!(plain(Path::new("/home/me/.local/state/k")).is_ok());
        assert!(plain(Path::new("/home/my docs/k")).is_err());
        assert!(plain(Path::new("/tmp/it's")).is_err());
    }

    #[test]
    fn trailing_slash_once() {
        assert_eq!(with_trailing_slash(Path::new("/a/b")), "/a/b/");
        assert_eq!(with_trailing_slash(Path::new("/a/b/")), "/a/b/");
    }
}

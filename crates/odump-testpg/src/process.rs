//! Child processes with a deadline: every tool the harness runs goes through [`run`], so a stuck
//! `psql` or `pg_dump` fails the test instead of hanging it.

use std::ffi::OsStr;
use std::fs::File;
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

/// Where a child's stdout goes.
pub(crate) enum Stdout {
    /// Collected in memory and returned.
    Capture,
    /// Copied into this file through a pipe (the child never sees a seekable file).
    File(File),
}

/// A child that exited before its deadline.
pub(crate) struct Finished {
    pub status: ExitStatus,
    pub stdout: Vec<u8>,
    pub stderr: Vec<u8>,
}

impl Finished {
    /// `Ok(stdout)` when the exit status is success, else an error quoting stderr.
    pub fn success(self, what: &str) -> Result<Vec<u8>, String> {
        if self.status.success() {
            Ok(self.stdout)
        } else {
            Err(format!(
                "{what} failed ({}):\n{}",
                self.status,
                String::from_utf8_lossy(&self.stderr).trim_end()
            ))
        }
    }
}

/// A readable one-line form of a command, for error messages.
pub(crate) fn describe(cmd: &Command) -> String {
    let mut s = cmd.get_program().to_string_lossy().into_owned();
    for a in cmd.get_args() {
        s.push(' ');
        s.push_str(&a.to_string_lossy());
    }
    s
}

/// Runs `cmd` with `input` on stdin (or /dev/null), kills it when `timeout` passes.
pub(crate) fn run(
    mut cmd: Command,
    input: Option<Vec<u8>>,
    stdout: Stdout,
    timeout: Duration,
) -> Result<Finished, String> {
    let desc = describe(&cmd);
    cmd.stdin(if input.is_some() {
        Stdio::piped()
    } else {
        Stdio::null()
    });
    cmd.stdout(Stdio::piped());
    cmd.stderr(Stdio::piped());
    let mut child = cmd
        .spawn()
        .map_err(|e| format!("cannot run `{desc}`: {e}"))?;

    if let Some(data) = input {
        let mut w = child.stdin.take().expect("stdin is piped");
        // A child that exits early makes this write fail with EPIPE: its exit status tells why.
        thread::spawn(move || {
            let _ = w.write_all(&data);
        });
    }
    let (tx_out, rx_out) = mpsc::channel();
    let mut so = child.stdout.take().expect("stdout is piped");
    thread::spawn(move || {
        let r: io::Result<Vec<u8>> = match stdout {
            Stdout::Capture => {
                let mut v = Vec::new();
                so.read_to_end(&mut v).map(|_| v)
            }
            Stdout::File(mut f) => io::copy(&mut so, &mut f)
                .and_then(|_| f.flush())
                .map(|_| Vec::new()),
        };
        let _ = tx_out.send(r);
    });
    let (tx_err, rx_err) = mpsc::channel();
    let mut se = child.stderr.take().expect("stderr is piped");
    thread::spawn(move || {
        let mut v = Vec::new();
        let _ = se.read_to_end(&mut v);
        let _ = tx_err.send(v);
    });

    let deadline = Instant::now() + timeout;
    let status = loop {
        match child.try_wait() {
            Ok(Some(s)) => break s,
            Ok(None) => {}
            Err(e) => return Err(format!("waiting for `{desc}`: {e}")),
        }
        if Instant::now() >= deadline {
            let _ = child.kill();
            let _ = child.wait();
            return Err(format!(
                "`{desc}` did not finish within {timeout:?}; killed it"
            ));
        }
        thread::sleep(Duration::from_millis(5));
    };
    // The pipes close when the child exits, unless a grandchild kept them: don't wait forever.
    let grace = Duration::from_secs(10);
    let stdout = match rx_out.recv_timeout(grace) {
        Ok(Ok(v)) => v,
        Ok(Err(e)) => return Err(format!("reading the output of `{desc}`: {e}")),
        Err(_) => {
            return Err(format!(
                "the output of `{desc}` did not close after it exited"
            ))
        }
    };
    let stderr = rx_err.recv_timeout(grace).unwrap_or_default();
    Ok(Finished {
        status,
        stdout,
        stderr,
    })
}

/// Single-quotes `s` for `sh`.
pub(crate) fn sh_quote(s: &OsStr) -> String {
    format!("'{}'", s.to_string_lossy().replace('\'', r"'\''"))
}

/// The first `name` found in `PATH` or the usual sbin directories.
pub(crate) fn find_program(name: &str) -> Option<PathBuf> {
    let mut dirs: Vec<PathBuf> = std::env::var_os("PATH")
        .map(|p| std::env::split_paths(&p).collect())
        .unwrap_or_default();
    for d in ["/usr/sbin", "/sbin", "/usr/bin", "/bin"] {
        dirs.push(PathBuf::from(d));
    }
    dirs.into_iter()
        .map(|d| d.join(name))
        .find(|p| is_executable(p))
}

pub(crate) fn is_executable(p: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    p.metadata()
        .map(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
        .unwrap_or(false)
}

//! Starting, using and stopping a throwaway PostgreSQL cluster.

use std::env;
use std::ffi::{OsStr, OsString};
use std::fs;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Mutex, OnceLock};
use std::thread;
use std::time::{Duration, Instant, SystemTime};

use crate::process::{self, find_program, is_executable, sh_quote, Stdout};

/// Name prefix of every cluster directory (under `/tmp`); the stale-cluster sweep relies on it.
const DIR_PREFIX: &str = "odump-testpg-";
/// Tools the harness cannot work without.
const REQUIRED_TOOLS: [&str; 5] = ["initdb", "postgres", "pg_ctl", "pg_dump", "psql"];
/// Deadline for `psql` statements and `pg_dump` runs.
pub(crate) const TOOL_TIMEOUT: Duration = Duration::from_secs(120);
/// Deadline for `initdb` plus the server reaching "ready".
const START_TIMEOUT: Duration = Duration::from_secs(120);

/// The watchdog that owns the postmaster. It runs as the server's OS user, starts `postgres` in
/// the background, then blocks reading its stdin: a pipe whose only writer is the test process.
/// When the test process exits — normally, by panic, by SIGKILL — the pipe closes, `read` returns,
/// and the watchdog shuts the server down (immediate mode) and deletes the cluster directory.
/// It ignores SIGINT/SIGTERM/SIGHUP so a Ctrl-C that kills the test still reaches the cleanup.
/// Arguments: $1 postgres binary, $2 cluster dir, $3 port, $4 "1" to keep the directory.
const WATCHDOG: &str = r#"trap '' INT TERM HUP
"$1" -D "$2/data" -p "$3" -k "$2" -h "" \
  -c fsync=off -c synchronous_commit=off -c full_page_writes=off \
  -c timezone=UTC -c log_timezone=UTC -c max_connections=60 -c shared_buffers=32MB \
  -c autovacuum=off -c logging_collector=off -c log_min_messages=warning \
  -c wal_level=minimal -c max_wal_senders=0 \
  >"$2/postgres.log" 2>&1 </dev/null &
pid=$!
read -r line || :
kill -QUIT "$pid" 2>/dev/null
wait "$pid"
[ "$4" = 1 ] || rm -rf "$2"
"#;

/// A running, throwaway PostgreSQL cluster: its own directory under `/tmp`, listening only on a
/// unix socket in that directory, superuser `postgres` with `trust` authentication, UTF-8, locale
/// `C`, time zone UTC, `fsync=off`.
///
/// Client tools (`psql`, `pg_dump`, …) run as the current user and connect through the socket.
/// When the tests run as root, the server itself runs as the `postgres` OS user.
///
/// Dropping a `Cluster` stops the server and deletes its directory. The process-wide cluster from
/// [`shared`](crate::shared) is never dropped: its server stops and its directory goes away when
/// the test process exits, however it exits.
pub struct Cluster {
    bin_dir: PathBuf,
    dir: PathBuf,
    port: u16,
    run_as: Option<RunAs>,
    keep: bool,
    server_version: String,
    server_version_num: u32,
    pg_dump_version: String,
    watchdog: Mutex<Option<(Child, ChildStdin)>>,
}

impl std::fmt::Debug for Cluster {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Cluster")
            .field("dir", &self.dir)
            .field("port", &self.port)
            .field("server_version", &self.server_version)
            .finish_non_exhaustive()
    }
}

/// How to run a program as the `postgres` OS user when we are root.
#[derive(Clone, Debug)]
struct RunAs {
    uid: u32,
    gid: u32,
    /// `runuser` when available, else `su`.
    tool: PathBuf,
    is_runuser: bool,
}

impl RunAs {
    fn postgres() -> Result<RunAs, String> {
        let (uid, gid) = user_ids("postgres").ok_or(
            "the tests run as root and there is no `postgres` OS user to run the server as",
        )?;
        if let Some(tool) = find_program("runuser") {
            return Ok(RunAs {
                uid,
                gid,
                tool,
                is_runuser: true,
            });
        }
        let tool = find_program("su").ok_or("neither `runuser` nor `su` is available")?;
        Ok(RunAs {
            uid,
            gid,
            tool,
            is_runuser: false,
        })
    }

    fn command(&self, program: &Path, args: &[&OsStr]) -> Command {
        if self.is_runuser {
            let mut c = Command::new(&self.tool);
            c.arg("-u")
                .arg("postgres")
                .arg("--")
                .arg(program)
                .args(args);
            c
        } else {
            let mut line = sh_quote(program.as_os_str());
            for a in args {
                line.push(' ');
                line.push_str(&sh_quote(a));
            }
            let mut c = Command::new(&self.tool);
            c.args(["-s", "/bin/sh", "postgres", "-c"]).arg(line);
            c
        }
    }
}

impl Cluster {
    /// Starts a new cluster: `initdb` in a fresh directory, then the server under a watchdog.
    ///
    /// Takes about two seconds. Prefer [`shared`](crate::shared) / [`require`](crate::require),
    /// which start one cluster per test process. Errors say why PostgreSQL is unusable here
    /// (binaries not found, no `postgres` user, `initdb` or server start failed, with its log).
    pub fn start() -> Result<Cluster, String> {
        let bin_dir = find_bin_dir()?;
        let run_as = if is_root() {
            Some(RunAs::postgres()?)
        } else {
            None
        };
        sweep_stale(&bin_dir, run_as.as_ref());

        let base = if Path::new("/tmp").is_dir() {
            PathBuf::from("/tmp")
        } else {
            env::temp_dir()
        };
        let dir = tempfile::Builder::new()
            .prefix(DIR_PREFIX)
            .tempdir_in(&base)
            .map_err(|e| format!("cannot create a directory under {}: {e}", base.display()))?
            .keep();
        let keep = env::var_os("ODUMP_TESTPG_KEEP").is_some_and(|v| v == "1");
        match Self::start_in(bin_dir, dir.clone(), run_as, keep) {
            Ok(c) => Ok(c),
            Err(e) => {
                if !keep {
                    let _ = fs::remove_dir_all(&dir);
                }
                Err(e)
            }
        }
    }

    fn start_in(
        bin_dir: PathBuf,
        dir: PathBuf,
        run_as: Option<RunAs>,
        keep: bool,
    ) -> Result<Cluster, String> {
        fs::write(dir.join("owner"), std::process::id().to_string())
            .map_err(|e| format!("cannot write in {}: {e}", dir.display()))?;
        if let Some(r) = &run_as {
            std::os::unix::fs::chown(&dir, Some(r.uid), Some(r.gid))
                .map_err(|e| format!("cannot chown {} to postgres: {e}", dir.display()))?;
        }
        let data = dir.join("data");
        let initdb = bin_dir.join("initdb");
        let args: Vec<&OsStr> = vec![
            OsStr::new("-D"),
            data.as_os_str(),
            OsStr::new("-U"),
            OsStr::new("postgres"),
            OsStr::new("--auth=trust"),
            OsStr::new("-E"),
            OsStr::new("UTF8"),
            OsStr::new("--locale=C"),
            OsStr::new("-N"),
        ];
        let mut cmd = server_command(run_as.as_ref(), &initdb, &args);
        cmd.current_dir(&dir);
        process::run(cmd, None, Stdout::Capture, START_TIMEOUT)?.success("initdb")?;

        // The socket lives in our private directory, so any port number works; a per-process
        // one only makes `ps` output easier to read.
        let port = 40000 + (std::process::id() % 20000) as u16;
        let postgres = bin_dir.join("postgres");
        let port_s = port.to_string();
        let args: Vec<&OsStr> = vec![
            OsStr::new("-c"),
            OsStr::new(WATCHDOG),
            OsStr::new("odump-testpg-watchdog"),
            postgres.as_os_str(),
            dir.as_os_str(),
            OsStr::new(&port_s),
            OsStr::new(if keep { "1" } else { "0" }),
        ];
        let mut cmd = server_command(run_as.as_ref(), Path::new("/bin/sh"), &args);
        cmd.current_dir(&dir)
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        let mut child = cmd
            .spawn()
            .map_err(|e| format!("cannot start the server watchdog: {e}"))?;
        let stdin = child.stdin.take().expect("stdin is piped");

        let mut cluster = Cluster {
            bin_dir,
            dir,
            port,
            run_as,
            keep,
            server_version: String::new(),
            server_version_num: 0,
            pg_dump_version: String::new(),
            watchdog: Mutex::new(Some((child, stdin))),
        };
        // On any error below, dropping `cluster` stops the server and removes the directory.
        cluster.wait_ready(START_TIMEOUT)?;
        let v = cluster.psql(
            "postgres",
            "SELECT current_setting('server_version') || '|' || current_setting('server_version_num')",
        )?;
        let (text, num) = v
            .split_once('|')
            .ok_or_else(|| format!("unexpected server version answer {v:?}"))?;
        cluster.server_version = text.to_owned();
        cluster.server_version_num = num
            .trim()
            .parse()
            .map_err(|_| format!("unexpected server_version_num {num:?}"))?;
        let mut cmd = cluster.command("pg_dump");
        cmd.arg("--version");
        let out = process::run(cmd, None, Stdout::Capture, TOOL_TIMEOUT)?.success("pg_dump")?;
        let out = String::from_utf8_lossy(&out);
        cluster.pg_dump_version = out
            .trim()
            .strip_prefix("pg_dump (PostgreSQL) ")
            .unwrap_or(out.trim())
            .to_owned();
        Ok(cluster)
    }

    fn wait_ready(&self, timeout: Duration) -> Result<(), String> {
        let start = Instant::now();
        let pid_file = self.dir.join("data/postmaster.pid");
        let socket = self.socket_path();
        loop {
            if let Ok(s) = fs::read_to_string(&pid_file) {
                if s.lines().nth(7).map(str::trim) == Some("ready") && socket.exists() {
                    return Ok(());
                }
            }
            let log = self.log();
            if log.contains("FATAL:") || log.contains("PANIC:") {
                return Err(format!("the PostgreSQL server did not start:\n{log}"));
            }
            if let Some((child, _)) = self.watchdog.lock().unwrap().as_mut() {
                if let Ok(Some(st)) = child.try_wait() {
                    return Err(format!(
                        "the PostgreSQL server watchdog exited ({st}); server log:\n{log}"
                    ));
                }
            }
            if start.elapsed() > timeout {
                return Err(format!(
                    "the PostgreSQL server was not ready after {timeout:?}; server log:\n{log}"
                ));
            }
            thread::sleep(Duration::from_millis(20));
        }
    }

    /// The server's log so far (`postgres.log` in the cluster directory).
    pub fn log(&self) -> String {
        fs::read_to_string(self.dir.join("postgres.log")).unwrap_or_default()
    }

    /// The directory holding the PostgreSQL binaries this cluster uses.
    pub fn bin_dir(&self) -> &Path {
        &self.bin_dir
    }

    /// The cluster directory: `data/` (PGDATA), the unix socket, `postgres.log`.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The directory holding the unix socket: the value of `PGHOST` / `host=`.
    pub fn socket_dir(&self) -> &Path {
        &self.dir
    }

    /// The port: it only names the socket file (`.s.PGSQL.<port>`); nothing listens on TCP.
    pub fn port(&self) -> u16 {
        self.port
    }

    fn socket_path(&self) -> PathBuf {
        self.dir.join(format!(".s.PGSQL.{}", self.port))
    }

    /// The server version as it prints itself, e.g. `15.18 (Debian 15.18-0+deb12u1)`: the
    /// text after `-- Dumped from database version ` in a plain dump's header.
    pub fn server_version(&self) -> &str {
        &self.server_version
    }

    /// The server version as a number, e.g. `150018`.
    pub fn server_version_num(&self) -> u32 {
        self.server_version_num
    }

    /// The server's major version, e.g. `15`.
    pub fn major_version(&self) -> u32 {
        self.server_version_num / 10000
    }

    /// The `pg_dump` version, e.g. `15.18 (Debian 15.18-0+deb12u1)`: the text after
    /// `-- Dumped by pg_dump version ` in a plain dump's header.
    pub fn pg_dump_version(&self) -> &str {
        &self.pg_dump_version
    }

    /// The environment a libpq client needs to reach this cluster: `PGHOST`, `PGPORT`, `PGUSER`.
    pub fn env(&self) -> Vec<(String, String)> {
        vec![
            ("PGHOST".to_owned(), self.dir.to_string_lossy().into_owned()),
            ("PGPORT".to_owned(), self.port.to_string()),
            ("PGUSER".to_owned(), "postgres".to_owned()),
        ]
    }

    /// A libpq connection string for database `db`, e.g.
    /// `host=/tmp/odump-testpg-Ab12Cd port=41234 user=postgres dbname=shop`.
    pub fn conninfo(&self, db: &str) -> String {
        format!(
            "host={} port={} user=postgres dbname='{}'",
            self.dir.display(),
            self.port,
            db.replace('\\', r"\\").replace('\'', r"\'")
        )
    }

    /// A `Command` for one of the cluster's binaries (`psql`, `pg_dump`, `pg_restore`, …) with
    /// every inherited `PG*` variable removed and [`env`](Self::env) set (`PGDATABASE=postgres`).
    pub fn command(&self, tool: &str) -> Command {
        let mut c = Command::new(self.bin_dir.join(tool));
        for (k, _) in env::vars_os() {
            if k.to_string_lossy().starts_with("PG") {
                c.env_remove(&k);
            }
        }
        for (k, v) in self.env() {
            c.env(k, v);
        }
        c.env("PGDATABASE", "postgres")
            .env("PGCONNECT_TIMEOUT", "10")
            .env_remove("PSQLRC");
        c
    }

    /// Runs `sql` (any number of statements, psql meta-commands allowed) in database `db` with
    /// `psql -X -q -At -v ON_ERROR_STOP=1`, and returns its stdout without the final newline.
    /// The error carries psql's stderr (with the failing line number).
    pub fn psql(&self, db: &str, sql: &str) -> Result<String, String> {
        let mut cmd = self.command("psql");
        cmd.args(["-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-d"])
            .arg(db)
            .args(["-f", "-"]);
        let out = process::run(
            cmd,
            Some(sql.as_bytes().to_vec()),
            Stdout::Capture,
            TOOL_TIMEOUT,
        )?
        .success(&format!("psql on database {db:?}"))?;
        let mut s = String::from_utf8_lossy(&out).into_owned();
        if s.ends_with('\n') {
            s.pop();
        }
        Ok(s)
    }

    /// Runs `sql` in `db` like [`psql`](Self::psql), panicking with psql's error on failure.
    pub fn exec(&self, db: &str, sql: &str) {
        if let Err(e) = self.psql(db, sql) {
            panic!("{e}\nSQL was:\n{}", excerpt(sql));
        }
    }

    /// The unaligned, tuples-only output (`psql -At`) of `sql` in `db`: one line per row,
    /// columns separated by `|`, no final newline. Panics on error.
    pub fn query(&self, db: &str, sql: &str) -> String {
        match self.psql(db, sql) {
            Ok(s) => s,
            Err(e) => panic!("{e}\nSQL was:\n{}", excerpt(sql)),
        }
    }

    /// `SELECT count(*) FROM <table>` in `db`; `table` is SQL as written in a query
    /// (`sales.orders`, `public."Weird Name"`). Panics on error.
    pub fn count(&self, db: &str, table: &str) -> u64 {
        let s = self.query(db, &format!("SELECT count(*) FROM {table}"));
        s.trim()
            .parse()
            .unwrap_or_else(|_| panic!("count(*) of {table} in {db}: unexpected answer {s:?}"))
    }

    /// Creates database `name` (dropping any database of that name first) and runs `sql` in it
    /// with `ON_ERROR_STOP`. Panics with psql's stderr when a statement fails.
    pub fn create_db(&self, name: &str, sql: &str) {
        if let Err(e) = self.try_create_db(name, sql) {
            panic!("creating database {name:?} failed: {e}");
        }
    }

    /// [`create_db`](Self::create_db) returning the error instead of panicking.
    pub fn try_create_db(&self, name: &str, sql: &str) -> Result<(), String> {
        let q = quote_ident(name);
        let force = if self.server_version_num >= 130000 {
            " WITH (FORCE)"
        } else {
            ""
        };
        self.psql(
            "postgres",
            &format!(
                "DROP DATABASE IF EXISTS {q}{force};\n\
                 CREATE DATABASE {q} TEMPLATE template0 ENCODING 'UTF8' LC_COLLATE 'C' LC_CTYPE 'C';\n"
            ),
        )?;
        self.psql(name, sql).map(|_| ())
    }

    /// Drops database `name` if it exists (disconnecting its sessions). Panics on error.
    pub fn drop_db(&self, name: &str) {
        let force = if self.server_version_num >= 130000 {
            " WITH (FORCE)"
        } else {
            ""
        };
        self.exec(
            "postgres",
            &format!("DROP DATABASE IF EXISTS {}{force}", quote_ident(name)),
        );
    }

    fn stop(&mut self) {
        let Some((mut child, stdin)) = self.watchdog.lock().unwrap().take() else {
            return;
        };
        drop(stdin); // EOF: the watchdog stops the server and removes the directory
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            match child.try_wait() {
                Ok(Some(_)) | Err(_) => break,
                Ok(None) if Instant::now() > deadline => {
                    // The watchdog is stuck: stop the server directly.
                    let pg_ctl = self.bin_dir.join("pg_ctl");
                    let data = self.dir.join("data");
                    let args: Vec<&OsStr> = vec![
                        OsStr::new("stop"),
                        OsStr::new("-D"),
                        data.as_os_str(),
                        OsStr::new("-m"),
                        OsStr::new("immediate"),
                        OsStr::new("-w"),
                        OsStr::new("-t"),
                        OsStr::new("10"),
                    ];
                    let mut cmd = server_command(self.run_as.as_ref(), &pg_ctl, &args);
                    cmd.current_dir("/");
                    let _ = process::run(cmd, None, Stdout::Capture, Duration::from_secs(20));
                    let _ = child.kill();
                    let _ = child.wait();
                    break;
                }
                Ok(None) => thread::sleep(Duration::from_millis(10)),
            }
        }
        if !self.keep && self.dir.exists() {
            let _ = fs::remove_dir_all(&self.dir);
        }
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        self.stop();
    }
}

/// `"name"` with inner double quotes doubled.
pub fn quote_ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// `'text'` with inner single quotes doubled (for `standard_conforming_strings = on`).
pub fn quote_literal(text: &str) -> String {
    format!("'{}'", text.replace('\'', "''"))
}

/// A database name unique within this process: `<prefix>_<n>`. Tests sharing one cluster use it
/// so that running in parallel they never step on each other's databases.
pub fn unique_db_name(prefix: &str) -> String {
    static NEXT: AtomicU32 = AtomicU32::new(1);
    format!("{prefix}_{}", NEXT.fetch_add(1, Ordering::Relaxed))
}

fn excerpt(sql: &str) -> String {
    if sql.len() <= 2000 {
        return sql.to_owned();
    }
    let mut end = 2000;
    while !sql.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}\n… ({} bytes in all)", &sql[..end], sql.len())
}

static SHARED: OnceLock<Result<Cluster, String>> = OnceLock::new();

fn shared_result() -> &'static Result<Cluster, String> {
    SHARED.get_or_init(Cluster::start)
}

/// The process-wide cluster, started on first use (concurrent callers wait for it), or `None`
/// when PostgreSQL cannot run here. Its server stops and its directory is deleted when the test
/// process exits, even when the process is killed.
pub fn shared() -> Option<&'static Cluster> {
    shared_result().as_ref().ok()
}

/// Why the process-wide cluster is unavailable, or `None` when it runs.
pub fn unavailable_reason() -> Option<&'static str> {
    shared_result().as_ref().err().map(String::as_str)
}

/// The process-wide cluster for a test that needs PostgreSQL.
///
/// When PostgreSQL is unavailable: on CI (environment `CI` set to `true`, `1` or `yes`) this
/// panics, so a broken CI machine cannot pass silently; elsewhere it prints
/// `SKIPPED: PostgreSQL not available: <why>` on stderr and returns `None`, and the test returns
/// early:
///
/// ```no_run
/// let Some(pg) = odump_testpg::require() else { return };
/// ```
pub fn require() -> Option<&'static Cluster> {
    match shared_result() {
        Ok(c) => Some(c),
        Err(why) => {
            if on_ci() {
                panic!("PostgreSQL is required on CI but not available: {why}");
            }
            // Through the stderr handle, not eprintln!: libtest captures the macros' output
            // of passing tests, and a skip must stay visible.
            let _ = writeln!(
                std::io::stderr(),
                "SKIPPED: PostgreSQL not available: {why}"
            );
            None
        }
    }
}

/// The process-wide cluster's server version string (see [`Cluster::server_version`]).
/// Panics when PostgreSQL is unavailable: call [`require`] first.
pub fn pg_version() -> String {
    match shared_result() {
        Ok(c) => c.server_version().to_owned(),
        Err(why) => panic!("PostgreSQL not available: {why}"),
    }
}

fn on_ci() -> bool {
    env::var("CI").is_ok_and(|v| {
        let v = v.trim().to_ascii_lowercase();
        v == "true" || v == "1" || v == "yes"
    })
}

/// Runs a server-side program (initdb, postgres, pg_ctl) as the right OS user.
fn server_command(run_as: Option<&RunAs>, program: &Path, args: &[&OsStr]) -> Command {
    match run_as {
        Some(r) => r.command(program, args),
        None => {
            let mut c = Command::new(program);
            c.args(args);
            c
        }
    }
}

fn has_tools(dir: &Path) -> bool {
    REQUIRED_TOOLS.iter().all(|t| is_executable(&dir.join(t)))
}

/// Where the PostgreSQL binaries are: `$ODUMP_TESTPG_BINDIR`, else `pg_config --bindir`, else
/// the highest `/usr/lib/postgresql/<N>/bin` (Debian) or `/usr/pgsql-<N>/bin` (RHEL), else the
/// directory of `initdb` on `PATH`. A candidate must hold every tool the harness runs.
fn find_bin_dir() -> Result<PathBuf, String> {
    if let Some(d) = env::var_os("ODUMP_TESTPG_BINDIR") {
        let d = PathBuf::from(d);
        return if has_tools(&d) {
            Ok(d)
        } else {
            Err(format!(
                "ODUMP_TESTPG_BINDIR={} lacks one of {REQUIRED_TOOLS:?}",
                d.display()
            ))
        };
    }
    if let Some(pg_config) = find_program("pg_config") {
        let mut cmd = Command::new(pg_config);
        cmd.arg("--bindir");
        if let Ok(f) = process::run(cmd, None, Stdout::Capture, Duration::from_secs(20)) {
            if f.status.success() {
                let d = PathBuf::from(String::from_utf8_lossy(&f.stdout).trim());
                if has_tools(&d) {
                    return Ok(d);
                }
            }
        }
    }
    let mut versioned: Vec<(u32, PathBuf)> = Vec::new();
    if let Ok(rd) = fs::read_dir("/usr/lib/postgresql") {
        for e in rd.flatten() {
            if let Ok(n) = e.file_name().to_string_lossy().parse::<u32>() {
                versioned.push((n, e.path().join("bin")));
            }
        }
    }
    if let Ok(rd) = fs::read_dir("/usr") {
        for e in rd.flatten() {
            let name = e.file_name().to_string_lossy().into_owned();
            if let Some(n) = name
                .strip_prefix("pgsql-")
                .and_then(|v| v.parse::<u32>().ok())
            {
                versioned.push((n, e.path().join("bin")));
            }
        }
    }
    versioned.sort();
    if let Some((_, d)) = versioned.into_iter().rev().find(|(_, d)| has_tools(d)) {
        return Ok(d);
    }
    if let Some(initdb) = find_program("initdb") {
        if let Some(d) = initdb.parent() {
            if has_tools(d) {
                return Ok(d.to_owned());
            }
        }
    }
    Err(format!(
        "no PostgreSQL binaries ({}) found via pg_config, /usr/lib/postgresql/*/bin or PATH",
        REQUIRED_TOOLS.join(", ")
    ))
}

fn is_root() -> bool {
    if let Ok(s) = fs::read_to_string("/proc/self/status") {
        if let Some(line) = s.lines().find(|l| l.starts_with("Uid:")) {
            // real, effective, saved, filesystem
            return line.split_whitespace().nth(2) == Some("0");
        }
    }
    Command::new("id")
        .arg("-u")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
        .unwrap_or(false)
}

/// uid and gid of an OS user, from /etc/passwd or `id`.
fn user_ids(user: &str) -> Option<(u32, u32)> {
    if let Ok(passwd) = fs::read_to_string("/etc/passwd") {
        for line in passwd.lines() {
            let f: Vec<&str> = line.split(':').collect();
            if f.len() >= 4 && f[0] == user {
                if let (Ok(u), Ok(g)) = (f[2].parse(), f[3].parse()) {
                    return Some((u, g));
                }
            }
        }
    }
    let id = |flag: &str| -> Option<u32> {
        let o = Command::new("id").arg(flag).arg(user).output().ok()?;
        if !o.status.success() {
            return None;
        }
        String::from_utf8_lossy(&o.stdout).trim().parse().ok()
    };
    Some((id("-u")?, id("-g")?))
}

/// Removes cluster directories left by test processes that no longer exist (a process killed
/// together with its watchdog), stopping a server still running in one. Linux only (`/proc`).
fn sweep_stale(bin_dir: &Path, run_as: Option<&RunAs>) {
    if !Path::new("/proc/self").exists() {
        return;
    }
    let Ok(rd) = fs::read_dir("/tmp") else {
        return;
    };
    let alive = |pid: u32| Path::new(&format!("/proc/{pid}")).exists();
    for e in rd.flatten() {
        if !e.file_name().to_string_lossy().starts_with(DIR_PREFIX) {
            continue;
        }
        let dir = e.path();
        let owner = fs::read_to_string(dir.join("owner"))
            .ok()
            .and_then(|s| s.trim().parse::<u32>().ok());
        match owner {
            Some(pid) if alive(pid) => continue,
            Some(_) => {}
            None => {
                // Maybe being created right now: only old ones are stale.
                let young = e
                    .metadata()
                    .and_then(|m| m.modified())
                    .ok()
                    .and_then(|t| SystemTime::now().duration_since(t).ok())
                    .is_none_or(|age| age < Duration::from_secs(600));
                if young {
                    continue;
                }
            }
        }
        let data = dir.join("data");
        let postmaster = fs::read_to_string(data.join("postmaster.pid"))
            .ok()
            .and_then(|s| s.lines().next().and_then(|l| l.trim().parse::<u32>().ok()));
        if postmaster.is_some_and(alive) {
            let args: Vec<OsString> = vec![
                "stop".into(),
                "-D".into(),
                data.clone().into_os_string(),
                "-m".into(),
                "immediate".into(),
                "-w".into(),
                "-t".into(),
                "10".into(),
            ];
            let args: Vec<&OsStr> = args.iter().map(OsString::as_os_str).collect();
            let mut cmd = server_command(run_as, &bin_dir.join("pg_ctl"), &args);
            cmd.current_dir("/");
            let _ = process::run(cmd, None, Stdout::Capture, Duration::from_secs(20));
        }
        let _ = fs::remove_dir_all(&dir);
    }
}

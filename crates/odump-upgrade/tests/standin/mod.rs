//! A local stand-in of the Odoo upgrade platform, on loopback only:
//!
//! - two HTTP listeners on `127.0.0.1` (std only): the "main" server, which answers `create`
//!   only, and the "assigned" host named in `assigned_host_uri`, which answers every later verb
//!   (`transfer/start`, `transfer/stop`, `process`, `status`, and `GET upgrade/request/logs` with
//!   `Range`), each speaking JSON-RPC 2.0 the way DESIGN.md lists it;
//! - a real `sshd` on its own loopback port with a throwaway host key and a config of its own
//!   (`UsePAM no`, `StrictModes no`, `AuthorizedKeysFile` filled from `create`'s `ssh_key`);
//!   the `known_hosts` returned by `transfer/start` is `[127.0.0.1]:PORT <host key>`.
//!
//! What is not the real platform: the SSH user is the user running the tests (root, with
//! `PermitRootLogin prohibit-password`) instead of `odoo`, and `/data` is a temporary directory
//! ([`StandIn::data_dir`]); the client is configured with both (`Config::remote_user`,
//! `Config::remote_dir`), as the official client's `--data-server-user/-path` allow.
//!
//! Self-contained (std, serde_json, tempfile) so another test suite can include it with
//! `#[path = "…/standin/mod.rs"] mod standin;`.

use std::collections::HashMap;
use std::hash::{BuildHasher, Hasher};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread;
use std::time::{Duration, Instant};

use serde_json::{json, Value};

/// How the stand-in answers a verb instead of its normal answer.
#[derive(Debug, Clone)]
pub enum Failure {
    /// `{"result": {"error": MESSAGE}}`.
    ResultError(String),
    /// `{"error": {"code": 200, "message": "Odoo Server Error", "data": {"message": MESSAGE}}}`.
    RpcError(String),
    /// HTTP 500.
    Http500,
    /// Waits this long, then closes without answering.
    Hang(Duration),
    /// (`transfer/start`) answers normally but with a `known_hosts` line for another key.
    WrongHostKey,
}

/// How a processed request ends.
#[derive(Debug, Clone)]
pub enum Outcome {
    /// `done`, with a result to download.
    Done,
    /// `failed`, with this reason.
    Failed(String),
}

/// The script the stand-in follows.
#[derive(Debug, Clone)]
pub struct Script {
    /// Status polls answered `pending` after `process`.
    pub pending_polls: u32,
    /// Status polls answered `progress` after those (one log line added on each).
    pub progress_polls: u32,
    /// The end.
    pub outcome: Outcome,
    /// A verb that fails, and how.
    pub fail: Option<(String, Failure)>,
}

impl Default for Script {
    fn default() -> Self {
        Script {
            pending_polls: 1,
            progress_polls: 3,
            outcome: Outcome::Done,
            fail: None,
        }
    }
}

/// One call received.
#[derive(Debug, Clone)]
pub struct Call {
    /// `main` or `assigned`.
    pub listener: &'static str,
    /// `create`, `transfer/start`, …, or `logs`.
    pub verb: String,
    /// The JSON-RPC params (for `logs`: `{"range": "bytes=N-"}`).
    pub params: Value,
}

struct RequestState {
    id: u64,
    status: &'static str,
    processed: bool,
    polls: u32,
    log: Vec<u8>,
    reason: Option<String>,
}

struct Platform {
    script: Script,
    calls: Vec<Call>,
    requests: HashMap<String, RequestState>,
    next_id: u64,
    /// A directory-format dump to hand back as the result (see [`StandIn::set_result_dump`]).
    result_dump: Option<PathBuf>,
}

struct Shared {
    platform: Mutex<Platform>,
    stop: AtomicBool,
    data_dir: PathBuf,
    authorized_keys: PathBuf,
    known_hosts: String,
    ssh_port: u16,
    assigned_host_uri: String,
}

/// The running stand-in: HTTP listeners and sshd, all stopped on drop.
pub struct StandIn {
    /// `http://127.0.0.1:PORT` of the main server.
    pub url: String,
    /// What `/data` is on this platform.
    pub data_dir: PathBuf,
    /// The SSH user the client must use.
    pub user: String,
    shared: Arc<Shared>,
    sshd: Child,
    _dir: tempfile::TempDir,
}

/// Why the stand-in cannot run here.
pub fn missing_prerequisite() -> Option<String> {
    for program in ["sshd", "ssh", "ssh-keygen", "rsync"] {
        if find(program).is_none() {
            return Some(format!(
                "`{program}` not found (Debian: apt-get install openssh-server rsync)"
            ));
        }
    }
    let uid = Command::new("id").arg("-u").output().ok()?;
    if String::from_utf8_lossy(&uid.stdout).trim() != "0" {
        return Some("sshd must run as root for the stand-in".into());
    }
    None
}

/// `PATH`, then `/usr/sbin` and `/sbin`.
fn find(program: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .chain([PathBuf::from("/usr/sbin"), PathBuf::from("/sbin")])
        .map(|dir| dir.join(program))
        .find(|p| p.is_file())
}

/// A free loopback port (bound then released).
fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

impl StandIn {
    /// Starts the listeners and sshd, following `script`.
    pub fn start(script: Script) -> StandIn {
        let dir = tempfile::tempdir().unwrap();
        let data_dir = dir.path().join("data");
        std::fs::create_dir(&data_dir).unwrap();
        let host_key = dir.path().join("host_ed25519");
        let status = Command::new("ssh-keygen")
            .args(["-q", "-t", "ed25519", "-N", "", "-f"])
            .arg(&host_key)
            .status()
            .unwrap();
        assert!(status.success(), "ssh-keygen for the host key");
        let host_public = std::fs::read_to_string(host_key.with_extension("pub")).unwrap();
        let mut host_public = host_public.split_whitespace();
        let (kind, key) = (host_public.next().unwrap(), host_public.next().unwrap());
        let authorized_keys = dir.path().join("authorized_keys");
        std::fs::write(&authorized_keys, "").unwrap();
        let user = String::from_utf8(Command::new("id").arg("-un").output().unwrap().stdout)
            .unwrap()
            .trim()
            .to_owned();

        let ssh_port = free_port();
        let config = dir.path().join("sshd_config");
        std::fs::write(
            &config,
            format!(
                "Port {ssh_port}\nListenAddress 127.0.0.1\nHostKey {}\nAuthorizedKeysFile {}\n\
                 PidFile {}\nUsePAM no\nStrictModes no\nPermitRootLogin prohibit-password\n\
                 PasswordAuthentication no\nKbdInteractiveAuthentication no\n\
                 PubkeyAuthentication yes\nAllowUsers {user}\nLogLevel ERROR\n",
                host_key.display(),
                authorized_keys.display(),
                dir.path().join("sshd.pid").display(),
            ),
        )
        .unwrap();
        std::fs::create_dir_all("/run/sshd").unwrap();
        let sshd_log = std::fs::File::create(dir.path().join("sshd.log")).unwrap();
        let sshd = Command::new(find("sshd").unwrap())
            .args(["-D", "-e", "-f"])
            .arg(&config)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(sshd_log)
            .spawn()
            .unwrap();
        register_pid(sshd.id());

        let main = TcpListener::bind("127.0.0.1:0").unwrap();
        let assigned = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}", main.local_addr().unwrap());
        let shared = Arc::new(Shared {
            platform: Mutex::new(Platform {
                script,
                calls: Vec::new(),
                requests: HashMap::new(),
                next_id: 1,
                result_dump: None,
            }),
            stop: AtomicBool::new(false),
            data_dir: data_dir.clone(),
            authorized_keys,
            known_hosts: format!("[127.0.0.1]:{ssh_port} {kind} {key}"),
            ssh_port,
            assigned_host_uri: assigned.local_addr().unwrap().to_string(),
        });
        for (listener, name) in [(main, "main"), (assigned, "assigned")] {
            let shared = Arc::clone(&shared);
            thread::spawn(move || serve(listener, name, shared));
        }
        let standin = StandIn {
            url,
            data_dir,
            user,
            shared,
            sshd,
            _dir: dir,
        };
        standin.wait_for_sshd();
        standin
    }

    fn wait_for_sshd(&self) {
        let deadline = Instant::now() + Duration::from_secs(10);
        while TcpStream::connect(("127.0.0.1", self.shared.ssh_port)).is_err() {
            if Instant::now() > deadline {
                let log =
                    std::fs::read_to_string(self._dir.path().join("sshd.log")).unwrap_or_default();
                panic!(
                    "sshd did not listen on port {} within 10 s: {log}",
                    self.shared.ssh_port
                );
            }
            thread::sleep(Duration::from_millis(20));
        }
    }

    fn platform(&self) -> MutexGuard<'_, Platform> {
        self.shared.platform.lock().unwrap()
    }

    /// Every call received so far.
    pub fn calls(&self) -> Vec<Call> {
        self.platform().calls.clone()
    }

    /// How many calls of `verb` were received.
    pub fn count(&self, verb: &str) -> usize {
        self.platform()
            .calls
            .iter()
            .filter(|c| c.verb == verb)
            .count()
    }

    /// Replaces the failure injected (or clears it).
    pub fn set_failure(&self, fail: Option<(&str, Failure)>) {
        self.platform().script.fail = fail.map(|(verb, f)| (verb.to_owned(), f));
    }

    /// Hands back the files of `dir` (a real directory-format dump) as the upgraded dump of
    /// requests that end `done`, instead of placeholder files.
    #[allow(dead_code)] // used by the binary's end-to-end tests, not by this crate's
    pub fn set_result_dump(&self, dir: &Path) {
        self.platform().result_dump = Some(dir.to_owned());
    }

    /// The whole log of request `id`.
    pub fn log_of(&self, id: u64) -> Vec<u8> {
        let platform = self.platform();
        platform
            .requests
            .values()
            .find(|r| r.id == id)
            .map(|r| r.log.clone())
            .unwrap_or_default()
    }
}

impl Drop for StandIn {
    fn drop(&mut self) {
        self.shared.stop.store(true, Ordering::SeqCst);
        let _ = self.sshd.kill();
        let _ = self.sshd.wait();
        unregister_pid(self.sshd.id());
    }
}

/// sshd processes alive, for [`Watchdog`] to kill before it aborts a hung test.
static SSHD_PIDS: Mutex<Vec<u32>> = Mutex::new(Vec::new());

fn register_pid(pid: u32) {
    SSHD_PIDS
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .push(pid);
}

fn unregister_pid(pid: u32) {
    SSHD_PIDS
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .retain(|&p| p != pid);
}

/// Ends the test process (after killing the stand-ins' sshd) if a test runs longer than its limit.
pub struct Watchdog {
    done: Arc<AtomicBool>,
}

impl Watchdog {
    /// Arms a watchdog for `limit`.
    pub fn new(name: &'static str, limit: Duration) -> Watchdog {
        let done = Arc::new(AtomicBool::new(false));
        let flag = Arc::clone(&done);
        thread::spawn(move || {
            let deadline = Instant::now() + limit;
            while Instant::now() < deadline {
                if flag.load(Ordering::SeqCst) {
                    return;
                }
                thread::sleep(Duration::from_millis(100));
            }
            eprintln!("test `{name}` still running after {limit:?}: killing sshd and aborting");
            for pid in SSHD_PIDS.lock().unwrap_or_else(|e| e.into_inner()).iter() {
                let _ = Command::new("kill").arg(pid.to_string()).status();
            }
            std::process::exit(101);
        });
        Watchdog { done }
    }
}

impl Drop for Watchdog {
    fn drop(&mut self) {
        self.done.store(true, Ordering::SeqCst);
    }
}

fn serve(listener: TcpListener, name: &'static str, shared: Arc<Shared>) {
    listener.set_nonblocking(true).unwrap();
    while !shared.stop.load(Ordering::SeqCst) {
        match listener.accept() {
            Ok((stream, _)) => {
                let shared = Arc::clone(&shared);
                thread::spawn(move || handle(stream, name, &shared));
            }
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                thread::sleep(Duration::from_millis(5))
            }
            Err(_) => return,
        }
    }
}

/// An HTTP answer.
struct Answer {
    status: u16,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Answer {
    fn json(value: Value) -> Answer {
        Answer {
            status: 200,
            headers: vec![("Content-Type".into(), "application/json".into())],
            body: value.to_string().into_bytes(),
        }
    }

    fn plain(status: u16, text: &str) -> Answer {
        Answer {
            status,
            headers: vec![("Content-Type".into(), "text/plain".into())],
            body: text.as_bytes().to_vec(),
        }
    }
}

fn handle(stream: TcpStream, name: &'static str, shared: &Shared) {
    stream.set_nonblocking(false).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    let mut request_line = String::new();
    if reader.read_line(&mut request_line).is_err() {
        return;
    }
    let mut headers = HashMap::new();
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).unwrap_or(0) == 0 {
            return;
        }
        let line = line.trim_end();
        if line.is_empty() {
            break;
        }
        if let Some((k, v)) = line.split_once(':') {
            headers.insert(k.trim().to_ascii_lowercase(), v.trim().to_owned());
        }
    }
    let length: usize = headers
        .get("content-length")
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    let mut body = vec![0; length];
    if reader.read_exact(&mut body).is_err() {
        return;
    }
    let mut parts = request_line.split_whitespace();
    let (method, target) = (parts.next().unwrap_or(""), parts.next().unwrap_or(""));
    let answer = match (method, target.split_once('?')) {
        ("GET", Some(("/upgrade/request/logs", query))) => logs(
            name,
            shared,
            query,
            headers.get("range").map(String::as_str),
        ),
        ("POST", _) if target.starts_with("/upgrade/request/") => {
            let verb = &target["/upgrade/request/".len()..];
            match rpc(name, shared, verb, &body) {
                Some(answer) => answer,
                None => return, // hang: close without answering
            }
        }
        _ => Answer::plain(404, "not found"),
    };
    let mut out = stream;
    let mut head = format!(
        "HTTP/1.1 {} X\r\nContent-Length: {}\r\nConnection: close\r\n",
        answer.status,
        answer.body.len()
    );
    for (k, v) in &answer.headers {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    head.push_str("\r\n");
    let _ = out.write_all(head.as_bytes());
    let _ = out.write_all(&answer.body);
}

fn rpc_result(result: Value) -> Answer {
    Answer::json(json!({"jsonrpc": "2.0", "id": "not_used", "result": result}))
}

fn rpc_refusal(message: &str) -> Answer {
    rpc_result(json!({"error": message}))
}

/// `None`: hang up without answering.
fn rpc(listener: &'static str, shared: &Shared, verb: &str, body: &[u8]) -> Option<Answer> {
    let Ok(envelope) = serde_json::from_slice::<Value>(body) else {
        return Some(Answer::plain(400, "not JSON"));
    };
    if envelope["jsonrpc"] != "2.0"
        || envelope["method"] != "not_used"
        || !envelope["params"].is_object()
    {
        return Some(Answer::plain(400, "not a JSON-RPC 2.0 call with params"));
    }
    let params = envelope["params"].clone();
    let failure = {
        let mut platform = shared.platform.lock().unwrap();
        platform.calls.push(Call {
            listener,
            verb: verb.to_owned(),
            params: params.clone(),
        });
        platform
            .script
            .fail
            .as_ref()
            .filter(|(v, _)| v == verb)
            .map(|(_, f)| f.clone())
    };
    let mut known_hosts = shared.known_hosts.clone();
    match failure {
        Some(Failure::WrongHostKey) => {
            let other = "AAAAC3NzaC1lZDI1NTE5AAAAIIAcAT1OpFe0TOkAeXvIwsc9TkoVb9BPDS7ABx3MvUgS";
            known_hosts = format!("[127.0.0.1]:{} ssh-ed25519 {other}", shared.ssh_port);
        }
        Some(Failure::ResultError(m)) => return Some(rpc_refusal(&m)),
        Some(Failure::RpcError(m)) => {
            return Some(Answer::json(json!({
                "jsonrpc": "2.0", "id": "not_used",
                "error": {"code": 200, "message": "Odoo Server Error",
                          "data": {"name": "odoo.exceptions.UserError", "message": m}}
            })))
        }
        Some(Failure::Http500) => return Some(Answer::plain(500, "Internal Server Error")),
        Some(Failure::Hang(d)) => {
            thread::sleep(d);
            return None;
        }
        None => {}
    }
    if verb == "create" {
        return Some(if listener == "main" {
            create(shared, &params)
        } else {
            rpc_refusal("create goes to the main server")
        });
    }
    if listener != "assigned" {
        return Some(rpc_refusal(
            "this host does not hold the request: use the assigned host",
        ));
    }
    let token = params["token"].as_str().unwrap_or_default().to_owned();
    let mut platform = shared.platform.lock().unwrap();
    let script = platform.script.clone();
    let result_dump = platform.result_dump.clone();
    let Some(request) = platform.requests.get_mut(&token) else {
        return Some(rpc_refusal("unknown token"));
    };
    Some(match verb {
        "transfer/start" => match params["transfer_type"].as_str() {
            Some("upload") => rpc_result(json!({
                "ssh_port": shared.ssh_port, "known_hosts": known_hosts,
            })),
            Some("download") if request.status == "done" => rpc_result(json!({
                "ssh_port": shared.ssh_port, "known_hosts": known_hosts,
                "dump_name": "upgraded.dump",
            })),
            Some("download") => rpc_refusal("the request is not done"),
            _ => rpc_refusal("transfer_type must be upload or download"),
        },
        "transfer/stop" => {
            if request.status == "new" && uploaded(&shared.data_dir).is_some() {
                request.status = "pending";
            }
            rpc_result(json!(true))
        }
        "process" => {
            if uploaded(&shared.data_dir).is_none() {
                rpc_refusal("no dump uploaded")
            } else {
                request.processed = true;
                request.status = "pending";
                rpc_result(json!({"is_pg_version_compatible": true}))
            }
        }
        "status" => {
            if request.processed && !matches!(request.status, "done" | "failed") {
                request.polls += 1;
                if request.polls > script.pending_polls {
                    request.status = "progress";
                    let step = request.polls - script.pending_polls;
                    request.log.extend_from_slice(
                        format!("INFO upgrade step {step}: migrating modules\n").as_bytes(),
                    );
                }
                if request.polls > script.pending_polls + script.progress_polls {
                    match &script.outcome {
                        Outcome::Done => {
                            request.status = "done";
                            request.log.extend_from_slice(b"INFO upgrade done\n");
                            write_result(&shared.data_dir, result_dump.as_deref());
                        }
                        Outcome::Failed(reason) => {
                            request.status = "failed";
                            request.reason = Some(reason.clone());
                            request.log.extend_from_slice(b"ERROR upgrade failed\n");
                        }
                    }
                }
            }
            rpc_result(json!({
                "status": request.status,
                "host_uri": shared.assigned_host_uri,
                "reason": request.reason,
                "archived": false,
            }))
        }
        _ => rpc_refusal("unknown verb"),
    })
}

fn create(shared: &Shared, params: &Value) -> Answer {
    let text = |k: &str| params[k].as_str().filter(|s| !s.is_empty());
    if text("contract").is_none() {
        return rpc_refusal("contract is required");
    }
    if text("target").is_none() {
        return rpc_refusal("target is required");
    }
    if !matches!(text("aim"), Some("test" | "production")) {
        return rpc_refusal("aim must be test or production");
    }
    if text("actuator").is_none() || !params["env_vars"].is_array() {
        return rpc_refusal("actuator and env_vars are required");
    }
    if text("api_version") != Some("0.2") {
        return rpc_refusal("unsupported api_version");
    }
    let Some(ssh_key) = text("ssh_key").filter(|k| k.starts_with("ssh-")) else {
        return rpc_refusal("ssh_key must be an OpenSSH public key");
    };
    let mut keys = std::fs::OpenOptions::new()
        .append(true)
        .open(&shared.authorized_keys)
        .unwrap();
    writeln!(keys, "{ssh_key}").unwrap();
    let random = std::hash::RandomState::new();
    let token = format!(
        "{:016x}{:016x}",
        random.build_hasher().finish(),
        random.hash_one(params.to_string())
    );
    let mut platform = shared.platform.lock().unwrap();
    let id = platform.next_id;
    platform.next_id += 1;
    platform.requests.insert(
        token.clone(),
        RequestState {
            id,
            status: "new",
            processed: false,
            polls: 0,
            log: Vec::new(),
            reason: None,
        },
    );
    rpc_result(json!({
        "request_id": id,
        "token": token,
        "assigned_host_uri": shared.assigned_host_uri,
    }))
}

/// The uploaded `origin*` in the data directory.
fn uploaded(data_dir: &Path) -> Option<PathBuf> {
    std::fs::read_dir(data_dir)
        .ok()?
        .filter_map(Result::ok)
        .map(|e| e.path())
        .find(|p| {
            p.file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with("origin"))
        })
}

/// What an upgrade leaves for download: `upgraded.dump/` (directory format), a partial
/// `filestore/`, `upgrade-report.html`, `upgrade.log`. The dump's files are those of
/// `result_dump` when given, else placeholders.
fn write_result(data_dir: &Path, result_dump: Option<&Path>) {
    let dump = data_dir.join("upgraded.dump");
    std::fs::create_dir_all(&dump).unwrap();
    match result_dump {
        Some(source) => {
            for entry in std::fs::read_dir(source).unwrap() {
                let entry = entry.unwrap();
                std::fs::copy(entry.path(), dump.join(entry.file_name())).unwrap();
            }
        }
        None => {
            std::fs::write(dump.join("toc.dat"), b"PGDMP stand-in table of contents").unwrap();
            std::fs::write(dump.join("3001.dat.gz"), b"stand-in table data").unwrap();
        }
    }
    let files = data_dir.join("filestore/ab");
    std::fs::create_dir_all(&files).unwrap();
    std::fs::write(files.join("abcdef0123"), b"an attachment").unwrap();
    std::fs::write(data_dir.join("upgrade-report.html"), b"<html>report</html>").unwrap();
    std::fs::write(data_dir.join("upgrade.log"), b"INFO upgrade done\n").unwrap();
}

fn logs(listener: &'static str, shared: &Shared, query: &str, range: Option<&str>) -> Answer {
    let token = query
        .split('&')
        .find_map(|kv| kv.strip_prefix("token="))
        .unwrap_or_default();
    let mut platform = shared.platform.lock().unwrap();
    platform.calls.push(Call {
        listener,
        verb: "logs".into(),
        params: json!({"range": range}),
    });
    let Some(request) = platform.requests.get(token) else {
        return Answer::plain(404, "unknown token");
    };
    let log = request.log.clone();
    let Some(from) = range
        .and_then(|r| r.strip_prefix("bytes="))
        .and_then(|r| r.strip_suffix('-'))
        .and_then(|n| n.parse::<usize>().ok())
    else {
        return Answer {
            status: 200,
            headers: vec![("Content-Type".into(), "text/plain".into())],
            body: log,
        };
    };
    if from >= log.len() {
        return Answer::plain(416, "");
    }
    Answer {
        status: 206,
        headers: vec![
            ("Content-Type".into(), "text/plain".into()),
            (
                "Content-Range".into(),
                format!("bytes {from}-{}/{}", log.len() - 1, log.len()),
            ),
        ],
        body: log[from..].to_vec(),
    }
}

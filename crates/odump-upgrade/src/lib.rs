//! A thin client for the Odoo upgrade platform: send a dump, follow the upgrade, bring the result
//! back. It speaks what the official `upgrade.py` script speaks:
//!
//! - JSON-RPC 2.0 over HTTPS (`{"jsonrpc":"2.0","method":"not_used","params":{…}}` POSTed to
//!   `<server>/upgrade/request/<verb>`): `create` (contract, target, aim, actuator `odoo-dump`,
//!   env_vars, ssh_key, api_version `0.2`) → request_id, token, assigned_host_uri; every later
//!   call goes to that host: `transfer/start` (token, transfer_type) → ssh_port, known_hosts
//!   [, dump_name]; `transfer/stop`; `process` → is_pg_version_compatible; `status` → status,
//!   host_uri, reason; and `GET upgrade/request/logs?token=…` with `Range: bytes=N-`.
//! - The file itself goes by the system `rsync` over `ssh` (child processes with argument lists,
//!   never a shell), as user `odoo` to `/data/origin<ext>`, with the returned port and
//!   `known_hosts` and strict host key checking, using an ed25519 key pair generated for the
//!   request (private file 0600).
//!
//! Every step is saved (see [`SavedRequest`]), so running the same upload again resumes the same
//! request: an interrupted upload continues from what arrived (`rsync --partial`), an interrupted
//! follow goes on polling; only a request that ended `failed`/`cancelled` is replaced.
//! Contract codes and tokens are [`Secret`]s: never printed whole.
//!
//! Pre-flight checks (is this an Odoo dump, neutralized, with a filestore, complete?) are the
//! caller's: this crate takes the facts already decided ([`UploadRequest`]).
//!
//! # Example
//!
//! ```no_run
//! use std::ops::ControlFlow;
//! use odump_upgrade::{Aim, Client, Config, DumpFormat, Event, Secret, Status, UploadRequest};
//!
//! # fn main() -> Result<(), odump_upgrade::Error> {
//! // --server, else $ODOO_UPGRADE_SERVER, else https://upgrade.odoo.com
//! let client = Client::new(Config::from_env(None)?)?;
//! let request = UploadRequest {
//!     dump: "prod.dump".into(),
//!     format: DumpFormat::Custom,
//!     source_version: "16.0".into(),
//!     target: "17.0".into(),
//!     aim: Aim::Test,
//!     contract: Secret::new("M1234567890abcd"),
//! };
//! let finished = client.upload(&request, &mut |event: &Event<'_>| {
//!     match event {
//!         Event::Progress(p) => eprintln!("{} bytes sent", p.bytes),
//!         Event::Status { status, .. } => eprintln!("status: {status}"),
//!         Event::Log(bytes) => eprint!("{}", String::from_utf8_lossy(bytes)),
//!         _ => {}
//!     }
//!     ControlFlow::Continue(())
//! })?;
//! match finished.status {
//!     Status::Done => {
//!         let result = client.download(&finished, "upgraded".as_ref(), &mut |_| {
//!             ControlFlow::Continue(())
//!         })?;
//!         println!("upgraded dump in {}", result.dump.display());
//!     }
//!     status => eprintln!("request {} {status}: {:?}", finished.request_id, finished.reason),
//! }
//! # Ok(())
//! # }
//! ```

mod client;
mod error;
mod rpc;
mod secret;
mod state;
mod transfer;

use std::ffi::OsString;
use std::path::PathBuf;
use std::time::Duration;

pub use client::{Client, Downloaded, Event, OnEvent, UploadRequest};
pub use error::{Error, Result};
pub use secret::Secret;
pub use state::{Aim, DumpFormat, DumpIdentity, Phase, SavedRequest, Status};
pub use transfer::{Direction, Progress};

/// The platform used when neither an option nor [`SERVER_ENV`] names one.
pub const DEFAULT_SERVER: &str = "https://upgrade.odoo.com";
/// The environment variable naming the platform (`https://HOST[:PORT]`).
pub const SERVER_ENV: &str = "ODOO_UPGRADE_SERVER";
/// The environment variable overriding the state directory (`…/odoo-dump`; requests are saved
/// in its `requests/` subdirectory).
pub const STATE_DIR_ENV: &str = "ODOO_DUMP_STATE_DIR";

/// How to reach the platform and where to keep requests.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    /// The platform, `https://HOST[:PORT]` (plain `http` is accepted for loopback hosts only).
    pub server: String,
    /// Where requests are saved: `<state_dir>/requests/<key>/`.
    pub state_dir: PathBuf,
    /// The SSH user on the platform's hosts (`odoo`).
    pub remote_user: String,
    /// The directory on the platform's hosts uploads go to and results come from (`/data`).
    pub remote_dir: String,
    /// Connect timeout for HTTP (TLS handshake included) and `ssh -o ConnectTimeout`.
    pub connect_timeout: Duration,
    /// Longest wait for an HTTP answer, and between two reads of one.
    pub read_timeout: Duration,
    /// rsync `--timeout`: the longest a transfer may go without I/O.
    pub transfer_timeout: Duration,
    /// Pause between two status polls.
    pub poll_interval: Duration,
    /// rsync `--bwlimit`, in KiB/s (to spare a shared link); `None` for no limit.
    pub bandwidth_limit_kib: Option<u32>,
}

impl Config {
    /// The configuration for `server` (an option such as `--server`), else the URL in
    /// `$ODOO_UPGRADE_SERVER`, else [`DEFAULT_SERVER`]; state under `$ODOO_DUMP_STATE_DIR`, else
    /// `$XDG_STATE_HOME/odoo-dump`, else `~/.local/state/odoo-dump`. Other settings take the
    /// official client's values: user `odoo`, directory `/data`, 60 s answers, 5 s polls.
    pub fn from_env(server: Option<&str>) -> Result<Config> {
        Config::resolve(server, &|name| std::env::var_os(name))
    }

    fn resolve(server: Option<&str>, var: &dyn Fn(&str) -> Option<OsString>) -> Result<Config> {
        let set = |name: &str| var(name).filter(|v| !v.is_empty());
        let server = match server {
            Some(server) => server.to_owned(),
            None => match set(SERVER_ENV) {
                Some(value) => value
                    .into_string()
                    .map_err(|_| Error::Invalid(format!("${SERVER_ENV} is not valid UTF-8")))?,
                None => DEFAULT_SERVER.to_owned(),
            },
        };
        let state_dir = if let Some(dir) = set(STATE_DIR_ENV) {
            PathBuf::from(dir)
        } else if let Some(dir) = set("XDG_STATE_HOME").filter(|d| PathBuf::from(d).is_absolute()) {
            PathBuf::from(dir).join("odoo-dump")
        } else if let Some(home) = set("HOME") {
            PathBuf::from(home).join(".local/state/odoo-dump")
        } else {
            return Err(Error::Invalid(format!(
                "no state directory: set ${STATE_DIR_ENV} or $HOME"
            )));
        };
        Ok(Config {
            server,
            state_dir,
            remote_user: "odoo".into(),
            remote_dir: "/data".into(),
            connect_timeout: Duration::from_secs(30),
            read_timeout: Duration::from_secs(60),
            transfer_timeout: Duration::from_secs(300),
            poll_interval: Duration::from_secs(5),
            bandwidth_limit_kib: None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn resolve(server: Option<&str>, env: &[(&str, &str)]) -> Result<Config> {
        let env: HashMap<String, OsString> = env
            .iter()
            .map(|(k, v)| (k.to_string(), OsString::from(v)))
            .collect();
        Config::resolve(server, &|name| env.get(name).cloned())
    }

    #[test]
    fn server_from_option_then_env_then_default() {
        let env = [(SERVER_ENV, "https://env.example"), ("HOME", "/home/u")];
        assert_eq!(
            resolve(Some("https://opt.example"), &env).unwrap().server,
            "https://opt.example"
        );
        assert_eq!(resolve(None, &env).unwrap().server, "https://env.example");
        assert_eq!(
            resolve(None, &[("HOME", "/home/u")]).unwrap().server,
            DEFAULT_SERVER
        );
    }

    #[test]
    fn state_dir_from_override_then_xdg_then_home() {
        let home = [("HOME", "/home/u")];
        assert_eq!(
            resolve(None, &home).unwrap().state_dir,
            PathBuf::from("/home/u/.local/state/odoo-dump")
        );
        let xdg = [("HOME", "/home/u"), ("XDG_STATE_HOME", "/x")];
        assert_eq!(
            resolve(None, &xdg).unwrap().state_dir,
            PathBuf::from("/x/odoo-dump")
        );
        let over = [
            ("HOME", "/home/u"),
            ("XDG_STATE_HOME", "/x"),
            (STATE_DIR_ENV, "/t"),
        ];
        assert_eq!(resolve(None, &over).unwrap().state_dir, PathBuf::from("/t"));
        assert!(resolve(None, &[]).is_err());
    }
}

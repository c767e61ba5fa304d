//! [`Client`]: the request flow as a resumable state machine.
//!
//! ```text
//!  create ──► Created ──transfer/start, rsync, transfer/stop──► Uploaded ──process──► Processing
//!                 ▲ Uploading (rsync --partial resumes)                                  │ status
//!                                                                                        ▼ + logs
//!                                                                 Finished (done | failed | cancelled)
//! ```
//!
//! The phase is saved after every step; a later run reads the platform's status first and
//! reconciles: `new` → (re)upload, `pending` → process unless already asked, `progress` → follow,
//! a final status → finished.

use std::ffi::OsString;
use std::ops::ControlFlow;
use std::path::{Path, PathBuf};

use serde_json::{json, Value};

use crate::error::{Error, Result};
use crate::rpc::{ssh_host, Endpoint, Http};
use crate::secret::Secret;
use crate::state::{now, Aim, DumpFormat, DumpIdentity, Phase, SavedRequest, Status, Store};
use crate::transfer::{self, Direction, Progress, Rsync, RunEnd, SshTarget};
use crate::Config;

/// What the client is doing, for the caller to show (progress bar, log lines). The handler
/// returns [`ControlFlow::Break`] to stop: a running rsync is killed (what it sent is kept for the
/// next run), and the call returns [`Error::Interrupted`] with the request saved.
#[derive(Debug)]
#[non_exhaustive]
pub enum Event<'a> {
    /// `create` answered: a new request.
    Created {
        /// The platform's request id.
        request_id: u64,
        /// The assigned host all later calls go to.
        host: &'a str,
    },
    /// A saved request for the same dump, target and aim is taken up again.
    Resumed {
        /// The platform's request id.
        request_id: u64,
        /// Where this client had got.
        phase: Phase,
        /// The platform's status now.
        status: Status,
    },
    /// The saved request for this dump ended (failed, cancelled or archived): a new one is created.
    Replaced {
        /// The previous request's id.
        request_id: u64,
        /// Its last status.
        status: Status,
    },
    /// `transfer/start` answered; rsync starts.
    TransferStarted {
        /// Upload or download.
        direction: Direction,
        /// The SSH port given by the platform.
        port: u16,
    },
    /// rsync progress.
    Progress(&'a Progress),
    /// rsync finished and `transfer/stop` answered.
    TransferFinished {
        /// Upload or download.
        direction: Direction,
    },
    /// `process` answered: the upgrade is queued.
    Processing {
        /// `false` when the platform's PostgreSQL is newer than what this dump came from can
        /// restore (the official client then skips the local restore).
        pg_version_compatible: bool,
    },
    /// The platform's status changed (sent for the first status seen, then on each change).
    Status {
        /// The new status.
        status: Status,
        /// The platform's reason (for `failed`).
        reason: Option<&'a str>,
    },
    /// New bytes of the platform's upgrade log (not split on lines or characters).
    Log(&'a [u8]),
}

/// The facts a request is made of, decided by the caller (pre-flight checks are not done here).
#[derive(Debug, Clone)]
pub struct UploadRequest {
    /// The dump file, or the directory of a directory-format dump.
    pub dump: PathBuf,
    /// Its container (names the upload `origin<ext>`).
    pub format: DumpFormat,
    /// The dump's Odoo series (`16.0`, `saas~17.2`), kept for display.
    pub source_version: String,
    /// The target series.
    pub target: String,
    /// Test or production.
    pub aim: Aim,
    /// The subscription code (`database.enterprise_code`).
    pub contract: Secret,
}

/// What a download brought, all inside [`Downloaded::dir`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Downloaded {
    /// The new directory.
    pub dir: PathBuf,
    /// The upgraded directory-format dump.
    pub dump: PathBuf,
    /// The partial filestore (files the upgrade added or changed), when there is one.
    pub filestore: Option<PathBuf>,
    /// `upgrade-report.html`, when there is one.
    pub report: Option<PathBuf>,
    /// `upgrade.log`, when there is one.
    pub log: Option<PathBuf>,
}

/// The event handler type: see [`Event`].
pub type OnEvent<'a> = dyn FnMut(&Event<'_>) -> ControlFlow<()> + 'a;

/// The upgrade platform client. Cheap to build; all state lives on disk under
/// [`Config::state_dir`].
pub struct Client {
    config: Config,
    http: Http,
    server: Endpoint,
    store: Store,
}

impl Client {
    /// Checks `config` (server URL, remote user and directory) and builds a client.
    pub fn new(config: Config) -> Result<Self> {
        let server = Endpoint::parse(&config.server)?;
        let user_ok = !config.remote_user.is_empty()
            && !config.remote_user.starts_with('-')
            && config
                .remote_user
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'));
        if !user_ok {
            return Err(Error::Invalid(format!(
                "remote user `{}` is not a plain user name",
                config.remote_user
            )));
        }
        let dir_ok = config.remote_dir.starts_with('/')
            && !config.remote_dir.split('/').any(|part| part == "..")
            && config
                .remote_dir
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-' | '/'));
        if !dir_ok {
            return Err(Error::Invalid(format!(
                "remote directory `{}` must be an absolute path of plain characters",
                config.remote_dir
            )));
        }
        Ok(Client {
            http: Http::new(config.connect_timeout, config.read_timeout),
            store: Store::new(&config.state_dir),
            server,
            config,
        })
    }

    /// The configuration in use.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// Sends a dump and follows the request to its end: `create`, upload, `process`, then status
    /// polling with the log streamed, until `done`, `failed` or `cancelled` (returned in
    /// [`SavedRequest::status`], with [`SavedRequest::reason`]).
    ///
    /// Resumable: when a request for the same dump (path, size, mtime), target and aim is saved,
    /// it is taken up where it stopped instead of creating a second one (an interrupted upload
    /// continues from what arrived, an interrupted follow goes on polling). A saved request that
    /// ended `failed` or `cancelled` in an earlier run, or was archived, is replaced by a new one.
    pub fn upload(
        &self,
        request: &UploadRequest,
        on_event: &mut OnEvent<'_>,
    ) -> Result<SavedRequest> {
        check_target(&request.target)?;
        if request.contract.is_empty() {
            return Err(Error::Invalid(
                "no contract (subscription code) given: the platform needs one to create a request"
                    .into(),
            ));
        }
        transfer::check_programs()?;
        let dump = DumpIdentity::of(&request.dump, request.format)?;
        let key = dump.key(&request.target, request.aim);
        let resumed = match self.store.load(&key)? {
            Some(saved) => self.resume(saved, on_event)?,
            None => None,
        };
        let mut saved = match resumed {
            Some(saved) => saved,
            None => self.create(request, dump, key, on_event)?,
        };
        self.drive(&mut saved, on_event, true)?;
        Ok(saved)
    }

    /// Follows a saved request whose upload is complete (as [`Client::upload`] would, without
    /// needing the dump): `process` if not asked yet, then status polling to the end.
    pub fn follow(&self, saved: &SavedRequest, on_event: &mut OnEvent<'_>) -> Result<SavedRequest> {
        let (mut saved, _) = self.refresh(saved.clone())?;
        if saved.phase < Phase::Uploaded {
            return Err(Error::Invalid(format!(
                "the upload of request {} is not complete: run the upload again with its dump to resume it",
                saved.request_id
            )));
        }
        self.drive(&mut saved, on_event, false)?;
        Ok(saved)
    }

    /// Asks the platform for the status of a saved request, saves and returns the updated request.
    pub fn status(&self, saved: &SavedRequest) -> Result<SavedRequest> {
        Ok(self.refresh(saved.clone())?.0)
    }

    /// The saved requests, oldest first (for `odoo-dump status`).
    pub fn list_requests(&self) -> Result<Vec<SavedRequest>> {
        self.store.list()
    }

    /// Deletes a saved request (its state, SSH key and known_hosts); the platform is not told.
    pub fn forget(&self, saved: &SavedRequest) -> Result<()> {
        self.store.remove(&saved.key)
    }

    /// Downloads the result of a `done` request into `dest`, a new directory (or an existing empty
    /// one): the directory-format dump, the partial `filestore/`, `upgrade-report.html` and
    /// `upgrade.log`. The files arrive in a hidden sibling `.<name>.odoo-dump-partial` (kept when
    /// interrupted, so the next run continues it) that is renamed to `dest` when complete.
    pub fn download(
        &self,
        saved: &SavedRequest,
        dest: &Path,
        on_event: &mut OnEvent<'_>,
    ) -> Result<Downloaded> {
        let dest = std::path::absolute(dest).map_err(|e| Error::io("resolve", dest, e))?;
        let (Some(parent), Some(name)) = (dest.parent(), dest.file_name()) else {
            return Err(Error::Invalid(format!(
                "{} cannot be a download directory",
                dest.display()
            )));
        };
        if !parent.is_dir() {
            return Err(Error::Invalid(format!(
                "{} does not exist: create it first or download elsewhere",
                parent.display()
            )));
        }
        let dest_exists = check_destination(&dest)?;
        transfer::check_programs()?;
        let mut saved = saved.clone();
        self.query_status(&mut saved)?;
        if saved.status == Status::Done {
            saved.phase = Phase::Finished;
        }
        self.store.save(&mut saved)?;
        if saved.status != Status::Done {
            return Err(Error::NotDone {
                request_id: saved.request_id,
                status: saved.status.to_string(),
            });
        }
        let endpoint = self.endpoint(&saved)?;
        let transfer = self.transfer_start(&saved, &endpoint, Direction::Download)?;
        let dump_name = transfer.dump_name.unwrap_or_default();
        emit(
            on_event,
            &Event::TransferStarted {
                direction: Direction::Download,
                port: transfer.port,
            },
            "download",
            saved.request_id,
        )?;
        let mut partial_name = OsString::from(".");
        partial_name.push(name);
        partial_name.push(".odoo-dump-partial");
        let partial = parent.join(partial_name);
        std::fs::create_dir_all(&partial).map_err(|e| Error::io("create", &partial, e))?;
        let dir = self.store.dir(&saved.key);
        let target = self.ssh_target(&endpoint, transfer.port, &dir);
        let mut paths: Vec<OsString> = [
            dump_name.as_str(),
            "filestore",
            "upgrade-report.html",
            "upgrade.log",
        ]
        .iter()
        .map(|item| {
            target
                .remote(&format!("{}/{item}", self.config.remote_dir))
                .into()
        })
        .collect();
        paths.push(transfer::with_trailing_slash(&partial));
        let rsync = Rsync {
            target,
            direction: Direction::Download,
            extra: vec!["--ignore-missing-args".into()],
            paths,
            total: None,
            bandwidth_limit_kib: self.config.bandwidth_limit_kib,
            io_timeout: self.config.transfer_timeout,
        };
        let request_id = saved.request_id;
        if rsync.run(request_id, &mut |p| on_event(&Event::Progress(p)))? == RunEnd::Stopped {
            return Err(Error::Interrupted {
                action: "download",
                request_id,
            });
        }
        self.http.call(
            &endpoint,
            "transfer/stop",
            json!({"token": saved.token.expose()}),
            &[&saved.token],
        )?;
        if !partial.join(&dump_name).exists() {
            return Err(Error::BadReply {
                verb: "transfer/start".into(),
                host: endpoint.host().into(),
                detail: format!("the result has no `{dump_name}` to download"),
            });
        }
        if dest_exists {
            std::fs::remove_dir(&dest).map_err(|e| Error::io("replace", &dest, e))?;
        }
        std::fs::rename(&partial, &dest)
            .map_err(|e| Error::io("move the download to", &dest, e))?;
        saved.downloaded_to = Some(dest.clone());
        self.store.save(&mut saved)?;
        emit(
            on_event,
            &Event::TransferFinished {
                direction: Direction::Download,
            },
            "download",
            request_id,
        )?;
        let present = |name: &str| Some(dest.join(name)).filter(|p| p.exists());
        Ok(Downloaded {
            dump: dest.join(&dump_name),
            filestore: present("filestore"),
            report: present("upgrade-report.html"),
            log: present("upgrade.log"),
            dir: dest,
        })
    }

    /// Keys a new pair, calls `create`, saves the request.
    fn create(
        &self,
        request: &UploadRequest,
        dump: DumpIdentity,
        key: String,
        on_event: &mut OnEvent<'_>,
    ) -> Result<SavedRequest> {
        self.store.remove(&key)?;
        let dir = self.store.create_dir(&key)?;
        let created = transfer::generate_key(&dir).and_then(|public_key| {
            self.http.call(
                &self.server,
                "create",
                json!({
                    "contract": request.contract.expose(),
                    "target": request.target,
                    "aim": request.aim.as_str(),
                    "actuator": "odoo-dump",
                    "env_vars": [],
                    "ssh_key": public_key,
                    "api_version": "0.2",
                }),
                &[&request.contract],
            )
        });
        let reply = match created {
            Ok(reply) => reply,
            Err(e) => {
                // Nothing was created: leave no key pair behind.
                let _ = self.store.remove(&key);
                return Err(e);
            }
        };
        let request_id = field(&reply, "request_id", &self.server, "create")?
            .as_u64()
            .ok_or_else(|| bad(&self.server, "create", "`request_id` is not a number"))?;
        let token = string_field(&reply, "token", &self.server, "create")?;
        let host_uri = string_field(&reply, "assigned_host_uri", &self.server, "create")?;
        self.server.assigned(&host_uri, "create")?;
        let mut saved = SavedRequest {
            key,
            request_id,
            token: Secret::new(token),
            server: self.server.base().to_owned(),
            host_uri,
            dump,
            source_version: request.source_version.clone(),
            target: request.target.clone(),
            aim: request.aim,
            phase: Phase::Created,
            status: Status::New,
            reason: None,
            pg_version_compatible: None,
            log_offset: 0,
            downloaded_to: None,
            created_at: now(),
            updated_at: 0,
        };
        self.store.save(&mut saved)?;
        emit(
            on_event,
            &Event::Created {
                request_id,
                host: &saved.host_uri,
            },
            "upload",
            request_id,
        )?;
        Ok(saved)
    }

    /// Takes a saved request up again, or `None` when a new one must replace it.
    fn resume(
        &self,
        saved: SavedRequest,
        on_event: &mut OnEvent<'_>,
    ) -> Result<Option<SavedRequest>> {
        let (saved, replace) = if saved.phase == Phase::Finished && saved.status != Status::Done {
            // Its failure was reported by an earlier run: running again means trying again.
            (saved, true)
        } else {
            let (saved, archived) = self.refresh(saved)?;
            let replace = archived && !saved.status.is_final();
            (saved, replace)
        };
        if replace {
            emit(
                on_event,
                &Event::Replaced {
                    request_id: saved.request_id,
                    status: saved.status,
                },
                "upload",
                saved.request_id,
            )?;
            self.store.remove(&saved.key)?;
            return Ok(None);
        }
        emit(
            on_event,
            &Event::Resumed {
                request_id: saved.request_id,
                phase: saved.phase,
                status: saved.status,
            },
            "upload",
            saved.request_id,
        )?;
        Ok(Some(saved))
    }

    /// Runs the steps from the saved phase to `Finished`. `can_upload` is false when the dump is
    /// not at hand ([`Client::follow`]).
    fn drive(
        &self,
        saved: &mut SavedRequest,
        on_event: &mut OnEvent<'_>,
        can_upload: bool,
    ) -> Result<()> {
        loop {
            match saved.phase {
                Phase::Created | Phase::Uploading if can_upload => self.push(saved, on_event)?,
                Phase::Created | Phase::Uploading => {
                    return Err(Error::Invalid(format!(
                        "the platform has no complete upload for request {}: run the upload again with its dump",
                        saved.request_id
                    )))
                }
                Phase::Uploaded => self.process(saved, on_event)?,
                Phase::Processing => self.poll(saved, on_event)?,
                Phase::Finished => return Ok(()),
            }
        }
    }

    /// `transfer/start` (upload), rsync, `transfer/stop`.
    fn push(&self, saved: &mut SavedRequest, on_event: &mut OnEvent<'_>) -> Result<()> {
        let request_id = saved.request_id;
        saved.phase = Phase::Uploading;
        self.store.save(saved)?;
        let endpoint = self.endpoint(saved)?;
        let transfer = self.transfer_start(saved, &endpoint, Direction::Upload)?;
        emit(
            on_event,
            &Event::TransferStarted {
                direction: Direction::Upload,
                port: transfer.port,
            },
            "upload",
            request_id,
        )?;
        let dir = self.store.dir(&saved.key);
        let target = self.ssh_target(&endpoint, transfer.port, &dir);
        let remote = format!(
            "{}/{}",
            self.config.remote_dir,
            saved.dump.format.remote_name()
        );
        // The official client's permissions, so the platform's processes can read the upload.
        let mut extra: Vec<OsString> = vec!["--chmod=u+rwx,g+rwx,o+r".into()];
        let source = if saved.dump.format == DumpFormat::Directory {
            extra.push("--delete-after".into());
            transfer::with_trailing_slash(&saved.dump.path)
        } else {
            saved.dump.path.clone().into_os_string()
        };
        let rsync = Rsync {
            paths: vec![source, target.remote(&remote).into()],
            target,
            direction: Direction::Upload,
            extra,
            total: Some(saved.dump.size),
            bandwidth_limit_kib: self.config.bandwidth_limit_kib,
            io_timeout: self.config.transfer_timeout,
        };
        if rsync.run(request_id, &mut |p| on_event(&Event::Progress(p)))? == RunEnd::Stopped {
            return Err(Error::Interrupted {
                action: "upload",
                request_id,
            });
        }
        self.http.call(
            &endpoint,
            "transfer/stop",
            json!({"token": saved.token.expose()}),
            &[&saved.token],
        )?;
        saved.phase = Phase::Uploaded;
        self.store.save(saved)?;
        emit(
            on_event,
            &Event::TransferFinished {
                direction: Direction::Upload,
            },
            "upload",
            request_id,
        )
    }

    /// `process`.
    fn process(&self, saved: &mut SavedRequest, on_event: &mut OnEvent<'_>) -> Result<()> {
        let endpoint = self.endpoint(saved)?;
        let reply = self.http.call(
            &endpoint,
            "process",
            json!({"token": saved.token.expose()}),
            &[&saved.token],
        )?;
        let compatible = field(&reply, "is_pg_version_compatible", &endpoint, "process")?
            .as_bool()
            .ok_or_else(|| {
                bad(
                    &endpoint,
                    "process",
                    "`is_pg_version_compatible` is not a boolean",
                )
            })?;
        saved.pg_version_compatible = Some(compatible);
        saved.phase = Phase::Processing;
        self.store.save(saved)?;
        emit(
            on_event,
            &Event::Processing {
                pg_version_compatible: compatible,
            },
            "processing",
            saved.request_id,
        )
    }

    /// Status polling with the log streamed, until a final status.
    fn poll(&self, saved: &mut SavedRequest, on_event: &mut OnEvent<'_>) -> Result<()> {
        let request_id = saved.request_id;
        let mut shown: Option<Status> = None;
        loop {
            self.query_status(saved)?;
            if shown != Some(saved.status) {
                shown = Some(saved.status);
                emit(
                    on_event,
                    &Event::Status {
                        status: saved.status,
                        reason: saved.reason.as_deref(),
                    },
                    "processing",
                    request_id,
                )?;
            }
            if saved.status == Status::Progress || saved.status.is_final() {
                let endpoint = self.endpoint(saved)?;
                let read =
                    self.http
                        .logs(&endpoint, &saved.token, saved.log_offset, &mut |bytes| {
                            on_event(&Event::Log(bytes))
                        })?;
                saved.log_offset = read.offset;
                if read.stopped {
                    self.store.save(saved)?;
                    return Err(Error::Interrupted {
                        action: "processing",
                        request_id,
                    });
                }
            }
            if saved.status.is_final() {
                saved.phase = Phase::Finished;
                return self.store.save(saved);
            }
            self.store.save(saved)?;
            std::thread::sleep(self.config.poll_interval);
        }
    }

    /// Asks the platform for the status and reconciles the saved phase with it, then saves.
    /// Also returns whether the platform archived the request.
    fn refresh(&self, mut saved: SavedRequest) -> Result<(SavedRequest, bool)> {
        let reply = self.query_status(&mut saved)?;
        saved.phase = match saved.status {
            status if status.is_final() => Phase::Finished,
            Status::Progress => saved.phase.max(Phase::Processing),
            // The platform has no complete upload: send (the rest of) it again.
            Status::New => saved.phase.min(Phase::Uploading),
            _ => saved.phase,
        };
        self.store.save(&mut saved)?;
        Ok((saved, reply.archived))
    }

    /// `status` → status, host_uri, reason, archived; updates `saved` (not saved to disk).
    fn query_status(&self, saved: &mut SavedRequest) -> Result<StatusReply> {
        let endpoint = self.endpoint(saved)?;
        let reply = self.http.call(
            &endpoint,
            "status",
            json!({"token": saved.token.expose()}),
            &[&saved.token],
        )?;
        let text = string_field(&reply, "status", &endpoint, "status")?;
        let status = Status::parse(&text)
            .ok_or_else(|| bad(&endpoint, "status", &format!("unknown status `{text}`")))?;
        let host_uri = string_field(&reply, "host_uri", &endpoint, "status")?;
        endpoint.assigned(&host_uri, "status")?;
        saved.host_uri = host_uri;
        saved.status = status;
        saved.reason = reply
            .get("reason")
            .and_then(Value::as_str)
            .filter(|r| !r.is_empty())
            .map(|r| saved.token.scrub(r));
        Ok(StatusReply {
            archived: reply
                .get("archived")
                .and_then(Value::as_bool)
                .unwrap_or(false),
        })
    }

    /// `transfer/start` → ssh_port, known_hosts (written next to the key)[, dump_name].
    fn transfer_start(
        &self,
        saved: &SavedRequest,
        endpoint: &Endpoint,
        direction: Direction,
    ) -> Result<TransferInfo> {
        const VERB: &str = "transfer/start";
        let dir = self.store.dir(&saved.key);
        let key = dir.join("id_ed25519");
        if !key.is_file() {
            return Err(Error::Invalid(format!(
                "the SSH key of request {} is missing ({}): forget the request and start a new one",
                saved.request_id,
                key.display()
            )));
        }
        let reply = self.http.call(
            endpoint,
            VERB,
            json!({"token": saved.token.expose(), "transfer_type": direction.as_str()}),
            &[&saved.token],
        )?;
        let port_value = field(&reply, "ssh_port", endpoint, VERB)?;
        let port = port_value
            .as_u64()
            .or_else(|| port_value.as_str().and_then(|s| s.parse().ok()))
            .and_then(|p| u16::try_from(p).ok())
            .filter(|&p| p != 0)
            .ok_or_else(|| bad(endpoint, VERB, "`ssh_port` is not a port number"))?;
        let known_hosts = string_field(&reply, "known_hosts", endpoint, VERB)?;
        let path = dir.join("known_hosts");
        std::fs::write(&path, format!("{}\n", known_hosts.trim_end()))
            .map_err(|e| Error::io("write", &path, e))?;
        let dump_name = match direction {
            Direction::Upload => None,
            Direction::Download => {
                let name = string_field(&reply, "dump_name", endpoint, VERB)?;
                let plain = !name.is_empty()
                    && !name.starts_with(['.', '-'])
                    && name
                        .chars()
                        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'));
                if !plain {
                    return Err(bad(
                        endpoint,
                        VERB,
                        &format!("`dump_name` `{name}` is not a plain file name"),
                    ));
                }
                Some(name)
            }
        };
        Ok(TransferInfo { port, dump_name })
    }

    fn ssh_target<'a>(&'a self, endpoint: &'a Endpoint, port: u16, dir: &Path) -> SshTarget<'a> {
        SshTarget {
            host: ssh_host(endpoint.host()),
            port,
            user: &self.config.remote_user,
            key: dir.join("id_ed25519"),
            known_hosts: dir.join("known_hosts"),
            connect_timeout: self.config.connect_timeout,
        }
    }

    /// The assigned host of a saved request, with the scheme of the server it was created on.
    fn endpoint(&self, saved: &SavedRequest) -> Result<Endpoint> {
        Endpoint::parse(&saved.server)?.assigned(&saved.host_uri, "status")
    }
}

/// What `status` says beyond the saved fields.
struct StatusReply {
    archived: bool,
}

/// What `transfer/start` gave.
struct TransferInfo {
    port: u16,
    dump_name: Option<String>,
}

/// Calls the handler; `Break` becomes [`Error::Interrupted`].
fn emit(
    on_event: &mut OnEvent<'_>,
    event: &Event<'_>,
    action: &'static str,
    request_id: u64,
) -> Result<()> {
    match on_event(event) {
        ControlFlow::Continue(()) => Ok(()),
        ControlFlow::Break(()) => Err(Error::Interrupted { action, request_id }),
    }
}

/// `true` when `dest` exists (then as an empty directory); an error when it has content.
fn check_destination(dest: &Path) -> Result<bool> {
    match std::fs::read_dir(dest) {
        Ok(mut entries) => {
            if entries.next().is_some() {
                return Err(Error::DestinationNotEmpty { path: dest.into() });
            }
            Ok(true)
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(false),
        Err(_) => Err(Error::DestinationNotEmpty { path: dest.into() }),
    }
}

/// A target series: `17.0` or `saas~17.2`.
fn check_target(target: &str) -> Result<()> {
    let series = target.strip_prefix("saas~").unwrap_or(target);
    let ok = series.split_once('.').is_some_and(|(major, minor)| {
        [major, minor]
            .iter()
            .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()))
    });
    if ok {
        Ok(())
    } else {
        Err(Error::Invalid(format!(
            "target `{target}` is not an Odoo series like 17.0 or saas~17.2"
        )))
    }
}

fn bad(endpoint: &Endpoint, verb: &str, detail: &str) -> Error {
    Error::BadReply {
        verb: verb.into(),
        host: endpoint.host().into(),
        detail: detail.into(),
    }
}

fn field<'a>(reply: &'a Value, name: &str, endpoint: &Endpoint, verb: &str) -> Result<&'a Value> {
    reply
        .get(name)
        .filter(|v| !v.is_null())
        .ok_or_else(|| bad(endpoint, verb, &format!("`{name}` is missing")))
}

fn string_field(reply: &Value, name: &str, endpoint: &Endpoint, verb: &str) -> Result<String> {
    field(reply, name, endpoint, verb)?
        .as_str()
        .map(str::to_owned)
        .ok_or_else(|| bad(endpoint, verb, &format!("`{name}` is not a string")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets_are_series() {
        assert!(check_target("17.0").is_ok());
        assert!(check_target("saas~17.2").is_ok());
        assert!(check_target("17").is_err());
        assert!(check_target("17.0; rm").is_err());
        assert!(check_target("").is_err());
    }

    #[test]
    fn destination_must_be_new_or_empty() {
        let dir = tempfile::tempdir().unwrap();
        assert!(!check_destination(&dir.path().join("new")).unwrap());
        assert!(check_destination(dir.path()).unwrap());
        std::fs::write(dir.path().join("f"), b"x").unwrap();
        assert!(matches!(
            check_destination(dir.path()),
            Err(Error::DestinationNotEmpty { .. })
        ));
        assert!(check_destination(&dir.path().join("f")).is_err());
    }
}

//! The client against a local stand-in of the upgrade platform (HTTP on loopback + a real sshd
//! and rsync). Without sshd/rsync (or not root) the tests print `SKIPPED: …` and pass, unless
//! `CI=true`, where they fail.

mod standin;

use std::hash::{DefaultHasher, Hash, Hasher};
use std::ops::ControlFlow;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant, SystemTime};

use odump_upgrade::{
    Aim, Client, Config, Direction, DumpFormat, Error, Event, Phase, Secret, Status, UploadRequest,
};
use standin::{Failure, Outcome, Script, StandIn, Watchdog};

const CONTRACT: &str = "M2024ABCDEF123456";

/// The stand-in, or `None` (after printing why) when this machine cannot run it.
fn standin(script: Script) -> Option<StandIn> {
    if let Some(why) = standin::missing_prerequisite() {
        if std::env::var("CI").is_ok_and(|v| v == "true") {
            panic!("the upgrade platform stand-in cannot run under CI: {why}");
        }
        println!("SKIPPED: {why}");
        return None;
    }
    Some(StandIn::start(script))
}

fn config(standin: &StandIn, state: &Path) -> Config {
    Config {
        server: standin.url.clone(),
        state_dir: state.to_owned(),
        remote_user: standin.user.clone(),
        remote_dir: standin.data_dir.to_str().unwrap().to_owned(),
        connect_timeout: Duration::from_secs(5),
        read_timeout: Duration::from_secs(5),
        transfer_timeout: Duration::from_secs(30),
        poll_interval: Duration::from_millis(50),
        bandwidth_limit_kib: None,
    }
}

/// A file of `len` pseudo-random (incompressible) bytes.
fn write_dump(path: &Path, len: usize) {
    let mut state = 0x9e37_79b9_7f4a_7c15u64;
    let bytes: Vec<u8> = (0..len)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state as u8
        })
        .collect();
    std::fs::write(path, bytes).unwrap();
}

/// Content hash and mtime of a file or of a directory's files.
fn fingerprint(path: &Path) -> (u64, SystemTime) {
    let mut hasher = DefaultHasher::new();
    let mut files = vec![path.to_owned()];
    if path.is_dir() {
        files = std::fs::read_dir(path)
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        files.sort();
    }
    for file in &files {
        file.file_name().hash(&mut hasher);
        std::fs::read(file).unwrap().hash(&mut hasher);
    }
    (
        hasher.finish(),
        std::fs::metadata(path).unwrap().modified().unwrap(),
    )
}

fn request(dump: &Path, format: DumpFormat) -> UploadRequest {
    UploadRequest {
        dump: dump.to_owned(),
        format,
        source_version: "16.0".into(),
        target: "17.0".into(),
        aim: Aim::Test,
        contract: Secret::new(CONTRACT),
    }
}

/// What the event handler saw.
#[derive(Default, Debug)]
struct Seen {
    created: Vec<u64>,
    resumed: Vec<(u64, Phase, Status)>,
    replaced: Vec<u64>,
    transfers: Vec<(Direction, bool)>,
    progress: Vec<u64>,
    statuses: Vec<(Status, Option<String>)>,
    log: Vec<u8>,
    pg_compatible: Option<bool>,
}

impl Seen {
    fn record(&mut self, event: &Event<'_>) {
        match event {
            Event::Created { request_id, .. } => self.created.push(*request_id),
            Event::Resumed {
                request_id,
                phase,
                status,
            } => self.resumed.push((*request_id, *phase, *status)),
            Event::Replaced { request_id, .. } => self.replaced.push(*request_id),
            Event::TransferStarted { direction, .. } => self.transfers.push((*direction, false)),
            Event::TransferFinished { direction } => self.transfers.push((*direction, true)),
            Event::Progress(p) => self.progress.push(p.bytes),
            Event::Processing {
                pg_version_compatible,
            } => self.pg_compatible = Some(*pg_version_compatible),
            Event::Status { status, reason } => {
                self.statuses.push((*status, reason.map(str::to_owned)))
            }
            Event::Log(bytes) => self.log.extend_from_slice(bytes),
            _ => {}
        }
    }
}

/// Upload, processing with `new → pending → progress → done` and the log streamed, download into
/// a new directory; a second run resumes (no second `create`); secrets stay private.
#[test]
fn round_trip_test_aim() {
    let _watchdog = Watchdog::new("round_trip_test_aim", Duration::from_secs(120));
    let Some(standin) = standin(Script::default()) else {
        return;
    };
    let work = tempfile::tempdir().unwrap();
    let dump = work.path().join("prod.sql");
    write_dump(&dump, 300_000);
    let before = fingerprint(&dump);
    let state = work.path().join("state");
    let client = Client::new(config(&standin, &state)).unwrap();

    let mut seen = Seen::default();
    let mut status_after_create = None;
    let done = client
        .upload(&request(&dump, DumpFormat::PlainSql), &mut |event| {
            if let Event::Created { .. } = event {
                // What `odoo-dump status` in another terminal would show right now.
                let saved = client.list_requests().unwrap();
                status_after_create = Some(client.status(&saved[0]).unwrap().status);
            }
            seen.record(event);
            ControlFlow::Continue(())
        })
        .unwrap();

    assert_eq!(done.status, Status::Done);
    assert_eq!(done.phase, Phase::Finished);
    assert_eq!(status_after_create, Some(Status::New));
    assert_eq!(seen.created, vec![done.request_id]);
    assert_eq!(
        seen.transfers,
        vec![(Direction::Upload, false), (Direction::Upload, true)]
    );
    assert_eq!(seen.progress.last(), Some(&300_000));
    assert_eq!(seen.pg_compatible, Some(true));
    let statuses: Vec<Status> = seen.statuses.iter().map(|s| s.0).collect();
    assert_eq!(statuses, [Status::Pending, Status::Progress, Status::Done]);
    assert_eq!(
        seen.log,
        standin.log_of(done.request_id),
        "log streamed whole, once"
    );
    assert!(String::from_utf8_lossy(&seen.log).contains("upgrade step 3"));
    // The upload arrived whole under the name the platform expects.
    assert_eq!(
        std::fs::read(standin.data_dir.join("origin.sql")).unwrap(),
        std::fs::read(&dump).unwrap()
    );
    assert_eq!(fingerprint(&dump), before, "the local dump is untouched");

    // Protocol: create on the main server with the listed params, everything after on the
    // assigned host; logs fetched with a Range.
    let calls = standin.calls();
    let create = &calls[0];
    assert_eq!((create.listener, create.verb.as_str()), ("main", "create"));
    for (param, value) in [
        ("contract", CONTRACT),
        ("target", "17.0"),
        ("aim", "test"),
        ("actuator", "odoo-dump"),
        ("api_version", "0.2"),
    ] {
        assert_eq!(create.params[param], value, "{param}");
    }
    assert!(create.params["env_vars"].is_array());
    assert!(create.params["ssh_key"]
        .as_str()
        .unwrap()
        .starts_with("ssh-ed25519 "));
    assert!(
        calls[1..].iter().all(|c| c.listener == "assigned"),
        "{calls:?}"
    );
    let verbs: Vec<&str> = calls.iter().map(|c| c.verb.as_str()).collect();
    let start = verbs.iter().position(|v| *v == "transfer/start").unwrap();
    assert_eq!(
        &verbs[start..start + 3],
        ["transfer/start", "transfer/stop", "process"]
    );
    assert_eq!(calls[start].params["transfer_type"], "upload");
    assert!(calls
        .iter()
        .filter(|c| c.verb == "logs")
        .all(|c| c.params["range"].as_str().unwrap().starts_with("bytes=")));

    // Private files, and no contract in the saved state.
    let dir = state.join("requests").join(&done.key);
    let mode = |p: PathBuf| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(dir.join("id_ed25519")), 0o600);
    assert_eq!(mode(dir.join("request.json")), 0o600);
    let saved_text = std::fs::read_to_string(dir.join("request.json")).unwrap();
    assert!(!saved_text.contains(CONTRACT));
    assert!(!format!("{done:?}").contains(done.token.expose()));

    // Running the same upload again resumes the finished request: no second create.
    let mut again = Seen::default();
    let resumed = client
        .upload(&request(&dump, DumpFormat::PlainSql), &mut |e| {
            again.record(e);
            ControlFlow::Continue(())
        })
        .unwrap();
    assert_eq!(resumed.request_id, done.request_id);
    assert_eq!(resumed.status, Status::Done);
    assert_eq!(
        again.resumed,
        vec![(done.request_id, Phase::Finished, Status::Done)]
    );
    assert_eq!(standin.count("create"), 1);

    // Download into a new directory.
    let dest = work.path().join("upgraded");
    let mut downloaded_events = Seen::default();
    let result = client
        .download(&resumed, &dest, &mut |e| {
            downloaded_events.record(e);
            ControlFlow::Continue(())
        })
        .unwrap();
    assert_eq!(result.dir, dest);
    assert_eq!(result.dump, dest.join("upgraded.dump"));
    assert!(result.dump.join("toc.dat").is_file());
    assert_eq!(result.filestore, Some(dest.join("filestore")));
    assert!(dest.join("filestore/ab/abcdef0123").is_file());
    assert_eq!(result.report, Some(dest.join("upgrade-report.html")));
    assert_eq!(result.log, Some(dest.join("upgrade.log")));
    assert_eq!(
        downloaded_events.transfers,
        vec![(Direction::Download, false), (Direction::Download, true)]
    );
    assert!(!work.path().join(".upgraded.odoo-dump-partial").exists());
    let listed = client.list_requests().unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].downloaded_to.as_deref(), Some(dest.as_path()));

    // Never into a directory with files in it.
    let err = client
        .download(&resumed, &dest, &mut |_| ControlFlow::Continue(()))
        .unwrap_err();
    assert!(matches!(err, Error::DestinationNotEmpty { .. }), "{err}");
    assert_eq!(fingerprint(&dump), before);
}

/// A `failed` status comes back with its reason; running again starts a new request.
#[test]
fn failed_status_with_reason() {
    let _watchdog = Watchdog::new("failed_status_with_reason", Duration::from_secs(120));
    let reason = "The upgrade of module `x_custom` failed: column \"x_foo\" does not exist";
    let script = Script {
        pending_polls: 0,
        progress_polls: 1,
        outcome: Outcome::Failed(reason.into()),
        fail: None,
    };
    let Some(standin) = standin(script) else {
        return;
    };
    let work = tempfile::tempdir().unwrap();
    // A directory-format dump: its content goes to origin.dump/.
    let dump = work.path().join("prod_dir");
    std::fs::create_dir(&dump).unwrap();
    std::fs::write(dump.join("toc.dat"), b"PGDMP toc").unwrap();
    write_dump(&dump.join("3001.dat.gz"), 50_000);
    let before = fingerprint(&dump);
    let client = Client::new(config(&standin, &work.path().join("state"))).unwrap();

    let mut seen = Seen::default();
    let failed = client
        .upload(&request(&dump, DumpFormat::Directory), &mut |e| {
            seen.record(e);
            ControlFlow::Continue(())
        })
        .unwrap();
    assert_eq!(failed.status, Status::Failed);
    assert_eq!(failed.reason.as_deref(), Some(reason));
    assert_eq!(
        seen.statuses.last(),
        Some(&(Status::Failed, Some(reason.to_owned())))
    );
    assert!(String::from_utf8_lossy(&seen.log).contains("ERROR upgrade failed"));
    assert_eq!(
        std::fs::read(standin.data_dir.join("origin.dump/3001.dat.gz")).unwrap(),
        std::fs::read(dump.join("3001.dat.gz")).unwrap()
    );

    // Nothing to download.
    let err = client
        .download(&failed, &work.path().join("out"), &mut |_| {
            ControlFlow::Continue(())
        })
        .unwrap_err();
    assert!(matches!(err, Error::NotDone { .. }), "{err}");
    assert!(err.to_string().contains("failed"), "{err}");
    assert!(!work.path().join("out").exists());

    // The failure was reported: running again is a new try, hence a new request.
    let mut again = Seen::default();
    let second = client
        .upload(&request(&dump, DumpFormat::Directory), &mut |e| {
            again.record(e);
            ControlFlow::Continue(())
        })
        .unwrap();
    assert_eq!(again.replaced, vec![failed.request_id]);
    assert_ne!(second.request_id, failed.request_id);
    assert_eq!(standin.count("create"), 2);
    assert_eq!(client.list_requests().unwrap().len(), 1);

    // Forgetting a request removes its state and key pair.
    client.forget(&second).unwrap();
    assert!(client.list_requests().unwrap().is_empty());
    assert!(!work
        .path()
        .join("state/requests")
        .join(&second.key)
        .exists());
    assert_eq!(fingerprint(&dump), before);
}

/// An upload cut in the middle (the handler stops it; rsync is killed) resumes to completion
/// with the same request: one `create` only, rsync `--partial` continuing.
#[test]
fn interrupted_upload_resumes_with_one_request() {
    let _watchdog = Watchdog::new("interrupted_upload_resumes", Duration::from_secs(120));
    let Some(standin) = standin(Script::default()) else {
        return;
    };
    let work = tempfile::tempdir().unwrap();
    let dump = work.path().join("big.sql.gz");
    let size = 6 * 1024 * 1024;
    write_dump(&dump, size);
    let before = fingerprint(&dump);
    let state = work.path().join("state");
    let slow = Config {
        bandwidth_limit_kib: Some(1024),
        ..config(&standin, &state)
    };
    let client = Client::new(slow).unwrap();
    let mut cut_at = None;
    let err = client
        .upload(
            &request(&dump, DumpFormat::GzipSql),
            &mut |event| match event {
                Event::Progress(p) if p.bytes > 0 && p.bytes < p.total.unwrap() => {
                    cut_at = Some(p.bytes);
                    ControlFlow::Break(())
                }
                _ => ControlFlow::Continue(()),
            },
        )
        .unwrap_err();
    assert!(
        matches!(
            err,
            Error::Interrupted {
                action: "upload",
                ..
            }
        ),
        "{err}"
    );
    assert!(cut_at.is_some());
    assert!(
        err.to_string().contains("run the same command again"),
        "{err}"
    );

    // What arrived is kept on the platform (rsync --partial), short of the whole.
    let remote = standin.data_dir.join("origin.sql.gz");
    let deadline = Instant::now() + Duration::from_secs(10);
    let partial = loop {
        let len = std::fs::metadata(&remote).map(|m| m.len()).unwrap_or(0);
        if len > 0 || Instant::now() > deadline {
            break len;
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(
        partial > 0 && partial < size as u64,
        "partial upload of {partial} bytes"
    );
    let saved = client.list_requests().unwrap();
    assert_eq!(saved.len(), 1);
    assert_eq!(saved[0].phase, Phase::Uploading);

    // Same command again, full speed: resumes the same request to the end.
    let client = Client::new(config(&standin, &state)).unwrap();
    let mut seen = Seen::default();
    let done = client
        .upload(&request(&dump, DumpFormat::GzipSql), &mut |e| {
            seen.record(e);
            ControlFlow::Continue(())
        })
        .unwrap();
    assert_eq!(done.status, Status::Done);
    assert_eq!(done.request_id, saved[0].request_id);
    assert_eq!(
        seen.resumed,
        vec![(done.request_id, Phase::Uploading, Status::New)]
    );
    assert!(seen.created.is_empty());
    assert_eq!(standin.count("create"), 1);
    assert_eq!(standin.count("transfer/start"), 2);
    assert_eq!(
        std::fs::read(&remote).unwrap(),
        std::fs::read(&dump).unwrap()
    );
    assert_eq!(fingerprint(&dump), before);
}

/// JSON-RPC errors (both forms), HTTP 500, a timeout and an unreachable server: each a clear
/// one-line error naming the verb and host, the local dump untouched, the request resumable.
#[test]
fn server_errors_are_clear_and_leave_the_dump_untouched() {
    let _watchdog = Watchdog::new("server_errors", Duration::from_secs(120));
    let Some(standin) = standin(Script::default()) else {
        return;
    };
    let work = tempfile::tempdir().unwrap();
    let dump = work.path().join("prod.dump");
    write_dump(&dump, 100_000);
    let before = fingerprint(&dump);
    let state = work.path().join("state");
    let client = Client::new(config(&standin, &state)).unwrap();
    let host = standin.url.trim_start_matches("http://").to_owned();
    let upload = |client: &Client| {
        client.upload(&request(&dump, DumpFormat::Custom), &mut |_| {
            ControlFlow::Continue(())
        })
    };
    let one_line = |e: &Error| {
        let text = e.to_string();
        assert!(!text.contains('\n'), "{text}");
        assert!(!text.contains(CONTRACT), "contract printed whole: {text}");
        text
    };

    // `result.error`, echoing the contract: refused, masked, nothing saved.
    standin.set_failure(Some((
        "create",
        Failure::ResultError(format!("contract {CONTRACT} has expired")),
    )));
    let err = upload(&client).unwrap_err();
    let text = one_line(&err);
    assert!(matches!(err, Error::Refused { .. }), "{text}");
    assert!(text.contains("`create`") && text.contains(&host), "{text}");
    assert!(text.contains("contract ****3456 has expired"), "{text}");
    assert!(client.list_requests().unwrap().is_empty());
    assert!(
        !state.join("requests").read_dir().unwrap().any(|_| true),
        "no key pair left"
    );

    // `error.data.message`.
    standin.set_failure(Some((
        "create",
        Failure::RpcError("Target version 17.0 is not available for this database".into()),
    )));
    let err = upload(&client).unwrap_err();
    let text = one_line(&err);
    assert!(matches!(err, Error::Refused { .. }), "{text}");
    assert!(
        text.contains("Target version 17.0 is not available"),
        "{text}"
    );

    // HTTP 500 on transfer/start: the request is saved, at the upload step.
    standin.set_failure(Some(("transfer/start", Failure::Http500)));
    let err = upload(&client).unwrap_err();
    let text = one_line(&err);
    assert!(
        matches!(err, Error::HttpStatus { status: 500, .. }),
        "{text}"
    );
    assert!(
        text.contains("`transfer/start`") && text.contains("retry later"),
        "{text}"
    );
    let saved = client.list_requests().unwrap();
    assert_eq!(saved.len(), 1);
    assert_eq!(saved[0].phase, Phase::Uploading);
    assert!(!text.contains(saved[0].token.expose()));

    // A host key that is not the SSH server's: ssh refuses it (StrictHostKeyChecking=yes).
    standin.set_failure(Some(("transfer/start", Failure::WrongHostKey)));
    let err = upload(&client).unwrap_err();
    let text = one_line(&err);
    assert!(
        matches!(
            err,
            Error::Transfer {
                direction: "upload",
                ..
            }
        ),
        "{text}"
    );
    assert!(text.contains("Host key verification failed"), "{text}");
    assert!(!standin.data_dir.join("origin.dump").exists());

    // No answer to `process` within the read timeout.
    standin.set_failure(Some(("process", Failure::Hang(Duration::from_secs(4)))));
    let impatient = Client::new(Config {
        read_timeout: Duration::from_secs(1),
        ..config(&standin, &state)
    })
    .unwrap();
    let started = Instant::now();
    let err = upload(&impatient).unwrap_err();
    let text = one_line(&err);
    assert!(matches!(err, Error::Timeout { seconds: 1, .. }), "{text}");
    assert!(
        text.contains("`process`") && text.contains("resume"),
        "{text}"
    );
    assert!(
        started.elapsed() < Duration::from_secs(4),
        "gave up in time"
    );
    assert_eq!(client.list_requests().unwrap()[0].phase, Phase::Uploaded);

    // A server that is not there.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let nowhere = format!("http://{}", closed.local_addr().unwrap());
    drop(closed);
    let lost = Client::new(Config {
        server: nowhere,
        state_dir: work.path().join("other-state"),
        ..config(&standin, &state)
    })
    .unwrap();
    let err = upload(&lost).unwrap_err();
    let text = one_line(&err);
    assert!(matches!(err, Error::Unreachable { .. }), "{text}");

    assert_eq!(fingerprint(&dump), before, "the local dump is untouched");

    // Once the platform is fine again, the same request goes to the end; its upload is complete,
    // so following it needs no dump.
    standin.set_failure(None);
    let done = client
        .follow(&client.list_requests().unwrap()[0], &mut |_| {
            ControlFlow::Continue(())
        })
        .unwrap();
    assert_eq!(done.status, Status::Done);
    assert_eq!(done.request_id, saved[0].request_id);
    assert_eq!(standin.count("create"), 3, "two refused, one created");
    assert_eq!(fingerprint(&dump), before);
}

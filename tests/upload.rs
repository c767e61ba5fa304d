//! `odoo-dump upload`, `status` and `download`, the real binary against a local stand-in of the
//! upgrade platform (HTTP on loopback + a real sshd and rsync) with real dumps of Odoo-shaped
//! databases. Without PostgreSQL or sshd/rsync (or not root) the tests print `SKIPPED: …` and
//! pass, unless `CI=true`, where they fail.

#[allow(dead_code)]
#[path = "../crates/odump-upgrade/tests/standin/mod.rs"]
mod standin;

use std::hash::{DefaultHasher, Hash, Hasher};
use std::io::Read;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant, SystemTime};

use odump_testpg::fixtures::{self, OdooOptions};
use odump_testpg::{unique_db_name, Cluster, DumpKind, DumpOptions};
use serde_json::Value;
use standin::{Failure, Outcome, Script, StandIn, Watchdog};

const CONTRACT: &str = "M2024ABCDEF123456";
/// The longest one run of the binary may take.
const RUN_LIMIT: Duration = Duration::from_secs(60);

/// PostgreSQL and the stand-in's prerequisites, or `None` (after saying why) when this machine
/// cannot run them.
fn prerequisites() -> Option<&'static Cluster> {
    if let Some(why) = standin::missing_prerequisite() {
        if std::env::var("CI").is_ok_and(|v| v == "true") {
            panic!("the upgrade platform stand-in cannot run under CI: {why}");
        }
        println!("SKIPPED: {why}");
        return None;
    }
    odump_testpg::require()
}

/// One test's world: the stand-in, a work directory, a state directory.
struct World {
    standin: StandIn,
    work: tempfile::TempDir,
}

impl World {
    fn new(script: Script) -> World {
        World {
            standin: StandIn::start(script),
            work: tempfile::tempdir().unwrap(),
        }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.work.path().join(name)
    }

    /// `odoo-dump ARGS` pointed at the stand-in, with its own state directory, fast polls.
    fn command<S: AsRef<std::ffi::OsStr>>(&self, args: &[S]) -> Command {
        let mut command = Command::new(env!("CARGO_BIN_EXE_odoo-dump"));
        command
            .args(args)
            .current_dir(self.work.path())
            .env("ODOO_UPGRADE_SERVER", &self.standin.url)
            .env("ODOO_DUMP_STATE_DIR", self.path("state"))
            .env("ODOO_UPGRADE_SSH_USER", &self.standin.user)
            .env("ODOO_UPGRADE_DATA_DIR", &self.standin.data_dir)
            .env("ODOO_UPGRADE_POLL_INTERVAL", "0.05")
            .env("ODOO_UPGRADE_TIMEOUT", "5")
            .env_remove("ODOO_UPGRADE_CONTRACT")
            .stdin(Stdio::null());
        command
    }

    fn run<S: AsRef<std::ffi::OsStr>>(&self, args: &[S]) -> Run {
        run_bounded(self.command(args))
    }
}

/// What a run printed and how it ended.
struct Run {
    code: Option<i32>,
    stdout: String,
    stderr: String,
}

impl Run {
    fn json(&self) -> Value {
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|e| panic!("stdout is not JSON ({e}): {self}"))
    }
}

impl std::fmt::Display for Run {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "exit {:?}\n--- stdout\n{}--- stderr\n{}",
            self.code, self.stdout, self.stderr
        )
    }
}

/// Runs `command` to its end, killed (and the test failed) after [`RUN_LIMIT`].
fn run_bounded(mut command: Command) -> Run {
    let mut child = command
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("running odoo-dump");
    let reader = |mut pipe: Box<dyn Read + Send>| {
        std::thread::spawn(move || {
            let mut text = Vec::new();
            let _ = pipe.read_to_end(&mut text);
            String::from_utf8_lossy(&text).into_owned()
        })
    };
    let out = reader(Box::new(child.stdout.take().unwrap()));
    let err = reader(Box::new(child.stderr.take().unwrap()));
    let deadline = Instant::now() + RUN_LIMIT;
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!(
                "odoo-dump {:?} ran longer than {RUN_LIMIT:?}",
                command.get_args().collect::<Vec<_>>()
            );
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    Run {
        code: status.code(),
        stdout: out.join().unwrap(),
        stderr: err.join().unwrap(),
    }
}

/// Content hash and modification time of a dump file.
fn fingerprint(path: &Path) -> (u64, SystemTime) {
    let mut hasher = DefaultHasher::new();
    std::fs::read(path).unwrap().hash(&mut hasher);
    (
        hasher.finish(),
        std::fs::metadata(path).unwrap().modified().unwrap(),
    )
}

/// A fresh database from the Odoo fixture of `series`.
fn odoo_db(pg: &Cluster, series: &str, options: OdooOptions) -> String {
    let db = unique_db_name("upload");
    pg.create_db(&db, &fixtures::odoo(series, options));
    db
}

/// The token of the stand-in's request (from the params of the calls after `create`).
fn token(standin: &StandIn) -> String {
    standin
        .calls()
        .iter()
        .find_map(|c| c.params["token"].as_str().map(str::to_owned))
        .expect("a call with a token")
}

/// Neither the contract nor `secret` is printed whole.
fn assert_private(run: &Run, secret: &str) {
    for text in [&run.stdout, &run.stderr] {
        assert!(!text.contains(CONTRACT), "contract printed whole: {run}");
        assert!(!text.contains(secret), "token printed whole: {run}");
    }
}

/// Upload (contract from the dump), processing with the log streamed, done; `status`; download
/// into a new directory; `inspect` and `version` of the downloaded dump show the target series;
/// a second download into the same directory is refused; running the upload again resumes the
/// finished request without a second `create`.
#[test]
fn round_trip_test_aim() {
    let _watchdog = Watchdog::new("round_trip_test_aim", Duration::from_secs(240));
    let Some(pg) = prerequisites() else {
        return;
    };
    let world = World::new(Script::default());
    let source = odoo_db(
        pg,
        "17.0",
        OdooOptions {
            enterprise_code: Some(CONTRACT.into()),
            ..Default::default()
        },
    );
    let dump = pg.dump(&source, DumpKind::PlainGzip, world.work.path());
    let upgraded = odoo_db(pg, "18.0", OdooOptions::default());
    let result = pg.dump(
        &upgraded,
        DumpKind::Directory,
        &world.path("platform-result"),
    );
    world.standin.set_result_dump(&result);
    let before = fingerprint(&dump);

    let up = world.run(&[
        "upload".as_ref(),
        dump.as_os_str(),
        "--target".as_ref(),
        "18.0".as_ref(),
    ]);
    assert_eq!(up.code, Some(0), "{up}");
    assert!(
        up.stdout.starts_with("request 1: done ("),
        "final status on stdout: {up}"
    );
    assert!(up.stdout.contains("Odoo 17.0 → 18.0, test"), "{up}");
    assert!(
        up.stdout.contains("odoo-dump download "),
        "says what to do next: {up}"
    );
    for expected in [
        "contract ****3456 (from the dump)",
        "request 1 created",
        "upload complete",
        "status: pending",
        "status: progress",
        "INFO upgrade step 3: migrating modules",
        "status: done",
    ] {
        assert!(up.stderr.contains(expected), "{expected:?} in {up}");
    }
    assert!(
        up.stderr.trim_end().ends_with("odoo-dump: status: done"),
        "the final status after the log: {up}"
    );
    let token = token(&world.standin);
    assert_private(&up, &token);
    let create = &world.standin.calls()[0];
    assert_eq!(create.verb, "create");
    assert_eq!(
        create.params["contract"], CONTRACT,
        "the dump's code is sent"
    );
    assert_eq!(create.params["target"], "18.0");
    assert_eq!(create.params["aim"], "test");
    assert_eq!(
        std::fs::read(world.standin.data_dir.join("origin.sql.gz")).unwrap(),
        std::fs::read(&dump).unwrap(),
        "the dump arrived whole under the platform's name"
    );

    // status: the saved request, token masked.
    let status = world.run(&["status", "--json"]);
    assert_eq!(status.code, Some(0), "{status}");
    let requests = status.json()["requests"].as_array().unwrap().clone();
    assert_eq!(requests.len(), 1, "{status}");
    let r = &requests[0];
    assert_eq!(r["request_id"], 1);
    assert_eq!(r["status"], "done");
    assert_eq!(r["phase"], "finished");
    assert_eq!(r["source_version"], "17.0");
    assert_eq!(r["target"], "18.0");
    assert_eq!(r["aim"], "test");
    assert_eq!(r["format"], "gzip-sql");
    assert_eq!(r["token"], format!("****{}", &token[token.len() - 4..]));
    assert_private(&status, &token);
    let human = world.run(&["status".as_ref(), dump.as_os_str()]);
    assert_eq!(human.code, Some(0), "{human}");
    assert!(human.stdout.starts_with("REQUEST "), "{human}");
    assert!(
        human.stdout.lines().nth(1).unwrap().starts_with("1 ")
            && human.stdout.contains(" done ")
            && human.stdout.contains(&dump.display().to_string()),
        "{human}"
    );

    // download, then inspect what came.
    let down = world.run(&[
        "download".as_ref(),
        dump.as_os_str(),
        "--output".as_ref(),
        "upgraded".as_ref(),
    ]);
    assert_eq!(down.code, Some(0), "{down}");
    assert!(
        down.stdout
            .contains("inspect it: odoo-dump inspect upgraded/upgraded.dump"),
        "{down}"
    );
    assert!(
        down.stdout.contains("upgraded/upgrade-report.html"),
        "{down}"
    );
    assert_private(&down, &token);
    let out = world.path("upgraded");
    assert!(out.join("upgraded.dump/toc.dat").is_file());
    assert!(out.join("upgrade.log").is_file());
    let inspect = world.run(&["inspect", "upgraded/upgraded.dump", "--json"]);
    assert_eq!(inspect.code, Some(0), "{inspect}");
    let report = inspect.json();
    assert_eq!(report["container"], "directory");
    assert_eq!(report["complete"], true, "{inspect}");
    assert_eq!(report["odoo"]["series"], "18.0", "{inspect}");
    let version = world.run(&["version", "upgraded/upgraded.dump"]);
    assert_eq!(
        (version.code, version.stdout.trim()),
        (Some(0), "18.0"),
        "{version}"
    );
    let status = world.run(&["status", "--json"]);
    assert_eq!(
        status.json()["requests"][0]["downloaded_to"],
        out.display().to_string()
    );

    // Never into a directory with files in it: refused before any call.
    let calls = world.standin.calls().len();
    let again = world.run(&[
        "download".as_ref(),
        dump.as_os_str(),
        "--output".as_ref(),
        "upgraded".as_ref(),
    ]);
    assert_eq!(again.code, Some(2), "{again}");
    assert!(
        again.stderr.contains("upgraded exists and is not empty"),
        "{again}"
    );
    assert_eq!(world.standin.calls().len(), calls);
    // By request id, into another directory.
    let by_id = world.run(&["download", "1", "-o", "second", "--json"]);
    assert_eq!(by_id.code, Some(0), "{by_id}");
    assert_eq!(by_id.json()["request_id"], 1);
    assert!(world.path("second/upgraded.dump/toc.dat").is_file());

    // The same upload again: the finished request is taken up, not a new one.
    let resumed = world.run(&[
        "upload".as_ref(),
        dump.as_os_str(),
        "--target".as_ref(),
        "18.0".as_ref(),
        "--json".as_ref(),
    ]);
    assert_eq!(resumed.code, Some(0), "{resumed}");
    assert!(resumed.stderr.contains("resuming request 1"), "{resumed}");
    let report = resumed.json();
    assert_eq!(report["sent"], true);
    assert_eq!(report["contract_source"], "dump");
    assert_eq!(report["request"]["status"], "done");
    assert_eq!(world.standin.count("create"), 1);
    assert_eq!(fingerprint(&dump), before, "the local dump is untouched");
}

/// A `failed` upgrade: exit 1 with the platform's reason, in `upload`, `status` and `download`.
#[test]
fn failed_status_shows_the_reason() {
    let _watchdog = Watchdog::new("failed_status_shows_the_reason", Duration::from_secs(180));
    let Some(pg) = prerequisites() else {
        return;
    };
    let reason = "The upgrade of module `x_custom` failed: column \"x_foo\" does not exist";
    let world = World::new(Script {
        pending_polls: 0,
        progress_polls: 1,
        outcome: Outcome::Failed(reason.into()),
        fail: None,
    });
    let db = odoo_db(pg, "16.0", OdooOptions::default());
    let dump = pg.dump(&db, DumpKind::Custom, world.work.path());
    let before = fingerprint(&dump);

    let mut command = world.command(&[
        "upload".as_ref(),
        dump.as_os_str(),
        "--target".as_ref(),
        "17.0".as_ref(),
    ]);
    command.env("ODOO_UPGRADE_CONTRACT", CONTRACT);
    let up = run_bounded(command);
    assert_eq!(up.code, Some(1), "{up}");
    assert!(up.stdout.starts_with("request 1: failed"), "{up}");
    assert!(up.stdout.contains(&format!("reason: {reason}")), "{up}");
    assert!(up.stderr.contains("(from ODOO_UPGRADE_CONTRACT)"), "{up}");
    assert!(
        up.stderr.contains("ERROR upgrade failed"),
        "log streamed: {up}"
    );
    assert_eq!(
        world.standin.calls()[0].params["contract"],
        CONTRACT,
        "contract from the environment"
    );
    assert_private(&up, &token(&world.standin));

    let status = world.run(&["status".as_ref(), dump.as_os_str()]);
    assert_eq!(status.code, Some(1), "{status}");
    assert!(
        status.stdout.contains(&format!("reason: {reason}")),
        "{status}"
    );

    let down = world.run(&[
        "download".as_ref(),
        dump.as_os_str(),
        "--output".as_ref(),
        "out".as_ref(),
    ]);
    assert_eq!(down.code, Some(1), "{down}");
    assert!(
        down.stderr.contains("ended failed") && down.stderr.contains("nothing to download"),
        "{down}"
    );
    assert!(!world.path("out").exists());
    assert_eq!(fingerprint(&dump), before);
}

/// An upload cut in the middle (Ctrl-C: SIGINT to the process group, rsync included) resumes to
/// completion when the same command runs again, with one request only.
#[test]
fn interrupted_upload_resumes_with_one_create() {
    let _watchdog = Watchdog::new(
        "interrupted_upload_resumes_with_one_create",
        Duration::from_secs(240),
    );
    let Some(pg) = prerequisites() else {
        return;
    };
    let world = World::new(Script::default());
    let db = odoo_db(pg, "17.0", OdooOptions::default());
    // About 4 MB of data, so that a limited upload takes seconds.
    pg.exec(
        &db,
        "CREATE TABLE x_big (id serial PRIMARY KEY, payload text);
         INSERT INTO x_big (payload)
         SELECT repeat(md5(i::text), 4) FROM generate_series(1, 30000) AS i;",
    );
    let dump = pg.dump(&db, DumpKind::Plain, world.work.path());
    let size = std::fs::metadata(&dump).unwrap().len();
    assert!(size > 3_000_000, "{size}");
    let before = fingerprint(&dump);
    let upload = |extra: &[&str]| {
        let mut args = vec![
            "upload".into(),
            dump.clone().into_os_string(),
            "--target".into(),
            "18.0".into(),
            "--contract".into(),
            CONTRACT.into(),
        ];
        args.extend(extra.iter().map(Into::into));
        world.command(&args)
    };

    let mut command = upload(&["--bwlimit", "256"]);
    command
        .process_group(0)
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    let mut child = command.spawn().unwrap();
    let group = child.id();
    let signal = |name: &str| {
        let _ = Command::new("kill")
            .args([name, "--", &format!("-{group}")])
            .stderr(Stdio::null())
            .status();
    };
    // Wait until part of the dump has arrived (rsync's temporary file in the data directory).
    let deadline = Instant::now() + Duration::from_secs(60);
    let arrived = loop {
        let partial: u64 = std::fs::read_dir(&world.standin.data_dir)
            .unwrap()
            .filter_map(Result::ok)
            .filter(|e| e.file_name().to_string_lossy().contains("origin"))
            .filter_map(|e| e.metadata().ok())
            .map(|m| m.len())
            .sum();
        if partial > 200_000 {
            break partial;
        }
        if Instant::now() > deadline || child.try_wait().unwrap().is_some() {
            signal("-KILL");
            panic!("the upload did not start within 60 s");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    assert!(arrived < size, "interrupted before the end");
    signal("-INT");
    let deadline = Instant::now() + Duration::from_secs(20);
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if Instant::now() > deadline {
            signal("-KILL");
            panic!("the upload did not stop on SIGINT");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    assert!(!status.success());
    // Nothing of the group is left running.
    signal("-KILL");

    let saved = world.run(&["status".as_ref(), dump.as_os_str(), "--json".as_ref()]);
    assert_eq!(saved.code, Some(0), "{saved}");
    let saved = saved.json();
    assert_eq!(saved["requests"][0]["phase"], "uploading", "{saved}");
    assert_eq!(saved["requests"][0]["status"], "new", "{saved}");

    // The same command again, without the limit: the same request, to the end.
    let resumed = run_bounded(upload(&[]));
    assert_eq!(resumed.code, Some(0), "{resumed}");
    assert!(
        resumed
            .stderr
            .contains("resuming request 1 (phase uploading, platform status new)"),
        "{resumed}"
    );
    assert!(!resumed.stderr.contains("created"), "{resumed}");
    assert_eq!(world.standin.count("create"), 1, "one request only");
    assert_eq!(world.standin.count("transfer/start"), 2);
    assert_eq!(
        std::fs::read(world.standin.data_dir.join("origin.sql")).unwrap(),
        std::fs::read(&dump).unwrap()
    );
    assert_eq!(fingerprint(&dump), before, "the local dump is untouched");
}

/// A JSON-RPC error, HTTP 500 and a timeout: each a clear one-line message naming the verb, exit
/// 2, the local dump untouched; once the platform is fine, the same command goes to the end.
#[test]
fn server_errors_are_clear_and_leave_the_dump_untouched() {
    let _watchdog = Watchdog::new("server_errors", Duration::from_secs(240));
    let Some(pg) = prerequisites() else {
        return;
    };
    let world = World::new(Script::default());
    let db = odoo_db(pg, "17.0", OdooOptions::default());
    let dump = pg.dump(&db, DumpKind::CustomPipe, world.work.path());
    let before = fingerprint(&dump);
    let upload = |timeout: &str| {
        let mut command = world.command(&[
            "upload".as_ref(),
            dump.as_os_str(),
            "--target".as_ref(),
            "18.0".as_ref(),
            "--contract".as_ref(),
            CONTRACT.as_ref(),
        ]);
        command.env("ODOO_UPGRADE_TIMEOUT", timeout);
        run_bounded(command)
    };
    let host = world.standin.url.trim_start_matches("http://").to_owned();
    let check = |run: &Run, wanted: &[&str]| {
        assert_eq!(run.code, Some(2), "{run}");
        assert!(run.stdout.is_empty(), "{run}");
        let last = run.stderr.lines().last().unwrap_or_default();
        assert!(last.starts_with("odoo-dump: "), "{run}");
        for w in wanted {
            assert!(last.contains(w), "{w:?} in the error line: {run}");
        }
        assert!(!run.stderr.contains(CONTRACT), "{run}");
        assert_eq!(fingerprint(&dump), before, "the local dump is untouched");
    };

    // JSON-RPC error (`error.data.message`) on create.
    world.standin.set_failure(Some((
        "create",
        Failure::RpcError("Target version 18.0 is not available for this database".into()),
    )));
    let run = upload("5");
    check(
        &run,
        &[
            "refused `create`",
            &host,
            "Target version 18.0 is not available",
        ],
    );

    // HTTP 500 on transfer/start: the request is saved at the upload step.
    world
        .standin
        .set_failure(Some(("transfer/start", Failure::Http500)));
    let run = upload("5");
    check(&run, &["HTTP 500", "`transfer/start`", "retry later"]);
    let status = world.run(&["status", "--json"]).json();
    assert_eq!(status["requests"][0]["phase"], "uploading");
    // `status --refresh` asks the platform about the unfinished request…
    let polls = world.standin.count("status");
    let refreshed = world.run(&["status", "--refresh"]);
    assert_eq!(refreshed.code, Some(0), "{refreshed}");
    assert!(refreshed.stdout.contains(" new "), "{refreshed}");
    assert_eq!(world.standin.count("status"), polls + 1);
    // … and says so when it cannot, after showing what is saved.
    world
        .standin
        .set_failure(Some(("status", Failure::Http500)));
    let refreshed = world.run(&["status", "--refresh"]);
    assert_eq!(refreshed.code, Some(2), "{refreshed}");
    assert!(refreshed.stdout.contains(" uploading "), "{refreshed}");
    assert!(
        refreshed.stderr.contains("request 1: ") && refreshed.stderr.contains("HTTP 500"),
        "{refreshed}"
    );

    // No answer to `process` within the timeout.
    world
        .standin
        .set_failure(Some(("process", Failure::Hang(Duration::from_secs(5)))));
    let started = Instant::now();
    let run = upload("1");
    check(&run, &["did not answer `process` within 1 s", "resume"]);
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "gave up in time"
    );
    assert_private(&run, &token(&world.standin));

    // The platform is fine again: the same command resumes the same request to the end.
    world.standin.set_failure(None);
    let run = upload("5");
    assert_eq!(run.code, Some(0), "{run}");
    assert!(run.stderr.contains("resuming request 1"), "{run}");
    assert_eq!(world.standin.count("create"), 2, "one refused, one created");
    assert_eq!(fingerprint(&dump), before);
}

/// A neutralized dump, a dump with filestore, a target that is not newer, a dump without
/// contract: refused before any network call (the stand-in sees nothing, nothing is saved).
/// With --force the first two are sent.
#[test]
fn refused_before_any_network_call_unless_forced() {
    let _watchdog = Watchdog::new("refused_before_any_network_call", Duration::from_secs(240));
    let Some(pg) = prerequisites() else {
        return;
    };
    let world = World::new(Script {
        pending_polls: 0,
        progress_polls: 1,
        ..Script::default()
    });
    let neutralized = odoo_db(
        pg,
        "17.0",
        OdooOptions {
            neutralized: true,
            ..Default::default()
        },
    );
    let neutralized = pg.dump(&neutralized, DumpKind::Plain, world.work.path());
    let with_files = odoo_db(
        pg,
        "17.0",
        OdooOptions {
            with_attachments: 2,
            ..Default::default()
        },
    );
    let with_files = pg.dump_with(
        &with_files,
        DumpKind::OdooZip,
        &DumpOptions::new().filestore(fixtures::attachment_files(2)),
        world.work.path(),
    );
    let upload = |dump: &Path, extra: &[&str]| {
        let mut args = vec![
            "upload".into(),
            dump.to_owned().into_os_string(),
            "--target".into(),
            "18.0".into(),
        ];
        args.extend(extra.iter().map(Into::into));
        world.run(&args)
    };
    let nothing_sent = |run: &Run| {
        assert!(
            world.standin.calls().is_empty(),
            "no call before the checks pass: {run}\n{:?}",
            world.standin.calls()
        );
        assert!(!world.path("state/requests").exists(), "nothing saved");
    };

    let run = upload(&neutralized, &["--contract", CONTRACT]);
    assert_eq!(run.code, Some(1), "{run}");
    assert!(
        run.stderr
            .contains("is not ready for the upgrade platform (neutralized); nothing was sent"),
        "{run}"
    );
    assert!(run.stderr.contains("--force"), "says what to do: {run}");
    nothing_sent(&run);

    let run = upload(&with_files, &["--contract", CONTRACT, "--json"]);
    assert_eq!(run.code, Some(1), "{run}");
    assert!(run.stderr.contains("(filestore-included)"), "{run}");
    let report = run.json();
    assert_eq!(report["sent"], false);
    assert_eq!(report["refused"], serde_json::json!(["filestore-included"]));
    nothing_sent(&run);

    let run = world.run(&[
        "upload".as_ref(),
        with_files.as_os_str(),
        "--target".as_ref(),
        "16.0".as_ref(),
        "--contract".as_ref(),
        CONTRACT.as_ref(),
    ]);
    assert_eq!(run.code, Some(1), "{run}");
    assert!(run.stderr.contains("target-not-newer"), "{run}");
    nothing_sent(&run);

    // Not refused by the rules, but no contract anywhere.
    let exact = odoo_db(pg, "17.0", OdooOptions::default());
    let exact = pg.dump(&exact, DumpKind::Custom, world.work.path());
    let run = upload(&exact, &[]);
    assert_eq!(run.code, Some(1), "{run}");
    assert!(
        run.stderr.contains("no contract") && run.stderr.contains("--contract CODE"),
        "{run}"
    );
    nothing_sent(&run);

    // The knowing user.
    for dump in [&neutralized, &with_files] {
        let run = upload(dump, &["--contract", CONTRACT, "--force"]);
        assert_eq!(run.code, Some(0), "{run}");
        assert!(
            run.stderr.contains("warning: uploading") && run.stderr.contains("(--force)"),
            "{run}"
        );
    }
    assert_eq!(world.standin.count("create"), 2);
    assert!(world.standin.data_dir.join("origin.zip").is_file());
    let status = world.run(&["status", "--json"]).json();
    assert_eq!(status["requests"].as_array().unwrap().len(), 2);
}

//! Hostile and broken input (issue 7): a corpus of broken dumps generated from real `pg_dump`
//! output and from the shared corpus — cut at many offsets, bit-flipped, mislabeled, crafted
//! zips, bombs, malformed SQL, a multi-GB line, deep nesting, garbage — run through every
//! command that reads a dump. Each run must end (60 s at most), never panic, exit with a defined
//! code and one clear stderr line, leave its input byte for byte as it was and create no file;
//! `version` never claims a version it did not read, `check` never calls a broken dump ready and
//! says `truncated` for every cut compressed stream.
//!
//! Outcomes that are wrong but belong to another part of the code are listed in
//! [`KNOWN_ISSUES`]: they are printed as `KNOWN ISSUE` instead of failing, unless
//! `HOSTILE_STRICT=1`. `HOSTILE_VERBOSE=1` prints every run's outcome. With
//! `ODUMP_FUZZ_SEEDS=DIR`, the real dumps made here are also copied to DIR for the fuzzers
//! (see fuzz/README.md).

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::ffi::OsString;
use std::fs;
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex, OnceLock};
use std::thread;
use std::time::{Duration, Instant};

use odump_testpg::{fixtures, unique_db_name, DumpKind, DumpOptions};

const BIN: &str = env!("CARGO_BIN_EXE_odoo-dump");
/// A run still going after this is killed, and the case fails.
const TIMEOUT: Duration = Duration::from_secs(60);
/// The series of the `odoo` fixture every PostgreSQL-made dump holds.
const SERIES: &str = "17.0";
/// Peak resident memory allowed to any run, whatever the input (sampled from /proc).
const MEMORY_LIMIT_KB: u64 = 256 << 10;
const BASE_VERSION: &str = "17.0.1.3";

/// Columns of the crafted wide table, and the mark of that case.
const WIDE_COLUMNS: usize = 60_000;
const WIDE: &str = " (quadratic in the number of columns)";

/// Marks the cases whose COPY rows have the wrong number of fields.
const WRONG_FIELDS: &str = " (row with the wrong number of fields)";

/// Outcomes judged wrong that belong to other crates or commands (reported to the lead). A
/// failure whose message contains one of these keys is printed, not failed, unless
/// `HOSTILE_STRICT=1`.
/// None at the moment: every case has the outcome it should.
const KNOWN_ISSUES: &[(&str, &str)] = &[];

// -------------------------------------------------------------------------------------------
// Running the binary

/// What one run of `odoo-dump` did.
#[derive(Debug)]
struct Run {
    args: Vec<String>,
    code: Option<i32>,
    stdout: String,
    stderr: String,
    /// Peak resident memory in KiB (VmHWM), when it could be sampled before the process ended.
    peak_rss_kb: Option<u64>,
    elapsed: Duration,
    timed_out: bool,
    /// The time it was allowed.
    limit: Duration,
}

impl Run {
    fn describe(&self) -> String {
        format!(
            "odoo-dump {} → exit {:?} in {:.2?}{}{}\n  stderr: {}\n  stdout: {}",
            self.args.join(" "),
            self.code,
            self.elapsed,
            self.peak_rss_kb
                .map(|k| format!(", peak RSS {} MiB", k / 1024))
                .unwrap_or_default(),
            if self.timed_out { " (TIMED OUT)" } else { "" },
            self.stderr.trim_end(),
            self.stdout.chars().take(400).collect::<String>().trim_end(),
        )
    }

    /// The stderr lines, without blank ones.
    fn stderr_lines(&self) -> Vec<&str> {
        self.stderr
            .lines()
            .filter(|l| !l.trim().is_empty())
            .collect()
    }
}

type Feeder = Box<dyn FnOnce(&mut dyn Write) -> io::Result<()> + Send>;

fn read_vm_hwm(pid: u32) -> Option<u64> {
    let status = fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

fn drain(mut pipe: impl Read + Send + 'static) -> thread::JoinHandle<Vec<u8>> {
    thread::spawn(move || {
        let mut out = Vec::new();
        let _ = pipe.read_to_end(&mut out);
        out
    })
}

/// Runs `odoo-dump args` in `cwd`, with `feed` writing its stdin (else stdin is empty), under
/// `limit` (normally [`TIMEOUT`]), sampling its peak memory.
fn run_in(cwd: &Path, args: &[OsString], feed: Option<Feeder>, limit: Duration) -> Run {
    let start = Instant::now();
    let mut child: Child = Command::new(BIN)
        .args(args)
        .current_dir(cwd)
        .env_remove("RUST_BACKTRACE")
        .stdin(if feed.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("running odoo-dump");
    let pid = child.id();
    let writer = feed.map(|feed| {
        let mut stdin = child.stdin.take().unwrap();
        thread::spawn(move || {
            // The reader may stop early (an error, a found version): a broken pipe is fine.
            let _ = feed(&mut stdin);
        })
    });
    let out = drain(child.stdout.take().unwrap());
    let err = drain(child.stderr.take().unwrap());
    let mut peak = None;
    let mut timed_out = false;
    let status = loop {
        if let Some(k) = read_vm_hwm(pid) {
            peak = Some(peak.unwrap_or(0).max(k));
        }
        match child.try_wait().expect("waiting for odoo-dump") {
            Some(status) => break status,
            None if start.elapsed() > limit => {
                timed_out = true;
                let _ = child.kill();
                break child.wait().unwrap();
            }
            None => thread::sleep(Duration::from_millis(5)),
        }
    };
    let elapsed = start.elapsed();
    if let Some(w) = writer {
        let _ = w.join();
    }
    let stdout = String::from_utf8_lossy(&out.join().unwrap()).into_owned();
    let stderr = String::from_utf8_lossy(&err.join().unwrap()).into_owned();
    Run {
        args: args
            .iter()
            .map(|a| a.to_string_lossy().into_owned())
            .collect(),
        code: status.code(),
        stdout,
        stderr,
        peak_rss_kb: peak,
        elapsed,
        timed_out,
        limit,
    }
}

/// The subcommands this build has, from `odoo-dump --help`.
fn commands() -> &'static BTreeSet<String> {
    static COMMANDS: OnceLock<BTreeSet<String>> = OnceLock::new();
    COMMANDS.get_or_init(|| {
        let out = Command::new(BIN).arg("--help").output().unwrap();
        let help = String::from_utf8_lossy(&out.stdout);
        let found: BTreeSet<String> = help
            .lines()
            .skip_while(|l| !l.starts_with("Commands:"))
            .skip(1)
            .take_while(|l| l.starts_with("  "))
            .filter_map(|l| l.split_whitespace().next())
            .map(str::to_string)
            .collect();
        for cmd in ["inspect", "version", "check", "diff"] {
            if !found.contains(cmd) {
                skipped(&format!(
                    "`odoo-dump {cmd}` does not exist in this build; its hostile cases are not run"
                ));
            }
        }
        found
    })
}

fn has(cmd: &str) -> bool {
    commands().contains(cmd)
}

// -------------------------------------------------------------------------------------------
// Cases and their expected outcomes

/// What a broken input must produce.
#[derive(Clone, Debug, PartialEq)]
enum Expect {
    /// Not a dump at all, or unreadable from the start: every command exits 2 with one stderr
    /// line containing each of these words (case-insensitive).
    Refused(Vec<&'static str>),
    /// A compressed stream or a custom archive cut short: `inspect` and `diff` exit 2 naming the compressed byte;
    /// `check` exits 1 with `truncated`.
    Truncated,
    /// Damaged compressed data: `inspect` and `diff` exit 2; `check` exits 1 with
    /// `corrupt-compression` (or `truncated` when `or_truncated`: a flipped bit can also end
    /// a deflate stream early).
    Corrupt { or_truncated: bool },
    /// The dump ends early or lacks data with no container error (a plain file cut, a missing
    /// `.dat`): `inspect` exits 2, or 0 reporting `complete: false`; `check` is never ready
    /// (exit 1 with one of `incomplete-dump`, `truncated`, `corrupt-compression`, or 2); `diff`
    /// exits 2 or warns that the dump is incomplete.
    Incomplete,
    /// Odd but meaningful (invalid UTF-8 in a value, a custom archive named `.sql`): any exit
    /// code 0–2 with the usual rules; `version` still right.
    Tolerated,
    /// Readable but not to be trusted: as [`Expect::Tolerated`], and `check` exits 1 with this
    /// finding.
    Finding(&'static str),
}

impl Expect {
    /// The dump reads as well as a good one: only `check` may object.
    fn readable(&self) -> bool {
        matches!(self, Expect::Tolerated | Expect::Finding(_))
    }
}

/// Where the version is, for judging `version` and `check` on a dump cut short.
#[derive(Clone, Copy, Debug, PartialEq)]
enum VersionTruth {
    /// Base's row is intact: `version` must print the series (exit 0).
    Readable,
    /// Base's row is not there (cut before it, its data file gone): `version` must not exit 0.
    Gone,
    /// Unknown (compressed archive cut somewhere): exit 0 only with the right series.
    Unknown,
    /// Not an Odoo dump of a known series: exit 0 is wrong.
    None,
}

#[derive(Clone, Debug)]
struct Case {
    name: String,
    /// The input (a file or a directory dump) inside its own directory.
    path: PathBuf,
    expect: Expect,
    version: VersionTruth,
    /// The complete dump this one was made from, for `diff GOOD BROKEN`.
    good: Option<PathBuf>,
    /// The database's Odoo series, the only one `version` may print.
    series: &'static str,
    /// How long each command may take on it.
    time_limit: Duration,
}

/// Lays out cases, each in its own directory under `root`.
struct Cases {
    root: PathBuf,
    list: Vec<Case>,
    /// The series of the cases added from now on.
    series: &'static str,
}

impl Cases {
    fn new(root: &Path) -> Cases {
        Cases {
            root: root.to_path_buf(),
            list: Vec::new(),
            series: SERIES,
        }
    }

    fn dir(&self) -> PathBuf {
        let dir = self.root.join(format!("case-{:03}", self.list.len()));
        fs::create_dir_all(&dir).unwrap();
        dir
    }

    fn file(
        &mut self,
        name: impl Into<String>,
        file_name: &str,
        bytes: &[u8],
        expect: Expect,
        version: VersionTruth,
        good: Option<&Path>,
    ) {
        let path = self.dir().join(file_name);
        fs::write(&path, bytes).unwrap();
        self.list.push(Case {
            name: name.into(),
            path,
            expect,
            version,
            good: good.map(Path::to_path_buf),
            series: self.series,
            time_limit: TIMEOUT,
        });
    }

    /// A directory dump copied from `src`, then changed by `edit`.
    fn directory(
        &mut self,
        name: impl Into<String>,
        src: &Path,
        edit: impl FnOnce(&Path),
        expect: Expect,
        version: VersionTruth,
    ) {
        let path = self.dir().join("dump");
        fs::create_dir_all(&path).unwrap();
        for entry in fs::read_dir(src).unwrap() {
            let entry = entry.unwrap();
            fs::copy(entry.path(), path.join(entry.file_name())).unwrap();
        }
        edit(&path);
        self.list.push(Case {
            name: name.into(),
            path,
            expect,
            version,
            good: Some(src.to_path_buf()),
            series: self.series,
            time_limit: TIMEOUT,
        });
    }
}

/// Every file under `path` (or `path` itself) with a checksum of its content: the input must
/// not change.
fn fingerprint(path: &Path) -> BTreeMap<PathBuf, (u64, u64)> {
    use std::hash::Hasher;
    let mut out = BTreeMap::new();
    if path.is_dir() {
        for entry in fs::read_dir(path).unwrap() {
            out.extend(fingerprint(&entry.unwrap().path()));
        }
    } else {
        let bytes = fs::read(path).unwrap();
        let mut h = std::hash::DefaultHasher::new();
        h.write(&bytes);
        out.insert(path.to_path_buf(), (bytes.len() as u64, h.finish()));
    }
    out
}

/// The names in a directory: no command may leave a file behind.
fn listing(dir: &Path) -> BTreeSet<OsString> {
    fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect()
}

/// The finding codes of `check --json` output (empty when it is not JSON).
fn finding_codes(stdout: &str) -> Vec<String> {
    let Ok(v) = serde_json::from_str::<serde_json::Value>(stdout) else {
        return Vec::new();
    };
    v["findings"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|f| f["code"].as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

/// `HOSTILE_VERBOSE=1`: print every run.
fn verbose() -> bool {
    std::env::var("HOSTILE_VERBOSE").as_deref() == Ok("1")
}

/// Failures of one case, collected so a run reports them all.
#[derive(Default)]
struct Verdict {
    failures: Vec<String>,
    /// (the [`KNOWN_ISSUES`] entry, the case name, the failure) of known issues.
    known: Vec<(usize, String, String)>,
}

impl Verdict {
    fn fail(&mut self, case: &Case, run: Option<&Run>, what: String) {
        let msg = format!(
            "[{}] {what}{}",
            case.name,
            run.map(|r| format!("\n  {}", r.describe()))
                .unwrap_or_default()
        );
        let strict = std::env::var("HOSTILE_STRICT").as_deref() == Ok("1");
        match KNOWN_ISSUES.iter().position(|(key, _)| msg.contains(key)) {
            Some(i) if !strict => self.known.push((i, case.name.clone(), msg)),
            _ => self.failures.push(msg),
        }
    }
}

fn words_in(text: &str, words: &[&str]) -> bool {
    let text = text.to_lowercase();
    words.iter().all(|w| text.contains(&w.to_lowercase()))
}

/// The rules every run obeys, whatever the case.
fn common_rules(v: &mut Verdict, case: &Case, run: &Run) {
    if run.timed_out {
        v.fail(
            case,
            Some(run),
            format!("did not finish within {:?}", run.limit),
        );
        return;
    }
    if run.stderr.contains("panicked") || run.stderr.contains("RUST_BACKTRACE") {
        v.fail(case, Some(run), "panicked".into());
    }
    match run.code {
        None => v.fail(case, Some(run), "killed by a signal (crash)".into()),
        Some(0..=2) => {}
        Some(c) => v.fail(case, Some(run), format!("exit code {c} is not 0, 1 or 2")),
    }
    if let Some(kb) = run.peak_rss_kb.filter(|&kb| kb > MEMORY_LIMIT_KB) {
        v.fail(
            case,
            Some(run),
            format!(
                "peak memory {} MiB is over {} MiB",
                kb >> 10,
                MEMORY_LIMIT_KB >> 10
            ),
        );
    }
    if run.code == Some(2) {
        let lines = run.stderr_lines();
        let one_error = lines.len() == 1 && lines[0].starts_with("odoo-dump: ");
        if !one_error {
            v.fail(
                case,
                Some(run),
                "exit 2 must come with exactly one stderr line `odoo-dump: …`".into(),
            );
        }
    }
}

fn is_error_finding(code: &str) -> bool {
    matches!(
        code,
        "incomplete-dump" | "truncated" | "corrupt-compression" | "unreadable"
    )
}

/// Runs every command on a case and judges the outcomes.
fn judge(case: &Case) -> Verdict {
    let mut v = Verdict::default();
    let parent = case.path.parent().unwrap().to_path_buf();
    let before = fingerprint(&case.path);
    let files_before = listing(&parent);
    let good_before = case.good.as_ref().map(|g| fingerprint(g));
    let input: OsString = case.path.clone().into_os_string();
    let mut runs = Vec::new();

    if has("inspect") {
        let run = run_in(
            &parent,
            &["inspect".into(), "--json".into(), input.clone()],
            None,
            case.time_limit,
        );
        common_rules(&mut v, case, &run);
        let report: Option<serde_json::Value> = serde_json::from_str(&run.stdout).ok();
        let complete = report.as_ref().and_then(|r| r["complete"].as_bool());
        match &case.expect {
            Expect::Refused(words) => {
                if run.code != Some(2) || !words_in(&run.stderr, words) {
                    v.fail(
                        case,
                        Some(&run),
                        format!("inspect must exit 2 naming {words:?}"),
                    );
                }
            }
            Expect::Truncated | Expect::Corrupt { .. } => {
                let what = if case.expect == Expect::Truncated {
                    "truncated"
                } else {
                    "corrupt"
                };
                let named = words_in(&run.stderr, &["byte"])
                    && (words_in(&run.stderr, &[what])
                        || words_in(&run.stderr, &["truncated"])
                        || words_in(&run.stderr, &["corrupt"]));
                if run.code != Some(2) || !named {
                    v.fail(
                        case,
                        Some(&run),
                        format!("inspect must exit 2 saying {what} at a byte offset"),
                    );
                }
            }
            Expect::Incomplete => {
                let ok = run.code == Some(2) || (run.code == Some(0) && complete == Some(false));
                if !ok {
                    v.fail(
                        case,
                        Some(&run),
                        "inspect on an incomplete dump must exit 2 or report complete: false"
                            .into(),
                    );
                }
            }
            Expect::Tolerated | Expect::Finding(_) => {}
        }
        runs.push(run);
    }

    // `version` and `check` read the file, then (files only) the same bytes from stdin, where
    // nothing can be sought (zip central directory, custom archive offsets).
    for stdin in [false, true] {
        if stdin && case.path.is_dir() {
            continue;
        }
        let arg: OsString = if stdin { "-".into() } else { input.clone() };
        let feed = || -> Option<Feeder> {
            let path = case.path.clone();
            stdin.then(|| -> Feeder {
                Box::new(move |w| io::copy(&mut fs::File::open(&path)?, w).map(|_| ()))
            })
        };
        judge_version_and_check(&mut v, case, &parent, &arg, feed, &mut runs);
    }

    if has("diff") {
        if let Some(good) = &case.good {
            let run = run_in(
                &parent,
                &["diff".into(), good.clone().into_os_string(), input.clone()],
                None,
                case.time_limit,
            );
            common_rules(&mut v, case, &run);
            match &case.expect {
                Expect::Refused(_) | Expect::Truncated | Expect::Corrupt { .. } => {
                    if run.code != Some(2) {
                        v.fail(
                            case,
                            Some(&run),
                            "diff must exit 2 on an unreadable dump".into(),
                        );
                    }
                }
                Expect::Incomplete => {
                    let warned = words_in(&run.stderr, &["incomplete"]);
                    if run.code != Some(2) && !warned {
                        v.fail(
                            case,
                            Some(&run),
                            "diff with an incomplete dump must exit 2 or warn that it is incomplete"
                                .into(),
                        );
                    }
                }
                Expect::Tolerated | Expect::Finding(_) => {}
            }
            runs.push(run);
        }
    }

    if fingerprint(&case.path) != before {
        v.fail(case, None, "the input was modified".into());
    }
    if let (Some(g), Some(b)) = (&case.good, good_before) {
        if fingerprint(g) != b {
            v.fail(case, None, "the other diff input was modified".into());
        }
    }
    if listing(&parent) != files_before {
        v.fail(
            case,
            None,
            format!(
                "files appeared or vanished beside the input: {:?}",
                listing(&parent)
            ),
        );
    }
    if verbose() {
        for run in &runs {
            eprintln!("[{}] {}", case.name, run.describe().replace('\n', " | "));
        }
    }
    v
}

/// `version` and `check` on one way in (the path, or `-` with `feed` writing stdin).
fn judge_version_and_check(
    v: &mut Verdict,
    case: &Case,
    parent: &Path,
    arg: &OsString,
    feed: impl Fn() -> Option<Feeder>,
    runs: &mut Vec<Run>,
) {
    if has("version") {
        let run = run_in(
            parent,
            &["version".into(), arg.clone()],
            feed(),
            case.time_limit,
        );
        common_rules(v, case, &run);
        let printed = run.stdout.trim();
        if run.code == Some(0) {
            match case.version {
                VersionTruth::Gone | VersionTruth::None => v.fail(
                    case,
                    Some(&run),
                    "version claims a series it could not have read".into(),
                ),
                _ if printed != case.series => v.fail(
                    case,
                    Some(&run),
                    format!(
                        "version printed {printed:?}, the database is {}",
                        case.series
                    ),
                ),
                _ => {}
            }
        } else if case.version == VersionTruth::Readable && case.expect.readable() {
            v.fail(
                case,
                Some(&run),
                "version must still find base's row".into(),
            );
        }
        if let Expect::Refused(words) = &case.expect {
            if run.code != Some(2) || !words_in(&run.stderr, words) {
                v.fail(
                    case,
                    Some(&run),
                    format!("version must exit 2 naming {words:?}"),
                );
            }
        }
        runs.push(run);
    }

    if has("check") {
        let run = run_in(
            parent,
            &["check".into(), "--json".into(), arg.clone()],
            feed(),
            case.time_limit,
        );
        common_rules(v, case, &run);
        let codes = finding_codes(&run.stdout);
        let has_code = |c: &str| codes.iter().any(|x| x == c);
        match &case.expect {
            Expect::Refused(words) => {
                // Not a dump: exit 2; an archive it cannot read: the finding `unreadable`.
                let refused = run.code == Some(2) && words_in(&run.stderr, words);
                let unreadable =
                    run.code == Some(1) && has_code("unreadable") && words_in(&run.stdout, words);
                if !refused && !unreadable {
                    v.fail(
                        case,
                        Some(&run),
                        format!("check must exit 2 naming {words:?}, or 1 with `unreadable`"),
                    );
                }
            }
            Expect::Truncated | Expect::Corrupt { .. } => {
                let (want, also) = match case.expect {
                    Expect::Corrupt { or_truncated } => {
                        ("corrupt-compression", or_truncated.then_some("truncated"))
                    }
                    _ => ("truncated", None),
                };
                let found = has_code(want) || also.is_some_and(has_code);
                let said = want.split('-').next().unwrap();
                if run.code == Some(2) && words_in(&run.stderr, &[said]) {
                    v.fail(
                        case,
                        Some(&run),
                        format!(
                            "check exits 2 on a fault found while opening instead of the finding `{want}`"
                        ),
                    );
                } else if run.code != Some(1) || !found {
                    v.fail(
                        case,
                        Some(&run),
                        format!("check must exit 1 with the finding `{want}`"),
                    );
                }
            }
            Expect::Incomplete => {
                let ok = run.code == Some(2)
                    || (run.code == Some(1) && codes.iter().any(|c| is_error_finding(c)));
                if !ok {
                    v.fail(
                        case,
                        Some(&run),
                        "check on an incomplete dump must exit 1 with incomplete-dump/truncated (or 2)"
                            .into(),
                    );
                }
            }
            Expect::Tolerated | Expect::Finding(_) => {}
        }
        if let Expect::Finding(want) = case.expect {
            if run.code != Some(1) || !has_code(want) {
                v.fail(
                    case,
                    Some(&run),
                    format!("check must exit 1 with the finding `{want}`"),
                );
            }
        }
        if run.code == Some(0) && !case.expect.readable() {
            v.fail(case, Some(&run), "check calls a broken dump ready".into());
        }
        // A version in the report must be one the dump holds.
        if let Ok(report) = serde_json::from_str::<serde_json::Value>(&run.stdout) {
            if let Some(series) = report["odoo"]["series"].as_str() {
                let certain = report["odoo"]["confidence"].as_str() == Some("certain");
                let wrong = series != case.series
                    || matches!(case.version, VersionTruth::Gone | VersionTruth::None);
                if certain && wrong {
                    v.fail(
                        case,
                        Some(&run),
                        format!("check reports series {series} as certain"),
                    );
                }
            }
        }
        runs.push(run);
    }
}

/// Judges every case, two at a time (the machine has two cores), and fails with every failure.
fn judge_all(cases: Vec<Case>) {
    let started = Instant::now();
    let total = cases.len();
    let queue = Arc::new(Mutex::new(cases));
    let verdicts = Arc::new(Mutex::new(Vec::new()));
    let workers: Vec<_> = (0..2)
        .map(|_| {
            let queue = queue.clone();
            let verdicts = verdicts.clone();
            thread::spawn(move || loop {
                let Some(case) = queue.lock().unwrap().pop() else {
                    break;
                };
                let verdict = judge(&case);
                verdicts.lock().unwrap().push(verdict);
            })
        })
        .collect();
    for w in workers {
        w.join().unwrap();
    }
    let verdicts = std::mem::take(&mut *verdicts.lock().unwrap());
    let known: Vec<(usize, String, String)> =
        verdicts.iter().flat_map(|v| v.known.clone()).collect();
    let failures: Vec<String> = verdicts.into_iter().flat_map(|v| v.failures).collect();
    // Known issues stay visible (the stderr handle is not captured by libtest): one line each.
    let mut by_issue: BTreeMap<usize, BTreeSet<&str>> = BTreeMap::new();
    for (i, name, msg) in &known {
        by_issue.entry(*i).or_default().insert(name);
        if verbose() {
            eprintln!("KNOWN ISSUE: {msg}");
        }
    }
    for (i, names) in by_issue {
        let first = names.iter().next().unwrap();
        let _ = writeln!(
            io::stderr(),
            "KNOWN ISSUE ({} cases, e.g. {first}): {}",
            names.len(),
            KNOWN_ISSUES[i].1
        );
    }
    eprintln!(
        "{total} hostile cases judged in {:.1?}: {} failures, {} known issues",
        started.elapsed(),
        failures.len(),
        known.len()
    );
    assert!(
        failures.is_empty(),
        "{} failures:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

// -------------------------------------------------------------------------------------------
// Building broken inputs

/// Cut offsets spread over `len` bytes: the first bytes, every tenth, around `extra`, the end.
fn cut_offsets(len: usize, extra: &[usize]) -> Vec<usize> {
    let mut set = BTreeSet::new();
    for o in [1, 2, 3, 10, 64, 100, 512, 1000, 4095, 4097] {
        set.insert(o);
    }
    for i in 1..10 {
        set.insert(len * i / 10);
    }
    for o in [1, 2, 8, 100] {
        set.insert(len.saturating_sub(o));
    }
    for &e in extra {
        for d in [0, 1, 7] {
            set.insert(e + d);
            set.insert(e.saturating_sub(d));
        }
    }
    set.into_iter().filter(|&o| o > 0 && o < len).collect()
}

fn gzip_members(data: &[u8], members: usize) -> Vec<u8> {
    let mut out = Vec::new();
    let step = data.len().div_ceil(members.max(1)).max(1);
    for chunk in data.chunks(step) {
        out.extend(common::gzip(chunk));
    }
    out
}

/// The member boundaries of a (multi-member) gzip file.
fn gzip_boundaries(gz: &[u8]) -> BTreeSet<usize> {
    let mut out = BTreeSet::new();
    let mut rest = gz;
    while !rest.is_empty() {
        let mut d = flate2::bufread::GzDecoder::new(rest);
        if io::copy(&mut d, &mut io::sink()).is_err() {
            break;
        }
        rest = d.into_inner();
        out.insert(gz.len() - rest.len());
    }
    out
}

/// How much SQL a prefix of a gzip file yields before it fails.
fn gunzip_prefix(gz: &[u8]) -> Vec<u8> {
    let mut d = flate2::read::MultiGzDecoder::new(gz);
    let mut out = Vec::new();
    let mut buf = [0u8; 8192];
    loop {
        match d.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => out.extend_from_slice(&buf[..n]),
        }
    }
    out
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

/// The byte just after base's `latest_version` in a plain dump: a prefix of the SQL reaching it
/// lets `version` answer.
fn base_version_end(sql: &[u8]) -> Option<usize> {
    base_version_end_of(sql, BASE_VERSION)
}

fn base_version_end_of(sql: &[u8], base: &str) -> Option<usize> {
    let block = find(sql, b"COPY public.ir_module_module ")?;
    let line = block + find(&sql[block..], b"\tbase\t")?;
    let end = line + find(&sql[line..], b"\n")?;
    let at = line + find(&sql[line..end], base.as_bytes())?;
    Some(at + base.len())
}

fn truth_for_prefix(prefix: &[u8], version_end: Option<usize>) -> VersionTruth {
    match version_end {
        Some(end) if prefix.len() >= end => VersionTruth::Unknown,
        Some(_) => VersionTruth::Gone,
        None => VersionTruth::Unknown,
    }
}

/// A zip entry for [`zip_bytes`]: the name, the stored data (already deflated when `deflated`),
/// and the CRC and sizes the headers declare.
struct ZipEntry {
    name: Vec<u8>,
    data: Vec<u8>,
    deflated: bool,
    crc: u32,
    size: u64,
}

impl ZipEntry {
    fn deflate(name: &str, content: &[u8]) -> ZipEntry {
        let mut e = flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::default());
        e.write_all(content).unwrap();
        let mut crc = flate2::Crc::new();
        crc.update(content);
        ZipEntry {
            name: name.as_bytes().to_vec(),
            data: e.finish().unwrap(),
            deflated: true,
            crc: crc.sum(),
            size: content.len() as u64,
        }
    }
}

/// A zip file written by hand, so its headers can lie.
fn zip_bytes(entries: &[ZipEntry]) -> Vec<u8> {
    let mut out = Vec::new();
    let mut central = Vec::new();
    for e in entries {
        let offset = out.len() as u32;
        let method: u16 = if e.deflated { 8 } else { 0 };
        let size = e.size.min(u32::MAX as u64) as u32;
        let mut fields = Vec::new();
        fields.extend(20u16.to_le_bytes()); // version needed
        fields.extend(0u16.to_le_bytes()); // flags
        fields.extend(method.to_le_bytes());
        fields.extend(0u32.to_le_bytes()); // time, date
        fields.extend(e.crc.to_le_bytes());
        fields.extend((e.data.len() as u32).to_le_bytes());
        fields.extend(size.to_le_bytes());
        fields.extend((e.name.len() as u16).to_le_bytes());
        fields.extend(0u16.to_le_bytes()); // extra
        out.extend(0x0403_4b50u32.to_le_bytes());
        out.extend(&fields);
        out.extend(&e.name);
        out.extend(&e.data);
        central.extend(0x0201_4b50u32.to_le_bytes());
        central.extend(20u16.to_le_bytes()); // version made by
        central.extend(&fields);
        central.extend(0u16.to_le_bytes()); // comment
        central.extend(0u16.to_le_bytes()); // disk
        central.extend(0u16.to_le_bytes()); // internal attributes
        central.extend(0u32.to_le_bytes()); // external attributes
        central.extend(offset.to_le_bytes());
        central.extend(&e.name);
    }
    let cd_offset = out.len() as u32;
    out.extend(&central);
    out.extend(0x0605_4b50u32.to_le_bytes());
    out.extend(0u16.to_le_bytes());
    out.extend(0u16.to_le_bytes());
    out.extend((entries.len() as u16).to_le_bytes());
    out.extend((entries.len() as u16).to_le_bytes());
    out.extend((central.len() as u32).to_le_bytes());
    out.extend(cd_offset.to_le_bytes());
    out.extend(0u16.to_le_bytes());
    out
}

/// Raw deflate of `head` then `total` bytes of `byte`, with its CRC, built in a blink: one MiB
/// of `byte` compressed alone (it starts with a literal, then copies at distance 1, valid after
/// any history) and flushed to a byte boundary, repeated, then an empty final block. Nothing of
/// that size is ever in memory.
fn deflate_repeated(head: &[u8], byte: u8, total: u64) -> (Vec<u8>, u32) {
    use flate2::{Compress, Compression, FlushCompress};
    let piece = |data: &[u8]| {
        let mut c = Compress::new(Compression::best(), false);
        let mut out = Vec::with_capacity(data.len() + 1024);
        c.compress_vec(data, &mut out, FlushCompress::Sync).unwrap();
        assert_eq!(c.total_in(), data.len() as u64);
        out
    };
    let chunk = vec![byte; 1 << 20];
    let mut crc = flate2::Crc::new();
    let mut out = piece(head);
    crc.update(head);
    let block = piece(&chunk);
    for _ in 0..total >> 20 {
        out.extend_from_slice(&block);
        crc.update(&chunk);
    }
    out.extend([0x03, 0x00]); // a final fixed-Huffman block with no symbol but its end
    (out, crc.sum())
}

/// The shared corpus directory, or `None` (SKIPPED) outside CI when it is not beside the clone;
/// under CI (`CI=true`) a missing corpus fails.
fn shared_corpus() -> Option<PathBuf> {
    let dir = PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../shared/corpus"));
    if dir.is_dir() {
        return Some(dir);
    }
    if std::env::var("CI").as_deref() == Ok("true") {
        panic!("the shared corpus {} is missing under CI", dir.display());
    }
    skipped(&format!(
        "{} not found (the shared corpus is not beside this clone)",
        dir.display()
    ));
    None
}

/// A visible skip: written to the stderr handle, which libtest does not capture.
fn skipped(why: &str) {
    let _ = writeln!(io::stderr(), "SKIPPED: {why}");
}

/// PostgreSQL, or `None` (SKIPPED) outside CI; under CI a missing PostgreSQL fails.
fn postgres() -> Option<&'static odump_testpg::Cluster> {
    // Panics under CI when PostgreSQL cannot run; elsewhere prints SKIPPED and gives None.
    odump_testpg::require()
}

/// Copies a real dump for the fuzzers when `ODUMP_FUZZ_SEEDS` names a directory.
fn fuzz_seed(name: &str, bytes: &[u8]) {
    if let Ok(dir) = std::env::var("ODUMP_FUZZ_SEEDS") {
        fs::create_dir_all(&dir).unwrap();
        fs::write(Path::new(&dir).join(name), bytes).unwrap();
    }
}

// -------------------------------------------------------------------------------------------
// The cases

/// Plain-SQL mutations of a real dump (`sql`, whose complete file is `good`).
fn sql_cases(cases: &mut Cases, tag: &str, sql: &[u8], good: &Path, odoo: bool) {
    let version_end = if odoo { base_version_end(sql) } else { None };
    let intact = if odoo {
        VersionTruth::Readable
    } else {
        VersionTruth::None
    };
    let marker = b"-- PostgreSQL database dump complete";
    let trailer = find(sql, marker).unwrap_or(sql.len());
    let body = find(sql, b"SET statement_timeout").unwrap_or(0);
    let copy_at = find(sql, b"COPY public.").expect("a COPY block");
    let copy_row = copy_at + find(&sql[copy_at..], b"\n").unwrap() + 1;
    let insert = |at: usize, what: &[u8]| [&sql[..at], what, &sql[at..]].concat();

    // Plain cuts at many offsets (gzip ones follow in the callers).
    let extra: Vec<usize> = [copy_row, trailer].into_iter().chain(version_end).collect();
    for cut in cut_offsets(sql.len(), &extra) {
        let prefix = &sql[..cut];
        let version = if odoo {
            truth_for_prefix(prefix, version_end)
        } else {
            VersionTruth::None
        };
        // A plain prefix is text that still looks like SQL (`--`), or too short to be a dump.
        let expect = if cut < 2 {
            Expect::Refused(vec!["not a PostgreSQL dump"])
        } else if cut >= trailer + marker.len() {
            // Only blank comment lines lost after the trailer: a complete dump.
            Expect::Tolerated
        } else {
            Expect::Incomplete
        };
        cases.file(
            format!("{tag} plain cut at {cut}"),
            "dump.sql",
            prefix,
            expect,
            version,
            Some(good),
        );
    }

    // Invalid UTF-8 and NUL bytes: in a value (COPY row) and in a statement.
    cases.file(
        format!("{tag} invalid UTF-8 in a COPY row"),
        "dump.sql",
        &insert(copy_row, b"\xff\xfe\xc3"),
        Expect::Tolerated,
        intact,
        Some(good),
    );
    cases.file(
        format!("{tag} invalid UTF-8 in a statement"),
        "dump.sql",
        &insert(body, b"SELECT '\xff\xc0\x80';\n"),
        Expect::Tolerated,
        intact,
        Some(good),
    );
    // The first 4 KiB decide the format: a NUL there makes the file binary, not a dump.
    let nul_expect = |at: usize| {
        if at < 4096 {
            Expect::Refused(vec!["not a PostgreSQL dump", "binary"])
        } else {
            Expect::Tolerated
        }
    };
    let nul_version = |at: usize| {
        if at < 4096 {
            VersionTruth::None
        } else {
            intact
        }
    };
    cases.file(
        format!("{tag} NUL bytes in a statement (byte {copy_at})"),
        "dump.sql",
        &insert(copy_at, b"SELECT 'a\0b';\n"),
        nul_expect(copy_at),
        nul_version(copy_at),
        Some(good),
    );
    // A line of NULs joins the next statement (a COPY): its rows are then read as SQL.
    cases.file(
        format!("{tag} a line of NUL bytes (byte {copy_at})"),
        "dump.sql",
        &insert(copy_at, b"\0\0\0\n"),
        nul_expect(copy_at),
        if copy_at < 4096 {
            VersionTruth::None
        } else {
            VersionTruth::Unknown
        },
        Some(good),
    );
    cases.file(
        format!("{tag} NUL bytes in a COPY row (byte {copy_row})"),
        "dump.sql",
        &insert(copy_row + 1, b"\0\0"),
        nul_expect(copy_row),
        nul_version(copy_row),
        Some(good),
    );
    cases.file(
        format!("{tag} NUL in the first bytes"),
        "dump.sql",
        &insert(2, b"\0"),
        Expect::Refused(vec!["not a PostgreSQL dump", "binary"]),
        VersionTruth::None,
        Some(good),
    );

    // Unterminated quote, dollar quote, comment and COPY block. Just before the trailer, they
    // swallow it: the dump is incomplete. Early on, later quotes pair up differently and the
    // statements after it are garbled: any defined outcome.
    for (what, text) in [
        ("quote", &b"SELECT 'never closed;\n"[..]),
        (
            "quoted identifier",
            b"CREATE TABLE \"never closed (a int);\n",
        ),
        (
            "dollar quote",
            b"CREATE FUNCTION public.f() RETURNS int LANGUAGE sql AS $x$ SELECT 1;\n",
        ),
        ("block comment", b"/* never closed\n"),
    ] {
        cases.file(
            format!("{tag} unterminated {what} before the trailer"),
            "dump.sql",
            &insert(trailer, text),
            Expect::Incomplete,
            intact,
            Some(good),
        );
        cases.file(
            format!("{tag} unterminated {what} early"),
            "dump.sql",
            &insert(body, text),
            Expect::Tolerated,
            VersionTruth::Unknown,
            Some(good),
        );
    }
    let mut no_end = sql[..trailer].to_vec();
    no_end.extend(b"COPY public.never_ended (a, b) FROM stdin;\n1\t2\n3\t4\n");
    cases.file(
        format!("{tag} unterminated COPY block"),
        "dump.sql",
        &no_end,
        Expect::Incomplete,
        intact,
        Some(good),
    );

    // COPY rows with the wrong number of fields (a restore would fail on them).
    let row_end = copy_row + find(&sql[copy_row..], b"\n").unwrap();
    let mut fewer = sql.to_vec();
    if let Some(tab) = find(&sql[copy_row..row_end], b"\t") {
        fewer.drain(copy_row + tab..copy_row + tab + 1);
    }
    cases.file(
        format!("{tag} COPY row with a field missing{WRONG_FIELDS}"),
        "dump.sql",
        &fewer,
        Expect::Incomplete,
        VersionTruth::Unknown,
        Some(good),
    );
    cases.file(
        format!("{tag} COPY row with extra fields{WRONG_FIELDS}"),
        "dump.sql",
        &insert(row_end, b"\textra\t\\N"),
        Expect::Incomplete,
        VersionTruth::Unknown,
        Some(good),
    );
    if let Some(end) = version_end {
        // Base's own row with a field dropped before latest_version: the columns shift.
        let line = sql[..end].iter().rposition(|&b| b == b'\n').unwrap() + 1;
        let tab = line + find(&sql[line..], b"\t").unwrap();
        let mut shifted = sql.to_vec();
        shifted.drain(line..tab + 1);
        cases.file(
            format!("{tag} base row with a field missing{WRONG_FIELDS}"),
            "dump.sql",
            &shifted,
            Expect::Incomplete,
            VersionTruth::Unknown,
            Some(good),
        );
    }

    // Nesting deep enough to overflow a recursive parser: in a view (schema model), a default,
    // and a plain SELECT.
    let deep = 1_000_000;
    let nest = |open: &str, close: &str, inner: &str| {
        format!("{}{inner}{}", open.repeat(deep), close.repeat(deep))
    };
    let statements = [
        (
            "view",
            format!(
                "CREATE VIEW public.deep AS SELECT {};\n",
                nest("(", ")", "1")
            ),
        ),
        (
            "default",
            format!(
                "CREATE TABLE public.deep (a integer DEFAULT {});\n",
                nest("(", ")", "1")
            ),
        ),
        ("select", format!("SELECT {};\n", nest("ARRAY[", "]", "1"))),
        ("unbalanced", format!("SELECT {};\n", "(".repeat(deep))),
    ];
    for (what, stmt) in statements {
        let version = match version_end {
            Some(end) if what == "unbalanced" && body < end => VersionTruth::Unknown,
            _ => intact,
        };
        let expect = if what == "unbalanced" {
            Expect::Incomplete
        } else {
            Expect::Tolerated
        };
        cases.file(
            format!("{tag} nested 1e6 deep ({what})"),
            "dump.sql",
            &insert(body, stmt.as_bytes()),
            expect,
            version,
            Some(good),
        );
    }
}

/// Gzip cuts and bit flips of `sql` compressed as one member and as several.
fn gzip_cases(cases: &mut Cases, tag: &str, sql: &[u8], good: &Path, odoo: bool) {
    let version_end = if odoo { base_version_end(sql) } else { None };
    for (kind, gz) in [
        ("gzip", common::gzip(sql)),
        ("multi-member gzip", gzip_members(sql, 4)),
    ] {
        let boundaries = gzip_boundaries(&gz);
        for cut in cut_offsets(gz.len(), &boundaries.iter().copied().collect::<Vec<_>>()) {
            let prefix = &gz[..cut];
            let version = if odoo {
                truth_for_prefix(&gunzip_prefix(prefix), version_end)
            } else {
                VersionTruth::None
            };
            // Cut exactly between members, the gzip layer cannot tell: the SQL is incomplete.
            let expect = if boundaries.contains(&cut) {
                Expect::Incomplete
            } else {
                Expect::Truncated
            };
            cases.file(
                format!("{tag} {kind} cut at {cut}"),
                "dump.sql.gz",
                prefix,
                expect,
                version,
                Some(good),
            );
        }
        // Flipped bits: in the deflate data (start, middle, end), in the CRC32, in ISIZE.
        let n = gz.len();
        for (what, at, bit) in [
            ("deflate data near the start", 20, 0x10),
            ("deflate data in the middle", n / 2, 0x01),
            ("deflate data near the end", n - 12, 0x80),
            ("CRC32", n - 7, 0x04),
            ("ISIZE", n - 3, 0x01),
        ] {
            let mut bad = gz.clone();
            bad[at] ^= bit;
            let or_truncated = what.starts_with("deflate");
            cases.file(
                format!("{tag} {kind}: bit flipped in the {what} (byte {at})"),
                "dump.sql.gz",
                &bad,
                Expect::Corrupt { or_truncated },
                if odoo {
                    VersionTruth::Unknown
                } else {
                    VersionTruth::None
                },
                Some(good),
            );
        }
    }
    // Garbage after the last member, and a gzip of something that is not a dump.
    let mut trailing = common::gzip(sql);
    trailing.extend(b"\x00\x00garbage after the gzip stream");
    cases.file(
        format!("{tag} gzip with trailing garbage"),
        "dump.sql.gz",
        &trailing,
        Expect::Corrupt { or_truncated: true },
        if odoo {
            VersionTruth::Unknown
        } else {
            VersionTruth::None
        },
        Some(good),
    );
}

/// Cuts of an archive file (custom format or zip) at many offsets.
fn archive_cuts(
    cases: &mut Cases,
    tag: &str,
    file_name: &str,
    bytes: &[u8],
    good: &Path,
    truth: impl Fn(usize) -> VersionTruth,
    expect: impl Fn(usize) -> (Expect, &'static str),
) {
    for cut in cut_offsets(bytes.len(), &[]) {
        let (expect, note) = expect(cut);
        cases.file(
            format!("{tag} cut at {cut}{note}"),
            file_name,
            &bytes[..cut],
            expect,
            truth(cut),
            Some(good),
        );
    }
}

/// Where a zip's central directory starts, from its end record.
fn central_directory_at(zip: &[u8]) -> usize {
    let eocd = zip.len() - 22;
    assert_eq!(&zip[eocd..eocd + 4], b"PK\x05\x06", "a zip without comment");
    u32::from_le_bytes(zip[eocd + 16..eocd + 20].try_into().unwrap()) as usize
}

fn dat_files(dir: &Path) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.file_name().unwrap() != "toc.dat")
        .collect();
    v.sort();
    v
}

fn decompressed(path: &Path) -> Vec<u8> {
    let raw = fs::read(path).unwrap();
    if path.extension().is_some_and(|e| e == "gz") {
        gunzip_prefix(&raw)
    } else {
        raw
    }
}

#[test]
fn real_dumps_cut_corrupted_and_mangled() {
    let Some(pg) = postgres() else { return };
    let _ = commands();
    let db = unique_db_name("hostile");
    pg.create_db(
        &db,
        &fixtures::odoo(
            SERIES,
            fixtures::OdooOptions {
                with_attachments: 2,
                ..Default::default()
            },
        ),
    );
    let tmp = tempfile::tempdir().unwrap();
    let dumps = tmp.path().join("dumps");
    fs::create_dir_all(&dumps).unwrap();
    let dump = |kind| pg.dump(&db, kind, &dumps);
    let plain = dump(DumpKind::Plain);
    let custom = dump(DumpKind::Custom);
    let custom_pipe = dump(DumpKind::CustomPipe);
    let custom_z0 = dump(DumpKind::CustomUncompressed);
    let directory = dump(DumpKind::Directory);
    let directory_z0 = dump(DumpKind::DirectoryUncompressed);
    let zip = pg.dump_with(
        &db,
        DumpKind::OdooZip,
        &DumpOptions::new().filestore(fixtures::attachment_files(2)),
        &dumps,
    );
    pg.drop_db(&db);
    let sql = fs::read(&plain).unwrap();
    assert!(
        base_version_end(&sql).is_some(),
        "base's row in the plain dump"
    );
    for p in [&plain, &custom, &custom_pipe, &custom_z0, &zip] {
        fuzz_seed(
            &p.file_name().unwrap().to_string_lossy(),
            &fs::read(p).unwrap(),
        );
    }
    fuzz_seed(
        "directory.toc.dat",
        &fs::read(directory_z0.join("toc.dat")).unwrap(),
    );
    if let Some(dat) = dat_files(&directory_z0)
        .into_iter()
        .find(|p| find(&fs::read(p).unwrap(), b"\tbase\t").is_some())
    {
        fuzz_seed("directory.data", &fs::read(dat).unwrap());
    }

    if std::env::var_os("ODUMP_FUZZ_SEEDS").is_some() {
        // Every column type and schema object, for the fuzzers' seeds only.
        let sink = unique_db_name("hostile_sink");
        pg.create_db(&sink, &fixtures::kitchen_sink());
        for kind in [DumpKind::Plain, DumpKind::Custom] {
            let p = pg.dump(&sink, kind, &dumps);
            fuzz_seed(
                &p.file_name().unwrap().to_string_lossy(),
                &fs::read(&p).unwrap(),
            );
        }
        pg.drop_db(&sink);
    }

    let mut cases = Cases::new(&tmp.path().join("cases"));
    sql_cases(&mut cases, "pg", &sql, &plain, true);
    gzip_cases(&mut cases, "pg", &sql, &plain, true);

    // Custom archives: compressed (offsets set / not set) and uncompressed (where base's row
    // can be found in the bytes).
    let custom_bytes = fs::read(&custom).unwrap();
    let header_only = |cut: usize| {
        if cut < 5 {
            (Expect::Refused(vec!["not a PostgreSQL dump"]), "")
        } else {
            (Expect::Truncated, "")
        }
    };
    archive_cuts(
        &mut cases,
        "pg custom",
        "dump.dump",
        &custom_bytes,
        &plain,
        |_| VersionTruth::Unknown,
        header_only,
    );
    archive_cuts(
        &mut cases,
        "pg custom (pipe)",
        "dump.dump",
        &fs::read(&custom_pipe).unwrap(),
        &plain,
        |_| VersionTruth::Unknown,
        header_only,
    );
    let z0 = fs::read(&custom_z0).unwrap();
    let z0_version_end = {
        let row = find(&z0, b"\tbase\t").expect("base's row in the uncompressed archive");
        row + find(&z0[row..], BASE_VERSION.as_bytes()).unwrap() + BASE_VERSION.len()
    };
    archive_cuts(
        &mut cases,
        "pg custom -Z0",
        "dump.dump",
        &z0,
        &plain,
        |cut| {
            if cut < z0_version_end {
                VersionTruth::Gone
            } else {
                VersionTruth::Unknown
            }
        },
        header_only,
    );
    // A custom archive named .sql is still read as what it is.
    cases.file(
        "pg custom archive named .sql",
        "dump.sql",
        &custom_bytes,
        Expect::Tolerated,
        VersionTruth::Readable,
        Some(&plain),
    );
    let mut flipped = custom_bytes.clone();
    let at = custom_bytes.len() * 3 / 4;
    flipped[at] ^= 0x20;
    cases.file(
        format!("pg custom: bit flipped in a data block (byte {at})"),
        "dump.dump",
        &flipped,
        Expect::Tolerated,
        VersionTruth::Unknown,
        Some(&plain),
    );

    // Odoo backup zips: cut anywhere (dump.sql is the first entry).
    let zip_bytes_real = fs::read(&zip).unwrap();
    let name_len = u16::from_le_bytes([zip_bytes_real[26], zip_bytes_real[27]]) as usize;
    let extra_len = u16::from_le_bytes([zip_bytes_real[28], zip_bytes_real[29]]) as usize;
    let data_at = 30 + name_len + extra_len;
    let zip_sql_prefix = |cut: usize| {
        let mut d = flate2::read::DeflateDecoder::new(&zip_bytes_real[data_at.min(cut)..cut]);
        let mut out = Vec::new();
        let mut buf = [0u8; 8192];
        while let Ok(n) = d.read(&mut buf) {
            if n == 0 {
                break;
            }
            out.extend_from_slice(&buf[..n]);
        }
        out
    };
    let zip_sql = zip_sql_prefix(zip_bytes_real.len());
    let zip_version_end = base_version_end(&zip_sql);
    let zip_cd = central_directory_at(&zip_bytes_real);
    archive_cuts(
        &mut cases,
        "pg zip",
        "backup.zip",
        &zip_bytes_real,
        &plain,
        |cut| truth_for_prefix(&zip_sql_prefix(cut), zip_version_end),
        |cut| {
            if cut < 4 {
                (Expect::Refused(vec!["not a PostgreSQL dump"]), "")
            } else if cut >= zip_cd {
                (Expect::Truncated, " (cut in the central directory)")
            } else {
                (Expect::Truncated, "")
            }
        },
    );
    let mut bad_zip = zip_bytes_real.clone();
    bad_zip[data_at + 100] ^= 0x08;
    cases.file(
        "pg zip: bit flipped in dump.sql's deflate data",
        "backup.zip",
        &bad_zip,
        Expect::Corrupt { or_truncated: true },
        VersionTruth::Unknown,
        Some(&plain),
    );
    let mut bad_crc = zip_bytes_real.clone();
    bad_crc[14] ^= 0x01;
    cases.file(
        "pg zip: wrong CRC in dump.sql's local header",
        "backup.zip",
        &bad_crc,
        Expect::Corrupt {
            or_truncated: false,
        },
        VersionTruth::Unknown,
        Some(&plain),
    );

    // Directory dumps: toc.dat cut, the data file of ir_module_module (base's row) deleted,
    // emptied or cut, another table's data file deleted, garbage in a .dat.gz.
    for (tag, src) in [
        ("pg directory", &directory),
        ("pg directory -Z0", &directory_z0),
    ] {
        let dats = dat_files(src);
        let base_dat = dats
            .iter()
            .find(|p| find(&decompressed(p), b"\tbase\t").is_some())
            .expect("the data file with base's row")
            .clone();
        let other_dat = dats
            .iter()
            .find(|p| **p != base_dat && !decompressed(p).is_empty())
            .expect("another data file")
            .clone();
        let base_name = base_dat.file_name().unwrap().to_owned();
        let raw = fs::read(&base_dat).unwrap();
        let gz = base_dat.extension().is_some_and(|e| e == "gz");
        let other_name = other_dat.file_name().unwrap().to_owned();
        let toc_len = fs::metadata(src.join("toc.dat")).unwrap().len() as usize;
        for cut in [3, 100, toc_len / 2, toc_len - 1] {
            cases.directory(
                format!("{tag}: toc.dat cut at {cut}"),
                src,
                |d| {
                    let toc = fs::read(d.join("toc.dat")).unwrap();
                    fs::write(d.join("toc.dat"), &toc[..cut]).unwrap();
                },
                if cut < 5 {
                    Expect::Refused(vec!["toc.dat"])
                } else {
                    Expect::Incomplete
                },
                VersionTruth::Gone,
            );
        }
        let b = base_name.clone();
        cases.directory(
            format!("{tag}: data file of ir_module_module deleted"),
            src,
            move |d| fs::remove_file(d.join(&b)).unwrap(),
            Expect::Incomplete,
            VersionTruth::Gone,
        );
        let b = base_name.clone();
        cases.directory(
            format!("{tag}: data file of ir_module_module empty"),
            src,
            move |d| fs::write(d.join(&b), b"").unwrap(),
            Expect::Incomplete,
            VersionTruth::Gone,
        );
        let o = other_name.clone();
        cases.directory(
            format!("{tag}: another table's data file deleted"),
            src,
            move |d| fs::remove_file(d.join(&o)).unwrap(),
            Expect::Incomplete,
            VersionTruth::Unknown,
        );
        let dat_version_end = base_version_end(
            &[
                b"COPY public.ir_module_module x\n".as_slice(),
                &decompressed(&base_dat),
            ]
            .concat(),
        )
        .map(|e| e - "COPY public.ir_module_module x\n".len());
        for cut in [1, raw.len() / 3, raw.len() / 2, raw.len() - 1] {
            let prefix = raw[..cut].to_vec();
            let kept = if gz {
                gunzip_prefix(&prefix)
            } else {
                prefix.clone()
            };
            let b = base_name.clone();
            // pg_dump ends every COPY data file with a `\.` line: a cut after it loses nothing.
            let whole = kept.trim_ascii_end().ends_with(b"\n\\.");
            let (expect, note) = match (gz, whole) {
                (true, _) => (Expect::Truncated, ""),
                (false, true) => (Expect::Tolerated, ""),
                (false, false) => (Expect::Incomplete, ""),
            };
            cases.directory(
                format!("{tag}: data file of ir_module_module cut at {cut}{note}"),
                src,
                move |d| fs::write(d.join(&b), &prefix).unwrap(),
                expect,
                truth_for_prefix(&kept, dat_version_end),
            );
        }
        if gz {
            let b = base_name.clone();
            cases.directory(
                format!("{tag}: garbage in the data file of ir_module_module"),
                src,
                move |d| fs::write(d.join(&b), b"\x1f\x8b\x08\x00garbage, not deflate").unwrap(),
                Expect::Corrupt { or_truncated: true },
                VersionTruth::Gone,
            );
        }
    }
    judge_all(cases.list);
}

#[test]
fn shared_corpus_cut_and_corrupted() {
    let Some(corpus) = shared_corpus() else {
        return;
    };
    let _ = commands();
    let tmp = tempfile::tempdir().unwrap();
    let mut cases = Cases::new(tmp.path());
    // A real Odoo 12 data-only dump: base's row (12.0.1.3) is some way in.
    cases.series = "12.0";
    let data_only = corpus.join("odoo12-data-only.sql");
    let sql = fs::read(&data_only).unwrap();
    let version_end = base_version_end_of(&sql, "12.0.1.3");
    assert!(version_end.is_some(), "base's row in the corpus dump");
    let head = &sql[..sql.len().min(400_000)];
    for cut in [1usize, 3, 100, 5000, 150_000, 399_999] {
        cases.file(
            format!("corpus odoo12 plain cut at {cut}"),
            "dump.sql",
            &head[..cut],
            if cut < 2 {
                Expect::Refused(vec!["not a PostgreSQL dump"])
            } else {
                Expect::Incomplete
            },
            truth_for_prefix(&head[..cut], version_end),
            Some(&data_only),
        );
    }
    let gz = common::gzip(&sql);
    for cut in [
        1usize,
        2,
        10,
        18,
        1000,
        gz.len() / 3,
        gz.len() - 4,
        gz.len() - 1,
    ] {
        cases.file(
            format!("corpus odoo12 gzip cut at {cut}"),
            "dump.sql.gz",
            &gz[..cut],
            Expect::Truncated,
            truth_for_prefix(&gunzip_prefix(&gz[..cut]), version_end),
            Some(&data_only),
        );
    }
    // The real enterprise backup zip, cut.
    cases.series = "17.0";
    let backup = corpus.join("odoo17-enterprise-backup.zip");
    let zip = fs::read(&backup).unwrap();
    let zip_cd = central_directory_at(&zip);
    for cut in [
        2usize,
        4,
        30,
        5000,
        zip.len() / 2,
        zip.len() - 30,
        zip.len() - 1,
    ] {
        cases.file(
            format!(
                "corpus backup zip cut at {cut}{}",
                if cut >= zip_cd {
                    " (cut in the central directory)"
                } else {
                    ""
                }
            ),
            "backup.zip",
            &zip[..cut],
            if cut < 4 {
                Expect::Refused(vec!["not a PostgreSQL dump"])
            } else {
                Expect::Truncated
            },
            // The manifest (after dump.sql) says 17.0 too: a cut zip has no manifest, and the
            // base row may or may not be in the part kept.
            VersionTruth::Unknown,
            Some(&backup),
        );
    }
    // The UTF-16 empty dump, whole and cut at an odd byte.
    let utf16 = fs::read(corpus.join("empty-utf16.sql")).unwrap();
    cases.file(
        "corpus UTF-16 dump cut at an odd byte",
        "dump.sql",
        &utf16[..(utf16.len() / 2) | 1],
        Expect::Incomplete,
        VersionTruth::None,
        None,
    );
    judge_all(cases.list);
}

/// Bytes of empty lines in the line bomb (`HOSTILE_LINE_BOMB`, default 8 MiB).
fn bomb_lines() -> u64 {
    std::env::var("HOSTILE_LINE_BOMB")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(8 << 20)
}

/// A small dump in pg_dump's plain format with base's row, written here (no server needed).
fn tiny_odoo_sql() -> Vec<u8> {
    format!(
        "--\n-- PostgreSQL database dump\n--\n\n-- Dumped from database version 15.4\n\
         -- Dumped by pg_dump version 15.4\n\nSET statement_timeout = 0;\n\
         SET client_encoding = 'UTF8';\n\n\
         --\n-- Name: ir_module_module; Type: TABLE; Schema: public; Owner: odoo\n--\n\n\
         CREATE TABLE public.ir_module_module (id integer NOT NULL, name character varying, \
         state character varying, latest_version character varying);\n\n\
         --\n-- Data for Name: ir_module_module; Type: TABLE DATA; Schema: public; Owner: odoo\n--\n\n\
         COPY public.ir_module_module (id, name, state, latest_version) FROM stdin;\n\
         1\tbase\tinstalled\t{BASE_VERSION}\n2\tweb\tinstalled\t17.0.1.0\n\\.\n\n\n\
         --\n-- PostgreSQL database dump complete\n--\n\n"
    )
    .into_bytes()
}

#[test]
fn crafted_zips_bombs_and_garbage() {
    let _ = commands();
    let tmp = tempfile::tempdir().unwrap();
    let good_dir = tmp.path().join("good");
    fs::create_dir_all(&good_dir).unwrap();
    let good = good_dir.join("tiny.sql");
    let sql = tiny_odoo_sql();
    fs::write(&good, &sql).unwrap();
    let manifest =
        br#"{"odoo_dump": "1", "db_name": "x", "version": "17.0", "major_version": "17.0"}"#;
    let mut cases = Cases::new(&tmp.path().join("cases"));

    // Where the `../` and absolute entry names of a crafted zip point: nothing may appear there.
    let absolute_evil = std::env::temp_dir().join(format!("odump-evil-{}", std::process::id()));
    let evil_places = [
        tmp.path().join("odump-evil.txt"),
        tmp.path().join("cases/odump-evil.txt"),
        tmp.path().join("odump-evil-2"),
        tmp.path().parent().unwrap().join("odump-evil-2"),
        absolute_evil.clone(),
    ];
    let readable = |cases: &mut Cases, name: &str, bytes: &[u8], expect: Expect| {
        cases.file(
            name,
            "backup.zip",
            bytes,
            expect,
            VersionTruth::Readable,
            Some(&good),
        );
    };
    readable(
        &mut cases,
        "zip: a well-formed tiny backup (control)",
        &zip_bytes(&[
            ZipEntry::deflate("dump.sql", &sql),
            ZipEntry::deflate("manifest.json", manifest),
        ]),
        Expect::Tolerated,
    );
    cases.file(
        "zip without dump.sql",
        "backup.zip",
        &zip_bytes(&[
            ZipEntry::deflate("manifest.json", manifest),
            ZipEntry::deflate("filestore/ab/abcdef", b"file"),
        ]),
        Expect::Refused(vec!["dump.sql"]),
        VersionTruth::None,
        Some(&good),
    );
    cases.file(
        "zip with a dump.sql elsewhere (backup/dump.sql)",
        "backup.zip",
        &zip_bytes(&[ZipEntry::deflate("backup/dump.sql", &sql)]),
        Expect::Refused(vec!["dump.sql"]),
        VersionTruth::None,
        Some(&good),
    );
    readable(
        &mut cases,
        "zip with ../ entry names",
        &zip_bytes(&[
            ZipEntry::deflate("dump.sql", &sql),
            ZipEntry::deflate("manifest.json", manifest),
            ZipEntry::deflate("../../odump-evil.txt", b"escape"),
            ZipEntry::deflate("filestore/../../../odump-evil-2", b"escape"),
            ZipEntry::deflate(&absolute_evil.to_string_lossy(), b"escape"),
        ]),
        Expect::Finding("unsafe-zip-entries"),
    );
    cases.file(
        "zip: empty archive (end of central directory only)",
        "backup.zip",
        &zip_bytes(&[]),
        Expect::Refused(vec!["dump.sql"]),
        VersionTruth::None,
        Some(&good),
    );

    // Bombs: a dump header then 2 GiB of zeros (one endless line) in a 2 MiB zip entry that
    // declares its size, the same declaring 1 KiB, and the same as .sql.gz; then 8 MiB of
    // empty lines (a debug build reads ~5 MB/s of them), which a reader must read to the end. Memory stays bounded, runs end.
    let header = b"--\n-- PostgreSQL database dump\n--\n\n";
    let zeros = 2u64 << 30;
    let (bomb, crc) = deflate_repeated(header, 0, zeros);
    let inflated = zeros + header.len() as u64;
    for (what, size, expect) in [
        ("declares its size", inflated, Expect::Incomplete),
        (
            "declares 1 KiB",
            1024,
            Expect::Corrupt {
                or_truncated: false,
            },
        ),
    ] {
        cases.file(
            format!(
                "zip bomb: 2 GiB of zeros in {} KiB, {what}",
                bomb.len() >> 10
            ),
            "backup.zip",
            &zip_bytes(&[ZipEntry {
                name: b"dump.sql".to_vec(),
                data: bomb.clone(),
                deflated: true,
                crc,
                size,
            }]),
            expect,
            VersionTruth::None,
            Some(&good),
        );
    }
    let gzip_wrap = |deflated: &[u8], crc: u32, size: u64| {
        let mut gz = vec![0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3];
        gz.extend(deflated);
        gz.extend(crc.to_le_bytes());
        gz.extend((size as u32).to_le_bytes());
        gz
    };
    cases.file(
        format!("gzip bomb: 2 GiB of zeros in {} KiB", bomb.len() >> 10),
        "dump.sql.gz",
        &gzip_wrap(&bomb, crc, inflated),
        Expect::Incomplete,
        VersionTruth::None,
        Some(&good),
    );
    let lines = bomb_lines();
    let (newlines, crc) = deflate_repeated(header, b'\n', lines);
    cases.file(
        format!(
            "gzip bomb: {} MiB of empty lines in {} KiB",
            lines >> 20,
            newlines.len() >> 10
        ),
        "dump.sql.gz",
        &gzip_wrap(&newlines, crc, lines + header.len() as u64),
        Expect::Incomplete,
        VersionTruth::None,
        Some(&good),
    );

    // Not dumps at all.
    let mut garbage = Vec::with_capacity(1 << 16);
    let mut x: u32 = 0x1234_5678;
    for _ in 0..(1 << 16) {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        garbage.push(x as u8);
    }
    for (name, file, bytes, words) in [
        ("empty file", "dump.sql", Vec::new(), vec!["empty"]),
        (
            "a text file that is not a dump",
            "notes.sql",
            b"Meeting notes\n\n- upgrade the database\n- check the filestore\n".to_vec(),
            vec!["not a PostgreSQL dump", "Meeting notes"],
        ),
        (
            "binary garbage",
            "dump.dump",
            garbage.clone(),
            vec!["not a PostgreSQL dump"],
        ),
        (
            "a gzip of garbage",
            "dump.sql.gz",
            common::gzip(&garbage),
            vec!["not a PostgreSQL dump"],
        ),
        (
            "a gzip of nothing",
            "dump.sql.gz",
            common::gzip(b""),
            vec!["not a PostgreSQL dump"],
        ),
        (
            "PGDMP and garbage",
            "dump.dump",
            [b"PGDMP".as_slice(), &garbage].concat(),
            vec!["archive"],
        ),
        (
            "PGDMP with an absurd header",
            "dump.dump",
            b"PGDMP\x01\x0e\x00\x7f\x7f\x01".to_vec(),
            vec!["archive"],
        ),
    ] {
        cases.file(
            name,
            file,
            &bytes,
            Expect::Refused(words),
            VersionTruth::None,
            Some(&good),
        );
    }
    // A directory that is not a dump.
    let not_dump = cases.dir().join("not-a-dump");
    fs::create_dir_all(&not_dump).unwrap();
    fs::write(not_dump.join("readme.txt"), b"hello").unwrap();
    cases.list.push(Case {
        name: "a directory without toc.dat".into(),
        path: not_dump,
        expect: Expect::Refused(vec!["toc.dat"]),
        version: VersionTruth::None,
        good: Some(good.clone()),
        series: SERIES,
        time_limit: TIMEOUT,
    });

    // Shapes PostgreSQL itself refuses (a table has at most 1600 columns) but a crafted file
    // can hold: every command must stay roughly linear in its size.
    let wide = format!(
        "--\n-- PostgreSQL database dump\n--\n\nCREATE TABLE public.wide ({});\n\n\
         --\n-- PostgreSQL database dump complete\n--\n\n",
        (0..WIDE_COLUMNS)
            .map(|i| format!("c{i} integer"))
            .collect::<Vec<_>>()
            .join(", ")
    );
    cases.file(
        format!("a table of {WIDE_COLUMNS} columns{WIDE}"),
        "dump.sql",
        wide.as_bytes(),
        Expect::Tolerated,
        VersionTruth::None,
        Some(&good),
    );
    cases.list.last_mut().unwrap().time_limit = Duration::from_secs(10);

    // The tiny dump itself, mangled the same way as the real ones.
    sql_cases(&mut cases, "tiny", &sql, &good, true);
    judge_all(cases.list);
    for place in evil_places {
        assert!(
            !place.exists(),
            "a zip entry was written to {}",
            place.display()
        );
    }
}

/// A single line of several GB with no newline, on stdin (nothing that size touches the disk):
/// every command ends in bounded time and memory.
#[test]
fn multi_gigabyte_line_on_stdin() {
    let _ = commands();
    let total: u64 = std::env::var("HOSTILE_LINE_BYTES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(3 << 30);
    let tmp = tempfile::tempdir().unwrap();
    let case = Case {
        name: format!("one line of {} GiB on stdin", total >> 30),
        path: tmp.path().join("stdin"),
        expect: Expect::Tolerated,
        version: VersionTruth::None,
        good: None,
        series: SERIES,
        time_limit: TIMEOUT,
    };
    fs::write(&case.path, b"").unwrap();
    let good = tmp.path().join("tiny.sql");
    fs::write(&good, tiny_odoo_sql()).unwrap();
    let mut v = Verdict::default();
    // The line is a string, a statement, a setting, and (diff) a COPY row.
    for (cmd, head) in [
        (
            "inspect",
            &b"--\n-- PostgreSQL database dump\n--\n\nSELECT '"[..],
        ),
        ("check", b"--\n-- PostgreSQL database dump\n--\n\nSELECT "),
        ("version", b"SET x = 'a"),
        ("diff", b"COPY public.t (a) FROM stdin;\n"),
    ] {
        if !has(cmd) {
            continue;
        }
        let args: Vec<OsString> = match cmd {
            "diff" => vec![cmd.into(), good.clone().into(), "-".into()],
            _ => vec![cmd.into(), "-".into()],
        };
        let head = head.to_vec();
        let feed: Feeder = Box::new(move |w| {
            w.write_all(&head)?;
            let chunk = vec![b'a'; 1 << 20];
            let mut left = total;
            while left > 0 {
                let n = left.min(chunk.len() as u64) as usize;
                w.write_all(&chunk[..n])?;
                left -= n as u64;
            }
            Ok(())
        });
        let run = run_in(tmp.path(), &args, Some(feed), TIMEOUT);
        // Bounded time, no panic, and peak memory under MEMORY_LIMIT_KB (256 MiB).
        common_rules(&mut v, &case, &run);
        eprintln!("{}", run.describe().replace('\n', " | "));
        if run.peak_rss_kb.is_none() {
            eprintln!("peak memory of `{cmd}` could not be sampled");
        }
        match cmd {
            // Not a complete dump: never ready, never a version.
            "check" if run.code == Some(0) => {
                v.fail(&case, Some(&run), "check calls it ready".into())
            }
            "version" if run.code == Some(0) => {
                v.fail(&case, Some(&run), "version claims a series".into())
            }
            _ => {}
        }
    }
    assert!(v.failures.is_empty(), "{}", v.failures.join("\n"));
}

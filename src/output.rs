//! Shared helpers for human output and progress bars.

use std::io::{IsTerminal, Write};
use std::time::Duration;

use indicatif::{MultiProgress, ProgressBar, ProgressStyle};

/// `1234567` → `1.2 MB` (decimal units, like `ls -lh --si`).
pub fn bytes(n: u64) -> String {
    const UNITS: [&str; 5] = ["B", "kB", "MB", "GB", "TB"];
    let mut value = n as f64;
    let mut unit = 0;
    while value >= 1000.0 && unit < UNITS.len() - 1 {
        value /= 1000.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{n} B")
    } else {
        format!("{value:.1} {}", UNITS[unit])
    }
}

/// `1234567` → `1,234,567`.
pub fn count(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// Progress bars on stderr, only when stderr is a terminal.
pub struct Progress {
    multi: Option<MultiProgress>,
}

impl Progress {
    /// Bars are shown only on a terminal.
    pub fn new() -> Self {
        Progress {
            multi: std::io::stderr().is_terminal().then(MultiProgress::new),
        }
    }

    /// Starts a bar following `progress` until the returned guard is dropped.
    pub fn track(&self, name: &str, progress: odump_io::Progress) -> Option<Tracker> {
        let multi = self.multi.as_ref()?;
        let bar = match progress.total() {
            Some(total) => ProgressBar::new(total).with_style(
                ProgressStyle::with_template(
                    "{msg:30!} {bar:30} {bytes}/{total_bytes} {bytes_per_sec} eta {eta}",
                )
                .ok()?,
            ),
            None => ProgressBar::new_spinner().with_style(
                ProgressStyle::with_template("{msg:30!} {spinner} {bytes} {bytes_per_sec}").ok()?,
            ),
        };
        let bar = multi.add(bar);
        bar.set_message(name.to_string());
        let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let thread_stop = stop.clone();
        let thread_bar = bar.clone();
        let handle = std::thread::spawn(move || {
            while !thread_stop.load(std::sync::atomic::Ordering::Relaxed) {
                thread_bar.set_position(progress.read());
                std::thread::sleep(Duration::from_millis(100));
            }
            thread_bar.finish_and_clear();
        });
        Some(Tracker {
            stop,
            handle: Some(handle),
        })
    }
}

/// Stops its progress bar when dropped.
pub struct Tracker {
    stop: std::sync::Arc<std::sync::atomic::AtomicBool>,
    handle: Option<std::thread::JoinHandle<()>>,
}

impl Drop for Tracker {
    fn drop(&mut self) {
        self.stop.store(true, std::sync::atomic::Ordering::Relaxed);
        if let Some(h) = self.handle.take() {
            let _ = h.join();
        }
    }
}

/// Appends a formatted line to a `String` (human output is built whole, then emitted once).
macro_rules! outln {
    ($out:expr, $($arg:tt)*) => {{
        use std::fmt::Write as _;
        let _ = writeln!($out, $($arg)*);
    }};
}
pub(crate) use outln;

/// Writes command output to stdout. A closed pipe (`| head`) is not an error worth a message.
pub fn emit(text: &str) {
    let mut stdout = std::io::stdout().lock();
    let _ = stdout
        .write_all(text.as_bytes())
        .and_then(|_| stdout.flush());
}

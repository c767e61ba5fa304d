//! The `check` rules: is this dump ready for the upgrade platform?
//!
//! Like ruff's lint rules, each rule is a small self-contained unit in its own file under
//! `rules/`, with a stable kebab-case code, a severity, a one-line summary, and a doc saying what
//! it checks, why it matters for the upgrade and how to fix it ([`rules`] lists them for
//! `odoo-dump check --list`). [`run_checks`] runs every rule on a [`CheckInput`] and returns
//! the [`Finding`]s; a dump is ready when none has [`Severity::Error`] ([`ready`]).
//!
//! ```
//! use odump_odoo::check::{run_checks, ready, CheckInput, ReadFailure};
//! let failure = ReadFailure::Truncated { offset: 1234 };
//! let findings = run_checks(&CheckInput {
//!     summary: None,
//!     failure: Some(&failure),
//!     odoo: None,
//!     target: None,
//!     zip: None,
//! });
//! assert_eq!(findings[0].code, "truncated");
//! assert!(!ready(&findings));
//! ```

use std::sync::OnceLock;

use odump_io::ZipInventory;
use odump_pgdump::DumpSummary;
use serde::Serialize;

use crate::facts::OdooFacts;

mod rules;

/// How much a finding matters.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Something worth knowing; no action needed.
    Info,
    /// Likely trouble, or work to plan: the dump can still be uploaded.
    Warning,
    /// The dump is not ready: fix this first.
    Error,
}

impl std::fmt::Display for Severity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Severity::Info => "info",
            Severity::Warning => "warning",
            Severity::Error => "error",
        })
    }
}

/// A rule's description, for `check --list`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct RuleInfo {
    /// Stable kebab-case code.
    pub code: &'static str,
    /// The severity of its findings.
    pub severity: Severity,
    /// One line: what it reports.
    pub summary: &'static str,
    /// What it checks, why it matters for the upgrade, how to fix it (Markdown-like text).
    pub doc: &'static str,
}

/// One thing a rule found.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Finding {
    /// The rule's code.
    pub code: &'static str,
    /// The rule's severity.
    pub severity: Severity,
    /// One sentence: what was found and what to do.
    pub message: String,
}

/// Why a dump could not be read to its end ([`ReadFailure::from_error`] maps an
/// `odump_pgdump` error).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ReadFailure {
    /// The compressed stream, or the custom archive (or directory `toc.dat`), ends before its
    /// end: the file was cut short.
    Truncated {
        /// Byte offset in the file where it stopped (compressed, for a compressed stream).
        offset: u64,
    },
    /// The compressed data is damaged (bad deflate data, CRC or size mismatch).
    Corrupt {
        /// Compressed byte offset of the damage.
        offset: u64,
        /// What was wrong.
        detail: String,
    },
    /// Any other read error (unknown format, invalid archive, I/O error), as a sentence.
    Other(String),
}

impl ReadFailure {
    /// The failure a read error stands for: truncated and corrupt compression keep their
    /// offsets, anything else becomes its sentence.
    pub fn from_error(error: &odump_pgdump::Error) -> Self {
        match error {
            odump_pgdump::Error::Input(odump_io::Error::Truncated { offset, .. })
            | odump_pgdump::Error::Truncated { offset, .. } => {
                ReadFailure::Truncated { offset: *offset }
            }
            odump_pgdump::Error::Input(odump_io::Error::Corrupt { offset, detail, .. }) => {
                ReadFailure::Corrupt {
                    offset: *offset,
                    detail: detail.clone(),
                }
            }
            other => ReadFailure::Other(other.to_string()),
        }
    }
}

/// What the rules look at.
#[derive(Clone, Copy, Debug, Default)]
pub struct CheckInput<'a> {
    /// The reader's summary, when the read finished (it does not when it failed).
    pub summary: Option<&'a DumpSummary>,
    /// Why the read failed, if it did.
    pub failure: Option<&'a ReadFailure>,
    /// The Odoo facts, `None` when the dump is not an Odoo database (or could not be read).
    pub odoo: Option<&'a OdooFacts>,
    /// The `--target` series as given.
    pub target: Option<&'a str>,
    /// What a backup zip holds, for zip inputs.
    pub zip: Option<&'a ZipInventory>,
}

/// One rule: its description and its check.
trait Rule: Sync {
    /// The rule's code, severity, summary and doc.
    fn info(&self) -> &'static RuleInfo;
    /// The finding's message when the rule fires.
    fn check(&self, input: &CheckInput<'_>) -> Option<String>;
}

/// Every rule, in the order findings are reported.
pub fn rules() -> &'static [RuleInfo] {
    static INFOS: OnceLock<Vec<RuleInfo>> = OnceLock::new();
    INFOS.get_or_init(|| rules::ALL.iter().map(|r| *r.info()).collect())
}

/// Runs every rule.
pub fn run_checks(input: &CheckInput<'_>) -> Vec<Finding> {
    rules::ALL
        .iter()
        .filter_map(|rule| {
            let info = rule.info();
            rule.check(input).map(|message| Finding {
                code: info.code,
                severity: info.severity,
                message,
            })
        })
        .collect()
}

/// Ready for the upgrade: no error-level finding.
pub fn ready(findings: &[Finding]) -> bool {
    findings.iter().all(|f| f.severity != Severity::Error)
}

/// `1.5 MB`-style sizes for messages.
fn human_bytes(bytes: u64) -> String {
    const UNITS: [&str; 5] = ["bytes", "kB", "MB", "GB", "TB"];
    let mut value = bytes as f64;
    let mut unit = 0;
    while value >= 1000.0 && unit + 1 < UNITS.len() {
        value /= 1000.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{bytes} bytes")
    } else {
        format!("{value:.1} {}", UNITS[unit])
    }
}

/// Joins at most `max` items with `, `, saying how many more there are.
fn list<T: AsRef<str>>(items: &[T], max: usize) -> String {
    let mut out = items
        .iter()
        .take(max)
        .map(AsRef::as_ref)
        .collect::<Vec<_>>()
        .join(", ");
    if items.len() > max {
        out.push_str(&format!(" and {} more", items.len() - max));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_unique_kebab_case_and_documented() {
        let infos = rules();
        let mut codes: Vec<&str> = infos.iter().map(|r| r.code).collect();
        codes.sort();
        codes.dedup();
        assert_eq!(codes.len(), infos.len(), "duplicate codes");
        for info in infos {
            assert!(
                info.code
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b == b'-'),
                "{}",
                info.code
            );
            for section in [
                "## What it checks",
                "## Why it matters for the upgrade",
                "## How to fix",
            ] {
                assert!(info.doc.contains(section), "{}: {section}", info.code);
            }
            assert!(!info.summary.contains('\n'), "{}", info.code);
        }
        for wanted in [
            "truncated",
            "corrupt-compression",
            "incomplete-dump",
            "not-odoo",
            "neutralized",
            "filestore-included",
            "schema-only",
            "data-only",
            "unclean-modules",
            "target-not-newer",
            "unknown-target",
            "upgrade-path",
            "missing-contract",
            "custom-modules",
            "manifest-mismatch",
            "suspicious-neutralization",
            "version-estimated",
        ] {
            assert!(codes.contains(&wanted), "{wanted}");
        }
    }

    #[test]
    fn failures_from_errors() {
        let truncated = odump_pgdump::Error::Input(odump_io::Error::Truncated {
            path: "x.gz".into(),
            container: "gzip".into(),
            offset: 10,
            decompressed: 20,
        });
        assert_eq!(
            ReadFailure::from_error(&truncated),
            ReadFailure::Truncated { offset: 10 }
        );
        let cut_archive = odump_pgdump::Error::Truncated {
            path: "x.dump".into(),
            offset: 77,
            what: "in the middle of TOC entry 3 of 9".into(),
        };
        assert_eq!(
            ReadFailure::from_error(&cut_archive),
            ReadFailure::Truncated { offset: 77 }
        );
        let corrupt = odump_pgdump::Error::Input(odump_io::Error::Corrupt {
            path: "x.gz".into(),
            container: "gzip".into(),
            offset: 3,
            detail: "CRC mismatch".into(),
        });
        assert_eq!(
            ReadFailure::from_error(&corrupt),
            ReadFailure::Corrupt {
                offset: 3,
                detail: "CRC mismatch".into()
            }
        );
        let other = odump_pgdump::Error::Unsupported {
            path: "x.dump".into(),
            detail: "lz4".into(),
        };
        assert_eq!(
            ReadFailure::from_error(&other),
            ReadFailure::Other("x.dump: lz4".into())
        );
    }

    #[test]
    fn helpers() {
        assert_eq!(human_bytes(999), "999 bytes");
        assert_eq!(human_bytes(2_100_000), "2.1 MB");
        assert_eq!(list(&["a", "b", "c"], 2), "a, b and 1 more");
        assert_eq!(list(&["a"], 2), "a");
        assert!(ready(&[]));
        assert_eq!(Severity::Warning.to_string(), "warning");
        assert!(Severity::Error > Severity::Warning);
    }
}

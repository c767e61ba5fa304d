//! One file per rule. Each declares its rule with [`rule!`] (code, severity, summary, doc) and a
//! `check` function returning the finding's message when the rule fires.

use super::{CheckInput, Rule};

/// Declares a rule: a unit struct documented by `doc`, its [`super::RuleInfo`], and its [`Rule`] impl
/// calling the `check` function of the file.
macro_rules! rule {
    (
        $name:ident {
            code: $code:literal,
            severity: $severity:ident,
            summary: $summary:literal,
            doc: $doc:literal $(,)?
        }
    ) => {
        #[doc = $doc]
        pub(crate) struct $name;

        impl $name {
            const INFO: $crate::check::RuleInfo = $crate::check::RuleInfo {
                code: $code,
                severity: $crate::check::Severity::$severity,
                summary: $summary,
                doc: $doc,
            };
        }

        impl $crate::check::Rule for $name {
            fn info(&self) -> &'static $crate::check::RuleInfo {
                &Self::INFO
            }
            fn check(&self, input: &$crate::check::CheckInput<'_>) -> Option<String> {
                check(input)
            }
        }
    };
}

mod corrupt_compression;
mod custom_modules;
mod data_only;
mod filestore_included;
mod incomplete_dump;
mod manifest_mismatch;
mod missing_contract;
mod neutralized;
mod not_odoo;
mod schema_only;
mod suspicious_neutralization;
mod target_not_newer;
mod truncated;
mod unclean_modules;
mod unknown_target;
mod unreadable;
mod unsafe_zip_entries;
mod upgrade_path;
mod version_estimated;

/// Every rule, in report order: reading problems first, then the dump's shape, the database's
/// state, and the upgrade target.
pub(super) const ALL: &[&dyn Rule] = &[
    &truncated::Truncated,
    &corrupt_compression::CorruptCompression,
    &unreadable::Unreadable,
    &incomplete_dump::IncompleteDump,
    &unsafe_zip_entries::UnsafeZipEntries,
    &not_odoo::NotOdoo,
    &schema_only::SchemaOnly,
    &data_only::DataOnly,
    &neutralized::Neutralized,
    &suspicious_neutralization::SuspiciousNeutralization,
    &unclean_modules::UncleanModules,
    &version_estimated::VersionEstimated,
    &manifest_mismatch::ManifestMismatch,
    &filestore_included::FilestoreIncluded,
    &missing_contract::MissingContract,
    &custom_modules::CustomModules,
    &unknown_target::UnknownTarget,
    &target_not_newer::TargetNotNewer,
    &upgrade_path::UpgradePath,
];

/// The `TABLE` and `TABLE DATA` objects of a read that went to the end: (tables, data blocks).
fn table_counts(input: &CheckInput<'_>) -> Option<(u64, u64)> {
    if input.failure.is_some() {
        return None;
    }
    let summary = input.summary.filter(|s| !s.stopped_early)?;
    let count = |kind: &str| summary.object_counts.get(kind).copied().unwrap_or(0);
    let data =
        count("TABLE DATA").max(summary.tables.iter().filter(|t| t.rows.is_some()).count() as u64);
    Some((count("TABLE"), data))
}

/// Fixtures for the rules' tests.
#[cfg(test)]
pub(crate) mod fixtures {
    use odump_pgdump::{DumpFormat, DumpSummary};

    use crate::check::{run_checks, CheckInput, Finding};
    use crate::facts::*;
    use crate::version::Series;

    /// A complete plain dump with 10 tables and their data.
    pub fn summary() -> DumpSummary {
        let mut s = DumpSummary::new(DumpFormat::Plain);
        s.trailer_seen = true;
        s.object_counts.insert("TABLE".into(), 10);
        s.object_counts.insert("TABLE DATA".into(), 10);
        s
    }

    /// An exact 17.0 community database without custom modules.
    pub fn facts() -> OdooFacts {
        OdooFacts {
            series: Some(Series::Major(17)),
            base_version: Some("17.0.1.3".into()),
            source: VersionSource::IrModuleModule,
            confidence: Confidence::Certain,
            estimate: None,
            manifest_series: None,
            manifest_mismatch: false,
            manifest: None,
            edition: Some(Edition::Community),
            enterprise_modules: vec![],
            neutralized: false,
            neutralization_signals: vec![],
            database_uuid: Some("0968af28-aaad-11f0-9065-f38975a3ffd6".into()),
            enterprise_code_present: false,
            enterprise_code_masked: None,
            enterprise_code: Default::default(),
            web_base_url: None,
            module_count: 1,
            installed_modules: vec![InstalledModule {
                name: "base".into(),
                version: Some("17.0.1.3".into()),
            }],
            unclean_modules: vec![],
            custom_modules: vec![],
            filestore: FilestoreFacts {
                included: false,
                files: 0,
                bytes: 0,
                referenced_attachments: None,
                attachment_location: None,
            },
        }
    }

    /// The findings of one rule for a dump made of `summary` and `facts`, with `target`.
    pub fn findings_of(
        code: &str,
        summary: &DumpSummary,
        facts: Option<&OdooFacts>,
        target: Option<&str>,
    ) -> Vec<Finding> {
        let input = CheckInput {
            summary: Some(summary),
            failure: None,
            odoo: facts,
            target,
            zip: None,
        };
        run_checks(&input)
            .into_iter()
            .filter(|f| f.code == code)
            .collect()
    }

    /// The single finding of rule `code` on the facts (a complete dump), if any.
    pub fn finding(code: &str, facts: &OdooFacts) -> Option<Finding> {
        let mut found = findings_of(code, &summary(), Some(facts), None);
        assert!(found.len() <= 1);
        found.pop()
    }

    #[test]
    fn a_clean_dump_has_no_finding() {
        let summary = summary();
        let facts = facts();
        let input = CheckInput {
            summary: Some(&summary),
            failure: None,
            odoo: Some(&facts),
            target: None,
            zip: None,
        };
        assert_eq!(run_checks(&input), []);
    }
}

//! The shared corpus of real Odoo dumps, read end to end: `odump_io::open` → `read_dump` →
//! `OdooCollector::finish` → `run_checks`.

use std::path::PathBuf;

use odump_odoo::check::{ready, run_checks, CheckInput, Finding, Severity};
use odump_odoo::{Confidence, Edition, OdooCollector, OdooFacts, Series, VersionSource};
use odump_pgdump::DumpSummary;

/// The corpus file's path; `None` (the test skips) when the corpus is absent, except under
/// `CI=true` where that fails.
fn corpus(name: &str) -> Option<String> {
    let dir = PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../../shared/corpus/"
    ));
    let path = dir.join(name);
    if path.is_file() {
        return Some(path.to_string_lossy().into_owned());
    }
    if std::env::var("CI").as_deref() == Ok("true") {
        panic!("corpus file {} is missing", path.display());
    }
    eprintln!("SKIPPED: corpus file {} is missing", path.display());
    None
}

fn read(path: &str, collector: OdooCollector) -> (DumpSummary, Option<OdooFacts>) {
    let input = odump_io::open(path).unwrap();
    let zip = input.zip.clone();
    let mut collector = collector;
    let summary = odump_pgdump::read_dump(input, &mut collector).unwrap();
    let inventory = zip.map(|z| z.lock().unwrap().clone());
    let facts = collector.finish(inventory.as_ref(), &summary);
    (summary, facts)
}

fn findings(
    summary: &DumpSummary,
    facts: Option<&OdooFacts>,
    target: Option<&str>,
) -> Vec<Finding> {
    run_checks(&CheckInput {
        summary: Some(summary),
        failure: None,
        odoo: facts,
        target,
        zip: None,
    })
}

fn codes(findings: &[Finding]) -> Vec<&'static str> {
    findings.iter().map(|f| f.code).collect()
}

fn s(text: &str) -> Series {
    text.parse().unwrap()
}

#[test]
fn odoo17_enterprise_backup() {
    let Some(path) = corpus("odoo17-enterprise-backup.zip") else {
        return;
    };
    let (summary, facts) = read(&path, OdooCollector::new());
    let f = facts.expect("an Odoo database");
    assert_eq!(f.series, Some(s("17.0")));
    assert_eq!(f.base_version.as_deref(), Some("17.0.1.3"));
    assert_eq!(
        (f.source, f.confidence),
        (VersionSource::IrModuleModule, Confidence::Certain)
    );
    assert_eq!(
        (f.manifest_series, f.manifest_mismatch),
        (Some(s("17.0")), false)
    );
    assert_eq!(
        f.manifest.as_ref().unwrap().pg_version.as_deref(),
        Some("14.0")
    );
    assert_eq!(f.edition, Some(Edition::Enterprise));
    let mut enterprise = f.enterprise_modules.clone();
    enterprise.sort();
    assert_eq!(enterprise, ["web_gantt", "web_map"]);
    assert_eq!(f.installed_modules.len(), 13);
    assert!(!f.neutralized);
    assert!(
        f.neutralization_signals.is_empty(),
        "{:?}",
        f.neutralization_signals
    );
    assert_eq!(
        f.database_uuid.as_deref(),
        Some("0968af28-aaad-11f0-9065-f38975a3ffd6")
    );
    assert!(!f.enterprise_code_present);
    assert!(f.unclean_modules.is_empty());
    assert!(f.custom_modules.is_empty(), "{:?}", f.custom_modules);
    assert!(f.filestore.included);
    assert_eq!(f.filestore.files, 12);
    assert_eq!(f.filestore.referenced_attachments.unwrap().count, 14);
    assert_eq!(f.filestore.attachment_location, None);

    let found = findings(&summary, Some(&f), Some("18.0"));
    assert_eq!(
        codes(&found),
        ["filestore-included", "missing-contract", "upgrade-path"],
        "{found:#?}"
    );
    assert!(ready(&found));
    assert_eq!(found[2].message, "upgrade path 17.0 → 18.0 (1 step)");
    let found = findings(&summary, Some(&f), Some("17.0"));
    assert!(found
        .iter()
        .any(|x| x.code == "target-not-newer" && x.severity == Severity::Error));
    assert!(!ready(&found));

    let json = serde_json::to_value(&f).unwrap();
    assert_eq!(json["series"], "17.0");
    assert_eq!(json["source"], "ir_module_module");
    assert_eq!(json["confidence"], "certain");
    assert_eq!(json["edition"], "enterprise");
}

#[test]
fn odoo17_version_only_stops_at_base() {
    let Some(path) = corpus("odoo17-enterprise-backup.zip") else {
        return;
    };
    let (summary, facts) = read(&path, OdooCollector::version_only());
    assert!(summary.stopped_early);
    let f = facts.unwrap();
    assert_eq!(
        (f.series, f.base_version.as_deref()),
        (Some(s("17.0")), Some("17.0.1.3"))
    );
}

#[test]
fn odoo12_data_only() {
    let Some(path) = corpus("odoo12-data-only.sql") else {
        return;
    };
    let (summary, facts) = read(&path, OdooCollector::new());
    let f = facts.expect("an Odoo database");
    assert_eq!(f.series, Some(s("12.0")));
    assert_eq!(f.base_version.as_deref(), Some("12.0.1.3"));
    assert_eq!(f.confidence, Confidence::Certain);
    let found = findings(&summary, Some(&f), None);
    assert!(codes(&found).contains(&"data-only"), "{found:#?}");
    assert!(!ready(&found));
    let found = findings(&summary, Some(&f), Some("14.0"));
    let path = found.iter().find(|x| x.code == "upgrade-path").unwrap();
    assert!(
        path.message.contains("saas~12.3 is a required stop"),
        "{path:?}"
    );
}

#[test]
fn odoo12_schema_only_gives_an_estimate_with_12() {
    let Some(path) = corpus("odoo12-schema-only.sql") else {
        return;
    };
    let (summary, facts) = read(&path, OdooCollector::new());
    let f = facts.expect("an Odoo database");
    assert_eq!(
        (f.series, f.source, f.confidence),
        (None, VersionSource::Schema, Confidence::Estimate)
    );
    let e = f.estimate.as_ref().unwrap();
    assert!(e.contains(s("12.0")), "{e:?}");
    assert!(!e.contains(s("13.0")), "{e:?}");
    let found = findings(&summary, Some(&f), None);
    assert_eq!(
        codes(&found),
        ["schema-only", "version-estimated"],
        "{found:#?}"
    );
}

#[test]
fn odoo16_schemas_give_an_estimate_with_16() {
    for name in ["odoo16-schema-a.sql", "odoo16-schema-b.sql"] {
        let Some(path) = corpus(name) else { return };
        let (_, facts) = read(&path, OdooCollector::new());
        let f = facts.expect("an Odoo database");
        let e = f.estimate.as_ref().unwrap();
        assert!(e.contains(s("16.0")), "{name}: {e:?}");
        assert!(
            !e.contains(s("15.0")) && !e.contains(s("17.0")),
            "{name}: {e:?}"
        );
    }
}

#[test]
fn a_database_that_is_not_odoo() {
    let Some(path) = corpus("tiny-synthetic-before.sql") else {
        return;
    };
    let (summary, facts) = read(&path, OdooCollector::new());
    assert!(facts.is_none());
    let found = findings(&summary, None, None);
    assert_eq!(codes(&found), ["not-odoo"], "{found:#?}");
}

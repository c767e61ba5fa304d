//! `version` and `check` on real dumps of Odoo-shaped databases: several series, exact and
//! neutralized copies, with and without filestore, in every container format.

mod common;

use common::{json, run};
use odump_testpg::fixtures::{self, Edition, OdooModule, OdooOptions};
use odump_testpg::{unique_db_name, DumpKind, DumpOptions};
use serde_json::Value;

fn codes(report: &Value) -> Vec<String> {
    report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["code"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn every_series_copy_and_container() {
    let Some(pg) = odump_testpg::require() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    for series in ["12.0", "15.0", "16.0", "saas~17.2", "17.0", "18.0"] {
        for neutralized in [false, true] {
            let db = unique_db_name("odoo");
            let options = OdooOptions {
                neutralized,
                with_attachments: 2,
                ..Default::default()
            };
            pg.create_db(&db, &fixtures::odoo(series, options));
            for kind in DumpKind::ALL {
                let out = dir.path().join(format!("{db}-{}", kind.slug()));
                std::fs::create_dir(&out).unwrap();
                let path = pg.dump(&db, kind, &out);
                let what = format!("{series} neutralized={neutralized} {kind:?}");

                let v = run(["version".as_ref(), path.as_os_str()]);
                assert_eq!(
                    v.status.code(),
                    Some(0),
                    "{what}: {}",
                    String::from_utf8_lossy(&v.stderr)
                );
                assert_eq!(String::from_utf8_lossy(&v.stdout).trim(), series, "{what}");

                let (code, report, stderr) = json(["check".as_ref(), path.as_os_str()]);
                let found = codes(&report);
                assert_eq!(
                    report["odoo"]["neutralized"], neutralized,
                    "{what}: {stderr}"
                );
                if neutralized {
                    assert_eq!(code, 1, "{what}: {found:?}");
                    assert!(
                        found.contains(&"neutralized".to_string()),
                        "{what}: {found:?}"
                    );
                } else {
                    assert_eq!(code, 0, "{what}: {found:?}");
                    assert!(
                        !found.iter().any(|c| c.contains("neutraliz")),
                        "{what}: {found:?}"
                    );
                }
                assert!(!found.contains(&"filestore-included".to_string()), "{what}");
                assert_eq!(
                    report["odoo"]["filestore"]["referenced_attachments"]["count"], 2,
                    "{what}"
                );
            }
            pg.drop_db(&db);
        }
    }
}

#[test]
fn filestore_edition_contract_and_upgrade_path() {
    let Some(pg) = odump_testpg::require() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let db = unique_db_name("odoo_ee");
    pg.create_db(
        &db,
        &fixtures::odoo(
            "12.0",
            OdooOptions {
                edition: Edition::Enterprise,
                with_attachments: 3,
                custom_modules: vec![OdooModule::custom("x_acme_reports")],
                unclean_module: Some("to upgrade".into()),
                ..Default::default()
            },
        ),
    );
    let zip = pg.dump_with(
        &db,
        DumpKind::OdooZip,
        &DumpOptions::new().filestore(fixtures::attachment_files(3)),
        dir.path(),
    );
    let (code, report, stderr) = json([
        "check".as_ref(),
        zip.as_os_str(),
        "--target".as_ref(),
        "13.0".as_ref(),
    ]);
    let found = codes(&report);
    for expected in [
        "filestore-included",
        "missing-contract",
        "custom-modules",
        "unclean-modules",
        "upgrade-path",
    ] {
        assert!(
            found.contains(&expected.to_string()),
            "{expected} not in {found:?} ({stderr})"
        );
    }
    assert_eq!(code, 0, "warnings only: {found:?}");
    assert_eq!(report["odoo"]["edition"], "enterprise");
    assert_eq!(report["odoo"]["filestore"]["files"], 3);
    let path = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["code"] == "upgrade-path")
        .unwrap();
    assert!(
        path["message"].as_str().unwrap().contains("saas~12.3"),
        "{path}"
    );

    let (code, report, _) = json([
        "check".as_ref(),
        zip.as_os_str(),
        "--target".as_ref(),
        "11.0".as_ref(),
    ]);
    assert_eq!(code, 1);
    assert!(codes(&report).contains(&"target-not-newer".to_string()));

    // `version --fast` answers from the manifest; `inspect` shows the same Odoo section.
    let fast = run(["version".as_ref(), zip.as_os_str(), "--fast".as_ref()]);
    assert_eq!(String::from_utf8_lossy(&fast.stdout).trim(), "12.0");
    let (_, inspect, _) = json(["inspect".as_ref(), zip.as_os_str()]);
    assert_eq!(inspect["odoo"]["series"], "12.0");
    assert_eq!(inspect["filestore"]["included"], true);
    pg.drop_db(&db);
}

#[test]
fn inserts_dumps_and_upgrade_platform_copies() {
    let Some(pg) = odump_testpg::require() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let db = unique_db_name("odoo_ins");
    pg.create_db(
        &db,
        &fixtures::odoo(
            "16.0",
            OdooOptions {
                upg_neuter_uuid: true,
                ..Default::default()
            },
        ),
    );
    for options in [
        DumpOptions::new().inserts(),
        DumpOptions::new().column_inserts(),
    ] {
        let path = pg.dump_with(&db, DumpKind::Plain, &options, dir.path());
        let (code, report, stderr) = json(["version".as_ref(), path.as_os_str()]);
        assert_eq!(code, 0, "{stderr}");
        assert_eq!(report["series"], "16.0");
        assert_eq!(report["source"], "ir_module_module");
        assert_eq!(report["confidence"], "certain");
        let (code, report, _) = json(["check".as_ref(), path.as_os_str()]);
        assert_eq!(code, 1);
        assert!(
            codes(&report).contains(&"neutralized".to_string()),
            "upg-neuter uuid"
        );
    }
    pg.drop_db(&db);
}

#[test]
fn schema_only_is_an_estimate_and_exit_1() {
    let Some(pg) = odump_testpg::require() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let db = unique_db_name("odoo_schema");
    pg.create_db(&db, &fixtures::odoo("17.0", Default::default()));
    let path = pg.dump_with(
        &db,
        DumpKind::Plain,
        &DumpOptions::new().schema_only(),
        dir.path(),
    );
    let (code, report, stderr) = json(["version".as_ref(), path.as_os_str()]);
    assert_eq!(code, 1, "{stderr}");
    assert_eq!(report["confidence"], "estimate");
    assert!(report["series"].is_null());
    assert!(stderr.contains("estimate"), "{stderr}");
    pg.drop_db(&db);
}

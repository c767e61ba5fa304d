//! `odoo-dump diff` end to end: the shared corpus pair, and real dumps of a database before and
//! after known changes, in plain and custom formats.

mod common;

use std::collections::BTreeSet;

use common::{corpus, json, run};
use odump_testpg::{fixtures, unique_db_name, DumpKind};
use serde_json::Value;

fn triples(report: &Value) -> BTreeSet<(String, String, String)> {
    report["changes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["kind"].as_str().unwrap().to_string(),
                c["object"].as_str().unwrap().to_string(),
                c["action"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

#[test]
fn odoo16_corpus_pair_reports_exactly_the_eleven_columns() {
    let (Some(a), Some(b)) = (corpus("odoo16-schema-a.sql"), corpus("odoo16-schema-b.sql")) else {
        return;
    };
    let (code, report, stderr) = json(["diff".as_ref(), a.as_os_str(), b.as_os_str()]);
    assert_eq!(code, 1, "{stderr}");
    let columns = [
        "payment_provider.stripe_publishable_key",
        "payment_provider.stripe_secret_key",
        "payment_provider.stripe_webhook_secret",
        "payment_provider.paypal_email_account",
        "payment_provider.paypal_seller_account",
        "payment_provider.paypal_pdt_token",
        "payment_provider.paypal_use_ipn",
        "payment_token.stripe_payment_method",
        "payment_transaction.stripe_payment_intent",
        "payment_transaction.paypal_type",
        "res_config_settings.paypal_email_account",
    ];
    let mut expected = BTreeSet::new();
    for c in columns {
        for kind in ["column", "comment"] {
            expected.insert((
                kind.to_string(),
                format!("public.{c}"),
                "removed".to_string(),
            ));
        }
    }
    assert_eq!(triples(&report), expected);
    let hazards = report["changes"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["hazard"] == "data-loss")
        .count();
    assert_eq!(hazards, 11);
    assert_eq!(report["summary"]["changes"], 22);

    let (code, report, _) = json(["diff".as_ref(), a.as_os_str(), a.as_os_str()]);
    assert_eq!((code, report["changes"].as_array().unwrap().len()), (0, 0));

    let out = run([
        "diff".as_ref(),
        a.as_os_str(),
        b.as_os_str(),
        "--markdown".as_ref(),
    ]);
    let md = String::from_utf8_lossy(&out.stdout);
    assert!(md.starts_with("# Dump comparison"));
    assert!(md.contains("| data-loss | column | `public.payment_token.stripe_payment_method`"));
}

#[test]
fn old_style_tiny_pair_has_no_schema_difference() {
    let (Some(a), Some(b)) = (
        corpus("tiny-synthetic-before.sql"),
        corpus("tiny-synthetic-after.sql"),
    ) else {
        return;
    };
    let (code, report, _) = json([
        "diff".as_ref(),
        a.as_os_str(),
        b.as_os_str(),
        "--schema-only".as_ref(),
    ]);
    assert_eq!(code, 0, "{report}");
}

#[test]
fn real_dumps_before_and_after_changes() {
    let Some(pg) = odump_testpg::require() else {
        return;
    };
    let db = unique_db_name("diff");
    pg.create_db(&db, &fixtures::odoo("17.0", Default::default()));
    let dir = tempfile::tempdir().unwrap();
    let before_plain = pg.dump(&db, DumpKind::Plain, dir.path());
    let before_custom = pg.dump(&db, DumpKind::Custom, dir.path());

    // A re-dump of the same database in another format: no difference at all.
    let (code, report, stderr) = json([
        "diff".as_ref(),
        before_plain.as_os_str(),
        before_custom.as_os_str(),
    ]);
    assert_eq!(code, 0, "{stderr} {report}");

    pg.exec(
        &db,
        "ALTER TABLE res_partner ADD COLUMN x_note text;
         ALTER TABLE res_partner DROP COLUMN email;
         DELETE FROM ir_attachment WHERE id IN (SELECT id FROM ir_attachment ORDER BY id LIMIT 1);
         CREATE INDEX res_partner_name_idx ON res_partner (name);
         UPDATE ir_module_module SET latest_version = '17.0.1.9' WHERE name = 'sale';",
    );
    let after = dir.path().join("after");
    std::fs::create_dir(&after).unwrap();
    let after_custom = pg.dump(&db, DumpKind::Custom, &after);
    for before in [&before_plain, &before_custom] {
        let (code, report, stderr) = json([
            "diff".as_ref(),
            before.as_os_str(),
            after_custom.as_os_str(),
        ]);
        assert_eq!(code, 1, "{stderr}");
        let got = triples(&report);
        let want: BTreeSet<(String, String, String)> = [
            ("column", "public.res_partner.x_note", "added"),
            ("column", "public.res_partner.email", "removed"),
            ("index", "public.res_partner_name_idx", "added"),
            ("module", "sale", "changed"),
        ]
        .iter()
        .map(|(k, o, a)| (k.to_string(), o.to_string(), a.to_string()))
        .collect();
        for w in &want {
            assert!(got.contains(w), "missing {w:?} in {got:?}");
        }
        let rows: Vec<_> = got.iter().filter(|(k, _, _)| k == "rows").collect();
        assert!(
            rows.iter().any(|(_, o, _)| o == "public.ir_attachment"),
            "{got:?}"
        );
        let email = report["changes"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["object"] == "public.res_partner.email")
            .unwrap();
        assert_eq!(email["hazard"], "data-loss");
    }
    pg.drop_db(&db);
}

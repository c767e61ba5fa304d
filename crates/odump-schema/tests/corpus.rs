//! The schema model and diff over the shared corpus of real pg_dump output.

use std::path::{Path, PathBuf};
use std::time::Instant;

use odump_schema::{diff, Action, DiffOptions, Schema, SchemaBuilder};

/// The corpus file, or `None` (after saying so) when the corpus is absent outside CI.
fn corpus(name: &str) -> Option<PathBuf> {
    let dir = PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../../shared/corpus"
    ));
    let path = dir.join(name);
    if path.is_file() {
        return Some(path);
    }
    if std::env::var("CI").is_ok_and(|v| v == "true") {
        panic!("corpus file {} is missing", path.display());
    }
    println!("SKIPPED: corpus file {} is missing", path.display());
    None
}

fn load(path: &Path) -> Schema {
    let input = odump_io::open(path.to_str().expect("utf-8 path")).expect("open");
    let mut b = SchemaBuilder::new();
    odump_pgdump::read_dump(input, &mut b).expect("read");
    b.finish()
}

#[test]
fn odoo16_a_vs_b_reports_exactly_the_dropped_payment_columns() {
    let (Some(a), Some(b)) = (corpus("odoo16-schema-a.sql"), corpus("odoo16-schema-b.sql")) else {
        return;
    };
    let start = Instant::now();
    let a = load(&a);
    println!("odoo16-schema-a built in {:?}", start.elapsed());
    let b = load(&b);
    assert_eq!(a.tables.len(), 776);
    assert_eq!(a.opaque_count(), 0, "{:?}", a.opaque_kinds());

    let changes = diff(&a, &b, &DiffOptions::default());
    let expected = [
        ("payment_provider", "paypal_email_account"),
        ("payment_provider", "paypal_pdt_token"),
        ("payment_provider", "paypal_seller_account"),
        ("payment_provider", "paypal_use_ipn"),
        ("payment_provider", "stripe_publishable_key"),
        ("payment_provider", "stripe_secret_key"),
        ("payment_provider", "stripe_webhook_secret"),
        ("payment_token", "stripe_payment_method"),
        ("payment_transaction", "paypal_type"),
        ("payment_transaction", "stripe_payment_intent"),
        ("res_config_settings", "paypal_email_account"),
    ];
    let mut want = Vec::new();
    for (t, c) in expected {
        let object = format!("public.{t}.{c}");
        want.push(("column".to_string(), object.clone(), Action::Removed));
        want.push(("comment".to_string(), object, Action::Removed));
    }
    want.sort();
    let mut got: Vec<_> = changes
        .iter()
        .map(|c| (c.kind.clone(), c.object.clone(), c.action))
        .collect();
    got.sort();
    assert_eq!(got, want);
    for c in changes.iter().filter(|c| c.kind == "column") {
        assert_eq!(c.hazard.as_deref(), Some("data-loss"), "{c:?}");
        assert!(c.before.is_some() && c.after.is_none());
    }
    assert!(diff(&a, &a, &DiffOptions::default()).is_empty());
    assert!(diff(
        &b,
        &b,
        &DiffOptions {
            include_owners: true,
            include_grants: true,
            ..Default::default()
        }
    )
    .is_empty());
    // b → a: the same columns, added.
    let back = diff(&b, &a, &DiffOptions::default());
    assert_eq!(back.len(), 22);
    assert!(back
        .iter()
        .all(|c| c.action == Action::Added && c.hazard.is_none()));
}

#[test]
fn tiny_synthetic_pair_diffs_cleanly_despite_its_old_style() {
    let (Some(before), Some(after)) = (
        corpus("tiny-synthetic-before.sql"),
        corpus("tiny-synthetic-after.sql"),
    ) else {
        return;
    };
    let (before, after) = (load(&before), load(&after));
    let names: Vec<&str> = before.tables.keys().map(String::as_str).collect();
    assert_eq!(
        names,
        [
            "public.ir_model_data",
            "public.ir_model_fields",
            "public.ir_translation",
            "public.ir_ui_menu",
            "public.ir_ui_view"
        ]
    );
    assert_eq!(before.opaque_count(), 0, "{:?}", before.opaque);
    // The pair differs in data and in one owner only.
    assert!(diff(&before, &after, &DiffOptions::default()).is_empty());
    let owners = diff(
        &before,
        &after,
        &DiffOptions {
            include_owners: true,
            ..Default::default()
        },
    );
    let got: Vec<_> = owners
        .iter()
        .map(|c| {
            (
                c.kind.as_str(),
                c.object.as_str(),
                c.before.as_deref(),
                c.after.as_deref(),
            )
        })
        .collect();
    assert_eq!(
        got,
        [(
            "owner",
            "public.ir_model_fields",
            Some("postgres"),
            Some("odoo")
        )]
    );
}

#[test]
fn odoo12_schema_only_parses_with_few_opaque_objects() {
    let Some(path) = corpus("odoo12-schema-only.sql") else {
        return;
    };
    let s = load(&path);
    assert_eq!(s.tables.len(), 168);
    println!(
        "odoo12 opaque objects: {} {:?}",
        s.opaque_count(),
        s.opaque_kinds()
    );
    assert!(s.opaque_count() <= 5, "{:?}", s.opaque);
    assert!(diff(&s, &s, &DiffOptions::default()).is_empty());
}

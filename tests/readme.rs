//! The README's commands on the sample dump the project ships (`examples/odoo17-sample.sql.gz`).

mod common;

use common::{json, run};

const SAMPLE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/examples/odoo17-sample.sql.gz");

#[test]
fn sample_inspect_version_check() {
    let (code, r, stderr) = json(["inspect", SAMPLE]);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(r["odoo"]["series"], "17.0");
    assert_eq!(r["odoo"]["edition"], "enterprise");
    assert_eq!(r["complete"], true);

    let out = run(["version", SAMPLE]);
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(String::from_utf8_lossy(&out.stdout), "17.0\n");

    let (code, r, _) = json(["check", SAMPLE, "--target", "18.0"]);
    assert_eq!(code, 0);
    assert_eq!(r["ready"], true);

    let out = run(["check", "--list"]);
    assert!(String::from_utf8_lossy(&out.stdout).contains("neutralized"));

    let (code, _, _) = json(["diff", SAMPLE, SAMPLE]);
    assert_eq!(code, 0);
}

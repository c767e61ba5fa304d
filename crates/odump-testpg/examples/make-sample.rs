//! Builds the sample dump the README runs `odoo-dump` on: an Odoo 17.0 database made by the
//! fixtures, dumped by the real pg_dump as a gzip'd plain SQL file.
//!
//! `cargo run -p odump-testpg --example make-sample -- examples/odoo17-sample.sql.gz`

use odump_testpg::fixtures::{self, Edition, OdooModule, OdooOptions};
use odump_testpg::DumpKind;

fn main() {
    let out = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "examples/odoo17-sample.sql.gz".into());
    let cluster = odump_testpg::Cluster::start().expect("starting PostgreSQL");
    let sql = fixtures::odoo(
        "17.0",
        OdooOptions {
            edition: Edition::Enterprise,
            with_attachments: 3,
            custom_modules: vec![OdooModule::custom("x_acme_reports")],
            ..Default::default()
        },
    );
    cluster.create_db("odoo_sample", &sql);
    let dir = tempfile::tempdir().expect("temp dir");
    let dump = cluster.dump("odoo_sample", DumpKind::PlainGzip, dir.path());
    std::fs::copy(&dump, &out).expect("writing the sample");
    println!("wrote {out}");
}

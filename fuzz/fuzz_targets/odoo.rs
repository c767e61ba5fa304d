//! What `version` and `check` run: the Odoo collector over a dump from any container, its facts,
//! and every check rule, on hostile input.
#![no_main]

use libfuzzer_sys::fuzz_target;
use odump_odoo::{check, OdooCollector};
use odump_pgdump::{read_dump_partial, ReadOptions};

fuzz_target!(|data: &[u8]| {
    // The last byte picks the collector and the way in (stream, or file: central directory
    // of zips, seeks in custom archives).
    let last = data.last().copied().unwrap_or(1);
    let version_only = last % 2 == 0;
    let path = std::env::temp_dir().join(format!("odump-fuzz-odoo-{}", std::process::id()));
    let input = if last % 4 < 2 {
        odump_io::from_bytes("fuzz", data.to_vec())
    } else {
        std::fs::write(&path, data).unwrap();
        odump_io::open(path.to_str().unwrap())
    };
    let _ = std::fs::remove_file(&path);
    let Ok(input) = input else {
        return;
    };
    let zip = input.zip.clone();
    let mut collector = if version_only {
        OdooCollector::version_only()
    } else {
        OdooCollector::new()
    };
    let (summary, err) = read_dump_partial(input, &mut collector, ReadOptions::default());
    let zip = zip.map(|z| z.lock().unwrap().clone());
    let facts = collector.finish(zip.as_ref(), &summary);
    std::hint::black_box(format!("{facts:?}"));
    let failure = err.as_ref().map(check::ReadFailure::from_error);
    let findings = check::run_checks(&check::CheckInput {
        summary: Some(&summary),
        failure: failure.as_ref(),
        odoo: facts.as_ref(),
        target: Some("18.0"),
        zip: zip.as_ref(),
    });
    std::hint::black_box(format!("{findings:?}"));
    if let Some(e) = err {
        std::hint::black_box(e.to_string());
    }
});

//! DDL → schema model: statements split as the reader does, each with the TOC identity of the
//! last `-- Name: …` comment, into `SchemaBuilder`; then rendering and the diff. The same text
//! built twice must diff to nothing.
#![no_main]

use libfuzzer_sys::fuzz_target;
use odump_pgdump::{parse_toc_comment, StatementSplitter, TocEntry};
use odump_schema::{diff, DiffOptions, Schema, SchemaBuilder};

fn build(data: &[u8]) -> Schema {
    let mut builder = SchemaBuilder::new();
    let mut splitter = StatementSplitter::new();
    let mut toc: Option<TocEntry> = None;
    for line in data.split_inclusive(|&b| b == b'\n') {
        if splitter.is_idle() {
            if let Some(comment) = line.strip_prefix(b"-- ") {
                let comment = String::from_utf8_lossy(comment);
                if let Some(entry) = parse_toc_comment(comment.trim_end()) {
                    toc = Some(entry);
                    continue;
                }
            }
        }
        let current = toc.clone();
        splitter.push(line, &mut |stmt| {
            builder.add_statement(current.as_ref(), stmt)
        });
    }
    if !splitter.is_idle() {
        let rest = String::from_utf8_lossy(splitter.pending()).into_owned();
        builder.add_statement(toc.as_ref(), rest.trim());
    }
    builder.finish()
}

fuzz_target!(|data: &[u8]| {
    let a = build(data);
    let b = build(data);
    std::hint::black_box((a.opaque_count(), format!("{:?}", a.opaque_kinds())));
    let empty = SchemaBuilder::new().finish();
    let opts = DiffOptions {
        include_owners: true,
        include_grants: true,
        ..DiffOptions::default()
    };
    let same = diff(&a, &b, &opts);
    assert!(same.is_empty(), "the same DDL diffs to {same:?}");
    std::hint::black_box(diff(&empty, &a, &opts).len() + diff(&a, &empty, &opts).len());
});

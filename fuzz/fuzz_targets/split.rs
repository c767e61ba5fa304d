//! The plain-SQL statement splitter: `split_statements` on text, and the incremental
//! `StatementSplitter` fed in arbitrary line-ending pieces, which must agree.
#![no_main]

use libfuzzer_sys::fuzz_target;
use odump_pgdump::{split_statements, StatementSplitter};

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let whole = split_statements(&text);

    // Fed as raw bytes (invalid UTF-8 included), line by line.
    let mut s = StatementSplitter::new();
    let mut pieces = Vec::new();
    for line in data.split_inclusive(|&b| b == b'\n') {
        s.push(line, &mut |stmt| pieces.push(stmt.to_string()));
    }
    std::hint::black_box((
        s.is_idle(),
        s.in_literal(),
        s.oversized(),
        s.pending().len(),
    ));
    if std::str::from_utf8(data).is_ok() {
        // Same statements as the one-shot splitter (which adds the pending tail at the end).
        assert!(whole.len() >= pieces.len(), "{whole:?} vs {pieces:?}");
        assert_eq!(&whole[..pieces.len()], &pieces[..]);
    }
});

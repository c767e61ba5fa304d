//! `parse_copy_statement` on any text: never panics, and what it accepts names a table.
#![no_main]

use libfuzzer_sys::fuzz_target;
use odump_pgdump::parse_copy_statement;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    if let Some(header) = parse_copy_statement(&text) {
        std::hint::black_box(header.table.qualified());
        for c in &header.columns {
            assert_eq!(header.column_index(c).is_some(), true);
        }
    }
});

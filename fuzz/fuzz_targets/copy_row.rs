//! COPY text-format rows: `decode_field` on every field and `Row::get` on every index.
#![no_main]

use libfuzzer_sys::fuzz_target;
use odump_pgdump::{decode_field, Row};

fuzz_target!(|data: &[u8]| {
    let row = Row::new(data);
    let n = row.len();
    assert!(n >= 1);
    assert_eq!(row.raw_fields().count(), n);
    for (i, field) in row.raw_fields().enumerate() {
        let decoded = decode_field(field);
        if let Some(bytes) = &decoded {
            // Escapes only ever shorten a field.
            assert!(bytes.len() <= field.len());
        }
        // `get` walks the row from its start: check it on the first fields and the last.
        if i < 32 || i + 1 == n {
            let got = row.get(Some(i)).expect("index inside the row");
            assert_eq!(got.is_none(), decoded.is_none());
        }
    }
    assert!(row.get(Some(n)).is_none());
    assert!(row.get(None).is_none());
});

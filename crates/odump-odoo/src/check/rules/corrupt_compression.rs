use crate::check::{CheckInput, ReadFailure};

rule! {
    CorruptCompression {
        code: "corrupt-compression",
        severity: Error,
        summary: "The compressed data is damaged (bad deflate data, CRC or size mismatch).",
        doc: "## What it checks

Whether decompressing the dump found damaged data: invalid deflate data, or a gzip member or zip
entry whose CRC32 or size does not match what was stored.

## Why it matters for the upgrade

Damaged data means damaged SQL: the restore on the upgrade platform fails, or worse, silently
restores wrong values.

## How to fix

Copy or download the file again (a faulty transfer is the usual cause); if the source itself is
damaged, make a new dump of the database.",
    }
}

fn check(input: &CheckInput<'_>) -> Option<String> {
    match input.failure? {
        ReadFailure::Corrupt { offset, detail } => Some(format!(
            "the compressed data is damaged at byte {offset} ({detail}); copy the file again, or dump the database again"
        )),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use crate::check::{run_checks, CheckInput, ReadFailure};

    #[test]
    fn fires_on_corrupt_data() {
        let failure = ReadFailure::Corrupt {
            offset: 7,
            detail: "CRC mismatch".into(),
        };
        let input = CheckInput {
            failure: Some(&failure),
            ..CheckInput::default()
        };
        let found = run_checks(&input);
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].code, "corrupt-compression");
        assert!(found[0].message.contains("CRC mismatch"));
    }
}

use crate::check::{CheckInput, ReadFailure};

rule! {
    Truncated {
        code: "truncated",
        severity: Error,
        summary: "The file ends early: it was cut short.",
        doc: "## What it checks

Whether the compressed stream (gzip member, zip entry `dump.sql`) or the pg_dump archive (a
custom-format file, a directory's `toc.dat`) ends before its own end, so that what it holds
stops mid-way.

## Why it matters for the upgrade

A cut file holds only part of the database: the upgrade platform would restore an incomplete
database or refuse it after a long upload.

## How to fix

Download or copy the dump again, completely (check the size against the source), and run
`odoo-dump check` on the new copy.",
    }
}

fn check(input: &CheckInput<'_>) -> Option<String> {
    match input.failure? {
        ReadFailure::Truncated { offset } => Some(format!(
            "the file ends early at byte {offset}: it was cut short; download or copy it again"
        )),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use crate::check::{run_checks, CheckInput, ReadFailure, Severity};

    #[test]
    fn fires_on_a_truncated_read_only() {
        let failure = ReadFailure::Truncated { offset: 42 };
        let input = CheckInput {
            failure: Some(&failure),
            ..CheckInput::default()
        };
        let found = run_checks(&input);
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(
            (found[0].code, found[0].severity),
            ("truncated", Severity::Error)
        );
        assert!(found[0].message.contains("byte 42"));
        let other = ReadFailure::Other("x".into());
        let input = CheckInput {
            failure: Some(&other),
            ..CheckInput::default()
        };
        assert!(run_checks(&input).iter().all(|f| f.code != "truncated"));
    }
}

use crate::check::{CheckInput, ReadFailure};

rule! {
    Unreadable {
        code: "unreadable",
        severity: Error,
        summary: "The dump could not be read (unknown format, invalid archive, I/O error).",
        doc: "## What it checks

Whether reading the input failed for a reason other than truncation or corrupt compression: the
file is not a pg_dump output, the archive is invalid, or the file could not be read.

## Why it matters for the upgrade

The upgrade platform takes plain SQL (`.sql`, `.sql.gz`), pg_dump custom archives (`.dump`),
Odoo backup zips with `dump.sql`, and directory dumps; anything else is refused.

## How to fix

Follow the error's advice: use the right file, or dump the database again with `pg_dump`
(`-Fc` for a custom archive, or plain SQL).",
    }
}

fn check(input: &CheckInput<'_>) -> Option<String> {
    match input.failure? {
        ReadFailure::Other(message) => Some(format!("the dump could not be read: {message}")),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use crate::check::{run_checks, CheckInput, ReadFailure};

    #[test]
    fn fires_on_other_failures() {
        let failure = ReadFailure::Other("not a PostgreSQL dump".into());
        let input = CheckInput {
            failure: Some(&failure),
            ..CheckInput::default()
        };
        let found = run_checks(&input);
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].code, "unreadable");
        assert!(found[0].message.ends_with("not a PostgreSQL dump"));
    }
}

use super::table_counts;
use crate::check::CheckInput;

rule! {
    DataOnly {
        code: "data-only",
        severity: Error,
        summary: "The dump has table data but no CREATE TABLE (pg_dump --data-only).",
        doc: "## What it checks

Whether the dump carries table data (`TABLE DATA`) but creates no table, as `pg_dump -a` /
`--data-only` makes.

## Why it matters for the upgrade

The upgrade platform restores the dump into an empty database: without the schema there are no
tables to load the data into, and no indexes, constraints or views.

## How to fix

Dump the database again without `-a` / `--data-only`.",
    }
}

fn check(input: &CheckInput<'_>) -> Option<String> {
    let (tables, data) = table_counts(input)?;
    (data > 0 && tables == 0).then(|| {
        format!("the dump has data only ({data} tables' data, no CREATE TABLE): dump the database again without --data-only")
    })
}

#[cfg(test)]
mod tests {
    use crate::check::rules::fixtures::{facts, findings_of, summary};

    #[test]
    fn fires_without_tables() {
        let mut s = summary();
        assert!(findings_of("data-only", &s, Some(&facts()), None).is_empty());
        s.object_counts.remove("TABLE");
        assert_eq!(findings_of("data-only", &s, Some(&facts()), None).len(), 1);
    }
}

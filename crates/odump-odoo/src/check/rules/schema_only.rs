use super::table_counts;
use crate::check::CheckInput;

rule! {
    SchemaOnly {
        code: "schema-only",
        severity: Error,
        summary: "The dump has tables but no data (pg_dump --schema-only).",
        doc: "## What it checks

Whether the dump creates tables (`TABLE` objects) but carries no table data (`TABLE DATA`), as
`pg_dump -s` / `--schema-only` makes.

## Why it matters for the upgrade

The upgrade migrates the data: a schema alone gives an empty database, and even the Odoo version
can only be estimated from it.

## How to fix

Dump the database again without `-s` / `--schema-only` (Odoo's database manager and Odoo.sh
backups always include the data).",
    }
}

fn check(input: &CheckInput<'_>) -> Option<String> {
    let (tables, data) = table_counts(input)?;
    (tables > 0 && data == 0).then(|| {
        format!("the dump has the schema only ({tables} tables, no data): dump the database again without --schema-only")
    })
}

#[cfg(test)]
mod tests {
    use crate::check::rules::fixtures::{facts, findings_of, summary};

    #[test]
    fn fires_without_table_data() {
        let mut s = summary();
        assert!(findings_of("schema-only", &s, Some(&facts()), None).is_empty());
        s.object_counts.remove("TABLE DATA");
        let found = findings_of("schema-only", &s, Some(&facts()), None);
        assert!(found[0].message.contains("10 tables"), "{found:?}");
        s.stopped_early = true;
        assert!(findings_of("schema-only", &s, Some(&facts()), None).is_empty());
    }
}

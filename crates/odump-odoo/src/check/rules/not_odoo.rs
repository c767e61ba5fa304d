use crate::check::CheckInput;

rule! {
    NotOdoo {
        code: "not-odoo",
        severity: Error,
        summary: "The dump holds no Odoo database (no ir_module_module table).",
        doc: "## What it checks

Whether the dump has the `ir_module_module` table every Odoo database has.

## Why it matters for the upgrade

The upgrade platform upgrades Odoo databases only: another database (or an empty one) cannot be
upgraded.

## How to fix

Dump the right database: the one Odoo uses (see the `db_name` of the Odoo configuration or the
database manager), not the `postgres` maintenance database or another application's.",
    }
}

fn check(input: &CheckInput<'_>) -> Option<String> {
    (input.failure.is_none() && input.summary.is_some() && input.odoo.is_none()).then(|| {
        "no ir_module_module table: this is not an Odoo database; dump the database Odoo uses"
            .to_string()
    })
}

#[cfg(test)]
mod tests {
    use crate::check::rules::fixtures::{facts, findings_of, summary};

    #[test]
    fn fires_without_odoo_facts() {
        assert_eq!(findings_of("not-odoo", &summary(), None, None).len(), 1);
        assert!(findings_of("not-odoo", &summary(), Some(&facts()), None).is_empty());
    }
}

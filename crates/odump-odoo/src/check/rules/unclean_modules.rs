use crate::check::{list, CheckInput};

rule! {
    UncleanModules {
        code: "unclean-modules",
        severity: Warning,
        summary: "Modules are left in `to install`, `to upgrade` or `to remove`.",
        doc: "## What it checks

Whether `ir_module_module` has modules in the states an interrupted operation leaves behind:
`to install`, `to upgrade`, `to remove`.

## Why it matters for the upgrade

The upgrade starts from the database as it is: a pending install, upgrade or uninstall runs in
the middle of it, against the new version's code, with results nobody asked for (a module
installed or removed during the upgrade).

## How to fix

In Odoo, finish or cancel the operation (Apps: \"Cancel Install\", \"Cancel Upgrade\", \"Cancel
Uninstall\", or run the pending upgrade with `-u`), then dump the database again.",
    }
}

fn check(input: &CheckInput<'_>) -> Option<String> {
    let modules = &input.odoo?.unclean_modules;
    (!modules.is_empty()).then(|| {
        let each: Vec<String> = modules.iter().map(|m| format!("{}: {}", m.name, m.state)).collect();
        format!(
            "{} modules are in the middle of an operation ({}): finish or cancel it, then dump again",
            modules.len(),
            list(&each, 5)
        )
    })
}

#[cfg(test)]
mod tests {
    use crate::check::rules::fixtures::{facts, finding};
    use crate::facts::UncleanModule;

    #[test]
    fn fires_on_pending_states() {
        let mut f = facts();
        assert!(finding("unclean-modules", &f).is_none());
        f.unclean_modules.push(UncleanModule {
            name: "sale".into(),
            state: "to upgrade".into(),
        });
        let found = finding("unclean-modules", &f).unwrap();
        assert!(found.message.contains("sale: to upgrade"), "{found:?}");
    }
}

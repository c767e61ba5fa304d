use crate::check::{list, CheckInput};

rule! {
    CustomModules {
        code: "custom-modules",
        severity: Warning,
        summary: "Installed modules look custom: they need their own upgrade.",
        doc: "## What it checks

Installed modules that are likely not Odoo's: imported data modules, licenses Odoo does not use
(its modules are LGPL-3 or OEEL-1), authors other than Odoo S.A., customization name patterns
(`x_…`, `…custom…`), websites off odoo.com. Since Odoo fills in `author = 'Odoo S.A.'` and
`license = 'LGPL-3'` when a manifest omits them, a custom module that sets neither cannot be
told apart by these fields: the list may be incomplete.

## Why it matters for the upgrade

The upgrade platform upgrades Odoo's modules only. Custom and third-party modules must be ported
to the target version (code and data migration scripts) before the upgraded database can run.

## How to fix

Port each listed module to the target version (or get the target version from its vendor), and
test the upgraded database with them; uninstall the ones no longer needed before dumping.",
    }
}

fn check(input: &CheckInput<'_>) -> Option<String> {
    let modules = &input.odoo?.custom_modules;
    (!modules.is_empty()).then(|| {
        let each: Vec<String> = modules
            .iter()
            .map(|m| format!("{} ({})", m.name, m.reasons.join("; ")))
            .collect();
        format!(
            "{} installed modules look custom and need their own upgrade: {}",
            modules.len(),
            list(&each, 5)
        )
    })
}

#[cfg(test)]
mod tests {
    use crate::check::rules::fixtures::{facts, finding};
    use crate::facts::CustomModule;

    #[test]
    fn fires_on_custom_modules() {
        let mut f = facts();
        assert!(finding("custom-modules", &f).is_none());
        f.custom_modules.push(CustomModule {
            name: "acme".into(),
            version: None,
            reasons: vec!["license OPL-1".into()],
        });
        let found = finding("custom-modules", &f).unwrap();
        assert!(found.message.contains("acme (license OPL-1)"), "{found:?}");
    }
}

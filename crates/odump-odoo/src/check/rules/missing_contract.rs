use crate::check::CheckInput;
use crate::facts::Edition;

rule! {
    MissingContract {
        code: "missing-contract",
        severity: Warning,
        summary: "An enterprise database without `database.enterprise_code`.",
        doc: "## What it checks

Whether an enterprise database (an installed `OEEL-1` module) has its subscription code in
`ir_config_parameter` `database.enterprise_code`.

## Why it matters for the upgrade

The upgrade platform upgrades enterprise databases under a subscription: the request needs the
contract code, and without it in the database it must be given by hand.

## How to fix

Have the subscription code at hand and give it with the upload (the upgrade client's contract
option), or register the database in Settings so that the code is stored.",
    }
}

fn check(input: &CheckInput<'_>) -> Option<String> {
    let odoo = input
        .odoo
        .filter(|o| o.edition == Some(Edition::Enterprise) && !o.enterprise_code_present)?;
    Some(format!(
        "enterprise database (installed OEEL-1 modules: {}) without database.enterprise_code: give your subscription code with the upload",
        crate::check::list(&odoo.enterprise_modules, 3)
    ))
}

#[cfg(test)]
mod tests {
    use crate::check::rules::fixtures::{facts, finding};
    use crate::facts::Edition;

    #[test]
    fn fires_on_enterprise_without_code() {
        let mut f = facts();
        assert!(finding("missing-contract", &f).is_none());
        f.edition = Some(Edition::Enterprise);
        f.enterprise_modules = vec!["web_gantt".into()];
        assert!(finding("missing-contract", &f)
            .unwrap()
            .message
            .contains("web_gantt"));
        f.enterprise_code_present = true;
        assert!(finding("missing-contract", &f).is_none());
    }
}

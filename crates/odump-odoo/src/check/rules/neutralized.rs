use crate::check::{list, CheckInput};
use crate::facts::Strength;

rule! {
    Neutralized {
        code: "neutralized",
        severity: Error,
        summary: "The database is a neutralized copy, not the exact production data.",
        doc: "## What it checks

Strong signs of Odoo's neutralization: `database.is_neutralized` set, the dummy mail server
`neutralization - disable emails` (host `invalid`), the active `web.neutralize_banner` view,
webhooks set to `neutralization - disable webhook`, `database.secret = 'dummysecret'`, or a
`database.uuid` starting with `upg-neuter-` (upgrade-platform test copies).

## Why it matters for the upgrade

A neutralized copy has its mail servers, crons, webhooks, payment providers and IAP accounts
disabled: upgrading it and putting it in production would leave all of them off (and a test copy's
data may be stale). The production upgrade needs the exact copy.

## How to fix

Download the exact copy: on Odoo.sh the backup \"exact copy\" (not \"neutralized\"), in the
database manager a backup of the production database (not of a duplicate made with
\"neutralize\").",
    }
}

fn check(input: &CheckInput<'_>) -> Option<String> {
    let odoo = input.odoo.filter(|o| o.neutralized)?;
    let strong: Vec<&str> = odoo
        .neutralization_signals
        .iter()
        .filter(|s| s.strength == Strength::Strong)
        .map(|s| s.evidence.as_str())
        .collect();
    Some(format!(
        "this is a neutralized copy ({}); download the exact copy",
        list(&strong, 3)
    ))
}

#[cfg(test)]
mod tests {
    use crate::check::rules::fixtures::{facts, finding};
    use crate::facts::{NeutralizationSignal, Strength};

    #[test]
    fn fires_on_strong_signals() {
        let mut f = facts();
        assert!(finding("neutralized", &f).is_none());
        f.neutralized = true;
        f.neutralization_signals.push(NeutralizationSignal {
            code: "dummy-mail-server",
            strength: Strength::Strong,
            evidence: "ir_mail_server 'neutralization - disable emails'".into(),
        });
        let found = finding("neutralized", &f).unwrap();
        assert!(found.message.contains("disable emails"), "{found:?}");
        assert!(found.message.contains("download the exact copy"));
    }
}

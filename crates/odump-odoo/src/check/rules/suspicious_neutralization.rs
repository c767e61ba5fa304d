use crate::check::{list, CheckInput};
use crate::facts::Strength;

rule! {
    SuspiciousNeutralization {
        code: "suspicious-neutralization",
        severity: Warning,
        summary: "Weak signs of neutralization: check that this is the exact copy.",
        doc: "## What it checks

Weak signs that the database may be a neutralized or test copy, when no strong one is present:
every scheduled action but the autovacuum inactive, IAP account tokens ending in `+disabled`,
no payment provider enabled, `web.base.url` on localhost.

## Why it matters for the upgrade

Each of these can be normal (a database that takes no online payment has no enabled provider),
but together they often mean a copy that was made safe to run, whose upgrade should not go to
production.

## How to fix

Make sure the dump comes from the production database (an exact copy); if it does, ignore this
warning.",
    }
}

fn check(input: &CheckInput<'_>) -> Option<String> {
    let odoo = input.odoo.filter(|o| !o.neutralized)?;
    let weak: Vec<&str> = odoo
        .neutralization_signals
        .iter()
        .filter(|s| s.strength == Strength::Weak)
        .map(|s| s.evidence.as_str())
        .collect();
    (!weak.is_empty()).then(|| {
        format!(
            "signs of a neutralized or test copy ({}): make sure this is the exact production copy",
            list(&weak, 4)
        )
    })
}

#[cfg(test)]
mod tests {
    use crate::check::rules::fixtures::{facts, finding};
    use crate::facts::{NeutralizationSignal, Strength};

    #[test]
    fn fires_on_weak_signals_unless_neutralized() {
        let mut f = facts();
        assert!(finding("suspicious-neutralization", &f).is_none());
        f.neutralization_signals.push(NeutralizationSignal {
            code: "localhost-base-url",
            strength: Strength::Weak,
            evidence: "web.base.url is \"http://localhost:8069\"".into(),
        });
        let found = finding("suspicious-neutralization", &f).unwrap();
        assert!(found.message.contains("localhost"));
        f.neutralized = true;
        assert!(finding("suspicious-neutralization", &f).is_none());
    }
}

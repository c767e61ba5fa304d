use crate::check::CheckInput;
use crate::version::Series;

rule! {
    TargetNotNewer {
        code: "target-not-newer",
        severity: Error,
        summary: "The --target is not newer than the database's series.",
        doc: "## What it checks

Whether the `--target` series comes after the database's series (in Odoo's order, where
`17.0 < saas~17.1 < … < saas~17.4 < 18.0`). With a schema-only estimate, it fires when the target
is not after the oldest series the schema allows.

## Why it matters for the upgrade

Upgrades only go forward: a request to the same or an older series is refused, and usually means
the wrong dump or the wrong target.

## How to fix

Pick a target after the database's series (`odoo-dump version FILE` prints it), or check that
this is the dump you meant.",
    }
}

fn check(input: &CheckInput<'_>) -> Option<String> {
    let target: Series = input
        .target?
        .parse()
        .ok()
        .filter(|t: &Series| t.is_supported_target())?;
    let odoo = input.odoo?;
    match (odoo.series, &odoo.estimate) {
        (Some(series), _) if target <= series => Some(format!(
            "the database is already {series}: the target {target} must be newer"
        )),
        (None, Some(estimate)) if target <= estimate.min => Some(format!(
            "the database is at least {}: the target {target} must be newer",
            estimate.min
        )),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use crate::check::rules::fixtures::{facts, findings_of, summary};
    use crate::version::Series;
    use crate::SeriesEstimate;

    #[test]
    fn fires_on_same_or_older_targets() {
        let f = facts();
        let s = summary();
        assert!(findings_of("target-not-newer", &s, Some(&f), Some("18.0")).is_empty());
        assert!(findings_of("target-not-newer", &s, Some(&f), Some("saas~17.2")).is_empty());
        assert_eq!(
            findings_of("target-not-newer", &s, Some(&f), Some("17.0")).len(),
            1
        );
        assert_eq!(
            findings_of("target-not-newer", &s, Some(&f), Some("16.0")).len(),
            1
        );
        // Unknown targets are unknown-target's business.
        assert!(findings_of("target-not-newer", &s, Some(&f), Some("9.0")).is_empty());
        let mut e = facts();
        e.series = None;
        e.estimate = Some(SeriesEstimate {
            min: Series::Major(16),
            max: None,
            evidence: vec![],
        });
        assert_eq!(
            findings_of("target-not-newer", &s, Some(&e), Some("16.0")).len(),
            1
        );
        assert!(findings_of("target-not-newer", &s, Some(&e), Some("17.0")).is_empty());
    }
}

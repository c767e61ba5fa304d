use crate::check::CheckInput;
use crate::version::{upgrade_path, Series, REQUIRED_STOPS};

rule! {
    UpgradePath {
        code: "upgrade-path",
        severity: Info,
        summary: "The series the upgrade goes through to reach --target.",
        doc: "## What it checks

The way from the database's series to `--target`: the upgrade goes one major at a time, with
the required intermediate stops (`saas~12.3` between 12.0 and 13.0).

## Why it matters for the upgrade

Each step runs its own migration scripts, and custom modules need migration code for every
step they cross; a long path takes longer and leaves more to test.

## How to fix

Nothing to fix: plan the custom modules' migrations for each step.",
    }
}

fn check(input: &CheckInput<'_>) -> Option<String> {
    let target: Series = input.target?.parse().ok()?;
    let from = input.odoo?.series?;
    let path = upgrade_path(from, target).ok()?;
    let steps: Vec<String> = path.iter().map(ToString::to_string).collect();
    let mut message = format!(
        "upgrade path {from} → {} ({} step{})",
        steps.join(" → "),
        steps.len(),
        if steps.len() == 1 { "" } else { "s" }
    );
    for stop in REQUIRED_STOPS.iter().filter(|s| path.contains(s)) {
        message.push_str(&format!("; {stop} is a required stop"));
    }
    Some(message)
}

#[cfg(test)]
mod tests {
    use crate::check::rules::fixtures::{facts, findings_of, summary};
    use crate::check::Severity;
    use crate::version::Series;

    #[test]
    fn describes_the_path() {
        let mut f = facts();
        let s = summary();
        let found = findings_of("upgrade-path", &s, Some(&f), Some("18.0"));
        assert_eq!(found[0].message, "upgrade path 17.0 → 18.0 (1 step)");
        assert_eq!(found[0].severity, Severity::Info);
        f.series = Some(Series::Major(12));
        let found = findings_of("upgrade-path", &s, Some(&f), Some("14.0"));
        assert_eq!(
            found[0].message,
            "upgrade path 12.0 → saas~12.3 → 13.0 → 14.0 (3 steps); saas~12.3 is a required stop"
        );
        assert!(findings_of("upgrade-path", &s, Some(&f), Some("12.0")).is_empty());
        assert!(findings_of("upgrade-path", &s, Some(&f), None).is_empty());
    }
}

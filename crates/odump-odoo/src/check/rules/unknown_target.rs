use crate::check::{list, CheckInput};
use crate::version::{Series, SUPPORTED_TARGETS};

rule! {
    UnknownTarget {
        code: "unknown-target",
        severity: Error,
        summary: "The --target is not a series the upgrade platform offers.",
        doc: "## What it checks

Whether `--target` names a series (`18.0`, `saas~18.2`…) that the upgrade platform takes as a
target: the majors from 10.0 and the online releases of the last majors.

## Why it matters for the upgrade

A request for a target that does not exist (a typo, a development series such as `19.1`, a
future version) is refused by the platform.

## How to fix

Give one of the listed targets, usually the latest major.",
    }
}

fn check(input: &CheckInput<'_>) -> Option<String> {
    let target = input.target?;
    let known: Vec<String> = SUPPORTED_TARGETS
        .iter()
        .filter(|s| s.is_major())
        .map(ToString::to_string)
        .collect();
    match target.parse::<Series>() {
        Ok(series) if series.is_supported_target() => None,
        Ok(series) => Some(format!(
            "{series} is not a target the upgrade platform offers; use one of {}",
            list(&known, known.len())
        )),
        Err(_) => Some(format!(
            "{target:?} is not an Odoo series; use one of {}",
            list(&known, known.len())
        )),
    }
}

#[cfg(test)]
mod tests {
    use crate::check::rules::fixtures::{facts, findings_of, summary};

    #[test]
    fn fires_on_unknown_or_garbage_targets() {
        let f = facts();
        let s = summary();
        assert!(findings_of("unknown-target", &s, Some(&f), Some("18.0")).is_empty());
        assert!(findings_of("unknown-target", &s, Some(&f), Some("saas~18.2")).is_empty());
        let found = findings_of("unknown-target", &s, Some(&f), Some("21.0"));
        assert!(
            found[0].message.starts_with("21.0 is not a target"),
            "{found:?}"
        );
        let found = findings_of("unknown-target", &s, Some(&f), Some("eighteen"));
        assert!(
            found[0]
                .message
                .contains("\"eighteen\" is not an Odoo series"),
            "{found:?}"
        );
        // Without Odoo facts the target is still checked.
        assert_eq!(
            findings_of("unknown-target", &s, None, Some("19.1")).len(),
            1
        );
    }
}

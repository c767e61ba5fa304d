use crate::check::CheckInput;
use crate::facts::Confidence;

rule! {
    VersionEstimated {
        code: "version-estimated",
        severity: Warning,
        summary: "The Odoo version could only be estimated from the schema.",
        doc: "## What it checks

Whether the Odoo series comes from schema fingerprints only (no `base` row in `ir_module_module`
and no backup manifest), so that it is a range rather than a value.

## Why it matters for the upgrade

The upgrade starts from the database's exact series; a dump that does not record it is missing
its data, or at least `ir_module_module`'s.

## How to fix

Dump the whole database (schema and data); `odoo-dump version` then reads the series from
`ir_module_module`.",
    }
}

fn check(input: &CheckInput<'_>) -> Option<String> {
    let odoo = input
        .odoo
        .filter(|o| o.confidence == Confidence::Estimate)?;
    let range = match &odoo.estimate {
        Some(e) => match e.max {
            Some(max) if max == e.min => format!("{max}"),
            Some(max) => format!("between {} and {max}", e.min),
            None => format!("{} or later", e.min),
        },
        None => "unknown".to_string(),
    };
    Some(format!(
        "no base module row: the Odoo series is only estimated from the schema ({range}); dump the whole database to know it"
    ))
}

#[cfg(test)]
mod tests {
    use crate::check::rules::fixtures::{facts, finding};
    use crate::facts::{Confidence, VersionSource};
    use crate::version::Series;
    use crate::SeriesEstimate;

    #[test]
    fn fires_on_estimates() {
        let mut f = facts();
        assert!(finding("version-estimated", &f).is_none());
        f.series = None;
        f.source = VersionSource::Schema;
        f.confidence = Confidence::Estimate;
        f.estimate = Some(SeriesEstimate {
            min: Series::Major(16),
            max: Some(Series::Saas {
                major: 16,
                minor: 4,
            }),
            evidence: vec![],
        });
        let found = finding("version-estimated", &f).unwrap();
        assert!(
            found.message.contains("between 16.0 and saas~16.4"),
            "{found:?}"
        );
    }
}

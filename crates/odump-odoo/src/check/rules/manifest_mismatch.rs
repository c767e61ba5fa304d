use crate::check::CheckInput;

rule! {
    ManifestMismatch {
        code: "manifest-mismatch",
        severity: Warning,
        summary: "manifest.json names another Odoo series than the database's base module.",
        doc: "## What it checks

Whether the backup zip's `manifest.json` (the Odoo version that made the backup) names another
series than `ir_module_module`'s base row (the database's own version).

## Why it matters for the upgrade

The upgrade starts from the database's series. A mismatch means the backup was made by another
Odoo version than the database's (a database not yet updated to the running code, or a
hand-assembled zip): tools that trust the manifest pick the wrong version.

## How to fix

Trust the database's version (this tool does); if the database really should be at the
manifest's version, update it with that Odoo version (`-u base`) and back it up again.",
    }
}

fn check(input: &CheckInput<'_>) -> Option<String> {
    let odoo = input.odoo.filter(|o| o.manifest_mismatch)?;
    let (manifest, series) = (odoo.manifest_series?, odoo.series?);
    Some(format!(
        "manifest.json says {manifest} but the database's base module is {series}: the backup was made by another Odoo version; the database's {series} is used"
    ))
}

#[cfg(test)]
mod tests {
    use crate::check::rules::fixtures::{facts, finding};
    use crate::version::Series;

    #[test]
    fn fires_on_mismatch() {
        let mut f = facts();
        assert!(finding("manifest-mismatch", &f).is_none());
        f.manifest_series = Some(Series::Major(18));
        f.manifest_mismatch = true;
        let found = finding("manifest-mismatch", &f).unwrap();
        assert!(found.message.contains("says 18.0") && found.message.contains("is 17.0"));
    }
}

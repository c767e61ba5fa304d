use crate::check::{list, CheckInput};

rule! {
    UnsafeZipEntries {
        code: "unsafe-zip-entries",
        severity: Error,
        summary: "The backup zip has entries whose names leave the folder it is extracted to.",
        doc: "## What it checks

Whether any entry of a backup zip is named with an absolute path or a `..` component
(`../../etc/cron.d/x`, `/tmp/x`, `filestore/../../x`).

## Why it matters for the upgrade

Odoo never writes such names: the zip was crafted or damaged. A tool that extracts it without
care (an old `unzip`, a script) writes outside its folder and can overwrite files; what it holds
is not a backup to trust or upload.

## How to fix

Do not extract or upload this file. Make a new backup from the database manager or Odoo.sh, and
find out where this one came from.",
    }
}

fn check(input: &CheckInput<'_>) -> Option<String> {
    let names = &input.zip?.unsafe_names;
    (!names.is_empty()).then(|| {
        format!(
            "the zip has {} entries whose names leave the extraction folder ({}): Odoo does not write such names, so it was crafted or damaged; do not extract or upload it, make a new backup",
            names.len(),
            list(names, 3)
        )
    })
}

#[cfg(test)]
mod tests {
    use crate::check::{run_checks, CheckInput};
    use odump_io::ZipInventory;

    fn codes(zip: &ZipInventory) -> Vec<&'static str> {
        let input = CheckInput {
            zip: Some(zip),
            ..CheckInput::default()
        };
        run_checks(&input).iter().map(|f| f.code).collect()
    }

    #[test]
    fn fires_on_escaping_names_only() {
        let mut zip = ZipInventory::default();
        assert!(!codes(&zip).contains(&"unsafe-zip-entries"));
        zip.unsafe_names = vec!["../../evil".into(), "/etc/x".into()];
        let input = CheckInput {
            zip: Some(&zip),
            ..CheckInput::default()
        };
        let findings = run_checks(&input);
        let found = findings
            .iter()
            .find(|f| f.code == "unsafe-zip-entries")
            .expect("unsafe-zip-entries");
        assert!(
            found.message.contains("2 entries") && found.message.contains("../../evil, /etc/x"),
            "{found:?}"
        );
        assert!(!crate::check::ready(&findings));
    }
}

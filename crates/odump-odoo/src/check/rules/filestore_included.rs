use crate::check::{human_bytes, CheckInput};

rule! {
    FilestoreIncluded {
        code: "filestore-included",
        severity: Warning,
        summary: "The dump carries a filestore, which the upgrade platform does not need.",
        doc: "## What it checks

Whether the backup zip has entries under `filestore/` (attachments stored as files).

## Why it matters for the upgrade

The upgrade platform upgrades the database only and takes no filestore: uploading it costs time
and bandwidth for nothing. The filestore stays valid for the upgraded database.

## How to fix

Upload a dump without filestore (Odoo.sh: download \"without filestore\"; database manager:
backup format \"pg_dump custom format (without filestore)\", or `dump.sql` alone), and keep the
filestore to put beside the upgraded database.",
    }
}

fn check(input: &CheckInput<'_>) -> Option<String> {
    let fs = &input.odoo?.filestore;
    fs.included.then(|| {
        format!(
            "the dump carries a filestore ({} files, {}): the upgrade platform does not need it; upload the dump without filestore and keep the filestore for the upgraded database",
            fs.files,
            human_bytes(fs.bytes)
        )
    })
}

#[cfg(test)]
mod tests {
    use crate::check::rules::fixtures::{facts, finding};

    #[test]
    fn fires_when_included() {
        let mut f = facts();
        assert!(finding("filestore-included", &f).is_none());
        f.filestore.included = true;
        f.filestore.files = 12;
        f.filestore.bytes = 2_100_000;
        let found = finding("filestore-included", &f).unwrap();
        assert!(found.message.contains("12 files, 2.1 MB"), "{found:?}");
    }
}

//! Custom and directory archives as the same items as plain SQL.

use crate::reader::ReadOptions;
use crate::summary::DumpSummary;
use crate::{Error, Sink};

pub(crate) fn read_archive(
    name: &str,
    _archive: odump_io::Archive,
    _sink: &mut dyn Sink,
    _options: ReadOptions,
) -> (DumpSummary, Option<Error>) {
    (
        DumpSummary::new(crate::DumpFormat::Custom),
        Some(Error::Unsupported {
            path: name.into(),
            detail: "archive reading is being wired".into(),
        }),
    )
}

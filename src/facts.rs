//! One read of one dump: open it, run the reader with the Odoo collector, and keep everything
//! the commands report.

use odump_io::{Container, TextEncoding, ZipInventory};
use odump_odoo::{OdooCollector, OdooFacts};
use odump_pgdump::{read_dump_partial, DumpSummary, ReadOptions};

use crate::output::Progress;

/// How much of the dump a command needs.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Depth {
    /// Everything: every table's rows counted, every Odoo fact.
    Full,
    /// Only the Odoo version: stop at base's row, jump to it in archives with data offsets.
    VersionOnly,
}

/// What one read found out.
pub struct DumpFacts {
    /// The input as given.
    pub name: String,
    pub container: Container,
    pub compressed_size: Option<u64>,
    pub text_encoding: TextEncoding,
    pub summary: DumpSummary,
    pub zip: Option<ZipInventory>,
    /// `None` when the dump is not an Odoo database.
    pub odoo: Option<OdooFacts>,
    /// The error that cut the read short (truncated, corrupt…).
    pub error: Option<odump_pgdump::Error>,
}

impl DumpFacts {
    /// The facts of a dump whose compressed stream failed before anything was read.
    pub fn unread(name: &str, error: odump_io::Error) -> Self {
        let container = match &error {
            odump_io::Error::Truncated { container, .. }
            | odump_io::Error::Corrupt { container, .. }
                if container.starts_with("zip") =>
            {
                Container::Zip
            }
            _ => Container::Gzip,
        };
        DumpFacts {
            name: name.to_string(),
            container,
            compressed_size: None,
            text_encoding: TextEncoding::Utf8,
            summary: DumpSummary::new(odump_pgdump::DumpFormat::Plain),
            zip: None,
            odoo: None,
            error: Some(odump_pgdump::Error::Input(error)),
        }
    }
}

/// Reads `path`. Fails only when the input cannot be opened at all.
pub fn read(path: &str, depth: Depth, progress: &Progress) -> Result<DumpFacts, odump_io::Error> {
    let input = odump_io::open(path)?;
    let _bar = progress.track(path, input.progress.clone());
    let (name, container, compressed_size, text_encoding) = (
        input.name.clone(),
        input.container,
        input.compressed_size,
        input.text_encoding,
    );
    let zip_handle = input.zip.clone();
    let (mut collector, options) = match depth {
        Depth::Full => (OdooCollector::new(), ReadOptions::default()),
        Depth::VersionOnly => (
            OdooCollector::version_only(),
            ReadOptions {
                wanted_data_only: true,
            },
        ),
    };
    let (summary, error) = read_dump_partial(input, &mut collector, options);
    let zip = zip_handle.map(|z| z.lock().map(|z| z.clone()).unwrap_or_default());
    let odoo = collector.finish(zip.as_ref(), &summary);
    Ok(DumpFacts {
        name,
        container,
        compressed_size,
        text_encoding,
        summary,
        zip,
        odoo,
        error,
    })
}

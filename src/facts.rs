//! One read of one dump: open it, run the reader with the collectors a command needs, and keep
//! everything the commands report.

use odump_io::{Container, TextEncoding, ZipInventory};
use odump_pgdump::{read_dump_partial, DumpSummary, ReadOptions, Tee};

use crate::output::Progress;

/// What one read found out.
pub struct DumpFacts {
    /// The input as given.
    pub name: String,
    pub container: Container,
    pub compressed_size: Option<u64>,
    pub text_encoding: TextEncoding,
    pub summary: DumpSummary,
    pub zip: Option<ZipInventory>,
    /// The error that cut the read short (truncated, corrupt…).
    pub error: Option<odump_pgdump::Error>,
}

/// Reads `path` whole. Fails only when the input cannot be opened at all.
pub fn read(path: &str, progress: &Progress) -> Result<DumpFacts, odump_io::Error> {
    let input = odump_io::open(path)?;
    let _bar = progress.track(path, input.progress.clone());
    let (name, container, compressed_size, text_encoding) = (
        input.name.clone(),
        input.container,
        input.compressed_size,
        input.text_encoding,
    );
    let zip_handle = input.zip.clone();
    let mut tee = Tee::new();
    let (summary, error) = read_dump_partial(input, &mut tee, ReadOptions::default());
    let zip = zip_handle.map(|z| z.lock().map(|z| z.clone()).unwrap_or_default());
    Ok(DumpFacts {
        name,
        container,
        compressed_size,
        text_encoding,
        summary,
        zip,
        error,
    })
}

//! The entry point: read a whole dump, whatever its format, into a sink and a summary.

use odump_io::{Body, Input};

use crate::plain::PlainReader;
use crate::summary::{DumpFormat, DumpSummary};
use crate::{Error, Flow, Sink};

/// How much of the dump to read.
#[derive(Clone, Copy, Debug, Default)]
pub struct ReadOptions {
    /// Read only the data of tables the sink wants, where the format allows jumping over the
    /// rest (custom archives with data offsets, directory dumps). Row counts of other tables are
    /// then unknown. Plain SQL is always read in order.
    pub wanted_data_only: bool,
}

/// Reads a whole dump into `sink`; fails on the first input error (truncated or corrupt
/// compression, unreadable archive). See [`read_dump_partial`] to keep what was read before it.
pub fn read_dump(input: Input, sink: &mut dyn Sink) -> Result<DumpSummary, Error> {
    match read_dump_partial(input, sink, ReadOptions::default()) {
        (summary, None) => Ok(summary),
        (_, Some(e)) => Err(e),
    }
}

/// Reads a dump into `sink` and returns the summary of what was read, with the error that cut
/// the read short, if any.
pub fn read_dump_partial(
    input: Input,
    sink: &mut dyn Sink,
    options: ReadOptions,
) -> (DumpSummary, Option<Error>) {
    match input.body {
        Body::Sql(mut stream) => {
            let mut reader = PlainReader::new(DumpSummary::new(DumpFormat::Plain), sink);
            loop {
                match stream.next_chunk() {
                    Ok(Some(chunk)) => {
                        if reader.feed(chunk) == Flow::Stop {
                            let mut summary = reader.stop();
                            summary.stopped_early = summary.problems.is_empty();
                            return (summary, None);
                        }
                    }
                    Ok(None) => return (reader.finish(), None),
                    Err(e) => return (reader.finish(), Some(Error::Input(e))),
                }
            }
        }
        Body::Archive(archive) => {
            crate::from_archive::read_archive(&input.name, archive, sink, options)
        }
    }
}

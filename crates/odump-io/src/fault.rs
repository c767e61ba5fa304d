//! Faults found inside a decoding stream, carried through `std::io::Read` as `io::Error`s and
//! turned into [`crate::Error`]s with the input's name where the stream is consumed.

use std::io;

/// A fault of the compressed data, with the compressed byte offset where it was found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum StreamFault {
    Truncated { offset: u64, produced: u64 },
    Corrupt { offset: u64, detail: String },
}

impl std::fmt::Display for StreamFault {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            StreamFault::Truncated { offset, .. } => write!(f, "truncated at byte {offset}"),
            StreamFault::Corrupt { offset, detail } => {
                write!(f, "corrupt at byte {offset}: {detail}")
            }
        }
    }
}

impl std::error::Error for StreamFault {}

impl From<StreamFault> for io::Error {
    fn from(fault: StreamFault) -> Self {
        io::Error::new(io::ErrorKind::InvalidData, fault)
    }
}

impl StreamFault {
    /// The fault inside an `io::Error`, if it carries one.
    pub(crate) fn from_io(err: &io::Error) -> Option<&StreamFault> {
        err.get_ref()?.downcast_ref::<StreamFault>()
    }
}

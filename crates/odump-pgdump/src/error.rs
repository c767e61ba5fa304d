//! The crate's error type.

/// Why a dump could not be read to its end.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The container layer failed (truncated or corrupt compression, unreadable file…).
    #[error(transparent)]
    Input(#[from] odump_io::Error),
    /// The archive is not a valid pg_dump custom/directory archive.
    #[error("{path}: invalid pg_dump archive at byte {offset}: {detail}")]
    Archive {
        /// The file.
        path: String,
        /// Where in the archive file.
        offset: u64,
        /// What was wrong.
        detail: String,
    },
    /// The archive file (a custom archive, a directory's `toc.dat`) ends before its end: it was
    /// cut short. The same kind as a truncated gzip stream ([`odump_io::Error::Truncated`]).
    #[error("{path}: the file ends at byte {offset}, {what}: the archive is truncated; copy or download it again")]
    Truncated {
        /// The file.
        path: String,
        /// Where the file ends (its size, for a file cut short).
        offset: u64,
        /// Where in the archive the end came (`in the middle of TOC entry 12 of 300`, `before the
        /// data of …`).
        what: String,
    },
    /// The archive uses something this reader does not decode (e.g. lz4 compression).
    #[error("{path}: {detail}")]
    Unsupported {
        /// The file.
        path: String,
        /// What is not supported and what to do.
        detail: String,
    },
    /// Reading one archive data block failed; the message names the archive, the block and the
    /// byte offset.
    #[error("{0}")]
    Block(String),
}

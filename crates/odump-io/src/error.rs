//! The crate's error type.

/// Why an input could not be opened or read to its end.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The file could not be opened or read.
    #[error("{path}: {source}")]
    Io {
        /// The input.
        path: String,
        /// The system error.
        source: std::io::Error,
    },
    /// The content is not any dump format this tool reads.
    #[error("{path}: not a PostgreSQL dump ({detail}); expected plain SQL from pg_dump, .sql.gz, an Odoo backup .zip, or a pg_dump custom/directory archive")]
    UnknownFormat {
        /// The input.
        path: String,
        /// What the start of the file looks like.
        detail: String,
    },
    /// The compressed stream ends before its end: the file was cut short.
    #[error("{path}: {container} stream truncated at compressed byte {offset} (after {decompressed} bytes of SQL): the file is incomplete; download or copy it again")]
    Truncated {
        /// The input.
        path: String,
        /// `gzip`, `zip entry dump.sql`, …
        container: String,
        /// Where the compressed data stopped.
        offset: u64,
        /// How much SQL had been produced.
        decompressed: u64,
    },
    /// The compressed data is damaged (bad deflate data, CRC or size mismatch).
    #[error("{path}: corrupt {container} data at compressed byte {offset}: {detail}; the file is damaged, copy it again")]
    Corrupt {
        /// The input.
        path: String,
        /// `gzip member 2`, `zip entry dump.sql`, …
        container: String,
        /// Where the damage was found.
        offset: u64,
        /// What was wrong.
        detail: String,
    },
    /// A zip file that is not an Odoo backup, or an unsafe one.
    #[error("{path}: {detail}")]
    BadZip {
        /// The input.
        path: String,
        /// What is wrong and what to do.
        detail: String,
    },
}

impl Error {
    /// The input's display name.
    pub fn path(&self) -> &str {
        match self {
            Error::Io { path, .. }
            | Error::UnknownFormat { path, .. }
            | Error::Truncated { path, .. }
            | Error::Corrupt { path, .. }
            | Error::BadZip { path, .. } => path,
        }
    }

    pub(crate) fn io(path: &str, source: std::io::Error) -> Self {
        Error::Io {
            path: path.to_string(),
            source,
        }
    }
}

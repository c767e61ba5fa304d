//! [`Error`]: every way a request can stop, each with a one-line message saying what happened,
//! where (which verb, which host or path) and what to do.

use std::io;
use std::path::PathBuf;

/// Result alias of this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Why an operation stopped. `Display` is one sentence meant for the user; none of the variants
/// carries a contract code or token in clear (server messages are scrubbed of them).
///
/// A request that fails on the network side keeps its saved state: running the same command again
/// resumes it (see [`crate::Client::upload`]).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The platform answered with an error message (`result.error`, or `error.data.message` of a
    /// JSON-RPC error).
    #[error("the upgrade platform ({host}) refused `{verb}`: {message}; fix what it names, then run the same command again")]
    Refused {
        /// The verb called (`create`, `transfer/start`, …).
        verb: String,
        /// Host (and port) of the endpoint called.
        host: String,
        /// The platform's message.
        message: String,
    },
    /// The platform answered with an HTTP error status.
    #[error("the upgrade platform ({host}) answered HTTP {status} to `{verb}`; {}", http_hint(*.status))]
    HttpStatus {
        /// The verb called.
        verb: String,
        /// Host (and port) of the endpoint called.
        host: String,
        /// The HTTP status code.
        status: u16,
    },
    /// No answer within the configured connect or read timeout.
    #[error("the upgrade platform ({host}) did not answer `{verb}` within {seconds} s; check the network (or raise the timeout), then run the same command again to resume")]
    Timeout {
        /// The verb called.
        verb: String,
        /// Host (and port) of the endpoint called.
        host: String,
        /// The timeout that expired, in seconds.
        seconds: u64,
    },
    /// The endpoint could not be reached (DNS, refused connection, TLS verification, …).
    #[error("could not reach the upgrade platform ({host}) for `{verb}`: {detail}; check the server URL (--server, ODOO_UPGRADE_SERVER) and the network")]
    Unreachable {
        /// The verb called.
        verb: String,
        /// Host (and port) of the endpoint called.
        host: String,
        /// What failed.
        detail: String,
    },
    /// The answer is not what the protocol says (not JSON, a field missing, an unknown status).
    #[error("unexpected answer from the upgrade platform ({host}) to `{verb}`: {detail}; check that the server URL points at an Odoo upgrade platform")]
    BadReply {
        /// The verb called.
        verb: String,
        /// Host (and port) of the endpoint called.
        host: String,
        /// What is wrong with the answer.
        detail: String,
    },
    /// A program the transfer needs is not installed.
    #[error("`{program}` is not installed; install it (Debian/Ubuntu: apt-get install {package}) and run the same command again")]
    MissingProgram {
        /// The program looked up on `PATH`.
        program: &'static str,
        /// The Debian package providing it.
        package: &'static str,
    },
    /// `rsync` (or `ssh` under it) failed.
    #[error("the {direction} of request {request_id} failed (rsync exit {code}): {detail}; run the same command again to resume")]
    Transfer {
        /// `upload` or `download`.
        direction: &'static str,
        /// The platform's request id.
        request_id: u64,
        /// rsync's exit code (-1 when killed by a signal).
        code: i32,
        /// The last line rsync or ssh printed on stderr.
        detail: String,
    },
    /// `ssh-keygen` failed.
    #[error("ssh-keygen could not create a key in {path}: {detail}; check that the state directory is writable")]
    KeyGen {
        /// The key file asked for.
        path: PathBuf,
        /// ssh-keygen's message.
        detail: String,
    },
    /// The caller's event handler asked to stop.
    #[error(
        "{action} of request {request_id} stopped on request; run the same command again to resume"
    )]
    Interrupted {
        /// What was going on (`upload`, `processing`, `download`).
        action: &'static str,
        /// The platform's request id.
        request_id: u64,
    },
    /// A local file operation failed.
    #[error("could not {action} {path}: {source}")]
    Io {
        /// What was being done (`read`, `write`, `create`, …).
        action: &'static str,
        /// The path involved.
        path: PathBuf,
        /// The system error.
        source: io::Error,
    },
    /// The download destination exists and has files in it.
    #[error("{path} exists and is not empty; give a new directory to download into")]
    DestinationNotEmpty {
        /// The destination given.
        path: PathBuf,
    },
    /// A download was asked for a request that is not done.
    #[error("request {request_id} is {status}, not done: there is nothing to download yet; follow it with the status command")]
    NotDone {
        /// The platform's request id.
        request_id: u64,
        /// Its current status.
        status: String,
    },
    /// A saved request file cannot be read back.
    #[error("the saved request {path} is unreadable ({detail}); delete it to start over")]
    CorruptState {
        /// The state file.
        path: PathBuf,
        /// The parse error.
        detail: String,
    },
    /// A setting or an argument is invalid (bad URL, bad target, empty contract, unsafe path…).
    #[error("{0}")]
    Invalid(String),
}

fn http_hint(status: u16) -> &'static str {
    if status >= 500 {
        "a problem on the platform's side: retry later (the request is saved and resumes)"
    } else {
        "check the server URL (--server, ODOO_UPGRADE_SERVER)"
    }
}

impl Error {
    pub(crate) fn io(action: &'static str, path: impl Into<PathBuf>, source: io::Error) -> Self {
        Error::Io {
            action,
            path: path.into(),
            source,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_are_one_line_and_say_what_to_do() {
        let errors = [
            Error::HttpStatus {
                verb: "process".into(),
                host: "h:1".into(),
                status: 502,
            },
            Error::Timeout {
                verb: "status".into(),
                host: "h:1".into(),
                seconds: 3,
            },
            Error::Refused {
                verb: "create".into(),
                host: "h:1".into(),
                message: "invalid contract".into(),
            },
        ];
        for e in errors {
            let text = e.to_string();
            assert!(!text.contains('\n'), "{text}");
            assert!(text.contains("h:1") && text.contains('`'), "{text}");
        }
    }
}

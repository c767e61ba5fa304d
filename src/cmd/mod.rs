//! One module per subcommand: its arguments, help text and code.

pub mod check;
pub mod diff;
pub mod download;
pub mod inspect;
pub mod status;
pub mod upload;
pub mod version;

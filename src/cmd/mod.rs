//! One module per subcommand: its arguments, help text and code.

pub mod check;
pub mod diff;
pub mod inspect;
pub mod version;

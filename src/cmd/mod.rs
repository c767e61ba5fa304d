//! One module per subcommand: its arguments, help text and code.

pub mod inspect;

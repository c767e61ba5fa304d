//! odump-testpg

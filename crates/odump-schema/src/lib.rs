//! odump-schema

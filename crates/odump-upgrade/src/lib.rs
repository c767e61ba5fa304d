//! odump-upgrade

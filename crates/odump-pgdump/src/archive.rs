//! pg_dump custom and directory archives.

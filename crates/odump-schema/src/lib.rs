//! A schema model built from pg_dump DDL, and the schema diff.
//!
//! [`SchemaBuilder`] is an [`odump_pgdump::Sink`]: it receives every statement of a dump with its
//! table-of-contents identity and builds a [`Schema`] — schemas, extensions, types, domains,
//! sequences, tables with columns and constraints, indexes, views, functions and procedures,
//! triggers, rules, policies, comments, owners and grants. [`diff`] compares two schemas and
//! returns [`Change`]s with data-loss and type-change hazards and possible-rename hints.
//!
//! What the model leaves out, on purpose: settings (`SET …`), sequence current values
//! (`setval`), planner statistics (`pg_restore_relation_stats`), data (`COPY`, `INSERT`),
//! tablespaces and database-level properties. Statements no parser here understands are kept
//! as normalized text under their TOC identity ([`Opaque`]), compared like any other object,
//! and counted ([`Schema::opaque_count`]).
//!
//! Names are normalized across pg_dump generations: dumps from pg_dump ≤ 10.2 write names
//! unqualified under `SET search_path = public, pg_catalog`, later ones qualify everything;
//! both give `public.res_partner`. Deparsed texts (defaults, checks, index keys, view queries)
//! are compared with white space collapsed and without the object's own schema prefix.
//!
//! ```
//! use odump_schema::{diff, Action, DiffOptions, SchemaBuilder};
//!
//! let build = |statements: &[&str]| {
//!     let mut b = SchemaBuilder::new();
//!     for s in statements {
//!         b.add_statement(None, s);
//!     }
//!     b.finish()
//! };
//! let before = build(&[
//!     "SELECT pg_catalog.set_config('search_path', '', false)",
//!     "CREATE TYPE public.state AS ENUM ('draft', 'done')",
//!     "CREATE TABLE public.sale_order (id integer NOT NULL, state public.state, note text)",
//! ]);
//! let after = build(&[
//!     "SET search_path = public, pg_catalog", // an old-style dump: names unqualified
//!     "CREATE TYPE state AS ENUM ('draft', 'sent', 'done')",
//!     "CREATE TABLE sale_order (id integer NOT NULL, state state)",
//! ]);
//! let changes = diff(&before, &after, &DiffOptions::default());
//! let summary: Vec<_> = changes
//!     .iter()
//!     .map(|c| (c.kind.as_str(), c.object.as_str(), c.action, c.hazard.as_deref()))
//!     .collect();
//! assert_eq!(summary, [
//!     ("column", "public.sale_order.note", Action::Removed, Some("data-loss")),
//!     ("type", "public.state", Action::Changed, None),
//! ]);
//! ```

mod builder;
mod diff;
mod lex;
mod model;
mod types;

pub use builder::SchemaBuilder;
pub use diff::{diff, Action, Change, DiffOptions, DATA_LOSS, NOT_NULL_ADDED};
pub use model::{
    Arg, Column, Columns, Comment, Constraint, ConstraintKind, Domain, Extension, ForeignKey,
    Function, Grant, Identity, Index, Opaque, Owner, Partition, Schema, Sequence, Table, TableItem,
    TypeDef, View,
};
pub use types::{type_change_hazard, LOSSY_TYPE_CHANGE, TYPE_NARROWING};

//! Odoo knowledge for `odoo-dump`: versions, what a dump says about its Odoo database, and the
//! `check` rules that say whether it is ready for an upgrade.
//!
//! - [`version`]: [`Series`] and [`OdooVersion`] of every era (`8.0`…`19.0`, `saas~X.Y`, the old
//!   `10.saas~15`, dev `19.1`), their order, and [`version::upgrade_path`].
//! - [`OdooCollector`]: an [`odump_pgdump::Sink`] that reads only the rows of the few Odoo tables
//!   it needs and records schema fingerprints; [`OdooCollector::finish`] turns it into
//!   [`OdooFacts`] (series and where it came from, edition, neutralization signals, modules,
//!   filestore). [`OdooCollector::version_only`] stops the read as soon as base's row is read.
//! - [`check`]: one small rule per finding, ruff-style, each with a stable code, a severity and a
//!   doc saying what it checks, why it matters for the upgrade and how to fix it.
//!
//! ```no_run
//! use odump_odoo::{check, OdooCollector};
//!
//! let input = odump_io::open("backup.zip").unwrap();
//! let zip = input.zip.clone();
//! let mut collector = OdooCollector::new();
//! let summary = odump_pgdump::read_dump(input, &mut collector).unwrap();
//! let zip = zip.map(|z| z.lock().unwrap().clone());
//! let facts = collector.finish(zip.as_ref(), &summary);
//! let findings = check::run_checks(&check::CheckInput {
//!     summary: Some(&summary),
//!     failure: None,
//!     odoo: facts.as_ref(),
//!     target: Some("18.0"),
//!     zip: None,
//! });
//! for f in &findings {
//!     println!("{:?} {}: {}", f.severity, f.code, f.message);
//! }
//! ```

pub mod check;
mod collector;
mod facts;
mod fingerprint;
pub mod meta;
mod sql;
pub mod version;

pub use collector::OdooCollector;
pub use facts::{
    AttachmentRefs, Confidence, CustomModule, Edition, FilestoreFacts, InstalledModule, Manifest,
    NeutralizationSignal, OdooFacts, Strength, UncleanModule, VersionSource,
};
pub use fingerprint::SeriesEstimate;
pub use version::{OdooVersion, Series};

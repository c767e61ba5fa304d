//! [`OdooFacts`]: what a dump says about the Odoo database in it, built by
//! [`OdooCollector::finish`].

use std::collections::BTreeMap;

use odump_io::ZipInventory;
use odump_pgdump::DumpSummary;
use serde::{Deserialize, Serialize};

use crate::collector::{truthy, ModuleRow, OdooCollector, RowFacts};
use crate::fingerprint::SeriesEstimate;
use crate::version::{OdooVersion, Series};

/// Where the series came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum VersionSource {
    /// base's row in `ir_module_module` (`latest_version`, or `db_version` in old databases).
    IrModuleModule,
    /// `manifest.json` of a zip backup (the Odoo code version that made the dump).
    Manifest,
    /// Schema fingerprints only: see [`OdooFacts::estimate`].
    Schema,
}

/// How sure the series is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Confidence {
    /// Read from the database or its backup manifest.
    Certain,
    /// Estimated from the schema: a range, not a value.
    Estimate,
}

/// Community or enterprise.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Edition {
    /// At least one installed module has the enterprise license `OEEL-1`.
    Enterprise,
    /// No installed `OEEL-1` module (community databases hold uninstallable OEEL-1 placeholders).
    Community,
}

/// How much a neutralization signal proves.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Strength {
    /// Only neutralization does this: the database is not an exact copy.
    Strong,
    /// Neutralization does this, but so may an ordinary database: suspicious.
    Weak,
}

/// One sign that the database was neutralized (made safe to run as a copy: mails, crons,
/// webhooks, payments and IAP disabled), which also means it is not the exact production data.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct NeutralizationSignal {
    /// Stable kebab-case code (`is-neutralized-parameter`, `dummy-mail-server`, …).
    pub code: &'static str,
    /// Strong or weak.
    pub strength: Strength,
    /// What was found, for a person.
    pub evidence: String,
}

/// An installed module (state `installed`, `to upgrade` or `to remove`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct InstalledModule {
    /// Technical name.
    pub name: String,
    /// `latest_version`, e.g. `17.0.1.3`.
    pub version: Option<String>,
}

/// A module left in the middle of an operation (`to install`, `to upgrade`, `to remove`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct UncleanModule {
    /// Technical name.
    pub name: String,
    /// Its state.
    pub state: String,
}

/// An installed module that is likely not one of Odoo's: it needs its own upgrade.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct CustomModule {
    /// Technical name.
    pub name: String,
    /// `latest_version`.
    pub version: Option<String>,
    /// Why it looks custom, one phrase per signal.
    pub reasons: Vec<String>,
}

/// Files the `ir_attachment` rows expect in the filestore.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct AttachmentRefs {
    /// Rows with a `store_fname`.
    pub count: u64,
    /// Their summed `file_size`.
    pub bytes: u64,
}

/// The filestore: what the dump carries and what the database expects.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct FilestoreFacts {
    /// The dump carries a filestore (zip entries under `filestore/`).
    pub included: bool,
    /// Files under `filestore/`.
    pub files: u64,
    /// Their uncompressed size.
    pub bytes: u64,
    /// What `ir_attachment` references; `None` when the dump has no `ir_attachment` data.
    pub referenced_attachments: Option<AttachmentRefs>,
    /// `ir_config_parameter` `ir_attachment.location` (`db` keeps binaries in the database).
    pub attachment_location: Option<String>,
}

/// `manifest.json` of an Odoo backup zip.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize, Serialize)]
pub struct Manifest {
    /// Manifest format version (`"1"`).
    pub odoo_dump: Option<String>,
    /// The database name.
    pub db_name: Option<String>,
    /// `release.version` of the Odoo that made the backup (may end in `+e` or `-YYYYMMDD`).
    pub version: Option<String>,
    /// `release.version_info`, e.g. `[17, 0, 0, "final", 0, ""]`.
    pub version_info: Option<Vec<serde_json::Value>>,
    /// `release.major_version`, e.g. `17.0`.
    pub major_version: Option<String>,
    /// The PostgreSQL version Odoo reported (`"14.0"` for any PostgreSQL 10 or later).
    pub pg_version: Option<String>,
    /// Installed modules and their versions.
    #[serde(default)]
    pub modules: BTreeMap<String, String>,
}

impl Manifest {
    /// Parses the text of `manifest.json`; `None` when it is not a JSON object of that shape.
    pub fn parse(text: &str) -> Option<Manifest> {
        serde_json::from_str(text).ok()
    }

    /// The series of the Odoo that made the backup: `major_version`, else `version`.
    pub fn series(&self) -> Option<Series> {
        [&self.major_version, &self.version]
            .into_iter()
            .flatten()
            .find_map(|v| v.parse::<OdooVersion>().ok())
            .map(|v| v.series)
    }
}

/// What a dump says about its Odoo database: the `odoo` object of `inspect --json`, and the
/// input of the `check` rules.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct OdooFacts {
    /// The series, when known for certain (`None` when only estimated).
    pub series: Option<Series>,
    /// base's `latest_version` as stored, e.g. `17.0.1.3`.
    pub base_version: Option<String>,
    /// Where the series came from.
    pub source: VersionSource,
    /// `certain` or `estimate`.
    pub confidence: Confidence,
    /// The range the schema allows, when the series is not known for certain.
    pub estimate: Option<SeriesEstimate>,
    /// The series `manifest.json` names (zip backups).
    pub manifest_series: Option<Series>,
    /// The manifest names another series than the database's base row.
    pub manifest_mismatch: bool,
    /// The parsed `manifest.json`, if any.
    pub manifest: Option<Manifest>,
    /// Community or enterprise; `None` without module rows.
    pub edition: Option<Edition>,
    /// The installed `OEEL-1` modules that make it enterprise.
    pub enterprise_modules: Vec<String>,
    /// At least one strong neutralization signal: not an exact copy.
    pub neutralized: bool,
    /// Every neutralization signal found, strong and weak.
    pub neutralization_signals: Vec<NeutralizationSignal>,
    /// `database.uuid`.
    pub database_uuid: Option<String>,
    /// Whether `database.enterprise_code` (the subscription code the upgrade needs) is set.
    pub enterprise_code_present: bool,
    /// The code masked (first character and last four), never the code itself.
    pub enterprise_code_masked: Option<String>,
    /// The code itself, for the upgrade client ([`OdooFacts::enterprise_code`]): left out of
    /// `Serialize`, masked in `Debug`.
    #[serde(skip)]
    pub(crate) enterprise_code: HiddenCode,
    /// `web.base.url`.
    pub web_base_url: Option<String>,
    /// Rows of `ir_module_module`.
    pub module_count: u64,
    /// Installed modules with their versions.
    pub installed_modules: Vec<InstalledModule>,
    /// Modules left in `to install`, `to upgrade` or `to remove`.
    pub unclean_modules: Vec<UncleanModule>,
    /// Installed modules that look custom, with why.
    pub custom_modules: Vec<CustomModule>,
    /// The filestore.
    pub filestore: FilestoreFacts,
}

/// `database.enterprise_code` in full: never serialized, masked in `Debug`.
#[derive(Clone, Default, PartialEq, Eq)]
pub(crate) struct HiddenCode(pub(crate) Option<String>);

impl std::fmt::Debug for HiddenCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "HiddenCode({:?})", self.0.as_deref().map(mask))
    }
}

impl OdooFacts {
    /// The subscription code (`database.enterprise_code`) in full, for the upgrade client to
    /// send as the request's contract. Never print it: `Serialize` leaves it out and `Debug`
    /// masks it ([`OdooFacts::enterprise_code_masked`] is the printable form).
    pub fn enterprise_code(&self) -> Option<&str> {
        self.enterprise_code.0.as_deref()
    }
}

/// States of modules that are installed in the database.
const INSTALLED_STATES: &[&str] = &["installed", "to upgrade", "to remove"];
/// States an interrupted install, upgrade or uninstall leaves behind.
const UNCLEAN_STATES: &[&str] = &["to install", "to upgrade", "to remove"];

impl OdooCollector {
    /// Turns what was collected into [`OdooFacts`]; `None` when the dump is not an Odoo database
    /// (no `ir_module_module` table at all). `zip` is the backup zip's inventory (manifest and
    /// filestore), `summary` the reader's summary of the same read.
    ///
    /// The series comes from base's row when there is one, else from the manifest, else from
    /// the schema fingerprints (an estimate).
    pub fn finish(self, zip: Option<&ZipInventory>, summary: &DumpSummary) -> Option<OdooFacts> {
        if !self.module_table_created && !self.rows.module_rows_seen {
            return None;
        }
        let rows = &self.rows;
        let manifest = zip
            .and_then(|z| z.manifest.as_deref())
            .and_then(Manifest::parse);
        let manifest_series = manifest.as_ref().and_then(Manifest::series);
        let base_series = rows
            .base_version
            .as_deref()
            .and_then(|v| v.parse::<OdooVersion>().ok())
            .map(|v| v.series);
        let (series, source, confidence, estimate) = match (base_series, manifest_series) {
            (Some(s), _) => (
                Some(s),
                VersionSource::IrModuleModule,
                Confidence::Certain,
                None,
            ),
            (None, Some(s)) => (Some(s), VersionSource::Manifest, Confidence::Certain, None),
            (None, None) => {
                // Missing tables mean something only once every CREATE TABLE was read, which
                // is so when the data section was reached or the dump ended properly.
                let complete =
                    self.module_table_created && (self.data_seen || summary.trailer_seen);
                let estimate = self.schema.estimate(complete);
                (
                    None,
                    VersionSource::Schema,
                    Confidence::Estimate,
                    Some(estimate),
                )
            }
        };
        let manifest_mismatch =
            matches!((base_series, manifest_series), (Some(b), Some(m)) if b != m);

        let installed: Vec<&ModuleRow> = rows
            .modules
            .iter()
            .filter(|m| INSTALLED_STATES.contains(&m.state.as_str()))
            .collect();
        let enterprise_modules: Vec<String> = installed
            .iter()
            .filter(|m| m.license.as_deref() == Some("OEEL-1"))
            .map(|m| m.name.clone())
            .collect();
        let edition = rows
            .module_rows_seen
            .then_some(if enterprise_modules.is_empty() {
                Edition::Community
            } else {
                Edition::Enterprise
            });
        let param = |key: &str| {
            rows.params
                .iter()
                .rev()
                .find(|(k, _)| k == key)
                .map(|(_, v)| v.clone())
        };
        let enterprise_code = param("database.enterprise_code").filter(|c| !c.trim().is_empty());
        let signals = neutralization_signals(rows, &param);
        let series_for_licenses = series.or(estimate.as_ref().map(|e| e.min));

        Some(OdooFacts {
            series,
            base_version: rows.base_version.clone(),
            source,
            confidence,
            estimate,
            manifest_series,
            manifest_mismatch,
            manifest,
            edition,
            enterprise_modules,
            neutralized: signals.iter().any(|s| s.strength == Strength::Strong),
            neutralization_signals: signals,
            database_uuid: param("database.uuid"),
            enterprise_code_present: enterprise_code.is_some(),
            enterprise_code_masked: enterprise_code.as_deref().map(mask),
            enterprise_code: HiddenCode(enterprise_code.map(|c| c.trim().to_owned())),
            web_base_url: param("web.base.url"),
            module_count: rows.module_count,
            installed_modules: installed
                .iter()
                .map(|m| InstalledModule {
                    name: m.name.clone(),
                    version: m.version.clone(),
                })
                .collect(),
            unclean_modules: rows
                .modules
                .iter()
                .filter(|m| UNCLEAN_STATES.contains(&m.state.as_str()))
                .map(|m| UncleanModule {
                    name: m.name.clone(),
                    state: m.state.clone(),
                })
                .collect(),
            custom_modules: installed
                .iter()
                .filter_map(|m| {
                    custom_reasons(m, series_for_licenses).map(|reasons| CustomModule {
                        name: m.name.clone(),
                        version: m.version.clone(),
                        reasons,
                    })
                })
                .collect(),
            filestore: FilestoreFacts {
                included: zip.is_some_and(|z| z.filestore_files > 0),
                files: zip.map_or(0, |z| z.filestore_files),
                bytes: zip.map_or(0, |z| z.filestore_bytes),
                referenced_attachments: rows.attachments_seen.then_some(AttachmentRefs {
                    count: rows.stored_attachments,
                    bytes: rows.stored_bytes,
                }),
                attachment_location: param("ir_attachment.location"),
            },
        })
    }
}

/// `M…abcd`: the first character and the last four, so a person can tell codes apart without
/// the code being shown. Short codes are masked whole.
fn mask(code: &str) -> String {
    let chars: Vec<char> = code.trim().chars().collect();
    if chars.len() < 8 {
        return "…".to_string();
    }
    let tail: String = chars[chars.len() - 4..].iter().collect();
    format!("{}…{tail}", chars[0])
}

/// Every strong and weak neutralization signal in the rows.
fn neutralization_signals(
    rows: &RowFacts,
    param: &dyn Fn(&str) -> Option<String>,
) -> Vec<NeutralizationSignal> {
    let mut out = Vec::new();
    let mut signal = |code, strength, evidence: String| {
        out.push(NeutralizationSignal {
            code,
            strength,
            evidence,
        })
    };
    if let Some(value) = param("database.is_neutralized").filter(|v| truthy(v)) {
        signal(
            "is-neutralized-parameter",
            Strength::Strong,
            format!("ir_config_parameter database.is_neutralized = {value:?}"),
        );
    }
    if let Some(uuid) = param("database.uuid").filter(|u| u.starts_with("upg-neuter-")) {
        signal(
            "upgrade-test-uuid",
            Strength::Strong,
            format!("database.uuid {uuid:?} is an upgrade-platform test copy's"),
        );
    }
    if rows.dummy_mail_server {
        signal(
            "dummy-mail-server",
            Strength::Strong,
            "ir_mail_server 'neutralization - disable emails' with host 'invalid'".to_string(),
        );
    }
    for key in &rows.banner_views {
        signal(
            "neutralize-banner",
            Strength::Strong,
            format!("ir_ui_view {key} is active"),
        );
    }
    if rows.disabled_webhooks > 0 {
        signal(
            "disabled-webhooks",
            Strength::Strong,
            format!(
                "{} ir_act_server webhook_url = 'neutralization - disable webhook'",
                rows.disabled_webhooks
            ),
        );
    }
    if rows.dummy_secret {
        signal(
            "dummy-secret",
            Strength::Strong,
            "ir_config_parameter database.secret = 'dummysecret'".to_string(),
        );
    }
    let others: Vec<_> = rows
        .crons
        .iter()
        .filter(|c| {
            !c.autovacuum
                && !c
                    .action_id
                    .is_some_and(|id| rows.autovacuum_actions.contains(&id))
        })
        .collect();
    if !others.is_empty() && others.iter().all(|c| !c.active) {
        signal(
            "crons-inactive",
            Strength::Weak,
            format!(
                "all {} ir_cron jobs but the autovacuum are inactive",
                others.len()
            ),
        );
    }
    if rows.iap_disabled > 0 {
        signal(
            "iap-tokens-disabled",
            Strength::Weak,
            format!(
                "{} of {} iap_account tokens end with '+disabled'",
                rows.iap_disabled, rows.iap_accounts
            ),
        );
    }
    if let Some(table) = rows.payment_table {
        if rows.payment_providers > 0 && rows.live_payment_providers == 0 {
            signal(
                "payment-providers-disabled",
                Strength::Weak,
                format!(
                    "none of the {} {table} rows is enabled (all disabled or in test mode)",
                    rows.payment_providers
                ),
            );
        }
    }
    if let Some(url) = param("web.base.url").filter(|u| is_local_url(u)) {
        signal(
            "localhost-base-url",
            Strength::Weak,
            format!("web.base.url is {url:?}"),
        );
    }
    out
}

/// The host part of a URL, lower-cased, without `www.`, port or credentials.
fn host(url: &str) -> String {
    let rest = url.trim().split_once("://").map_or(url.trim(), |(_, r)| r);
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    let authority = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    let host = if authority.starts_with('[') {
        authority.split_inclusive(']').next().unwrap_or(authority)
    } else {
        authority.split(':').next().unwrap_or(authority)
    };
    let host = host.to_ascii_lowercase();
    host.strip_prefix("www.")
        .map(str::to_string)
        .unwrap_or(host)
}

fn is_local_url(url: &str) -> bool {
    let host = host(url);
    host == "localhost"
        || host.ends_with(".localhost")
        || host.starts_with("127.")
        || host == "0.0.0.0"
        || host == "[::1]"
}

/// Licenses of Odoo's own modules: LGPL-3 (community, the default), OEEL-1 (enterprise); before
/// 9.0 community modules were AGPL-3.
fn standard_license(license: &str, series: Option<Series>) -> bool {
    license == "LGPL-3"
        || license == "OEEL-1"
        || (license == "AGPL-3" && series.is_some_and(|s| s < Series::Major(9)))
}

fn odoo_author(author: &str) -> bool {
    let a = author.to_ascii_lowercase();
    ["odoo s.a", "odoo sa", "openerp s.a", "openerp sa"]
        .iter()
        .any(|odoo| a.contains(odoo))
}

fn odoo_website(url: &str) -> bool {
    let h = host(url);
    h.is_empty()
        || ["odoo.com", "openerp.com"]
            .iter()
            .any(|d| h == *d || h.ends_with(&format!(".{d}")))
}

/// Why an installed module looks custom, or `None` when it looks like one of Odoo's.
///
/// Signals: `imported` (a data module loaded with base_import_module, unless it is one of Odoo's
/// industry modules), a license Odoo does not use for its modules, an author other than Odoo
/// S.A., a name pattern (`x_…`, `…custom…`), a website off odoo.com. Odoo's manifest defaults
/// (`author = 'Odoo S.A.'`, `license = 'LGPL-3'`) mean a custom module that sets neither looks
/// standard by these fields: only its name can give it away. Localizations (`l10n_…`) are often
/// written by partners, so their author alone is not enough; a website off odoo.com alone is
/// never enough (Odoo's own mobile module points to an app store).
fn custom_reasons(m: &ModuleRow, series: Option<Series>) -> Option<Vec<String>> {
    let mut reasons = Vec::new();
    let mut decisive = false;
    let odoo_authored = m.author.as_deref().is_none_or(odoo_author);
    if m.imported {
        let industry = m.module_type.as_deref() == Some("industries") && odoo_authored;
        if !industry {
            reasons.push("imported with base_import_module (a data module)".to_string());
            decisive = true;
        }
    }
    if let Some(license) = m.license.as_deref().filter(|l| !l.is_empty()) {
        if !standard_license(license, series) {
            reasons.push(format!(
                "license {license} (Odoo's modules are LGPL-3 or OEEL-1)"
            ));
            decisive = true;
        }
    }
    if m.name.starts_with("x_") || (m.name.contains("custom") && m.name != "studio_customization") {
        reasons.push(format!("name {:?} follows a customization pattern", m.name));
        decisive = true;
    }
    let website_off = m.website.as_deref().is_some_and(|w| !odoo_website(w));
    if !odoo_authored {
        reasons.push(format!(
            "author {:?} is not Odoo S.A.",
            m.author.as_deref().unwrap_or_default()
        ));
        let partner_localization = m.name.starts_with("l10n_")
            && m.license
                .as_deref()
                .is_none_or(|l| standard_license(l, series));
        decisive |= !partner_localization || website_off;
    }
    if website_off {
        reasons.push(format!(
            "website {:?} is not on odoo.com",
            m.website.as_deref().unwrap_or_default()
        ));
    }
    decisive.then_some(reasons)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::collector::tests::feed;
    use odump_pgdump::{DumpFormat, Sink};

    const MODULE_COLUMNS: &[&str] = &[
        "id",
        "name",
        "state",
        "latest_version",
        "license",
        "author",
        "website",
        "imported",
    ];

    fn summary() -> DumpSummary {
        let mut s = DumpSummary::new(DumpFormat::Plain);
        s.trailer_seen = true;
        s
    }

    fn collector_with_modules(rows: &[&str]) -> OdooCollector {
        let mut c = OdooCollector::new();
        feed(&mut c, "ir_module_module", MODULE_COLUMNS, rows);
        c
    }

    fn base_rows() -> Vec<&'static str> {
        vec!["1\tbase\tinstalled\t17.0.1.3\tLGPL-3\tOdoo S.A.\t\\N\tf"]
    }

    fn finish(c: OdooCollector) -> OdooFacts {
        c.finish(None, &summary()).unwrap()
    }

    fn codes(f: &OdooFacts) -> Vec<(&'static str, Strength)> {
        f.neutralization_signals
            .iter()
            .map(|s| (s.code, s.strength))
            .collect()
    }

    #[test]
    fn not_odoo_without_ir_module_module() {
        let mut c = OdooCollector::new();
        c.statement(None, "CREATE TABLE public.res_partner (id integer)");
        feed(&mut c, "res_partner", &["id"], &["1"]);
        assert!(c.finish(None, &summary()).is_none());
    }

    #[test]
    fn edition_needs_an_installed_oeel_module() {
        let mut rows = base_rows();
        rows.push("2\tweb_studio\tuninstallable\t\\N\tOEEL-1\tOdoo S.A.\t\\N\tf");
        rows.push("3\thelpdesk\tuninstalled\t\\N\tOEEL-1\tOdoo S.A.\t\\N\tf");
        let f = finish(collector_with_modules(&rows));
        assert_eq!(f.edition, Some(Edition::Community));
        assert_eq!(f.installed_modules.len(), 1);
        rows.push("4\tweb_gantt\tinstalled\t17.0.2.0\tOEEL-1\tOdoo S.A.\t\\N\tf");
        let f = finish(collector_with_modules(&rows));
        assert_eq!(f.edition, Some(Edition::Enterprise));
        assert_eq!(f.enterprise_modules, ["web_gantt"]);
        assert_eq!(f.series, Some(Series::Major(17)));
        assert_eq!(
            (f.source, f.confidence),
            (VersionSource::IrModuleModule, Confidence::Certain)
        );
        assert!(f.custom_modules.is_empty(), "{:?}", f.custom_modules);
    }

    #[test]
    fn unclean_states_are_reported() {
        let mut rows = base_rows();
        rows.push("2\tsale\tto upgrade\t17.0.1.2\tLGPL-3\tOdoo S.A.\t\\N\tf");
        rows.push("3\tcrm\tto install\t\\N\tLGPL-3\tOdoo S.A.\t\\N\tf");
        rows.push("4\tnote\tto remove\t17.0.1.0\tLGPL-3\tOdoo S.A.\t\\N\tf");
        let f = finish(collector_with_modules(&rows));
        let unclean: Vec<_> = f
            .unclean_modules
            .iter()
            .map(|m| (m.name.as_str(), m.state.as_str()))
            .collect();
        assert_eq!(
            unclean,
            [
                ("sale", "to upgrade"),
                ("crm", "to install"),
                ("note", "to remove")
            ]
        );
        // "to install" is not installed yet.
        assert_eq!(f.installed_modules.len(), 3);
    }

    #[test]
    fn custom_modules_are_classified_with_reasons() {
        let mut rows = base_rows();
        rows.extend([
            // Odoo's defaults and an ordinary name: cannot be told from a standard module.
            "2\tacme_sale\tinstalled\t17.0.1.0\tLGPL-3\tOdoo S.A.\t\\N\tf",
            "3\tacme_stock\tinstalled\t17.0.1.0\tLGPL-3\tAcme Corp\thttps://acme.example\tf",
            "4\tpaid_app\tinstalled\t17.0.1.0\tOPL-1\tSomeone\t\\N\tf",
            "5\tmy_data\tinstalled\t17.0.1.0\tLGPL-3\tOdoo S.A.\t\\N\tt",
            "6\tx_tweaks\tinstalled\t17.0.1.0\tLGPL-3\tOdoo S.A.\t\\N\tf",
            "7\tl10n_do\tinstalled\t17.0.1.0\tLGPL-3\tGustavo Valverde - iterativo\thttps://www.odoo.com/documentation/17.0\tf",
            "8\tweb_mobile\tinstalled\t17.0.1.0\tOEEL-1\tOdoo S.A.\thttps://play.google.com/store/apps/details?id=com.odoo.mobile\tf",
            "9\tl10n_xx_acme\tinstalled\t17.0.1.0\tLGPL-3\tAcme\thttps://acme.example\tf",
            "10\tstudio_customization\tinstalled\t17.0.1.0\tOEEL-1\tOdoo S.A.\t\\N\tf",
            "11\tsale_custom\tuninstalled\t\\N\tLGPL-3\tAcme\t\\N\tf",
            "12\toca_module\tinstalled\t17.0.1.0.0\tAGPL-3\tOdoo Community Association (OCA)\thttps://github.com/OCA/x\tf",
        ]);
        let f = finish(collector_with_modules(&rows));
        let custom: BTreeMap<&str, &Vec<String>> = f
            .custom_modules
            .iter()
            .map(|m| (m.name.as_str(), &m.reasons))
            .collect();
        let names: Vec<&str> = custom.keys().copied().collect();
        assert_eq!(
            names,
            [
                "acme_stock",
                "l10n_xx_acme",
                "my_data",
                "oca_module",
                "paid_app",
                "x_tweaks"
            ]
        );
        assert_eq!(custom["acme_stock"].len(), 2, "{:?}", custom["acme_stock"]);
        assert!(custom["paid_app"][0].contains("OPL-1"));
        assert!(custom["my_data"][0].contains("imported"));
        assert!(custom["x_tweaks"][0].contains("pattern"));
        assert_eq!(custom["oca_module"].len(), 3, "{:?}", custom["oca_module"]);
    }

    #[test]
    fn agpl_is_standard_before_nine() {
        let f = finish(collector_with_modules(&[
            "1\tbase\tinstalled\t8.0.1.3\tAGPL-3\tOpenERP SA\thttp://www.openerp.com\tf",
            "2\tsale\tinstalled\t8.0.1.0\tAGPL-3\tOpenERP SA\thttp://www.openerp.com\tf",
        ]));
        assert!(f.custom_modules.is_empty(), "{:?}", f.custom_modules);
    }

    #[test]
    fn industry_modules_are_not_custom() {
        let mut c = OdooCollector::new();
        feed(
            &mut c,
            "ir_module_module",
            &[
                "name",
                "state",
                "latest_version",
                "license",
                "author",
                "imported",
                "module_type",
            ],
            &[
                "base\tinstalled\t17.0.1.3\tLGPL-3\tOdoo S.A.\tf\tofficial",
                "bakery\tinstalled\t17.0.1.0\tOEEL-1\tOdoo S.A.\tt\tindustries",
            ],
        );
        assert!(finish(c).custom_modules.is_empty());
    }

    fn neutral_base() -> OdooCollector {
        collector_with_modules(&base_rows())
    }

    #[test]
    fn each_strong_signal() {
        let params = ["key", "value"];
        type Apply = Box<dyn Fn(&mut OdooCollector)>;
        let cases: Vec<(&str, Apply)> = vec![
            (
                "is-neutralized-parameter",
                Box::new(move |c| {
                    feed(
                        c,
                        "ir_config_parameter",
                        &params,
                        &["database.is_neutralized\tTrue"],
                    );
                }),
            ),
            (
                "upgrade-test-uuid",
                Box::new(move |c| {
                    feed(
                        c,
                        "ir_config_parameter",
                        &params,
                        &["database.uuid\tupg-neuter-1234"],
                    );
                }),
            ),
            (
                "dummy-secret",
                Box::new(move |c| {
                    feed(
                        c,
                        "ir_config_parameter",
                        &params,
                        &["database.secret\tdummysecret"],
                    );
                }),
            ),
            (
                "dummy-mail-server",
                Box::new(|c| {
                    feed(
                        c,
                        "ir_mail_server",
                        &["id", "name", "smtp_host", "active"],
                        &[
                            "1\tGmail\tsmtp.gmail.com\tf",
                            "2\tneutralization - disable emails\tinvalid\tt",
                        ],
                    );
                }),
            ),
            (
                "neutralize-banner",
                Box::new(|c| {
                    feed(
                        c,
                        "ir_ui_view",
                        &["id", "key", "arch_db", "active"],
                        &["1\tweb.neutralize_banner\t<t/>\tt"],
                    );
                }),
            ),
            (
                "disabled-webhooks",
                Box::new(|c| {
                    feed(
                        c,
                        "ir_act_server",
                        &["id", "state", "webhook_url"],
                        &["1\twebhook\tneutralization - disable webhook"],
                    );
                }),
            ),
        ];
        for (code, apply) in cases {
            let mut c = neutral_base();
            apply(&mut c);
            let f = finish(c);
            assert_eq!(codes(&f), [(code, Strength::Strong)], "{code}");
            assert!(f.neutralized, "{code}");
        }
    }

    #[test]
    fn exact_copies_have_no_signal() {
        let mut c = neutral_base();
        feed(
            &mut c,
            "ir_config_parameter",
            &["key", "value"],
            &[
                "database.is_neutralized\tFalse",
                "database.uuid\t0968af28-aaad-11f0-9065-f38975a3ffd6",
                "database.secret\t3fcb263a",
                "web.base.url\thttps://erp.example.com",
            ],
        );
        feed(
            &mut c,
            "ir_mail_server",
            &["name", "smtp_host"],
            &["neutralization - disable emails\tsmtp.example.com"],
        );
        feed(
            &mut c,
            "ir_ui_view",
            &["key", "active"],
            &["web.neutralize_banner\tf"],
        );
        feed(
            &mut c,
            "ir_act_server",
            &["id", "state", "webhook_url"],
            &["1\twebhook\thttps://hook.example"],
        );
        feed(
            &mut c,
            "ir_cron",
            &["id", "cron_name", "active"],
            &["1\tMail: send\tt", "2\tBase: Auto-vacuum internal data\tt"],
        );
        feed(
            &mut c,
            "payment_provider",
            &["id", "state"],
            &["1\tenabled", "2\tdisabled"],
        );
        let f = finish(c);
        assert!(
            f.neutralization_signals.is_empty(),
            "{:?}",
            f.neutralization_signals
        );
        assert!(!f.neutralized);
        assert_eq!(
            f.database_uuid.as_deref(),
            Some("0968af28-aaad-11f0-9065-f38975a3ffd6")
        );
    }

    #[test]
    fn each_weak_signal() {
        let mut c = neutral_base();
        feed(
            &mut c,
            "ir_config_parameter",
            &["key", "value"],
            &["web.base.url\thttp://localhost:8069"],
        );
        feed(
            &mut c,
            "iap_account",
            &["id", "account_token"],
            &["1\tabc+disabled", "2\tdef"],
        );
        feed(
            &mut c,
            "payment_acquirer",
            &["id", "state"],
            &["1\ttest", "2\tdisabled"],
        );
        feed(
            &mut c,
            "ir_cron",
            &["id", "cron_name", "active"],
            &["1\tMail: send\tf", "2\tCalendar\tf"],
        );
        let f = finish(c);
        let mut got = codes(&f);
        got.sort_by_key(|(code, _)| *code);
        assert_eq!(
            got,
            [
                ("crons-inactive", Strength::Weak),
                ("iap-tokens-disabled", Strength::Weak),
                ("localhost-base-url", Strength::Weak),
                ("payment-providers-disabled", Strength::Weak),
            ]
        );
        assert!(!f.neutralized);
        // Newer payment providers say is_live.
        let mut c = neutral_base();
        feed(&mut c, "payment_provider", &["id", "is_live"], &["1\tf"]);
        assert_eq!(
            codes(&finish(c)),
            [("payment-providers-disabled", Strength::Weak)]
        );
        let mut c = neutral_base();
        feed(&mut c, "payment_provider", &["id", "is_live"], &["1\tt"]);
        assert!(codes(&finish(c)).is_empty());
    }

    #[test]
    fn autovacuum_cron_is_recognized_every_way() {
        // By its server action (ir_act_server is dumped before ir_cron, but order does not matter).
        let mut c = neutral_base();
        feed(
            &mut c,
            "ir_cron",
            &["id", "ir_actions_server_id", "cron_name", "active"],
            &["1\t34\tVide-ordures\tt", "2\t35\tMail: send\tf"],
        );
        feed(
            &mut c,
            "ir_act_server",
            &["id", "model_name", "code"],
            &[
                "34\tir.autovacuum\tmodel._run_vacuum_cleaner()",
                "35\tmail.mail\tmodel.process_email_queue()",
            ],
        );
        assert_eq!(codes(&finish(c)), [("crons-inactive", Strength::Weak)]);
        // By a jsonb cron name (16.0).
        let mut c = neutral_base();
        feed(
            &mut c,
            "ir_cron",
            &["id", "cron_name", "active"],
            &[
                "1\t{\"en_US\": \"Base: Auto-vacuum internal data\"}\tt",
                "2\t{\"en_US\": \"Mail: send\"}\tf",
            ],
        );
        assert_eq!(codes(&finish(c)), [("crons-inactive", Strength::Weak)]);
        // By model before 11.0.
        let mut c = neutral_base();
        feed(
            &mut c,
            "ir_cron",
            &["id", "name", "model", "active"],
            &["1\tAuto vacuum\tir.autovacuum\tt", "2\tx\ty\tf"],
        );
        assert_eq!(codes(&finish(c)), [("crons-inactive", Strength::Weak)]);
        // Only the autovacuum: no other job to judge by.
        let mut c = neutral_base();
        feed(
            &mut c,
            "ir_cron",
            &["id", "cron_name", "active"],
            &["1\tBase: Auto-vacuum internal data\tt"],
        );
        assert!(codes(&finish(c)).is_empty());
    }

    #[test]
    fn enterprise_code_is_masked_and_filestore_counted() {
        let mut c = neutral_base();
        feed(
            &mut c,
            "ir_config_parameter",
            &["key", "value"],
            &[
                "database.enterprise_code\tM1234567890abcd",
                "ir_attachment.location\tdb",
            ],
        );
        feed(
            &mut c,
            "ir_attachment",
            &["store_fname", "file_size"],
            &["ab/x\t10", "\\N\t5"],
        );
        let zip = ZipInventory {
            entries: 4,
            has_dump_sql: true,
            filestore_files: 2,
            filestore_bytes: 300,
            complete: true,
            ..ZipInventory::default()
        };
        let f = c.finish(Some(&zip), &summary()).unwrap();
        assert!(f.enterprise_code_present);
        assert_eq!(f.enterprise_code_masked.as_deref(), Some("M…abcd"));
        let json = serde_json::to_string(&f).unwrap();
        assert!(!json.contains("M1234567890abcd"));
        assert!(!format!("{f:?}").contains("M1234567890abcd"));
        assert_eq!(f.enterprise_code(), Some("M1234567890abcd"));
        assert_eq!(f.filestore.attachment_location.as_deref(), Some("db"));
        assert_eq!(
            f.filestore.referenced_attachments,
            Some(AttachmentRefs {
                count: 1,
                bytes: 10
            })
        );
        assert!(f.filestore.included);
        assert_eq!((f.filestore.files, f.filestore.bytes), (2, 300));
        assert_eq!(mask("short"), "…");
    }

    #[test]
    fn manifest_fills_in_and_mismatch_is_reported() {
        let manifest = r#"{"odoo_dump": "1", "db_name": "x", "version": "17.0+e-20240101",
            "version_info": [17, 0, 0, "final", 0, "e"], "major_version": "17.0",
            "pg_version": "14.0", "modules": {"base": "17.0.1.3"}}"#;
        let zip = ZipInventory {
            manifest: Some(manifest.to_string()),
            ..ZipInventory::default()
        };
        // No base row: the manifest gives the series.
        let mut c = OdooCollector::new();
        c.statement(
            None,
            "CREATE TABLE public.ir_module_module (id integer, name character varying)",
        );
        let f = c.finish(Some(&zip), &summary()).unwrap();
        assert_eq!(
            (f.series, f.source),
            (Some(Series::Major(17)), VersionSource::Manifest)
        );
        assert!(!f.manifest_mismatch);
        assert_eq!(
            f.manifest.as_ref().unwrap().pg_version.as_deref(),
            Some("14.0")
        );
        // The base row wins and the mismatch is reported.
        let c = collector_with_modules(&[
            "1\tbase\tinstalled\tsaas~17.2.1.3\tLGPL-3\tOdoo S.A.\t\\N\tf",
        ]);
        let f = c.finish(Some(&zip), &summary()).unwrap();
        assert_eq!(
            f.series,
            Some(Series::Saas {
                major: 17,
                minor: 2
            })
        );
        assert_eq!(f.manifest_series, Some(Series::Major(17)));
        assert!(f.manifest_mismatch);
        // A manifest that is not JSON is ignored.
        let bad = ZipInventory {
            manifest: Some("not json".into()),
            ..ZipInventory::default()
        };
        let f = collector_with_modules(&base_rows())
            .finish(Some(&bad), &summary())
            .unwrap();
        assert_eq!((f.manifest.is_none(), f.manifest_series), (true, None));
    }

    #[test]
    fn schema_only_gives_an_estimate() {
        let mut c = OdooCollector::new();
        for sql in [
            "CREATE TABLE public.ir_module_module (\n    id integer NOT NULL,\n    shortdesc jsonb\n)",
            "CREATE TABLE public.ir_cron (\n    id integer NOT NULL,\n    cron_name jsonb,\n    numbercall integer\n)",
            "CREATE TABLE public.ir_property (id integer)",
        ] {
            c.statement(None, sql);
        }
        let f = finish(c);
        assert_eq!(
            (f.series, f.source, f.confidence),
            (None, VersionSource::Schema, Confidence::Estimate)
        );
        let e = f.estimate.unwrap();
        assert!(e.contains(Series::Major(16)), "{e:?}");
        assert_eq!(e.min, Series::Major(16));
        assert_eq!(f.edition, None);
        let json = serde_json::to_value(&f.neutralization_signals).unwrap();
        assert_eq!(json, serde_json::json!([]));
    }

    #[test]
    fn hosts() {
        assert_eq!(host("https://user:pw@WWW.Odoo.com:443/app?x"), "odoo.com");
        assert_eq!(host("http://[::1]:8069"), "[::1]");
        assert!(is_local_url("http://127.0.0.1:8069"));
        assert!(is_local_url("localhost:8069"));
        assert!(!is_local_url("https://localhost.example.com"));
        assert!(odoo_website("https://apps.odoo.com/x"));
        assert!(!odoo_website("https://notodoo.com"));
    }
}

//! [`OdooCollector`]: the sink that gathers Odoo facts from a dump in one pass.

use std::borrow::Cow;
use std::collections::BTreeSet;

use odump_pgdump::{CopyHeader, Flow, Row, Sink, TocEntry};

use crate::fingerprint::{SchemaFacts, COLUMN_TABLES};
use crate::sql;

/// The `ir_config_parameter` keys the collector keeps (others are skipped).
pub(crate) const PARAM_KEYS: &[&str] = &[
    "database.is_neutralized",
    "database.uuid",
    "database.enterprise_code",
    "web.base.url",
    "ir_attachment.location",
];

/// The value base's `neutralize.sql` gives `database.secret`.
const DUMMY_SECRET: &str = "dummysecret";

/// One `ir_module_module` row, for the modules that are not simply uninstalled.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct ModuleRow {
    pub name: String,
    pub state: String,
    pub version: Option<String>,
    pub license: Option<String>,
    pub author: Option<String>,
    pub website: Option<String>,
    pub imported: bool,
    pub module_type: Option<String>,
}

/// One `ir_cron` row: whether it runs and whether it is the autovacuum job.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct CronRow {
    pub active: bool,
    pub action_id: Option<i64>,
    /// Its own columns say autovacuum (name, or `model = 'ir.autovacuum'` before 11.0).
    pub autovacuum: bool,
}

/// What the rows of the tables the collector reads came to.
#[derive(Debug, Default)]
pub(crate) struct RowFacts {
    /// `ir_module_module` had a COPY block or INSERT (a data section for it exists).
    pub module_rows_seen: bool,
    /// base's `latest_version` (or `db_version`), once its row was read.
    pub base_version: Option<String>,
    pub base_seen: bool,
    /// Modules in any state but `uninstalled`/`uninstallable`.
    pub modules: Vec<ModuleRow>,
    pub module_count: u64,
    /// The kept `ir_config_parameter` values ([`PARAM_KEYS`]), in dump order.
    pub params: Vec<(String, String)>,
    pub dummy_secret: bool,
    pub attachments: u64,
    pub stored_attachments: u64,
    pub stored_bytes: u64,
    pub attachments_seen: bool,
    pub mail_servers: u64,
    pub dummy_mail_server: bool,
    pub crons: Vec<CronRow>,
    pub autovacuum_actions: BTreeSet<i64>,
    pub banner_views: Vec<String>,
    pub webhooks: u64,
    pub disabled_webhooks: u64,
    pub iap_accounts: u64,
    pub iap_disabled: u64,
    pub payment_providers: u64,
    pub live_payment_providers: u64,
    pub payment_table: Option<&'static str>,
}

impl RowFacts {
    /// Notes that a table's data section exists (even an empty one).
    fn mark(&mut self, block: &Block) {
        match block {
            Block::Modules { .. } => self.module_rows_seen = true,
            Block::Attachments { .. } => self.attachments_seen = true,
            _ => {}
        }
    }
}

/// The columns of one table the collector reads, as positions in its rows.
#[derive(Clone, Debug)]
enum Block {
    Modules {
        name: Option<usize>,
        state: Option<usize>,
        version: Option<usize>,
        license: Option<usize>,
        author: Option<usize>,
        website: Option<usize>,
        imported: Option<usize>,
        module_type: Option<usize>,
    },
    Params {
        key: Option<usize>,
        value: Option<usize>,
    },
    Attachments {
        store_fname: Option<usize>,
        file_size: Option<usize>,
    },
    MailServers {
        name: Option<usize>,
        host: Option<usize>,
    },
    Crons {
        active: Option<usize>,
        action: Option<usize>,
        cron_name: Option<usize>,
        name: Option<usize>,
        model: Option<usize>,
    },
    Views {
        key: Option<usize>,
        active: Option<usize>,
    },
    ServerActions {
        id: Option<usize>,
        model_name: Option<usize>,
        code: Option<usize>,
        state: Option<usize>,
        webhook_url: Option<usize>,
    },
    Iap {
        token: Option<usize>,
    },
    Payment {
        table: &'static str,
        state: Option<usize>,
        is_live: Option<usize>,
    },
}

impl Block {
    /// The block for a table the collector reads, `None` for any other table. In `version_only`
    /// mode only `ir_module_module` is read.
    fn for_table(table: &str, columns: &[String], version_only: bool) -> Option<Block> {
        let col = |name: &str| columns.iter().position(|c| c == name);
        if version_only && table != "ir_module_module" {
            return None;
        }
        Some(match table {
            "ir_module_module" => Block::Modules {
                name: col("name"),
                state: col("state"),
                version: col("latest_version").or_else(|| col("db_version")),
                license: col("license"),
                author: col("author"),
                website: col("website"),
                imported: col("imported"),
                module_type: col("module_type"),
            },
            "ir_config_parameter" => Block::Params {
                key: col("key"),
                value: col("value"),
            },
            "ir_attachment" => Block::Attachments {
                store_fname: col("store_fname"),
                file_size: col("file_size"),
            },
            "ir_mail_server" => Block::MailServers {
                name: col("name"),
                host: col("smtp_host"),
            },
            "ir_cron" => Block::Crons {
                active: col("active"),
                action: col("ir_actions_server_id"),
                cron_name: col("cron_name"),
                name: col("name"),
                model: col("model"),
            },
            "ir_ui_view" => Block::Views {
                key: col("key"),
                active: col("active"),
            },
            "ir_act_server" => Block::ServerActions {
                id: col("id"),
                model_name: col("model_name"),
                code: col("code"),
                state: col("state"),
                webhook_url: col("webhook_url"),
            },
            "iap_account" => Block::Iap {
                token: col("account_token"),
            },
            "payment_provider" | "payment_acquirer" => Block::Payment {
                table: if table == "payment_provider" {
                    "payment_provider"
                } else {
                    "payment_acquirer"
                },
                state: col("state"),
                is_live: col("is_live"),
            },
            _ => return None,
        })
    }
}

/// Read access to one row's fields, from a COPY row or an INSERT.
trait Fields {
    /// The text of field `index`; `None` for a missing column or SQL NULL.
    fn text(&self, index: Option<usize>) -> Option<Cow<'_, str>>;
}

impl Fields for Row<'_> {
    fn text(&self, index: Option<usize>) -> Option<Cow<'_, str>> {
        self.get(index).flatten()
    }
}

impl Fields for [Option<String>] {
    fn text(&self, index: Option<usize>) -> Option<Cow<'_, str>> {
        self.get(index?)?.as_deref().map(Cow::Borrowed)
    }
}

/// PostgreSQL's boolean text forms (`t` in COPY, `true` in INSERT).
pub(crate) fn truthy(value: &str) -> bool {
    matches!(
        value.trim(),
        "t" | "true" | "True" | "TRUE" | "1" | "y" | "yes" | "on"
    )
}

/// Gathers what Odoo facts need from a dump: a [`Sink`] that reads only the rows of the few Odoo
/// tables it needs (modules, parameters, attachments, mail servers, crons, views, server actions,
/// IAP accounts, payment providers), keeps small summaries of them, and records schema
/// fingerprints from the `CREATE TABLE` statements.
///
/// Rows come from COPY blocks (mapped by the block's column list, so column order does not
/// matter and missing columns are tolerated) or from `INSERT` statements (`pg_dump --inserts`).
/// Call [`OdooCollector::finish`] after the read to get the [`crate::OdooFacts`].
///
/// ```
/// use odump_odoo::OdooCollector;
/// use odump_pgdump::{CopyHeader, Flow, Row, Sink, TableRef};
///
/// let mut collector = OdooCollector::version_only();
/// let copy = CopyHeader {
///     table: TableRef { schema: Some("public".into()), name: "ir_module_module".into() },
///     columns: vec!["id".into(), "name".into(), "state".into(), "latest_version".into()],
/// };
/// assert!(collector.wants_rows(&copy));
/// assert_eq!(collector.row(&copy, &Row::new(b"1\tbase\tinstalled\t17.0.1.3")), Flow::Stop);
/// ```
#[derive(Debug, Default)]
pub struct OdooCollector {
    version_only: bool,
    /// A `CREATE TABLE ir_module_module` was seen.
    pub(crate) module_table_created: bool,
    /// A COPY block or INSERT statement was seen (the data section was reached).
    pub(crate) data_seen: bool,
    pub(crate) schema: SchemaFacts,
    pub(crate) rows: RowFacts,
    current: Option<Block>,
}

impl OdooCollector {
    /// A collector that gathers every fact.
    pub fn new() -> Self {
        Self::default()
    }

    /// A collector for the version alone: it reads only `ir_module_module` and says
    /// [`Flow::Stop`] as soon as base's row is read, so the reader can stop early.
    pub fn version_only() -> Self {
        OdooCollector {
            version_only: true,
            ..Self::default()
        }
    }

    /// Whether the version has been found (base's row was read).
    pub fn has_version(&self) -> bool {
        self.rows.base_seen
    }

    fn create_table(&mut self, sql: &str) {
        let Some(table) = sql::create_table(sql) else {
            return;
        };
        if table.name == "ir_module_module" {
            self.module_table_created = true;
        }
        if COLUMN_TABLES.contains(&table.name.as_str())
            || Block::for_table(&table.name, &[], false).is_some()
        {
            self.schema
                .columns
                .insert(table.name.clone(), table.columns());
        }
        self.schema.tables.insert(table.name);
    }

    fn insert(&mut self, sql: &str) -> Flow {
        let Some((table, _)) = sql::insert_target(sql) else {
            return Flow::Continue;
        };
        if Block::for_table(&table, &[], self.version_only).is_none() {
            return Flow::Continue;
        }
        self.data_seen = true;
        let Some(insert) = sql::insert(sql) else {
            return Flow::Continue;
        };
        let columns: Vec<String> = match insert.columns {
            Some(columns) => columns,
            None => self
                .schema
                .columns
                .get(&table)
                .map(|cols| cols.iter().map(|(name, _)| name.clone()).collect())
                .unwrap_or_default(),
        };
        let Some(block) = Block::for_table(&table, &columns, self.version_only) else {
            return Flow::Continue;
        };
        self.rows.mark(&block);
        for row in &insert.rows {
            if self.take(&block, row.as_slice()) == Flow::Stop {
                return Flow::Stop;
            }
        }
        Flow::Continue
    }

    /// Records one row of a table read.
    fn take(&mut self, block: &Block, row: &(impl Fields + ?Sized)) -> Flow {
        let facts = &mut self.rows;
        match *block {
            Block::Modules {
                name,
                state,
                version,
                license,
                author,
                website,
                imported,
                module_type,
            } => {
                let Some(module) = row.text(name) else {
                    return Flow::Continue;
                };
                facts.module_count += 1;
                if module == "base" {
                    facts.base_seen = true;
                    facts.base_version = row.text(version).map(Cow::into_owned);
                    if self.version_only {
                        return Flow::Stop;
                    }
                }
                if self.version_only {
                    return Flow::Continue;
                }
                let state = row.text(state).map(Cow::into_owned).unwrap_or_default();
                if state == "uninstalled" || state == "uninstallable" {
                    return Flow::Continue;
                }
                let owned = |i| row.text(i).map(Cow::into_owned);
                facts.modules.push(ModuleRow {
                    name: module.into_owned(),
                    state,
                    version: owned(version),
                    license: owned(license),
                    author: owned(author),
                    website: owned(website),
                    imported: row.text(imported).is_some_and(|v| truthy(&v)),
                    module_type: owned(module_type),
                });
            }
            Block::Params { key, value } => {
                let Some(key) = row.text(key) else {
                    return Flow::Continue;
                };
                if key == "database.secret" {
                    facts.dummy_secret = row.text(value).is_some_and(|v| v == DUMMY_SECRET);
                } else if PARAM_KEYS.contains(&key.as_ref()) {
                    let value = row.text(value).map(Cow::into_owned).unwrap_or_default();
                    facts.params.push((key.into_owned(), value));
                }
            }
            Block::Attachments {
                store_fname,
                file_size,
            } => {
                facts.attachments += 1;
                if row.text(store_fname).is_some_and(|f| !f.is_empty()) {
                    facts.stored_attachments += 1;
                    let size = row
                        .text(file_size)
                        .and_then(|s| s.trim().parse::<u64>().ok());
                    facts.stored_bytes += size.unwrap_or(0);
                }
            }
            Block::MailServers { name, host } => {
                facts.mail_servers += 1;
                let dummy = row
                    .text(name)
                    .is_some_and(|n| n == "neutralization - disable emails")
                    && row.text(host).is_some_and(|h| h == "invalid");
                facts.dummy_mail_server |= dummy;
            }
            Block::Crons {
                active,
                action,
                cron_name,
                name,
                model,
            } => {
                let looks_autovacuum = |text: Option<Cow<'_, str>>| {
                    text.is_some_and(|t| {
                        let t = t.to_lowercase();
                        t.contains("auto-vacuum") || t.contains("autovacuum")
                    })
                };
                facts.crons.push(CronRow {
                    active: row.text(active).is_some_and(|v| truthy(&v)),
                    action_id: row.text(action).and_then(|v| v.trim().parse().ok()),
                    autovacuum: looks_autovacuum(row.text(cron_name))
                        || looks_autovacuum(row.text(name))
                        || row.text(model).is_some_and(|m| m == "ir.autovacuum"),
                });
            }
            Block::Views { key, active } => {
                if let Some(key) = row.text(key) {
                    if (key == "web.neutralize_banner" || key == "website.neutralize_ribbon")
                        && row.text(active).is_some_and(|v| truthy(&v))
                    {
                        facts.banner_views.push(key.into_owned());
                    }
                }
            }
            Block::ServerActions {
                id,
                model_name,
                code,
                state,
                webhook_url,
            } => {
                let autovacuum = row.text(model_name).is_some_and(|m| m == "ir.autovacuum")
                    || row.text(code).is_some_and(|c| {
                        c.contains("_run_vacuum_cleaner") || c.contains("power_on")
                    });
                if autovacuum {
                    if let Some(id) = row.text(id).and_then(|v| v.trim().parse().ok()) {
                        facts.autovacuum_actions.insert(id);
                    }
                }
                let url = row.text(webhook_url);
                if row.text(state).is_some_and(|s| s == "webhook") {
                    facts.webhooks += 1;
                }
                if url.is_some_and(|u| u == "neutralization - disable webhook") {
                    facts.disabled_webhooks += 1;
                }
            }
            Block::Iap { token } => {
                facts.iap_accounts += 1;
                if row.text(token).is_some_and(|t| t.ends_with("+disabled")) {
                    facts.iap_disabled += 1;
                }
            }
            Block::Payment {
                table,
                state,
                is_live,
            } => {
                let state = row.text(state);
                let is_live = row.text(is_live);
                if state.is_none() && is_live.is_none() {
                    return Flow::Continue;
                }
                facts.payment_table = Some(table);
                facts.payment_providers += 1;
                let live =
                    state.is_some_and(|s| s == "enabled") || is_live.is_some_and(|v| truthy(&v));
                if live {
                    facts.live_payment_providers += 1;
                }
            }
        }
        Flow::Continue
    }
}

impl Sink for OdooCollector {
    fn statement(&mut self, _toc: Option<&TocEntry>, sql: &str) -> Flow {
        let head = sql.trim_start().as_bytes();
        let starts =
            |word: &[u8]| head.len() > word.len() && head[..word.len()].eq_ignore_ascii_case(word);
        if starts(b"CREATE") {
            self.create_table(sql);
        } else if starts(b"INSERT") {
            return self.insert(sql);
        }
        Flow::Continue
    }

    fn wants_rows(&mut self, copy: &CopyHeader) -> bool {
        self.data_seen = true;
        self.current = Block::for_table(&copy.table.name, &copy.columns, self.version_only);
        match &self.current {
            Some(block) => {
                self.rows.mark(block);
                true
            }
            None => false,
        }
    }

    fn row(&mut self, _copy: &CopyHeader, row: &Row<'_>) -> Flow {
        match self.current.take() {
            Some(block) => {
                let flow = self.take(&block, row);
                self.current = Some(block);
                flow
            }
            None => Flow::Continue,
        }
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use odump_pgdump::TableRef;

    /// Feeds one COPY block to a collector, as the reader would.
    pub(crate) fn feed(
        c: &mut OdooCollector,
        table: &str,
        columns: &[&str],
        rows: &[&str],
    ) -> Flow {
        let copy = CopyHeader {
            table: TableRef {
                schema: Some("public".into()),
                name: table.into(),
            },
            columns: columns.iter().map(|c| c.to_string()).collect(),
        };
        if !c.wants_rows(&copy) {
            return Flow::Continue;
        }
        for line in rows {
            if c.row(&copy, &Row::new(line.as_bytes())) == Flow::Stop {
                return Flow::Stop;
            }
        }
        Flow::Continue
    }

    #[test]
    fn wants_only_its_tables() {
        let mut c = OdooCollector::new();
        for t in [
            "ir_module_module",
            "ir_config_parameter",
            "ir_attachment",
            "ir_cron",
            "payment_acquirer",
        ] {
            assert_eq!(feed(&mut c, t, &["id"], &[]), Flow::Continue);
            assert!(c.current.is_some(), "{t}");
        }
        feed(&mut c, "res_partner", &["id"], &[]);
        assert!(c.current.is_none());
        let mut v = OdooCollector::version_only();
        feed(&mut v, "ir_config_parameter", &["key", "value"], &[]);
        assert!(v.current.is_none());
    }

    #[test]
    fn version_only_stops_at_base_whatever_the_column_order() {
        let mut c = OdooCollector::version_only();
        let flow = feed(
            &mut c,
            "ir_module_module",
            &["latest_version", "state", "name"],
            &[
                "17.0.1.0\tinstalled\tweb",
                "17.0.1.3\tinstalled\tbase",
                "x\ty\tz",
            ],
        );
        assert_eq!(flow, Flow::Stop);
        assert!(c.has_version());
        assert_eq!(c.rows.base_version.as_deref(), Some("17.0.1.3"));
        assert_eq!(c.rows.module_count, 2);
        assert!(c.rows.modules.is_empty());
    }

    #[test]
    fn db_version_column_and_missing_columns_are_tolerated() {
        let mut c = OdooCollector::new();
        feed(
            &mut c,
            "ir_module_module",
            &["name", "db_version"],
            &["base\t8.0.1.3"],
        );
        assert_eq!(c.rows.base_version.as_deref(), Some("8.0.1.3"));
        let mut c = OdooCollector::new();
        feed(&mut c, "ir_module_module", &["id", "name"], &["1\tbase"]);
        assert!(c.has_version());
        assert_eq!(c.rows.base_version, None);
    }

    #[test]
    fn inserts_feed_the_same_facts() {
        let mut c = OdooCollector::version_only();
        let create = "CREATE TABLE public.ir_module_module (\n    id integer NOT NULL,\n    name character varying NOT NULL,\n    latest_version character varying,\n    state character varying(16)\n)";
        assert_eq!(c.statement(None, create), Flow::Continue);
        assert!(c.module_table_created);
        let flow = c.statement(
            None,
            "INSERT INTO public.ir_module_module VALUES (1, 'base', '12.0.1.3', 'installed')",
        );
        assert_eq!(flow, Flow::Stop);
        assert_eq!(c.rows.base_version.as_deref(), Some("12.0.1.3"));

        let mut c = OdooCollector::new();
        c.statement(
            None,
            "INSERT INTO public.ir_config_parameter (id, key, value) VALUES (1, 'database.uuid', 'abc'), (2, 'database.secret', 'dummysecret')",
        );
        assert_eq!(
            c.rows.params,
            [("database.uuid".to_string(), "abc".to_string())]
        );
        assert!(c.rows.dummy_secret);
        // Other tables' inserts are not even parsed.
        assert_eq!(
            c.statement(None, "INSERT INTO res_partner VALUES ('unterminated"),
            Flow::Continue
        );
    }

    #[test]
    fn attachments_are_counted_not_kept() {
        let mut c = OdooCollector::new();
        feed(
            &mut c,
            "ir_attachment",
            &["id", "file_size", "store_fname", "db_datas"],
            &[
                "1\t100\tab/abcdef\t\\N",
                "2\t50\t\\N\t\\\\x00",
                "3\t\\N\tcd/cdef\t\\N",
                "4\t7\t\t\\N",
            ],
        );
        let r = &c.rows;
        assert_eq!(
            (r.attachments, r.stored_attachments, r.stored_bytes),
            (4, 2, 100)
        );
    }
}

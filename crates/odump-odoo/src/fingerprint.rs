//! Schema fingerprints: tables and column types that tell an Odoo series apart when a dump has no
//! rows to read the version from (`pg_dump -s`).
//!
//! Each fingerprint bounds the series from below, above, or both, and carries the evidence for
//! it. Bounds are chosen so that the range always holds the true series: when the exact release
//! that introduced a change is not certain, the bound stops at the last release known to be on
//! the other side of it (the shared corpus has 12.0, 16.0 and 17.0 schemas to check them against).

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;

use crate::version::Series;

/// A range of series a schema-only dump can be, with why.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct SeriesEstimate {
    /// The oldest series the schema allows.
    pub min: Series,
    /// The newest series the schema allows; `None` when nothing bounds it.
    pub max: Option<Series>,
    /// One sentence per fingerprint found.
    pub evidence: Vec<String>,
}

impl SeriesEstimate {
    /// Whether `series` lies in the range.
    pub fn contains(&self, series: Series) -> bool {
        self.min <= series && self.max.is_none_or(|max| series <= max)
    }
}

/// What a fingerprint looks for.
enum Probe {
    /// The table exists.
    Table(&'static str),
    /// The table does not exist (only meaningful once the whole schema was read).
    NoTable(&'static str),
    /// The table has the column.
    Column(&'static str, &'static str),
    /// The column's type starts with this text (`jsonb`, `character varying`).
    ColumnType(&'static str, &'static str, &'static str),
}

/// One schema fact and the series it allows.
struct Fingerprint {
    probe: Probe,
    min: Option<Series>,
    max: Option<Series>,
    evidence: &'static str,
}

const fn saas(major: u16, minor: u16) -> Option<Series> {
    Some(Series::Saas { major, minor })
}

const fn major(major: u16) -> Option<Series> {
    Some(Series::Major(major))
}

/// The lower bound when nothing else is known: the oldest series this tool reads.
const OLDEST: Series = Series::Major(8);

/// The tables whose column lists the fingerprints look at.
pub(crate) const COLUMN_TABLES: &[&str] = &[
    "ir_module_module",
    "ir_cron",
    "ir_attachment",
    "ir_act_server",
];

const FINGERPRINTS: &[Fingerprint] = &[
    Fingerprint {
        probe: Probe::Table("ir_translation"),
        min: None,
        max: saas(15, 2),
        evidence: "table ir_translation exists: translations lived there up to the 15.x series (16.0 moved them into jsonb columns)",
    },
    Fingerprint {
        probe: Probe::NoTable("ir_translation"),
        min: major(16),
        max: None,
        evidence: "no ir_translation table: 16.0 or later (translations are jsonb columns)",
    },
    Fingerprint {
        probe: Probe::ColumnType("ir_module_module", "shortdesc", "jsonb"),
        min: major(16),
        max: None,
        evidence: "ir_module_module.shortdesc is jsonb: translatable columns are jsonb from 16.0",
    },
    Fingerprint {
        probe: Probe::ColumnType("ir_module_module", "shortdesc", "character varying"),
        min: None,
        max: saas(15, 2),
        evidence: "ir_module_module.shortdesc is varchar: translatable columns became jsonb in 16.0",
    },
    Fingerprint {
        probe: Probe::ColumnType("ir_cron", "cron_name", "jsonb"),
        min: major(16),
        max: saas(16, 4),
        evidence: "ir_cron.cron_name is jsonb: a translated related field in the 16.x series (17.0 computes it in en_US as varchar)",
    },
    Fingerprint {
        probe: Probe::Table("ir_property"),
        min: None,
        max: saas(17, 4),
        evidence: "table ir_property exists: company-dependent fields moved to jsonb columns in 18.0",
    },
    Fingerprint {
        probe: Probe::NoTable("ir_property"),
        min: major(18),
        max: None,
        evidence: "no ir_property table: 18.0 or later (company-dependent fields are jsonb)",
    },
    Fingerprint {
        probe: Probe::Column("ir_cron", "numbercall"),
        min: None,
        max: saas(17, 4),
        evidence: "ir_cron.numbercall exists: 18.0 removed it",
    },
    Fingerprint {
        probe: Probe::Column("ir_cron", "ir_actions_server_id"),
        min: major(11),
        max: None,
        evidence: "ir_cron.ir_actions_server_id exists: crons run server actions since 11.0",
    },
    Fingerprint {
        probe: Probe::Column("ir_attachment", "datas_fname"),
        min: None,
        max: saas(12, 3),
        evidence: "ir_attachment.datas_fname exists: 13.0 removed it",
    },
    Fingerprint {
        probe: Probe::Table("ir_model_fields_selection"),
        min: major(13),
        max: None,
        evidence: "table ir_model_fields_selection exists: selection values are records since 13.0",
    },
    Fingerprint {
        probe: Probe::NoTable("ir_model_fields_selection"),
        min: None,
        max: saas(12, 3),
        evidence: "no ir_model_fields_selection table: before 13.0",
    },
    Fingerprint {
        probe: Probe::Table("res_users_apikeys"),
        min: major(14),
        max: None,
        evidence: "table res_users_apikeys exists: API keys came with 14.0",
    },
    Fingerprint {
        probe: Probe::NoTable("res_users_apikeys"),
        min: None,
        max: saas(13, 4),
        evidence: "no res_users_apikeys table: before 14.0",
    },
    Fingerprint {
        probe: Probe::Table("ir_asset"),
        min: major(15),
        max: None,
        evidence: "table ir_asset exists: assets are records since 15.0",
    },
    Fingerprint {
        probe: Probe::NoTable("ir_asset"),
        min: None,
        max: saas(14, 5),
        evidence: "no ir_asset table: before 15.0",
    },
    Fingerprint {
        probe: Probe::Table("ir_model_inherit"),
        min: saas(16, 1),
        max: None,
        evidence: "table ir_model_inherit exists: absent from 16.0 schemas, present from 17.0",
    },
    Fingerprint {
        probe: Probe::NoTable("ir_model_inherit"),
        min: None,
        max: saas(16, 4),
        evidence: "no ir_model_inherit table: before 17.0",
    },
    Fingerprint {
        probe: Probe::Column("ir_act_server", "webhook_url"),
        min: saas(16, 1),
        max: None,
        evidence: "ir_act_server.webhook_url exists: webhook server actions are absent from 16.0, present from 17.0",
    },
    Fingerprint {
        probe: Probe::Table("res_groups_privilege"),
        min: saas(18, 1),
        max: None,
        evidence: "table res_groups_privilege exists: group privileges are absent from 18.0, present in 19.0",
    },
];

/// What the `CREATE TABLE` statements of a dump said.
#[derive(Debug, Default)]
pub(crate) struct SchemaFacts {
    /// Every table created.
    pub tables: BTreeSet<String>,
    /// Columns and types of the [`COLUMN_TABLES`] (and of any table an `INSERT` without column
    /// list needs).
    pub columns: BTreeMap<String, Vec<(String, String)>>,
}

impl SchemaFacts {
    fn column_type(&self, table: &str, column: &str) -> Option<&str> {
        self.columns
            .get(table)?
            .iter()
            .find(|(name, _)| name == column)
            .map(|(_, ty)| ty.as_str())
    }

    /// The range the fingerprints allow. `complete` says the whole schema was read, so that a
    /// missing table means something.
    pub fn estimate(&self, complete: bool) -> SeriesEstimate {
        let mut min = OLDEST;
        let mut max: Option<Series> = None;
        let mut evidence = Vec::new();
        for fp in FINGERPRINTS {
            let hit = match fp.probe {
                Probe::Table(t) => self.tables.contains(t),
                Probe::NoTable(t) => complete && !self.tables.contains(t),
                Probe::Column(t, c) => self.column_type(t, c).is_some(),
                Probe::ColumnType(t, c, ty) => {
                    self.column_type(t, c).is_some_and(|x| x.starts_with(ty))
                }
            };
            if !hit {
                continue;
            }
            if let Some(lo) = fp.min {
                min = min.max(lo);
            }
            if let Some(hi) = fp.max {
                max = Some(max.map_or(hi, |m| m.min(hi)));
            }
            evidence.push(fp.evidence.to_string());
        }
        if max.is_some_and(|m| m < min) {
            evidence.push(
                "the fingerprints contradict each other (a module may have created or dropped an Odoo table): no upper bound"
                    .to_string(),
            );
            max = None;
        }
        if evidence.is_empty() {
            evidence.push(format!(
                "no version fingerprint in the schema: {OLDEST} or later assumed"
            ));
        }
        SeriesEstimate { min, max, evidence }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn facts(tables: &[&str], columns: &[(&str, &str, &str)]) -> SchemaFacts {
        let mut f = SchemaFacts {
            tables: tables.iter().map(|t| t.to_string()).collect(),
            ..SchemaFacts::default()
        };
        for (t, c, ty) in columns {
            f.columns
                .entry(t.to_string())
                .or_default()
                .push((c.to_string(), ty.to_string()));
        }
        f
    }

    fn s(text: &str) -> Series {
        text.parse().unwrap()
    }

    #[test]
    fn twelve_sixteen_eighteen() {
        let twelve = facts(
            &[
                "ir_module_module",
                "ir_translation",
                "ir_property",
                "ir_cron",
                "ir_attachment",
            ],
            &[
                ("ir_module_module", "shortdesc", "character varying"),
                ("ir_cron", "ir_actions_server_id", "integer not null"),
                ("ir_attachment", "datas_fname", "character varying"),
            ],
        );
        let e = twelve.estimate(true);
        assert_eq!((e.min, e.max), (s("11.0"), Some(s("saas~12.3"))), "{e:?}");
        assert!(e.contains(s("12.0")));

        let sixteen = facts(
            &[
                "ir_module_module",
                "ir_property",
                "ir_model_fields_selection",
                "res_users_apikeys",
                "ir_asset",
            ],
            &[
                ("ir_module_module", "shortdesc", "jsonb"),
                ("ir_cron", "cron_name", "jsonb"),
            ],
        );
        let e = sixteen.estimate(true);
        assert_eq!((e.min, e.max), (s("16.0"), Some(s("saas~16.4"))), "{e:?}");

        let eighteen = facts(
            &[
                "ir_module_module",
                "ir_model_fields_selection",
                "res_users_apikeys",
                "ir_asset",
                "ir_model_inherit",
            ],
            &[("ir_module_module", "shortdesc", "jsonb")],
        );
        assert_eq!(eighteen.estimate(true).min, s("18.0"));
        // Without the whole schema, missing tables say nothing.
        assert_eq!(eighteen.estimate(false).min, s("saas~16.1"));
    }

    #[test]
    fn contradictions_and_nothing() {
        let odd = facts(
            &["ir_translation"],
            &[("ir_module_module", "shortdesc", "jsonb")],
        );
        let e = odd.estimate(false);
        assert_eq!((e.min, e.max), (s("16.0"), None));
        assert!(e.evidence.last().unwrap().contains("contradict"));
        let none = facts(&[], &[]).estimate(false);
        assert_eq!((none.min, none.max), (OLDEST, None));
        assert_eq!(none.evidence.len(), 1);
    }
}

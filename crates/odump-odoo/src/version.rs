//! Odoo version strings of every era, their order, and the upgrade path between series.
//!
//! A [`Series`] is what a database "is": `17.0`, `saas~17.2`, the old `10.saas~15`, or a
//! development series such as `19.1`. An [`OdooVersion`] is a full version string as found in
//! `ir_module_module.latest_version` (`17.0.1.3`: the series, then the module's own version) or in
//! `release.version` / `manifest.json` (`17.0+e-20240101`: the series with a suffix).
//!
//! Series are ordered like Odoo's `parse_version` with the `saas~` marker erased:
//! `12.0 < saas~12.3 < 13.0` and `17.0 < saas~17.1 < … < saas~17.4 < 18.0`.
//!
//! ```
//! use odump_odoo::version::{OdooVersion, Series};
//! let v: OdooVersion = "saas~17.2.1.3".parse().unwrap();
//! assert_eq!(v.series, "saas~17.2".parse::<Series>().unwrap());
//! assert!(v.series < "18.0".parse().unwrap());
//! assert_eq!(v.to_string(), "saas~17.2.1.3");
//! ```

use std::cmp::Ordering;
use std::fmt;
use std::str::FromStr;

use serde::{Serialize, Serializer};

/// An Odoo release series.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Series {
    /// A major release: `17.0` is `Major(17)`.
    Major(u16),
    /// An online ("SaaS") release: `saas~17.2` is `Saas { major: 17, minor: 2 }`.
    Saas {
        /// The major it follows (17 in `saas~17.2`).
        major: u16,
        /// The SaaS step (2 in `saas~17.2`).
        minor: u16,
    },
    /// The SaaS naming of the 9.0/10.0 era: `10.saas~15` is `OldSaas { major: 10, saas: 15 }`.
    OldSaas {
        /// The major it follows (10 in `10.saas~15`).
        major: u16,
        /// The SaaS number (15 in `10.saas~15`).
        saas: u16,
    },
    /// A development series without the `saas~` marker, such as `19.1` (the master branch).
    Dev {
        /// The major it follows (19 in `19.1`).
        major: u16,
        /// The step after it (1 in `19.1`), never 0.
        minor: u16,
    },
}

impl Series {
    /// The major release this series belongs to or follows: 17 for `17.0`, `saas~17.2` and `17.1`.
    pub fn major(self) -> u16 {
        match self {
            Series::Major(major)
            | Series::Saas { major, .. }
            | Series::OldSaas { major, .. }
            | Series::Dev { major, .. } => major,
        }
    }

    /// Whether this is a major release (`X.0`).
    pub fn is_major(self) -> bool {
        matches!(self, Series::Major(_))
    }

    /// The `(major, minor)` pair `parse_version` sees once `saas~` is erased, then a tie-break
    /// that keeps `Ord` consistent with `Eq` (`saas~19.1` and dev `19.1` are the same point).
    fn sort_key(self) -> (u16, u16, u8) {
        match self {
            Series::Major(major) => (major, 0, 0),
            Series::OldSaas { major, saas } => (major, saas, 1),
            Series::Saas { major, minor } => (major, minor, 2),
            Series::Dev { major, minor } => (major, minor, 3),
        }
    }

    /// Whether this series is one Odoo released (or the current development series), as listed
    /// in [`KNOWN_SERIES`].
    pub fn is_known(self) -> bool {
        KNOWN_SERIES.contains(&self)
    }

    /// Whether the upgrade platform offers this series as a target ([`SUPPORTED_TARGETS`]).
    pub fn is_supported_target(self) -> bool {
        SUPPORTED_TARGETS.contains(&self)
    }
}

impl Ord for Series {
    fn cmp(&self, other: &Self) -> Ordering {
        self.sort_key().cmp(&other.sort_key())
    }
}

impl PartialOrd for Series {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl fmt::Display for Series {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Series::Major(major) => write!(f, "{major}.0"),
            Series::Saas { major, minor } => write!(f, "saas~{major}.{minor}"),
            Series::OldSaas { major, saas } => write!(f, "{major}.saas~{saas}"),
            Series::Dev { major, minor } => write!(f, "{major}.{minor}"),
        }
    }
}

impl Serialize for Series {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

/// Why a version string could not be read.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{input:?} is not an Odoo version ({reason}); expected e.g. 17.0, saas~17.2, 10.saas~15 or 17.0.1.3")]
pub struct VersionError {
    /// The text given.
    pub input: String,
    /// What was wrong with it.
    pub reason: &'static str,
}

impl FromStr for Series {
    type Err = VersionError;

    /// Parses a series alone: `17.0`, `saas~17.2` (or the branch spelling `saas-17.2`),
    /// `10.saas~15`, `19.1`. Full versions are refused: use [`OdooVersion`] for those.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let version: OdooVersion = s.parse()?;
        if !version.module.is_empty() || !version.suffix.is_empty() {
            return Err(VersionError {
                input: s.to_string(),
                reason: "a full version, not a series",
            });
        }
        Ok(version.series)
    }
}

/// A full Odoo version: a module version (`17.0.1.3`, `saas~17.2.1.3`, `10.saas~15.1.3`) or a
/// `release.version` string (`17.0`, `17.0+e`, `17.0-20240101`, `17.0+e-20240101`,
/// `18.0rc1`).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct OdooVersion {
    /// The series: the first two dot-separated parts.
    pub series: Series,
    /// The module's own version after the series (`[1, 3]` in `17.0.1.3`), empty for releases.
    pub module: Vec<u32>,
    /// What follows the numbers, kept as written: `+e`, `-20240101`, `rc1+e`…
    pub suffix: String,
}

impl OdooVersion {
    /// Whether the suffix marks an enterprise build (`+e`).
    pub fn is_enterprise_build(&self) -> bool {
        self.suffix.contains("+e")
    }

    /// The build date of a nightly (`-YYYYMMDD` suffix), as written.
    pub fn build_date(&self) -> Option<&str> {
        let (_, after) = self.suffix.split_once('-')?;
        let date = after.get(..8)?;
        date.bytes().all(|b| b.is_ascii_digit()).then_some(date)
    }
}

impl Ord for OdooVersion {
    fn cmp(&self, other: &Self) -> Ordering {
        self.series
            .cmp(&other.series)
            .then_with(|| self.module.cmp(&other.module))
            .then_with(|| self.suffix.cmp(&other.suffix))
    }
}

impl PartialOrd for OdooVersion {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl fmt::Display for OdooVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.series)?;
        for part in &self.module {
            write!(f, ".{part}")?;
        }
        f.write_str(&self.suffix)
    }
}

impl Serialize for OdooVersion {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl FromStr for OdooVersion {
    type Err = VersionError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let err = |reason| VersionError {
            input: s.to_string(),
            reason,
        };
        let text = s.trim();
        // The branch spelling `saas-17.2` / `10.saas-15` is the same series.
        let (is_saas, rest) = match text.strip_prefix("saas~").or(text.strip_prefix("saas-")) {
            Some(rest) => (true, rest),
            None => (false, text),
        };
        // The numbers end at the first character that is neither a digit nor a dot, except the
        // `saas~` of the old form.
        let mut parts: Vec<&str> = Vec::new();
        let mut pos = 0;
        loop {
            let tail = &rest[pos..];
            let old_saas = parts.len() == 1
                && !is_saas
                && (tail.starts_with("saas~") || tail.starts_with("saas-"));
            let start = if old_saas { pos + 5 } else { pos };
            let digits = rest[start..]
                .find(|c: char| !c.is_ascii_digit())
                .unwrap_or(rest.len() - start);
            if digits == 0 {
                break;
            }
            parts.push(&rest[pos..start + digits]);
            pos = start + digits;
            match rest[pos..].strip_prefix('.') {
                Some(after) if after.starts_with(|c: char| c.is_ascii_digit() || c == 's') => {
                    pos += 1
                }
                _ => break,
            }
        }
        let suffix = &rest[pos..];
        if suffix.starts_with('.') || suffix.contains(char::is_whitespace) {
            return Err(err("unexpected text after the numbers"));
        }
        if parts.len() < 2 {
            return Err(err("a series has two parts"));
        }
        let number = |p: &str| p.parse::<u16>().map_err(|_| err("a part is out of range"));
        let major = number(parts[0])?;
        let series = if let Some(saas) = parts[1]
            .strip_prefix("saas~")
            .or(parts[1].strip_prefix("saas-"))
        {
            Series::OldSaas {
                major,
                saas: number(saas)?,
            }
        } else {
            let minor = number(parts[1])?;
            match (is_saas, minor) {
                (true, _) => Series::Saas { major, minor },
                (false, 0) => Series::Major(major),
                (false, _) => Series::Dev { major, minor },
            }
        };
        let module = parts[2..]
            .iter()
            .map(|p| p.parse::<u32>().map_err(|_| err("a part is out of range")))
            .collect::<Result<Vec<_>, _>>()?;
        if !module.is_empty() && !suffix.is_empty() {
            return Err(err("unexpected text after the module version"));
        }
        Ok(OdooVersion {
            series,
            module,
            suffix: suffix.to_string(),
        })
    }
}

const fn saas(major: u16, minor: u16) -> Series {
    Series::Saas { major, minor }
}

/// The series Odoo released, oldest first: majors from 8.0, the `10.saas~N` online releases of the
/// 10.0 era, the `saas~X.Y` ones since 11.0, and the development series `19.1`.
pub const KNOWN_SERIES: &[Series] = &[
    Series::Major(8),
    Series::Major(9),
    Series::Major(10),
    Series::OldSaas {
        major: 10,
        saas: 14,
    },
    Series::OldSaas {
        major: 10,
        saas: 15,
    },
    Series::Major(11),
    saas(11, 1),
    saas(11, 2),
    saas(11, 3),
    Series::Major(12),
    saas(12, 1),
    saas(12, 2),
    saas(12, 3),
    Series::Major(13),
    saas(13, 1),
    saas(13, 2),
    saas(13, 3),
    saas(13, 4),
    Series::Major(14),
    saas(14, 1),
    saas(14, 2),
    saas(14, 3),
    saas(14, 4),
    saas(14, 5),
    Series::Major(15),
    saas(15, 1),
    saas(15, 2),
    Series::Major(16),
    saas(16, 1),
    saas(16, 2),
    saas(16, 3),
    saas(16, 4),
    Series::Major(17),
    saas(17, 1),
    saas(17, 2),
    saas(17, 3),
    saas(17, 4),
    Series::Major(18),
    saas(18, 1),
    saas(18, 2),
    saas(18, 3),
    saas(18, 4),
    Series::Major(19),
    Series::Dev {
        major: 19,
        minor: 1,
    },
];

/// The series the upgrade platform takes as a target: the majors from 10.0 and the online
/// releases of the last two majors. Update this table with each Odoo release.
pub const SUPPORTED_TARGETS: &[Series] = &[
    Series::Major(10),
    Series::Major(11),
    Series::Major(12),
    Series::Major(13),
    Series::Major(14),
    Series::Major(15),
    Series::Major(16),
    Series::Major(17),
    saas(17, 1),
    saas(17, 2),
    saas(17, 3),
    saas(17, 4),
    Series::Major(18),
    saas(18, 1),
    saas(18, 2),
    saas(18, 3),
    saas(18, 4),
    Series::Major(19),
];

/// Intermediate series every upgrade crossing them must stop at besides the majors:
/// `saas~12.3` between 12.0 and 13.0 (the 13.0 upgrade scripts start from it).
pub const REQUIRED_STOPS: &[Series] = &[saas(12, 3)];

/// Why there is no upgrade path.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum PathError {
    /// The target is not after the source.
    #[error("target {to} is not newer than the database's series {from}")]
    NotNewer {
        /// The database's series.
        from: Series,
        /// The requested target.
        to: Series,
    },
    /// The upgrade platform does not offer this target.
    #[error("{0} is not a target the upgrade platform offers")]
    UnknownTarget(Series),
}

/// The series an upgrade from `from` to `to` goes through, in order, ending with `to`: one major
/// at a time, with the [`REQUIRED_STOPS`] in between.
///
/// ```
/// use odump_odoo::version::upgrade_path;
/// let path = upgrade_path("11.0".parse().unwrap(), "14.0".parse().unwrap()).unwrap();
/// let shown: Vec<String> = path.iter().map(ToString::to_string).collect();
/// assert_eq!(shown, ["12.0", "saas~12.3", "13.0", "14.0"]);
/// ```
pub fn upgrade_path(from: Series, to: Series) -> Result<Vec<Series>, PathError> {
    if !to.is_supported_target() {
        return Err(PathError::UnknownTarget(to));
    }
    if to <= from {
        return Err(PathError::NotNewer { from, to });
    }
    let mut stops: Vec<Series> = (from.major() + 1..=to.major())
        .map(Series::Major)
        .chain(REQUIRED_STOPS.iter().copied())
        .filter(|s| from < *s && *s < to)
        .collect();
    stops.sort();
    stops.push(to);
    Ok(stops)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(text: &str) -> Series {
        text.parse().unwrap_or_else(|e| panic!("{e}"))
    }

    fn v(text: &str) -> OdooVersion {
        text.parse().unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn series_of_every_era_parse_and_round_trip() {
        let cases = [
            ("8.0", Series::Major(8)),
            ("9.0", Series::Major(9)),
            ("12.0", Series::Major(12)),
            ("19.0", Series::Major(19)),
            ("saas~11.3", saas(11, 3)),
            ("saas~12.3", saas(12, 3)),
            ("saas~17.2", saas(17, 2)),
            ("saas~19.4", saas(19, 4)),
            (
                "10.saas~15",
                Series::OldSaas {
                    major: 10,
                    saas: 15,
                },
            ),
            ("9.saas~7", Series::OldSaas { major: 9, saas: 7 }),
            (
                "19.1",
                Series::Dev {
                    major: 19,
                    minor: 1,
                },
            ),
        ];
        for (text, want) in cases {
            assert_eq!(s(text), want, "{text}");
            assert_eq!(want.to_string(), text);
        }
        for known in KNOWN_SERIES {
            assert_eq!(s(&known.to_string()), *known);
        }
        assert_eq!(s("saas-17.2"), saas(17, 2));
        assert_eq!(
            s("10.saas-15"),
            Series::OldSaas {
                major: 10,
                saas: 15
            }
        );
        assert_eq!(s(" 17.0 "), Series::Major(17));
    }

    #[test]
    fn series_refuse_garbage_and_full_versions() {
        for bad in [
            "", "17", "saas~17", "abc", "17.x", "17.0.1.3", "17.0+e", "17.0 1", "saas~", "99999.0",
            "17..0", "17.0.",
        ] {
            assert!(bad.parse::<Series>().is_err(), "{bad:?} parsed");
        }
        let e = "17".parse::<Series>().unwrap_err();
        assert!(e.to_string().contains("\"17\""), "{e}");
    }

    #[test]
    fn module_versions_give_their_series() {
        let cases = [
            ("17.0.1.3", "17.0", vec![1, 3]),
            ("saas~17.2.1.3", "saas~17.2", vec![1, 3]),
            ("10.saas~15.1.3", "10.saas~15", vec![1, 3]),
            ("19.1.1.3", "19.1", vec![1, 3]),
            ("12.0.1.3", "12.0", vec![1, 3]),
            ("8.0.1.3", "8.0", vec![1, 3]),
            ("16.0.1.0.0", "16.0", vec![1, 0, 0]),
        ];
        for (text, series, module) in cases {
            let got = v(text);
            assert_eq!(got.series, s(series), "{text}");
            assert_eq!(got.module, module, "{text}");
            assert_eq!(got.to_string(), text);
        }
    }

    #[test]
    fn release_versions_with_suffixes() {
        let e = v("17.0+e");
        assert_eq!(
            (e.series, e.is_enterprise_build(), e.build_date()),
            (s("17.0"), true, None)
        );
        let nightly = v("17.0-20240101");
        assert_eq!(nightly.series, s("17.0"));
        assert!(!nightly.is_enterprise_build());
        assert_eq!(nightly.build_date(), Some("20240101"));
        let both = v("17.0+e-20240101");
        assert!(both.is_enterprise_build());
        assert_eq!(both.build_date(), Some("20240101"));
        assert_eq!(both.to_string(), "17.0+e-20240101");
        assert_eq!(v("saas~17.2+e").series, s("saas~17.2"));
        assert_eq!(v("18.0rc1").series, s("18.0"));
        assert_eq!(v("19.1a1+e").series, s("19.1"));
        assert!("17.0.1.3+e".parse::<OdooVersion>().is_err());
    }

    #[test]
    fn order_follows_parse_version_with_saas_erased() {
        let ordered = [
            "8.0",
            "9.0",
            "9.saas~7",
            "10.0",
            "10.saas~14",
            "10.saas~15",
            "11.0",
            "saas~11.1",
            "saas~11.3",
            "12.0",
            "saas~12.3",
            "13.0",
            "16.0",
            "saas~16.4",
            "17.0",
            "saas~17.1",
            "saas~17.2",
            "saas~17.3",
            "saas~17.4",
            "18.0",
            "saas~18.4",
            "19.0",
            "19.1",
            "saas~19.2",
            "saas~19.4",
            "20.0",
        ];
        for pair in ordered.windows(2) {
            assert!(s(pair[0]) < s(pair[1]), "{} < {}", pair[0], pair[1]);
        }
        // The known table is in order too.
        for pair in KNOWN_SERIES.windows(2) {
            assert!(pair[0] < pair[1], "{} < {}", pair[0], pair[1]);
        }
        // saas~19.1 and dev 19.1 are distinct but adjacent.
        assert_ne!(s("saas~19.1"), s("19.1"));
        assert!(s("saas~19.1") < s("19.1") && s("19.1") < s("saas~19.2"));
        assert!(v("17.0.1.3") < v("17.0.1.10"));
        assert!(v("17.0.2.0") < v("saas~17.1.1.0"));
    }

    #[test]
    fn upgrade_paths() {
        let path = |from: &str, to: &str| {
            upgrade_path(s(from), s(to))
                .map(|p| p.iter().map(ToString::to_string).collect::<Vec<_>>())
        };
        assert_eq!(path("16.0", "17.0").unwrap(), ["17.0"]);
        assert_eq!(path("12.0", "13.0").unwrap(), ["saas~12.3", "13.0"]);
        assert_eq!(path("saas~12.3", "13.0").unwrap(), ["13.0"]);
        assert_eq!(path("saas~12.2", "13.0").unwrap(), ["saas~12.3", "13.0"]);
        assert_eq!(
            path("11.0", "15.0").unwrap(),
            ["12.0", "saas~12.3", "13.0", "14.0", "15.0"]
        );
        assert_eq!(path("saas~17.2", "18.0").unwrap(), ["18.0"]);
        assert_eq!(
            path("16.0", "saas~18.2").unwrap(),
            ["17.0", "18.0", "saas~18.2"]
        );
        assert_eq!(path("17.0", "saas~17.4").unwrap(), ["saas~17.4"]);
        assert_eq!(path("10.saas~15", "12.0").unwrap(), ["11.0", "12.0"]);
        assert_eq!(
            upgrade_path(s("17.0"), s("17.0")),
            Err(PathError::NotNewer {
                from: s("17.0"),
                to: s("17.0")
            })
        );
        assert_eq!(
            upgrade_path(s("18.0"), s("saas~17.4")),
            Err(PathError::NotNewer {
                from: s("18.0"),
                to: s("saas~17.4")
            })
        );
        assert_eq!(
            upgrade_path(s("16.0"), s("21.0")),
            Err(PathError::UnknownTarget(s("21.0")))
        );
        assert_eq!(
            upgrade_path(s("16.0"), s("19.1")),
            Err(PathError::UnknownTarget(s("19.1")))
        );
        // Every supported target is a known series.
        assert!(SUPPORTED_TARGETS.iter().all(|t| t.is_known()));
    }

    #[test]
    fn serializes_as_text() {
        assert_eq!(
            serde_json::to_string(&s("saas~17.2")).unwrap(),
            "\"saas~17.2\""
        );
        assert_eq!(
            serde_json::to_string(&v("17.0.1.3")).unwrap(),
            "\"17.0.1.3\""
        );
    }
}

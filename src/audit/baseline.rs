//! Baselines: the secrets already known (being rotated, or accepted), by fingerprint, so that an
//! audit or a scan reports only new ones.
//!
//! The file is text, one fingerprint per line, with `#` comments (the same lines as
//! `.leakgateignore`); what `--write-baseline` writes adds a comment with the rule, redacted value
//! and first commit. An audit's JSON report is accepted as a baseline too (its `fingerprint`s).

use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::path::Path;

use crate::audit::AuditReport;
use crate::scanner::SuppressionKind;

/// Errors reading a baseline.
#[derive(Debug, thiserror::Error)]
pub enum BaselineError {
    /// The file could not be read.
    #[error("cannot read the baseline {path}: {message}")]
    Read {
        /// The file.
        path: String,
        /// What went wrong.
        message: String,
    },
    /// A line is not a fingerprint.
    #[error("{path}:{line}: not a fingerprint (`<rule-id>:<hex>`): {text}")]
    Line {
        /// The file.
        path: String,
        /// 1-based line.
        line: usize,
        /// The line, escaped.
        text: String,
    },
}

/// A set of fingerprints.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Baseline {
    fingerprints: BTreeSet<String>,
}

impl Baseline {
    /// Whether `fingerprint` is in the baseline.
    pub fn contains(&self, fingerprint: &str) -> bool {
        self.fingerprints
            .contains(&fingerprint.to_ascii_lowercase())
    }

    /// Its fingerprints (lowercase).
    pub fn fingerprints(&self) -> impl Iterator<Item = &String> {
        self.fingerprints.iter()
    }

    /// How many fingerprints it holds.
    pub fn len(&self) -> usize {
        self.fingerprints.len()
    }

    /// Whether it is empty.
    pub fn is_empty(&self) -> bool {
        self.fingerprints.is_empty()
    }

    /// Parses a baseline file's text (`name` for messages): fingerprint lines, or a JSON report.
    pub fn parse(name: &str, text: &str) -> Result<Baseline, BaselineError> {
        let mut fingerprints = BTreeSet::new();
        if text.trim_start().starts_with('{') {
            let value: serde_json::Value =
                serde_json::from_str(text).map_err(|e| BaselineError::Read {
                    path: name.to_string(),
                    message: format!("not a JSON report: {e}"),
                })?;
            let mut lists = Vec::new();
            for key in ["secrets", "findings", "warnings"] {
                if let Some(list) = value.get(key).and_then(|v| v.as_array()) {
                    lists.extend(list.iter());
                }
            }
            for item in lists {
                if let Some(fp) = item.get("fingerprint").and_then(|v| v.as_str()) {
                    fingerprints.insert(fp.to_ascii_lowercase());
                }
            }
            return Ok(Baseline { fingerprints });
        }
        for (i, raw) in text.lines().enumerate() {
            let line = raw.split('#').next().unwrap_or("").trim();
            if line.is_empty() {
                continue;
            }
            let token = line.split_whitespace().next().unwrap_or("");
            match crate::fingerprint::parse(token) {
                Some(crate::fingerprint::IgnoreEntry::Current(fp)) => {
                    fingerprints.insert(fp);
                }
                _ => {
                    return Err(BaselineError::Line {
                        path: name.to_string(),
                        line: i + 1,
                        text: crate::report::sanitize::sanitize(raw),
                    })
                }
            }
        }
        Ok(Baseline { fingerprints })
    }

    /// Reads a baseline file.
    pub fn read(path: &Path) -> Result<Baseline, BaselineError> {
        let name = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|e| BaselineError::Read {
            path: name.clone(),
            message: e.to_string(),
        })?;
        Baseline::parse(&name, &text)
    }
}

/// The baseline file for `report`'s secrets (together with those of `previous`, when the audit
/// ran with a baseline, so that writing after filtering loses nothing).
pub fn render(report: &AuditReport, previous: Option<&Baseline>) -> String {
    let mut out = String::from(
        "# leakgate baseline: secrets already known; `leakgate audit --baseline FILE` and\n\
         # `leakgate scan --baseline FILE` report only secrets not listed here.\n\
         # Listing a secret here does not make it safe: revoke and rotate it.\n",
    );
    let mut listed = BTreeSet::new();
    for s in &report.secrets {
        if !listed.insert(s.fingerprint.clone()) {
            continue;
        }
        let first = s.first_seen();
        let _ = writeln!(
            out,
            "{}  # {} {} first in {} {} ({})",
            s.fingerprint,
            crate::report::sanitize::sanitize(&s.provider.name),
            crate::report::sanitize::sanitize(&s.redacted),
            first.commit.id.get(..12).unwrap_or(&first.commit.id),
            crate::report::sanitize::sanitize(&first.path),
            first.commit.date.get(..10).unwrap_or(""),
        );
    }
    if let Some(previous) = previous {
        for fp in &previous.fingerprints {
            if listed.insert(fp.clone()) {
                let _ = writeln!(out, "{fp}  # from the previous baseline");
            }
        }
    }
    out
}

/// How many of `outcome`'s secrets the baseline left out. The scanner applies a baseline itself
/// (a suppression of kind [`SuppressionKind::Baseline`], like an ignore-file entry), so that a
/// known secret silences nothing a new one needs: a catch-all value running on past a known token
/// is judged as beside an ignored one, and the values after a known one under a multiline header
/// are still searched.
pub fn left_out(outcome: &crate::outcome::ScanOutcome) -> usize {
    outcome
        .suppressed
        .iter()
        .filter(|s| s.kind == SuppressionKind::Baseline)
        .count()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_lines_comments_and_json() {
        let fp = format!("aws-access-key-id:{}", "0123456789abcdef0123");
        let text = format!("# header\n\n{fp}  # AWS AK…KW first in x\n");
        let b = Baseline::parse("b", &text).expect("parses");
        assert!(b.contains(&fp) && b.len() == 1);
        let json = format!("{{\"version\":1,\"secrets\":[{{\"fingerprint\":\"{fp}\"}}]}}");
        assert!(Baseline::parse("b.json", &json)
            .expect("json")
            .contains(&fp));
        assert!(Baseline::parse("b", "not-a-fingerprint\n").is_err());
    }
}

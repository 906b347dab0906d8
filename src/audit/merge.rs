//! `leakgate report merge`: JSON audit reports written on many machines (or by many jobs) folded
//! into one report, as if one `leakgate audit --repos` had read every repository.
//!
//! A secret is keyed by its fingerprint, which is the same on every machine for the same rule and
//! value (`crate::fingerprint`), so a key found in two repositories audited by two jobs is one
//! secret with the occurrences of both. Repositories are keyed by name: the same name with the
//! same path and revisions is the same audit read twice (its entries are not counted twice);
//! the same name for another repository is renamed to its path. Only documents this version
//! writes are accepted (`version` and `kind` are checked): a document from another version is
//! refused, never half read.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use serde::Deserialize;

use crate::audit::render::JSON_VERSION;
use crate::audit::{
    sort_occurrences, sort_secrets, AuditReport, AuditSecret, AuditSkip, Occurrence, RepoSummary,
    TipRef,
};
use crate::rules::{Confidence, Provider, Severity};
use crate::schema::Remediation;

/// Why a report could not be merged.
#[derive(Debug, thiserror::Error)]
pub enum MergeError {
    /// Not JSON, or not an audit document of the expected shape.
    #[error("{source_name}:{line}:{column}: not a leakgate audit JSON report: {message}")]
    Malformed {
        /// The input's name.
        source_name: String,
        /// 1-based line.
        line: usize,
        /// 1-based column.
        column: usize,
        /// What the JSON reader said.
        message: String,
    },
    /// An audit document of another version or kind.
    #[error("{source_name}: {what} (this leakgate reads version {JSON_VERSION} `leakgate-audit` reports; merge with the leakgate that wrote it)")]
    Version {
        /// The input's name.
        source_name: String,
        /// What was found.
        what: String,
    },
    /// A secret entry that cannot be right.
    #[error("{source_name}: secret {index}: {message}")]
    Secret {
        /// The input's name.
        source_name: String,
        /// 1-based position in `secrets`.
        index: usize,
        /// What is wrong.
        message: String,
    },
    /// A skipped entry that cannot be right.
    #[error("{source_name}: skipped entry: {message}")]
    Skipped {
        /// The input's name.
        source_name: String,
        /// What is wrong.
        message: String,
    },
    /// Nothing to merge.
    #[error("no report to merge")]
    Empty,
}

/// The parts of an audit document a merge reads (the rest is recomputed from them).
#[derive(Deserialize)]
struct Document {
    repositories: Vec<RepoSummary>,
    summary: Summary,
    secrets: Vec<Secret>,
    skipped: Vec<AuditSkip>,
}

/// The counts a document carries that its secrets do not (the rest is recomputed).
#[derive(Deserialize)]
struct Summary {
    baselined: usize,
    suppressed: usize,
}

#[derive(Deserialize)]
struct Secret {
    fingerprint: String,
    rule: String,
    description: String,
    provider: String,
    severity: Severity,
    confidence: Confidence,
    secret: String,
    present_at: Vec<TipRef>,
    occurrences: Vec<Occurrence>,
    remediation: Remediation,
}

/// Only the version and kind, read first so that another version gets a clear refusal.
#[derive(Deserialize)]
struct Header {
    version: Option<serde_json::Value>,
    kind: Option<serde_json::Value>,
}

/// Folds JSON audit reports (`(name, text)`, name as errors show it) into one report.
pub fn merge(inputs: &[(String, String)]) -> Result<AuditReport, MergeError> {
    if inputs.is_empty() {
        return Err(MergeError::Empty);
    }
    let mut fold = Fold::default();
    for (name, text) in inputs {
        let doc = read(name, text)?;
        fold.add(name, doc)?;
    }
    Ok(fold.finish())
}

/// Parses one document, checking its version and kind before its shape.
fn read(name: &str, text: &str) -> Result<Document, MergeError> {
    let malformed = |e: serde_json::Error| MergeError::Malformed {
        source_name: name.to_string(),
        line: e.line(),
        column: e.column(),
        message: e
            .to_string()
            .split(" at line ")
            .next()
            .unwrap_or_default()
            .to_string(),
    };
    let header: Header = serde_json::from_str(text).map_err(malformed)?;
    let version_ok = header.version.as_ref().and_then(serde_json::Value::as_u64)
        == Some(u64::from(JSON_VERSION));
    let kind_ok =
        header.kind.as_ref().and_then(serde_json::Value::as_str) == Some("leakgate-audit");
    if !version_ok || !kind_ok {
        return Err(MergeError::Version {
            source_name: name.to_string(),
            what: format!(
                "version {}, kind {}",
                header.version.map_or("missing".into(), |v| v.to_string()),
                header.kind.map_or("missing".into(), |v| v.to_string())
            ),
        });
    }
    serde_json::from_str(text).map_err(malformed)
}

#[derive(Default)]
struct Fold {
    repositories: Vec<RepoSummary>,
    names: std::collections::HashSet<String>,
    secrets: BTreeMap<String, AuditSecret>,
    skipped: BTreeSet<AuditSkip>,
    baselined: usize,
    suppressed: usize,
    providers: BTreeMap<(String, String, String, String), Arc<Provider>>,
}

impl Fold {
    /// Adds one document: its repositories (renamed on a clash), secrets and skips.
    fn add(&mut self, name: &str, mut doc: Document) -> Result<(), MergeError> {
        let renames = self.add_repositories(&doc.repositories);
        let rename = |repo: &mut String| {
            if let Some(new) = renames.get(repo.as_str()) {
                repo.clone_from(new);
            }
        };
        for (i, s) in doc.secrets.iter_mut().enumerate() {
            check_secret(name, i + 1, s)?;
            s.occurrences
                .iter_mut()
                .for_each(|o| rename(&mut o.repository));
            s.present_at
                .iter_mut()
                .for_each(|t| rename(&mut t.repository));
        }
        for mut skip in doc.skipped {
            if let Some(commit) = &skip.commit {
                if !is_object_id(commit) {
                    return Err(MergeError::Skipped {
                        source_name: name.to_string(),
                        message: format!("its commit is not a commit id: {commit:?}"),
                    });
                }
            }
            rename(&mut skip.repository);
            self.skipped.insert(skip);
        }
        self.baselined = self.baselined.saturating_add(doc.summary.baselined);
        self.suppressed = self.suppressed.saturating_add(doc.summary.suppressed);
        for s in doc.secrets {
            self.add_secret(s);
        }
        Ok(())
    }

    /// Adds the repositories not already present; returns how this document's names map to the
    /// report's. A repository is the one already present when everything but its name is equal
    /// (a merged report merged again); the same name for another repository is renamed to its
    /// path (and a number, if need be).
    fn add_repositories(&mut self, repositories: &[RepoSummary]) -> BTreeMap<String, String> {
        let mut renames = BTreeMap::new();
        for repo in repositories {
            let same = |r: &RepoSummary| {
                (
                    &r.path,
                    &r.revisions,
                    r.commits,
                    r.blobs,
                    r.bytes,
                    r.branches,
                ) == (
                    &repo.path,
                    &repo.revisions,
                    repo.commits,
                    repo.blobs,
                    repo.bytes,
                    repo.branches,
                )
            };
            if let Some(existing) = self.repositories.iter().find(|r| same(r)) {
                if existing.name != repo.name {
                    renames.insert(repo.name.clone(), existing.name.clone());
                }
                continue;
            }
            let mut new_name = repo.name.clone();
            if self.names.contains(&new_name) {
                new_name = format!("{} ({})", repo.name, repo.path);
                let mut n = 2;
                while self.names.contains(&new_name) {
                    new_name = format!("{} ({}) #{n}", repo.name, repo.path);
                    n += 1;
                }
            }
            if new_name != repo.name {
                renames.insert(repo.name.clone(), new_name.clone());
            }
            self.names.insert(new_name.clone());
            let mut summary = repo.clone();
            summary.name = new_name;
            self.repositories.push(summary);
        }
        renames
    }

    fn add_secret(&mut self, mut s: Secret) {
        s.fingerprint.make_ascii_lowercase();
        if let Some(existing) = self.secrets.get_mut(&s.fingerprint) {
            // The same value is as strong as its strongest report, whatever the input order.
            existing.confidence = existing.confidence.max(s.confidence);
            existing.severity = existing.severity.max(s.severity);
            existing.occurrences.extend(s.occurrences);
            existing.present_at.extend(s.present_at);
            return;
        }
        let key = (
            s.provider.clone(),
            s.remediation.revoke.clone(),
            s.remediation.rotate.clone(),
            s.remediation.docs.clone(),
        );
        let provider = self
            .providers
            .entry(key)
            .or_insert_with(|| {
                Arc::new(Provider {
                    name: s.provider.clone(),
                    remediation: s.remediation.clone(),
                    origin: "report".to_string(),
                })
            })
            .clone();
        self.secrets.insert(
            s.fingerprint.clone(),
            AuditSecret {
                rule: s.rule,
                description: s.description,
                provider,
                severity: s.severity,
                confidence: s.confidence,
                redacted: s.secret,
                fingerprint: s.fingerprint,
                occurrences: s.occurrences,
                present_at: s.present_at,
            },
        );
    }

    fn finish(self) -> AuditReport {
        let mut secrets: Vec<AuditSecret> = self
            .secrets
            .into_values()
            .map(|mut s| {
                sort_occurrences(&mut s.occurrences);
                s.present_at.sort();
                s.present_at.dedup();
                s
            })
            .collect();
        sort_secrets(&mut secrets);
        AuditReport {
            repositories: self.repositories,
            secrets,
            skipped: self.skipped.into_iter().collect(),
            baselined: self.baselined,
            suppressed: self.suppressed,
        }
    }
}

/// Commit times a report may carry: years 0 to 9999.
const MIN_TIME: i64 = -62_167_219_200;
/// See [`MIN_TIME`].
const MAX_TIME: i64 = 253_402_300_799;

/// A full SHA-1 or SHA-256 object id in hex.
fn is_object_id(id: &str) -> bool {
    (id.len() == 40 || id.len() == 64) && id.bytes().all(|b| b.is_ascii_hexdigit())
}

/// A secret must name its rule in a current fingerprint and have at least one occurrence.
fn check_secret(name: &str, index: usize, s: &Secret) -> Result<(), MergeError> {
    let fail = |message: String| MergeError::Secret {
        source_name: name.to_string(),
        index,
        message,
    };
    match crate::fingerprint::parse(&s.fingerprint) {
        Some(crate::fingerprint::IgnoreEntry::Current(_)) => {}
        _ => return Err(fail(format!("not a fingerprint: {:?}", s.fingerprint))),
    }
    if s.fingerprint.rsplit_once(':').map(|(rule, _)| rule) != Some(s.rule.as_str()) {
        return Err(fail(format!(
            "fingerprint {} is not of rule {}",
            s.fingerprint, s.rule
        )));
    }
    if s.rule.is_empty()
        || !s
            .rule
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
    {
        return Err(fail(format!("not a rule id: {:?}", s.rule)));
    }
    if s.occurrences.is_empty() {
        return Err(fail("no occurrence".to_string()));
    }
    // Only the redacted form may travel: at most 4 characters each side of one `…`.
    let (head, tail) = s.secret.split_once('…').unwrap_or((&s.secret, "…"));
    if head.chars().count() > 4 || tail.chars().count() > 4 || tail.contains('…') {
        return Err(fail(
            "`secret` is not a redacted value (a report never holds more than 4 characters each side of `…`)".to_string(),
        ));
    }
    // Fields that reports print as they stand must be what audits write: hex ids, ISO dates,
    // times within git's years.
    for o in &s.occurrences {
        let id = &o.commit.id;
        if !is_object_id(id) {
            return Err(fail(format!("not a commit id: {id:?}")));
        }
        if !(MIN_TIME..=MAX_TIME).contains(&o.commit.time) {
            return Err(fail(format!(
                "a commit time out of range: {}",
                o.commit.time
            )));
        }
        let date = &o.commit.date;
        if date.is_empty()
            || !date
                .bytes()
                .all(|b| b.is_ascii_digit() || matches!(b, b'-' | b':' | b'+' | b'T' | b'Z' | b'.'))
        {
            return Err(fail(format!("not an ISO 8601 date: {date:?}")));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audit::CommitInfo;

    fn occurrence(repo: &str, commit: &str, time: i64, path: &str) -> Occurrence {
        Occurrence {
            repository: repo.to_string(),
            commit: CommitInfo {
                id: commit.to_string(),
                author: "A".into(),
                email: "a@example.invalid".into(),
                time,
                date: format!("2020-01-01T00:00:{:02}Z", time % 60),
            },
            path: path.to_string(),
            line: 1,
            column: 1,
        }
    }

    fn report(repo: &str, path: &str, secrets: &[(&str, i64)]) -> String {
        let provider = Arc::new(Provider {
            name: "Example".into(),
            remediation: Remediation {
                revoke: "revoke it".into(),
                rotate: "rotate it".into(),
                docs: "https://example.invalid".into(),
            },
            origin: "test".into(),
        });
        let r = AuditReport {
            repositories: vec![RepoSummary {
                name: repo.into(),
                path: path.into(),
                revisions: "--all".into(),
                commits: 10,
                blobs: 20,
                bytes: 300,
                branches: 1,
            }],
            secrets: secrets
                .iter()
                .map(|(fp, time)| AuditSecret {
                    rule: "example-key".into(),
                    description: "Example key".into(),
                    provider: provider.clone(),
                    severity: Severity::High,
                    confidence: Confidence::High,
                    redacted: "exam…".into(),
                    fingerprint: format!("example-key:{fp}"),
                    occurrences: vec![occurrence(repo, &format!("{time:040}"), *time, "a.txt")],
                    present_at: vec![TipRef {
                        repository: repo.into(),
                        branch: "refs/heads/main".into(),
                    }],
                })
                .collect(),
            skipped: vec![],
            baselined: 1,
            suppressed: 2,
        };
        crate::audit::render::json(&r)
    }

    const A: &str = "aaaaaaaaaaaaaaaaaaaa";
    const B: &str = "bbbbbbbbbbbbbbbbbbbb";

    #[test]
    fn one_secret_in_two_reports_is_one_secret_with_both_occurrences() {
        let one = report("one", "/srv/one.git", &[(A, 100)]);
        let two = report("two", "/srv/two.git", &[(A, 50), (B, 70)]);
        let merged = merge(&[("1.json".into(), one), ("2.json".into(), two)]).unwrap();
        assert_eq!(merged.repositories.len(), 2);
        assert_eq!(merged.secrets.len(), 2);
        let a = merged
            .secrets
            .iter()
            .find(|s| s.fingerprint.ends_with(A))
            .unwrap();
        assert_eq!(a.occurrences.len(), 2);
        assert_eq!(a.first_seen().repository, "two");
        assert_eq!(a.last_seen().repository, "one");
        assert_eq!(a.present_at.len(), 2);
        assert_eq!((merged.baselined, merged.suppressed), (2, 4));
    }

    #[test]
    fn merging_a_report_with_itself_changes_nothing_but_the_counts() {
        let one = report("one", "/srv/one.git", &[(A, 100), (B, 90)]);
        let single = merge(&[("1.json".into(), one.clone())]).unwrap();
        let twice = merge(&[("1.json".into(), one.clone()), ("again.json".into(), one)]).unwrap();
        assert_eq!(twice.repositories.len(), 1);
        assert_eq!(
            crate::audit::render::csv(&single),
            crate::audit::render::csv(&twice)
        );
    }

    #[test]
    fn the_same_name_for_another_repository_is_renamed_to_its_path() {
        let one = report("repo", "/srv/a/repo.git", &[(A, 100)]);
        let two = report("repo", "/srv/b/repo.git", &[(B, 100)]);
        let merged = merge(&[("1.json".into(), one), ("2.json".into(), two)]).unwrap();
        let names: Vec<&str> = merged
            .repositories
            .iter()
            .map(|r| r.name.as_str())
            .collect();
        assert_eq!(names, ["repo", "repo (/srv/b/repo.git)"]);
        let b = merged
            .secrets
            .iter()
            .find(|s| s.fingerprint.ends_with(B))
            .unwrap();
        assert_eq!(b.occurrences[0].repository, "repo (/srv/b/repo.git)");
        assert_eq!(b.present_at[0].repository, "repo (/srv/b/repo.git)");
    }

    #[test]
    fn the_strongest_confidence_wins_in_any_order() {
        let low = report("one", "/srv/one.git", &[(A, 100)]).replace("\"high\"", "\"low\"");
        let high = report("two", "/srv/two.git", &[(A, 50)]);
        for inputs in [
            [
                ("l".to_string(), low.clone()),
                ("h".to_string(), high.clone()),
            ],
            [
                ("h".to_string(), high.clone()),
                ("l".to_string(), low.clone()),
            ],
        ] {
            let merged = merge(&inputs).unwrap();
            assert_eq!(merged.secrets[0].confidence, Confidence::High);
            assert_eq!(merged.secrets[0].severity, Severity::High);
        }
    }

    #[test]
    fn a_merged_report_merged_again_with_a_part_counts_nothing_twice() {
        let a = report("app", "/srv/a/app.git", &[(A, 100)]);
        let b = report("app", "/srv/b/app.git", &[(A, 50)]);
        let once = merge(&[("a".into(), a.clone()), ("b".into(), b.clone())]).unwrap();
        let again = merge(&[
            ("m".into(), crate::audit::render::json(&once)),
            ("b".into(), b),
        ])
        .unwrap();
        assert_eq!(again.repositories.len(), 2);
        assert_eq!(again.secrets[0].occurrences.len(), 2);
        assert_eq!(
            crate::audit::render::csv(&once),
            crate::audit::render::csv(&again)
        );
    }

    #[test]
    fn another_repository_at_the_same_path_is_kept_apart() {
        let first = report("app", "/ci/app", &[(A, 100)]);
        let second =
            report("app", "/ci/app", &[(B, 100)]).replace("\"commits\": 10", "\"commits\": 11");
        let merged = merge(&[("1".into(), first), ("2".into(), second)]).unwrap();
        assert_eq!(merged.repositories.len(), 2);
        assert_eq!(merged.repositories[1].commits, 11);
    }

    #[test]
    fn values_times_and_ids_that_audits_never_write_are_refused() {
        let full = report("one", "/p", &[(A, 1)]).replace("exam…", "AKIAFULLVALUE0000000");
        let err = merge(&[("full.json".into(), full)]).unwrap_err();
        assert!(err.to_string().contains("not a redacted value"), "{err}");
        let far =
            report("one", "/p", &[(A, 1)]).replace("\"time\": 1,", "\"time\": -9000000000000000,");
        let err = merge(&[("far.json".into(), far)]).unwrap_err();
        assert!(err.to_string().contains("out of range"), "{err}");
        let upper = report("one", "/p", &[(A, 1)]).replace(A, &A.to_uppercase());
        let merged = merge(&[
            ("u".into(), upper),
            ("l".into(), report("two", "/q", &[(A, 2)])),
        ])
        .unwrap();
        assert_eq!(
            merged.secrets.len(),
            1,
            "one fingerprint, whatever its case"
        );
    }

    #[test]
    fn bad_input_is_refused_with_where_and_why() {
        let err = merge(&[("x.json".into(), "{\n  \"version\": 1,\n  oops".into())]).unwrap_err();
        assert!(
            matches!(err, MergeError::Malformed { line: 3, .. }),
            "{err}"
        );
        let other = report("one", "/p", &[(A, 1)]).replace("\"version\": 1", "\"version\": 2");
        let err = merge(&[("v2.json".into(), other)]).unwrap_err();
        assert!(matches!(err, MergeError::Version { .. }), "{err}");
        let scan = "{\"version\": 1, \"findings\": []}".to_string();
        let err = merge(&[("scan.json".into(), scan)]).unwrap_err();
        assert!(matches!(err, MergeError::Version { .. }), "{err}");
        let bad_fp = report("one", "/p", &[(A, 1)]).replace(A, "zz");
        let err = merge(&[("fp.json".into(), bad_fp)]).unwrap_err();
        assert!(matches!(err, MergeError::Secret { index: 1, .. }), "{err}");
        // Text a terminal would obey, where reports print a field as it stands: refused.
        let escape = report("one", "/p", &[(A, 1)]).replace("2020-01-01", "\\u001b[2J");
        let err = merge(&[("esc.json".into(), escape)]).unwrap_err();
        assert!(err.to_string().contains("not an ISO 8601 date"), "{err}");
        let id = report("one", "/p", &[(A, 1)]).replace(&format!("{:040}", 1), "\\u001b]0;x");
        let err = merge(&[("id.json".into(), id)]).unwrap_err();
        assert!(err.to_string().contains("not a commit id"), "{err}");
        assert!(matches!(merge(&[]), Err(MergeError::Empty)));
    }
}

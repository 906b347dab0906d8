//! Scanning changed blobs: each change (a new blob with the old versions it replaces) becomes the
//! added text of its blob, is scanned once per run, and what cannot be scanned is listed.

use std::collections::{HashMap, HashSet};
use std::time::Instant;

use gix::hash::ObjectId;
use gix::objs::tree::EntryMode;

use crate::added::AddedText;
use crate::git::diff::{added_text, lines};
use crate::git::objects::{load_blob, load_old_blob, BlobContent};
use crate::git::tree_diff::Deleted;
use crate::git::GitError;
use crate::outcome::{ScanOutcome, SkipReason, Skipped};
use crate::scanner::Scanner;

/// Similarity (shared lines / longer side) at or above which an added file is a renamed one.
pub const RENAME_SIMILARITY: f64 = 0.5;
/// Most (added × deleted) pairs compared for similarity renames.
pub const MAX_RENAME_PAIRS: usize = 10_000;

/// A blob to scan: its new version and the old versions whose lines do not count as added.
#[derive(Debug, Clone)]
pub struct PendingChange {
    /// Path in the tree.
    pub path: Vec<u8>,
    /// New blob.
    pub id: ObjectId,
    /// New mode.
    pub mode: EntryMode,
    /// Old versions (one per parent that had the path).
    pub olds: Vec<ObjectId>,
    /// Commit that introduced it, when scanning history.
    pub commit: Option<ObjectId>,
}

/// Scans changes, collecting the outcome; remembers blob pairs already scanned.
pub struct ChangeScanner<'a> {
    /// The repository.
    pub repo: &'a gix::Repository,
    /// The compiled rules.
    pub scanner: &'a Scanner,
    /// Size cap per blob.
    pub max_blob_bytes: u64,
    /// Stop with [`GitError::Timeout`] after this instant.
    pub deadline: Option<(Instant, u64)>,
    /// What was found and skipped so far.
    pub outcome: ScanOutcome,
    seen: HashSet<(Vec<ObjectId>, ObjectId)>,
    commits_done: usize,
}

impl<'a> ChangeScanner<'a> {
    /// A scanner over `repo` with the given rules and cap.
    pub fn new(repo: &'a gix::Repository, scanner: &'a Scanner, max_blob_bytes: u64) -> Self {
        ChangeScanner {
            repo,
            scanner,
            max_blob_bytes,
            deadline: None,
            outcome: ScanOutcome::default(),
            seen: HashSet::new(),
            commits_done: 0,
        }
    }

    /// Counts a finished commit (for the timeout message).
    pub fn count_commit(&mut self) {
        self.commits_done += 1;
    }

    /// Commits finished so far.
    pub fn commits_done(&self) -> usize {
        self.commits_done
    }

    /// Fails with [`GitError::Timeout`] when the deadline has passed.
    pub fn check_deadline(&self) -> Result<(), GitError> {
        match self.deadline {
            Some((at, budget_ms)) if Instant::now() >= at => Err(GitError::Timeout {
                budget_ms,
                commits: self.commits_done,
            }),
            _ => Ok(()),
        }
    }

    fn skip(&mut self, change: &PendingChange, reason: SkipReason) {
        self.outcome.skipped.push(Skipped {
            path: change.path.clone(),
            commit: change.commit.map(|c| c.to_string()),
            reason,
        });
    }

    /// Scans one change (once per distinct blob pair in this run).
    pub fn scan_change(&mut self, change: &PendingChange) -> Result<(), GitError> {
        self.check_deadline()?;
        let commit = change.commit.map(|c| c.to_string());
        if change.mode.is_commit() {
            self.skip(change, SkipReason::Submodule);
            return Ok(());
        }
        if self.scanner.path_allowed(&change.path) {
            self.skip(change, SkipReason::AllowedPath);
            return Ok(());
        }
        let mut key_olds = change.olds.clone();
        key_olds.sort();
        if !self.seen.insert((key_olds, change.id)) {
            return Ok(());
        }
        let at = |e: GitError| e.at(commit.as_deref(), Some(&change.path));
        let new = match load_blob(self.repo, change.id, self.max_blob_bytes).map_err(at)? {
            BlobContent::Text(data) => data,
            BlobContent::Binary => {
                self.skip(change, SkipReason::Binary);
                return Ok(());
            }
            BlobContent::TooLarge(size) => {
                self.skip(
                    change,
                    SkipReason::TooLarge {
                        size,
                        cap: self.max_blob_bytes,
                    },
                );
                return Ok(());
            }
        };
        let mut olds = Vec::with_capacity(change.olds.len());
        for old in &change.olds {
            if let Some(data) = load_old_blob(self.repo, *old, self.max_blob_bytes).map_err(at)? {
                olds.push(data);
            }
        }
        let old_refs: Vec<&[u8]> = olds.iter().map(Vec::as_slice).collect();
        let mut unit = added_text(&change.path, &old_refs, new);
        unit.commit = commit;
        self.scan_unit(&unit)
    }

    /// Scans a ready unit (a message, or a blob's added text) and counts it.
    pub fn scan_unit(&mut self, unit: &AddedText) -> Result<(), GitError> {
        self.outcome.blobs += 1;
        self.outcome.bytes += unit.buf.len() as u64;
        if unit.is_empty() {
            return Ok(());
        }
        let findings = self.scanner.scan(unit)?;
        self.outcome.findings.extend(findings);
        Ok(())
    }
}

/// Drops exact renames (an added blob whose id was deleted elsewhere) and gives a renamed-and-
/// edited file its old version, so that only its new lines count.
pub fn detect_renames(
    repo: &gix::Repository,
    max_blob_bytes: u64,
    changes: &mut Vec<PendingChange>,
    deleted: &[Deleted],
) -> Result<(), GitError> {
    {
        if deleted.is_empty() {
            return Ok(());
        }
        let deleted_ids: HashSet<ObjectId> = deleted.iter().map(|d| d.id).collect();
        changes.retain(|c| !(c.olds.is_empty() && deleted_ids.contains(&c.id)));
        let added: Vec<usize> = (0..changes.len())
            .filter(|&i| changes[i].olds.is_empty() && changes[i].mode.is_blob())
            .collect();
        if added.is_empty() || added.len() * deleted.len() > MAX_RENAME_PAIRS {
            return Ok(());
        }
        let mut old_texts: HashMap<ObjectId, Option<HashSet<Vec<u8>>>> = HashMap::new();
        for i in added {
            let new = match load_old_blob(repo, changes[i].id, max_blob_bytes) {
                Ok(Some(data)) => data,
                _ => continue,
            };
            let new_lines: Vec<&[u8]> = lines(&new).into_iter().map(trim_line).collect();
            if new_lines.is_empty() {
                continue;
            }
            let mut best: Option<(f64, ObjectId)> = None;
            for d in deleted {
                let old_lines = old_texts.entry(d.id).or_insert_with(|| {
                    load_old_blob(repo, d.id, max_blob_bytes)
                        .ok()
                        .flatten()
                        .map(|data| {
                            lines(&data)
                                .into_iter()
                                .map(|l| trim_line(l).to_vec())
                                .collect()
                        })
                });
                let Some(old_lines) = old_lines else { continue };
                let shared = new_lines.iter().filter(|l| old_lines.contains(**l)).count();
                let similarity = shared as f64 / new_lines.len().max(old_lines.len()) as f64;
                if similarity >= RENAME_SIMILARITY && best.is_none_or(|(s, _)| similarity > s) {
                    best = Some((similarity, d.id));
                }
            }
            if let Some((_, id)) = best {
                changes[i].olds = vec![id];
            }
        }
        Ok(())
    }
}

fn trim_line(line: &[u8]) -> &[u8] {
    let line = line.strip_suffix(b"\n").unwrap_or(line);
    line.strip_suffix(b"\r").unwrap_or(line)
}

//! Audit mode: every secret in a repository's history (or the given revisions), deduplicated per
//! secret, with every place it was added, who added it and when, and whether it is still at the
//! tip of a branch.
//!
//! First the [`prescan`] lists every commit's changes and checks each blob they add once (whole,
//! or for a delta version the lines its delta changed); the changes whose blob is clean that way
//! are then skipped. The history is read on all cores:
//! the commit list is split into small chunks that worker threads take in turn, each with its own
//! repository handle and [`ChangeScanner`] (so each distinct blob pair is diffed once per worker,
//! and findings of a pair met again are replayed for the new commit). Findings are folded per
//! secret (rule + value, held in memory only) as they come, so memory grows with the number of
//! secrets, not of commits; the value is dropped once the presence at each tip is known and the
//! fingerprint computed. The result does not depend on how the work was split: occurrences are
//! sorted, and every pick is made on sorted data.

pub mod baseline;
#[cfg(test)]
mod changed_lines_fuzz;
pub mod delta_hits;
pub mod delta_lines;
#[cfg(test)]
pub(crate) mod failpoint;
pub mod html;
pub mod merge;
mod pack_blobs;
mod pack_trees;
pub mod prescan;
pub mod render;
pub mod revisions;
pub mod tips;

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use gix::hash::ObjectId;

use crate::finding::Finding;
use crate::git::changes::{BlobPair, ChangeScanner, PairCounts};
use crate::git::commits::{scan_commit_with, CommitChanges};
use crate::git::GitError;
use crate::outcome::Skipped;
use crate::rules::{Confidence, Provider, Severity};
use crate::scanner::{Scanner, SuppressionKind};

pub use revisions::Revisions;

/// Commits handed to a worker at a time.
pub const CHUNK_COMMITS: usize = 16;
/// Distinct blob pairs a worker remembers before it forgets them (memory bound: the pairs are
/// then scanned again when met, which changes nothing in the result).
pub const MAX_SEEN_PAIRS: usize = 1_000_000;

/// Counters a progress display reads while an audit runs.
#[derive(Debug, Default)]
pub struct Progress {
    /// Commits to scan (all repositories).
    pub commits_total: AtomicU64,
    /// Commits scanned.
    pub commits_done: AtomicU64,
    /// Bytes of text scanned (see [`RepoSummary::bytes`]).
    pub bytes_done: AtomicU64,
    /// Blobs the prescan checks (all repositories).
    pub blobs_total: AtomicU64,
    /// Blobs the prescan has checked.
    pub blobs_done: AtomicU64,
}

/// One commit as a report shows it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct CommitInfo {
    /// Full id.
    pub id: String,
    /// Author name (untrusted text: escape before printing).
    pub author: String,
    /// Author email.
    pub email: String,
    /// Author date, seconds since the epoch.
    pub time: i64,
    /// Author date, ISO 8601 with the author's offset.
    pub date: String,
}

/// One place a secret was added.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Occurrence {
    /// The repository (its name in a multi-repository audit).
    pub repository: String,
    /// The commit that added it, with author and date.
    pub commit: CommitInfo,
    /// Path (lossy UTF-8; `(commit message)` and the like for non-file text).
    pub path: String,
    /// 1-based line.
    pub line: usize,
    /// 1-based byte column.
    pub column: usize,
}

/// A branch tip where a secret still is.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
pub struct TipRef {
    /// The repository.
    pub repository: String,
    /// The ref name (`refs/heads/main`).
    pub branch: String,
}

/// One secret: every occurrence, first and last seen, where it still is.
#[derive(Debug, Clone)]
pub struct AuditSecret {
    /// Rule id.
    pub rule: String,
    /// Rule description.
    pub description: String,
    /// Provider (name, revoke-and-rotate steps).
    pub provider: Arc<Provider>,
    /// Severity of the rule.
    pub severity: Severity,
    /// Confidence of the rule.
    pub confidence: Confidence,
    /// The redacted value (never the value).
    pub redacted: String,
    /// `<rule-id>:<hex>` ([`crate::fingerprint::fingerprint`]).
    pub fingerprint: String,
    /// Every place it was added, oldest first (author date, then history order).
    pub occurrences: Vec<Occurrence>,
    /// Branch tips whose tree still holds the value.
    pub present_at: Vec<TipRef>,
}

impl AuditSecret {
    /// The oldest occurrence.
    pub fn first_seen(&self) -> &Occurrence {
        &self.occurrences[0]
    }

    /// The newest occurrence.
    pub fn last_seen(&self) -> &Occurrence {
        &self.occurrences[self.occurrences.len() - 1]
    }
}

/// What was audited in one repository.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct RepoSummary {
    /// Its name in the report.
    pub name: String,
    /// Its path.
    pub path: String,
    /// The revision arguments.
    pub revisions: String,
    /// Commits scanned.
    pub commits: u64,
    /// Units scanned (blobs checked by the prescan, blob pairs diffed, messages).
    pub blobs: u64,
    /// Bytes of text scanned with every rule: the blobs the prescan scanned whole and the lines
    /// around what each delta version changed, the added text (with its context) of the changes
    /// diffed, messages and file names.
    pub bytes: u64,
    /// Branch tips checked for presence.
    pub branches: usize,
}

/// Something an audit could not scan whole, as a report shows it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
pub struct AuditSkip {
    /// The repository.
    pub repository: String,
    /// Its path (lossy UTF-8; untrusted: escape before printing).
    pub path: String,
    /// Machine-readable reason ([`crate::outcome::SkipReason::code`]).
    pub reason: String,
    /// Human description of the reason.
    pub detail: String,
    /// The commit it was in.
    pub commit: Option<String>,
}

impl AuditSkip {
    /// Builds the report entry for what `repository`'s audit skipped.
    pub fn new(repository: &str, skipped: &Skipped) -> AuditSkip {
        AuditSkip {
            repository: repository.to_string(),
            path: String::from_utf8_lossy(&skipped.path).into_owned(),
            reason: skipped.reason.code().to_string(),
            detail: skipped.reason.describe(),
            commit: skipped.commit.clone(),
        }
    }

    /// Whether the audit is incomplete because of it (an object could not be read).
    pub fn is_error(&self) -> bool {
        self.reason == crate::outcome::SkipReason::UNREADABLE
    }
}

/// A whole audit: what was read, and every secret found.
#[derive(Debug, Clone, Default)]
pub struct AuditReport {
    /// The repositories audited.
    pub repositories: Vec<RepoSummary>,
    /// The secrets, oldest first seen first.
    pub secrets: Vec<AuditSecret>,
    /// What could not be scanned (one entry per path and reason).
    pub skipped: Vec<AuditSkip>,
    /// Secrets left out because the baseline lists them.
    pub baselined: usize,
    /// Secrets that suppressions (allow markers, ignore file, allowed values) silenced: counted.
    pub suppressed: usize,
}

impl AuditReport {
    /// Whether something could not be read (the audit is incomplete: exit 2 when nothing found).
    pub fn has_errors(&self) -> bool {
        self.skipped.iter().any(AuditSkip::is_error)
    }

    /// 1 when a secret at or above `block_at` is reported, 2 when the audit is incomplete, else 0.
    pub fn exit_code(&self, block_at: Confidence) -> i32 {
        if self.secrets.iter().any(|s| s.confidence >= block_at) {
            1
        } else if self.has_errors() {
            2
        } else {
            0
        }
    }

    /// Leaves out the secrets whose fingerprint `baseline` holds (counted in `baselined`).
    pub fn apply_baseline(&mut self, baseline: &baseline::Baseline) {
        let before = self.secrets.len();
        self.secrets.retain(|s| !baseline.contains(&s.fingerprint));
        self.baselined += before - self.secrets.len();
    }
}

/// Occurrence before metadata is attached: indices into the commit list.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct RawOccurrence {
    commit: u32,
    path: Vec<u8>,
    line: usize,
    column: usize,
}

/// A secret while the audit runs (holds the value).
struct Accumulator {
    finding: Finding,
    first_index: u32,
    occurrences: Vec<RawOccurrence>,
}

type SecretKey = (String, Vec<u8>);

/// What one worker found.
#[derive(Default)]
struct WorkerResult {
    secrets: HashMap<SecretKey, Accumulator>,
    skipped: Vec<Skipped>,
    suppressed: usize,
    /// Fingerprints of the secrets the baseline left out.
    baselined: HashSet<String>,
    blobs: u64,
    bytes: u64,
    /// What its blob pairs' scans counted (after a prescan), so that the merge counts a pair two
    /// workers met once.
    pairs: Option<PairCounts>,
}

/// One repository's audit before fingerprints: secrets still keyed by value.
pub struct RepoAudit {
    summary: RepoSummary,
    secrets: Vec<(SecretKey, PendingSecret)>,
    skipped: Vec<Skipped>,
    suppressed: usize,
    baselined: HashSet<String>,
}

struct PendingSecret {
    finding: Finding,
    occurrences: Vec<Occurrence>,
    present_at: Vec<TipRef>,
}

impl RepoAudit {
    /// What was audited.
    pub fn summary(&self) -> &RepoSummary {
        &self.summary
    }
}

/// What an audit of one repository needs.
pub struct AuditOptions<'a> {
    /// The repository's name in the report.
    pub name: String,
    /// The compiled rules.
    pub scanner: &'a Scanner,
    /// Size cap per blob.
    pub max_blob_bytes: u64,
    /// Worker threads (at least 1).
    pub threads: usize,
    /// Counters for a progress display.
    pub progress: &'a Progress,
    /// Whether to prescan the blobs whole first ([`prescan`]); the report is the same either way.
    pub prescan: bool,
}

fn commit_info(repo: &gix::Repository, id: ObjectId) -> Result<CommitInfo, GitError> {
    let err = |e: &dyn std::fmt::Display| GitError::Object {
        what: format!("commit {id}"),
        commit: Some(id.to_string()),
        path: None,
        message: e.to_string(),
    };
    let commit = repo.find_commit(id).map_err(|e| err(&e))?;
    let author = commit.author().map_err(|e| err(&e))?;
    let time = author.time().map_err(|e| err(&e))?;
    Ok(CommitInfo {
        id: id.to_string(),
        author: author.name.to_string(),
        email: author.email.to_string(),
        time: time.seconds,
        date: time.format_or_unix(gix::date::time::format::ISO8601_STRICT),
    })
}

/// One history scan shared by its workers: the commits, the next chunk, the first error.
struct HistoryScan<'s, 'a> {
    git_dir: std::path::PathBuf,
    commits: &'s [ObjectId],
    options: &'s AuditOptions<'a>,
    clean: Option<&'s prescan::CleanBlobs>,
    next: AtomicUsize,
    failed: AtomicBool,
    first_error: Mutex<Option<(usize, GitError)>>,
}

/// Scans `commits` of `repo` on `options.threads` workers.
fn scan_history(
    repo: &gix::Repository,
    commits: &[ObjectId],
    options: &AuditOptions<'_>,
    clean: Option<&prescan::CleanBlobs>,
) -> Result<WorkerResult, GitError> {
    let scan = HistoryScan {
        git_dir: repo.git_dir().to_path_buf(),
        commits,
        options,
        clean,
        next: AtomicUsize::new(0),
        failed: AtomicBool::new(false),
        first_error: Mutex::new(None),
    };
    let threads = options
        .threads
        .clamp(1, commits.len().div_ceil(CHUNK_COMMITS).max(1));
    let joined: Vec<std::thread::Result<WorkerResult>> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..threads).map(|_| scope.spawn(|| scan.work())).collect();
        handles
            .into_iter()
            .map(std::thread::ScopedJoinHandle::join)
            .collect()
    });
    if let Some((_, e)) = scan.first_error.into_inner().ok().flatten() {
        return Err(e);
    }
    // A worker that panicked took commits it never reported: the audit is incomplete, and
    // saying less than the history holds with exit 0 is not an option.
    let results: Vec<WorkerResult> =
        joined
            .into_iter()
            .collect::<Result<_, _>>()
            .map_err(|_| GitError::Object {
                what: "the history".into(),
                commit: None,
                path: None,
                message: "a scanning thread stopped early (a bug: please report it); the audit is \
                      incomplete"
                    .into(),
            })?;
    Ok(merge_results(results))
}

impl HistoryScan<'_, '_> {
    /// One worker: its own repository handle, taking chunks until none is left or one failed.
    fn work(&self) -> WorkerResult {
        let mut result = WorkerResult::default();
        // Each worker opens its own handle (gix handles are per thread).
        let mut local = match gix::open(&self.git_dir) {
            Ok(local) => local,
            Err(e) => {
                self.failed.store(true, Ordering::Relaxed);
                if let Ok(mut slot) = self.first_error.lock() {
                    let error = GitError::Open {
                        path: self.git_dir.display().to_string(),
                        message: e.to_string(),
                    };
                    slot.get_or_insert((0, error));
                }
                return result;
            }
        };
        crate::git::configure_caches(&mut local);
        let mut blobs =
            ChangeScanner::new(&local, self.options.scanner, self.options.max_blob_bytes);
        blobs.replay_repeats();
        blobs.replay_skips();
        if let Some(clean) = self.clean {
            blobs.skip_known_clean(clean);
            blobs.count_pairs();
        }
        let mut chunks = || {
            while !self.failed.load(Ordering::Relaxed) {
                let start = self.next.fetch_add(CHUNK_COMMITS, Ordering::Relaxed);
                if start >= self.commits.len() {
                    break;
                }
                self.scan_chunk(&mut blobs, start, &mut result);
                if blobs.seen_len() > MAX_SEEN_PAIRS {
                    blobs.forget_seen();
                }
            }
        };
        // Commits are read from the packs as the listing read them, when it did.
        match self.clean.and_then(prescan::CleanBlobs::object_source) {
            Some(source) => crate::git::objects::with_object_source(source, chunks),
            None => chunks(),
        }
        result.blobs = blobs.outcome.blobs;
        result.bytes = blobs.outcome.bytes;
        result.pairs = blobs.take_pair_counts();
        result
    }

    /// Scans the chunk of commits from `start`; on an error, records it and stops.
    fn scan_chunk(&self, blobs: &mut ChangeScanner<'_>, start: usize, result: &mut WorkerResult) {
        #[cfg(test)]
        failpoint::hit(&self.git_dir, failpoint::Stage::History);
        let end = (start + CHUNK_COMMITS).min(self.commits.len());
        for (index, &id) in self.commits.iter().enumerate().take(end).skip(start) {
            let known = self.clean.and_then(|c| c.take_changes(index));
            if let Err(e) = scan_one(blobs, (id, known), index, result, self.options) {
                self.failed.store(true, Ordering::Relaxed);
                if let Ok(mut slot) = self.first_error.lock() {
                    // The earliest commit's error, whatever the interleaving.
                    if slot.as_ref().is_none_or(|(i, _)| index < *i) {
                        *slot = Some((index, e));
                    }
                }
                break;
            }
        }
    }
}

/// Folds the workers' results: counts added, secrets merged by key (earliest finding kept).
fn merge_results(results: Vec<WorkerResult>) -> WorkerResult {
    let mut merged = WorkerResult::default();
    let mut pairs: HashMap<BlobPair, (u64, u64)> = HashMap::new();
    for r in results {
        // Each blob pair counted once, however many workers scanned it.
        let (pair_blobs, pair_bytes) = r.pairs.as_ref().map_or((0, 0), |p| p.all);
        merged.blobs += r.blobs - pair_blobs;
        merged.bytes += r.bytes - pair_bytes;
        for (pair, counted) in r.pairs.into_iter().flat_map(|p| p.each) {
            pairs.entry(pair).or_insert(counted);
        }
        merged.suppressed += r.suppressed;
        merged.baselined.extend(r.baselined);
        merged.skipped.extend(r.skipped);
        for (key, acc) in r.secrets {
            match merged.secrets.get_mut(&key) {
                Some(existing) => {
                    let confidence = existing.finding.confidence.max(acc.finding.confidence);
                    if acc.first_index < existing.first_index {
                        existing.finding = acc.finding;
                        existing.first_index = acc.first_index;
                    }
                    existing.finding.confidence = confidence;
                    existing.occurrences.extend(acc.occurrences);
                }
                None => {
                    merged.secrets.insert(key, acc);
                }
            }
        }
    }
    for (blobs, bytes) in pairs.into_values() {
        merged.blobs += blobs;
        merged.bytes += bytes;
    }
    merged
}

/// Scans one commit (with its changes when the prescan listed them) and folds what it found into
/// `result`.
fn scan_one(
    blobs: &mut ChangeScanner<'_>,
    (id, known): (ObjectId, Option<CommitChanges>),
    index: usize,
    result: &mut WorkerResult,
    options: &AuditOptions<'_>,
) -> Result<(), GitError> {
    let bytes_before = blobs.outcome.bytes;
    scan_commit_with(blobs, id, known)?;
    let index = u32::try_from(index).unwrap_or(u32::MAX);
    for f in blobs.outcome.findings.drain(..) {
        let occurrence = RawOccurrence {
            commit: index,
            path: f.path.clone(),
            line: f.line,
            column: f.column,
        };
        let key = (f.rule.clone(), f.secret.expose().to_vec());
        match result.secrets.get_mut(&key) {
            Some(acc) => {
                let confidence = acc.finding.confidence.max(f.confidence);
                if index < acc.first_index {
                    acc.first_index = index;
                    acc.finding = f;
                }
                acc.finding.confidence = confidence;
                acc.occurrences.push(occurrence);
            }
            None => {
                result.secrets.insert(
                    key,
                    Accumulator {
                        finding: f,
                        first_index: index,
                        occurrences: vec![occurrence],
                    },
                );
            }
        }
    }
    for s in blobs.outcome.suppressed.drain(..) {
        if s.kind == SuppressionKind::Baseline {
            result.baselined.insert(s.finding.fingerprint().to_string());
        } else {
            result.suppressed += 1;
        }
    }
    result.skipped.append(&mut blobs.outcome.skipped);
    options
        .progress
        .commits_done
        .fetch_add(1, Ordering::Relaxed);
    options
        .progress
        .bytes_done
        .fetch_add(blobs.outcome.bytes - bytes_before, Ordering::Relaxed);
    Ok(())
}

/// Audits one repository: the commits `revs` selects, every secret with its occurrences and the
/// branch tips that still hold it. Secret values stay in memory; [`finish`] drops them.
pub fn audit_repository(
    repo: &gix::Repository,
    revs: &Revisions,
    options: &AuditOptions<'_>,
) -> Result<RepoAudit, GitError> {
    // The branch tips' trees are read on a thread of their own (with its own handle, opened as
    // `repo` was) while the revisions are walked, and the packs' blob trees for the prescan on
    // another (they need nothing from the revisions).
    let (git_dir, open_options) = (repo.git_dir(), repo.open_options().clone());
    let source = options.prescan.then(|| prescan::PackSource::of(repo));
    let (commits, tip_trees, packs) = std::thread::scope(|scope| {
        let packs = source.map(|source| scope.spawn(|| source.open()));
        let tips = scope.spawn(move || {
            let mut repo = gix::open_opts(git_dir, open_options).map_err(|e| GitError::Open {
                path: git_dir.display().to_string(),
                message: e.to_string(),
            })?;
            crate::git::configure_caches(&mut repo);
            tips::TipTrees::read(&repo, &tips::branch_tips(&repo)?)
        });
        let commits = revisions::commits(repo, revs);
        let tips = tips
            .join()
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
        // A panic there (a pack gix cannot read, say) leaves no prescan: every change is then
        // read and scanned by the history scan, as without one.
        let packs = packs.and_then(|p| p.join().ok());
        (commits, tips, packs)
    });
    let commits = commits?;
    let tip_trees = tip_trees?;
    options
        .progress
        .commits_total
        .fetch_add(commits.len() as u64, Ordering::Relaxed);
    let clean = packs.and_then(|packs| {
        prescan::prescan(
            repo,
            &commits,
            options.scanner,
            (options.max_blob_bytes, options.threads),
            options.progress,
            packs,
        )
    });
    let mut found = scan_history(repo, &commits, options, clean.as_ref())?;
    if let Some(clean) = &clean {
        found.blobs += clean.blobs;
        found.bytes += clean.bytes;
    }
    let infos = commit_infos(repo, &commits, &found)?;
    let mut keyed: Vec<(SecretKey, Accumulator)> = found.secrets.into_iter().collect();
    keyed.sort_by(|a, b| a.0.cmp(&b.0));
    let values: Vec<&[u8]> = keyed.iter().map(|(k, _)| k.1.as_slice()).collect();
    let present = tips::presence(
        repo,
        &tip_trees,
        &values,
        options.max_blob_bytes,
        options.threads,
        clean
            .as_ref()
            .map_or((&[][..], &HashSet::new()), |c| (&c.walked, &c.walked_blobs)),
    )?;
    drop(clean);
    let secrets = keyed
        .into_iter()
        .enumerate()
        .map(|(i, (key, acc))| (key, pending_secret(acc, &present[i], &infos, &options.name)))
        .collect();
    let skipped = one_skip_per_reason(found.skipped);
    Ok(RepoAudit {
        summary: RepoSummary {
            name: options.name.clone(),
            path: repo
                .git_dir()
                .canonicalize()
                .unwrap_or_else(|_| repo.git_dir().to_path_buf())
                .display()
                .to_string(),
            revisions: revs.described.clone(),
            commits: commits.len() as u64,
            blobs: found.blobs,
            bytes: found.bytes,
            branches: tip_trees.roots.len(),
        },
        secrets,
        skipped,
        suppressed: found.suppressed,
        baselined: found.baselined,
    })
}

/// One skip for each path and reason (the same reason: a size cap skip of another size is
/// another), the one of the smallest commit id; sorted by path, reason and commit.
fn one_skip_per_reason(mut skipped: Vec<Skipped>) -> Vec<Skipped> {
    skipped.sort_by(|a, b| {
        (&a.path, a.reason.code(), &a.commit).cmp(&(&b.path, b.reason.code(), &b.commit))
    });
    let mut kept: Vec<Skipped> = Vec::with_capacity(skipped.len());
    // Where the current path's entries start in `kept`.
    let mut path_start = 0;
    for s in skipped {
        if kept.last().is_some_and(|k| k.path != s.path) {
            path_start = kept.len();
        }
        if !kept[path_start..].iter().any(|k| k.reason == s.reason) {
            kept.push(s);
        }
    }
    kept
}

/// Commit metadata for the commits that hold an occurrence, by index into `commits`.
fn commit_infos(
    repo: &gix::Repository,
    commits: &[ObjectId],
    found: &WorkerResult,
) -> Result<HashMap<u32, CommitInfo>, GitError> {
    let mut wanted: BTreeSet<u32> = BTreeSet::new();
    for acc in found.secrets.values() {
        wanted.extend(acc.occurrences.iter().map(|o| o.commit));
    }
    let mut infos: HashMap<u32, CommitInfo> = HashMap::new();
    for index in wanted {
        let id = commits[index as usize];
        infos.insert(index, commit_info(repo, id)?);
    }
    Ok(infos)
}

/// A secret of repository `name`: its occurrences oldest first, and the tips that hold it.
fn pending_secret(
    mut acc: Accumulator,
    present_at: &[String],
    infos: &HashMap<u32, CommitInfo>,
    name: &str,
) -> PendingSecret {
    acc.occurrences.sort_by(|a, b| {
        let ta = infos.get(&a.commit).map_or(0, |c| c.time);
        let tb = infos.get(&b.commit).map_or(0, |c| c.time);
        (ta, a).cmp(&(tb, b))
    });
    acc.occurrences.dedup();
    let occurrences = acc
        .occurrences
        .into_iter()
        .filter_map(|o| {
            Some(Occurrence {
                repository: name.to_string(),
                commit: infos.get(&o.commit)?.clone(),
                path: String::from_utf8_lossy(&o.path).into_owned(),
                line: o.line,
                column: o.column,
            })
        })
        .collect();
    let present_at = present_at
        .iter()
        .map(|b| TipRef {
            repository: name.to_string(),
            branch: b.clone(),
        })
        .collect();
    PendingSecret {
        finding: acc.finding,
        occurrences,
        present_at,
    }
}

/// Combines repository audits into one report: a secret found in several repositories is one
/// secret; fingerprints are computed (on all cores) and the values dropped.
pub fn finish(audits: Vec<RepoAudit>) -> AuditReport {
    let mut report = AuditReport::default();
    let mut by_key: BTreeMap<SecretKey, PendingSecret> = BTreeMap::new();
    let mut baselined = HashSet::new();
    for audit in audits {
        report.repositories.push(audit.summary.clone());
        report.suppressed += audit.suppressed;
        baselined.extend(audit.baselined.iter().cloned());
        report.skipped.extend(
            audit
                .skipped
                .iter()
                .map(|s| AuditSkip::new(&audit.summary.name, s)),
        );
        for (key, secret) in audit.secrets {
            match by_key.get_mut(&key) {
                Some(existing) => {
                    // A value demoted on one line (`demote_when`) and not on another is as strong
                    // as its strongest occurrence, whatever the order repositories come in.
                    existing.finding.confidence =
                        existing.finding.confidence.max(secret.finding.confidence);
                    existing.occurrences.extend(secret.occurrences);
                    existing.present_at.extend(secret.present_at);
                }
                None => {
                    by_key.insert(key, secret);
                }
            }
        }
    }
    let pending: Vec<PendingSecret> = by_key.into_values().collect();
    crate::finding::prepare_fingerprints(pending.iter().map(|p| &p.finding));
    for mut p in pending {
        sort_occurrences(&mut p.occurrences);
        if p.occurrences.is_empty() {
            continue;
        }
        p.present_at.sort();
        p.present_at.dedup();
        let f = &p.finding;
        report.secrets.push(AuditSecret {
            rule: f.rule.clone(),
            description: f.description.clone(),
            provider: f.provider.clone(),
            severity: f.severity,
            confidence: f.confidence,
            redacted: f.secret.redacted(),
            fingerprint: f.fingerprint().to_string(),
            occurrences: p.occurrences,
            present_at: p.present_at,
        });
    }
    report.baselined = baselined.len();
    sort_secrets(&mut report.secrets);
    report
}

/// Orders a secret's occurrences oldest first (author date, then repository, commit, path, line,
/// column) and drops repeats.
pub(crate) fn sort_occurrences(occurrences: &mut Vec<Occurrence>) {
    occurrences.sort_by(|a, b| {
        (
            a.commit.time,
            &a.repository,
            &a.commit.id,
            &a.path,
            a.line,
            a.column,
        )
            .cmp(&(
                b.commit.time,
                &b.repository,
                &b.commit.id,
                &b.path,
                b.line,
                b.column,
            ))
    });
    occurrences.dedup_by(|a, b| {
        (&a.repository, &a.commit.id, &a.path, a.line, a.column)
            == (&b.repository, &b.commit.id, &b.path, b.line, b.column)
    });
}

/// Orders secrets by when they were first seen, then by fingerprint.
pub(crate) fn sort_secrets(secrets: &mut [AuditSecret]) {
    secrets.sort_by(|a, b| {
        let ka = (a.first_seen().commit.time, &a.fingerprint);
        let kb = (b.first_seen().commit.time, &b.fingerprint);
        ka.cmp(&kb)
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::outcome::SkipReason;

    fn skip(path: &str, commit: &str, size: u64) -> Skipped {
        Skipped {
            path: path.into(),
            commit: Some(commit.into()),
            reason: SkipReason::TooLarge {
                size,
                cap: 10,
                scanned: 0,
            },
        }
    }

    /// Versions of one file over the cap alternate in history: each size is kept once, with
    /// its smallest commit id, whatever order the workers recorded them in.
    #[test]
    fn one_skip_is_kept_for_each_path_and_reason() {
        let recorded = vec![
            skip("a", "c3", 20),
            skip("b", "c9", 20),
            skip("a", "c1", 30),
            skip("a", "c2", 20),
            skip("a", "c0", 30),
            skip("a", "c4", 30),
        ];
        let expected = vec![
            skip("a", "c0", 30),
            skip("a", "c2", 20),
            skip("b", "c9", 20),
        ];
        assert_eq!(one_skip_per_reason(recorded.clone()), expected);
        let mut reversed = recorded;
        reversed.reverse();
        assert_eq!(one_skip_per_reason(reversed), expected);
    }
}

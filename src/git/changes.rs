//! Scanning changed blobs: each change (a new blob with the old versions it replaces) becomes the
//! added text of its blob, is scanned once per run, and what cannot be scanned is listed.

use std::collections::{HashMap, HashSet};
use std::time::Instant;

use gix::hash::ObjectId;
use gix::objs::tree::EntryMode;

use crate::added::AddedText;
use crate::git::diff::{added_text, lines, without_line_ending};
use std::borrow::Cow;
use std::io::Read as _;

use crate::decode::{archive_kind, decode_utf16, detect_utf16, views, PROBE_BYTES};
use crate::git::objects::{load_blob, open_blob, read_stream, OpenedBlob};
use crate::git::tree_diff::Deleted;
use crate::git::GitError;
use crate::keywords::Hit;
use crate::outcome::{ScanOutcome, SkipReason, Skipped};
use crate::scanner::{RulePart, ScanError, Scanner, UnitScan};
use crate::stream::{scan_stream, StreamError};

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
    /// An exact rename: the content was there before, only the name is new (and scanned).
    pub name_only: bool,
}

/// A blob pair: the sorted old versions and the new one. A run scans each pair once.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct BlobPair {
    olds: Vec<ObjectId>,
    new: ObjectId,
}

impl BlobPair {
    fn of(change: &PendingChange) -> BlobPair {
        let mut olds = change.olds.clone();
        olds.sort();
        BlobPair {
            olds,
            new: change.id,
        }
    }
}

/// Blobs known to scan clean at a path whatever they are compared with (see
/// [`ChangeScanner::scans_clean_whole`]): their changes need not be read or diffed.
pub trait KnownClean: Sync {
    /// Whether blob `id` at `path` is known to yield nothing.
    fn is_clean(&self, id: &ObjectId, path: &[u8]) -> bool;
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
    seen: HashSet<BlobPair>,
    commits_done: usize,
    /// With [`ChangeScanner::replay_repeats`]: the findings and suppressed secrets of each blob
    /// pair scanned, so that a pair met again (a cherry-pick, the same change on two branches)
    /// reports them again, with its own commit.
    replay: Option<HashMap<BlobPair, Replayed>>,
    known_clean: Option<&'a dyn KnownClean>,
    /// With [`ChangeScanner::count_pairs`]: what the scans of blob pairs counted.
    pair_counts: Option<PairCounts>,
    /// With [`ChangeScanner::replay_skips`]: a pair met again reports its skips again too.
    replay_skips: bool,
}

/// What the scans of blob pairs added to a [`ScanOutcome`]'s `blobs` and `bytes`: each pair's
/// own scan, and the sum over every scan (a pair scanned again after [`ChangeScanner::forget_seen`]
/// counted each time). Workers that each scan a share of the commits meet some pairs on more than
/// one worker; with these their counts merge to each pair counted once, whatever the sharing.
#[derive(Debug, Default)]
pub struct PairCounts {
    /// (Blobs, bytes) each pair's scan counted.
    pub each: HashMap<BlobPair, (u64, u64)>,
    /// (Blobs, bytes) all pair scans counted.
    pub all: (u64, u64),
}

/// What one blob pair produced, kept to be reported again when the pair is met again.
#[derive(Debug, Default)]
struct Replayed {
    findings: Vec<crate::finding::Finding>,
    suppressed: Vec<crate::scanner::Suppressed>,
    /// What was skipped of the pair (with [`ChangeScanner::replay_skips`]).
    skipped: Vec<Skipped>,
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
            replay: None,
            known_clean: None,
            pair_counts: None,
            replay_skips: false,
        }
    }

    /// With [`ChangeScanner::replay_repeats`], also reports what was skipped of a blob pair
    /// each time it is met again: then what a split of the commits over workers records does not
    /// depend on which worker met a pair first (the audit keeps one skip per path and reason,
    /// the one of the smallest commit id, so it needs them all).
    pub fn replay_skips(&mut self) {
        self.replay_skips = true;
    }

    /// Records what each blob pair's scan counts (see [`PairCounts`]): for a scan split over
    /// workers whose pairs are few (the audit's history scan after its prescan).
    pub fn count_pairs(&mut self) {
        self.pair_counts.get_or_insert_with(PairCounts::default);
    }

    /// What the blob pairs' scans counted, when [`ChangeScanner::count_pairs`] asked for it.
    pub fn take_pair_counts(&mut self) -> Option<PairCounts> {
        self.pair_counts.take()
    }

    /// Skips the changes whose blob `clean` knows to scan clean at its path (an audit's prescan).
    pub fn skip_known_clean(&mut self, clean: &'a dyn KnownClean) {
        self.known_clean = Some(clean);
    }

    /// Whether `change`'s blob is known to scan clean at its path.
    pub fn is_known_clean(&self, change: &PendingChange) -> bool {
        self.known_clean
            .is_some_and(|k| k.is_clean(&change.id, &change.path))
    }

    /// Whether blob `id`, scanned whole as a new file at `path` (`data`: its bytes), yields
    /// nothing: no finding, no suppressed secret, nothing skipped, and it is within the size cap
    /// and small enough to be read whole. Then every change that adds it yields nothing either:
    /// a change's added text is a part of the blob (its added lines with context), and whatever
    /// matches in a part matches in the whole (an edit's unit ends its last line with a line feed,
    /// so a blob without one is scanned both ways; UTF-16 text is never decided here). What it
    /// scanned is counted; nothing is reported.
    pub fn scans_clean_whole(
        &mut self,
        path: &[u8],
        id: ObjectId,
        data: Vec<u8>,
    ) -> Result<bool, GitError> {
        let size = data.len() as u64;
        if size > self.max_blob_bytes || size >= crate::git::objects::STREAM_BYTES {
            return Ok(false);
        }
        // UTF-16 text is diffed in its decoded form, whose last line an edit's unit ends with a
        // decoded line feed: not decided here (rare; the history scan diffs it as before).
        if crate::decode::has_utf16_view(&data) {
            return Ok(false);
        }
        // A base64 block wrapped over lines is joined from the first line a diff's unit holds,
        // which may lie inside the block (its first lines past the context): left to the diff.
        if crate::encoded::has_wrapped_lines(&data) {
            return Ok(false);
        }
        let change = PendingChange {
            path: path.to_vec(),
            id,
            mode: EntryMode::from(gix::objs::tree::EntryKind::Blob),
            olds: Vec::new(),
            commit: None,
            name_only: false,
        };
        let before = (
            self.outcome.findings.len(),
            self.outcome.suppressed.len(),
            self.outcome.skipped.len(),
        );
        // An edit's unit ends its last line with a line feed even when the blob does not
        // (`AddedText::push_line`), and a multiline rule may need it: that form is scanned too.
        let unterminated = data.last().is_some_and(|&b| b != b'\n');
        let terminated = unterminated.then(|| [data.as_slice(), b"\n"].concat());
        self.scan_bytes(&change, data)?;
        if let Some(data) = terminated {
            self.scan_bytes(&change, data)?;
        }
        let clean = before
            == (
                self.outcome.findings.len(),
                self.outcome.suppressed.len(),
                self.outcome.skipped.len(),
            );
        self.outcome.findings.truncate(before.0);
        self.outcome.suppressed.truncate(before.1);
        self.outcome.skipped.truncate(before.2);
        Ok(clean)
    }

    /// Whether a blob (`whole`: all of it, as a whole unit) yields nothing scanned whole, given
    /// that its delta base yields nothing scanned whole there: `unit` holds the lines its delta changed, each with the
    /// line before and the two after (`audit::delta_lines`). The single-line rules and decoded
    /// runs ([`RulePart::LineLocal`]) are run on `unit` only: what they find on the other lines
    /// they find on the same lines of the base, next to the same neighbours, and nothing there was
    /// silenced by a multiline match. The multiline rules ([`RulePart::Multiline`]) are run on the
    /// whole blob. Refused (false, to be scanned whole) when a whole scan decides more than that: a
    /// blob over the cap, UTF-16 text, an archive, base64 wrapped over lines, or rules for which
    /// the line-local part is not local. The bytes of `unit` are counted (the blob itself by the
    /// caller, once it is decided); nothing is reported. `hits`, when known, are the multiline
    /// rules' keyword hits in the whole blob ([`Scanner::multiline_keywords`]).
    pub fn scans_clean_changed(
        &mut self,
        whole: &AddedText,
        unit: &AddedText,
        hits: Option<&[Hit]>,
    ) -> Result<bool, GitError> {
        let data = whole.buf.as_slice();
        let size = data.len() as u64;
        let refused = size > self.max_blob_bytes
            || size >= crate::git::objects::STREAM_BYTES
            || !self.scanner.line_local_part_is_local()
            || crate::decode::has_utf16_view(data)
            || archive_kind(data).is_some()
            || crate::encoded::has_wrapped_lines(&unit.buf);
        if refused {
            return Ok(false);
        }
        // The blob is counted once decided (the prescan counts the ones it marks clean this way;
        // a blob left undecided is counted by the whole scan that follows).
        self.count(false, unit.buf.len() as u64);
        if !unit.is_empty()
            && !self
                .scanner
                .scan_part(unit, RulePart::LineLocal)?
                .is_empty()
        {
            return Ok(false);
        }
        let multiline = match hits {
            Some(hits) => self.scanner.scan_multiline_with_hits(whole, hits)?,
            None => self.scanner.scan_part(whole, RulePart::Multiline)?,
        };
        Ok(multiline.is_empty())
    }

    /// Reports the findings and suppressed secrets of a blob pair again (with the new commit and
    /// path) each time the pair is met again, instead of once per run, while the pair is still
    /// read and scanned once: an audit lists every place a secret was added, and the server
    /// decides a suppression per commit (an ignore file counts only at the tips of the refs that
    /// bring that commit, so the same change on another branch must be decided on its own).
    pub fn replay_repeats(&mut self) {
        self.replay.get_or_insert_with(HashMap::new);
    }

    /// Distinct blob pairs remembered so far.
    pub fn seen_len(&self) -> usize {
        self.seen.len()
    }

    /// Forgets the blob pairs scanned so far (they are scanned again when met): keeps memory
    /// bounded on very long histories.
    pub fn forget_seen(&mut self) {
        self.seen = HashSet::new();
        if let Some(replay) = &mut self.replay {
            *replay = HashMap::new();
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

    /// The scanner's [`Scanner::scan_all`], a deadline passed in the middle of it failing as
    /// [`GitError::Timeout`].
    fn scan_all(&self, unit: &AddedText) -> Result<UnitScan, GitError> {
        self.scanner.scan_all(unit).map_err(|e| match e {
            ScanError::Deadline => GitError::Timeout {
                budget_ms: self.deadline.map_or(0, |d| d.1),
                commits: self.commits_done,
            },
            other => GitError::Scan(other),
        })
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
        if change.name_only {
            return Ok(());
        }
        if change.mode.is_commit() {
            self.skip(change, SkipReason::Submodule);
            return Ok(());
        }
        if self.scanner.path_allowed(&change.path) {
            self.skip(change, SkipReason::AllowedPath);
            return Ok(());
        }
        if self.is_known_clean(change) {
            return Ok(());
        }
        let key = BlobPair::of(change);
        if self.seen.contains(&key) {
            self.replay_pair(&key, change);
            return Ok(());
        }
        let before = (
            self.outcome.findings.len(),
            self.outcome.suppressed.len(),
            self.outcome.skipped.len(),
        );
        let counted = (self.outcome.blobs, self.outcome.bytes);
        let result = self.scan_new_change(change);
        if let Some(counts) = &mut self.pair_counts {
            let own = (
                self.outcome.blobs - counted.0,
                self.outcome.bytes - counted.1,
            );
            counts.all = (counts.all.0 + own.0, counts.all.1 + own.1);
            counts.each.entry(key.clone()).or_insert(own);
        }
        if let Some(replay) = &mut self.replay {
            let skipped = if self.replay_skips {
                self.outcome.skipped[before.2..].to_vec()
            } else {
                Vec::new()
            };
            if self.outcome.findings.len() > before.0
                || self.outcome.suppressed.len() > before.1
                || !skipped.is_empty()
            {
                let found = Replayed {
                    findings: self.outcome.findings[before.0..].to_vec(),
                    suppressed: self.outcome.suppressed[before.1..].to_vec(),
                    skipped,
                };
                replay.insert(key.clone(), found);
            }
        }
        self.seen.insert(key);
        result
    }

    /// Reports again, at `change`'s commit and path, what the scan of its blob pair `key`
    /// produced when it was first met (with [`ChangeScanner::replay_repeats`]).
    fn replay_pair(&mut self, key: &BlobPair, change: &PendingChange) {
        let Some(found) = self.replay.as_ref().and_then(|r| r.get(key)) else {
            return;
        };
        let commit = change.commit.map(|c| c.to_string());
        let moved = |f: &crate::finding::Finding| {
            let mut f = f.clone();
            f.commit.clone_from(&commit);
            f.path.clone_from(&change.path);
            f
        };
        let findings: Vec<_> = found.findings.iter().map(moved).collect();
        let suppressed: Vec<_> = found
            .suppressed
            .iter()
            .map(|x| crate::scanner::Suppressed {
                finding: moved(&x.finding),
                kind: x.kind,
            })
            .collect();
        let skipped: Vec<_> = found
            .skipped
            .iter()
            .map(|x| Skipped {
                path: change.path.clone(),
                commit: commit.clone(),
                reason: x.reason.clone(),
            })
            .collect();
        self.outcome.findings.extend(findings);
        self.outcome.suppressed.extend(suppressed);
        self.outcome.skipped.extend(skipped);
    }

    /// Scans a change whose blob pair was not met before.
    fn scan_new_change(&mut self, change: &PendingChange) -> Result<(), GitError> {
        let commit = change.commit.map(|c| c.to_string());
        let at = |e: GitError| e.at(commit.as_deref(), Some(&change.path));
        let cap = self.max_blob_bytes;
        match open_blob(self.repo, change.id, cap).map_err(at)? {
            OpenedBlob::Whole(data) => self.scan_bytes(change, data),
            OpenedBlob::PackedOverCap(size) => {
                self.skip(
                    change,
                    SkipReason::TooLarge {
                        size,
                        cap,
                        scanned: 0,
                    },
                );
                Ok(())
            }
            OpenedBlob::Stream(mut stream) => {
                let size = stream.size();
                let read_error = |e: std::io::Error| {
                    at(GitError::Object {
                        what: format!("blob {}", change.id),
                        commit: None,
                        path: None,
                        message: e.to_string(),
                    })
                };
                if size <= cap && !change.olds.is_empty() {
                    // A modified file: the line diff needs both versions whole.
                    let data = read_stream(size, &mut stream, change.id).map_err(at)?;
                    return self.scan_bytes(change, data);
                }
                let probe = usize::try_from(size.min(PROBE_BYTES as u64)).unwrap_or(PROBE_BYTES);
                let mut head = vec![0u8; probe];
                stream.read_exact(&mut head).map_err(read_error)?;
                if size <= cap && detect_utf16(&head).is_some() {
                    let mut data = head;
                    data.extend(read_stream(size, &mut stream, change.id).map_err(at)?);
                    return self.scan_bytes(change, data);
                }
                if let Some(kind) = archive_kind(&head) {
                    self.skip(change, SkipReason::CompressedArchive(kind));
                }
                let mut reader = std::io::Cursor::new(head).chain(stream);
                let scanned = scan_stream(
                    self.scanner,
                    &change.path,
                    commit.as_deref(),
                    &mut reader,
                    size.min(cap),
                )
                .map_err(|e| match e {
                    StreamError::Read(e) => read_error(e),
                    StreamError::Scan(e) => GitError::Scan(e),
                })?;
                self.count(true, scanned.bytes);
                self.outcome.findings.extend(scanned.findings);
                self.outcome.suppressed.extend(scanned.suppressed);
                if size > cap {
                    self.skip(
                        change,
                        SkipReason::TooLarge {
                            size,
                            cap,
                            scanned: scanned.bytes,
                        },
                    );
                }
                Ok(())
            }
        }
    }

    /// Scans a blob's bytes against the old versions of its change: every view of it (UTF-16
    /// decoded, and as stored), each against the same view of the old versions.
    fn scan_bytes(&mut self, change: &PendingChange, data: Vec<u8>) -> Result<(), GitError> {
        let commit = change.commit.map(|c| c.to_string());
        let at = |e: GitError| e.at(commit.as_deref(), Some(&change.path));
        if let Some(kind) = archive_kind(&data) {
            self.skip(change, SkipReason::CompressedArchive(kind));
        }
        let mut olds = Vec::with_capacity(change.olds.len());
        for old in &change.olds {
            // An old version over the cap is not compared: the new one counts as all added.
            if let Some(data) = load_blob(self.repo, *old, self.max_blob_bytes).map_err(at)? {
                olds.push(data);
            }
        }
        let views = views(data);
        let decoded = views.len() > 1;
        for (i, view) in views.into_iter().enumerate() {
            let old_views: Vec<Cow<'_, [u8]>> = olds
                .iter()
                .map(|old| match detect_utf16(old) {
                    Some(order) if decoded && i == 0 => Cow::Owned(decode_utf16(old, order)),
                    _ => Cow::Borrowed(old.as_slice()),
                })
                .collect();
            let old_refs: Vec<&[u8]> = old_views.iter().map(std::convert::AsRef::as_ref).collect();
            let mut unit = added_text(&change.path, &old_refs, view);
            unit.commit = commit.clone();
            if !unit.is_empty() {
                // Kept to tell a secret that an edit completed from one that was there before.
                unit.previous = if decoded && i == 0 {
                    old_views.into_iter().map(Cow::into_owned).collect()
                } else {
                    drop(old_views);
                    std::mem::take(&mut olds)
                };
            }
            self.scan_view(&unit, i == 0)?;
        }
        Ok(())
    }

    /// Scans the names of the changed files as text, one per line (a token can be a file name).
    /// A name that holds a secret is reported with the secret redacted, and the change keeps only
    /// the redacted name, so that no later finding or skip prints it. Names under an allowed path
    /// are left alone, like their content.
    pub fn scan_names(&mut self, changes: &mut [PendingChange]) -> Result<(), GitError> {
        let named: Vec<usize> = (0..changes.len())
            .filter(|&i| !self.scanner.path_allowed(&changes[i].path))
            .collect();
        if named.is_empty() {
            return Ok(());
        }
        let mut buf = Vec::new();
        for &i in &named {
            buf.extend_from_slice(&changes[i].path);
            buf.push(b'\n');
        }
        self.count(false, buf.len() as u64);
        let mut unit = AddedText::whole(FILE_NAMES_PATH, buf);
        unit.commit = changes[named[0]].commit.map(|c| c.to_string());
        let scanned = self.scan_all(&unit)?;
        let mut secrets_by_change: HashMap<usize, Vec<Vec<u8>>> = HashMap::new();
        let lines = scanned
            .findings
            .iter()
            .map(|f| (f.line, f.secret.expose().to_vec()))
            .chain(
                scanned
                    .suppressed
                    .iter()
                    .map(|s| (s.finding.line, s.finding.secret.expose().to_vec())),
            );
        for (line, secret) in lines {
            if let Some(&i) = named.get(line.saturating_sub(1)) {
                secrets_by_change.entry(i).or_default().push(secret);
            }
        }
        for (&i, secrets) in &secrets_by_change {
            changes[i].path = redact_all(&changes[i].path, secrets);
        }
        let rename = |f: &mut crate::finding::Finding| {
            if let Some(&i) = named.get(f.line.saturating_sub(1)) {
                f.path = changes[i].path.clone();
                f.description = format!("{} (in the file name)", f.description);
                f.line = 1;
            }
        };
        for mut f in scanned.findings {
            rename(&mut f);
            self.outcome.findings.push(f);
        }
        for mut s in scanned.suppressed {
            rename(&mut s.finding);
            self.outcome.suppressed.push(s);
        }
        Ok(())
    }

    /// Counts what was scanned: `bytes` of text, and one more blob when `blob` (a second view of
    /// the same blob, or the file names, are not one).
    fn count(&mut self, blob: bool, bytes: u64) {
        self.outcome.blobs += u64::from(blob);
        self.outcome.bytes += bytes;
    }

    /// Scans a ready unit (a message, or a blob's added text) and counts it.
    pub fn scan_unit(&mut self, unit: &AddedText) -> Result<(), GitError> {
        self.scan_view(unit, true)
    }

    /// Scans a unit; `new_blob` counts it as one more blob (a second view of the same blob does
    /// not).
    fn scan_view(&mut self, unit: &AddedText, new_blob: bool) -> Result<(), GitError> {
        self.count(new_blob, unit.buf.len() as u64);
        if unit.is_empty() {
            return Ok(());
        }
        let scanned = self.scan_all(unit)?;
        self.outcome.findings.extend(scanned.findings);
        self.outcome.suppressed.extend(scanned.suppressed);
        Ok(())
    }
}

/// Fewer changes than this are scanned on the calling thread (a thread and a repository handle
/// cost more than a few small blobs).
pub const PARALLEL_MIN_CHANGES: usize = 8;

/// Scans `changes` on all cores, each thread with its own handle on `repo` (opened again from its
/// git directory with the options `repo` was opened with, so `GIT_OBJECT_DIRECTORY` and the other
/// environment overrides hold; not for a repository whose object store was replaced); the outcome
/// is the one [`ChangeScanner::scan_change`] would give in order on one thread: findings, skips
/// and counts in the order of `changes`, a blob pair met twice scanned once (at its first place).
/// `deadline` as [`ChangeScanner::deadline`]; the first error in `changes` order is returned.
pub fn scan_changes_parallel(
    repo: &gix::Repository,
    scanner: &Scanner,
    max_blob_bytes: u64,
    deadline: Option<(Instant, u64)>,
    changes: &[PendingChange],
) -> Result<ScanOutcome, GitError> {
    let threads = std::thread::available_parallelism()
        .map_or(1, usize::from)
        .min(changes.len().div_ceil(PARALLEL_MIN_CHANGES / 2).max(1));
    let unique = first_of_each_pair(scanner, changes);
    let next = std::sync::atomic::AtomicUsize::new(0);
    let failed = std::sync::atomic::AtomicBool::new(false);
    type Done = (usize, Result<ScanOutcome, GitError>);
    let mut done: Vec<Done> = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..threads)
            .map(|_| {
                let (git_dir, options) = (repo.git_dir(), repo.open_options().clone());
                let (next, failed, unique) = (&next, &failed, &unique);
                scope.spawn(move || {
                    let mut local = match gix::open_opts(git_dir, options) {
                        Ok(local) => local,
                        Err(e) => {
                            failed.store(true, std::sync::atomic::Ordering::Relaxed);
                            let e = GitError::Open {
                                path: git_dir.display().to_string(),
                                message: e.to_string(),
                            };
                            return vec![(0, Err(e))];
                        }
                    };
                    crate::git::configure_caches(&mut local);
                    let mut scan = ChangeScanner::new(&local, scanner, max_blob_bytes);
                    scan.deadline = deadline;
                    let mut done: Vec<Done> = Vec::new();
                    while !failed.load(std::sync::atomic::Ordering::Relaxed) {
                        let k = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                        let Some(&i) = unique.get(k) else { break };
                        let result = scan.scan_change(&changes[i]);
                        let outcome = std::mem::take(&mut scan.outcome);
                        failed.fetch_or(result.is_err(), std::sync::atomic::Ordering::Relaxed);
                        done.push((i, result.map(|()| outcome)));
                    }
                    done
                })
            })
            .collect();
        workers
            .into_iter()
            .flat_map(|w| w.join().unwrap_or_default())
            .collect()
    });
    if done.len() < unique.len() && !done.iter().any(|(_, r)| r.is_err()) {
        return Err(GitError::Object {
            what: "changes to scan".into(),
            commit: None,
            path: None,
            message: "a scanning thread stopped early".into(),
        });
    }
    done.sort_by_key(|(i, _)| *i);
    let mut outcome = ScanOutcome::default();
    for (_, result) in done {
        outcome.merge(result?);
    }
    Ok(outcome)
}

/// The indices of `changes` that a scan in order would act on: every change that is not a repeat
/// of a blob pair scanned before it (what [`ChangeScanner::scan_change`] skips as seen).
fn first_of_each_pair(scanner: &Scanner, changes: &[PendingChange]) -> Vec<usize> {
    let mut seen = HashSet::new();
    (0..changes.len())
        .filter(|&i| {
            let c = &changes[i];
            if c.name_only || c.mode.is_commit() || scanner.path_allowed(&c.path) {
                return true;
            }
            seen.insert(BlobPair::of(c))
        })
        .collect()
}

/// The name of the text unit that holds the changed files' names.
pub const FILE_NAMES_PATH: &str = "(file names)";

/// `path` with every occurrence of each secret replaced by its redacted form.
fn redact_all(path: &[u8], secrets: &[Vec<u8>]) -> Vec<u8> {
    let mut out = path.to_vec();
    for secret in secrets.iter().filter(|s| !s.is_empty()) {
        let redacted = crate::finding::redact(secret).into_bytes();
        let mut next = Vec::with_capacity(out.len());
        let mut rest = &out[..];
        while let Some(at) = memchr::memmem::find(rest, secret) {
            next.extend_from_slice(&rest[..at]);
            next.extend_from_slice(&redacted);
            rest = &rest[at + secret.len()..];
        }
        next.extend_from_slice(rest);
        out = next;
    }
    out
}

/// Drops exact renames (an added blob whose id was deleted elsewhere) and gives a renamed-and-
/// edited file its old version, so that only its new lines count.
///
/// A file deleted from a path the config allows (`allow.paths`, never scanned) is no rename
/// source: moved out of `testdata/` into real code, it is new content and scanned whole.
pub fn detect_renames(
    repo: &gix::Repository,
    max_blob_bytes: u64,
    changes: &mut [PendingChange],
    deleted: &[Deleted],
    path_allowed: &dyn Fn(&[u8]) -> bool,
) -> Result<(), GitError> {
    detect_renames_except(
        repo,
        max_blob_bytes,
        changes,
        deleted,
        path_allowed,
        &|_| false,
    )
}

/// [`detect_renames`], without reading the similarity of the changes `known_clean` names (an
/// audit's prescan cleared them: they yield nothing against any old version). They still count
/// towards [`MAX_RENAME_PAIRS`], so that the other changes are paired exactly as without them.
pub fn detect_renames_except(
    repo: &gix::Repository,
    max_blob_bytes: u64,
    changes: &mut [PendingChange],
    deleted: &[Deleted],
    path_allowed: &dyn Fn(&[u8]) -> bool,
    known_clean: &dyn Fn(&PendingChange) -> bool,
) -> Result<(), GitError> {
    let sources: Vec<Deleted> = deleted
        .iter()
        .filter(|d| !path_allowed(&d.path))
        .cloned()
        .collect();
    let deleted = &sources[..];
    {
        if deleted.is_empty() {
            return Ok(());
        }
        // Similarity is worth reading only for ordinary files.
        let max_blob_bytes = max_blob_bytes.min(crate::git::objects::STREAM_BYTES);
        let deleted_ids: HashSet<ObjectId> = deleted.iter().map(|d| d.id).collect();
        for c in changes.iter_mut() {
            if c.olds.is_empty() && deleted_ids.contains(&c.id) {
                c.name_only = true;
            }
        }
        let added: Vec<usize> = (0..changes.len())
            .filter(|&i| {
                changes[i].olds.is_empty() && !changes[i].name_only && changes[i].mode.is_blob()
            })
            .collect();
        if added.is_empty() || added.len() * deleted.len() > MAX_RENAME_PAIRS {
            return Ok(());
        }
        let mut old_texts: HashMap<ObjectId, Option<HashSet<Vec<u8>>>> = HashMap::new();
        for i in added {
            if known_clean(&changes[i]) {
                continue;
            }
            let new = match load_blob(repo, changes[i].id, max_blob_bytes) {
                Ok(Some(data)) => data,
                _ => continue,
            };
            let new_lines: Vec<&[u8]> = lines(&new).into_iter().map(without_line_ending).collect();
            if new_lines.is_empty() {
                continue;
            }
            let mut best: Option<(f64, ObjectId)> = None;
            for d in deleted {
                let old_lines = old_texts.entry(d.id).or_insert_with(|| {
                    load_blob(repo, d.id, max_blob_bytes)
                        .ok()
                        .flatten()
                        .map(|data| {
                            lines(&data)
                                .into_iter()
                                .map(|l| without_line_ending(l).to_vec())
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

#[cfg(test)]
mod tests {
    use super::*;

    /// A deadline that passes in the middle of a blob's scan stops it there, as a timeout.
    #[test]
    fn a_deadline_inside_a_blob_is_a_timeout() {
        let dir = crate::test_support::fresh_repo("deadline-inside");
        let repo = gix::open(&dir).unwrap();
        let text = b"api_key = 1\n".repeat(1000);
        let id = ObjectId::null(gix::hash::Kind::Sha1);
        let live = crate::test_support::pack_scanner();
        let mut scan = ChangeScanner::new(&repo, &live, 1 << 20);
        assert!(scan.scans_clean_whole(b"a.env", id, text.clone()).unwrap());

        let passed = crate::test_support::pack_scanner().with_deadline(Some(Instant::now()));
        let mut scan = ChangeScanner::new(&repo, &passed, 1 << 20);
        scan.deadline = Some((Instant::now() + std::time::Duration::from_secs(3600), 7));
        match scan.scans_clean_whole(b"a.env", id, text) {
            Err(GitError::Timeout { budget_ms: 7, .. }) => {}
            other => panic!("expected a timeout, got {other:?}"),
        }
    }
}

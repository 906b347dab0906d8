//! The audit's prescan: before the history is diffed, every blob the audited commits add is
//! checked once, as a new file at each path it is added at. A blob that yields nothing that way
//! (no finding, no suppressed secret, nothing skipped) yields nothing in any change that adds it —
//! a change's added text is a part of the blob, and what matches in a part matches in the whole —
//! so the history scan neither reads nor diffs those changes; it diffs only the few whose blob is
//! not clean, exactly as before, and the report is the same.
//!
//! Why it is faster: read one by one, a blob deep in a pack's delta chain costs the whole chain
//! each time; here the blobs of each pack that holds enough of the wanted ones are walked once in
//! delta-tree order, every delta applied once to its base, and no tree or commit decoded
//! (`pack_blobs`). Blobs not met there (loose objects, other packs, alternates) are read
//! through the object database.
//!
//! A blob stored as a delta against a blob the walk holds is not scanned whole: the lines around
//! every place its delta stops copying from the base ([`delta_lines`]) are scanned with the
//! line-local rules, and the whole blob with the multiline rules alone
//! ([`ChangeScanner::scans_clean_changed`]), their keywords found again only in the lines the
//! delta did not copy from its base's, the others' taken from the base's ([`delta_hits`]).
//! Every line-local match in the blob lies in those
//! lines or in lines copied unchanged, with their neighbours, from the base; so when both scans
//! are empty the blob is clean if its base is, which is settled once the walk is done
//! (`resolve_pending`); a blob whose base is not clean is scanned whole by id. Whatever cannot be
//! decided this way (UTF-16, archives, wrapped base64, over-cap sizes, a delta that does not
//! verify against its base) is scanned whole.
//!
//! Anything the prescan cannot read or decide is simply not marked clean: the history scan reads
//! it as it always did (and reports what it cannot read, naming the commit and path).

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::mpsc::{sync_channel, Receiver, SyncSender};
use std::sync::{Arc, Condvar, Mutex, OnceLock};

use gix::hash::ObjectId;
use gix::odb::pack;

use crate::added::AddedText;
use crate::audit::delta_hits;
use crate::audit::delta_lines::{self, Copied};
use crate::audit::pack_blobs::{self, BlobTree, Held, Visit, WalkedPack};
use crate::audit::pack_trees::PackTrees;
use crate::audit::Progress;
use crate::git::changes::{ChangeScanner, KnownClean};
use crate::git::commits::{commit_changes, CommitChanges};
use crate::git::objects::{load_blob, with_object_source, ObjectSource};
use crate::keywords::Hit;
use crate::scanner::Scanner;

/// Commits a worker lists at a time. Consecutive commits share most of their trees, which each
/// worker keeps decoded: on cargo's history, chunks of 512 listed in 3-4 % less CPU than chunks
/// of 64 (a worker met the parent trees of each chunk's first commits less often cold).
const CHUNK_COMMITS: usize = 512;
/// A pack is walked whole when at least this share (1/n) of its objects are wanted blobs;
/// otherwise its wanted blobs are read one by one.
const WALK_SHARE: usize = 8;
/// Most loose objects listed to tell which trees are stored in a pack alone (past it, the listing
/// reads every tree through the object database).
const MAX_LOOSE: usize = 100_000;
/// Most changes the prescan lists (memory bound: past it, no prescan).
pub const MAX_WANTED: usize = 4_000_000;
/// Most bytes of walked blobs handed to the workers and not yet scanned: the walk waits past it.
/// Room for many blobs lets the workers go on while the walk decodes blobs that give them nothing
/// (not wanted, stored elsewhere too, over the cap), and the walk go on while a worker scans a big
/// blob.
const QUEUE_BYTES: usize = 64 << 20;
/// Most jobs waiting in the workers' queue (each small: the bytes are counted by [`InFlight`]).
const QUEUE_JOBS: usize = 4096;

/// The bytes of the walked blobs handed out and not yet scanned.
#[derive(Default)]
struct InFlight {
    /// The bytes in flight, and how many admissions wait for some to be freed.
    bytes: Mutex<(usize, usize)>,
    freed: Condvar,
    /// Admissions waiting (for the tests).
    #[cfg(test)]
    waiting: AtomicUsize,
}

impl InFlight {
    /// Counts `n` more bytes, first waiting while others are in flight and `n` more would pass
    /// [`QUEUE_BYTES`] (a blob bigger than that goes alone).
    fn admit(self: &Arc<Self>, n: usize) -> Admitted {
        if let Ok(mut flight) = self.bytes.lock() {
            while flight.0 > 0 && flight.0 + n > QUEUE_BYTES {
                #[cfg(test)]
                self.waiting.fetch_add(1, Ordering::SeqCst);
                flight.1 += 1;
                flight = match self.freed.wait(flight) {
                    Ok(f) => f,
                    Err(poisoned) => poisoned.into_inner(),
                };
                flight.1 -= 1;
            }
            flight.0 += n;
        }
        Admitted {
            flight: Arc::clone(self),
            n,
        }
    }
}

#[cfg(test)]
impl InFlight {
    /// Whether a walk is waiting (for tests: set while `admit` waits).
    fn freed_waiters(&self) -> usize {
        self.waiting.load(Ordering::SeqCst)
    }
}

/// Bytes counted in flight until dropped (with the job that holds them: scanned, or dropped
/// unscanned when the workers are gone).
struct Admitted {
    flight: Arc<InFlight>,
    n: usize,
}

impl Drop for Admitted {
    /// Frees the bytes, and wakes the walk when it waits (a wake costs a system call, and jobs
    /// are dropped by the thousand while nobody waits).
    fn drop(&mut self) {
        let waiting = match self.flight.bytes.lock() {
            Ok(mut flight) => {
                flight.0 = flight.0.saturating_sub(self.n);
                flight.1 > 0
            }
            Err(_) => true,
        };
        if waiting {
            self.flight.freed.notify_all();
        }
    }
}

/// The blobs known to scan clean, each at the paths it was checked at; and the commits' changes
/// as listed for the prescan, each handed once to the history scan so it need not list them again.
#[derive(Default)]
pub struct CleanBlobs {
    paths: HashMap<Vec<u8>, u32>,
    clean: HashSet<(ObjectId, u32)>,
    listed: Vec<Mutex<Option<CommitChanges>>>,
    /// Blobs read and scanned.
    pub blobs: u64,
    /// Bytes scanned.
    pub bytes: u64,
    /// The packs walked, with their blobs' delta trees (for the branch-tip search).
    pub(crate) walked: Vec<WalkedPack>,
    /// The blobs those walks handed out: each stored in one place alone (see [`send_jobs`]).
    pub(crate) walked_blobs: HashSet<ObjectId>,
    /// (Blob, path) pairs found clean from the lines their delta changed (the rest whole).
    pub from_changed_lines: u64,
    /// The objects directory and its loose objects, when the listing read trees and commits
    /// from the packs ([`PackTrees`]): the history scan reads its commits the same way.
    object_source: Option<(PathBuf, Loose)>,
}

impl CleanBlobs {
    /// The changes of the commit at `index` of the audited list, if the prescan listed them (once:
    /// a second call gives `None`).
    pub fn take_changes(&self, index: usize) -> Option<CommitChanges> {
        self.listed.get(index)?.lock().ok()?.take()
    }

    /// A reader of trees and commits straight from the packs, as the listing used, for one
    /// thread ([`with_object_source`]); `None` when the listing did not read them so.
    pub fn object_source(&self) -> Option<Box<dyn ObjectSource>> {
        let (objects, loose) = self.object_source.as_ref()?;
        let reader = PackTrees::new(walkable_bundles(objects, false), Arc::clone(loose));
        Some(Box::new(reader))
    }
}

impl KnownClean for CleanBlobs {
    fn is_clean(&self, id: &ObjectId, path: &[u8]) -> bool {
        self.paths
            .get(path)
            .is_some_and(|&p| self.clean.contains(&(*id, p)))
    }
}

/// The blobs the audited commits add: each with the paths (indices into `paths`) it is added at.
#[derive(Debug, Default)]
struct Wanted {
    paths: Vec<Vec<u8>>,
    path_index: HashMap<Vec<u8>, u32>,
    blobs: HashMap<ObjectId, Vec<u32>>,
    pairs: usize,
}

impl Wanted {
    fn add(&mut self, id: ObjectId, path: Vec<u8>) {
        let next = u32::try_from(self.paths.len()).unwrap_or(u32::MAX);
        let index = *self.path_index.entry(path.clone()).or_insert_with(|| {
            self.paths.push(path);
            next
        });
        let at = self.blobs.entry(id).or_default();
        if !at.contains(&index) {
            at.push(index);
            self.pairs += 1;
        }
    }
}

/// Where a repository's packs are, and whether they may be walked ([`PackSource::of`]); the
/// packs are opened and their blob trees built by [`PackSource::open`], on any thread.
pub struct PackSource {
    objects: PathBuf,
    replaced: bool,
}

impl PackSource {
    /// The object directory of `repo`, and whether replace refs are in use (reading a blob by id
    /// then gives its replacement: a walk's stored bytes are not what the history scan reads).
    pub fn of(repo: &gix::Repository) -> PackSource {
        let odb = &**repo.objects;
        PackSource {
            objects: odb.store_ref().path().to_path_buf(),
            replaced: !odb.ignore_replacements && odb.store_ref().replacements().next().is_some(),
        }
    }

    /// Opens the packs that may be walked and builds their blobs' delta trees (a pack that
    /// cannot be walked has none).
    pub fn open(self) -> Packs {
        #[cfg(test)]
        super::failpoint::hit(&self.objects, super::failpoint::Stage::Packs);
        let mut bundles = walkable_bundles(&self.objects, self.replaced);
        // The walk visits every entry of an index, where a read by id finds one by binary
        // search: a crafted index listing an id twice (or out of order) could have the walk
        // clear bytes that no read returns. Such packs are not walked at all.
        if !bundles.iter().all(ids_strictly_increase) {
            bundles.clear();
        }
        let trees = bundles.iter().map(pack_blobs::blob_tree).collect();
        Packs {
            objects: self.objects,
            bundles,
            trees,
        }
    }
}

/// Whether the ids of `bundle`'s index are in strictly increasing order (each listed once).
fn ids_strictly_increase(bundle: &pack::Bundle) -> bool {
    let mut previous: Option<ObjectId> = None;
    bundle.index.iter().all(|entry| {
        let ordered = previous.is_none_or(|p| p < entry.oid);
        previous = Some(entry.oid);
        ordered
    })
}

/// The packs a prescan may walk, with their blobs' delta trees ([`PackSource::open`]).
pub struct Packs {
    objects: PathBuf,
    bundles: Vec<pack::Bundle>,
    trees: Vec<Option<BlobTree>>,
}

/// Runs the prescan over `commits` of `repo` on `threads` workers, walking `packs` (those of
/// `repo`, opened ahead: the audit opens them while it walks the revisions); `None` past
/// [`MAX_WANTED`] changes.
pub fn prescan(
    repo: &gix::Repository,
    commits: &[ObjectId],
    scanner: &Scanner,
    (max_blob_bytes, threads): (u64, usize),
    progress: &Progress,
    packs: Packs,
) -> Option<CleanBlobs> {
    let Packs {
        objects,
        bundles,
        trees,
    } = packs;
    let tree_packs = (!bundles.is_empty()).then_some(objects.as_path());
    let (wanted, listed, loose) =
        list_changes((repo.git_dir(), tree_packs), commits, scanner, threads)?;
    progress
        .blobs_total
        .fetch_add(wanted.blobs.len() as u64, Ordering::Relaxed);
    let reader = BlobReader {
        git_dir: repo.git_dir(),
        wanted: &wanted,
        scanner,
        max_blob_bytes,
        progress,
    };
    let (mut clean, walked) = scan_wanted(&reader, &objects, (&bundles, trees), threads);
    clean.listed = listed.into_iter().map(Mutex::new).collect();
    clean.object_source = tree_packs.zip(loose).map(|(o, l)| (o.to_path_buf(), l));
    clean.walked = bundles
        .into_iter()
        .zip(walked)
        .filter_map(|(bundle, tree)| Some((bundle, tree?)))
        .collect();
    Some(clean)
}

/// Lists the changes of chunks of `commits` taken in turn (`next`, shared by the workers) into
/// `found`, until none is left or more than [`MAX_WANTED`] changes are `listed`.
fn list_chunks(
    repo: &gix::Repository,
    commits: &[ObjectId],
    (next, listed): (&AtomicUsize, &AtomicUsize),
    found: &mut Vec<(usize, CommitChanges)>,
) {
    while listed.load(Ordering::Relaxed) <= MAX_WANTED {
        let start = next.fetch_add(CHUNK_COMMITS, Ordering::Relaxed);
        if start >= commits.len() {
            break;
        }
        let end = (start + CHUNK_COMMITS).min(commits.len());
        for (index, &id) in commits.iter().enumerate().take(end).skip(start) {
            if let Ok(changes) = commit_changes(repo, id) {
                listed.fetch_add(changes.changes.len(), Ordering::Relaxed);
                found.push((index, changes));
            }
        }
    }
}

/// Lists every commit's changes on `threads` workers, and from them the (blob, path) pairs the
/// commits add; `None` past [`MAX_WANTED`] changes. A commit that cannot be read has no entry (the
/// history scan lists it again and reports the error).
fn list_changes(
    (git_dir, tree_packs): (&Path, Option<&Path>),
    commits: &[ObjectId],
    scanner: &Scanner,
    threads: usize,
) -> Option<(Wanted, Vec<Option<CommitChanges>>, Option<Loose>)> {
    let next = AtomicUsize::new(0);
    let listed = AtomicUsize::new(0);
    // Trees are read straight from the packs (`pack_trees`) when the loose objects are few
    // enough to list (a tree stored loose too is read through the object database).
    let loose = tree_packs.and_then(|objects| Some(Arc::new(loose_objects(objects, MAX_LOOSE)?)));
    let lists: Vec<Vec<(usize, CommitChanges)>> = std::thread::scope(|scope| {
        let work = || {
            let mut found = Vec::new();
            let Ok(mut repo) = gix::open(git_dir) else {
                return found;
            };
            crate::git::configure_caches(&mut repo);
            let source = tree_packs.zip(loose.clone()).map(|(objects, loose)| {
                let reader = PackTrees::new(walkable_bundles(objects, false), loose);
                Box::new(reader) as Box<dyn ObjectSource>
            });
            let list = |found: &mut Vec<(usize, CommitChanges)>| {
                list_chunks(&repo, commits, (&next, &listed), found);
            };
            match source {
                Some(source) => with_object_source(source, || list(&mut found)),
                None => list(&mut found),
            }
            found
        };
        let handles: Vec<_> = (0..threads.max(1)).map(|_| scope.spawn(work)).collect();
        handles
            .into_iter()
            .map(|h| h.join().unwrap_or_default())
            .collect()
    });
    if listed.load(Ordering::Relaxed) > MAX_WANTED {
        return None;
    }
    let mut wanted = Wanted::default();
    let mut by_commit: Vec<Option<CommitChanges>> = Vec::with_capacity(commits.len());
    by_commit.resize_with(commits.len(), || None);
    for (index, changes) in lists.into_iter().flatten() {
        for change in &changes.changes {
            if !change.mode.is_commit() && !scanner.path_allowed(&change.path) {
                wanted.add(change.id, change.path.clone());
            }
        }
        by_commit[index] = Some(changes);
    }
    Some((wanted, by_commit, loose))
}

/// The loose objects of a repository, shared by the threads that read its packs.
type Loose = Arc<HashSet<ObjectId>>;

/// What one prescan worker found clean, and what it scanned.
#[derive(Default)]
struct WorkerClean {
    pairs: Vec<(ObjectId, u32)>,
    /// (Blob, base): clean at all its paths if the base is clean at any of its own (decided
    /// from the lines the blob's delta changed, see [`ChangeScanner::scans_clean_changed`]; what
    /// a scan finds does not depend on the path, [`Scanner::scan_part`]).
    pending: Vec<(ObjectId, ObjectId)>,
    blobs: u64,
    bytes: u64,
}

/// A blob the pack walk delivered, shared by its job and by the jobs of the blobs whose delta
/// base it is.
struct Walked {
    id: ObjectId,
    /// Its bytes, as a whole unit (at one of its paths: what a scan finds does not depend on it).
    whole: AddedText,
    /// The multiline rules' keyword hits in its bytes, once its job has worked them out, for
    /// the blobs stored as deltas against it ([`delta_hits`]).
    multiline_hits: OnceLock<Arc<[Hit]>>,
}

/// A walked blob as the walk holds it once handed out: shared with the workers' jobs.
struct Delivered(Arc<Walked>);

impl AsRef<[u8]> for Delivered {
    fn as_ref(&self) -> &[u8] {
        &self.0.whole.buf
    }
}

/// The job of a walked blob: the blob, and its delta base when the walk delivered that too, with
/// the ranges its delta copies from that base.
struct WalkedJob {
    blob: Arc<Walked>,
    base: Option<(Arc<Walked>, Vec<Copied>)>,
    /// The blob's bytes, counted in flight while the job lives.
    _admitted: Admitted,
}

/// A blob for the workers: walked from a pack, or only its id (to be read through the object
/// database).
enum Job {
    Walked(WalkedJob),
    Read(ObjectId),
}

/// What the prescan's workers share.
struct BlobReader<'a> {
    git_dir: &'a Path,
    wanted: &'a Wanted,
    scanner: &'a Scanner,
    max_blob_bytes: u64,
    progress: &'a Progress,
}

/// Reads every wanted blob once and scans it at each of its paths on `threads` workers (whole,
/// or only the lines its delta changed when it has a delta base, then clean if the base is).
/// `trees` are the blob trees of `bundles` (`None` for a pack that cannot be walked); returned
/// are those of the packs walked.
fn scan_wanted(
    reader: &BlobReader<'_>,
    objects: &Path,
    (bundles, trees): (&[pack::Bundle], Vec<Option<BlobTree>>),
    threads: usize,
) -> (CleanBlobs, Vec<Option<BlobTree>>) {
    let (mut walked, mut delivered) = (Vec::new(), HashSet::new());
    let results = run_workers(reader, threads, |sender| {
        (walked, delivered) = send_jobs(reader, objects, (bundles, trees), sender);
    });
    let mut clean = CleanBlobs {
        paths: reader.wanted.path_index.clone(),
        walked_blobs: delivered,
        ..CleanBlobs::default()
    };
    let mut pending = HashMap::new();
    for r in results {
        clean.clean.extend(r.pairs);
        pending.extend(r.pending);
        clean.blobs += r.blobs;
        clean.bytes += r.bytes;
    }
    let unresolved = resolve_pending(&mut clean, &pending, reader.wanted);
    clean.blobs += clean.from_changed_lines;
    // A blob whose base is not clean is scanned again, whole (read by id).
    let again = run_workers(reader, threads, |sender| {
        for id in unresolved {
            if sender.send(Job::Read(id)).is_err() {
                return;
            }
        }
    });
    for r in again {
        clean.clean.extend(r.pairs);
        clean.blobs += r.blobs;
        clean.bytes += r.bytes;
    }
    (clean, walked)
}

/// Takes (and drops) the jobs left in the queue when its worker unwinds from a panic, until the
/// sender is done: with every worker gone the walk would otherwise wait forever on a full queue.
/// What the dead worker did not mark clean, the history scan scans.
struct DrainOnUnwind<'r>(&'r Mutex<Receiver<Job>>);

impl Drop for DrainOnUnwind<'_> {
    fn drop(&mut self) {
        if std::thread::panicking() {
            drain(self.0);
        }
    }
}

/// Takes and drops jobs until the sender is done, one at a time (so that the workers still alive
/// keep taking their share); a dropped job releases its bytes and the jobs waiting on it as a
/// base.
fn drain(receiver: &Mutex<Receiver<Job>>) {
    let take = || {
        let receiver = receiver
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        receiver.recv().is_ok()
    };
    while take() {}
}

/// Runs `threads` workers on the jobs `send` hands out; their results.
fn run_workers(
    reader: &BlobReader<'_>,
    threads: usize,
    send: impl FnOnce(&SyncSender<Job>),
) -> Vec<WorkerClean> {
    let threads = threads.max(1);
    let (sender, receiver) = sync_channel::<Job>(QUEUE_JOBS);
    let receiver = Mutex::new(receiver);
    std::thread::scope(|scope| {
        let handles: Vec<_> = (0..threads)
            .map(|_| scope.spawn(|| reader.scan_jobs(&receiver)))
            .collect();
        send(&sender);
        drop(sender);
        handles
            .into_iter()
            .map(|h| h.join().unwrap_or_default())
            .collect()
    })
}

/// Marks clean, at each of its paths, each blob of `pending` whose base is clean at one of its
/// own (found so whole, or through its own base); returns the blobs left undecided, sorted.
fn resolve_pending(
    clean: &mut CleanBlobs,
    pending: &HashMap<ObjectId, ObjectId>,
    wanted: &Wanted,
) -> Vec<ObjectId> {
    let clean_whole: HashSet<ObjectId> = clean.clean.iter().map(|(id, _)| *id).collect();
    let mut decided: HashMap<ObjectId, bool> = HashMap::with_capacity(pending.len());
    for &start in pending.keys() {
        // Follows the bases down to a decided blob (each step a distinct pending blob, so a
        // cycle ends it undecided), then decides the whole chain.
        let mut chain = vec![start];
        let mut answer = false;
        while let Some(&top) = chain.last() {
            if let Some(&known) = decided.get(&top) {
                answer = known;
                break;
            }
            let Some(&base) = pending.get(&top) else {
                answer = clean_whole.contains(&top);
                break;
            };
            if chain.len() > pending.len() {
                break;
            }
            chain.push(base);
        }
        for id in chain {
            if pending.contains_key(&id) && decided.insert(id, answer).is_none() && answer {
                clean.from_changed_lines += 1;
                for &p in wanted.blobs.get(&id).map_or(&[][..], Vec::as_slice) {
                    clean.clean.insert((id, p));
                }
            }
        }
    }
    let mut unresolved: Vec<ObjectId> = decided
        .into_iter()
        .filter_map(|(id, ok)| (!ok).then_some(id))
        .collect();
    unresolved.sort();
    unresolved
}

/// The object directory's packs, opened; none with alternate object directories (a blob may then
/// have copies the walk cannot see) or replace refs (`replaced`: reading by id gives the
/// replacement).
fn walkable_bundles(objects: &Path, replaced: bool) -> Vec<pack::Bundle> {
    let alternates = objects.join("info/alternates").exists()
        || std::env::var_os("GIT_ALTERNATE_OBJECT_DIRECTORIES").is_some();
    // A multi-pack index decides which pack's copy of an object git reads, by offsets nothing
    // checks against the packs' own indexes: a crafted one can name another object's bytes.
    let multi_pack_index = ["multi-pack-index", "multi-pack-index.d"]
        .iter()
        .any(|name| objects.join("pack").join(name).exists());
    if alternates || replaced || multi_pack_index {
        return Vec::new();
    }
    pack_indices(objects)
        .iter()
        .filter_map(|p| pack::Bundle::at(p, gix::hash::Kind::Sha1).ok())
        .collect()
}

/// Hands every wanted blob to the workers once: from the packs worth walking, then the rest by id.
///
/// A blob stored in more than one place (two packs, or a pack and a loose object) is always read
/// by id, as the history scan reads it: copies that disagree (a crafted repository) cannot make
/// the prescan clear one version while the history scan reads the other. With alternate object
/// directories or replace refs, nothing is walked.
fn send_jobs(
    reader: &BlobReader<'_>,
    objects: &Path,
    (bundles, mut trees): (&[pack::Bundle], Vec<Option<BlobTree>>),
    sender: &SyncSender<Job>,
) -> (Vec<Option<BlobTree>>, HashSet<ObjectId>) {
    let wanted = reader.wanted;
    let ids: HashSet<&ObjectId> = wanted.blobs.keys().collect();
    let places = object_places(objects, bundles, &ids);
    // Wanted blobs stored only in each pack: a pack is walked when they are enough of it.
    let mut single_in = vec![0usize; bundles.len()];
    for id in wanted.blobs.keys() {
        if let Some((1, Some(pack))) = places.get(id) {
            single_in[*pack] += 1;
        }
    }
    let mut walked: HashSet<ObjectId> = HashSet::with_capacity(wanted.blobs.len());
    // One budget for every pack: the jobs of a pack walked before may still be queued.
    let in_flight = Arc::new(InFlight::default());
    trees.resize_with(bundles.len(), || None);
    for ((bundle, &in_pack), tree) in bundles.iter().zip(&single_in).zip(trees.iter_mut()) {
        if in_pack == 0 || in_pack * WALK_SHARE < bundle.index.num_objects() as usize {
            *tree = None;
            continue;
        }
        let Some(blob_tree) = tree.as_ref() else {
            continue;
        };
        let delivered = Mutex::new(Vec::new());
        let single = |id: &ObjectId| matches!(places.get(id), Some((1, _)));
        let walk = Walk {
            wanted,
            single: &single,
            max_blob_bytes: reader.max_blob_bytes,
            sender,
            delivered: &delivered,
            in_flight: &in_flight,
        };
        walk.run(bundle, blob_tree);
        walked.extend(delivered.into_inner().unwrap_or_default());
    }
    for id in wanted.blobs.keys() {
        if !walked.contains(id) && sender.send(Job::Read(*id)).is_err() {
            break;
        }
    }
    (trees, walked)
}

/// [`walkable_bundles`] of a repository without replace refs (for other modules' tests).
#[cfg(test)]
pub(crate) fn tests_walkable_bundles(objects: &Path) -> Vec<pack::Bundle> {
    walkable_bundles(objects, false)
}

/// For each of `ids`, in how many places it is stored (the packs of `bundles`, a loose file) and
/// the first pack that holds it.
fn object_places(
    objects: &Path,
    bundles: &[pack::Bundle],
    ids: &HashSet<&ObjectId>,
) -> HashMap<ObjectId, (usize, Option<usize>)> {
    let mut places: HashMap<ObjectId, (usize, Option<usize>)> = HashMap::new();
    for (index, bundle) in bundles.iter().enumerate() {
        for &id in ids {
            if bundle.index.lookup(id).is_some() {
                let place = places.entry(*id).or_default();
                place.0 += 1;
                place.1.get_or_insert(index);
            }
        }
    }
    match loose_objects(objects, ids.len()) {
        Some(loose) => {
            for &id in ids {
                if loose.contains(id) {
                    places.entry(*id).or_default().0 += 1;
                }
            }
        }
        None => {
            for &id in ids {
                let hex = id.to_hex().to_string();
                if objects.join(&hex[..2]).join(&hex[2..]).exists() {
                    places.entry(*id).or_default().0 += 1;
                }
            }
        }
    }
    places
}

/// The ids of the loose objects under `objects` (the files of its 256 fan-out directories), read
/// with one directory listing each instead of a file test per object; `None` when a directory
/// cannot be listed or there are more than `limit` of them (then each object is tested alone).
/// A file that is not named as an object is left out, as the test per object would leave it.
fn loose_objects(objects: &Path, limit: usize) -> Option<HashSet<ObjectId>> {
    let mut loose = HashSet::new();
    for prefix in 0..=u8::MAX {
        let prefix = format!("{prefix:02x}");
        let entries = match std::fs::read_dir(objects.join(&prefix)) {
            Ok(entries) => entries,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
            Err(_) => return None,
        };
        for entry in entries {
            let name = entry.ok()?.file_name();
            let hex = format!("{prefix}{}", name.to_str()?);
            if let Ok(id) = ObjectId::from_hex(hex.as_bytes()) {
                loose.insert(id);
            }
            if loose.len() > limit {
                return None;
            }
        }
    }
    Some(loose)
}

/// One pack walk's share of the prescan: what to hand out, and what was delivered.
struct Walk<'a> {
    wanted: &'a Wanted,
    /// Whether a blob is stored only in the walked pack.
    single: &'a (dyn Fn(&ObjectId) -> bool + Sync),
    max_blob_bytes: u64,
    sender: &'a SyncSender<Job>,
    delivered: &'a Mutex<Vec<ObjectId>>,
    /// The bytes handed out and not yet scanned (the walk waits while there are too many).
    in_flight: &'a Arc<InFlight>,
}

impl Walk<'_> {
    /// Walks one pack in delta-tree order, handing each wanted blob within the cap and stored
    /// only there to the workers (recorded in `delivered`) with its delta base when that was
    /// handed out too. A pack that fails to decode part-way hands out what it decoded; the rest
    /// is read by id.
    fn run(&self, bundle: &pack::Bundle, tree: &BlobTree) {
        let stop = AtomicBool::new(false);
        let cap = self.max_blob_bytes.min(crate::git::objects::STREAM_BYTES);
        let visit = |visit: Visit<'_, Delivered>| {
            if stop.load(Ordering::Relaxed) {
                return Held::Bytes(Vec::new());
            }
            self.deliver(visit).unwrap_or_else(|()| {
                // The workers are gone: nothing more to hand out.
                stop.store(true, Ordering::Relaxed);
                Held::Bytes(Vec::new())
            })
        };
        pack_blobs::walk_blobs((bundle, tree), &tree.all(), cap, visit, &stop);
    }

    /// Hands one walked blob (under the cap) to the workers when it is a wanted blob stored only in
    /// this pack, with its delta base when that was handed out too; returns the blob as held for
    /// the deltas against it; `Err` when the workers are gone.
    fn deliver(&self, visit: Visit<'_, Delivered>) -> Result<Held<Delivered>, ()> {
        let Visit {
            entry,
            bytes,
            delta,
        } = visit;
        let Some(paths) = self.wanted.blobs.get(&entry.oid) else {
            return Ok(Held::Bytes(bytes));
        };
        if !(self.single)(&entry.oid) {
            return Ok(Held::Bytes(bytes));
        }
        let path = paths
            .first()
            .map_or(&[][..], |&p| &self.wanted.paths[p as usize]);
        let size = bytes.len();
        let blob = Arc::new(Walked {
            id: entry.oid,
            whole: AddedText::whole(path, bytes),
            multiline_hits: OnceLock::new(),
        });
        let base = delta.and_then(|(base, copies)| match base {
            Held::Shared(Delivered(base)) => Some((Arc::clone(base), copies)),
            Held::Bytes(_) => None,
        });
        let job = WalkedJob {
            blob: Arc::clone(&blob),
            base,
            _admitted: self.in_flight.admit(size),
        };
        self.sender.send(Job::Walked(job)).map_err(|_| ())?;
        if let Ok(mut d) = self.delivered.lock() {
            d.push(entry.oid);
        }
        Ok(Held::Shared(Delivered(blob)))
    }
}

/// The `.idx` files of the object directory's packs, sorted.
fn pack_indices(objects: &Path) -> Vec<PathBuf> {
    let Ok(dir) = std::fs::read_dir(objects.join("pack")) else {
        return Vec::new();
    };
    let mut found: Vec<PathBuf> = dir
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "idx"))
        .collect();
    found.sort();
    found
}

impl BlobReader<'_> {
    /// One worker: takes blobs until none is left, scanning each at each of its paths; returns
    /// the clean (blob, path) pairs and what it scanned.
    fn scan_jobs(&self, receiver: &Mutex<Receiver<Job>>) -> WorkerClean {
        let _drain = DrainOnUnwind(receiver);
        let mut found = WorkerClean::default();
        let Ok(mut repo) = gix::open(self.git_dir) else {
            // Nothing is marked clean, but the blobs are still taken, so the sender never waits.
            drain(receiver);
            return found;
        };
        crate::git::configure_caches(&mut repo);
        let mut scan = ChangeScanner::new(&repo, self.scanner, self.max_blob_bytes);
        loop {
            let job = match receiver.lock() {
                Ok(r) => r.recv(),
                Err(_) => break,
            };
            let Ok(job) = job else { break };
            #[cfg(test)]
            super::failpoint::hit(self.git_dir, super::failpoint::Stage::Prescan);
            self.progress.blobs_done.fetch_add(1, Ordering::Relaxed);
            let before = scan.outcome.bytes;
            match job {
                Job::Walked(job) => self.scan_walked(&mut scan, &job, &mut found),
                Job::Read(id) => {
                    if let Ok(Some(data)) = load_blob(&repo, id, self.max_blob_bytes) {
                        self.scan_whole(&mut scan, id, &data, &mut found);
                    }
                }
            }
            self.progress
                .bytes_done
                .fetch_add(scan.outcome.bytes - before, Ordering::Relaxed);
        }
        found.blobs = scan.outcome.blobs;
        found.bytes = scan.outcome.bytes;
        found
    }

    /// Scans blob `id` whole at each of its paths.
    fn scan_whole(
        &self,
        scan: &mut ChangeScanner<'_>,
        id: ObjectId,
        data: &[u8],
        found: &mut WorkerClean,
    ) {
        for &p in self.wanted.blobs.get(&id).map_or(&[][..], Vec::as_slice) {
            let path = &self.wanted.paths[p as usize];
            if let Ok(true) = scan.scans_clean_whole(path, id, data.to_vec()) {
                found.pairs.push((id, p));
            }
        }
    }

    /// Scans a walked blob: from the lines its delta changed (`unit`) when there is one, clean
    /// then at every path if its base is clean (decided once every blob is scanned); else, or
    /// when those lines do not decide it, whole at each of its paths.
    fn scan_walked(&self, scan: &mut ChangeScanner<'_>, job: &WalkedJob, found: &mut WorkerClean) {
        let id = job.blob.id;
        let whole = &job.blob.whole;
        let paths = self.wanted.blobs.get(&id).map_or(&[][..], Vec::as_slice);
        if let Some((base, copies)) = &job.base {
            // Worked out first: the jobs of the blobs stored as deltas against this one, often
            // taken by another worker right after this one, find them sooner.
            let hits = self.multiline_hits(job, base, copies);
            let unit = delta_lines::changed_unit(&whole.path, &base.whole.buf, &whole.buf, copies);
            if let Some(unit) = unit {
                if let Ok(true) = scan.scans_clean_changed(whole, &unit, hits.as_deref()) {
                    found.pending.push((id, base.id));
                    return;
                }
            }
        }
        for &p in paths {
            let path = &self.wanted.paths[p as usize];
            if let Ok(true) = scan.scans_clean_whole(path, id, whole.buf.clone()) {
                found.pairs.push((id, p));
            }
        }
    }
}

impl BlobReader<'_> {
    /// The multiline rules' keyword hits in a walked blob stored as a delta (`copies`) against
    /// `base`: moved from the base's hits where its lines are copied ([`delta_hits`]) when the
    /// base's job has worked them out already, else searched. Recorded for the blobs stored as
    /// deltas against this one. `None` when the keyword search is not per line, or did not build.
    fn multiline_hits(
        &self,
        job: &WalkedJob,
        base: &Walked,
        copies: &[Copied],
    ) -> Option<Arc<[Hit]>> {
        let keywords = self.scanner.multiline_keywords().ok()?;
        if !keywords.hits_are_per_line() {
            return None;
        }
        let blob = &job.blob.whole.buf;
        let hits: Arc<[Hit]> = match base.multiline_hits.get() {
            Some(base_hits) => delta_hits::hits_from_base(
                (&base.whole.buf, base_hits),
                blob,
                copies,
                keywords.longest(),
                |part| keywords.hits(part),
            )
            .into(),
            None => keywords.hits(blob).into(),
        };
        let _ = job.blob.multiline_hits.set(Arc::clone(&hits));
        Some(hits)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audit::{audit_repository, AuditOptions, Progress};

    /// Bytes in flight are counted until their jobs are dropped; a blob bigger than the whole
    /// budget goes when nothing else is in flight; a blob that would pass the budget waits until
    /// another job is dropped.
    #[test]
    fn the_walk_waits_while_too_many_bytes_are_in_flight() {
        let flight = Arc::new(InFlight::default());
        let bytes = |f: &InFlight| f.bytes.lock().unwrap().0;
        let huge = flight.admit(3 * QUEUE_BYTES);
        assert_eq!(bytes(&flight), 3 * QUEUE_BYTES);
        drop(huge);
        assert_eq!(bytes(&flight), 0);
        let most = flight.admit(QUEUE_BYTES - 10);
        let (done, finished) = sync_channel(1);
        std::thread::scope(|scope| {
            let waiting = Arc::clone(&flight);
            scope.spawn(move || {
                let more = waiting.admit(100);
                done.send(()).unwrap();
                drop(more);
            });
            // The second admission cannot finish while the first holds the budget.
            while flight.freed_waiters() == 0 {
                std::thread::yield_now();
            }
            assert!(finished.try_recv().is_err());
            drop(most);
            finished.recv().unwrap();
        });
        assert_eq!(bytes(&flight), 0);
    }
    use crate::test_support::{b64, fresh_repo, git_command, git_ok as git, rule_example, Rng};

    /// Asserts that the audit report of `dir` without the prescan has a line that `shows`, and
    /// that the prescan leaves it the same; then removes `dir`.
    /// The loose objects listed from the fan-out directories are the ones a file test per object
    /// finds: names that are not objects are left out, and too many of them give up the listing.
    #[test]
    fn listed_loose_objects_are_the_ones_tested_one_by_one() {
        let dir = crate::test_support::fresh_repo("loose-list");
        let objects = dir.join(".git/objects");
        let ids: Vec<ObjectId> = (0u8..6)
            .map(|i| ObjectId::from_hex(format!("{i:02x}{}", "ab".repeat(19)).as_bytes()).unwrap())
            .collect();
        for id in &ids[..3] {
            let hex = id.to_hex().to_string();
            std::fs::create_dir_all(objects.join(&hex[..2])).unwrap();
            std::fs::write(objects.join(&hex[..2]).join(&hex[2..]), b"x").unwrap();
        }
        std::fs::write(objects.join("00/tmp_obj_Ab12"), b"x").unwrap();
        std::fs::write(objects.join("01/short"), b"x").unwrap();
        let listed = loose_objects(&objects, 100).unwrap();
        for id in &ids {
            let hex = id.to_hex().to_string();
            let tested = objects.join(&hex[..2]).join(&hex[2..]).exists();
            assert_eq!(listed.contains(id), tested, "{hex}");
        }
        assert_eq!(listed.len(), 3);
        assert!(loose_objects(&objects, 2).is_none());
        std::fs::remove_dir_all(&dir).unwrap();
    }

    /// A blob both packed and loose (real git's files) counts two places: it is read by id, not
    /// taken from the walk.
    #[test]
    fn a_blob_both_packed_and_loose_has_two_places() {
        let dir = crate::test_support::fresh_repo("loose-and-packed");
        std::fs::write(dir.join("a.txt"), "twice\n").unwrap();
        crate::test_support::git_ok(&dir, &["add", "a.txt"]);
        crate::test_support::git_ok(&dir, &["commit", "-qm", "a"]);
        let repo = gix::open(&dir).unwrap();
        let id = repo
            .head_commit()
            .unwrap()
            .tree()
            .unwrap()
            .find_entry("a.txt")
            .unwrap()
            .oid()
            .to_owned();
        let hex = id.to_hex().to_string();
        let objects = dir.join(".git/objects");
        let loose_file = objects.join(&hex[..2]).join(&hex[2..]);
        let loose_bytes = std::fs::read(&loose_file).unwrap();
        crate::test_support::git_ok(&dir, &["repack", "-qad"]);
        assert!(!loose_file.exists());
        let bundles: Vec<pack::Bundle> = pack_indices(&objects)
            .iter()
            .map(|p| pack::Bundle::at(p, gix::hash::Kind::Sha1).unwrap())
            .collect();
        let ids: HashSet<&ObjectId> = [&id].into_iter().collect();
        assert_eq!(object_places(&objects, &bundles, &ids)[&id], (1, Some(0)));
        std::fs::create_dir_all(objects.join(&hex[..2])).unwrap();
        std::fs::write(&loose_file, loose_bytes).unwrap();
        assert_eq!(object_places(&objects, &bundles, &ids)[&id], (2, Some(0)));
        std::fs::remove_dir_all(&dir).unwrap();
    }

    fn assert_same_report_with_prescan(
        dir: &Path,
        scanner: &Scanner,
        shows: impl Fn(&str) -> bool,
    ) {
        let without = report(dir, scanner, false);
        assert!(without.iter().any(|l| shows(l)), "{without:?}");
        assert_eq!(report(dir, scanner, true), without);
        std::fs::remove_dir_all(dir).unwrap();
    }

    /// A change met on more than one worker (a file switched back and forth between a version
    /// with a secret and one without, over many chunks of commits) is counted once, and what is
    /// skipped of another (over the size cap) is the same: the audit's blob and byte counts and
    /// skips are the same on one worker as on three, run after run.
    #[test]
    fn a_change_two_workers_meet_is_counted_once() {
        let dir = fresh_repo("pair-counts");
        let secret = rule_example("aws-access-key-id");
        let versions = [
            format!("key = {secret}\n"),
            "key = none\n".to_string(),
            "x".repeat(300),
            "y".repeat(400),
        ];
        let mut stream = Vec::new();
        for (mark, text) in versions.iter().enumerate() {
            stream
                .extend(format!("blob\nmark :{}\ndata {}\n{text}\n", mark + 1, text.len()).bytes());
        }
        for i in 0..(4 * CHUNK_COMMITS) {
            stream.extend(
                format!(
                    "commit refs/heads/main\nmark :{}\ncommitter c <c@example.invalid> {} +0000\n\
                     data 2\nc\n{}M 100644 :{} f.txt\nM 100644 :{} big.txt\n\n",
                    i + 10,
                    1_700_000_000 + i,
                    if i == 0 {
                        String::new()
                    } else {
                        format!("from :{}\n", i + 9)
                    },
                    i % 2 + 1,
                    i % 2 + 3
                )
                .bytes(),
            );
        }
        fast_import(&dir, &stream);
        let scanner = crate::test_support::pack_scanner();
        let counts = |threads: usize| {
            let audit = audit_dir(&dir, &scanner, 200, threads, true).unwrap();
            assert_eq!(audit.secrets.len(), 1);
            let skipped: Vec<String> = audit
                .skipped
                .iter()
                .map(|s| format!("{:?} {:?} {:?}", s.path, s.commit, s.reason))
                .collect();
            assert_eq!(skipped.len(), 2, "{skipped:?}");
            (audit.summary.blobs, audit.summary.bytes, skipped)
        };
        let alone = counts(1);
        for _ in 0..5 {
            assert_eq!(counts(3), alone);
        }
        std::fs::remove_dir_all(&dir).unwrap();
    }

    /// A repository at `dir` with one commit of `files` small files, one of which holds an AWS
    /// key id; written by fast-import, so its blobs are in a pack the prescan walks.
    fn many_files_repo(dir: &Path, files: usize) {
        let mut stream = String::from(
            "commit refs/heads/main\ncommitter c <c@example.invalid> 1700000000 +0000\ndata 2\nc\n",
        );
        for i in 0..files {
            let text = if i == files / 2 {
                format!("key = {}\n", rule_example("aws-access-key-id"))
            } else {
                format!("file {i}\n")
            };
            stream.push_str(&format!(
                "M 100644 inline f{i}.txt\ndata {}\n{text}\n",
                text.len()
            ));
        }
        fast_import(dir, stream.as_bytes());
    }

    /// The audit of every commit of the repository at `dir`.
    fn audit_dir(
        dir: &Path,
        scanner: &Scanner,
        max_blob_bytes: u64,
        threads: usize,
        prescan: bool,
    ) -> Result<crate::audit::RepoAudit, crate::git::GitError> {
        let repo = gix::open(dir).unwrap();
        let progress = Progress::default();
        let options = AuditOptions {
            name: "r".into(),
            scanner,
            max_blob_bytes,
            threads,
            progress: &progress,
            prescan,
        };
        let revs = crate::audit::revisions::parse(&repo, &[]).unwrap();
        audit_repository(&repo, &revs, &options)
    }

    /// Feeds `stream` to `git fast-import` in the repository at `dir`.
    fn fast_import(dir: &Path, stream: &[u8]) {
        let mut child = git_command(dir, &["fast-import", "--quiet"])
            .stdin(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        std::io::Write::write_all(child.stdin.as_mut().unwrap(), stream).unwrap();
        assert!(child.wait().unwrap().success());
    }

    /// The audit of the repository at `dir` on one worker, on a thread of its own; `None` when
    /// it has not finished in ten minutes (a walk waiting forever on a full queue).
    fn audit_alone(dir: &Path) -> Option<Result<usize, crate::git::GitError>> {
        let (done, finished) = sync_channel(1);
        let dir = dir.to_path_buf();
        std::thread::spawn(move || {
            let scanner = crate::test_support::pack_scanner();
            let audit = audit_dir(&dir, &scanner, 1 << 20, 1, true).map(|a| a.secrets.len());
            done.send(audit).unwrap();
        });
        finished
            .recv_timeout(std::time::Duration::from_secs(600))
            .ok()
    }

    /// Every prescan worker panics on its first job, with more blobs to walk than the queue
    /// holds: the walk does not wait forever, and the history scan still finds the secret.
    #[test]
    fn a_prescan_worker_that_panics_leaves_the_walk_free_and_the_secret_found() {
        let dir = fresh_repo("prescan-panic");
        many_files_repo(&dir, QUEUE_JOBS + 500);
        crate::audit::failpoint::arm(&dir, crate::audit::failpoint::Stage::Prescan);
        let audit = audit_alone(&dir).expect("the audit never finished");
        assert_eq!(audit.unwrap(), 1);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    /// The thread that opens the packs panics: the audit goes on without a prescan and still
    /// finds the secret.
    #[test]
    fn a_panic_opening_the_packs_leaves_the_history_scan_to_find_the_secret() {
        let dir = fresh_repo("packs-panic");
        many_files_repo(&dir, 3);
        crate::audit::failpoint::arm(&dir, crate::audit::failpoint::Stage::Packs);
        let audit = audit_alone(&dir).expect("the audit never finished");
        assert_eq!(audit.unwrap(), 1);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    /// A history worker that panics makes the audit fail: never a report without the commits it
    /// had taken.
    #[test]
    fn a_history_worker_that_panics_fails_the_audit() {
        let dir = fresh_repo("history-panic");
        many_files_repo(&dir, 3);
        crate::audit::failpoint::arm(&dir, crate::audit::failpoint::Stage::History);
        let audit = audit_alone(&dir).expect("the audit never finished");
        let error = audit.unwrap_err().to_string();
        assert!(error.contains("stopped early"), "{error}");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    /// Everything an audit reports of one repository, as comparable lines.
    /// The prescan of every commit of the repository at `dir`.
    fn prescan_all(dir: &Path, scanner: &Scanner) -> CleanBlobs {
        let repo = gix::open(dir).unwrap();
        let revs = crate::audit::revisions::parse(&repo, &[]).unwrap();
        let commits = crate::audit::revisions::commits(&repo, &revs).unwrap();
        prescan(
            &repo,
            &commits,
            scanner,
            (1 << 20, 2),
            &Progress::default(),
            PackSource::of(&repo).open(),
        )
        .unwrap()
    }

    fn report(dir: &Path, scanner: &Scanner, prescan: bool) -> Vec<String> {
        let audit = audit_dir(dir, scanner, 1 << 20, 3, prescan).unwrap();
        let mut lines = Vec::new();
        for (key, secret) in &audit.secrets {
            lines.push(format!("secret {} {:?}", key.0, secret.present_at));
            for o in &secret.occurrences {
                lines.push(format!(
                    "  {} {} {}:{}",
                    o.commit.id, o.path, o.line, o.column
                ));
            }
        }
        for s in &audit.skipped {
            lines.push(format!(
                "skipped {:?} {:?} {:?}",
                s.path, s.reason, s.commit
            ));
        }
        lines.push(format!("suppressed {}", audit.suppressed));
        lines
    }

    /// A random history of edits built from every rule's examples (inserted, deleted, moved,
    /// changed by one byte, inside a PEM block, UTF-16, renamed, on a branch merged back), audited
    /// with and without the prescan, loose and packed: the same report each time, and the prescan
    /// both clears blobs and leaves some to the diff.
    #[test]
    fn the_prescan_changes_nothing_in_the_report() {
        let dir = fresh_repo("prescan");
        let rules = crate::builtin::rules_with_examples().unwrap();
        let examples: Vec<String> = rules
            .iter()
            .flat_map(|r| r.raw.examples.iter().take(1).cloned())
            .collect();
        let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
        let names = ["a.txt", "config/app.yaml", "src/main.rs", ".env", "w.txt"];
        let mut files: Vec<Vec<String>> = names
            .iter()
            .map(|_| {
                (0..40)
                    .map(|i| format!("line {i} of filler text"))
                    .collect()
            })
            .collect();
        for round in 0..60 {
            if round == 30 {
                git(&dir, &["checkout", "-qb", "side"]);
            }
            if round == 45 {
                git(&dir, &["checkout", "-q", "main"]);
            }
            for _ in 0..=rng.below(3) {
                let f = rng.below(files.len());
                let lines = &mut files[f];
                let at = rng.below(lines.len().max(1));
                match rng.below(6) {
                    0 | 1 => {
                        let example = &examples[rng.below(examples.len())];
                        lines.insert(at, example.clone());
                    }
                    2 if lines.len() > 5 => {
                        lines.remove(at);
                    }
                    3 if lines.len() > 5 => {
                        let moved = lines.remove(at);
                        let to = rng.below(lines.len());
                        lines.insert(to, moved);
                    }
                    4 => {
                        let mut bytes = lines[at].clone().into_bytes();
                        if !bytes.is_empty() {
                            let i = rng.below(bytes.len());
                            bytes[i] = b"aZ9_-"[rng.below(5)];
                        }
                        lines[at] = String::from_utf8_lossy(&bytes).into_owned();
                    }
                    _ => lines.insert(at, format!("edit {round}")),
                }
            }
            for (i, name) in names.iter().enumerate() {
                let path = dir.join(name);
                std::fs::create_dir_all(path.parent().unwrap()).unwrap();
                let text = files[i].join("\n") + "\n";
                if *name == "w.txt" {
                    let mut bytes = vec![0xff, 0xfe];
                    bytes.extend(text.encode_utf16().flat_map(u16::to_le_bytes));
                    std::fs::write(path, bytes).unwrap();
                } else {
                    std::fs::write(path, text).unwrap();
                }
            }
            git(&dir, &["add", "-A"]);
            git(&dir, &["commit", "-qm", &format!("round {round}")]);
        }
        git(&dir, &["merge", "-q", "--no-edit", "-X", "theirs", "side"]);
        git(&dir, &["mv", "a.txt", "b.txt"]);
        git(&dir, &["commit", "-qm", "rename"]);
        let scanner = crate::test_support::pack_scanner();
        let repo = gix::open(&dir).unwrap();
        let commits = {
            let revs = crate::audit::revisions::parse(&repo, &[]).unwrap();
            crate::audit::revisions::commits(&repo, &revs).unwrap()
        };
        let loose = report(&dir, &scanner, false);
        assert!(loose.len() > 20, "{loose:?}");
        assert_eq!(report(&dir, &scanner, true), loose);
        git(&dir, &["gc", "-q"]);
        assert!(!pack_indices(&dir.join(".git/objects")).is_empty());
        let progress = Progress::default();
        let packs = PackSource::of(&repo).open();
        let clean = prescan(&repo, &commits, &scanner, (1 << 20, 2), &progress, packs).unwrap();
        let (wanted, _, _) =
            list_changes((&dir.join(".git"), None), &commits, &scanner, 2).unwrap();
        assert!(!clean.clean.is_empty() && clean.clean.len() < wanted.pairs);
        assert_eq!(report(&dir, &scanner, true), loose);
        assert_eq!(report(&dir, &scanner, false), loose);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    /// A commit that deletes 101 files and adds 100 is past the rename pair cap
    /// (`MAX_RENAME_PAIRS`): no file is paired, so an edited copy of a deleted file that holds a
    /// secret is a new file, and its secret is reported again there. The prescan clears the 99
    /// clean added files; they must still count, or the copy is paired with its old version and
    /// its secret is no longer reported at that commit (nor at all, auditing only that commit).
    #[test]
    fn clean_changes_still_count_towards_the_rename_pair_cap() {
        let dir = fresh_repo("prescan-cap");
        let secret = &rule_example("aws-access-key-id");
        let body: String = (0..10).map(|i| format!("filler line {i}\n")).collect();
        std::fs::write(dir.join("d000.txt"), format!("{body}{secret}\n")).unwrap();
        for i in 1..=100 {
            let text = format!("deleted file {i}\nunique body {i}\n");
            std::fs::write(dir.join(format!("d{i:03}.txt")), text).unwrap();
        }
        git(&dir, &["add", "-A"]);
        git(&dir, &["commit", "-qm", "base"]);
        git(&dir, &["rm", "-q", "d*.txt"]);
        std::fs::write(dir.join("b.txt"), format!("{body}{secret}\none new line\n")).unwrap();
        for i in 1..100 {
            let text = format!("added file {i}\nother body {i}\n");
            std::fs::write(dir.join(format!("a{i:03}.txt")), text).unwrap();
        }
        git(&dir, &["add", "-A"]);
        git(&dir, &["commit", "-qm", "move"]);
        let scanner = crate::test_support::pack_scanner();
        assert_same_report_with_prescan(&dir, &scanner, |l| l.contains(" b.txt "));
    }

    /// Red team: a base64 block wrapped at 76 columns, longer than the diff's context
    /// (`CONTEXT_BYTES`), whose first line does not decode to text. An edit near its end puts a
    /// key across two wrapped lines: the edit's unit starts the block inside it (its first line is
    /// past the context), joins the rest and finds the key; the whole blob joins the block from
    /// its first line, which does not decode, and each line alone holds half the key. The prescan
    /// must not clear the blob.
    #[test]
    fn a_wrapped_block_longer_than_the_context_is_not_cleared() {
        let dir = fresh_repo("prescan-wrap");
        let key = &rule_example("aws-access-key-id");
        let key = key.split('=').nth(1).unwrap();
        // 57 decoded bytes a line (76 base64 characters); the key starts 8 bytes before the end
        // of line 1000's text.
        let lines = 1010;
        let filler: Vec<u8> = (0..57 * lines)
            .map(|i| b"lorem ipsum dolor sit amet "[i % 27])
            .collect();
        let block = |text: &[u8]| -> String {
            let mut out = "/".repeat(76) + "\n";
            for chunk in text.chunks(57).skip(1) {
                out.push_str(&b64(chunk));
                out.push('\n');
            }
            out
        };
        std::fs::write(dir.join("blob.b64"), block(&filler)).unwrap();
        git(&dir, &["add", "-A"]);
        git(&dir, &["commit", "-qm", "one"]);
        let at = 57 * 1001 - 8;
        let mut text = filler.clone();
        let line = format!("key {key} end");
        text[at - 4..at - 4 + line.len()].copy_from_slice(line.as_bytes());
        std::fs::write(dir.join("blob.b64"), block(&text)).unwrap();
        git(&dir, &["commit", "-qam", "two"]);
        let scanner = crate::test_support::pack_scanner();
        assert_same_report_with_prescan(&dir, &scanner, |l| l.starts_with("secret"));
    }

    /// Red team: a replace ref (`git replace`) swaps a clean blob for one that holds a key. The
    /// history scan reads blobs through the object database, which follows the replacement (as
    /// `git show` does), and reports the key, still present at the tip; the pack walk must not
    /// clear the replaced blob from its stored bytes.
    #[test]
    fn a_replaced_blob_is_read_as_its_replacement() {
        let dir = fresh_repo("prescan-repl");
        let key = &rule_example("aws-access-key-id");
        std::fs::write(dir.join("a.txt"), "nothing to see\n").unwrap();
        git(&dir, &["add", "-A"]);
        git(&dir, &["commit", "-qm", "one"]);
        std::fs::write(dir.join("b.txt"), format!("{key}\n")).unwrap();
        let hash = |args: &[&str]| {
            let out = git_command(&dir, args).output().unwrap();
            String::from_utf8(out.stdout).unwrap().trim().to_string()
        };
        let replacement = hash(&["hash-object", "-w", "b.txt"]);
        std::fs::remove_file(dir.join("b.txt")).unwrap();
        let original = hash(&["rev-parse", "HEAD:a.txt"]);
        git(&dir, &["replace", &original, &replacement]);
        git(&dir, &["gc", "-q"]);
        let scanner = crate::test_support::pack_scanner();
        assert_same_report_with_prescan(&dir, &scanner, |l| l.contains("refs/heads/main"));
    }

    /// Red team: a replace ref swaps a commit's tree for one that adds a key. The listing must
    /// read the tree the object database gives (the replacement), not the pack's bytes for the
    /// original id: with replace refs, nothing is read straight from the packs.
    #[test]
    fn a_replaced_tree_is_listed_as_its_replacement() {
        let dir = fresh_repo("prescan-repl-tree");
        let key = &rule_example("aws-access-key-id");
        std::fs::write(dir.join("a.txt"), "nothing to see\n").unwrap();
        git(&dir, &["add", "-A"]);
        git(&dir, &["commit", "-qm", "one"]);
        let hash = |args: &[&str]| {
            let out = git_command(&dir, args).output().unwrap();
            String::from_utf8(out.stdout).unwrap().trim().to_string()
        };
        std::fs::write(dir.join("b.txt"), format!("{key}\n")).unwrap();
        git(&dir, &["add", "b.txt"]);
        let replacement = hash(&["write-tree"]);
        git(&dir, &["rm", "-q", "--cached", "b.txt"]);
        std::fs::remove_file(dir.join("b.txt")).unwrap();
        let original = hash(&["rev-parse", "HEAD^{tree}"]);
        git(&dir, &["replace", &original, &replacement]);
        git(&dir, &["gc", "-q"]);
        let scanner = crate::test_support::pack_scanner();
        assert_same_report_with_prescan(&dir, &scanner, |l| l.contains("b.txt"));
    }

    /// Packed commits whose messages and author names hold keys, on both sides of a merge: the
    /// history scan reads them from the packs (as the listing does) and finds every key, the
    /// same report as without the prescan.
    #[test]
    fn commits_read_from_the_packs_keep_their_messages_and_authors() {
        let dir = fresh_repo("prescan-messages");
        let key = rule_example("aws-access-key-id");
        let token = rule_example("github-personal-access-token");
        std::fs::write(dir.join("a.txt"), "one\n").unwrap();
        git(&dir, &["add", "-A"]);
        git(&dir, &["commit", "-qm", &format!("first\n\nkey {key}\n")]);
        git(&dir, &["checkout", "-qb", "side"]);
        std::fs::write(dir.join("b.txt"), "two\n").unwrap();
        git(&dir, &["add", "-A"]);
        let author = format!("--author=x{token} <x@example.invalid>");
        git(&dir, &["commit", "-qm", "side", &author]);
        git(&dir, &["checkout", "-q", "main"]);
        std::fs::write(dir.join("c.txt"), "three\n").unwrap();
        git(&dir, &["add", "-A"]);
        git(&dir, &["commit", "-qm", "main"]);
        git(
            &dir,
            &[
                "merge",
                "-q",
                "--no-ff",
                "-m",
                &format!("merge\n\n{token}"),
                "side",
            ],
        );
        git(&dir, &["repack", "-adq"]);
        let scanner = crate::test_support::pack_scanner();
        assert!(prescan_all(&dir, &scanner).object_source().is_some());
        let with = report(&dir, &scanner, true);
        for place in [
            crate::git::commits::COMMIT_MESSAGE_PATH,
            crate::git::commits::COMMIT_HEADER_PATH,
        ] {
            assert!(with.iter().any(|l| l.contains(place)), "{place}: {with:?}");
        }
        assert_eq!(
            with.iter()
                .filter(|l| l.contains(crate::git::commits::COMMIT_MESSAGE_PATH))
                .count(),
            2,
            "{with:?}"
        );
        assert_same_report_with_prescan(&dir, &scanner, |l| l.starts_with("secret"));
    }

    /// Writes `content` as a loose object of type `kind` under `id` (not its hash: a crafted copy).
    fn put_loose(dir: &Path, id: &str, kind: &str, content: &[u8]) {
        let mut raw = format!("{kind} {}\0", content.len()).into_bytes();
        raw.extend_from_slice(content);
        let mut compressor = libdeflater::Compressor::new(libdeflater::CompressionLvl::default());
        let mut out = vec![0; compressor.zlib_compress_bound(raw.len())];
        let n = compressor.zlib_compress(&raw, &mut out).unwrap();
        let path = dir.join(".git/objects").join(&id[..2]).join(&id[2..]);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, &out[..n]).unwrap();
    }

    /// Red team: a commit and a tree stored packed, each with a crafted loose copy under the
    /// same id that drops the key. Git reads the packed copy (packs before loose objects), so the
    /// audit must too: the key in the message and the file that holds a key are reported, with
    /// the prescan and without. It fails when handles load pack indices lazily (gix then looks at
    /// the loose objects before it has loaded an index).
    #[test]
    fn an_object_stored_packed_and_loose_is_read_from_the_pack_as_git_reads_it() {
        let key = rule_example("aws-access-key-id");
        let hash = |dir: &Path, args: &[&str]| {
            let out = git_command(dir, args).output().unwrap();
            String::from_utf8(out.stdout).unwrap()
        };
        // The message.
        let dir = fresh_repo("packed-loose-commit");
        std::fs::write(dir.join("a"), "1\n").unwrap();
        git(&dir, &["add", "-A"]);
        git(&dir, &["commit", "-qm", "first"]);
        std::fs::write(dir.join("b"), "2\n").unwrap();
        git(&dir, &["add", "-A"]);
        git(&dir, &["commit", "-qm", &format!("second {key}")]);
        git(&dir, &["repack", "-adq"]);
        let head = hash(&dir, &["rev-parse", "HEAD"]).trim().to_string();
        let commit = hash(&dir, &["cat-file", "commit", &head]);
        let clean = commit.replace(&format!("second {key}"), "clean");
        put_loose(&dir, &head, "commit", clean.as_bytes());
        let scanner = crate::test_support::pack_scanner();
        let place = crate::git::commits::COMMIT_MESSAGE_PATH;
        assert_same_report_with_prescan(&dir, &scanner, |l| l.contains(place));
        // The tree.
        let dir = fresh_repo("packed-loose-tree");
        std::fs::write(dir.join("a"), "1\n").unwrap();
        git(&dir, &["add", "-A"]);
        git(&dir, &["commit", "-qm", "first"]);
        let first_tree = hash(&dir, &["rev-parse", "HEAD^{tree}"]).trim().to_string();
        std::fs::write(dir.join("s"), format!("{key}\n")).unwrap();
        git(&dir, &["add", "-A"]);
        git(&dir, &["commit", "-qm", "second"]);
        git(&dir, &["repack", "-adq"]);
        let tree = hash(&dir, &["rev-parse", "HEAD^{tree}"]).trim().to_string();
        let raw = git_command(&dir, &["cat-file", "tree", &first_tree])
            .output()
            .unwrap()
            .stdout;
        put_loose(&dir, &tree, "tree", &raw);
        assert_same_report_with_prescan(&dir, &scanner, |l| l.ends_with(" s 1:19"));
    }

    /// Swaps the offsets a multi-pack index gives objects `a` and `b` (hex ids).
    fn swap_in_multi_pack_index(dir: &Path, a: &str, b: &str) {
        let path = dir.join(".git/objects/pack/multi-pack-index");
        let mut d = std::fs::read(&path).unwrap();
        let mut chunks = std::collections::HashMap::new();
        for k in 0..=usize::from(d[6]) {
            let at = 12 + 12 * k;
            let offset = u64::from_be_bytes(d[at + 4..at + 12].try_into().unwrap());
            chunks.insert(d[at..at + 4].to_vec(), usize::try_from(offset).unwrap());
        }
        let (ids, offsets) = (chunks[&b"OIDL"[..]], chunks[&b"OOFF"[..]]);
        let index_of = |hex: &str| {
            let id = ObjectId::from_hex(hex.as_bytes()).unwrap();
            (0..(offsets - ids) / 20)
                .find(|k| d[ids + 20 * k..ids + 20 * k + 20] == *id.as_bytes())
                .unwrap()
        };
        let (first, second) = (index_of(a), index_of(b));
        for byte in 0..8 {
            d.swap(offsets + 8 * first + byte, offsets + 8 * second + byte);
        }
        crate::test_support::overwrite(&path, &d);
    }

    /// Red team: a multi-pack index (crafted) gives HEAD the offset of an unreachable commit whose
    /// message holds a key. Git reads what the index names; the packs' own indexes name the real
    /// HEAD. With a multi-pack index nothing is read straight from the packs, so the key is
    /// reported (it was not when the history scan read commits from the packs).
    #[test]
    fn a_multi_pack_index_keeps_the_audit_reading_as_git_reads() {
        let key = rule_example("aws-access-key-id");
        let dir = fresh_repo("midx");
        std::fs::write(dir.join("a"), "1\n").unwrap();
        git(&dir, &["add", "-A"]);
        git(&dir, &["commit", "-qm", "first"]);
        std::fs::write(dir.join("b"), "2\n").unwrap();
        git(&dir, &["add", "-A"]);
        git(&dir, &["commit", "-qm", "clean"]);
        let output = |args: &[&str]| git_command(&dir, args).output().unwrap().stdout;
        let head = String::from_utf8(output(&["rev-parse", "HEAD"])).unwrap();
        let head = head.trim();
        let commit = String::from_utf8(output(&["cat-file", "commit", head])).unwrap();
        std::fs::write(
            dir.join("m.txt"),
            commit.replace("\nclean", &format!("\nkey {key}")),
        )
        .unwrap();
        let other =
            String::from_utf8(output(&["hash-object", "-t", "commit", "-w", "m.txt"])).unwrap();
        std::fs::remove_file(dir.join("m.txt")).unwrap();
        git(&dir, &["update-ref", "refs/tmp", other.trim()]);
        git(&dir, &["repack", "-adq"]);
        git(&dir, &["update-ref", "-d", "refs/tmp"]);
        git(&dir, &["multi-pack-index", "write"]);
        swap_in_multi_pack_index(&dir, head, other.trim());
        assert!(walkable_bundles(&dir.join(".git/objects"), false).is_empty());
        let scanner = crate::test_support::pack_scanner();
        let place = crate::git::commits::COMMIT_MESSAGE_PATH;
        assert_same_report_with_prescan(&dir, &scanner, |l| l.contains(place));
    }

    /// Red team: a crafted pack index that lists an id twice is not walked (the walk would visit
    /// both entries, a read by id only one); the packs of a sound index are.
    #[test]
    fn a_pack_index_listing_an_id_twice_is_not_walked() {
        let dir = fresh_repo("idx-twice");
        for (i, name) in ["a", "b", "c"].iter().enumerate() {
            std::fs::write(dir.join(name), format!("{i}\n")).unwrap();
            git(&dir, &["add", "-A"]);
            git(&dir, &["commit", "-qm", name]);
        }
        git(&dir, &["repack", "-adq"]);
        let open = || {
            PackSource::of(&gix::open(&dir).unwrap())
                .open()
                .bundles
                .len()
        };
        assert_eq!(open(), 1);
        let idx = std::fs::read_dir(dir.join(".git/objects/pack"))
            .unwrap()
            .flatten()
            .map(|e| e.path())
            .find(|p| p.extension().is_some_and(|e| e == "idx"))
            .unwrap();
        let mut bytes = std::fs::read(&idx).unwrap();
        // Version 2: an 8-byte header and a 1 KiB fan-out table, then the ids, 20 bytes each.
        let first = 8 + 256 * 4;
        let id: Vec<u8> = bytes[first..first + 20].to_vec();
        bytes[first + 20..first + 40].copy_from_slice(&id);
        crate::test_support::overwrite(&idx, &bytes);
        assert_eq!(open(), 0);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    /// The `PuTTY` rule's example cut before its MAC line (no final line feed), and the same key
    /// with another comment line: an edit that changes only the comment.
    fn unterminated_putty_key() -> (String, String) {
        let example = rule_example("putty-private-key");
        let key = example.split("Private-MAC").next().unwrap().trim_end();
        let comment = key.lines().find(|l| l.starts_with("Comment:")).unwrap();
        (key.to_string(), key.replace(comment, "Comment: old"))
    }

    /// A blob without a final line feed, edited: the edit's unit ends the last line with one, and
    /// a `PuTTY` key's private lines need it. Scanned whole as stored, the blob yields nothing; the
    /// prescan must not clear it.
    #[test]
    fn an_edit_to_a_blob_without_a_final_newline_is_not_cleared() {
        let dir = fresh_repo("prescan-eol");
        let (key, old_key) = unterminated_putty_key();
        let key = key.as_str();
        std::fs::write(dir.join("k.ppk"), old_key.as_str()).unwrap();
        git(&dir, &["add", "-A"]);
        git(&dir, &["commit", "-qm", "one"]);
        std::fs::write(dir.join("k.ppk"), key).unwrap();
        git(&dir, &["commit", "-qam", "two"]);
        let scanner = crate::test_support::pack_scanner();
        assert_same_report_with_prescan(&dir, &scanner, |l| l.starts_with("secret"));
    }

    /// The same key in UTF-16 (with a byte order mark, and after an odd-length first line), no
    /// final line feed: the diff ends the decoded last line with one, so the prescan leaves UTF-16
    /// text to the diff; the report is the same with and without it.
    #[test]
    fn utf16_text_is_left_to_the_diff() {
        let dir = fresh_repo("prescan-u16");
        let (key, old_key) = unterminated_putty_key();
        let key = key.as_str();
        let utf16 = |text: &str, bom: bool| {
            let mut bytes = if bom {
                vec![0xff, 0xfe]
            } else {
                b"x\n".to_vec()
            };
            bytes.extend(text.encode_utf16().flat_map(u16::to_le_bytes));
            bytes
        };
        for (name, bom) in [("a.ppk", true), ("b.ppk", false)] {
            std::fs::write(dir.join(name), utf16(&old_key, bom)).unwrap();
        }
        git(&dir, &["add", "-A"]);
        git(&dir, &["commit", "-qm", "one"]);
        for (name, bom) in [("a.ppk", true), ("b.ppk", false)] {
            std::fs::write(dir.join(name), utf16(key, bom)).unwrap();
        }
        git(&dir, &["commit", "-qam", "two"]);
        let scanner = crate::test_support::pack_scanner();
        let repo = gix::open(&dir).unwrap();
        let mut scan = ChangeScanner::new(&repo, &scanner, 1 << 20);
        for bom in [true, false] {
            let id = ObjectId::null(gix::hash::Kind::Sha1);
            assert!(!scan
                .scans_clean_whole(b"x.txt", id, utf16("plain text", bom))
                .unwrap());
        }
        assert!(scan
            .scans_clean_whole(
                b"x.txt",
                ObjectId::null(gix::hash::Kind::Sha1),
                b"plain\n".to_vec()
            )
            .unwrap());
        assert_same_report_with_prescan(&dir, &scanner, |l| l.starts_with("secret"));
    }

    /// A line of `n` characters drawn by `rng` (a value no rule knows, but a secret's shape).
    fn random_value(rng: &mut Rng, n: usize) -> String {
        const CHARS: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789";
        (0..n)
            .map(|_| CHARS[rng.below(CHARS.len())] as char)
            .collect()
    }

    /// Decides `blob` from `base` the way the walk does: the delta's copies are the common head
    /// and tail (enough for these tests), the changed lines scanned, the rest whole.
    fn clean_from_changed_lines(scanner: &Scanner, base: &str, blob: &str) -> bool {
        let (b, n) = (base.as_bytes(), blob.as_bytes());
        let head = b.iter().zip(n).take_while(|(x, y)| x == y).count();
        let tail = b[head..]
            .iter()
            .rev()
            .zip(n[head..].iter().rev())
            .take_while(|(x, y)| x == y)
            .count();
        let mut copies = Vec::new();
        if head > 0 {
            copies.push(delta_lines::Copied {
                start: 0,
                end: head,
                source: 0,
            });
        }
        if tail > 0 {
            copies.push(delta_lines::Copied {
                start: n.len() - tail,
                end: n.len(),
                source: b.len() - tail,
            });
        }
        let unit = delta_lines::changed_unit(b"f.yaml", b, n, &copies).unwrap();
        let repo_dir = fresh_repo("prescan-lines");
        let repo = gix::open(&repo_dir).unwrap();
        let mut scan = ChangeScanner::new(&repo, scanner, 1 << 20);
        let whole = AddedText::whole("f.yaml", n.to_vec());
        let clean = scan.scans_clean_changed(&whole, &unit, None).unwrap();
        std::fs::remove_dir_all(&repo_dir).unwrap();
        clean
    }

    /// What the changed lines of a delta cannot show alone is still found: a value written
    /// under its unchanged name, a private key, a name and value pair only a multiline rule
    /// finds (run on the whole blob), a token encoded in base64; a clean edit is clean.
    #[test]
    fn changed_lines_decide_only_what_they_can() {
        let scanner = crate::test_support::pack_scanner();
        let mut rng = Rng(0x00c0_ffee);
        let filler: Vec<String> = (0..120)
            .map(|i| format!("setting_{i}: value {i}"))
            .collect();
        let text = |lines: &[String]| lines.join("\n") + "\n";
        let base = {
            let mut lines = filler.clone();
            lines[60] = "db_password:".into();
            lines[61] = "  changeme".into();
            text(&lines)
        };
        let edit = |at: usize, new: &[String]| {
            let mut lines: Vec<String> = base.lines().map(str::to_string).collect();
            lines.splice(at..=at, new.iter().cloned());
            text(&lines)
        };
        assert!(clean_from_changed_lines(
            &scanner,
            &base,
            &edit(30, &["setting_30: 31".into()])
        ));
        let value = format!("  {}", random_value(&mut rng, 24));
        assert!(!clean_from_changed_lines(
            &scanner,
            &base,
            &edit(61, &[value])
        ));
        let key: Vec<String> = rule_example("private-key-rsa")
            .lines()
            .map(str::to_string)
            .collect();
        assert!(!clean_from_changed_lines(&scanner, &base, &edit(90, &key)));
        // Found by a multiline rule only (its name and value on two lines, both added).
        let pair: Vec<String> = rule_example("generic-name-value-secret")
            .lines()
            .map(str::to_string)
            .collect();
        assert!(!clean_from_changed_lines(
            &scanner,
            &base,
            &edit(100, &pair)
        ));
        let token = format!(
            "blob: {}",
            b64(rule_example("aws-access-key-id").as_bytes())
        );
        assert!(!clean_from_changed_lines(
            &scanner,
            &base,
            &edit(10, &[token])
        ));
    }

    /// A packed history whose versions are deltas of each other, with secrets in some: the
    /// report is the same with the prescan (which decides most versions from their changed lines).
    #[test]
    fn delta_versions_with_secrets_keep_the_report() {
        let dir = fresh_repo("prescan-delta");
        let mut rng = Rng(0x0bad_5eed);
        let mut lines: Vec<String> = (0..300).map(|i| format!("line_{i} = {i}")).collect();
        let key: Vec<String> = rule_example("private-key-rsa")
            .lines()
            .map(str::to_string)
            .collect();
        // Secrets come and go; the versions with one are smaller than the clean ones (git makes
        // bigger versions the bases of smaller ones), so most versions are deltas of clean ones.
        for round in 0..32 {
            let at = rng.below(lines.len());
            lines[at] = format!("line_{at} = round {round}");
            match round % 8 {
                1 => lines.insert(
                    150,
                    format!("api_secret = \"{}\"", random_value(&mut rng, 32)),
                ),
                // Smaller than the clean versions, so rather a delta of one than a base.
                3 => lines.splice(200..280, key.iter().cloned()).for_each(drop),
                5 => lines.insert(
                    40,
                    format!(
                        "x = \"{}\"",
                        b64(rule_example("aws-access-key-id").as_bytes())
                    ),
                ),
                7 => {
                    lines.retain(|l| {
                        !l.starts_with("api_secret") && !l.starts_with("x = ") && !key.contains(l)
                    });
                    lines.extend((0..80).map(|i| format!("more_{round}_{i} = {i}")));
                }
                _ => {}
            }
            if round == 31 {
                lines.extend((0..200).map(|i| format!("tail_{i} = {i}")));
            }
            std::fs::write(dir.join("config.txt"), lines.join("\n") + "\n").unwrap();
            // A file without secrets next to it: its versions are decided from their deltas.
            let notes: String = (0..200)
                .map(|i| {
                    format!(
                        "note {i}: {}\n",
                        if i == round * 5 { "edited" } else { "kept" }
                    )
                })
                .collect();
            std::fs::write(dir.join("notes.txt"), notes).unwrap();
            git(&dir, &["add", "-A"]);
            git(&dir, &["commit", "-qm", &format!("round {round}")]);
        }
        git(&dir, &["repack", "-qadf", "--depth=50", "--window=50"]);
        let scanner = crate::test_support::pack_scanner();
        let clean = prescan_all(&dir, &scanner);
        assert!(clean.from_changed_lines > 3, "{}", clean.from_changed_lines);
        let before = report(&dir, &scanner, false);
        assert!(
            before.iter().filter(|l| l.starts_with("secret")).count() >= 3,
            "{before:?}"
        );
        assert_same_report_with_prescan(&dir, &scanner, |l| l.starts_with("secret"));
    }

    /// A delta version is counted once, when it is decided: from its changed lines, or by the
    /// whole scan that follows when its base is not clean.
    #[test]
    fn each_checked_blob_is_counted_once() {
        let dir = fresh_repo("prescan-count");
        let mut lines: Vec<String> = (0..300).map(|i| format!("line_{i} = {i}")).collect();
        let commit = |lines: &[String], m: &str| {
            std::fs::write(dir.join("cfg.txt"), lines.join("\n") + "\n").unwrap();
            git(&dir, &["add", "-A"]);
            git(&dir, &["commit", "-qm", m]);
        };
        commit(&lines, "c0");
        lines.insert(
            150,
            format!("aws_key = {}", rule_example("aws-access-key-id")),
        );
        commit(&lines, "c1");
        lines.remove(150);
        lines[10] = "line_10 == 10".into();
        commit(&lines, "c2");
        git(&dir, &["repack", "-qadf", "--depth=50", "--window=250"]);
        let scanner = crate::test_support::pack_scanner();
        let clean = prescan_all(&dir, &scanner);
        std::fs::remove_dir_all(&dir).unwrap();
        assert_eq!(clean.blobs, 3);
    }
}

//! A walk over the blobs of one pack, in delta-tree order, every delta applied once to its base.
//!
//! gix's own walk (`traverse_with_index`) decodes every object of the pack. Most of a history's
//! objects are trees and commits (cargo's pack: 129,042 trees and 34,473 commits beside 69,854
//! blobs), which the prescan does not read, and decoding them was a good part of the walk, the
//! one thread the prescan's workers wait for. A delta has the type of its base, so a delta tree
//! holds objects of its root's type alone: this walk keeps the trees whose root is a blob.
//!
//! The walk is ours rather than gix's delta-tree traversal, for three things that one did not
//! give: each blob's bytes are handed over, not copied; each delta's copied ranges come with it
//! (read while applying it, so the prescan's workers need not inflate the delta again); and
//! buffers are reused rather than allocated and zeroed per object.

use std::collections::{HashMap, HashSet};

use gix::hash::ObjectId;
use std::sync::atomic::{AtomicBool, Ordering};

use gix::odb::pack;
use pack::data::entry::Header;

use crate::audit::delta_lines::{self, Copied};

/// Most deltas followed from one entry to its chain's root: deeper chains (git writes at most 50
/// by default, 4095 at most) are taken for a damaged pack.
pub(crate) const MAX_CHAIN: usize = 10_000;
/// No child of a node: the end of a child list.
const NONE: u32 = u32::MAX;
/// Most bytes of blobs the walk holds as the bases of blobs still to resolve.
const HELD_BYTES: usize = 256 << 20;
/// Most spare buffers the walk keeps for reuse, and the biggest one it keeps.
const SPARE_BUFFERS: usize = 64;
const SPARE_BUFFER_BYTES: usize = 4 << 20;

/// The delta tree of a pack's blobs ([`blob_tree`]), built ahead of its walk: the blob entries
/// by pack offset, each with its base, first child and next sibling (indices into `entries`).
pub(crate) struct BlobTree {
    entries: Vec<pack::index::Entry>,
    parent: Vec<u32>,
    first_child: Vec<u32>,
    next_sibling: Vec<u32>,
    roots: Vec<u32>,
}

/// A pack and its [`BlobTree`], as the prescan walked it.
pub(crate) type WalkedPack = (pack::Bundle, BlobTree);

/// The part of a [`BlobTree`] a walk visits: the trees of `roots`, and in them the blobs
/// `needed` marks (all when `None`).
pub(crate) struct Part<'a> {
    /// Roots (indices into the tree's entries) whose trees are walked.
    pub roots: &'a [u32],
    /// For every blob of the tree, whether it is visited.
    pub needed: Option<&'a [bool]>,
}

impl BlobTree {
    /// The whole tree.
    pub(crate) fn all(&self) -> Part<'_> {
        Part {
            roots: &self.roots,
            needed: None,
        }
    }

    /// What a walk must visit to meet every blob of `ids` stored in this pack: the roots of their
    /// trees, and for every blob whether it is one of them or the base of one (each visited
    /// blob's chain of bases is visited too).
    pub(crate) fn needed_for(&self, ids: &HashSet<ObjectId>) -> (Vec<u32>, Vec<bool>) {
        let mut needed = vec![false; self.entries.len()];
        let mut roots = Vec::new();
        for (index, entry) in self.entries.iter().enumerate() {
            if !ids.contains(&entry.oid) {
                continue;
            }
            let mut at = index;
            while !needed[at] {
                needed[at] = true;
                match self.parent[at] {
                    NONE => roots.push(at as u32),
                    base => at = base as usize,
                }
            }
        }
        roots.sort_unstable();
        (roots, needed)
    }
}

/// Builds the delta tree of the blobs of `bundle`. `None` when the pack cannot be walked that way
/// (a chain that does not end in the pack, a damaged entry, too many objects); the caller then
/// reads its blobs by id.
pub(crate) fn blob_tree(bundle: &pack::Bundle) -> Option<BlobTree> {
    let entries = blob_entries(bundle)?;
    let count = u32::try_from(entries.len()).ok().filter(|&n| n < NONE)?;
    let mut parent = vec![NONE; entries.len()];
    let mut first_child = vec![NONE; entries.len()];
    let mut next_sibling = vec![NONE; entries.len()];
    let mut roots = Vec::new();
    for index in 0..count {
        let at = index as usize;
        match stored_as(bundle, entries[at].pack_offset)? {
            Stored::Whole(_) => roots.push(index),
            Stored::DeltaOf(base) => {
                let base = entries
                    .binary_search_by_key(&base, |e| e.pack_offset)
                    .ok()?;
                parent[at] = base as u32;
                next_sibling[at] = first_child[base];
                first_child[base] = index;
            }
        }
    }
    Some(BlobTree {
        entries,
        parent,
        first_child,
        next_sibling,
        roots,
    })
}

/// A walked blob's bytes, as the walk holds them while it resolves the deltas against it: its
/// own buffer, or what the visitor made of them (handed out, and shared).
pub(crate) enum Held<T> {
    /// The bytes, in the walk's buffer.
    Bytes(Vec<u8>),
    /// The bytes, handed out by the visitor.
    Shared(T),
}

impl<T: AsRef<[u8]>> Held<T> {
    /// The blob's bytes.
    pub(crate) fn bytes(&self) -> &[u8] {
        match self {
            Held::Bytes(bytes) => bytes,
            Held::Shared(shared) => shared.as_ref(),
        }
    }
}

/// One blob as the walk meets it.
pub(crate) struct Visit<'a, T> {
    /// Its index entry (id, pack offset).
    pub entry: &'a pack::index::Entry,
    /// Its bytes, for the visitor to keep or give back.
    pub bytes: Vec<u8>,
    /// For a delta: its base as held, and its copied ranges ([`delta_lines::apply`]).
    pub delta: Option<(&'a Held<T>, Vec<Copied>)>,
}

/// Calls `visit` with every blob of `part` of `tree` (the [`blob_tree`] of `bundle`), in delta-tree
/// order (a base before the deltas against it), on this thread, until `stop` is set; what `visit` returns
/// is held while the deltas against that blob are resolved. Blobs of `cap` bytes or more, and
/// the deltas against them, are not visited. A failure (an entry that does not decode, a delta
/// that does not apply) leaves that blob and the deltas against it unvisited; the caller reads
/// the blobs not visited by id.
pub(crate) fn walk_blobs<T: AsRef<[u8]>>(
    (bundle, tree): (&pack::Bundle, &BlobTree),
    part: &Part<'_>,
    cap: u64,
    mut visit: impl FnMut(Visit<'_, T>) -> Held<T>,
    stop: &AtomicBool,
) {
    let mut walk = Walker {
        bundle,
        tree,
        cap,
        inflate: libdeflater::Decompressor::new(),
        delta: Vec::new(),
        spare: Vec::new(),
    };
    // Depth first, with an explicit stack of the held bases and the next child of each.
    let mut stack = Stack {
        frames: Vec::new(),
        held: 0,
    };
    let needed = |index: u32| part.needed.is_none_or(|n| n[index as usize]);
    let next_needed = |mut index: u32| {
        while index != NONE && !needed(index) {
            index = tree.next_sibling[index as usize];
        }
        index
    };
    for &root in part.roots {
        if let Some(bytes) = walk.whole(root) {
            let held = visit(Visit {
                entry: &tree.entries[root as usize],
                bytes,
                delta: None,
            });
            let first = next_needed(tree.first_child[root as usize]);
            stack.hold(&mut walk, held, first);
        }
        while let Some((base, child)) = stack.frames.last_mut() {
            if stop.load(Ordering::Relaxed) {
                return;
            }
            let index = *child;
            if index == NONE {
                stack.pop(&mut walk);
                continue;
            }
            *child = next_needed(tree.next_sibling[index as usize]);
            let last = *child == NONE;
            let base: &Held<T> = base;
            let Some((bytes, copies)) = walk.resolve(index, base.bytes()) else {
                continue;
            };
            let held = visit(Visit {
                entry: &tree.entries[index as usize],
                bytes,
                delta: Some((base, copies)),
            });
            if last {
                // Its last child resolved, a base is let go: a chain holds one blob at a time.
                stack.pop(&mut walk);
            }
            let first = next_needed(tree.first_child[index as usize]);
            stack.hold(&mut walk, held, first);
        }
    }
}

/// The walk's stack: the blobs held as bases, each with its next child to resolve, and their
/// bytes in all.
struct Stack<T> {
    frames: Vec<(Held<T>, u32)>,
    held: usize,
}

impl<T: AsRef<[u8]>> Stack<T> {
    /// Holds a visited blob as the base of its children from `first` on, if it has any and
    /// [`HELD_BYTES`] allow (past them its children are not visited: they are read by id).
    fn hold(&mut self, walk: &mut Walker<'_>, held: Held<T>, first: u32) {
        let size = held.bytes().len();
        if first == NONE || self.held + size > HELD_BYTES {
            walk.give_back(held);
        } else {
            self.held += size;
            self.frames.push((held, first));
        }
    }

    /// Lets the top base go.
    fn pop(&mut self, walk: &mut Walker<'_>) {
        if let Some((held, _)) = self.frames.pop() {
            self.held -= held.bytes().len();
            walk.give_back(held);
        }
    }
}

/// The walk's reading state: the pack, the inflater and the buffers it reuses.
struct Walker<'a> {
    bundle: &'a pack::Bundle,
    tree: &'a BlobTree,
    cap: u64,
    /// libdeflate rather than gix's zlib: it inflates a whole stream into a buffer of known size
    /// (every pack entry's), which is all the walk needs, in about half the time.
    inflate: libdeflater::Decompressor,
    /// The current delta's instructions.
    delta: Vec<u8>,
    /// Buffers given back, for the next blobs.
    spare: Vec<Vec<u8>>,
}

impl Walker<'_> {
    /// The bytes of the whole (not delta) blob at `index`, under the cap.
    fn whole(&mut self, index: u32) -> Option<Vec<u8>> {
        let entry = self.entry(index)?;
        let size = usize::try_from(entry.decompressed_size).ok()?;
        if entry.decompressed_size >= self.cap {
            return None;
        }
        let mut bytes = self.spare.pop().unwrap_or_default();
        bytes.clear();
        bytes.resize(size, 0);
        self.inflate_into(&entry, &mut bytes)?;
        Some(bytes)
    }

    /// The bytes of the delta blob at `index` made from `base`, under the cap, and its copied
    /// ranges.
    fn resolve(&mut self, index: u32, base: &[u8]) -> Option<(Vec<u8>, Vec<Copied>)> {
        let entry = self.entry(index)?;
        let size = usize::try_from(entry.decompressed_size).ok()?;
        if entry.decompressed_size >= self.cap {
            return None;
        }
        let mut delta = std::mem::take(&mut self.delta);
        delta.clear();
        delta.resize(size, 0);
        let inflated = self.inflate_into(&entry, &mut delta);
        let mut bytes = self.spare.pop().unwrap_or_default();
        let below_cap = usize::try_from(self.cap.saturating_sub(1)).unwrap_or(usize::MAX);
        let copies =
            inflated.and_then(|()| delta_lines::apply(&delta, base, &mut bytes, below_cap));
        self.delta = delta;
        match copies {
            Some(copies) => Some((bytes, copies)),
            None => {
                self.give_back::<Vec<u8>>(Held::Bytes(bytes));
                None
            }
        }
    }

    /// The pack entry of the blob at `index`.
    fn entry(&self, index: u32) -> Option<pack::data::Entry> {
        let offset = self.tree.entries.get(index as usize)?.pack_offset;
        self.bundle.pack.entry(offset).ok()
    }

    /// Inflates the data of `entry` into `out` ([`inflate_entry`]).
    fn inflate_into(&mut self, entry: &pack::data::Entry, out: &mut [u8]) -> Option<()> {
        inflate_entry(&mut self.inflate, &self.bundle.pack, entry, out)
    }

    /// Keeps a held blob's buffer for reuse (when the visitor gave it back and it is not big).
    fn give_back<T>(&mut self, held: Held<T>) {
        if let Held::Bytes(bytes) = held {
            if self.spare.len() < SPARE_BUFFERS && bytes.capacity() <= SPARE_BUFFER_BYTES {
                self.spare.push(bytes);
            }
        }
    }
}

/// Inflates the data of `entry` of `pack` into `out`, sized to it: `None` unless its zlib stream
/// (which ends where it says, before the pack's end) inflates to exactly that many bytes.
pub(crate) fn inflate_entry(
    inflate: &mut libdeflater::Decompressor,
    pack: &pack::data::File,
    entry: &pack::data::Entry,
    out: &mut [u8],
) -> Option<()> {
    let stream = pack.entry_slice(entry.data_offset..pack.pack_end() as u64)?;
    let inflated = inflate.zlib_decompress(stream, out).ok()?;
    (inflated == out.len()).then_some(())
}

/// How a pack entry is stored: whole (an object of a type), or as a delta of the entry at an
/// offset.
pub(crate) enum Stored {
    Whole(gix::objs::Kind),
    DeltaOf(u64),
}

/// How the entry at `offset` is stored; `None` when it or its base cannot be read.
pub(crate) fn stored_as(bundle: &pack::Bundle, offset: u64) -> Option<Stored> {
    let entry = bundle.pack.entry(offset).ok()?;
    Some(match entry.header {
        Header::OfsDelta { base_distance } => {
            Stored::DeltaOf(entry.checked_base_pack_offset(base_distance)?)
        }
        Header::RefDelta { base_id } => {
            let index = bundle.index.lookup(base_id)?;
            Stored::DeltaOf(bundle.index.pack_offset_at_index(index))
        }
        header => Stored::Whole(header.as_kind()?),
    })
}

/// The index entries of `bundle` whose delta chain ends in a blob, sorted by pack offset; `None`
/// when a chain cannot be followed to its root in the pack.
fn blob_entries(bundle: &pack::Bundle) -> Option<Vec<pack::index::Entry>> {
    let mut entries: Vec<pack::index::Entry> = bundle.index.iter().collect();
    entries.sort_by_key(|e| e.pack_offset);
    let mut kinds: HashMap<u64, gix::objs::Kind> = HashMap::with_capacity(entries.len());
    let mut blobs = Vec::new();
    for entry in entries {
        if root_kind(bundle, entry.pack_offset, &mut kinds)? == gix::objs::Kind::Blob {
            blobs.push(entry);
        }
    }
    Some(blobs)
}

/// The type of the object at `offset` (its delta chain's root's), remembered in `kinds` for
/// every entry of the chain.
fn root_kind(
    bundle: &pack::Bundle,
    offset: u64,
    kinds: &mut HashMap<u64, gix::objs::Kind>,
) -> Option<gix::objs::Kind> {
    let mut chain = Vec::new();
    let mut at = offset;
    let kind = loop {
        if let Some(&kind) = kinds.get(&at) {
            break kind;
        }
        if chain.len() > MAX_CHAIN {
            return None;
        }
        chain.push(at);
        at = match stored_as(bundle, at)? {
            Stored::DeltaOf(base) => base,
            Stored::Whole(kind) => break kind,
        };
    };
    for link in chain {
        kinds.insert(link, kind);
    }
    Some(kind)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::{fresh_repo, git_ok as git, objects_of_type};
    use gix::hash::ObjectId;
    use std::collections::HashSet;
    use std::sync::Mutex;

    /// The inflated delta of the pack entry at `offset`.
    fn delta_of(bundle: &pack::Bundle, offset: u64) -> Vec<u8> {
        let entry = bundle.pack.entry(offset).unwrap();
        let mut out = vec![0; entry.decompressed_size as usize];
        let mut inflate = gix::zlib::Inflate::default();
        bundle
            .pack
            .decompress_entry(&entry, &mut inflate, &mut out)
            .unwrap();
        out
    }
    /// A pack of commits, trees and blobs (git writes the commits first, so the pack's first
    /// entry is not a blob), many blobs stored as deltas: every blob is visited once with its
    /// bytes, each after its delta base, and nothing else is.
    /// A repository with 12 versions of a 200-line file and of a one-line one, repacked with
    /// `repack` (and `-adf --depth=50 --window=50`) into one pack, and that pack.
    fn versions_in_one_pack(name: &str, repack: &[&str]) -> (std::path::PathBuf, pack::Bundle) {
        let dir = fresh_repo(name);
        let mut lines: Vec<String> = (0..200).map(|i| format!("line {i}")).collect();
        for round in 0..12 {
            lines[round * 7] = format!("edited in round {round}");
            std::fs::create_dir_all(dir.join("sub")).unwrap();
            std::fs::write(dir.join("sub/file.txt"), lines.join("\n")).unwrap();
            std::fs::write(dir.join("other.txt"), format!("round {round}\n")).unwrap();
            git(&dir, &["add", "-A"]);
            git(&dir, &["commit", "-qm", &format!("round {round}")]);
        }
        let mut args = repack.to_vec();
        args.extend(["-qadf", "--depth=50", "--window=50"]);
        git(&dir, &args);
        let pack_dir = dir.join(".git/objects/pack");
        let idx = std::fs::read_dir(&pack_dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .find(|p| p.extension().is_some_and(|e| e == "idx"))
            .unwrap();
        let bundle = pack::Bundle::at(&idx, gix::hash::Kind::Sha1).unwrap();
        (dir, bundle)
    }

    /// A pack whose deltas name their bases by id (`REF_DELTA`, as thin packs and some servers
    /// write them): every blob is visited once, with its bytes, after its base.
    #[test]
    fn blobs_stored_as_ref_deltas_are_visited_after_their_bases() {
        let repack = ["-c", "repack.useDeltaBaseOffset=false", "repack"];
        let (dir, bundle) = versions_in_one_pack("pack-blobs-ref", &repack);
        let tree = blob_tree(&bundle).unwrap();
        let mut visited: Vec<(ObjectId, Vec<u8>)> = Vec::new();
        let stop = AtomicBool::new(false);
        walk_blobs(
            (&bundle, &tree),
            &tree.all(),
            u64::MAX,
            |visit: Visit<'_, Vec<u8>>| {
                visited.push((visit.entry.oid, visit.bytes.clone()));
                Held::Bytes(visit.bytes)
            },
            &stop,
        );
        let repo = gix::open(&dir).unwrap();
        let mut ref_deltas = 0;
        for (at, (id, data)) in visited.iter().enumerate() {
            assert_eq!(&repo.find_object(*id).unwrap().data, data);
            let offset = bundle
                .index
                .pack_offset_at_index(bundle.index.lookup(id).unwrap());
            if let Header::RefDelta { base_id } = bundle.pack.entry(offset).unwrap().header {
                ref_deltas += 1;
                assert!(
                    visited[..at].iter().any(|v| v.0 == base_id),
                    "a delta before its base"
                );
            }
        }
        assert!(ref_deltas > 5, "{ref_deltas} ref deltas");
        let ids: HashSet<ObjectId> = visited.iter().map(|v| v.0).collect();
        assert_eq!(ids.len(), visited.len(), "a blob visited twice");
        assert_eq!(ids, objects_of_type(&dir, "blob").into_iter().collect());
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn every_blob_of_a_pack_is_visited_once_and_nothing_else() {
        let (dir, bundle) = versions_in_one_pack("pack-blobs", &["repack"]);
        let first = bundle.index.iter().map(|e| e.pack_offset).min().unwrap();
        assert!(!matches!(
            bundle.pack.entry(first).unwrap().header,
            Header::Blob
        ));
        let visited: Mutex<Vec<(ObjectId, u64, Vec<u8>)>> = Mutex::new(Vec::new());
        let stop = AtomicBool::new(false);
        let tree = blob_tree(&bundle).unwrap();
        walk_blobs(
            (&bundle, &tree),
            &tree.all(),
            u64::MAX,
            |visit: Visit<'_, Vec<u8>>| {
                if let Some((base, copies)) = &visit.delta {
                    let mut again = Vec::new();
                    let delta = delta_of(&bundle, visit.entry.pack_offset);
                    let rebuilt = delta_lines::apply(&delta, base.bytes(), &mut again, usize::MAX);
                    assert_eq!(rebuilt.as_ref(), Some(copies));
                    assert_eq!(again, visit.bytes);
                }
                let seen = (visit.entry.oid, visit.entry.pack_offset, visit.bytes);
                visited.lock().unwrap().push(seen.clone());
                // Every other blob held as the visitor's, the rest as the walk's own buffer.
                if visited.lock().unwrap().len().is_multiple_of(2) {
                    Held::Shared(seen.2)
                } else {
                    Held::Bytes(seen.2)
                }
            },
            &stop,
        );
        let visited = visited.into_inner().unwrap();
        let repo = gix::open(&dir).unwrap();
        for (id, _, data) in &visited {
            let object = repo.find_object(*id).unwrap();
            assert_eq!(object.kind, gix::objs::Kind::Blob);
            assert_eq!(&object.data, data);
        }
        let ids: HashSet<ObjectId> = visited.iter().map(|v| v.0).collect();
        assert_eq!(ids.len(), visited.len(), "a blob visited twice");
        assert_eq!(ids, objects_of_type(&dir, "blob").into_iter().collect());
        let mut deltas = 0;
        for (at, (_, offset, _)) in visited.iter().enumerate() {
            let entry = bundle.pack.entry(*offset).unwrap();
            if let Header::OfsDelta { base_distance } = entry.header {
                deltas += 1;
                let base = entry.checked_base_pack_offset(base_distance).unwrap();
                assert!(
                    visited[..at].iter().any(|v| v.1 == base),
                    "a delta before its base"
                );
            }
        }
        assert!(deltas > 5, "{deltas} deltas");
        // Under a cap, the blobs at or over it (and the deltas against them) are not visited.
        let small: Mutex<Vec<usize>> = Mutex::new(Vec::new());
        walk_blobs(
            (&bundle, &tree),
            &tree.all(),
            100,
            |visit: Visit<'_, Vec<u8>>| {
                small.lock().unwrap().push(visit.bytes.len());
                Held::Bytes(visit.bytes)
            },
            &stop,
        );
        let small = small.into_inner().unwrap();
        assert_eq!(small.len(), 12, "{small:?}");
        assert!(small.iter().all(|&n| n < 100));
        // A part: the blobs asked for are visited, with their bases and nothing else.
        let asked: HashSet<ObjectId> = visited.iter().skip(5).step_by(7).map(|v| v.0).collect();
        let (roots, needed) = tree.needed_for(&asked);
        let part = Part {
            roots: &roots,
            needed: Some(&needed),
        };
        let met: Mutex<Vec<(ObjectId, u64)>> = Mutex::new(Vec::new());
        walk_blobs(
            (&bundle, &tree),
            &part,
            u64::MAX,
            |visit: Visit<'_, Vec<u8>>| {
                met.lock()
                    .unwrap()
                    .push((visit.entry.oid, visit.entry.pack_offset));
                Held::Bytes(visit.bytes)
            },
            &stop,
        );
        let met = met.into_inner().unwrap();
        let met_ids: HashSet<ObjectId> = met.iter().map(|m| m.0).collect();
        assert!(
            asked.is_subset(&met_ids),
            "{} of {}",
            met_ids.len(),
            asked.len()
        );
        assert!(
            met.len() < visited.len(),
            "{} of {}",
            met.len(),
            visited.len()
        );
        for (id, offset) in &met {
            // Each blob met is asked for, or the base of one met after it.
            let is_base = met.iter().any(|(_, o)| {
                let entry = bundle.pack.entry(*o).unwrap();
                matches!(entry.header, Header::OfsDelta { base_distance }
                    if entry.checked_base_pack_offset(base_distance) == Some(*offset))
            });
            assert!(asked.contains(id) || is_base);
        }
        std::fs::remove_dir_all(&dir).unwrap();
    }
}

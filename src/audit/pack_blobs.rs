//! A walk over the blobs of one pack, in delta-tree order, every delta applied once to its base.
//!
//! gix's own walk (`traverse_with_index`) decodes every object of the pack. Most of a history's
//! objects are trees and commits (cargo's pack: 129,042 trees and 34,473 commits beside 69,854
//! blobs), which the prescan does not read, and decoding them was a good part of the walk, the
//! one thread the prescan's workers wait for. A delta has the type of its base, so a delta tree
//! holds objects of its root's type alone: this walk keeps the trees whose root is a blob, and
//! builds and walks the same delta tree over them.

use std::collections::HashMap;
use std::sync::atomic::AtomicBool;

use gix::odb::pack;
use pack::data::entry::Header;

/// Most deltas followed from one entry to its chain's root: deeper chains (git writes at most 50
/// by default, 4095 at most) are taken for a damaged pack.
const MAX_CHAIN: usize = 10_000;

/// The delta tree of a pack's blobs ([`blob_tree`]), built ahead of its walk.
pub(crate) struct BlobTree(pack::cache::delta::Tree<pack::index::Entry>);

/// Builds the delta tree of the blobs of `bundle` (and of its first entry, see [`blob_entries`]),
/// before walking it. `None` when the pack cannot be walked that way (a chain that does not end
/// in the pack, a damaged entry); the caller then reads its blobs by id.
pub(crate) fn blob_tree(bundle: &pack::Bundle) -> Option<BlobTree> {
    let blobs = blob_entries(bundle)?;
    let mut progress = gix::progress::Discard;
    let tree = pack::cache::delta::Tree::from_offsets_in_pack(
        bundle.pack.path(),
        blobs.into_iter(),
        &|e: &pack::index::Entry| e.pack_offset,
        &|id| {
            Ok(bundle
                .index
                .lookup(id)
                .map(|i| bundle.index.pack_offset_at_index(i)))
        },
        &mut progress,
        &AtomicBool::new(false),
        bundle.index.object_hash(),
    )
    .ok()?;
    Some(BlobTree(tree))
}

/// Calls `visit` with the bytes and index entry of every blob of `bundle` (and of no other
/// object) in `tree` (its [`blob_tree`]), in delta-tree order (a base before the deltas against
/// it), on this thread, until `stop` is set. A failure part-way leaves what was visited visited;
/// the caller reads the rest by id.
pub(crate) fn walk_blobs(
    bundle: &pack::Bundle,
    BlobTree(tree): BlobTree,
    visit: impl FnMut(&[u8], &pack::index::Entry) + Send + Clone,
    stop: &AtomicBool,
) {
    let mut size_progress = gix::progress::Discard;
    let mut visit = visit;
    let options = pack::cache::delta::traverse::Options {
        object_progress: Box::new(gix::progress::Discard),
        size_progress: &mut size_progress,
        thread_limit: Some(1),
        should_interrupt: stop,
        object_hash: bundle.index.object_hash(),
        alloc_limit_bytes: None,
    };
    let _ = tree.traverse(
        |range, pack: &pack::data::File| pack.entry_slice(range),
        &bundle.pack,
        bundle.pack.pack_end() as u64,
        move |entry: &mut pack::index::Entry, _, context| {
            if context.entry.header.as_kind() == Some(gix::objs::Kind::Blob) {
                visit(context.decompressed, entry);
            }
            Ok(())
        },
        options,
    );
}

/// The index entries of `bundle` whose delta chain ends in a blob, sorted by pack offset, and the
/// pack's first entry whatever it is (gix's tree reads the pack from its first entry on, and
/// takes the first entry it is given to be there); `None` when a chain cannot be followed to its
/// root in the pack, or the first entry is a delta of another type.
fn blob_entries(bundle: &pack::Bundle) -> Option<Vec<pack::index::Entry>> {
    let mut entries: Vec<pack::index::Entry> = bundle.index.iter().collect();
    entries.sort_by_key(|e| e.pack_offset);
    let mut kinds: HashMap<u64, gix::objs::Kind> = HashMap::with_capacity(entries.len());
    let mut blobs = Vec::new();
    for (i, entry) in entries.into_iter().enumerate() {
        let is_blob = root_kind(bundle, entry.pack_offset, &mut kinds)? == gix::objs::Kind::Blob;
        if i == 0 && !is_blob && bundle.pack.entry(entry.pack_offset).ok()?.header.is_delta() {
            return None;
        }
        if is_blob || i == 0 {
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
        let entry = bundle.pack.entry(at).ok()?;
        chain.push(at);
        at = match entry.header {
            Header::OfsDelta { base_distance } => entry.checked_base_pack_offset(base_distance)?,
            Header::RefDelta { base_id } => {
                let index = bundle.index.lookup(base_id)?;
                bundle.index.pack_offset_at_index(index)
            }
            header => break header.as_kind()?,
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
    use crate::test_support::{fresh_repo, git_command, git_ok as git};
    use gix::hash::ObjectId;
    use std::collections::HashSet;
    use std::sync::Mutex;

    /// The ids of the objects of `kind` in the repository at `dir`, as git lists them.
    fn git_objects(dir: &std::path::Path, kind: &str) -> HashSet<ObjectId> {
        let out = git_command(
            dir,
            &[
                "cat-file",
                "--batch-all-objects",
                "--batch-check=%(objecttype) %(objectname)",
            ],
        )
        .output()
        .unwrap();
        String::from_utf8(out.stdout)
            .unwrap()
            .lines()
            .filter_map(|l| l.split_once(' '))
            .filter(|(k, _)| *k == kind)
            .map(|(_, id)| ObjectId::from_hex(id.as_bytes()).unwrap())
            .collect()
    }

    /// A pack of commits, trees and blobs (git writes the commits first, so the pack's first
    /// entry is not a blob), many blobs stored as deltas: every blob is visited once with its
    /// bytes, each after its delta base, and nothing else is.
    #[test]
    fn every_blob_of_a_pack_is_visited_once_and_nothing_else() {
        let dir = fresh_repo("pack-blobs");
        let mut lines: Vec<String> = (0..200).map(|i| format!("line {i}")).collect();
        for round in 0..12 {
            lines[round * 7] = format!("edited in round {round}");
            std::fs::create_dir_all(dir.join("sub")).unwrap();
            std::fs::write(dir.join("sub/file.txt"), lines.join("\n")).unwrap();
            std::fs::write(dir.join("other.txt"), format!("round {round}\n")).unwrap();
            git(&dir, &["add", "-A"]);
            git(&dir, &["commit", "-qm", &format!("round {round}")]);
        }
        git(&dir, &["repack", "-qadf", "--depth=50", "--window=50"]);
        let pack_dir = dir.join(".git/objects/pack");
        let idx = std::fs::read_dir(&pack_dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .find(|p| p.extension().is_some_and(|e| e == "idx"))
            .unwrap();
        let bundle = pack::Bundle::at(&idx, gix::hash::Kind::Sha1).unwrap();
        let first = bundle.index.iter().map(|e| e.pack_offset).min().unwrap();
        assert!(!matches!(
            bundle.pack.entry(first).unwrap().header,
            Header::Blob
        ));
        let visited: Mutex<Vec<(ObjectId, u64, Vec<u8>)>> = Mutex::new(Vec::new());
        let stop = AtomicBool::new(false);
        let tree = blob_tree(&bundle).unwrap();
        walk_blobs(
            &bundle,
            tree,
            |data: &[u8], entry: &pack::index::Entry| {
                let seen = (entry.oid, entry.pack_offset, data.to_vec());
                visited.lock().unwrap().push(seen);
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
        assert_eq!(ids, git_objects(&dir, "blob"));
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
        std::fs::remove_dir_all(&dir).unwrap();
    }
}

//! Trees and commits read straight from the packs for the audit's listing of each commit's
//! changes: inflated by libdeflate, every delta applied once and its result kept (by pack offset)
//! for the deltas made from it, instead of through the object database (its caches and zlib).
//! Listing a long history reads each tree version once or twice, most of them deltas of the one
//! before.
//!
//! Only an object stored in exactly one pack and not loose is read here (a crafted repository could
//! hold two different objects under one id; the object database then decides which one is
//! read); the listing reads the others as before. No pack is read this way with alternates or
//! replace refs (see `prescan::walkable_bundles`).

use std::collections::{HashMap, HashSet};
use std::rc::Rc;
use std::sync::Arc;

use gix::hash::ObjectId;
use gix::odb::pack;

use crate::audit::delta_lines;
use crate::audit::pack_blobs::{inflate_entry, stored_as, Stored, MAX_CHAIN};
use crate::git::objects::ObjectSource;

/// Most bytes of resolved objects kept for the deltas made from them; past it, they are dropped.
const KEPT_BYTES: usize = 32 << 20;
/// Biggest tree read here (a bigger one is read through the object database).
const MAX_TREE_BYTES: usize = 16 << 20;

/// A resolved object: its type and bytes.
type Resolved = (gix::objs::Kind, Rc<Vec<u8>>);

/// The packs a listing thread reads trees and commits from, with what it keeps.
pub(crate) struct PackTrees {
    bundles: Vec<pack::Bundle>,
    loose: Arc<HashSet<ObjectId>>,
    inflate: libdeflater::Decompressor,
    /// Resolved objects by (pack, offset), and their bytes in all.
    kept: HashMap<(usize, u64), Resolved>,
    kept_bytes: usize,
}

impl PackTrees {
    /// A reader of `bundles`' trees, `loose` the ids of the loose objects.
    pub(crate) fn new(bundles: Vec<pack::Bundle>, loose: Arc<HashSet<ObjectId>>) -> PackTrees {
        PackTrees {
            bundles,
            loose,
            inflate: libdeflater::Decompressor::new(),
            kept: HashMap::new(),
            kept_bytes: 0,
        }
    }

    /// The pack and offset of `id` when it is stored in one pack alone and not loose.
    fn only_place(&self, id: &ObjectId) -> Option<(usize, u64)> {
        if self.loose.contains(id) {
            return None;
        }
        let mut places = self.bundles.iter().enumerate().filter_map(|(i, b)| {
            let index = b.index.lookup(id)?;
            Some((i, b.index.pack_offset_at_index(index)))
        });
        let place = places.next()?;
        places.next().is_none().then_some(place)
    }

    /// The object at `offset` of pack `pack`: its delta chain followed down to an object kept or
    /// stored whole, then each delta applied (and the result kept) on the way back up.
    fn resolve(&mut self, pack: usize, offset: u64) -> Option<Resolved> {
        let bundle = self.bundles.get(pack)?;
        let mut chain = Vec::new();
        let mut at = offset;
        let (kind, mut bytes) = loop {
            if let Some(kept) = self.kept.get(&(pack, at)) {
                break kept.clone();
            }
            if chain.len() > MAX_CHAIN {
                return None;
            }
            let entry = bundle.pack.entry(at).ok()?;
            match stored_as(bundle, at)? {
                Stored::DeltaOf(base) => {
                    chain.push((at, entry));
                    at = base;
                }
                Stored::Whole(kind) => {
                    let bytes = Rc::new(self.inflated(pack, &entry)?);
                    self.keep(pack, at, kind, &bytes);
                    break (kind, bytes);
                }
            }
        };
        while let Some((at, entry)) = chain.pop() {
            let delta = self.inflated(pack, &entry)?;
            let mut out = Vec::new();
            delta_lines::apply(&delta, &bytes, &mut out, MAX_TREE_BYTES)?;
            bytes = Rc::new(out);
            self.keep(pack, at, kind, &bytes);
        }
        Some((kind, bytes))
    }

    /// The inflated data of `entry` (an object, or a delta's instructions) of pack `pack`.
    fn inflated(&mut self, pack: usize, entry: &pack::data::Entry) -> Option<Vec<u8>> {
        let size = usize::try_from(entry.decompressed_size).ok()?;
        if size > MAX_TREE_BYTES {
            return None;
        }
        let mut out = vec![0; size];
        inflate_entry(
            &mut self.inflate,
            &self.bundles.get(pack)?.pack,
            entry,
            &mut out,
        )?;
        Some(out)
    }

    /// Keeps a resolved object for the deltas made from it, within [`KEPT_BYTES`].
    fn keep(&mut self, pack: usize, offset: u64, kind: gix::objs::Kind, bytes: &Rc<Vec<u8>>) {
        if self.kept_bytes + bytes.len() > KEPT_BYTES {
            self.kept.clear();
            self.kept_bytes = 0;
        }
        self.kept_bytes += bytes.len();
        self.kept.insert((pack, offset), (kind, Rc::clone(bytes)));
    }
}

impl PackTrees {
    /// The bytes of `id` when it is an object of `kind` stored in one pack alone.
    fn bytes_of(&mut self, id: &ObjectId, kind: gix::objs::Kind) -> Option<Rc<Vec<u8>>> {
        let (pack, offset) = self.only_place(id)?;
        let (found, bytes) = self.resolve(pack, offset)?;
        (found == kind).then_some(bytes)
    }
}

impl ObjectSource for PackTrees {
    fn tree_bytes(&mut self, id: &ObjectId) -> Option<Rc<Vec<u8>>> {
        self.bytes_of(id, gix::objs::Kind::Tree)
    }

    fn commit_bytes(&mut self, id: &ObjectId) -> Option<Rc<Vec<u8>>> {
        self.bytes_of(id, gix::objs::Kind::Commit)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::{fresh_repo, git_ok as git, objects_of_type};

    /// A history whose trees are stored as deltas (by offset, then by id): every tree read from
    /// the pack is the object database's, byte for byte; a blob is not a tree; a tree stored
    /// loose too is left to the object database.
    #[test]
    fn trees_read_from_the_pack_are_the_object_databases() {
        for (name, repack) in [
            ("pack-trees-ofs", vec!["repack"]),
            (
                "pack-trees-ref",
                vec!["-c", "repack.useDeltaBaseOffset=false", "repack"],
            ),
        ] {
            let dir = fresh_repo(name);
            for round in 0..30 {
                let sub = dir.join(format!("d{}/e{}", round % 3, round % 5));
                std::fs::create_dir_all(&sub).unwrap();
                for file in 0..20 {
                    let text = format!("file {file} round {}\n", round / (file + 1));
                    std::fs::write(sub.join(format!("f{file}.txt")), text).unwrap();
                }
                git(&dir, &["add", "-A"]);
                git(&dir, &["commit", "-qm", &format!("round {round}")]);
            }
            let mut args = repack.clone();
            args.extend(["-qadf", "--depth=50", "--window=50"]);
            git(&dir, &args);
            let objects = dir.join(".git/objects");
            let bundles = crate::audit::prescan::tests_walkable_bundles(&objects);
            let mut reader = PackTrees::new(bundles, Arc::new(HashSet::new()));
            let repo = gix::open(&dir).unwrap();
            let trees = objects_of_type(&dir, "tree");
            assert!(trees.len() > 50, "{} trees", trees.len());
            for id in &trees {
                let bytes = reader.tree_bytes(id).unwrap();
                assert_eq!(*bytes, repo.find_object(*id).unwrap().data, "{name} {id}");
            }
            let blob = objects_of_type(&dir, "blob")[0];
            assert!(reader.tree_bytes(&blob).is_none());
            let commits = objects_of_type(&dir, "commit");
            for id in &commits {
                let bytes = reader.commit_bytes(id).unwrap();
                assert_eq!(*bytes, repo.find_object(*id).unwrap().data, "{name} {id}");
                assert!(reader.tree_bytes(id).is_none());
                let sourced = crate::git::objects::with_object_source(
                    Box::new(PackTrees::new(
                        crate::audit::prescan::tests_walkable_bundles(&objects),
                        Arc::new(HashSet::new()),
                    )),
                    || crate::git::objects::sourced_commit(id),
                );
                let commit = repo.find_commit(*id).unwrap();
                let parents: Vec<ObjectId> = commit.parent_ids().map(gix::Id::detach).collect();
                assert_eq!(sourced, Some((commit.tree_id().unwrap().detach(), parents)));
            }
            let loose: HashSet<ObjectId> = trees.iter().take(3).copied().collect();
            let bundles = crate::audit::prescan::tests_walkable_bundles(&objects);
            let mut reader = PackTrees::new(bundles, Arc::new(loose.clone()));
            for id in &trees {
                assert_eq!(reader.tree_bytes(id).is_none(), loose.contains(id));
            }
            std::fs::remove_dir_all(&dir).unwrap();
        }
    }
}

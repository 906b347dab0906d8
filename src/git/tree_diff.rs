//! Comparing two trees: the blobs added or modified, and the blobs deleted (for rename detection).
//! Subtrees with the same id on both sides are never entered.

use std::cmp::Ordering;
use std::collections::HashMap;

use gix::hash::ObjectId;
use gix::objs::tree::EntryMode;

use crate::git::objects::{tree_entries, TreeEntry};
use crate::git::GitError;

/// At most this many deleted blobs are collected for rename detection.
pub const MAX_DELETED: usize = 1000;

/// A blob (or symlink, or gitlink) that is new or changed on the new side.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    /// Slash-separated path.
    pub path: Vec<u8>,
    /// The new object.
    pub id: ObjectId,
    /// The new mode.
    pub mode: EntryMode,
    /// The old blob at the same path, when there was one.
    pub old: Option<ObjectId>,
}

/// A blob that is gone from the new side.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Deleted {
    /// Its old path.
    pub path: Vec<u8>,
    /// Its id.
    pub id: ObjectId,
}

/// The differences between two trees.
#[derive(Debug, Default)]
pub struct TreeChanges {
    /// Added or modified entries.
    pub changed: Vec<Change>,
    /// Deleted blobs (up to [`MAX_DELETED`]).
    pub deleted: Vec<Deleted>,
}

fn join(prefix: &[u8], name: &[u8]) -> Vec<u8> {
    let mut p = Vec::with_capacity(prefix.len() + name.len() + 1);
    if !prefix.is_empty() {
        p.extend_from_slice(prefix);
        p.push(b'/');
    }
    p.extend_from_slice(name);
    p
}

/// A pair of trees still to compare, at `prefix`.
type Pending = (Option<ObjectId>, ObjectId, Vec<u8>);

/// Compares tree `old` (none: empty) with tree `new`, appending to `out`. The walk keeps its own
/// work stack, so no depth of pushed trees can overflow the thread's stack.
pub fn diff_trees(
    repo: &gix::Repository,
    old: Option<ObjectId>,
    new: ObjectId,
    prefix: &[u8],
    out: &mut TreeChanges,
) -> Result<(), GitError> {
    let mut stack: Vec<Pending> = vec![(old, new, prefix.to_vec())];
    while let Some((old, new, prefix)) = stack.pop() {
        if old == Some(new) {
            continue;
        }
        let new_entries = tree_entries(repo, new)?;
        let old_entries = match old {
            Some(id) => tree_entries(repo, id)?,
            None => Default::default(),
        };
        let first_subtree = stack.len();
        for pair in pair_by_name(&new_entries, &old_entries) {
            match pair {
                Paired::New(entry, before) => {
                    if before.is_some_and(|b| unchanged(b, entry)) {
                        continue;
                    }
                    let path = join(&prefix, &entry.name);
                    if let Some(subtree) = compare_entry(repo, before, entry, path, out)? {
                        stack.push(subtree);
                    }
                }
                Paired::Gone(gone) => {
                    collect_deleted(repo, gone, join(&prefix, &gone.name), out)?;
                }
            }
        }
        // Subtrees in tree order.
        stack[first_subtree..].reverse();
    }
    Ok(())
}

/// An entry of the new tree with the old tree's entry of the same name, or an old entry no new
/// one took.
#[derive(Debug, PartialEq, Eq)]
enum Paired<'a> {
    New(&'a TreeEntry, Option<&'a TreeEntry>),
    Gone(&'a TreeEntry),
}

/// Git's tree order: by name, a tree's name compared as if it ended in `/`. The names' common
/// length is compared as slices (one `memcmp`), the rest with the `/`s byte by byte.
fn git_order(a: &TreeEntry, b: &TreeEntry) -> Ordering {
    let suffix = |e: &TreeEntry| {
        if e.mode.is_tree() {
            &b"/"[..]
        } else {
            &b""[..]
        }
    };
    // Names nearly always differ within a few bytes: found inline before a `memcmp` call.
    if let Some((x, y)) = a.name.iter().zip(b.name.iter()).find(|(x, y)| x != y) {
        return x.cmp(y);
    }
    let common = a.name.len().min(b.name.len());
    a.name[..common].cmp(&b.name[..common]).then_with(|| {
        a.name[common..]
            .iter()
            .chain(suffix(a))
            .cmp(b.name[common..].iter().chain(suffix(b)))
    })
}

/// Whether `entries` are in strictly increasing git tree order (as git writes every tree).
fn in_git_order(entries: &[TreeEntry]) -> bool {
    entries
        .windows(2)
        .all(|w| git_order(&w[0], &w[1]) == Ordering::Less)
}

/// Pairs the entries of a new and an old tree by name: every new entry in order (with its old
/// entry, if any), and every old entry no new one took.
///
/// Trees in git's order are merged in one pass; an entry pairs with the old one of the same name
/// and kind (tree or not). A blob that became a tree then pairs with nothing on either side:
/// [`compare_entry`] makes the same changes of that as of a pair. Trees out of order (only a
/// crafted object is) are paired through a map by name, the last old entry of a name first.
fn pair_by_name<'a>(new: &'a [TreeEntry], old: &'a [TreeEntry]) -> Vec<Paired<'a>> {
    let mut pairs = Vec::with_capacity(new.len() + 4);
    if !(in_git_order(new) && in_git_order(old)) {
        let mut old_by_name: HashMap<&[u8], &TreeEntry> =
            old.iter().map(|e| (e.name.as_slice(), e)).collect();
        for entry in new {
            pairs.push(Paired::New(
                entry,
                old_by_name.remove(entry.name.as_slice()),
            ));
        }
        let mut gone: Vec<&TreeEntry> = old_by_name.into_values().collect();
        gone.sort_by(|a, b| git_order(a, b));
        pairs.extend(gone.into_iter().map(Paired::Gone));
        return pairs;
    }
    let (mut new, mut old) = (new.iter().peekable(), old.iter().peekable());
    loop {
        let order = match (new.peek(), old.peek()) {
            (None, None) => break,
            (Some(_), None) => Ordering::Less,
            (None, Some(_)) => Ordering::Greater,
            (Some(n), Some(o)) => git_order(n, o),
        };
        match order {
            Ordering::Less => pairs.extend(new.next().map(|n| Paired::New(n, None))),
            Ordering::Greater => pairs.extend(old.next().map(Paired::Gone)),
            Ordering::Equal => {
                if let (Some(n), Some(o)) = (new.next(), old.next()) {
                    pairs.push(Paired::New(n, Some(o)));
                }
            }
        }
    }
    pairs
}

/// Compares one entry of the new tree with what had its name in the old tree.
pub fn diff_entry(
    repo: &gix::Repository,
    before: Option<&TreeEntry>,
    entry: &TreeEntry,
    path: Vec<u8>,
    out: &mut TreeChanges,
) -> Result<(), GitError> {
    match compare_entry(repo, before, entry, path, out)? {
        Some((old, new, prefix)) => diff_trees(repo, old, new, &prefix, out),
        None => Ok(()),
    }
}

/// Whether `entry` is what `before` was: the same object, both trees or both not (a subtree that
/// did not change is not entered, a blob that did not change is not listed).
fn unchanged(before: &TreeEntry, entry: &TreeEntry) -> bool {
    before.id == entry.id && before.mode.is_tree() == entry.mode.is_tree()
}

/// [`diff_entry`] without descending: a subtree to compare is returned instead.
fn compare_entry(
    repo: &gix::Repository,
    before: Option<&TreeEntry>,
    entry: &TreeEntry,
    path: Vec<u8>,
    out: &mut TreeChanges,
) -> Result<Option<Pending>, GitError> {
    if entry.mode.is_tree() {
        let old_tree = before.filter(|b| b.mode.is_tree()).map(|b| b.id);
        if let Some(b) = before.filter(|b| !b.mode.is_tree()) {
            collect_deleted(repo, b, path.clone(), out)?;
        }
        return Ok(Some((old_tree, entry.id, path)));
    }
    if let Some(b) = before {
        if unchanged(b, entry) {
            return Ok(None);
        }
        if b.mode.is_tree() {
            collect_deleted(repo, b, path.clone(), out)?;
        }
    }
    let old = before
        .filter(|b| b.mode.is_blob_or_symlink() && entry.mode.is_blob_or_symlink())
        .map(|b| b.id);
    out.changed.push(Change {
        path,
        id: entry.id,
        mode: entry.mode,
        old,
    });
    Ok(None)
}

/// Records a deleted blob, or the blobs of a deleted tree, up to [`MAX_DELETED`] (with a work
/// stack, not recursion).
pub fn collect_deleted(
    repo: &gix::Repository,
    entry: &TreeEntry,
    path: Vec<u8>,
    out: &mut TreeChanges,
) -> Result<(), GitError> {
    let mut stack = vec![(entry.clone(), path)];
    while let Some((entry, path)) = stack.pop() {
        if out.deleted.len() >= MAX_DELETED {
            return Ok(());
        }
        if entry.mode.is_tree() {
            for child in tree_entries(repo, entry.id)?.iter().rev() {
                stack.push((child.clone(), join(&path, &child.name)));
            }
        } else if entry.mode.is_blob_or_symlink() {
            out.deleted.push(Deleted { path, id: entry.id });
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use gix::objs::tree::EntryKind;

    fn entry(name: &[u8], tree: bool, id: u8) -> TreeEntry {
        let kind = if tree {
            EntryKind::Tree
        } else {
            EntryKind::Blob
        };
        TreeEntry {
            name: crate::git::objects::EntryName::new(name),
            mode: kind.into(),
            id: ObjectId::from_bytes_or_panic(&[id; 20]),
        }
    }

    /// A random tree in git's order: names of a few bytes around `/` in byte order (`-`, `.`,
    /// `0`), each name once, a tree or a blob.
    fn random_tree(rng: &mut crate::test_support::Rng) -> Vec<TreeEntry> {
        let mut entries: Vec<TreeEntry> = Vec::new();
        for _ in 0..rng.below(12) {
            let name: Vec<u8> = (0..=rng.below(3)).map(|_| b"a-.0b"[rng.below(5)]).collect();
            if entries.iter().all(|e| e.name != name) {
                entries.push(entry(&name, rng.below(2) == 0, 1 + rng.below(3) as u8));
            }
        }
        entries.sort_by(git_order);
        entries
    }

    /// What a pairing does, whatever its order: each new entry with the old entry it is compared
    /// with (an old entry of the other kind compared as none, its blobs deleted), and the old
    /// entries deleted.
    fn effect(pairs: &[Paired<'_>]) -> (Vec<(TreeEntry, Option<TreeEntry>)>, Vec<TreeEntry>) {
        let mut compared = Vec::new();
        let mut gone = Vec::new();
        for pair in pairs {
            match pair {
                Paired::New(n, Some(o)) if n.mode.is_tree() != o.mode.is_tree() => {
                    compared.push(((*n).clone(), None));
                    gone.push((*o).clone());
                }
                Paired::New(n, o) => compared.push(((*n).clone(), o.cloned())),
                Paired::Gone(o) => gone.push((*o).clone()),
            }
        }
        gone.sort_by(git_order);
        (compared, gone)
    }

    /// The merge of trees in git's order does what pairing through a map by name does.
    #[test]
    fn merging_sorted_trees_pairs_as_a_map_by_name_does() {
        let mut rng = crate::test_support::Rng(5);
        for _ in 0..3000 {
            let (new, old) = (random_tree(&mut rng), random_tree(&mut rng));
            assert!(in_git_order(&new) && in_git_order(&old));
            let mut by_map = Vec::new();
            let mut map: HashMap<&[u8], &TreeEntry> =
                old.iter().map(|e| (e.name.as_slice(), e)).collect();
            for n in &new {
                by_map.push(Paired::New(n, map.remove(n.name.as_slice())));
            }
            by_map.extend(map.into_values().map(Paired::Gone));
            let merged = pair_by_name(&new, &old);
            assert_eq!(effect(&merged), effect(&by_map), "{new:?}\n{old:?}");
        }
    }

    /// A tree is compared as its name and a `/`: `a-` and `a.` sort before the tree `a`, the
    /// tree `a` before `a0`; trees out of that order (or with a name twice) are paired by map,
    /// as before the merge (the last old entry of a name kept).
    #[test]
    fn git_order_puts_a_tree_after_names_below_the_slash() {
        let tree = entry(b"a", true, 1);
        for (name, order) in [
            (&b"a-"[..], Ordering::Less),
            (b"a.", Ordering::Less),
            (b"a0", Ordering::Greater),
            (b"a", Ordering::Less),
        ] {
            assert_eq!(git_order(&entry(name, false, 1), &tree), order, "{name:?}");
        }
        let twice = [entry(b"x", false, 1), entry(b"x", false, 2)];
        assert!(!in_git_order(&twice));
        let one = [entry(b"x", false, 1)];
        assert_eq!(
            pair_by_name(&one, &twice),
            vec![Paired::New(&one[0], Some(&twice[1]))]
        );
    }
}

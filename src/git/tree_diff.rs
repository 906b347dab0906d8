//! Comparing two trees: the blobs added or modified, and the blobs deleted (for rename detection).
//! Subtrees with the same id on both sides are never entered.

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
        let mut old_by_name: HashMap<&[u8], &TreeEntry> =
            old_entries.iter().map(|e| (e.name.as_slice(), e)).collect();
        let first_subtree = stack.len();
        for entry in new_entries.iter() {
            let before = old_by_name.remove(entry.name.as_slice());
            if before.is_some_and(|b| unchanged(b, entry)) {
                continue;
            }
            let path = join(&prefix, &entry.name);
            if let Some(subtree) = compare_entry(repo, before, entry, path, out)? {
                stack.push(subtree);
            }
        }
        // Subtrees in tree order.
        stack[first_subtree..].reverse();
        for gone in old_by_name.values() {
            collect_deleted(repo, gone, join(&prefix, &gone.name), out)?;
        }
    }
    Ok(())
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

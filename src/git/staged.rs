//! The pre-commit source: what the index adds relative to `HEAD`.
//!
//! The index is read directly (honouring `GIT_INDEX_FILE`, without hashing the whole file). Its
//! cache-tree (the TREE extension) is walked beside the `HEAD` tree: a directory whose cache-tree id
//! equals the `HEAD` subtree id is unchanged and never entered, as git's own unpack-trees does; the
//! entries of other directories are compared one by one. During a merge (`MERGE_HEAD`), a line
//! counts only when it is in neither parent.

use std::collections::HashMap;

use gix::hash::ObjectId;
use gix::index::entry::{Flags, Mode, Stage};
use gix::index::extension::Tree as CacheTree;
use gix::objs::tree::{EntryKind, EntryMode};

use crate::git::changes::{detect_renames, ChangeScanner, PendingChange};
use crate::git::objects::{entry_at_path, tree_entries, TreeEntry};
use crate::git::tree_diff::{collect_deleted, diff_trees, Deleted, TreeChanges};
use crate::git::GitError;
use crate::outcome::ScanOutcome;
use crate::scanner::Scanner;

/// Reads the index the hook must scan (an absent file is an empty index).
pub fn read_index(repo: &gix::Repository) -> Result<gix::index::File, GitError> {
    let path = repo.index_path();
    if !path.exists() {
        return Ok(gix::index::File::from_state(
            gix::index::State::new(repo.object_hash()),
            path,
        ));
    }
    gix::index::File::at(&path, repo.object_hash(), true, Default::default()).map_err(|e| {
        GitError::Index {
            path: path.display().to_string(),
            message: e.to_string(),
        }
    })
}

/// The `HEAD` tree, or `None` on an unborn branch (the first commit).
pub fn head_tree(repo: &gix::Repository) -> Result<Option<ObjectId>, GitError> {
    let head = repo.head().map_err(|e| GitError::Revision {
        spec: "HEAD".into(),
        message: e.to_string(),
    })?;
    if head.is_unborn() {
        return Ok(None);
    }
    let commit = repo.head_commit().map_err(|e| GitError::Revision {
        spec: "HEAD".into(),
        message: e.to_string(),
    })?;
    commit
        .tree_id()
        .map(|id| Some(id.detach()))
        .map_err(|e| GitError::Revision {
            spec: "HEAD^{tree}".into(),
            message: e.to_string(),
        })
}

/// The commits being merged (`MERGE_HEAD`), when a merge is in progress.
pub fn merge_heads(repo: &gix::Repository) -> Result<Vec<ObjectId>, GitError> {
    let path = repo.git_dir().join("MERGE_HEAD");
    let Ok(text) = std::fs::read_to_string(&path) else {
        return Ok(Vec::new());
    };
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(|l| {
            ObjectId::from_hex(l.as_bytes()).map_err(|e| GitError::Revision {
                spec: format!("MERGE_HEAD ({l})"),
                message: e.to_string(),
            })
        })
        .collect()
}

/// The content of the blob staged at `path`, if the index has one (for `.leakgate.yaml`).
pub fn staged_file(
    repo: &gix::Repository,
    index: &gix::index::File,
    path: &str,
) -> Result<Option<Vec<u8>>, GitError> {
    let Some(entry) = index.entry_by_path(path.into()) else {
        return Ok(None);
    };
    let mut object = repo.find_object(entry.id).map_err(|e| GitError::Object {
        what: format!("blob {}", entry.id),
        commit: None,
        path: Some(path.to_string()),
        message: e.to_string(),
    })?;
    Ok(Some(std::mem::take(&mut object.data)))
}

/// The contents of the file at `path` in `HEAD`'s tree (what is committed), if there is one.
pub fn committed_file(repo: &gix::Repository, path: &str) -> Result<Option<Vec<u8>>, GitError> {
    let Some(tree) = head_tree(repo)? else {
        return Ok(None);
    };
    file_in_tree(repo, tree, path)
}

/// The contents of the file at `path` in `commit`'s tree, if there is one.
pub fn file_at_commit(
    repo: &gix::Repository,
    commit: ObjectId,
    path: &str,
) -> Result<Option<Vec<u8>>, GitError> {
    let tree = repo
        .find_commit(commit)
        .and_then(|c| c.tree_id().map(gix::Id::detach))
        .map_err(|e| GitError::Revision {
            spec: format!("{commit}^{{tree}}"),
            message: e.to_string(),
        })?;
    file_in_tree(repo, tree, path)
}

/// The contents of the blob at `path` in `tree`, if there is one.
fn file_in_tree(
    repo: &gix::Repository,
    tree: ObjectId,
    path: &str,
) -> Result<Option<Vec<u8>>, GitError> {
    let Some(entry) = crate::git::objects::entry_at_path(repo, tree, path.as_bytes())? else {
        return Ok(None);
    };
    if entry.mode.is_tree() {
        return Ok(None);
    }
    let mut object = repo.find_object(entry.id).map_err(|e| GitError::Object {
        what: format!("blob {}", entry.id),
        commit: Some("HEAD".to_string()),
        path: Some(path.to_string()),
        message: e.to_string(),
    })?;
    Ok(Some(std::mem::take(&mut object.data)))
}

/// Index entries that differ from `HEAD`: new and modified blobs, plus deleted blobs.
pub fn staged_changes(
    repo: &gix::Repository,
    index: &gix::index::File,
    head: Option<ObjectId>,
) -> Result<(Vec<PendingChange>, Vec<Deleted>), GitError> {
    let mut walker = Walker {
        repo,
        index,
        changes: TreeChanges::default(),
    };
    walker.walk(index.entries(), 0, head, index.tree())?;
    let changes = walker
        .changes
        .changed
        .into_iter()
        .map(|c| PendingChange {
            path: c.path,
            id: c.id,
            mode: c.mode,
            olds: c.old.into_iter().collect(),
            commit: None,
            name_only: false,
        })
        .collect();
    Ok((changes, walker.changes.deleted))
}

struct Walker<'a> {
    repo: &'a gix::Repository,
    index: &'a gix::index::File,
    changes: TreeChanges,
}

/// The tree-entry mode of an index entry.
fn tree_mode(mode: Mode) -> EntryMode {
    if mode.contains(Mode::COMMIT) && mode.bits() == Mode::COMMIT.bits() {
        EntryKind::Commit.into()
    } else if mode.bits() == Mode::SYMLINK.bits() {
        EntryKind::Link.into()
    } else if mode.bits() == Mode::FILE_EXECUTABLE.bits() {
        EntryKind::BlobExecutable.into()
    } else if mode.bits() == Mode::DIR.bits() {
        EntryKind::Tree.into()
    } else {
        EntryKind::Blob.into()
    }
}

impl Walker<'_> {
    /// Compares `entries` (all under one directory, whose path prefix is `prefix_len` bytes long
    /// including its `/`) with the `HEAD` tree of that directory.
    fn walk(
        &mut self,
        entries: &[gix::index::Entry],
        prefix_len: usize,
        head: Option<ObjectId>,
        cache: Option<&CacheTree>,
    ) -> Result<(), GitError> {
        if let (Some(cache), Some(head)) = (cache, head) {
            if cache.num_entries == Some(entries.len() as u32) && cache.id == head {
                return Ok(());
            }
        }
        let head_entries = match head {
            Some(id) => tree_entries(self.repo, id)?,
            None => Default::default(),
        };
        let mut remaining: HashMap<&[u8], &TreeEntry> = head_entries
            .iter()
            .map(|e| (e.name.as_slice(), e))
            .collect();
        let mut i = 0;
        while i < entries.len() {
            let path: &[u8] = entries[i].path(self.index);
            let rest = &path[prefix_len.min(path.len())..];
            if let Some(slash) = memchr::memchr(b'/', rest) {
                let name = &rest[..slash];
                let dir_len = prefix_len + slash + 1;
                let mut j = i + 1;
                while j < entries.len() {
                    let p: &[u8] = entries[j].path(self.index);
                    if p.len() > dir_len && p[..dir_len] == path[..dir_len] {
                        j += 1;
                    } else {
                        break;
                    }
                }
                let before = remaining.remove(name);
                if let Some(b) = before.filter(|b| !b.mode.is_tree()) {
                    collect_deleted(
                        self.repo,
                        b,
                        path[..dir_len - 1].to_vec(),
                        &mut self.changes,
                    )?;
                }
                let head_sub = before.filter(|b| b.mode.is_tree()).map(|b| b.id);
                let cache_sub =
                    cache.and_then(|c| c.children.iter().find(|t| t.name.as_slice() == name));
                self.walk(&entries[i..j], dir_len, head_sub, cache_sub)?;
                i = j;
                continue;
            }
            let entry = &entries[i];
            i += 1;
            let before = remaining.remove(rest);
            if entry.stage() != Stage::Unconflicted || entry.flags.contains(Flags::INTENT_TO_ADD) {
                continue;
            }
            let new = TreeEntry {
                name: rest.to_vec(),
                mode: tree_mode(entry.mode),
                id: entry.id,
            };
            if new.mode.is_tree() {
                // A sparse-index directory entry: compare the trees.
                let old = before.filter(|b| b.mode.is_tree()).map(|b| b.id);
                diff_trees(self.repo, old, new.id, path, &mut self.changes)?;
                continue;
            }
            crate::git::tree_diff::diff_entry(
                self.repo,
                before,
                &new,
                path.to_vec(),
                &mut self.changes,
            )?;
        }
        let prefix = entries
            .first()
            .map(|e| {
                let p: &[u8] = e.path(self.index);
                p[..prefix_len.saturating_sub(1).min(p.len())].to_vec()
            })
            .unwrap_or_default();
        for gone in remaining.values() {
            let mut p = prefix.clone();
            if !p.is_empty() {
                p.push(b'/');
            }
            p.extend_from_slice(&gone.name);
            collect_deleted(self.repo, gone, p, &mut self.changes)?;
        }
        Ok(())
    }
}

/// What the index adds relative to `HEAD`, ready to scan: exact renames dropped, renamed-and-
/// edited files paired with their old version, and during a merge each change paired with the
/// merged commits' versions (a change identical to one of them brings nothing new).
///
/// `path_allowed` tells the config's allowed paths (`allow.paths`): nothing moved out of them
/// counts as a rename.
pub fn collect_staged(
    repo: &gix::Repository,
    index: &gix::index::File,
    max_blob_bytes: u64,
    path_allowed: &dyn Fn(&[u8]) -> bool,
) -> Result<Vec<PendingChange>, GitError> {
    let head = head_tree(repo)?;
    let (mut changes, deleted) = staged_changes(repo, index, head)?;
    detect_renames(repo, max_blob_bytes, &mut changes, &deleted, path_allowed)?;
    let merged = merge_heads(repo)?;
    if merged.is_empty() {
        return Ok(changes);
    }
    let mut merged_trees = Vec::with_capacity(merged.len());
    for id in &merged {
        let tree = repo
            .find_commit(*id)
            .and_then(|c| c.tree_id())
            .map_err(|e| GitError::Revision {
                spec: format!("MERGE_HEAD {id}"),
                message: e.to_string(),
            })?;
        merged_trees.push(tree.detach());
    }
    let mut kept = Vec::with_capacity(changes.len());
    'changes: for mut change in changes {
        for tree in &merged_trees {
            if let Some(entry) = entry_at_path(repo, *tree, &change.path)? {
                if entry.id == change.id {
                    continue 'changes;
                }
                if entry.mode.is_blob_or_symlink() {
                    change.olds.push(entry.id);
                }
            }
        }
        kept.push(change);
    }
    Ok(kept)
}

/// Scans collected changes.
pub fn scan_changes(
    repo: &gix::Repository,
    scanner: &Scanner,
    changes: &[PendingChange],
    max_blob_bytes: u64,
) -> Result<ScanOutcome, GitError> {
    let mut blobs = ChangeScanner::new(repo, scanner, max_blob_bytes);
    let mut changes = changes.to_vec();
    blobs.scan_names(&mut changes)?;
    for change in &changes {
        blobs.scan_change(change)?;
    }
    Ok(blobs.outcome)
}

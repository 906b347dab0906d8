//! The pre-commit source: what the index adds relative to `HEAD`.
//!
//! The index is read directly (honouring `GIT_INDEX_FILE`, without hashing the whole file; in
//! place when its format allows, see [`crate::git::index_file`]). Its
//! cache-tree (the TREE extension) is walked beside the `HEAD` tree: a directory whose cache-tree id
//! equals the `HEAD` subtree id is unchanged and never entered, as git's own unpack-trees does; a
//! valid cache-tree with another id is what `git commit` records for that directory, whatever the
//! entries under it say, and is compared as a tree; the entries of other directories are compared
//! one by one. During a merge (`MERGE_HEAD`), a line
//! counts only when it is in neither parent.

use std::cmp::Ordering;
use std::ops::Range;

use gix::hash::ObjectId;
use gix::index::entry::{Mode, Stage};
use gix::index::extension::Tree as CacheTree;
use gix::objs::tree::{EntryKind, EntryMode, EntryRef};
use gix::objs::TreeRefIter;

use crate::git::changes::{
    detect_renames, scan_changes_parallel, ChangeScanner, PendingChange, PARALLEL_MIN_CHANGES,
};
use crate::git::index_file::{has_unreadable_cache_tree, MappedIndex, StagedIndex};
use crate::git::objects::{entry_at_path, EntryName, TreeEntry};
use crate::git::tree_diff::{collect_deleted, diff_entry, diff_trees, Deleted, TreeChanges};
use crate::git::GitError;
use crate::outcome::ScanOutcome;
use crate::scanner::Scanner;

/// Reads the index the hook must scan (an absent file is an empty index): mapped in place when
/// it is a version 2 or 3 index of a SHA-1 repository ([`MappedIndex`]), else decoded by gix.
pub fn read_index(repo: &gix::Repository) -> Result<StagedIndex, GitError> {
    let path = repo.index_path();
    if !path.exists() {
        return Ok(StagedIndex::Decoded(Box::new(
            gix::index::File::from_state(gix::index::State::new(repo.object_hash()), path),
        )));
    }
    if repo.object_hash() == gix::hash::Kind::Sha1 {
        if let Some(mapped) = MappedIndex::open(&path) {
            return Ok(StagedIndex::Mapped(mapped));
        }
    }
    let error = |message: String| GitError::Index {
        path: path.display().to_string(),
        message,
    };
    let file = gix::index::File::at(&path, repo.object_hash(), true, Default::default())
        .map_err(|e| error(e.to_string()))?;
    if file.tree().is_none() {
        // git may read and trust a cache-tree gix drops (see `has_unreadable_cache_tree`).
        let data = std::fs::read(&path).map_err(|e| error(e.to_string()))?;
        if has_unreadable_cache_tree(&data) {
            return Err(error(
                "its cache-tree (TREE extension) does not parse; \
                 `git update-index --force-write-index` rewrites it"
                    .into(),
            ));
        }
    }
    Ok(StagedIndex::Decoded(Box::new(file)))
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
    index: &StagedIndex,
    path: &str,
) -> Result<Option<Vec<u8>>, GitError> {
    let Some(id) = index.id_by_path(path.as_bytes()) else {
        return Ok(None);
    };
    let mut object = repo.find_object(id).map_err(|e| GitError::Object {
        what: format!("blob {id}"),
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
    index: &StagedIndex,
    head: Option<ObjectId>,
) -> Result<(Vec<PendingChange>, Vec<Deleted>), GitError> {
    let mut walker = Walker {
        repo,
        index,
        changes: TreeChanges::default(),
        buffers: Vec::new(),
    };
    walker.walk(0..index.len(), 0, head, index.tree())?;
    let changes = walker
        .changes
        .changed
        .into_iter()
        .map(crate::git::commits::pending)
        .collect();
    Ok((changes, walker.changes.deleted))
}

/// A sorted merge of index entries with `HEAD` trees, one directory at a time: tree entries are
/// read in place from the raw tree object, nothing that is equal is copied.
struct Walker<'a> {
    repo: &'a gix::Repository,
    index: &'a StagedIndex,
    changes: TreeChanges,
    /// Raw tree buffers, reused from one directory to the next.
    buffers: Vec<Vec<u8>>,
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

/// Git's order of tree entries: names compared as if a directory's ended with `/`; the index is
/// sorted the same way.
fn tree_order(a: &[u8], a_dir: bool, b: &[u8], b_dir: bool) -> Ordering {
    let n = a.len().min(b.len());
    a[..n].cmp(&b[..n]).then_with(|| {
        let a_next = a.get(n).copied().or(a_dir.then_some(b'/'));
        let b_next = b.get(n).copied().or(b_dir.then_some(b'/'));
        a_next.cmp(&b_next)
    })
}

fn owned(entry: &EntryRef<'_>) -> TreeEntry {
    TreeEntry {
        name: EntryName::new(entry.filename),
        mode: entry.mode,
        id: entry.oid.to_owned(),
    }
}

fn join(dir: &[u8], name: &[u8]) -> Vec<u8> {
    let mut path = Vec::with_capacity(dir.len() + name.len() + 1);
    path.extend_from_slice(dir);
    if !dir.is_empty() {
        path.push(b'/');
    }
    path.extend_from_slice(name);
    path
}

impl Walker<'_> {
    /// Compares `entries` (all under one directory, whose path prefix is `prefix_len` bytes long
    /// including its `/`) with the `HEAD` tree of that directory, in one sorted merge.
    fn walk(
        &mut self,
        entries: Range<usize>,
        prefix_len: usize,
        head: Option<ObjectId>,
        cache: Option<&CacheTree>,
    ) -> Result<(), GitError> {
        if let (Some(cache), Some(head)) = (cache, head) {
            if cache.num_entries == Some(entries.len() as u32) && cache.id == head {
                return Ok(());
            }
        }
        let index = self.index;
        let dir = if entries.is_empty() {
            &[][..]
        } else {
            &index.path(entries.start)[..prefix_len.saturating_sub(1)]
        };
        if let Some(cache) = cache.filter(|c| c.num_entries.is_some() && Some(c.id) != head) {
            // git commits a valid cache-tree's id as it is, without reading the entries under it
            // (it recomputes only a tree whose object is missing): compare that tree.
            if self.repo.has_object(cache.id) {
                return diff_trees(self.repo, head, cache.id, dir, &mut self.changes);
            }
        }
        if entries.is_empty() {
            return self.gone_tree(head);
        }
        let data = self.tree_bytes(head)?;
        let mut tree = TreeRefIter::from_bytes(&data, self.repo.object_hash());
        let mut next = next_entry(&mut tree, head)?;
        let mut i = entries.start;
        while i < entries.end {
            let path = index.path(i);
            let rest = &path[prefix_len.min(path.len())..];
            let (name, end) = match memchr::memchr(b'/', rest) {
                Some(slash) => {
                    let under = &path[..=prefix_len + slash];
                    let end = index.partition_point(i..entries.end, |p| p.starts_with(under));
                    (&rest[..slash], Some(end))
                }
                None => (rest, None),
            };
            let is_dir = end.is_some();
            let before = self.catch_up(&mut tree, &mut next, head, dir, Some((name, is_dir)))?;
            match end {
                Some(end) => {
                    self.directory(
                        i..end,
                        prefix_len,
                        name,
                        before.map(|b| b.oid.to_owned()),
                        cache,
                    )?;
                    i = end;
                }
                None => {
                    self.file(i, path, before.as_ref())?;
                    i += 1;
                }
            }
        }
        self.catch_up(&mut tree, &mut next, head, dir, None)?;
        self.buffers.push(data);
        Ok(())
    }

    /// Moves `next` past the `HEAD` entries that sort before `item` (all of them for `None`):
    /// they are gone from the index. Returns the entry that `item` replaces, if any.
    fn catch_up<'t>(
        &mut self,
        tree: &mut TreeRefIter<'t>,
        next: &mut Option<EntryRef<'t>>,
        head: Option<ObjectId>,
        dir: &[u8],
        item: Option<(&[u8], bool)>,
    ) -> Result<Option<EntryRef<'t>>, GitError> {
        let order = |t: &EntryRef<'_>| match item {
            Some((name, is_dir)) => tree_order(t.filename, t.mode.is_tree(), name, is_dir),
            None => Ordering::Less,
        };
        while let Some(gone) = next.as_ref().filter(|t| order(t).is_lt()) {
            let path = join(dir, gone.filename);
            collect_deleted(self.repo, &owned(gone), path, &mut self.changes)?;
            *next = next_entry(tree, head)?;
        }
        let same = next.take_if(|t| order(t).is_eq());
        if same.is_some() {
            *next = next_entry(tree, head)?;
        }
        Ok(same)
    }

    /// The index entries under directory `name` (`head`: the `HEAD` tree there, if any).
    fn directory(
        &mut self,
        entries: Range<usize>,
        prefix_len: usize,
        name: &[u8],
        head: Option<ObjectId>,
        cache: Option<&CacheTree>,
    ) -> Result<(), GitError> {
        let dir_len = prefix_len + name.len() + 1;
        if entries.len() == 1 {
            let (index, only) = (self.index, entries.start);
            let path = index.path(only);
            if path.len() == dir_len && index.mode(only).bits() == Mode::DIR.bits() {
                // A sparse-index directory entry: compare the trees.
                let dir = &path[..dir_len - 1];
                let id = index.id(only).to_owned();
                return diff_trees(self.repo, head, id, dir, &mut self.changes);
            }
        }
        let cache = cache.and_then(|c| c.children.iter().find(|t| t.name.as_slice() == name));
        self.walk(entries, dir_len, head, cache)
    }

    /// One index entry against the `HEAD` entry of the same name, if any.
    fn file(
        &mut self,
        entry: usize,
        path: &[u8],
        before: Option<&EntryRef<'_>>,
    ) -> Result<(), GitError> {
        let index = self.index;
        if index.stage(entry) != Stage::Unconflicted || index.intent_to_add(entry) {
            return Ok(());
        }
        let id = index.id(entry);
        if before.is_some_and(|b| b.oid == id) {
            return Ok(());
        }
        let name = path.rsplit(|&b| b == b'/').next().unwrap_or(path);
        let new = TreeEntry {
            name: EntryName::new(name),
            mode: tree_mode(index.mode(entry)),
            id: id.to_owned(),
        };
        let before = before.map(owned);
        diff_entry(
            self.repo,
            before.as_ref(),
            &new,
            path.to_vec(),
            &mut self.changes,
        )
    }

    /// Everything in the `HEAD` tree, when the index is empty.
    fn gone_tree(&mut self, head: Option<ObjectId>) -> Result<(), GitError> {
        let Some(id) = head else { return Ok(()) };
        let gone = TreeEntry {
            name: EntryName::new(b""),
            mode: EntryKind::Tree.into(),
            id,
        };
        collect_deleted(self.repo, &gone, Vec::new(), &mut self.changes)
    }

    /// The raw bytes of tree `head` (empty for none), in a reused buffer.
    fn tree_bytes(&mut self, head: Option<ObjectId>) -> Result<Vec<u8>, GitError> {
        let mut buf = self.buffers.pop().unwrap_or_default();
        buf.clear();
        let Some(id) = head else { return Ok(buf) };
        let error = |message: String| GitError::Object {
            what: format!("tree {id}"),
            commit: None,
            path: None,
            message,
        };
        let found = gix::objs::Find::try_find(&self.repo.objects, &id, &mut buf)
            .map_err(|e| error(e.to_string()))?
            .map(|data| (data.kind, data.data.len()));
        match found {
            Some((gix::objs::Kind::Tree, len)) => {
                buf.truncate(len);
                Ok(buf)
            }
            Some((kind, _)) => Err(error(format!("expected a tree, found a {kind}"))),
            None => Err(error("object not found".into())),
        }
    }
}

/// The next entry of `HEAD` tree `head`.
fn next_entry<'t>(
    tree: &mut TreeRefIter<'t>,
    head: Option<ObjectId>,
) -> Result<Option<EntryRef<'t>>, GitError> {
    tree.next().transpose().map_err(|e| GitError::Object {
        what: format!(
            "tree {}",
            head.unwrap_or_else(|| ObjectId::null(gix::hash::Kind::Sha1))
        ),
        commit: None,
        path: None,
        message: e.to_string(),
    })
}

/// What the index adds relative to `HEAD`, ready to scan: exact renames dropped, renamed-and-
/// edited files paired with their old version, and during a merge each change paired with the
/// merged commits' versions (a change identical to one of them brings nothing new).
///
/// `path_allowed` tells the config's allowed paths (`allow.paths`): nothing moved out of them
/// counts as a rename.
pub fn collect_staged(
    repo: &gix::Repository,
    index: &StagedIndex,
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
    let mut scan = ChangeScanner::new(repo, scanner, max_blob_bytes);
    let mut changes = changes.to_vec();
    scan.scan_names(&mut changes)?;
    if changes.len() < PARALLEL_MIN_CHANGES {
        for change in &changes {
            scan.scan_change(change)?;
        }
        return Ok(scan.outcome);
    }
    let mut outcome = scan.outcome;
    outcome.merge(scan_changes_parallel(
        repo,
        scanner,
        max_blob_bytes,
        None,
        &changes,
    )?);
    Ok(outcome)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::git_command;
    use std::path::Path;

    fn git(dir: &Path, args: &[&str], input: Option<&str>) -> String {
        let mut cmd = git_command(dir, args);
        cmd.env("GIT_AUTHOR_NAME", "a")
            .env("GIT_AUTHOR_EMAIL", "a@example.invalid")
            .env("GIT_COMMITTER_NAME", "c")
            .env("GIT_COMMITTER_EMAIL", "c@example.invalid")
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped());
        let mut child = cmd.spawn().unwrap();
        if let Some(text) = input {
            use std::io::Write as _;
            child
                .stdin
                .take()
                .unwrap()
                .write_all(text.as_bytes())
                .unwrap();
        }
        let out = child.wait_with_output().unwrap();
        assert!(out.status.success(), "git {args:?} failed");
        String::from_utf8(out.stdout).unwrap()
    }

    fn write(dir: &Path, path: &str, text: &str) {
        let path = dir.join(path);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }

    /// What the walk reports, as `git diff --cached --no-renames --name-status` would list it
    /// (added or modified paths, and deleted ones), sorted.
    /// Both readers of the index (mapped in place, decoded by gix) must walk the same.
    fn walked(dir: &Path) -> Vec<String> {
        let repo = gix::open(dir).unwrap();
        let mapped = read_index(&repo).unwrap();
        assert!(matches!(mapped, StagedIndex::Mapped(_)));
        let path = repo.index_path();
        let decoded = gix::index::File::at(&path, repo.object_hash(), true, Default::default());
        let decoded = StagedIndex::Decoded(Box::new(decoded.unwrap()));
        let by_mapped = walked_with(&repo, &mapped);
        assert_eq!(by_mapped, walked_with(&repo, &decoded));
        by_mapped
    }

    fn walked_with(repo: &gix::Repository, index: &StagedIndex) -> Vec<String> {
        let head = head_tree(repo).unwrap();
        let (changes, deleted) = staged_changes(repo, index, head).unwrap();
        let mut out: Vec<String> = changes
            .iter()
            .map(|c| String::from_utf8_lossy(&c.path).into_owned())
            .chain(
                deleted
                    .iter()
                    .map(|d| format!("-{}", String::from_utf8_lossy(&d.path))),
            )
            .collect();
        out.sort();
        out
    }

    /// `--name-status` lines as [`walked`] lists paths: added or modified ones, deleted ones
    /// with a `-`, sorted.
    fn name_status(text: &str) -> Vec<String> {
        let mut out: Vec<String> = text
            .lines()
            .map(|l| {
                let (status, path) = l.split_once('\t').unwrap();
                match status {
                    "D" => format!("-{path}"),
                    _ => path.to_string(),
                }
            })
            .collect();
        out.sort();
        out
    }

    fn git_says(dir: &Path) -> Vec<String> {
        let text = git(
            dir,
            &["diff", "--cached", "--no-renames", "--name-status"],
            None,
        );
        name_status(&text)
    }

    #[test]
    fn the_merge_walk_agrees_with_git_with_and_without_a_cache_tree() {
        let dir = std::env::temp_dir().join(format!("leakgate-staged-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        git(&dir, &["init", "-q"], None);
        for path in [
            "a-b",
            "a/x",
            "a/y/z",
            "a.c",
            "a0",
            "b/c/d/e",
            "dir-to-file/f",
            "file-to-dir",
            "gone/one",
            "gone/two/three",
            "keep/same",
            "m/n",
            "z",
        ] {
            write(&dir, path, &format!("{path}\n"));
        }
        git(&dir, &["add", "-A"], None);
        git(&dir, &["commit", "-q", "-m", "base"], None);
        // Changes: modified at several depths, D/F swaps both ways, a deleted tree, new names
        // that sort around `/` (`a-b2`, `a.d`, `a/0`), a new nested directory.
        write(&dir, "a/y/z", "changed\n");
        write(&dir, "b/c/d/e", "changed too\n");
        write(&dir, "a-b2", "new\n");
        write(&dir, "a.d", "new\n");
        write(&dir, "a/0", "new\n");
        write(&dir, "new/deep/er/file", "new\n");
        std::fs::remove_dir_all(dir.join("dir-to-file")).unwrap();
        write(&dir, "dir-to-file", "now a file\n");
        std::fs::remove_file(dir.join("file-to-dir")).unwrap();
        write(&dir, "file-to-dir/inner", "now a dir\n");
        std::fs::remove_dir_all(dir.join("gone")).unwrap();
        std::fs::remove_file(dir.join("z")).unwrap();
        git(&dir, &["add", "-A"], None);
        let expected = git_says(&dir);
        assert!(expected.len() >= 12, "{expected:?}");
        assert_eq!(walked(&dir), expected, "with a cache-tree");
        // The same entries in an index without a cache-tree.
        let entries = git(&dir, &["ls-files", "-s"], None);
        std::fs::remove_file(dir.join(".git/index")).unwrap();
        git(&dir, &["update-index", "--index-info"], Some(&entries));
        let raw = std::fs::read(dir.join(".git/index")).unwrap();
        assert!(memchr::memmem::find(&raw, b"TREE").is_none());
        assert_eq!(walked(&dir), expected, "without a cache-tree");
        // Nothing staged: nothing reported, with or without a cache-tree.
        git(&dir, &["commit", "-q", "-m", "next"], None);
        assert_eq!(walked(&dir), Vec::<String>::new());
        git(&dir, &["read-tree", "HEAD"], None);
        assert_eq!(walked(&dir), Vec::<String>::new());
        let _ = std::fs::remove_dir_all(&dir);
    }

    /// What `git commit` would record, as [`git_says`] lists it: the tree `git write-tree` builds
    /// from a copy of the index (the same cache-tree update a commit runs) against `HEAD`.
    fn git_commits(dir: &Path) -> Vec<String> {
        let copy = dir.join(".git/index.oracle");
        std::fs::copy(dir.join(".git/index"), &copy).unwrap();
        let out = git_command(dir, &["write-tree"])
            .env("GIT_INDEX_FILE", &copy)
            .output()
            .unwrap();
        assert!(out.status.success(), "write-tree: {out:?}");
        let _ = std::fs::remove_file(&copy);
        let tree = String::from_utf8(out.stdout).unwrap();
        let text = git(
            dir,
            &[
                "diff-tree",
                "-r",
                "--no-renames",
                "--name-status",
                "HEAD",
                tree.trim(),
            ],
            None,
        );
        name_status(&text)
    }

    /// Replaces the index's extensions with one TREE extension of `tree` bytes (git's format:
    /// `name NUL count SP subtrees LF [id]` per node, depth first), and a null trailing hash (as
    /// `index.skipHash` writes, which git and gix accept unchecked).
    fn with_cache_tree(dir: &Path, tree: &[u8]) {
        let path = dir.join(".git/index");
        let data = std::fs::read(&path).unwrap();
        let at = memchr::memmem::find(&data, b"TREE").expect("a TREE extension");
        let mut out = data[..at].to_vec();
        out.extend_from_slice(b"TREE");
        out.extend_from_slice(&(tree.len() as u32).to_be_bytes());
        out.extend_from_slice(tree);
        out.extend_from_slice(&[0; 20]);
        std::fs::write(&path, out).unwrap();
    }

    fn node(name: &str, count: i32, subtrees: usize, id: Option<&str>) -> Vec<u8> {
        let mut out = format!("{name}\0{count} {subtrees}\n").into_bytes();
        if let Some(id) = id {
            out.extend_from_slice(ObjectId::from_hex(id.as_bytes()).unwrap().as_bytes());
        }
        out
    }

    /// A repository whose `HEAD` holds `a/x` and `top`, whose index holds the same entries with a
    /// cache-tree, and a tree (returned with `HEAD:a`) that also holds `a/new`: a cache-tree can
    /// claim it while the entries stay as `HEAD` has them.
    fn lying_cache_tree_repo(name: &str) -> (std::path::PathBuf, String, String) {
        let dir =
            std::env::temp_dir().join(format!("leakgate-staged-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        git(&dir, &["init", "-q"], None);
        write(&dir, "a/x", "x\n");
        write(&dir, "top", "top\n");
        git(&dir, &["add", "-A"], None);
        git(&dir, &["commit", "-q", "-m", "base"], None);
        write(&dir, "a/new", "new\n");
        git(&dir, &["add", "a/new"], None);
        let claimed = git(&dir, &["write-tree"], None).trim().to_string();
        git(&dir, &["rm", "-q", "--cached", "a/new"], None);
        git(&dir, &["write-tree"], None);
        let a = git(&dir, &["rev-parse", "HEAD:a"], None).trim().to_string();
        (dir, claimed, a)
    }

    #[test]
    fn a_valid_cache_tree_is_what_git_commits_even_when_the_entries_differ() {
        let (dir, claimed, a) = lying_cache_tree_repo("lying");
        // The root is valid and names the tree with `a/new`: git commits that tree as it is.
        let mut tree = node("", 2, 1, Some(&claimed));
        tree.extend(node("a", 1, 0, Some(&a)));
        with_cache_tree(&dir, &tree);
        let expected = git_commits(&dir);
        assert_eq!(expected, ["a/new"]);
        assert_eq!(walked(&dir), expected);
        // The same tree claimed by the cache-tree of an index without entries.
        git(&dir, &["rm", "-q", "-r", "--cached", "."], None);
        git(&dir, &["write-tree"], None);
        with_cache_tree(&dir, &node("", 0, 0, Some(&claimed)));
        let expected = git_commits(&dir);
        assert_eq!(expected, ["a/new"]);
        assert_eq!(walked(&dir), expected);
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn a_cache_tree_git_reads_and_gix_does_not_stops_the_hook() {
        let (dir, claimed, a) = lying_cache_tree_repo("lenient");
        let mut tree = node("", 2, 1, Some(&claimed));
        tree.extend(node("a", 1, 0, Some(&a)));
        // git reads counts with `strtol`, skips to the end of the line and ignores bytes after the
        // root; gix reads none of these, and a walk without the cache-tree would miss `a/new`.
        let junk_in_line = {
            let mut t = b"\x002 1 junk\n".to_vec();
            t.extend_from_slice(&tree[5..]);
            t
        };
        let trailing = [tree.as_slice(), b"junk"].concat();
        for version in ["2", "4"] {
            for bytes in [&junk_in_line, &trailing] {
                git(&dir, &["update-index", "--index-version", version], None);
                git(&dir, &["write-tree"], None);
                with_cache_tree(&dir, bytes);
                assert_eq!(git_commits(&dir), ["a/new"], "version {version}");
                let repo = gix::open(&dir).unwrap();
                let read = read_index(&repo).map(|index| walked_with(&repo, &index));
                assert!(read.is_err(), "version {version}: {read:?}");
                // What the error says to run: git writes the cache-tree as it read it.
                git(&dir, &["update-index", "--force-write-index"], None);
                let index = read_index(&repo).unwrap();
                assert_eq!(walked_with(&repo, &index), ["a/new"], "version {version}");
            }
        }
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn many_changes_scanned_on_all_cores_give_the_one_thread_outcome() {
        let dir = std::env::temp_dir().join(format!("leakgate-staged-par-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        git(&dir, &["init", "-q"], None);
        write(&dir, "base.txt", "base\n");
        git(&dir, &["add", "-A"], None);
        git(&dir, &["commit", "-q", "-m", "base"], None);
        // 40 files: every third holds a token (built here, not a literal), some share content.
        for i in 0..40 {
            let body = if i % 3 == 0 {
                format!("line {i}\nkey = acme_{:0>16}\n", i % 9)
            } else {
                format!("plain {}\n", i % 7)
            };
            write(&dir, &format!("d{}/f{i}.txt", i % 4), &body);
        }
        git(&dir, &["add", "-A"], None);
        let repo = gix::open(&dir).unwrap();
        let index = read_index(&repo).unwrap();
        let changes = collect_staged(&repo, &index, 1 << 20, &|_| false).unwrap();
        assert_eq!(changes.len(), 40);
        let scanner = crate::scanner::test_scanner(crate::scanner::TEST_RULES);
        let parallel = scan_changes(&repo, &scanner, &changes, 1 << 20).unwrap();
        let mut one = ChangeScanner::new(&repo, &scanner, 1 << 20);
        let mut serial_changes = changes.clone();
        one.scan_names(&mut serial_changes).unwrap();
        for c in &serial_changes {
            one.scan_change(c).unwrap();
        }
        let show = |o: &ScanOutcome| {
            let found: Vec<String> = o
                .findings
                .iter()
                .map(|f| format!("{}:{}", String::from_utf8_lossy(&f.path), f.line))
                .collect();
            (found, o.blobs, o.bytes, o.skipped.len())
        };
        assert_eq!(show(&parallel), show(&one.outcome));
        assert_eq!(parallel.findings.len(), 14, "{:?}", show(&parallel));
        let _ = std::fs::remove_dir_all(&dir);
    }
}

//! The history source: the added lines of a set of commits, each against its parent(s), plus their
//! messages. Shared by `pre-push`, `scan --range` and the server's `pre-receive`.
//!
//! A root commit is all added. A commit with parents contributes the lines added relative to
//! **every** parent: a path counts only when it differs from all parents (trees are compared per
//! parent, so a clean merge of accepted history costs only tree diffs), and then only the lines none
//! of the parents' versions has — which catches evil merges and conflict resolutions.

use std::collections::HashMap;

use gix::hash::ObjectId;

use crate::added::AddedText;
use crate::git::changes::{detect_renames_except, ChangeScanner, PendingChange};
use crate::git::tree_diff::{diff_trees, TreeChanges};
use crate::git::GitError;

/// Path shown for a commit message.
pub const COMMIT_MESSAGE_PATH: &str = "(commit message)";
/// Path shown for a commit's header lines (author, committer, signatures, extra headers).
pub const COMMIT_HEADER_PATH: &str = "(commit author/committer)";

fn revision_error(spec: impl Into<String>, e: impl std::fmt::Display) -> GitError {
    GitError::Revision {
        spec: spec.into(),
        message: e.to_string(),
    }
}

/// Whether `id` names a commit in `repo`.
pub fn is_commit(repo: &gix::Repository, id: ObjectId) -> bool {
    repo.find_header(id)
        .is_ok_and(|h| h.kind() == gix::objs::Kind::Commit)
}

/// The commit `id` names, peeling annotated tags; `None` for trees and blobs.
pub fn peel_to_commit(repo: &gix::Repository, id: ObjectId) -> Option<ObjectId> {
    let object = repo.find_object(id).ok()?.peel_tags_to_end().ok()?;
    (object.kind == gix::objs::Kind::Commit).then_some(object.id)
}

/// Tag chains longer than this are refused (git itself peels at most a few levels in practice).
pub const MAX_TAG_DEPTH: usize = 1000;

/// What one pushed ref value brings, besides the commits reachable from it.
#[derive(Debug, Default)]
pub struct PushedValue {
    /// The commit it leads to (annotated tags peeled), if any.
    pub commit: Option<ObjectId>,
    /// Texts to scan: the ref's name, and each annotated tag's header (tag name, tagger) and
    /// message on the way.
    pub units: Vec<AddedText>,
    /// A blob it leads to (the whole blob is new), or the blobs of a tree it leads to (the
    /// tree against nothing), as changes to scan.
    pub objects: Vec<PendingChange>,
}

/// Follows a pushed ref value through any number of annotated tags to what it names: a commit
/// (whose history the caller walks), a blob or a tree (whose content is new). Every tag's
/// header and message is collected for scanning, and so is the ref name.
pub fn peel_pushed(
    repo: &gix::Repository,
    mut id: ObjectId,
    ref_name: &str,
) -> Result<PushedValue, GitError> {
    let shown = crate::report::sanitize::sanitize(ref_name);
    let mut pushed = PushedValue::default();
    // The path does not repeat the name: a secret in a ref name is shown redacted only.
    pushed.units.push(AddedText::whole(
        b"(pushed ref name)".to_vec(),
        ref_name.as_bytes().to_vec(),
    ));
    for _ in 0..MAX_TAG_DEPTH {
        let object = repo.find_object(id).map_err(|e| GitError::Object {
            what: format!("object {id} of {shown}"),
            commit: None,
            path: None,
            message: e.to_string(),
        })?;
        match object.kind {
            gix::objs::Kind::Commit => {
                pushed.commit = Some(id);
                return Ok(pushed);
            }
            gix::objs::Kind::Tag => {
                id = tag_units(object, &shown, &mut pushed.units)?;
            }
            gix::objs::Kind::Blob => {
                pushed.objects.push(PendingChange {
                    path: format!("{shown} (blob {id})").into_bytes(),
                    id,
                    mode: gix::objs::tree::EntryKind::Blob.into(),
                    olds: Vec::new(),
                    commit: None,
                    name_only: false,
                });
                return Ok(pushed);
            }
            gix::objs::Kind::Tree => {
                pushed.objects = tree_changes(repo, id, &shown)?;
                return Ok(pushed);
            }
        }
    }
    Err(GitError::Object {
        what: format!("object {id} of {shown}"),
        commit: None,
        path: None,
        message: format!("a chain of more than {MAX_TAG_DEPTH} annotated tags"),
    })
}

/// Collects an annotated tag's header (tag name, tagger) and message as texts of the ref `shown`;
/// returns the object it points at.
fn tag_units(
    object: gix::Object<'_>,
    shown: &str,
    units: &mut Vec<AddedText>,
) -> Result<ObjectId, GitError> {
    let id = object.id;
    let (header, message) = split_header(&object.data);
    let mut unit = AddedText::whole(
        format!("(tag header {shown})").into_bytes(),
        identity_lines(header, &["object", "type"]),
    );
    unit.commit = Some(id.to_string());
    units.push(unit);
    let mut unit = AddedText::whole(
        format!("(tag message {shown})").into_bytes(),
        message.to_vec(),
    );
    unit.commit = Some(id.to_string());
    units.push(unit);
    let target = object
        .into_tag()
        .decode()
        .map_err(|e| GitError::Object {
            what: format!("tag {id}"),
            commit: None,
            path: None,
            message: e.to_string(),
        })?
        .target();
    Ok(target)
}

/// The blobs of a pushed tree (against nothing), their paths prefixed with the ref `shown`.
fn tree_changes(
    repo: &gix::Repository,
    id: ObjectId,
    shown: &str,
) -> Result<Vec<PendingChange>, GitError> {
    let mut all = TreeChanges::default();
    let prefix = format!("{shown}:");
    diff_trees(repo, None, id, b"", &mut all)?;
    Ok(all
        .changed
        .into_iter()
        .map(|c| {
            let mut change = pending(c);
            change.path.splice(0..0, prefix.bytes());
            change
        })
        .collect())
}

/// Scans what pushed ref values bring besides their commits' history: their texts (ref names,
/// tag headers and messages) and the blobs and trees they name.
pub fn scan_pushed_values(
    scan: &mut ChangeScanner<'_>,
    values: &[PushedValue],
) -> Result<(), GitError> {
    for value in values {
        for unit in &value.units {
            scan.scan_unit(unit)?;
        }
        for change in &value.objects {
            scan.scan_change(change)?;
        }
    }
    Ok(())
}

/// Splits a raw commit or tag object into its header and its message.
pub fn split_header(raw: &[u8]) -> (&[u8], &[u8]) {
    if raw.starts_with(b"\n") {
        return (&[], &raw[1..]);
    }
    match memchr::memmem::find(raw, b"\n\n") {
        Some(i) => (&raw[..=i], &raw[i + 2..]),
        None => (raw, &[]),
    }
}

/// The header lines of a commit or tag besides its object ids (`tree`, `parent`, and those in
/// `skip`): author, committer, tagger, the tag name, signatures (`gpgsig`, `mergetag`: anything
/// can be written there) and any unknown extra header.
pub fn identity_lines(header: &[u8], skip: &[&str]) -> Vec<u8> {
    const IDS: [&str; 2] = ["tree", "parent"];
    let mut out = Vec::new();
    let mut keep = false;
    for line in header.split_inclusive(|&b| b == b'\n') {
        if !line.starts_with(b" ") {
            let key = line.split(|&b| b == b' ').next().unwrap_or_default();
            let key = std::str::from_utf8(key).unwrap_or("");
            keep = !IDS.contains(&key) && !skip.contains(&key);
        }
        if keep {
            out.extend_from_slice(line);
        }
    }
    out
}

/// The commits that the refs under `prefix` (e.g. `refs/remotes/`, or `refs/` for all) point at,
/// peeled; refs to other objects are left out.
pub fn ref_tips(repo: &gix::Repository, prefix: &str) -> Result<Vec<ObjectId>, GitError> {
    let platform = repo.references().map_err(|e| revision_error("refs", e))?;
    let iter = platform
        .all()
        .map_err(|e| revision_error("refs", e))?
        .peeled()
        .map_err(|e| revision_error("refs", e))?;
    let mut tips = Vec::new();
    for reference in iter {
        let Ok(reference) = reference else { continue };
        if !reference.name().as_bstr().starts_with(prefix.as_bytes()) {
            continue;
        }
        if let Some(id) = reference.try_id() {
            let id = id.detach();
            if is_commit(repo, id) {
                tips.push(id);
            }
        }
    }
    tips.sort();
    tips.dedup();
    Ok(tips)
}

/// Commits reachable from `tips` and from none of `hidden` (like `git rev-list TIPS --not HIDDEN`),
/// parents before children. One walk for all of `hidden`, which ends as soon as the new commits
/// are settled ([`crate::git::walk`]).
pub fn new_commits(
    repo: &gix::Repository,
    tips: &[ObjectId],
    hidden: &[ObjectId],
) -> Result<Vec<ObjectId>, GitError> {
    let hidden: Vec<ObjectId> = hidden
        .iter()
        .filter_map(|h| peel_to_commit(repo, *h))
        .collect();
    crate::git::walk::Existing::from_refs(hidden).new_commits(repo, tips)
}

/// Scans commits (and their messages) into `scan.outcome`.
pub fn scan_commits(scan: &mut ChangeScanner<'_>, commits: &[ObjectId]) -> Result<(), GitError> {
    for &id in commits {
        scan.check_deadline()?;
        scan_commit(scan, id)?;
        scan.count_commit();
    }
    Ok(())
}

fn object_error(what: String, commit: ObjectId, e: impl std::fmt::Display) -> GitError {
    GitError::Object {
        what,
        commit: Some(commit.to_string()),
        path: None,
        message: e.to_string(),
    }
}

/// Scans one commit against its parents, and its message and identities.
pub fn scan_commit(scan: &mut ChangeScanner<'_>, id: ObjectId) -> Result<(), GitError> {
    scan_commit_with(scan, id, None)
}

/// [`scan_commit`] with the commit's changes already listed ([`commit_changes`]), or listed here
/// when `known` is `None`.
pub fn scan_commit_with(
    scan: &mut ChangeScanner<'_>,
    id: ObjectId,
    known: Option<CommitChanges>,
) -> Result<(), GitError> {
    let repo = scan.repo;
    let data = match crate::git::objects::sourced_commit_bytes(&id) {
        Some(bytes) => bytes,
        None => {
            let commit = repo
                .find_commit(id)
                .map_err(|e| object_error(format!("commit {id}"), id, e))?;
            std::rc::Rc::new(commit.detach().data)
        }
    };
    let single_parent = gix::objs::CommitRefIter::from_bytes(&data, gix::hash::Kind::Sha1)
        .parent_ids()
        .nth(1)
        .is_none();
    let (header, message) = split_header(&data);
    let mut unit = AddedText::whole(COMMIT_MESSAGE_PATH, message.to_vec());
    unit.commit = Some(id.to_string());
    scan.scan_unit(&unit)?;
    let mut unit = AddedText::whole(COMMIT_HEADER_PATH, identity_lines(header, &[]));
    unit.commit = Some(id.to_string());
    scan.scan_unit(&unit)?;
    let CommitChanges {
        mut changes,
        deleted,
    } = match known {
        Some(known) => known,
        None => commit_changes(repo, id)?,
    };
    if single_parent {
        let scanner = scan.scanner;
        // A change known to scan clean yields nothing against any old version: not compared,
        // but still counted (the pair cap decides whether the others are compared at all).
        detect_renames_except(
            repo,
            scan.max_blob_bytes,
            &mut changes,
            &deleted,
            &|path| scanner.path_allowed(path),
            &|c| scan.is_known_clean(c),
        )?;
    }
    scan.scan_names(&mut changes)?;
    for change in &changes {
        scan.scan_change(change)?;
    }
    Ok(())
}

/// The changes commit `id` (tree `tree`) makes against every parent, before renames are detected,
/// with the tree diff against the first parent; `None` when its tree is a parent's.
fn changes_of(
    repo: &gix::Repository,
    id: ObjectId,
    tree: ObjectId,
    parents: &[ObjectId],
) -> Result<Option<(Vec<PendingChange>, TreeChanges)>, GitError> {
    let mut parent_trees = Vec::with_capacity(parents.len());
    for p in parents {
        if let Some((t, _)) = crate::git::objects::sourced_commit(p) {
            parent_trees.push(t);
            continue;
        }
        let parent = repo
            .find_commit(*p)
            .map_err(|e| object_error(format!("parent {p}"), id, e))?;
        let t = parent
            .tree_id()
            .map_err(|e| object_error(format!("the tree of parent {p}"), id, e))?;
        parent_trees.push(t.detach());
    }
    if parent_trees.contains(&tree) {
        return Ok(None);
    }
    let mut changes = changes_against_every_parent(repo, &parent_trees, tree)
        .map_err(|e| e.at(Some(&id.to_string()), None))?;
    for c in &mut changes.0 {
        c.commit = Some(id);
    }
    Ok(Some(changes))
}

/// What a commit changes against every parent, before renames are detected: the changes (new
/// blob and path of each as they will be scanned) and the blobs the first-parent diff deleted
/// (rename sources). Empty when the commit's tree is a parent's.
#[derive(Debug, Default)]
pub struct CommitChanges {
    /// The changes, each with the parents' versions of its path.
    pub changes: Vec<PendingChange>,
    /// Deleted against the first parent.
    pub deleted: Vec<crate::git::tree_diff::Deleted>,
}

/// The changes of commit `id` (see [`CommitChanges`]).
pub fn commit_changes(repo: &gix::Repository, id: ObjectId) -> Result<CommitChanges, GitError> {
    let (tree, parents) = match crate::git::objects::sourced_commit(&id) {
        Some(read) => read,
        None => {
            let commit = repo
                .find_commit(id)
                .map_err(|e| object_error(format!("commit {id}"), id, e))?;
            let tree = commit
                .tree_id()
                .map_err(|e| object_error(format!("the tree of commit {id}"), id, e))?
                .detach();
            (tree, commit.parent_ids().map(gix::Id::detach).collect())
        }
    };
    Ok(
        changes_of(repo, id, tree, &parents)?.map_or_else(CommitChanges::default, |c| {
            CommitChanges {
                changes: c.0,
                deleted: c.1.deleted,
            }
        }),
    )
}

/// The paths that differ from every parent, each with the parents' versions of it. With no parent,
/// everything is new.
fn changes_against_every_parent(
    repo: &gix::Repository,
    parent_trees: &[ObjectId],
    tree: ObjectId,
) -> Result<(Vec<PendingChange>, TreeChanges), GitError> {
    let Some((first, others)) = parent_trees.split_first() else {
        let mut all = TreeChanges::default();
        diff_trees(repo, None, tree, b"", &mut all)?;
        let changes = all.changed.drain(..).map(pending).collect();
        return Ok((changes, all));
    };
    let mut first_diff = TreeChanges::default();
    diff_trees(repo, Some(*first), tree, b"", &mut first_diff)?;
    let mut candidates: Vec<PendingChange> = first_diff.changed.drain(..).map(pending).collect();
    for other in others {
        if candidates.is_empty() {
            break;
        }
        let mut diff = TreeChanges::default();
        diff_trees(repo, Some(*other), tree, b"", &mut diff)?;
        let by_path: HashMap<Vec<u8>, Option<ObjectId>> =
            diff.changed.into_iter().map(|c| (c.path, c.old)).collect();
        candidates.retain_mut(|c| match by_path.get(&c.path) {
            None => false,
            Some(old) => {
                c.olds.extend(old.iter().copied());
                true
            }
        });
    }
    Ok((candidates, first_diff))
}

/// A tree-diff change as a change to scan (no commit attached yet).
pub(crate) fn pending(c: crate::git::tree_diff::Change) -> PendingChange {
    PendingChange {
        path: c.path,
        id: c.id,
        mode: c.mode,
        olds: c.old.into_iter().collect(),
        commit: None,
        name_only: false,
    }
}

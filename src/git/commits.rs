//! The history source: the added lines of a set of commits, each against its parent(s), plus their
//! messages. Shared by `pre-push`, `scan --range` and the server's `pre-receive`.
//!
//! A root commit is all added. A commit with parents contributes the lines added relative to
//! **every** parent: a path counts only when it differs from all parents (trees are compared per
//! parent, so a clean merge of accepted history costs only tree diffs), and then only the lines none
//! of the parents' versions has — which catches evil merges and conflict resolutions.

use std::collections::{HashMap, HashSet};

use gix::hash::ObjectId;

use crate::added::AddedText;
use crate::git::changes::{detect_renames, ChangeScanner, PendingChange};
use crate::git::tree_diff::{diff_trees, TreeChanges};
use crate::git::GitError;

/// Path shown for a commit message.
pub const COMMIT_MESSAGE_PATH: &str = "(commit message)";

fn revision_error(spec: impl Into<String>, e: impl std::fmt::Display) -> GitError {
    GitError::Revision {
        spec: spec.into(),
        message: e.to_string(),
    }
}

/// Whether `id` names a commit in `repo`.
pub fn is_commit(repo: &gix::Repository, id: ObjectId) -> bool {
    repo.find_header(id)
        .map(|h| h.kind() == gix::objs::Kind::Commit)
        .unwrap_or(false)
}

/// The commit `id` names, peeling annotated tags; `None` for trees and blobs.
pub fn peel_to_commit(repo: &gix::Repository, id: ObjectId) -> Option<ObjectId> {
    let object = repo.find_object(id).ok()?.peel_tags_to_end().ok()?;
    (object.kind == gix::objs::Kind::Commit).then_some(object.id)
}

/// Follows a pushed ref value: returns the commit it leads to (annotated tags peeled, possibly
/// several levels) and the messages of the annotated tags on the way, as units to scan (their
/// "commit" is the tag's id). Trees and blobs lead to no commit.
pub fn peel_pushed(
    repo: &gix::Repository,
    mut id: ObjectId,
    ref_name: &str,
) -> Result<(Option<ObjectId>, Vec<AddedText>), GitError> {
    let mut messages = Vec::new();
    for _ in 0..16 {
        let object = repo.find_object(id).map_err(|e| GitError::Object {
            what: format!(
                "object {id} of {}",
                crate::report::sanitize::sanitize(ref_name)
            ),
            commit: None,
            path: None,
            message: e.to_string(),
        })?;
        match object.kind {
            gix::objs::Kind::Commit => return Ok((Some(id), messages)),
            gix::objs::Kind::Tag => {
                let tag = object.into_tag();
                let decoded = tag.decode().map_err(|e| GitError::Object {
                    what: format!("tag {id}"),
                    commit: None,
                    path: None,
                    message: e.to_string(),
                })?;
                let mut unit = AddedText::whole(
                    format!("(tag message {ref_name})").into_bytes(),
                    decoded.message.to_vec(),
                );
                unit.commit = Some(id.to_string());
                messages.push(unit);
                id = decoded.target();
            }
            _ => return Ok((None, messages)),
        }
    }
    Ok((None, messages))
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
/// parents before children.
pub fn new_commits(
    repo: &gix::Repository,
    tips: &[ObjectId],
    hidden: &[ObjectId],
) -> Result<Vec<ObjectId>, GitError> {
    let tips: Vec<ObjectId> = tips
        .iter()
        .filter_map(|t| peel_to_commit(repo, *t))
        .collect();
    if tips.is_empty() {
        return Ok(Vec::new());
    }
    let hidden: Vec<ObjectId> = hidden
        .iter()
        .filter_map(|h| peel_to_commit(repo, *h))
        .collect();
    let walk = repo
        .rev_walk(tips.iter().copied())
        .with_hidden(hidden)
        .all()
        .map_err(|e| revision_error("the commits to scan", e))?;
    let mut commits = Vec::new();
    for info in walk {
        let info = info.map_err(|e| revision_error("the commits to scan", e))?;
        commits.push(info.id);
    }
    commits.reverse();
    Ok(commits)
}

/// Scans commits (and, when `messages`, their messages) into `blobs.outcome`.
pub fn scan_commits(
    blobs: &mut ChangeScanner<'_>,
    commits: &[ObjectId],
    messages: bool,
) -> Result<(), GitError> {
    for &id in commits {
        blobs.check_deadline()?;
        scan_commit(blobs, id, messages)?;
        blobs.count_commit();
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

/// Scans one commit against its parents.
pub fn scan_commit(
    blobs: &mut ChangeScanner<'_>,
    id: ObjectId,
    messages: bool,
) -> Result<(), GitError> {
    let repo = blobs.repo;
    let commit = repo
        .find_commit(id)
        .map_err(|e| object_error(format!("commit {id}"), id, e))?;
    let tree = commit
        .tree_id()
        .map_err(|e| object_error(format!("the tree of commit {id}"), id, e))?
        .detach();
    let parents: Vec<ObjectId> = commit.parent_ids().map(|p| p.detach()).collect();
    if messages {
        let message = commit
            .message_raw()
            .map_err(|e| object_error(format!("the message of commit {id}"), id, e))?;
        let mut unit = AddedText::whole(COMMIT_MESSAGE_PATH, message.to_vec());
        unit.commit = Some(id.to_string());
        blobs.scan_unit(&unit)?;
    }
    let mut parent_trees = Vec::with_capacity(parents.len());
    for p in &parents {
        let parent = repo
            .find_commit(*p)
            .map_err(|e| object_error(format!("parent {p}"), id, e))?;
        let t = parent
            .tree_id()
            .map_err(|e| object_error(format!("the tree of parent {p}"), id, e))?;
        parent_trees.push(t.detach());
    }
    if parent_trees.contains(&tree) {
        return Ok(());
    }
    let mut changes = changes_against_every_parent(repo, &parent_trees, tree)
        .map_err(|e| e.at(Some(&id.to_string()), None))?;
    for c in &mut changes.0 {
        c.commit = Some(id);
    }
    if parents.len() <= 1 {
        detect_renames(
            repo,
            blobs.max_blob_bytes,
            &mut changes.0,
            &changes.1.deleted,
        )?;
    }
    for change in &changes.0 {
        blobs.scan_change(change)?;
    }
    Ok(())
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

fn pending(c: crate::git::tree_diff::Change) -> PendingChange {
    PendingChange {
        path: c.path,
        id: c.id,
        mode: c.mode,
        olds: c.old.into_iter().collect(),
        commit: None,
    }
}

/// Tips among `commits` (ones that are no other listed commit's parent): fixed with `--amend`.
pub fn tips_of(repo: &gix::Repository, commits: &[ObjectId]) -> HashSet<String> {
    let mut parents = HashSet::new();
    for id in commits {
        if let Ok(c) = repo.find_commit(*id) {
            parents.extend(c.parent_ids().map(|p| p.detach()));
        }
    }
    commits
        .iter()
        .filter(|c| !parents.contains(*c))
        .map(|c| c.to_string())
        .collect()
}

//! Whether a secret is still there: the branch tips whose tree holds its value.
//!
//! Each tip's tree is walked once; a subtree's answer is remembered by its id (branches share
//! most of their trees), and each distinct blob is read once and searched for every value at
//! the same time (one Aho-Corasick automaton). A value found in history by decoding (UTF-16,
//! base64) is searched as found, so a tip that holds it only encoded is not counted.

use std::collections::{BTreeSet, HashMap};
use std::rc::Rc;

use gix::hash::ObjectId;

use crate::git::commits::peel_to_commit;
use crate::git::objects::{load_blob, tree_entries};
use crate::git::GitError;

/// A branch tip: its ref name and commit.
pub type BranchTip = (String, ObjectId);

/// The branches (`refs/heads/`) and remote-tracking branches (`refs/remotes/`, without their
/// symbolic `HEAD`) with the commit each points at; a detached `HEAD` when there is no branch.
pub fn branch_tips(repo: &gix::Repository) -> Result<Vec<BranchTip>, GitError> {
    let err = |e: &dyn std::fmt::Display| GitError::Revision {
        spec: "refs".into(),
        message: e.to_string(),
    };
    let platform = repo.references().map_err(|e| err(&e))?;
    let mut tips = Vec::new();
    for reference in platform.all().map_err(|e| err(&e))? {
        let Ok(mut reference) = reference else {
            continue;
        };
        let name = reference.name().as_bstr().to_string();
        let branch = name.starts_with("refs/heads/")
            || (name.starts_with("refs/remotes/") && !name.ends_with("/HEAD"));
        if !branch {
            continue;
        }
        let Ok(id) = reference.peel_to_id() else {
            continue;
        };
        if let Some(commit) = peel_to_commit(repo, id.detach()) {
            tips.push((name, commit));
        }
    }
    if tips.is_empty() {
        if let Ok(head) = repo.head_id() {
            if let Some(commit) = peel_to_commit(repo, head.detach()) {
                tips.push(("HEAD".to_string(), commit));
            }
        }
    }
    tips.sort();
    Ok(tips)
}

struct Search<'a> {
    repo: &'a gix::Repository,
    automaton: aho_corasick::AhoCorasick,
    cap: u64,
    trees: HashMap<ObjectId, Rc<BTreeSet<u32>>>,
    blobs: HashMap<ObjectId, Rc<BTreeSet<u32>>>,
}

impl Search<'_> {
    fn blob(&mut self, id: ObjectId) -> Result<Rc<BTreeSet<u32>>, GitError> {
        if let Some(hit) = self.blobs.get(&id) {
            return Ok(Rc::clone(hit));
        }
        let mut found = BTreeSet::new();
        if let Some(data) = load_blob(self.repo, id, self.cap)? {
            for m in self.automaton.find_overlapping_iter(&data) {
                found.insert(m.pattern().as_u32());
            }
        }
        let found = Rc::new(found);
        self.blobs.insert(id, Rc::clone(&found));
        Ok(found)
    }

    /// The values under tree `root`, walking with an explicit stack (no recursion depth limit).
    fn tree(&mut self, root: ObjectId) -> Result<Rc<BTreeSet<u32>>, GitError> {
        // (tree, entries still to visit, found so far)
        let mut stack: Vec<(ObjectId, usize, BTreeSet<u32>)> = vec![(root, 0, BTreeSet::new())];
        if let Some(hit) = self.trees.get(&root) {
            return Ok(Rc::clone(hit));
        }
        while let Some((id, at, mut found)) = stack.pop() {
            let entries = tree_entries(self.repo, id)?;
            let mut next = at;
            let mut descend = None;
            while next < entries.len() {
                let entry = &entries[next];
                next += 1;
                if entry.mode.is_tree() {
                    match self.trees.get(&entry.id) {
                        Some(hit) => found.extend(hit.iter().copied()),
                        None => {
                            descend = Some(entry.id);
                            break;
                        }
                    }
                } else if entry.mode.is_blob() || entry.mode.is_link() {
                    found.extend(self.blob(entry.id)?.iter().copied());
                }
            }
            match descend {
                Some(child) => {
                    // Come back to this tree (its answer needs the child's), after the child.
                    stack.push((id, next - 1, found));
                    stack.push((child, 0, BTreeSet::new()));
                }
                None => {
                    let found = Rc::new(found);
                    self.trees.insert(id, Rc::clone(&found));
                    if stack.is_empty() {
                        return Ok(found);
                    }
                }
            }
        }
        Ok(self
            .trees
            .get(&root)
            .cloned()
            .unwrap_or_else(|| Rc::new(BTreeSet::new())))
    }
}

/// For each value, the names of the branch tips whose tree holds it (blobs up to `cap` bytes).
pub fn presence(
    repo: &gix::Repository,
    tips: &[BranchTip],
    values: &[&[u8]],
    cap: u64,
) -> Result<Vec<Vec<String>>, GitError> {
    let mut present = vec![Vec::new(); values.len()];
    if values.is_empty() || tips.is_empty() {
        return Ok(present);
    }
    let automaton = aho_corasick::AhoCorasick::new(values).map_err(|e| GitError::Object {
        what: "the values to look for at the branch tips".into(),
        commit: None,
        path: None,
        message: e.to_string(),
    })?;
    let mut search = Search {
        repo,
        automaton,
        cap,
        trees: HashMap::new(),
        blobs: HashMap::new(),
    };
    for (name, commit) in tips {
        let tree = repo
            .find_commit(*commit)
            .and_then(|c| c.tree_id().map(gix::Id::detach))
            .map_err(|e| GitError::Object {
                what: format!("the tree of {name}"),
                commit: Some(commit.to_string()),
                path: None,
                message: e.to_string(),
            })?;
        for i in search.tree(tree)?.iter() {
            present[*i as usize].push(name.clone());
        }
    }
    Ok(present)
}

//! Which commits are new: reachable from some tips and from no existing ref (`git rev-list TIPS
//! --not --all`), at a cost that follows the new commits, not the history or the number of refs.
//!
//! Two steps:
//! 1. **Quarantine** (pre-receive only): the walk from the pushed tips goes through every commit
//!    that is not in the object store as it was before the push ([`Existing::with_store_before`]:
//!    the repository's objects and their alternates, without git's quarantine). Such a commit is
//!    new: every existing ref's history is in that store (receive-pack's connectivity check keeps
//!    it so), so a commit missing from it is reachable from no existing ref. A commit found in
//!    that store stops this step and becomes a *boundary* commit. A boundary commit that an
//!    existing ref points at is accepted history.
//! 2. **Paint** (the other boundary commits, or every tip when there is no quarantine, as on the
//!    client): one walk in commit-date order, as in git's `rev-list --not`, paints commits from
//!    the tips as *visible* and from every existing ref at once as *hidden*; it stops once no
//!    queued commit is visible-only and the hidden paint is a day ([`SLOP_SECONDS`]) older than
//!    the oldest visible commit. A commit counts as accepted only when hidden paint reached it
//!    from a ref, which proves it is reachable from that ref. Commit dates that lie by more than
//!    that (a skewed clock) can only stop the hidden paint too early, which scans accepted commits
//!    again; they can never leave a new commit out. A commit-graph, when present, spares reading
//!    the commits of the walk.
//!
//! So the result holds every commit reachable from the tips and from no existing ref, and in
//! practice exactly those. A commit that is in the repository but reachable from no ref (a deleted
//! branch pushed again, a fork's objects shared through alternates) is scanned again: the object
//! store does not record whether an object passed this hook (objects also arrive by fetch, through
//! alternates, or in a push accepted under `on_timeout: accept`), so only a ref makes history
//! accepted.

use std::collections::{BinaryHeap, HashMap, HashSet};

use gix::hash::ObjectId;

use crate::git::GitError;

const VISIBLE: u8 = 1;
/// How far (in commit time) the hidden paint goes past the oldest new commit: commit times out of
/// order by less than this never make accepted history look new.
const SLOP_SECONDS: i64 = 24 * 60 * 60;
const HIDDEN: u8 = 2;

fn walk_error(e: impl std::fmt::Display) -> GitError {
    GitError::Revision {
        spec: "the commits to scan".into(),
        message: e.to_string(),
    }
}

/// A new commit: its commit time and its parents.
type Node = (i64, Vec<ObjectId>);

/// What already exists: the objects every existing ref points at (peeled), and, in pre-receive,
/// the object store as it was before the push.
pub struct Existing {
    refs: Vec<ObjectId>,
    ref_set: HashSet<ObjectId>,
    before: Option<gix::odb::Handle>,
}

impl Existing {
    /// Existing history given by the objects its refs point at (peeled; objects other than
    /// commits are ignored).
    pub fn from_refs(refs: Vec<ObjectId>) -> Existing {
        let ref_set = refs.iter().copied().collect();
        Existing {
            refs,
            ref_set,
            before: None,
        }
    }

    /// Every ref of `repo` whose name starts with `prefix`, read once, peeled.
    pub fn read(repo: &gix::Repository, prefix: &str) -> Result<Existing, GitError> {
        Ok(Existing::from_refs(ref_targets(repo, prefix)?))
    }

    /// The objects the refs point at (peeled; any kind), sorted.
    pub fn refs(&self) -> &[ObjectId] {
        &self.refs
    }

    /// In pre-receive: `store` is the object store as it was before the push (see the module
    /// documentation for why a commit missing from it is new).
    pub fn with_store_before(mut self, store: gix::odb::Handle) -> Existing {
        // The first lookup lists the packs; later misses (every new commit) need not list them again.
        if let Some(first) = self.refs.first() {
            let _ = gix::objs::Exists::exists(&store, first);
        }
        self.before = Some(store);
        self
    }

    /// Commits reachable from `tips` (peeled; trees and blobs are ignored) and from no existing
    /// ref, parents before children. May hold accepted commits too (module documentation), never
    /// less.
    pub fn new_commits(
        &self,
        repo: &gix::Repository,
        tips: &[ObjectId],
    ) -> Result<Vec<ObjectId>, GitError> {
        let tips: Vec<ObjectId> = tips
            .iter()
            .filter_map(|t| crate::git::commits::peel_to_commit(repo, *t))
            .collect();
        let (mut found, boundary) = match &self.before {
            Some(before) => self.walk_quarantine(repo, before, &tips)?,
            None => (HashMap::new(), tips),
        };
        let visible: Vec<ObjectId> = boundary
            .into_iter()
            .filter(|id| !self.ref_set.contains(id))
            .collect();
        if !visible.is_empty() {
            found.extend(paint(repo, &visible, &self.refs)?);
        }
        Ok(parents_first(&found))
    }

    /// Step 1: the commits from `tips` that are not in the store `before`, and the commits of that
    /// store where the walk stopped.
    #[allow(clippy::type_complexity)]
    fn walk_quarantine(
        &self,
        repo: &gix::Repository,
        before: &gix::odb::Handle,
        tips: &[ObjectId],
    ) -> Result<(HashMap<ObjectId, Node>, Vec<ObjectId>), GitError> {
        let mut found: HashMap<ObjectId, Node> = HashMap::new();
        let mut boundary = Vec::new();
        let mut seen = HashSet::new();
        let mut stack = tips.to_vec();
        while let Some(id) = stack.pop() {
            if self.ref_set.contains(&id) || !seen.insert(id) {
                continue;
            }
            if before.exists_without_refresh(&id) {
                boundary.push(id);
                continue;
            }
            let commit = repo.find_commit(id).map_err(walk_error)?;
            let parents: Vec<ObjectId> = commit.parent_ids().map(gix::Id::detach).collect();
            let time = commit.time().map_or(0, |t| t.seconds);
            stack.extend(parents.iter().copied());
            found.insert(id, (time, parents));
        }
        Ok((found, boundary))
    }
}

/// The objects the refs under `prefix` point at, sorted and deduplicated: a packed ref's peeled
/// value when packed-refs records one, else its target as is (the paint peels an annotated tag
/// among them); a loose ref's target. No object is read, so thousands of refs cost one read of
/// packed-refs. A ref that cannot be read hides nothing (its history is scanned if pushed).
pub fn ref_targets(repo: &gix::Repository, prefix: &str) -> Result<Vec<ObjectId>, GitError> {
    let error = |e: &dyn std::fmt::Display| GitError::Revision {
        spec: "refs".into(),
        message: e.to_string(),
    };
    let mut by_name: HashMap<Vec<u8>, ObjectId> = HashMap::new();
    if let Some(packed) = repo.refs.cached_packed_buffer().map_err(|e| error(&e))? {
        let iter = packed.iter_prefixed(prefix.into()).map_err(|e| error(&e))?;
        for r in iter.flatten() {
            by_name.insert(r.name.as_bstr().to_vec(), r.object());
        }
    }
    let relative: &gix::path::RelativePath = prefix.try_into().map_err(|e| error(&e))?;
    let loose = repo
        .refs
        .loose_iter_prefixed(relative)
        .map_err(|e| error(&e))?;
    for r in loose.flatten() {
        let id = match r.target {
            gix::refs::Target::Object(id) => Some(id),
            gix::refs::Target::Symbolic(name) => repo
                .find_reference(name.as_ref())
                .ok()
                .and_then(|mut r| r.peel_to_id().ok())
                .map(gix::Id::detach),
        };
        match id {
            Some(id) => by_name.insert(r.name.as_bstr().to_vec(), id),
            None => by_name.remove(r.name.as_bstr().as_ref() as &[u8]),
        };
    }
    let mut ids: Vec<ObjectId> = by_name.into_values().collect();
    ids.sort();
    ids.dedup();
    Ok(ids)
}

type GraphCommit = gix::revwalk::graph::Commit<u8>;

/// The state of step 2: the commits met with their paint, the queue (newest first) and the queued
/// commits painted visible and not (yet) hidden: the walk ends when none is left.
struct Painter<'a, 'cache> {
    graph: gix::revwalk::Graph<'a, 'cache, GraphCommit>,
    queue: BinaryHeap<(i64, ObjectId)>,
    visible_only: HashSet<ObjectId>,
}

impl Painter<'_, '_> {
    /// Adds `flags` to commit `id` and queues it when that changed its paint; false when `id`
    /// is not a commit that can be read.
    fn paint(&mut self, id: ObjectId, flags: u8) -> Result<bool, GitError> {
        let mut changed = false;
        let commit = self
            .graph
            .get_or_insert_full_commit(id, |c| {
                changed = c.data & flags != flags;
                c.data |= flags;
            })
            .map_err(walk_error)?;
        let Some(commit) = commit else {
            return Ok(false);
        };
        if changed {
            self.queue.push((commit.commit_time, id));
            if commit.data == VISIBLE {
                self.visible_only.insert(id);
            } else {
                self.visible_only.remove(&id);
            }
        }
        Ok(true)
    }
}

/// Step 2: the commits reachable from `visible` and not found reachable from `hidden`.
fn paint(
    repo: &gix::Repository,
    visible: &[ObjectId],
    hidden: &[ObjectId],
) -> Result<HashMap<ObjectId, Node>, GitError> {
    // A commit-graph that cannot be read only makes the walk slower.
    let cache = repo.commit_graph_if_enabled().ok().flatten();
    let shallow: HashSet<ObjectId> = repo
        .shallow_commits()
        .map_err(walk_error)?
        .map(|s| s.iter().copied().collect())
        .unwrap_or_default();
    let mut p = Painter {
        graph: repo.revision_graph(cache.as_ref()),
        queue: BinaryHeap::new(),
        visible_only: HashSet::new(),
    };
    for &id in visible {
        if !p.paint(id, VISIBLE)? {
            return Err(walk_error(format!("commit {id} cannot be read")));
        }
    }
    for &id in hidden {
        // An annotated tag hides the commit it leads to; a ref to a tree or a blob, or to a
        // missing object, hides nothing (the header tells, without reading a big blob).
        let commit = if cache.as_ref().is_some_and(|c| c.lookup(id).is_some()) {
            Some(id)
        } else {
            match repo.find_header(id).map(|h| h.kind()) {
                Ok(gix::objs::Kind::Commit) => Some(id),
                Ok(gix::objs::Kind::Tag) => crate::git::commits::peel_to_commit(repo, id),
                _ => None,
            }
        };
        if let Some(commit) = commit {
            p.paint(commit, HIDDEN)?;
        }
    }
    // The oldest commit time among the commits painted visible only: the hidden paint goes on
    // until it is a day past it, so that commits with equal or slightly skewed times are settled.
    let mut oldest_visible = i64::MAX;
    while let Some(&(time, id)) = p.queue.peek() {
        if p.visible_only.is_empty() && time.saturating_add(SLOP_SECONDS) < oldest_visible {
            break;
        }
        p.queue.pop();
        let Some(commit) = p.graph.get(&id) else {
            continue;
        };
        let flags = commit.data;
        let parents = commit.parents.clone();
        if flags == VISIBLE {
            p.visible_only.remove(&id);
            oldest_visible = oldest_visible.min(time);
        }
        if shallow.contains(&id) {
            continue;
        }
        for parent in parents {
            if !p.paint(parent, flags)? && flags == VISIBLE {
                return Err(walk_error(format!(
                    "parent {parent} of commit {id} cannot be read"
                )));
            }
        }
    }
    Ok(p.graph
        .detach()
        .into_iter()
        .filter(|(_, c)| c.data == VISIBLE)
        .map(|(id, c)| {
            let parents = if shallow.contains(&id) {
                Vec::new()
            } else {
                c.parents.to_vec()
            };
            (id, (c.commit_time, parents))
        })
        .collect())
}

/// `commits` in an order where every parent comes before its children (oldest first among
/// unrelated commits; deterministic).
fn parents_first(commits: &HashMap<ObjectId, Node>) -> Vec<ObjectId> {
    let mut starts: Vec<(i64, ObjectId)> = commits.iter().map(|(id, n)| (n.0, *id)).collect();
    starts.sort();
    let mut done = HashSet::with_capacity(commits.len());
    let mut out = Vec::with_capacity(commits.len());
    for (_, start) in starts {
        // Iterative depth-first walk; a commit is emitted once all its parents are.
        let mut stack = vec![(start, 0usize)];
        while let Some((id, next)) = stack.pop() {
            if next == 0 && done.contains(&id) {
                continue;
            }
            let parents = &commits[&id].1;
            match parents[next..]
                .iter()
                .position(|p| commits.contains_key(p) && !done.contains(p))
            {
                Some(k) => {
                    stack.push((id, next + k + 1));
                    stack.push((parents[next + k], 0));
                }
                None => {
                    if done.insert(id) {
                        out.push(id);
                    }
                }
            }
        }
    }
    out
}

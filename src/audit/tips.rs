//! Whether a secret is still there: the branch tips whose tree holds its value.
//!
//! The tips' trees are walked once for their distinct blobs; these are read and searched for
//! every value at the same time (one Aho-Corasick automaton) on all workers; then each tip's
//! answer is put together from its trees, a subtree's answer remembered by its id (branches share
//! most of their trees). A value found in history by decoding (UTF-16,
//! base64) is searched as found, so a tip that holds it only encoded is not counted.

use std::collections::{BTreeSet, HashMap, HashSet};
use std::rc::Rc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;

use gix::hash::ObjectId;

use crate::audit::pack_blobs::{walk_blobs, Held, Part, Visit, WalkedPack};
use crate::git::commits::peel_to_commit;
use crate::git::objects::{load_blob, tree_entries, TreeEntry};
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

/// The distinct blobs under the trees of `roots`, in first-seen order, and every tree's entries
/// walked once (an explicit stack: no recursion depth limit), kept while they number at most
/// [`TIP_TREE_ENTRIES`] (the presence search walks the same trees again).
fn blobs_under(
    repo: &gix::Repository,
    roots: &[ObjectId],
) -> Result<(Vec<ObjectId>, TreeMap), GitError> {
    let mut trees: TreeMap = HashMap::new();
    let mut kept_entries = 0usize;
    let mut trees_seen: HashSet<ObjectId> = HashSet::new();
    let mut blobs_seen: HashSet<ObjectId> = HashSet::new();
    let mut blobs = Vec::new();
    let mut stack: Vec<ObjectId> = roots.to_vec();
    while let Some(id) = stack.pop() {
        if !trees_seen.insert(id) {
            continue;
        }
        let entries = tree_entries(repo, id)?;
        for entry in entries.iter() {
            if entry.mode.is_tree() {
                stack.push(entry.id);
            } else if (entry.mode.is_blob() || entry.mode.is_link()) && blobs_seen.insert(entry.id)
            {
                blobs.push(entry.id);
            }
        }
        if kept_entries + entries.len() <= TIP_TREE_ENTRIES {
            kept_entries += entries.len();
            trees.insert(id, Arc::new(entries.to_vec()));
        }
    }
    Ok((blobs, trees))
}

/// Tree entries of the branch tips' trees kept from [`TipTrees::read`] for the presence search
/// (which reads the others again).
pub const TIP_TREE_ENTRIES: usize = 2_000_000;

/// Trees' entries by tree id.
pub type TreeMap = HashMap<ObjectId, Arc<Vec<TreeEntry>>>;

/// A search of blobs for the values: the repository, the automaton, the cap.
struct BlobSearch<'a> {
    git_dir: &'a std::path::Path,
    automaton: &'a aho_corasick::AhoCorasick,
    /// A vectorized search for the same values (when there are few enough), which tells fast
    /// that a blob holds none.
    prefilter: Option<aho_corasick::packed::Searcher>,
    cap: u64,
}

impl BlobSearch<'_> {
    /// The values one blob holds (read when it is within the cap).
    fn values_in(&self, repo: &gix::Repository, id: ObjectId) -> Result<BTreeSet<u32>, GitError> {
        Ok(match load_blob(repo, id, self.cap)? {
            Some(data) => self.values_of(&data),
            None => BTreeSet::new(),
        })
    }

    /// The values `data` holds.
    fn values_of(&self, data: &[u8]) -> BTreeSet<u32> {
        // Most blobs hold no value: a vectorized search says so fast.
        let holds_one = match &self.prefilter {
            Some(prefilter) => prefilter.find(data).is_some(),
            None => self.automaton.is_match(data),
        };
        if !holds_one {
            return BTreeSet::new();
        }
        self.automaton
            .find_overlapping_iter(data)
            .map(|m| m.pattern().as_u32())
            .collect()
    }

    /// The values each blob of `blobs` stored in the `walked` packs holds, every blob met there
    /// present (with no value when it holds none): each pack's blob tree is walked over those
    /// blobs and their delta bases, every delta applied once, on `threads` workers.
    fn values_in_walked(
        &self,
        walked: &[WalkedPack],
        blobs: &HashSet<ObjectId>,
        threads: usize,
    ) -> Result<HashMap<ObjectId, BTreeSet<u32>>, GitError> {
        /// Delta trees a worker takes at a time.
        const CHUNK: usize = 16;
        let parts: Vec<(Vec<u32>, Vec<bool>)> = walked
            .iter()
            .map(|(_, tree)| tree.needed_for(blobs))
            .collect();
        let tasks: Vec<(usize, &[u32])> = parts
            .iter()
            .enumerate()
            .flat_map(|(pack, (roots, _))| roots.chunks(CHUNK).map(move |c| (pack, c)))
            .collect();
        let next = AtomicUsize::new(0);
        let stop = AtomicBool::new(false);
        let work = || -> Result<HashMap<ObjectId, BTreeSet<u32>>, GitError> {
            let mut found = HashMap::new();
            while let Some(&(pack, roots)) = tasks.get(next.fetch_add(1, Ordering::Relaxed)) {
                let (bundle, tree) = &walked[pack];
                let part = Part {
                    roots,
                    needed: Some(&parts[pack].1),
                };
                let visit = |visit: Visit<'_, Vec<u8>>| {
                    if blobs.contains(&visit.entry.oid) {
                        found.insert(visit.entry.oid, self.values_of(&visit.bytes));
                    }
                    Held::Bytes(visit.bytes)
                };
                let cap = self.cap.min(crate::git::objects::STREAM_BYTES);
                walk_blobs((bundle, tree), &part, cap, visit, &stop);
            }
            Ok(found)
        };
        run_search(work, tasks.len(), threads)
    }

    /// Which values each blob of `blobs` holds (only blobs that hold one), searched on `threads`
    /// workers, each with its own handle on the repository.
    fn values_in_blobs(
        &self,
        blobs: &[ObjectId],
        threads: usize,
    ) -> Result<HashMap<ObjectId, BTreeSet<u32>>, GitError> {
        /// Blobs a worker takes at a time.
        const CHUNK: usize = 64;
        let next = AtomicUsize::new(0);
        let work = || -> Result<HashMap<ObjectId, BTreeSet<u32>>, GitError> {
            let mut repo = gix::open(self.git_dir).map_err(|e| GitError::Open {
                path: self.git_dir.display().to_string(),
                message: e.to_string(),
            })?;
            crate::git::configure_caches(&mut repo);
            let mut found = HashMap::new();
            loop {
                let start = next.fetch_add(CHUNK, Ordering::Relaxed);
                if start >= blobs.len() {
                    break;
                }
                for &id in &blobs[start..blobs.len().min(start + CHUNK)] {
                    let values = self.values_in(&repo, id)?;
                    if !values.is_empty() {
                        found.insert(id, values);
                    }
                }
            }
            Ok(found)
        };
        run_search(work, blobs.len().div_ceil(CHUNK), threads)
    }
}

/// Runs `work` on up to `threads` threads (at most `chunks`) and merges what they found.
fn run_search(
    work: impl Fn() -> Result<HashMap<ObjectId, BTreeSet<u32>>, GitError> + Sync,
    chunks: usize,
    threads: usize,
) -> Result<HashMap<ObjectId, BTreeSet<u32>>, GitError> {
    let threads = threads.clamp(1, chunks.max(1));
    let results: Vec<Result<HashMap<ObjectId, BTreeSet<u32>>, GitError>> =
        std::thread::scope(|scope| {
            let handles: Vec<_> = (0..threads).map(|_| scope.spawn(&work)).collect();
            handles
                .into_iter()
                .map(|h| {
                    h.join().unwrap_or_else(|_| {
                        Err(GitError::Object {
                            what: "the values at the branch tips".into(),
                            commit: None,
                            path: None,
                            message: "a search thread panicked".into(),
                        })
                    })
                })
                .collect()
        });
    let mut all = HashMap::new();
    for result in results {
        all.extend(result?);
    }
    Ok(all)
}

/// The values under tree `root` (in its blobs, or in an entry's name, searched with `names`)
/// given each blob's ([`BlobSearch::values_in_blobs`]), remembering every
/// tree's answer in `trees` (branches share most of their trees).
fn values_under(
    (repo, kept): (&gix::Repository, &TreeMap),
    (root, names): (ObjectId, &aho_corasick::AhoCorasick),
    in_blobs: &HashMap<ObjectId, BTreeSet<u32>>,
    trees: &mut HashMap<ObjectId, Rc<BTreeSet<u32>>>,
) -> Result<Rc<BTreeSet<u32>>, GitError> {
    if let Some(hit) = trees.get(&root) {
        return Ok(Rc::clone(hit));
    }
    // (tree, entries still to visit, found so far)
    let mut stack: Vec<(ObjectId, usize, BTreeSet<u32>)> = vec![(root, 0, BTreeSet::new())];
    while let Some((id, at, mut found)) = stack.pop() {
        let read;
        let entries: &[TreeEntry] = match kept.get(&id) {
            Some(entries) => entries,
            None => {
                read = tree_entries(repo, id)?;
                &read
            }
        };
        let mut next = at;
        let mut descend = None;
        while next < entries.len() {
            let entry = &entries[next];
            next += 1;
            // A value in a file or directory name (found by the file-name scan) is there too.
            found.extend(
                names
                    .find_overlapping_iter(entry.name.as_slice())
                    .map(|m| m.pattern().as_u32()),
            );
            if entry.mode.is_tree() {
                match trees.get(&entry.id) {
                    Some(hit) => found.extend(hit.iter().copied()),
                    None => {
                        descend = Some(entry.id);
                        break;
                    }
                }
            } else if entry.mode.is_blob() || entry.mode.is_link() {
                if let Some(values) = in_blobs.get(&entry.id) {
                    found.extend(values.iter().copied());
                }
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
                trees.insert(id, Rc::clone(&found));
                if stack.is_empty() {
                    return Ok(found);
                }
            }
        }
    }
    Ok(trees
        .get(&root)
        .cloned()
        .unwrap_or_else(|| Rc::new(BTreeSet::new())))
}

/// The branch tips' root trees and the distinct blobs under them.
#[derive(Debug, Default)]
pub struct TipTrees {
    /// Each tip's name and root tree.
    pub roots: Vec<(String, ObjectId)>,
    /// The distinct blobs under all of them.
    pub blobs: Vec<ObjectId>,
    /// The entries of their trees, as many as [`TIP_TREE_ENTRIES`] allow.
    pub entries: TreeMap,
}

impl TipTrees {
    /// Reads the root trees of `tips` and lists the blobs under them.
    pub fn read(repo: &gix::Repository, tips: &[BranchTip]) -> Result<TipTrees, GitError> {
        let mut roots = Vec::with_capacity(tips.len());
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
            roots.push((name.clone(), tree));
        }
        let trees: Vec<ObjectId> = roots.iter().map(|r| r.1).collect();
        let (blobs, entries) = blobs_under(repo, &trees)?;
        Ok(TipTrees {
            roots,
            blobs,
            entries,
        })
    }
}

/// For each value, the names of the branch tips whose tree holds it (blobs up to `cap` bytes).
/// The distinct blobs of every tip are searched on `threads` workers: those the prescan's walks
/// handed out (`walked_blobs`, each stored in one place alone) by walking the `walked` packs'
/// delta trees again over them, the others read by id.
pub(crate) fn presence(
    repo: &gix::Repository,
    tips: &TipTrees,
    values: &[&[u8]],
    cap: u64,
    threads: usize,
    (walked, walked_blobs): (&[WalkedPack], &HashSet<ObjectId>),
) -> Result<Vec<Vec<String>>, GitError> {
    let mut present = vec![Vec::new(); values.len()];
    if values.is_empty() || tips.roots.is_empty() {
        return Ok(present);
    }
    let automaton = aho_corasick::AhoCorasick::new(values).map_err(|e| GitError::Object {
        what: "the values to look for at the branch tips".into(),
        commit: None,
        path: None,
        message: e.to_string(),
    })?;
    let search = BlobSearch {
        git_dir: repo.git_dir(),
        automaton: &automaton,
        prefilter: aho_corasick::packed::Config::new()
            .builder()
            .extend(values)
            .build(),
        cap,
    };
    let wanted: HashSet<ObjectId> = tips
        .blobs
        .iter()
        .filter(|id| walked_blobs.contains(*id))
        .copied()
        .collect();
    let mut in_blobs = search.values_in_walked(walked, &wanted, threads)?;
    let rest: Vec<ObjectId> = tips
        .blobs
        .iter()
        .filter(|id| !in_blobs.contains_key(*id))
        .copied()
        .collect();
    in_blobs.extend(search.values_in_blobs(&rest, threads)?);
    in_blobs.retain(|_, values| !values.is_empty());
    let mut trees = HashMap::new();
    for (name, root) in &tips.roots {
        let found = values_under(
            (repo, &tips.entries),
            (*root, &automaton),
            &in_blobs,
            &mut trees,
        )?;
        for i in found.iter() {
            present[*i as usize].push(name.clone());
        }
    }
    Ok(present)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::{git_command, git_ok as git};

    /// The tip blobs stored in a pack the prescan walked are searched by walking that pack's
    /// delta trees again (every one of them met there), and the answer is the one reading them
    /// by id gives, on one worker and several, under a cap too.
    #[test]
    fn presence_through_the_pack_walk_is_presence_by_id() {
        let dir = crate::test_support::fresh_repo("tips-walk");
        let mut lines: Vec<String> = (0..300).map(|i| format!("line {i} of the file")).collect();
        for round in 0..8 {
            lines[round * 13] = format!("round {round} marker-{round}");
            std::fs::write(dir.join("big.txt"), lines.join("\n")).unwrap();
            let small = dir.join(format!("small{round}.txt"));
            std::fs::write(small, format!("marker-s{round}\n")).unwrap();
            git(&dir, &["add", "-A"]);
            git(&dir, &["commit", "-qm", &format!("round {round}")]);
            if round == 4 {
                git(&dir, &["branch", "old"]);
            }
        }
        git(&dir, &["repack", "-qadf", "--depth=50", "--window=50"]);
        let repo = gix::open(&dir).unwrap();
        let trees = TipTrees::read(&repo, &branch_tips(&repo).unwrap()).unwrap();
        let mut values: Vec<String> = (0..8)
            .flat_map(|r| [format!("marker-{r}"), format!("marker-s{r}")])
            .collect();
        values.push("marker-none".into());
        let values: Vec<&[u8]> = values.iter().map(String::as_bytes).collect();
        let idx = std::fs::read_dir(dir.join(".git/objects/pack"))
            .unwrap()
            .map(|e| e.unwrap().path())
            .find(|p| p.extension().is_some_and(|e| e == "idx"))
            .unwrap();
        let bundle = gix::odb::pack::Bundle::at(&idx, gix::hash::Kind::Sha1).unwrap();
        let tree = crate::audit::pack_blobs::blob_tree(&bundle).unwrap();
        let walked = vec![(bundle, tree)];
        let all: HashSet<ObjectId> = trees.blobs.iter().copied().collect();
        let by_id = presence(&repo, &trees, &values, 1 << 20, 2, (&[], &HashSet::new())).unwrap();
        assert!(by_id.iter().any(|b| b.len() == 2), "{by_id:?}");
        assert!(by_id.iter().any(|b| b.len() == 1), "{by_id:?}");
        assert!(by_id.iter().any(Vec::is_empty), "{by_id:?}");
        for threads in [1, 3] {
            let walking = presence(&repo, &trees, &values, 1 << 20, threads, (&walked, &all));
            assert_eq!(walking.unwrap(), by_id, "{threads} workers");
        }
        let under_cap = presence(&repo, &trees, &values, 100, 2, (&[], &HashSet::new())).unwrap();
        assert_ne!(under_cap, by_id);
        let walking = presence(&repo, &trees, &values, 100, 2, (&walked, &all)).unwrap();
        assert_eq!(walking, under_cap);
        // Every tip blob was met in the walk (none read by id).
        let automaton = aho_corasick::AhoCorasick::new(&values).unwrap();
        let search = BlobSearch {
            git_dir: repo.git_dir(),
            automaton: &automaton,
            prefilter: None,
            cap: 1 << 20,
        };
        let wanted: HashSet<ObjectId> = trees.blobs.iter().copied().collect();
        let met = search.values_in_walked(&walked, &wanted, 2).unwrap();
        assert_eq!(met.keys().copied().collect::<HashSet<_>>(), wanted);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn presence_is_the_same_on_one_worker_and_on_several() {
        let dir = std::env::temp_dir().join(format!("leakgate-tips-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        git(&dir, &["init", "-q", "-b", "main"]);
        // Enough distinct blobs for several workers' chunks, some deep in subtrees.
        for i in 0..300 {
            let path = dir.join(format!("d{}/e{}/f{i}.txt", i % 7, i % 3));
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            let text = match i {
                7 => "first marker-one here\n".to_string(),
                250 => "marker-two\n".to_string(),
                _ => format!("file {i}\n"),
            };
            std::fs::write(path, text).unwrap();
        }
        git(&dir, &["add", "-A"]);
        git(&dir, &["commit", "-qm", "one"]);
        git(&dir, &["checkout", "-qb", "other"]);
        std::fs::remove_file(dir.join("d5/e1/f250.txt")).unwrap();
        git(&dir, &["commit", "-qam", "two"]);
        let repo = gix::open(&dir).unwrap();
        let tips = branch_tips(&repo).unwrap();
        let values: [&[u8]; 3] = [b"marker-one", b"marker-two", b"marker-none"];
        let expected = vec![
            vec![
                "refs/heads/main".to_string(),
                "refs/heads/other".to_string(),
            ],
            vec!["refs/heads/main".to_string()],
            vec![],
        ];
        let trees = TipTrees::read(&repo, &tips).unwrap();
        for threads in [1, 3] {
            let found = presence(
                &repo,
                &trees,
                &values,
                1 << 20,
                threads,
                (&[], &HashSet::new()),
            );
            assert_eq!(found.unwrap(), expected, "{threads} workers");
        }
        // The trees' entries kept by `read` are walked; a tree not kept (past the budget) is
        // read again: the same answer. A kept tree's entries are what is walked (emptied, the
        // values under it are gone).
        let mut unkept = TipTrees {
            roots: trees.roots.clone(),
            blobs: trees.blobs.clone(),
            entries: TreeMap::new(),
        };
        let found = presence(&repo, &unkept, &values, 1 << 20, 2, (&[], &HashSet::new()));
        assert_eq!(found.unwrap(), expected);
        assert!(
            trees.entries.len() > 10,
            "{} trees kept",
            trees.entries.len()
        );
        unkept.entries = trees.entries.clone();
        for (_, root) in &trees.roots {
            unkept.entries.insert(*root, Arc::new(Vec::new()));
        }
        let found = presence(&repo, &unkept, &values, 1 << 20, 2, (&[], &HashSet::new()));
        assert_eq!(found.unwrap(), vec![Vec::<String>::new(); 3]);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    /// Red team: a value found in a file name (the file-name scan) is still there while a tip
    /// holds a file or directory with that name, though no blob holds it.
    #[test]
    fn a_value_in_a_file_name_is_present_at_the_tip() {
        let dir = std::env::temp_dir().join(format!("leakgate-tips-names-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(dir.join("d-value-two")).unwrap();
        git(&dir, &["init", "-q", "-b", "main"]);
        std::fs::write(dir.join("x-value-one.txt"), "plain\n").unwrap();
        std::fs::write(dir.join("d-value-two/f"), "plain\n").unwrap();
        git(&dir, &["add", "-A"]);
        git(&dir, &["commit", "-qm", "one"]);
        let repo = gix::open(&dir).unwrap();
        let trees = TipTrees::read(&repo, &branch_tips(&repo).unwrap()).unwrap();
        let values: [&[u8]; 3] = [b"value-one", b"value-two", b"value-none"];
        let found = presence(&repo, &trees, &values, 1 << 20, 2, (&[], &HashSet::new())).unwrap();
        let main = vec!["refs/heads/main".to_string()];
        assert_eq!(found, vec![main.clone(), main, vec![]]);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    /// Red team: a symlink's target is searched, a blob over the cap and a gitlink are not, on
    /// one worker and on several, from the main worktree and from a linked one (whose workers
    /// open its own git directory).
    #[test]
    fn links_gitlinks_and_the_cap_from_a_linked_worktree() {
        let dir = std::env::temp_dir().join(format!("leakgate-tips-links-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(dir.join("s/t")).unwrap();
        git(&dir, &["init", "-q", "-b", "main"]);
        std::os::unix::fs::symlink("target-value-one", dir.join("link")).unwrap();
        let big = format!("{}value-two\n", "x".repeat(5000));
        std::fs::write(dir.join("big"), big).unwrap();
        std::fs::write(dir.join("s/t/f"), "value-three\n").unwrap();
        git(&dir, &["add", "-A"]);
        git(&dir, &["commit", "-qm", "one"]);
        let head = git_command(&dir, &["rev-parse", "HEAD"]).output().unwrap();
        let head = String::from_utf8(head.stdout).unwrap();
        let gitlink = format!("160000,{},sub", head.trim());
        git(&dir, &["update-index", "--add", "--cacheinfo", &gitlink]);
        git(&dir, &["commit", "-qm", "gitlink"]);
        git(&dir, &["worktree", "add", "-q", "-b", "other", "wt"]);
        let both = vec![
            "refs/heads/main".to_string(),
            "refs/heads/other".to_string(),
        ];
        for open_at in [dir.clone(), dir.join("wt")] {
            let repo = gix::open(&open_at).unwrap();
            let tips = branch_tips(&repo).unwrap();
            let trees = TipTrees::read(&repo, &tips).unwrap();
            let values: [&[u8]; 3] = [b"value-one", b"value-two", b"value-three"];
            for threads in [1, 4] {
                let found = presence(
                    &repo,
                    &trees,
                    &values,
                    1000,
                    threads,
                    (&[], &HashSet::new()),
                );
                let found = found.unwrap();
                let expected = vec![both.clone(), vec![], both.clone()];
                assert_eq!(found, expected, "{open_at:?} on {threads} workers");
            }
        }
        std::fs::remove_dir_all(&dir).unwrap();
    }
}

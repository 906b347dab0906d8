//! Reading blobs for scanning: the size is checked from the object header before inflating, and
//! binary content is recognised by git's own rule.

use std::cell::RefCell;
use std::rc::Rc;

use gix::hash::ObjectId;
use gix::odb::pack::cache::lru::StaticLinkedList;

use crate::files::is_binary;
use crate::git::loose::read_loose_blob;
use crate::git::{new_pack_cache, GitError};

/// A blob as far as the scanner is concerned.
#[derive(Debug)]
pub enum BlobContent {
    /// Text to scan.
    Text(Vec<u8>),
    /// Binary: not scanned.
    Binary,
    /// Larger than the cap: not inflated, not scanned.
    TooLarge(u64),
}

fn object_error(what: String, e: impl std::fmt::Display) -> GitError {
    GitError::Object {
        what,
        commit: None,
        path: None,
        message: e.to_string(),
    }
}

/// Blobs at least this big bypass gix's object cache (which copies every object it is given,
/// even one too big to keep, and keeps the copy's buffer); loose ones are streamed from their file.
const BIG_BLOB_BYTES: u64 = 1 << 20;

/// Loads a blob unless it is over `cap` bytes (checked from the header first) or binary. Memory:
/// one buffer of the blob's size (a big delta-compressed packed blob needs about twice that while
/// gix resolves it).
pub fn load_blob(repo: &gix::Repository, id: ObjectId, cap: u64) -> Result<BlobContent, GitError> {
    let what = || format!("blob {id}");
    let header = repo.find_header(id).map_err(|e| object_error(what(), e))?;
    if header.size() > cap {
        return Ok(BlobContent::TooLarge(header.size()));
    }
    if header.kind() != gix::objs::Kind::Blob {
        return Err(object_error(
            what(),
            format!("expected a blob, found a {}", header.kind()),
        ));
    }
    let data = if header.size() < BIG_BLOB_BYTES {
        let mut blob = repo.find_object(id).map_err(|e| object_error(what(), e))?;
        std::mem::take(&mut blob.data)
    } else {
        let loose = matches!(header, gix::odb::find::Header::Loose { .. });
        read_big_blob(repo, id, loose, cap)?
    };
    if is_binary(&data) {
        return Ok(BlobContent::Binary);
    }
    Ok(BlobContent::Text(data))
}

thread_local! {
    /// Resolved pack entries for big blobs, which are read past the repository's caches: a file
    /// edited in many pushed commits is a chain of deltas, and each version is read twice (as
    /// the new side of one commit and the old side of the next).
    static BIG_BLOB_PACK_CACHE: RefCell<StaticLinkedList<64>> = RefCell::new(new_pack_cache());
}

/// Reads a big blob: a loose one streamed from its file, a packed one through the object store
/// itself (no object cache) with its own pack cache.
fn read_big_blob(
    repo: &gix::Repository,
    id: ObjectId,
    loose: bool,
    cap: u64,
) -> Result<Vec<u8>, GitError> {
    let what = || format!("blob {id}");
    // `repo.objects` is a proxy around the object cache around the store handle: take the handle.
    let odb = &**repo.objects;
    let store = odb.store_ref();
    // Replace refs would redirect the id; those are left to gix.
    if loose && (odb.ignore_replacements || store.replacements().next().is_none()) {
        let mut dirs = vec![store.path().to_path_buf()];
        dirs.extend(
            store
                .alternate_db_paths()
                .map_err(|e| object_error(what(), e))?,
        );
        match read_loose_blob(&dirs, &id, cap) {
            Some(Ok(data)) => return Ok(data),
            Some(Err(e)) => return Err(object_error(what(), e)),
            // Packed since the header was read (a concurrent gc): read it as packed.
            None => {}
        }
    }
    let mut buf = Vec::new();
    let found = BIG_BLOB_PACK_CACHE.with(|cache| {
        let mut cache = cache.borrow_mut();
        gix::odb::pack::Find::try_find_cached(odb, &id, &mut buf, &mut *cache)
            .map(|found| found.map(|(data, _)| data.kind))
    });
    let kind = match found.map_err(|e| object_error(what(), e))? {
        Some(kind) => kind,
        None => return Err(object_error(what(), "object not found")),
    };
    if kind != gix::objs::Kind::Blob {
        return Err(object_error(
            what(),
            format!("expected a blob, found a {kind}"),
        ));
    }
    // Delta resolution leaves about twice the size as capacity.
    buf.shrink_to_fit();
    Ok(buf)
}

/// Loads a blob for comparison (an old version): its bytes, or `None` when it is binary or too
/// large to diff (the new version is then treated as all-added).
pub fn load_old_blob(
    repo: &gix::Repository,
    id: ObjectId,
    cap: u64,
) -> Result<Option<Vec<u8>>, GitError> {
    match load_blob(repo, id, cap)? {
        BlobContent::Text(data) => Ok(Some(data)),
        BlobContent::Binary | BlobContent::TooLarge(_) => Ok(None),
    }
}

/// One entry of a tree, owned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TreeEntry {
    /// File or directory name.
    pub name: Vec<u8>,
    /// Its mode.
    pub mode: gix::objs::tree::EntryMode,
    /// Its object id.
    pub id: ObjectId,
}

/// Trees kept decoded per thread. Ids name content, so entries are valid in any repository; a
/// history walk reads each parent tree again as the next commit's base.
const TREE_CACHE_ENTRIES: usize = 4096;

thread_local! {
    static TREE_CACHE: std::cell::RefCell<std::collections::HashMap<ObjectId, Rc<Vec<TreeEntry>>>> =
        std::cell::RefCell::new(std::collections::HashMap::new());
}

/// The entries of tree `id`, in git's tree order (decoded once, then cached).
pub fn tree_entries(repo: &gix::Repository, id: ObjectId) -> Result<Rc<Vec<TreeEntry>>, GitError> {
    if let Some(hit) = TREE_CACHE.with(|c| c.borrow().get(&id).cloned()) {
        return Ok(hit);
    }
    let tree = repo
        .find_tree(id)
        .map_err(|e| object_error(format!("tree {id}"), e))?;
    let decoded = tree
        .decode()
        .map_err(|e| object_error(format!("tree {id}"), e))?;
    let entries: Rc<Vec<TreeEntry>> = Rc::new(
        decoded
            .entries
            .iter()
            .map(|e| TreeEntry {
                name: e.filename.to_vec(),
                mode: e.mode,
                id: e.oid.to_owned(),
            })
            .collect(),
    );
    TREE_CACHE.with(|c| {
        let mut cache = c.borrow_mut();
        if cache.len() >= TREE_CACHE_ENTRIES {
            cache.clear();
        }
        cache.insert(id, Rc::clone(&entries));
    });
    Ok(entries)
}

/// Looks up the entry at `path` (slash-separated) below tree `root`.
pub fn entry_at_path(
    repo: &gix::Repository,
    root: ObjectId,
    path: &[u8],
) -> Result<Option<TreeEntry>, GitError> {
    let mut current = root;
    let mut components = path.split(|&b| b == b'/').peekable();
    while let Some(component) = components.next() {
        let entries = tree_entries(repo, current)?;
        let Some(entry) = entries.iter().find(|e| e.name == component).cloned() else {
            return Ok(None);
        };
        if components.peek().is_none() {
            return Ok(Some(entry));
        }
        if !entry.mode.is_tree() {
            return Ok(None);
        }
        current = entry.id;
    }
    Ok(None)
}

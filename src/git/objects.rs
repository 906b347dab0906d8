//! Reading blobs for scanning: the size is checked from the object header before inflating; a
//! big loose blob is handed over as a stream (scanned in windows), everything else as bytes.

use std::cell::RefCell;
use std::rc::Rc;

use gix::hash::ObjectId;
use gix::odb::pack::cache::lru::StaticLinkedList;

use crate::git::loose::{open_loose_blob, LooseBlob};
use crate::git::{new_pack_cache, GitError};

/// Loose blobs at least this big are streamed rather than read whole when nothing needs their
/// whole bytes at once (a new file, or one over the cap).
pub const STREAM_BYTES: u64 = 8 << 20;

/// A blob, opened for scanning.
pub enum OpenedBlob {
    /// Its bytes (at most the cap).
    Whole(Vec<u8>),
    /// A loose blob as a stream (its size may be over the cap).
    Stream(Box<LooseBlob>),
    /// A packed blob over the cap: not read (gix resolves packed objects whole, in memory).
    PackedOverCap(u64),
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

/// Opens blob `id` for scanning: a loose blob of at least [`STREAM_BYTES`] or over `cap` as a
/// stream, any other blob within `cap` as its bytes. Another kind of object is an error.
pub fn open_blob(repo: &gix::Repository, id: ObjectId, cap: u64) -> Result<OpenedBlob, GitError> {
    let what = || format!("blob {id}");
    let header = repo.find_header(id).map_err(|e| object_error(what(), e))?;
    if header.kind() != gix::objs::Kind::Blob {
        return Err(object_error(
            what(),
            format!("expected a blob, found a {}", header.kind()),
        ));
    }
    let size = header.size();
    let loose = matches!(header, gix::odb::find::Header::Loose { .. });
    if loose && (size >= STREAM_BYTES || size > cap) {
        if let Some(stream) = loose_stream(repo, id)? {
            return Ok(OpenedBlob::Stream(Box::new(stream)));
        }
    }
    if size > cap {
        return Ok(OpenedBlob::PackedOverCap(size));
    }
    let data = if size < BIG_BLOB_BYTES {
        let mut blob = repo.find_object(id).map_err(|e| object_error(what(), e))?;
        std::mem::take(&mut blob.data)
    } else {
        read_big_blob(repo, id, loose, cap)?
    };
    Ok(OpenedBlob::Whole(data))
}

/// Loads a blob whole if it is at most `cap` bytes (checked from the header first): its bytes, or
/// `None` when it is bigger. Memory: one buffer of the blob's size (a big delta-compressed packed
/// blob needs about twice that while gix resolves it).
pub fn load_blob(
    repo: &gix::Repository,
    id: ObjectId,
    cap: u64,
) -> Result<Option<Vec<u8>>, GitError> {
    let what = || format!("blob {id}");
    let header = repo.find_header(id).map_err(|e| object_error(what(), e))?;
    if header.size() > cap {
        return Ok(None);
    }
    match open_blob(repo, id, cap)? {
        OpenedBlob::Whole(data) => Ok(Some(data)),
        OpenedBlob::Stream(mut stream) => read_stream(stream.size(), &mut stream, id).map(Some),
        OpenedBlob::PackedOverCap(_) => Ok(None),
    }
}

/// Reads the rest of a loose blob stream whole.
pub fn read_stream(
    size: u64,
    stream: &mut impl std::io::Read,
    id: ObjectId,
) -> Result<Vec<u8>, GitError> {
    let mut data = Vec::new();
    data.try_reserve_exact(usize::try_from(size).unwrap_or(usize::MAX))
        .map_err(|e| object_error(format!("blob {id}"), e))?;
    stream
        .read_to_end(&mut data)
        .map_err(|e| object_error(format!("blob {id}"), e))?;
    Ok(data)
}

/// The loose blob `id` as a stream, when it is loose in the object directories (and no replace
/// refs could redirect it).
fn loose_stream(repo: &gix::Repository, id: ObjectId) -> Result<Option<LooseBlob>, GitError> {
    let what = || format!("blob {id}");
    let odb = &**repo.objects;
    let store = odb.store_ref();
    if !(odb.ignore_replacements || store.replacements().next().is_none()) {
        return Ok(None);
    }
    let mut dirs = vec![store.path().to_path_buf()];
    dirs.extend(
        store
            .alternate_db_paths()
            .map_err(|e| object_error(what(), e))?,
    );
    match open_loose_blob(&dirs, &id) {
        Some(Ok(stream)) => Ok(Some(stream)),
        Some(Err(e)) => Err(object_error(what(), e)),
        // Packed since the header was read (a concurrent gc): read it as packed.
        None => Ok(None),
    }
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
    if loose {
        if let Some(mut stream) = loose_stream(repo, id)? {
            if stream.size() > cap {
                return Err(object_error(what(), "blob grew over the cap"));
            }
            return read_stream(stream.size(), &mut stream, id);
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

/// Names up to this long are kept inside [`EntryName`] (most file names are).
const INLINE_NAME: usize = 22;

/// A tree entry's name: kept inline when short, so decoding a tree allocates once for its
/// entries, not once more for each name.
#[derive(Clone, PartialEq, Eq)]
pub struct EntryName(NameBytes);

#[derive(Clone, PartialEq, Eq)]
enum NameBytes {
    /// The first `len` bytes; the rest are zero (so equal names compare equal).
    Inline { len: u8, bytes: [u8; INLINE_NAME] },
    /// A name longer than [`INLINE_NAME`].
    Heap(Box<[u8]>),
}

impl EntryName {
    /// The name `bytes`.
    pub fn new(bytes: &[u8]) -> Self {
        match u8::try_from(bytes.len()) {
            Ok(len) if bytes.len() <= INLINE_NAME => {
                let mut inline = [0u8; INLINE_NAME];
                inline[..bytes.len()].copy_from_slice(bytes);
                EntryName(NameBytes::Inline { len, bytes: inline })
            }
            _ => EntryName(NameBytes::Heap(bytes.into())),
        }
    }

    /// The name's bytes.
    pub fn as_slice(&self) -> &[u8] {
        match &self.0 {
            NameBytes::Inline { len, bytes } => &bytes[..usize::from(*len)],
            NameBytes::Heap(bytes) => bytes,
        }
    }
}

impl std::ops::Deref for EntryName {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        self.as_slice()
    }
}

impl std::fmt::Debug for EntryName {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:?}", String::from_utf8_lossy(self.as_slice()))
    }
}

impl PartialEq<[u8]> for EntryName {
    fn eq(&self, other: &[u8]) -> bool {
        self.as_slice() == other
    }
}

impl PartialEq<&[u8]> for EntryName {
    fn eq(&self, other: &&[u8]) -> bool {
        self.as_slice() == *other
    }
}

impl PartialEq<Vec<u8>> for EntryName {
    fn eq(&self, other: &Vec<u8>) -> bool {
        self.as_slice() == other.as_slice()
    }
}

/// One entry of a tree, owned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TreeEntry {
    /// File or directory name.
    pub name: EntryName,
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
    /// Where this thread reads trees and commits first ([`with_object_source`]).
    static OBJECT_SOURCE: std::cell::RefCell<Option<Box<dyn ObjectSource>>> =
        const { std::cell::RefCell::new(None) };
}

/// A faster source of raw trees and commits than the object database, for one thread: it
/// answers only for objects whose bytes it reads exactly as the object database would, `None`
/// for the others.
pub trait ObjectSource {
    /// The bytes of tree `id`, or `None` to read it from the object database.
    fn tree_bytes(&mut self, id: &ObjectId) -> Option<Rc<Vec<u8>>>;
    /// The bytes of commit `id`, or `None` to read it from the object database.
    fn commit_bytes(&mut self, id: &ObjectId) -> Option<Rc<Vec<u8>>>;
}

/// The raw bytes of commit `id` when this thread's [`ObjectSource`] reads it; `None` to read it
/// from the object database.
pub fn sourced_commit_bytes(id: &ObjectId) -> Option<Rc<Vec<u8>>> {
    OBJECT_SOURCE.with(|s| s.borrow_mut().as_mut()?.commit_bytes(id))
}

/// The tree and parents of commit `id` when this thread's [`ObjectSource`] reads it and it parses;
/// `None` to read it from the object database.
pub fn sourced_commit(id: &ObjectId) -> Option<(ObjectId, Vec<ObjectId>)> {
    let bytes = sourced_commit_bytes(id)?;
    let parse = || gix::objs::CommitRefIter::from_bytes(&bytes, gix::hash::Kind::Sha1);
    let tree = parse().tree_id().ok()?;
    Some((tree, parse().parent_ids().collect()))
}

/// Runs `work` with `source` consulted first by [`tree_entries`] and [`sourced_commit`] on this
/// thread.
pub fn with_object_source<R>(source: Box<dyn ObjectSource>, work: impl FnOnce() -> R) -> R {
    /// Takes the source away again, also when `work` unwinds.
    struct Reset;
    impl Drop for Reset {
        fn drop(&mut self) {
            OBJECT_SOURCE.with(|s| s.borrow_mut().take());
        }
    }
    OBJECT_SOURCE.with(|s| *s.borrow_mut() = Some(source));
    let _reset = Reset;
    work()
}

/// The entries of a tree's bytes, in their order; `None` when they do not decode.
fn decoded_entries(bytes: &[u8]) -> Option<Vec<TreeEntry>> {
    let tree = gix::objs::TreeRef::from_bytes(bytes, gix::hash::Kind::Sha1).ok()?;
    Some(tree.entries.iter().map(tree_entry).collect())
}

/// An owned tree entry.
fn tree_entry(e: &gix::objs::tree::EntryRef<'_>) -> TreeEntry {
    TreeEntry {
        name: EntryName::new(e.filename),
        mode: e.mode,
        id: e.oid.to_owned(),
    }
}

/// The entries of tree `id`, in git's tree order (decoded once, then cached).
pub fn tree_entries(repo: &gix::Repository, id: ObjectId) -> Result<Rc<Vec<TreeEntry>>, GitError> {
    if let Some(hit) = TREE_CACHE.with(|c| c.borrow().get(&id).cloned()) {
        return Ok(hit);
    }
    let from_source = OBJECT_SOURCE
        .with(|s| s.borrow_mut().as_mut()?.tree_bytes(&id))
        .and_then(|bytes| decoded_entries(&bytes));
    let entries: Rc<Vec<TreeEntry>> = Rc::new(match from_source {
        Some(entries) => entries,
        None => {
            let tree = repo
                .find_tree(id)
                .map_err(|e| object_error(format!("tree {id}"), e))?;
            let decoded = tree
                .decode()
                .map_err(|e| object_error(format!("tree {id}"), e))?;
            decoded.entries.iter().map(tree_entry).collect()
        }
    });
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

#[cfg(test)]
mod tests {
    use super::*;

    /// Short names are kept inline and long ones on the heap; either way a name is its bytes.
    #[test]
    fn an_entry_name_is_its_bytes_at_any_length() {
        for len in [0, 1, INLINE_NAME - 1, INLINE_NAME, INLINE_NAME + 1, 300] {
            let bytes: Vec<u8> = (0..len).map(|i| b'a' + (i % 26) as u8).collect();
            let name = EntryName::new(&bytes);
            assert_eq!(name.as_slice(), bytes.as_slice());
            assert_eq!(name, bytes);
            assert_eq!(name, EntryName::new(&bytes));
            assert_eq!(
                matches!(name.0, NameBytes::Inline { .. }),
                len <= INLINE_NAME
            );
        }
        assert_ne!(EntryName::new(b"ab"), EntryName::new(b"ab\0"));
    }
}

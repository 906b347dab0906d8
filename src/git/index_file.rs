//! The index as the pre-commit walk reads it: each entry's path, id, mode and stage, and the
//! cache-tree.
//!
//! A hook process is short-lived, so what a big index costs is mostly memory it touches for the
//! first time: decoding all 100,000 entries of a big repository into owned entries (gix) costs
//! 6.5 ms in a fresh process, 2.2 ms of it decoding and the rest page faults. The common index
//! formats (versions 2 and 3, git's default) have a fixed layout per entry, so [`MappedIndex`]
//! maps the file and records only where each entry starts (8 bytes per entry); the walk reads an
//! entry's fields in place, and most entries are never read at all when the cache-tree shows
//! their directory unchanged. Anything else — version 4 (prefix-compressed paths), a split or
//! sparse index (the required `link` and `sdir` extensions), any other required extension, and
//! any byte that does not parse — is read by gix, which applies its own checks and reports its
//! own errors: the fast path never decides that an index is fine.

use std::ops::Range;
use std::path::Path;

use gix::hash::{oid, ObjectId};
use gix::index::entry::{Mode, Stage};
use gix::index::extension::Tree as CacheTree;

/// Length of the fixed part of an entry before the hash: ctime, mtime (8 bytes each), then dev,
/// ino, mode, uid, gid and size (4 bytes each).
const STAT_BYTES: usize = 40;
/// Length of a SHA-1 object id, the only hash the mapped reader handles.
const HASH_BYTES: usize = 20;
/// Offset of the 16-bit flags in an entry.
const FLAGS_AT: usize = STAT_BYTES + HASH_BYTES;
/// Offset of the mode in an entry.
const MODE_AT: usize = 24;
/// The flags' bits holding the name length (all set: the name is longer, read up to its NUL).
const NAME_LENGTH_MASK: u16 = 0x0fff;
/// The flag saying two bytes of extended flags follow (version 3).
const EXTENDED: u16 = 0x4000;
/// The flags' bits holding the stage.
const STAGE_MASK: u16 = 0x3000;
/// Extended flags: `git add -N` (intent to add).
const INTENT_TO_ADD: u16 = 0x2000;
/// Extended flags: skip-worktree.
const SKIP_WORKTREE: u16 = 0x4000;

/// One entry's place in the mapped file.
#[derive(Debug, Clone, Copy)]
struct EntryAt {
    /// Offset of the entry's first byte.
    offset: u32,
    /// Offset of its path's first byte.
    path_start: u32,
    /// Length of its path.
    path_len: u32,
}

/// A version 2 or 3 index read in place from its mapped file.
pub struct MappedIndex {
    data: memmap2::Mmap,
    entries: Vec<EntryAt>,
    tree: Option<CacheTree>,
}

impl MappedIndex {
    /// Maps and reads the index at `path`; `None` when its format is not one this reader takes
    /// (or it does not parse): gix must read it.
    pub fn open(path: &Path) -> Option<MappedIndex> {
        let file = std::fs::File::open(path).ok()?;
        // SAFETY: git never writes an index file in place: it writes `index.lock` and renames it
        // over the index, so the mapped bytes do not change while they are read (gix maps the
        // index on the same assumption).
        let data = unsafe { memmap2::MmapOptions::new().populate().map(&file) }.ok()?;
        let (entries, tree) = parse(&data)?;
        Some(MappedIndex {
            data,
            entries,
            tree,
        })
    }

    /// The bytes of entry `i`, from its first byte to the end of the file.
    fn at(&self, i: usize) -> &[u8] {
        &self.data[self.entries[i].offset as usize..]
    }

    fn flags(&self, i: usize) -> u16 {
        let at = self.at(i);
        u16::from_be_bytes([at[FLAGS_AT], at[FLAGS_AT + 1]])
    }

    fn extended_flags(&self, i: usize) -> u16 {
        if self.flags(i) & EXTENDED == 0 {
            return 0;
        }
        let at = self.at(i);
        u16::from_be_bytes([at[FLAGS_AT + 2], at[FLAGS_AT + 3]])
    }
}

/// The entries and cache-tree of a version 2 or 3 index; `None` for anything else.
fn parse(data: &[u8]) -> Option<(Vec<EntryAt>, Option<CacheTree>)> {
    // A file this big cannot be addressed by the 32-bit offsets; gix reads it.
    u32::try_from(data.len()).ok()?;
    let body_end = data.len().checked_sub(HASH_BYTES)?;
    let header = data.get(..12)?;
    if &header[..4] != b"DIRC" {
        return None;
    }
    let version = u32::from_be_bytes(header[4..8].try_into().ok()?);
    if version != 2 && version != 3 {
        return None;
    }
    let count = u32::from_be_bytes(header[8..12].try_into().ok()?) as usize;
    // Every entry takes at least 64 bytes: a count the file cannot hold is not trusted.
    if count > body_end / 64 {
        return None;
    }
    let mut entries = Vec::with_capacity(count);
    let mut offset = 12usize;
    for _ in 0..count {
        let entry = entry_at(data.get(offset..body_end)?, offset)?;
        entries.push(entry.0);
        offset += entry.1;
    }
    let tree = extensions(data.get(offset..body_end)?).ok()?;
    Some((entries, tree))
}

/// The entry starting at `offset` (`rest` holds the file from there to the trailing hash) and
/// its length on disk, or `None` when it does not parse.
fn entry_at(rest: &[u8], offset: usize) -> Option<(EntryAt, usize)> {
    let flags = u16::from_be_bytes(rest.get(FLAGS_AT..FLAGS_AT + 2)?.try_into().ok()?);
    let mut name_at = FLAGS_AT + 2;
    if flags & EXTENDED != 0 {
        let extended = u16::from_be_bytes(rest.get(name_at..name_at + 2)?.try_into().ok()?);
        if extended & !(INTENT_TO_ADD | SKIP_WORKTREE) != 0 {
            return None;
        }
        name_at += 2;
    }
    let name_len = match flags & NAME_LENGTH_MASK {
        NAME_LENGTH_MASK => memchr::memchr(0, rest.get(name_at..)?)?,
        len => len as usize,
    };
    // The name is followed by 1 to 8 NUL bytes, to a multiple of 8 (git's `ondisk_ce_size`).
    let len = (name_at + name_len + 8) & !7;
    if rest.get(name_at + name_len..len)?.iter().any(|&b| b != 0) {
        return None;
    }
    let entry = EntryAt {
        offset: u32::try_from(offset).ok()?,
        path_start: u32::try_from(offset + name_at).ok()?,
        path_len: u32::try_from(name_len).ok()?,
    };
    Some((entry, len))
}

/// Extensions this reader does not take: one git requires readers to understand, or bytes that
/// do not parse.
struct NotForThisReader;

/// The cache-tree among the extensions in `rest` (which ends where the trailing hash starts), if
/// there is one. An extension whose signature does not start with an uppercase letter is one git
/// requires readers to understand (`link`, `sdir`): gix reads those.
fn extensions(mut rest: &[u8]) -> Result<Option<CacheTree>, NotForThisReader> {
    let mut tree = None;
    while !rest.is_empty() {
        let header: [u8; 8] = rest
            .get(..8)
            .and_then(|h| h.try_into().ok())
            .ok_or(NotForThisReader)?;
        let size = u32::from_be_bytes([header[4], header[5], header[6], header[7]]) as usize;
        let body = rest.get(8..8 + size).ok_or(NotForThisReader)?;
        if !header[0].is_ascii_uppercase() {
            return Err(NotForThisReader);
        }
        if &header[..4] == b"TREE" {
            let decoded = gix::index::extension::tree::decode(body, gix::hash::Kind::Sha1, None);
            tree = Some(decoded.ok_or(NotForThisReader)?);
        }
        rest = &rest[8 + size..];
    }
    Ok(tree)
}

/// Whether the index in `data` (versions 2 to 4) has a TREE extension that gix does not decode.
/// git reads some of those (it reads the counts with `strtol`, skips to the end of their line, and
/// ignores bytes after the root) and commits the trees a valid cache-tree names without reading
/// the entries under them: such an index must not be walked as if it had no cache-tree.
pub fn has_unreadable_cache_tree(data: &[u8]) -> bool {
    let Some(mut rest) = entries_end(data).and_then(|end| data.get(end..)) else {
        return false;
    };
    let Some(body_end) = rest.len().checked_sub(HASH_BYTES) else {
        return false;
    };
    rest = &rest[..body_end];
    while let Some(header) = rest.get(..8) {
        let size = u32::from_be_bytes([header[4], header[5], header[6], header[7]]) as usize;
        let body = rest.get(8..8 + size);
        if &header[..4] == b"TREE" {
            return body
                .and_then(|b| gix::index::extension::tree::decode(b, gix::hash::Kind::Sha1, None))
                .is_none();
        }
        let Some(body) = body else { return false };
        rest = &rest[8 + body.len()..];
    }
    false
}

/// Where the entries of a version 2, 3 or 4 index end (its extensions start), if they parse.
fn entries_end(data: &[u8]) -> Option<usize> {
    let header = data.get(..12)?;
    let version = u32::from_be_bytes(header[4..8].try_into().ok()?);
    let count = u32::from_be_bytes(header[8..12].try_into().ok()?);
    let mut offset = 12usize;
    for _ in 0..count {
        let rest = data.get(offset..)?;
        offset += match version {
            2 | 3 => entry_at(rest, offset)?.1,
            4 => {
                // Version 4: the flags, a varint (bytes kept from the previous path), then the
                // rest of the path up to its NUL; no padding.
                let flags = u16::from_be_bytes(rest.get(FLAGS_AT..FLAGS_AT + 2)?.try_into().ok()?);
                let mut at = FLAGS_AT + 2 + if flags & EXTENDED != 0 { 2 } else { 0 };
                at += rest.get(at..)?.iter().position(|b| b & 0x80 == 0)? + 1;
                at + memchr::memchr(0, rest.get(at..)?)? + 1
            }
            _ => return None,
        };
    }
    Some(offset)
}

/// The index the pre-commit walk reads: mapped in place when its format allows, else decoded by
/// gix.
pub enum StagedIndex {
    /// A version 2 or 3 index read in place.
    Mapped(MappedIndex),
    /// Any index, decoded by gix.
    Decoded(Box<gix::index::File>),
}

impl StagedIndex {
    /// How many entries it has.
    pub fn len(&self) -> usize {
        match self {
            StagedIndex::Mapped(m) => m.entries.len(),
            StagedIndex::Decoded(f) => f.entries().len(),
        }
    }

    /// Whether it has no entry.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Entry `i`'s path (repository-relative, `/`-separated).
    pub fn path(&self, i: usize) -> &[u8] {
        match self {
            StagedIndex::Mapped(m) => {
                let e = m.entries[i];
                &m.data[e.path_start as usize..(e.path_start + e.path_len) as usize]
            }
            StagedIndex::Decoded(f) => f.entries()[i].path(f),
        }
    }

    /// Entry `i`'s object id.
    pub fn id(&self, i: usize) -> &oid {
        match self {
            StagedIndex::Mapped(m) => {
                oid::from_bytes_unchecked(&m.at(i)[STAT_BYTES..STAT_BYTES + HASH_BYTES])
            }
            StagedIndex::Decoded(f) => &f.entries()[i].id,
        }
    }

    /// Entry `i`'s mode (as gix reads it: unknown bits dropped).
    pub fn mode(&self, i: usize) -> Mode {
        match self {
            StagedIndex::Mapped(m) => {
                let at = m.at(i);
                let raw = u32::from_be_bytes([
                    at[MODE_AT],
                    at[MODE_AT + 1],
                    at[MODE_AT + 2],
                    at[MODE_AT + 3],
                ]);
                Mode::from_bits_truncate(raw)
            }
            StagedIndex::Decoded(f) => f.entries()[i].mode,
        }
    }

    /// Entry `i`'s stage (anything but unconflicted is part of a conflict).
    pub fn stage(&self, i: usize) -> Stage {
        match self {
            StagedIndex::Mapped(m) => match (m.flags(i) & STAGE_MASK) >> 12 {
                0 => Stage::Unconflicted,
                1 => Stage::Base,
                2 => Stage::Ours,
                _ => Stage::Theirs,
            },
            StagedIndex::Decoded(f) => f.entries()[i].stage(),
        }
    }

    /// Whether entry `i` was added with `git add -N` (a placeholder: nothing is staged yet).
    pub fn intent_to_add(&self, i: usize) -> bool {
        match self {
            StagedIndex::Mapped(m) => m.extended_flags(i) & INTENT_TO_ADD != 0,
            StagedIndex::Decoded(f) => f.entries()[i]
                .flags
                .contains(gix::index::entry::Flags::INTENT_TO_ADD),
        }
    }

    /// The cache-tree (TREE extension), if the index has one.
    pub fn tree(&self) -> Option<&CacheTree> {
        match self {
            StagedIndex::Mapped(m) => m.tree.as_ref(),
            StagedIndex::Decoded(f) => f.tree(),
        }
    }

    /// The first position in `range` whose entry does not satisfy `pred`, where `pred` holds for
    /// a prefix of the range (binary search, as `slice::partition_point`).
    pub fn partition_point(&self, range: Range<usize>, pred: impl Fn(&[u8]) -> bool) -> usize {
        let (mut lo, mut hi) = (range.start, range.end);
        while lo < hi {
            let mid = lo + (hi - lo) / 2;
            if pred(self.path(mid)) {
                lo = mid + 1;
            } else {
                hi = mid;
            }
        }
        lo
    }

    /// The id of the entry at `path`: the unconflicted one, else "ours" in a conflict, else the
    /// first stage present (as gix's `entry_by_path`).
    pub fn id_by_path(&self, path: &[u8]) -> Option<ObjectId> {
        let start = self.partition_point(0..self.len(), |p| p < path);
        let end = self.partition_point(start..self.len(), |p| p == path);
        let pick = (start..end)
            .find(|&i| self.stage(i) == Stage::Unconflicted)
            .or_else(|| (start..end).find(|&i| self.stage(i) == Stage::Ours))
            .or((start < end).then_some(start))?;
        Some(self.id(pick).to_owned())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::git_command;

    fn git(dir: &Path, args: &[&str]) {
        let out = git_command(dir, args).output().unwrap();
        assert!(out.status.success(), "git {args:?}: {out:?}");
    }

    /// A fresh repository in a directory of its own.
    fn repository(name: &str) -> std::path::PathBuf {
        let dir =
            std::env::temp_dir().join(format!("leakgate-index-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        git(&dir, &["init", "-q"]);
        dir
    }

    /// Everything the walk reads, entry by entry, and the cache-tree.
    fn fields(index: &StagedIndex) -> (Vec<String>, Option<String>) {
        let entries = (0..index.len())
            .map(|i| {
                format!(
                    "{} {} {:o} {:?} {}",
                    String::from_utf8_lossy(index.path(i)),
                    index.id(i),
                    index.mode(i).bits(),
                    index.stage(i),
                    index.intent_to_add(i)
                )
            })
            .collect();
        (entries, index.tree().map(|t| format!("{t:?}")))
    }

    /// What git itself lists: `mode id stage<TAB>path` per entry.
    fn git_lists(dir: &Path) -> Vec<String> {
        let out = git_command(dir, &["ls-files", "-s"]).output().unwrap();
        assert!(out.status.success());
        String::from_utf8(out.stdout)
            .unwrap()
            .lines()
            .map(String::from)
            .collect()
    }

    fn listed(index: &StagedIndex) -> Vec<String> {
        (0..index.len())
            .map(|i| {
                format!(
                    "{:06o} {} {}\t{}",
                    index.mode(i).bits(),
                    index.id(i),
                    index.stage(i) as u8,
                    String::from_utf8_lossy(index.path(i))
                )
            })
            .collect()
    }

    fn mapped(dir: &Path) -> StagedIndex {
        StagedIndex::Mapped(MappedIndex::open(&dir.join(".git/index")).expect("mapped"))
    }

    fn decoded(dir: &Path) -> StagedIndex {
        let path = dir.join(".git/index");
        let file = gix::index::File::at(path, gix::hash::Kind::Sha1, true, Default::default());
        StagedIndex::Decoded(Box::new(file.unwrap()))
    }

    fn add_info(dir: &Path, line: &str) {
        let mut child = git_command(dir, &["update-index", "--add", "--index-info"])
            .stdin(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        use std::io::Write as _;
        child
            .stdin
            .take()
            .unwrap()
            .write_all(line.as_bytes())
            .unwrap();
        assert!(child.wait().unwrap().success());
    }

    #[test]
    fn the_mapped_index_reads_what_git_lists_and_gix_decodes() {
        let dir = repository("fields");
        let d = dir.as_path();
        std::fs::create_dir_all(d.join("a/b")).unwrap();
        for (name, text) in [
            ("a/b/c.txt", "c"),
            ("a/x", "x"),
            ("top", "t"),
            ("run.sh", "r"),
        ] {
            std::fs::write(d.join(name), text).unwrap();
        }
        git(d, &["add", "."]);
        git(d, &["update-index", "--chmod=+x", "run.sh"]);
        git(
            d,
            &[
                "-c",
                "user.name=t",
                "-c",
                "user.email=t@t",
                "commit",
                "-qm",
                "one",
            ],
        );
        // An intent-to-add entry (version 3), a conflict in three stages, a symlink, a gitlink.
        std::fs::write(d.join("later"), "l").unwrap();
        git(d, &["add", "-N", "later"]);
        let blob = "e69de29bb2d1d6434b8b29ae775ad8c2e48c5391";
        for stage in ["1", "2", "3"] {
            add_info(d, &format!("100644 {blob} {stage}\tconflicted\n"));
        }
        add_info(d, &format!("120000 {blob} 0\tlink\n"));
        add_info(d, &format!("160000 {blob} 0\tmodule\n"));
        let (mapped, decoded) = (mapped(d), decoded(d));
        assert_eq!(listed(&mapped), git_lists(d));
        assert_eq!(fields(&mapped), fields(&decoded));
        assert!(mapped.tree().is_some());
        assert!((0..mapped.len()).any(|i| mapped.intent_to_add(i)));
        for path in ["conflicted", "top", "a/x", "later", "missing"] {
            assert_eq!(
                mapped.id_by_path(path.as_bytes()),
                decoded.id_by_path(path.as_bytes()),
                "{path}"
            );
        }
        // A path longer than the flags can say (4095 bytes or more) is read as git writes it:
        // padded like any other (gix 0.90 does not read such an index at all).
        add_info(d, &format!("100644 {blob} 0\ta/{}\n", "l".repeat(5000)));
        let mapped = self::mapped(d);
        assert_eq!(listed(&mapped), git_lists(d));
        assert!((0..mapped.len()).any(|i| mapped.path(i).len() > 4095));
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn version_4_and_split_indexes_are_left_to_gix() {
        let dir = repository("formats");
        let d = dir.as_path();
        std::fs::write(d.join("f"), "f").unwrap();
        git(d, &["add", "f"]);
        let index = d.join(".git/index");
        assert!(MappedIndex::open(&index).is_some());
        git(d, &["update-index", "--index-version", "4"]);
        assert!(MappedIndex::open(&index).is_none());
        git(d, &["update-index", "--index-version", "2"]);
        assert!(MappedIndex::open(&index).is_some());
        git(d, &["update-index", "--split-index"]);
        assert!(MappedIndex::open(&index).is_none(), "a `link` extension");
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn bytes_that_do_not_parse_are_left_to_gix() {
        let dir = repository("bytes");
        let d = dir.as_path();
        for name in ["a", "b", "c"] {
            std::fs::write(d.join(name), name).unwrap();
        }
        git(d, &["add", "."]);
        let good = std::fs::read(d.join(".git/index")).unwrap();
        assert!(parse(&good).is_some());
        // Every truncation, and every single flipped byte in the entries, either parses to
        // entries that stay inside the file or is refused.
        for len in 0..good.len() {
            assert!(
                parse(&good[..len]).is_none_or(|(e, _)| e.len() <= 3),
                "{len}"
            );
        }
        for at in 0..good.len() {
            let mut bad = good.clone();
            bad[at] ^= 0xff;
            if let Some((entries, _)) = parse(&bad) {
                for e in entries {
                    assert!((e.path_start + e.path_len) as usize <= bad.len() - HASH_BYTES);
                }
            }
        }
        let _ = std::fs::remove_dir_all(&dir);
    }
}

//! Packs that git and gix would read differently: refused before anything is read.
//!
//! Git skips a pack whose trailing checksum or object count does not match its index (and then
//! reads a loose copy of its objects, if any); gix reads it. Git follows a symbolic link to a
//! pack index; gix does not list it. Git reads an incremental multi-pack index
//! (`multi-pack-index.d`); gix does not. In each case a crafted repository could show git one
//! object and the scanner another under the same id, so the repository is refused with an error
//! (a failure, never a silent pass).

use std::path::Path;

use super::GitError;

/// Checks the packs of the object directory `objects` (see the module documentation).
pub fn check_packs(objects: &Path) -> Result<(), GitError> {
    let packs = objects.join("pack");
    let refuse = |what: &Path, why: &str| GitError::Open {
        path: what.display().to_string(),
        message: format!("{why}: git and this scanner could read different objects there"),
    };
    if packs.join("multi-pack-index.d").exists() {
        let chain = packs.join("multi-pack-index.d");
        return Err(refuse(
            &chain,
            "an incremental multi-pack index is not supported",
        ));
    }
    let Ok(entries) = std::fs::read_dir(&packs) else {
        return Ok(());
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.extension().is_none_or(|e| e != "idx") {
            continue;
        }
        let metadata =
            std::fs::symlink_metadata(&path).map_err(|e| refuse(&path, &e.to_string()))?;
        if metadata.file_type().is_symlink() {
            return Err(refuse(&path, "a pack index is a symbolic link"));
        }
        let pack = path.with_extension("pack");
        if !pack.exists() {
            continue;
        }
        if !pack_matches_index(&path, &pack) {
            return Err(refuse(
                &pack,
                "a pack does not match its index (git ignores it)",
            ));
        }
    }
    Ok(())
}

/// Whether `pack`'s object count and trailing checksum are the ones its index `idx` records.
fn pack_matches_index(idx: &Path, pack: &Path) -> bool {
    use std::io::{Read, Seek, SeekFrom};
    let Ok(index) = gix::odb::pack::index::File::at(idx, gix::hash::Kind::Sha1) else {
        return false;
    };
    let Ok(mut file) = std::fs::File::open(pack) else {
        return false;
    };
    let mut header = [0u8; 12];
    let mut trailer = [0u8; 20];
    let read = file.read_exact(&mut header).is_ok()
        && file.seek(SeekFrom::End(-20)).is_ok()
        && file.read_exact(&mut trailer).is_ok();
    read && header[..4] == *b"PACK"
        && u32::from_be_bytes([header[8], header[9], header[10], header[11]]) == index.num_objects()
        && trailer[..] == *index.pack_checksum().as_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::{fresh_repo, git_ok as git};

    fn packed_repo(tag: &str) -> std::path::PathBuf {
        let dir = fresh_repo(tag);
        std::fs::write(dir.join("a"), "1\n").unwrap();
        git(&dir, &["add", "-A"]);
        git(&dir, &["commit", "-qm", "one"]);
        git(&dir, &["repack", "-adq"]);
        dir
    }

    fn only(dir: &Path, ext: &str) -> std::path::PathBuf {
        std::fs::read_dir(dir.join(".git/objects/pack"))
            .unwrap()
            .flatten()
            .map(|e| e.path())
            .find(|p| p.extension().is_some_and(|e| e == ext))
            .unwrap()
    }

    /// A sound pack passes; a pack whose last byte changed, a symbolic link to an index, and an
    /// incremental multi-pack index are refused, and opening the repository fails with the
    /// reason.
    #[test]
    fn packs_git_would_read_otherwise_are_refused() {
        let dir = packed_repo("pack-check");
        let objects = dir.join(".git/objects");
        assert!(check_packs(&objects).is_ok());
        let pack = only(&dir, "pack");
        let mut bytes = std::fs::read(&pack).unwrap();
        let last = bytes.len() - 1;
        bytes[last] ^= 1;
        crate::test_support::overwrite(&pack, &bytes);
        let error = crate::git::open_repository(&dir).unwrap_err().to_string();
        assert!(error.contains("does not match its index"), "{error}");
        bytes[last] ^= 1;
        std::fs::write(&pack, &bytes).unwrap();
        assert!(check_packs(&objects).is_ok());

        let idx = only(&dir, "idx");
        let moved = dir.join("moved.idx");
        std::fs::rename(&idx, &moved).unwrap();
        std::os::unix::fs::symlink(&moved, &idx).unwrap();
        let error = check_packs(&objects).unwrap_err().to_string();
        assert!(error.contains("symbolic link"), "{error}");
        std::fs::remove_file(&idx).unwrap();
        std::fs::rename(&moved, &idx).unwrap();

        std::fs::create_dir_all(objects.join("pack/multi-pack-index.d")).unwrap();
        let error = check_packs(&objects).unwrap_err().to_string();
        assert!(error.contains("incremental multi-pack index"), "{error}");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}

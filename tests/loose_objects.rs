//! The loose-object reader (`leakgate::git::loose`) on objects real git wrote, in the harness's
//! isolated git environment: found in the first object directory that has it, absent objects
//! are `None`, and every kind of damage is an error.

use std::path::{Path, PathBuf};

use crate::common::Sandbox;
use leakgate::git::loose::read_loose_blob;

/// A bare repository written by real git.
struct Objects<'a> {
    sb: &'a Sandbox,
    git_dir: PathBuf,
}

impl Objects<'_> {
    fn new(sb: &Sandbox) -> Objects<'_> {
        Objects {
            git_dir: sb.bare_repo("objects.git"),
            sb,
        }
    }

    fn dir(&self) -> PathBuf {
        self.git_dir.join("objects")
    }

    /// `git hash-object -w` of `content` as `kind`.
    fn write(&self, kind: &str, content: &[u8]) -> gix::ObjectId {
        let out = self.sb.run_with_input(
            &self.git_dir,
            "git",
            &["hash-object", "-w", "--stdin", "-t", kind],
            content,
        );
        assert!(out.status.success());
        gix::ObjectId::from_hex(String::from_utf8(out.stdout).unwrap().trim().as_bytes()).unwrap()
    }

    fn path_of(&self, id: &gix::oid) -> PathBuf {
        let hex = id.to_hex().to_string();
        self.dir().join(&hex[..2]).join(&hex[2..])
    }
}

fn content(len: usize) -> Vec<u8> {
    (0..len).map(|i| b"abcdefghij\n"[i % 11]).collect()
}

#[test]
fn reads_what_git_wrote_from_the_first_directory_that_has_it() {
    let sb = Sandbox::new("loose-read");
    let repo = Objects::new(&sb);
    let data = content(300_000);
    let id = repo.write("blob", &data);
    let elsewhere = Path::new("/nonexistent-leakgate-dir").to_path_buf();
    let got = read_loose_blob(&[elsewhere, repo.dir()], &id, 1 << 30).unwrap();
    assert_eq!(got.unwrap(), data);
    let empty = repo.write("blob", b"");
    assert_eq!(
        read_loose_blob(&[repo.dir()], &empty, 10).unwrap().unwrap(),
        b""
    );
}

#[test]
fn absent_objects_are_none_and_damage_is_an_error() {
    let sb = Sandbox::new("loose-damage");
    let repo = Objects::new(&sb);
    let data = content(100_000);
    let id = repo.write("blob", &data);
    let other = gix::ObjectId::from_hex(b"0123456789012345678901234567890123456789").unwrap();
    assert!(read_loose_blob(&[repo.dir()], &other, 1 << 30).is_none());
    // Over the cap, or not a blob.
    assert!(read_loose_blob(&[repo.dir()], &id, 10).unwrap().is_err());
    let tree = repo.write("tree", b"");
    let err = read_loose_blob(&[repo.dir()], &tree, 10)
        .unwrap()
        .unwrap_err();
    assert!(err.to_string().contains("expected a blob"), "{err}");
    // Truncated.
    let path = repo.path_of(&id);
    let bytes = std::fs::read(&path).unwrap();
    let mut perms = std::fs::metadata(&path).unwrap().permissions();
    #[allow(clippy::permissions_set_readonly_false)]
    perms.set_readonly(false);
    std::fs::set_permissions(&path, perms).unwrap();
    std::fs::write(&path, &bytes[..bytes.len() / 2]).unwrap();
    assert!(read_loose_blob(&[repo.dir()], &id, 1 << 30)
        .unwrap()
        .is_err());
    // Trailing garbage after a complete stream.
    let mut trailing = bytes.clone();
    trailing.extend_from_slice(b"junk");
    std::fs::write(&path, &trailing).unwrap();
    let err = read_loose_blob(&[repo.dir()], &id, 1 << 30)
        .unwrap()
        .unwrap_err();
    assert!(err.to_string().contains("garbage"), "{err}");
    // Bit-flipped in the middle: zlib's structure or its adler32 trailer notices.
    let mut flipped = bytes.clone();
    let mid = flipped.len() / 2;
    flipped[mid] ^= 0x55;
    std::fs::write(&path, &flipped).unwrap();
    assert!(read_loose_blob(&[repo.dir()], &id, 1 << 30)
        .unwrap()
        .is_err());
}

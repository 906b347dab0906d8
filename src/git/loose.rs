//! Reading a big loose blob as a stream.
//!
//! gix maps a loose object's whole file and inflates it into a buffer, so the compressed and the
//! inflated bytes are resident together; this reader streams the file through a small buffer and
//! inflates on demand ([`LooseBlob`] is a [`Read`]), so a blob of any size can be scanned in
//! windows, or read into a `Vec` of exactly the size its header states.

use std::fs::File;
use std::io::{self, BufRead, BufReader, Read};
use std::path::PathBuf;

use gix::zlib::{Decompress, FlushDecompress, Status};

/// Compressed bytes held in memory at once.
const READ_BUFFER_BYTES: usize = 64 * 1024;
/// Longest loose header accepted (`<kind> <size>\0`); gix-odb uses the same limit.
const HEADER_MAX_BYTES: usize = 64;

/// A loose blob being inflated: [`Read`] yields exactly [`LooseBlob::size`] bytes, then checks
/// that the zlib stream ends there and nothing follows it (a damaged file is an error).
pub struct LooseBlob {
    size: u64,
    remaining: u64,
    input: BufReader<File>,
    zlib: Decompress,
    /// Body bytes inflated together with the header.
    prefix: Vec<u8>,
    prefix_used: usize,
    ended: bool,
    checked: bool,
}

impl LooseBlob {
    /// The blob's size, from its header.
    pub fn size(&self) -> u64 {
        self.size
    }

    /// Checks the end of the stream once the body is complete.
    fn finish(&mut self) -> io::Result<()> {
        if self.checked {
            return Ok(());
        }
        self.checked = true;
        if !self.ended {
            // The body is complete; the stream must end now (this also checks the adler32 trailer).
            let mut probe = [0u8; 1];
            let (n, end) = inflate_into(&mut self.input, &mut self.zlib, &mut probe)?;
            if n != 0 || !end {
                return Err(corrupt("loose object is longer than its header says"));
            }
        }
        // Nothing may follow the zlib stream (git refuses such a file too).
        if !self.input.fill_buf()?.is_empty() {
            return Err(corrupt("garbage at the end of the loose object"));
        }
        Ok(())
    }
}

impl Read for LooseBlob {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        if self.remaining == 0 {
            self.finish()?;
            return Ok(0);
        }
        let want = out
            .len()
            .min(usize::try_from(self.remaining).unwrap_or(usize::MAX));
        if want == 0 {
            return Ok(0);
        }
        let n = if self.prefix_used < self.prefix.len() {
            let n = want.min(self.prefix.len() - self.prefix_used);
            out[..n].copy_from_slice(&self.prefix[self.prefix_used..self.prefix_used + n]);
            self.prefix_used += n;
            n
        } else {
            if self.ended {
                return Err(corrupt("loose object is shorter than its header says"));
            }
            let (n, end) = inflate_into(&mut self.input, &mut self.zlib, &mut out[..want])?;
            self.ended = end;
            if n == 0 {
                return Err(corrupt("loose object is shorter than its header says"));
            }
            n
        };
        self.remaining -= n as u64;
        if self.remaining == 0 {
            self.finish()?;
        }
        Ok(n)
    }
}

/// Opens the loose blob `id` in the first of `objects_dirs` that holds it as a loose object, or
/// `None` when none does. Another kind of object or a damaged header is an error.
pub fn open_loose_blob(objects_dirs: &[PathBuf], id: &gix::oid) -> Option<io::Result<LooseBlob>> {
    let hex = id.to_hex().to_string();
    let (fan_out, rest) = hex.split_at(2);
    for dir in objects_dirs {
        match File::open(dir.join(fan_out).join(rest)) {
            Ok(file) => return Some(start_loose_blob(file)),
            Err(e)
                if matches!(
                    e.kind(),
                    io::ErrorKind::NotFound | io::ErrorKind::NotADirectory
                ) => {}
            Err(e) => return Some(Err(e)),
        }
    }
    None
}

/// Reads the loose blob `id` whole (see [`open_loose_blob`]); a blob over `max_size` bytes is an
/// error.
pub fn read_loose_blob(
    objects_dirs: &[PathBuf],
    id: &gix::oid,
    max_size: u64,
) -> Option<io::Result<Vec<u8>>> {
    let blob = open_loose_blob(objects_dirs, id)?;
    Some(blob.and_then(|mut blob| {
        if blob.size > max_size {
            return Err(corrupt(format!(
                "blob of {} bytes is over the {max_size}-byte cap",
                blob.size
            )));
        }
        let size = usize::try_from(blob.size).map_err(|_| corrupt("blob too large for memory"))?;
        let mut data = Vec::new();
        data.try_reserve_exact(size)
            .map_err(|e| io::Error::new(io::ErrorKind::OutOfMemory, e))?;
        blob.read_to_end(&mut data)?;
        Ok(data)
    }))
}

fn corrupt(message: impl Into<String>) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, message.into())
}

fn start_loose_blob(file: File) -> io::Result<LooseBlob> {
    let mut input = BufReader::with_capacity(READ_BUFFER_BYTES, file);
    let mut zlib = Decompress::new();
    let mut head = [0u8; HEADER_MAX_BYTES];
    let (filled, ended) = inflate_into(&mut input, &mut zlib, &mut head)?;
    let (kind, size, header_len) = gix::objs::decode::loose_header(&head[..filled])
        .map_err(|e| corrupt(format!("bad loose object header: {e}")))?;
    if kind != gix::objs::Kind::Blob {
        return Err(corrupt(format!("expected a blob, found a {kind}")));
    }
    let prefix = head[header_len..filled].to_vec();
    if prefix.len() as u64 > size {
        return Err(corrupt("loose object is longer than its header says"));
    }
    Ok(LooseBlob {
        size,
        remaining: size,
        input,
        zlib,
        prefix,
        prefix_used: 0,
        ended,
        checked: false,
    })
}

/// Inflates from `input` into `out` until `out` is full or the zlib stream ends: (bytes written,
/// whether the stream ended).
fn inflate_into(
    input: &mut impl BufRead,
    zlib: &mut Decompress,
    out: &mut [u8],
) -> io::Result<(usize, bool)> {
    let mut written = 0;
    while written < out.len() {
        let chunk = input.fill_buf()?;
        let eof = chunk.is_empty();
        let (in_before, out_before) = (zlib.total_in(), zlib.total_out());
        let flush = if eof {
            FlushDecompress::Finish
        } else {
            FlushDecompress::None
        };
        let status = zlib
            .decompress(chunk, &mut out[written..], flush)
            .map_err(|e| corrupt(format!("corrupt loose object: {e}")))?;
        let consumed = usize::try_from(zlib.total_in() - in_before).unwrap_or(usize::MAX);
        let produced = usize::try_from(zlib.total_out() - out_before).unwrap_or(usize::MAX);
        input.consume(consumed);
        written += produced;
        match status {
            Status::StreamEnd => return Ok((written, true)),
            _ if written == out.len() => break,
            _ if eof => {
                return Err(io::Error::new(
                    io::ErrorKind::UnexpectedEof,
                    "truncated loose object",
                ))
            }
            _ if consumed == 0 && produced == 0 => return Err(corrupt("zlib made no progress")),
            _ => {}
        }
    }
    Ok((written, false))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;
    use std::process::{Command, Stdio};

    /// A fresh bare repository written by real git; removed on drop.
    struct Repo(PathBuf);
    impl Repo {
        fn new(name: &str) -> Repo {
            let dir =
                std::env::temp_dir().join(format!("leakgate-loose-{name}-{}", std::process::id()));
            let _ = std::fs::remove_dir_all(&dir);
            let ok = Repo::git(&dir)
                .args(["init", "-q", "--bare"])
                .arg(&dir)
                .status()
                .unwrap()
                .success();
            assert!(ok);
            Repo(dir)
        }
        /// `git` with no inherited `GIT_*` variables and no user or system config.
        fn git(dir: &Path) -> Command {
            let mut cmd = Command::new("git");
            for (key, _) in std::env::vars_os() {
                if key.to_string_lossy().starts_with("GIT_") {
                    cmd.env_remove(&key);
                }
            }
            cmd.env("GIT_CONFIG_NOSYSTEM", "1")
                .env("GIT_CONFIG_GLOBAL", "/dev/null")
                .env("HOME", dir);
            cmd
        }
        fn objects(&self) -> PathBuf {
            self.0.join("objects")
        }
        fn write(&self, kind: &str, content: &[u8]) -> gix::ObjectId {
            let mut child = Repo::git(&self.0)
                .args(["hash-object", "-w", "--stdin", "-t", kind])
                .env("GIT_DIR", &self.0)
                .stdin(Stdio::piped())
                .stdout(Stdio::piped())
                .spawn()
                .unwrap();
            std::io::Write::write_all(&mut child.stdin.take().unwrap(), content).unwrap();
            let out = child.wait_with_output().unwrap();
            assert!(out.status.success());
            gix::ObjectId::from_hex(String::from_utf8(out.stdout).unwrap().trim().as_bytes())
                .unwrap()
        }
        fn path_of(&self, id: &gix::oid) -> PathBuf {
            let hex = id.to_hex().to_string();
            self.objects().join(&hex[..2]).join(&hex[2..])
        }
    }
    impl Drop for Repo {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }

    fn content(len: usize) -> Vec<u8> {
        (0..len).map(|i| b"abcdefghij\n"[i % 11]).collect()
    }

    #[test]
    fn reads_what_git_wrote_from_the_first_directory_that_has_it() {
        let repo = Repo::new("read");
        let data = content(300_000);
        let id = repo.write("blob", &data);
        let elsewhere = Path::new("/nonexistent-leakgate-dir").to_path_buf();
        let got = read_loose_blob(&[elsewhere, repo.objects()], &id, 1 << 30).unwrap();
        assert_eq!(got.unwrap(), data);
        let empty = repo.write("blob", b"");
        assert_eq!(
            read_loose_blob(&[repo.objects()], &empty, 10)
                .unwrap()
                .unwrap(),
            b""
        );
    }

    #[test]
    fn absent_objects_are_none_and_damage_is_an_error() {
        let repo = Repo::new("damage");
        let data = content(100_000);
        let id = repo.write("blob", &data);
        let other = gix::ObjectId::from_hex(b"0123456789012345678901234567890123456789").unwrap();
        assert!(read_loose_blob(&[repo.objects()], &other, 1 << 30).is_none());
        // Over the cap, or not a blob.
        assert!(read_loose_blob(&[repo.objects()], &id, 10)
            .unwrap()
            .is_err());
        let tree = repo.write("tree", b"");
        let err = read_loose_blob(&[repo.objects()], &tree, 10)
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
        assert!(read_loose_blob(&[repo.objects()], &id, 1 << 30)
            .unwrap()
            .is_err());
        // Trailing garbage after a complete stream.
        let mut trailing = bytes.clone();
        trailing.extend_from_slice(b"junk");
        std::fs::write(&path, &trailing).unwrap();
        let err = read_loose_blob(&[repo.objects()], &id, 1 << 30)
            .unwrap()
            .unwrap_err();
        assert!(err.to_string().contains("garbage"), "{err}");
        // Bit-flipped in the middle: zlib's structure or its adler32 trailer notices.
        let mut flipped = bytes.clone();
        let mid = flipped.len() / 2;
        flipped[mid] ^= 0x55;
        std::fs::write(&path, &flipped).unwrap();
        assert!(read_loose_blob(&[repo.objects()], &id, 1 << 30)
            .unwrap()
            .is_err());
    }
}

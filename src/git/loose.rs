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

//! Scanning a blob of any size in bounded memory: the bytes are read in windows of
//! [`WINDOW_BYTES`] that overlap by twice [`MATCH_REACH`], and each window reports only the
//! secrets that start in its own share, so no match is lost at a boundary and none is reported
//! twice.
//!
//! Window `k` reports what overlaps `[r_k, r_{k+1})`; it reads from `r_k - MATCH_REACH` to
//! `r_{k+1} + MATCH_REACH`. Any match up to [`MATCH_REACH`] bytes long that touches a window's share
//! lies wholly inside that window.

use std::collections::HashSet;
use std::io::{self, Read};

use crate::added::AddedText;
use crate::finding::Finding;
use crate::scanner::{ScanError, Scanner, Suppressed, MULTILINE_WINDOW};

/// Bytes each window reports for.
pub const WINDOW_BYTES: usize = 8 << 20;
/// The longest match the windows are guaranteed to see whole (the multiline window).
pub const MATCH_REACH: usize = MULTILINE_WINDOW;

/// Errors while scanning a stream.
#[derive(Debug, thiserror::Error)]
pub enum StreamError {
    /// Reading failed (a damaged object).
    #[error(transparent)]
    Read(#[from] io::Error),
    /// A rule failed.
    #[error(transparent)]
    Scan(#[from] ScanError),
}

/// What a stream scan read and found.
#[derive(Debug, Default)]
pub struct StreamScan {
    /// Findings, in stream order.
    pub findings: Vec<Finding>,
    /// Secrets that suppressions silenced.
    pub suppressed: Vec<Suppressed>,
    /// Bytes read and scanned.
    pub bytes: u64,
}

/// Scans up to `limit` bytes of `reader` as one all-added unit named `path`.
pub fn scan_stream(
    scanner: &Scanner,
    path: &[u8],
    commit: Option<&str>,
    reader: &mut dyn Read,
    limit: u64,
) -> Result<StreamScan, StreamError> {
    let mut reader = reader.take(limit);
    let full = WINDOW_BYTES + 2 * MATCH_REACH;
    let mut buf: Vec<u8> = Vec::with_capacity(full);
    let (mut first_line, mut first_column) = (1usize, 1usize);
    let mut share_start = 0usize;
    let mut out = StreamScan::default();
    let mut seen: HashSet<(usize, String, crate::finding::Secret)> = HashSet::new();
    loop {
        let before = buf.len();
        let eof = fill(&mut reader, &mut buf, full)?;
        out.bytes += (buf.len() - before) as u64;
        let share_end = if eof {
            buf.len()
        } else {
            buf.len() - MATCH_REACH
        };
        let mut unit = AddedText::window(path, std::mem::take(&mut buf), first_line, first_column);
        unit.set_added(share_start, share_end);
        unit.commit = commit.map(str::to_string);
        let scanned = scanner.scan_all(&unit)?;
        for f in scanned.findings {
            // A secret across the share boundary is seen by both windows.
            if seen.insert((f.line, f.rule.clone(), f.secret.clone())) {
                out.findings.push(f);
            }
        }
        for s in scanned.suppressed {
            if seen.insert((
                s.finding.line,
                s.finding.rule.clone(),
                s.finding.secret.clone(),
            )) {
                out.suppressed.push(s);
            }
        }
        buf = unit.buf;
        if eof {
            return Ok(out);
        }
        let keep_from = share_end - MATCH_REACH;
        let dropped = &buf[..keep_from];
        first_line += memchr::memchr_iter(b'\n', dropped).count();
        first_column = match memchr::memrchr(b'\n', dropped) {
            Some(i) => keep_from - i,
            None => first_column + keep_from,
        };
        buf.drain(..keep_from);
        share_start = MATCH_REACH;
    }
}

/// Reads into `buf` until it holds `full` bytes; returns whether the input ended first.
fn fill(reader: &mut impl Read, buf: &mut Vec<u8>, full: usize) -> io::Result<bool> {
    let mut filled = buf.len();
    buf.resize(full, 0);
    while filled < full {
        match reader.read(&mut buf[filled..]) {
            Ok(0) => {
                buf.truncate(filled);
                return Ok(true);
            }
            Ok(n) => filled += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => {
                buf.truncate(filled);
                return Err(e);
            }
        }
    }
    Ok(false)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scanner() -> Scanner {
        crate::scanner::test_scanner(crate::scanner::TEST_RULES)
    }

    #[test]
    fn a_secret_at_every_boundary_is_found_once_with_its_line() {
        let s = scanner();
        let token = b" acme_Q8zR2mLx9VtB4nW7 ";
        let line = b"filler line of text\n";
        let lines = (2 * WINDOW_BYTES + 4 * MATCH_REACH) / line.len();
        let mut data = Vec::new();
        for _ in 0..lines {
            data.extend_from_slice(line);
        }
        // Tokens straddling each window's share boundary and at the very end.
        let boundary = WINDOW_BYTES + MATCH_REACH;
        let mut places = [
            boundary - 5,
            2 * boundary - MATCH_REACH - 3,
            data.len() - 30,
        ];
        places.sort_unstable();
        for &at in places.iter().rev() {
            data.splice(at..at, token.iter().copied());
        }
        let expected_lines: Vec<usize> = places
            .iter()
            .enumerate()
            .map(|(i, &at)| {
                let at = at + i * token.len();
                1 + data[..at].iter().filter(|&&b| b == b'\n').count()
            })
            .collect();
        let total = data.len() as u64;
        let got = scan_stream(&s, b"big", None, &mut data.as_slice(), u64::MAX).unwrap();
        let lines: Vec<usize> = got.findings.iter().map(|f| f.line).collect();
        assert_eq!(lines, expected_lines);
        assert_eq!(got.bytes, total);
        // A limit stops reading: the last token is beyond it.
        let got = scan_stream(&s, b"big", None, &mut data.as_slice(), total - 100).unwrap();
        assert_eq!(got.findings.len(), 2);
        assert_eq!(got.bytes, total - 100);
    }
}

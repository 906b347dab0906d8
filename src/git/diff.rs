//! Added lines of a blob relative to one or more old versions.
//!
//! A line counts as added when it is added relative to **every** old version (a merge contributes
//! only lines none of its parents has). The diff is git's histogram line diff with its
//! post-processing, so the added lines match `git diff`; for very large inputs a set-based
//! fallback (lines whose content does not occur in the old blob) bounds the cost.

use std::collections::HashSet;

use gix_imara_diff::{Algorithm, Diff, InternedInput};

use crate::added::AddedText;

/// Above this many lines on either side, the set-based fallback is used instead of a line diff.
pub const DIFF_LINE_LIMIT: usize = 200_000;

/// Splits `data` into lines, each with its terminator (`\n` or `\r\n`); a last line may lack one.
pub fn lines(data: &[u8]) -> Vec<&[u8]> {
    let mut out = Vec::new();
    let mut start = 0;
    for i in memchr::memchr_iter(b'\n', data) {
        out.push(&data[start..=i]);
        start = i + 1;
    }
    if start < data.len() {
        out.push(&data[start..]);
    }
    out
}

/// Which lines of `new` (by 0-based index) are added relative to `old`.
fn added_relative_to(old: &[u8], new: &[u8], new_lines: &[&[u8]]) -> Vec<bool> {
    let old_lines = lines(old);
    if old_lines.len() > DIFF_LINE_LIMIT || new_lines.len() > DIFF_LINE_LIMIT {
        let present: HashSet<&[u8]> = old_lines.iter().map(|l| trim_eol(l)).collect();
        return new_lines
            .iter()
            .map(|l| !present.contains(trim_eol(l)))
            .collect();
    }
    let input = InternedInput::new(old, new);
    let mut diff = Diff::compute(Algorithm::Histogram, &input);
    diff.postprocess_lines(&input);
    (0..new_lines.len())
        .map(|i| diff.is_added(i as u32))
        .collect()
}

fn trim_eol(line: &[u8]) -> &[u8] {
    let line = line.strip_suffix(b"\n").unwrap_or(line);
    line.strip_suffix(b"\r").unwrap_or(line)
}

/// The added text of `new` relative to every blob in `olds` (none: the whole blob is added, and
/// becomes the unit's buffer without a copy).
pub fn added_text(path: &[u8], olds: &[&[u8]], new: Vec<u8>) -> AddedText {
    if olds.is_empty() {
        return AddedText::whole(path.to_vec(), new);
    }
    let new = new.as_slice();
    let new_lines = lines(new);
    let mut added = vec![true; new_lines.len()];
    for old in olds {
        if added.iter().all(|a| !a) {
            break;
        }
        let relative = added_relative_to(old, new, &new_lines);
        for (a, r) in added.iter_mut().zip(relative) {
            *a &= r;
        }
    }
    let mut text = AddedText::new(path.to_vec());
    for (i, line) in new_lines.iter().enumerate() {
        if added[i] {
            text.push_line(i + 1, line);
        }
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_added_lines_with_new_line_numbers() {
        let old = b"a\nb\nc\n";
        let new = b"a\nx\nb\nc\ny\n";
        let t = added_text(b"f", &[old], new.to_vec());
        assert_eq!(t.buf, b"x\ny\n");
        assert_eq!(t.position(0), (2, 1));
        assert_eq!(t.position(2), (5, 1));
    }

    #[test]
    fn merge_keeps_only_lines_new_to_every_parent() {
        let p1 = b"base\nfrom-one\n";
        let p2 = b"base\nfrom-two\n";
        let merged = b"base\nfrom-one\nfrom-two\nevil\n";
        let t = added_text(b"f", &[p1, p2], merged.to_vec());
        assert_eq!(t.buf, b"evil\n");
        assert_eq!(t.position(0).0, 4);
    }

    #[test]
    fn crlf_and_missing_final_newline() {
        let t = added_text(b"f", &[b"a\r\n"], b"a\r\nb".to_vec());
        assert_eq!(t.buf, b"b\n");
    }

    #[test]
    fn new_file_is_whole() {
        let t = added_text(b"f", &[], b"x\ny".to_vec());
        assert_eq!(t.buf, b"x\ny");
        assert_eq!(t.hunks.len(), 1);
    }
}

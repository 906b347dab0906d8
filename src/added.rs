//! Added text: the unit the scanner works on.
//!
//! An [`AddedText`] is the added lines of one blob (or the whole of a plain file), concatenated into
//! one buffer, with the map back to line numbers in the source blob. Contiguous added lines form a
//! [`Hunk`]; the scanner never lets a match cross from one hunk into the next.

/// A run of contiguous added lines.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Hunk {
    /// Offset of the hunk's first byte in [`AddedText::buf`].
    pub offset: usize,
    /// 1-based line number of the hunk's first line in the source blob.
    pub first_line: usize,
}

/// The added lines of one blob, with where they came from.
#[derive(Debug, Clone, Default)]
pub struct AddedText {
    /// Path of the blob (bytes as git stores them; escaped only when printed).
    pub path: Vec<u8>,
    /// Commit that introduced the lines, when scanning history.
    pub commit: Option<String>,
    /// The added lines, each hunk's lines contiguous.
    pub buf: Vec<u8>,
    /// Hunks in buffer order (offsets increasing).
    pub hunks: Vec<Hunk>,
    /// Line number that would continue the last hunk (0: none yet).
    next_line: usize,
}

impl AddedText {
    /// A unit whose every line is added (a new file, a plain file on disk, a commit message).
    pub fn whole(path: impl Into<Vec<u8>>, buf: Vec<u8>) -> Self {
        AddedText {
            path: path.into(),
            commit: None,
            buf,
            hunks: vec![Hunk {
                offset: 0,
                first_line: 1,
            }],
            next_line: 0,
        }
    }

    /// An empty unit for `path`, to be filled with [`AddedText::push_line`].
    pub fn new(path: impl Into<Vec<u8>>) -> Self {
        AddedText {
            path: path.into(),
            ..Default::default()
        }
    }

    /// Appends one added line (1-based `line_number` in the source blob). A line that does not
    /// continue the previous one starts a new hunk. A missing final newline is added.
    pub fn push_line(&mut self, line_number: usize, text: &[u8]) {
        if self.next_line == 0 || line_number != self.next_line {
            self.hunks.push(Hunk {
                offset: self.buf.len(),
                first_line: line_number,
            });
        }
        self.buf.extend_from_slice(text);
        if text.last() != Some(&b'\n') {
            self.buf.push(b'\n');
        }
        self.next_line = line_number + 1;
    }

    /// Whether there is nothing to scan.
    pub fn is_empty(&self) -> bool {
        self.buf.is_empty()
    }

    /// Index of the hunk that holds byte `offset`.
    pub fn hunk_index(&self, offset: usize) -> usize {
        self.hunks
            .partition_point(|h| h.offset <= offset)
            .saturating_sub(1)
    }

    /// End (exclusive) of hunk `index` in the buffer.
    pub fn hunk_end(&self, index: usize) -> usize {
        self.hunks
            .get(index + 1)
            .map_or(self.buf.len(), |h| h.offset)
    }

    /// 1-based line number in the source blob and 1-based byte column of buffer `offset`.
    pub fn position(&self, offset: usize) -> (usize, usize) {
        let Some(hunk) = self.hunks.get(self.hunk_index(offset)) else {
            return (1, offset + 1);
        };
        let before = &self.buf[hunk.offset..offset.min(self.buf.len())];
        let newlines = memchr::memchr_iter(b'\n', before).count();
        let line_start =
            memchr::memrchr(b'\n', before).map_or(hunk.offset, |i| hunk.offset + i + 1);
        (hunk.first_line + newlines, offset - line_start + 1)
    }

    /// The bytes of the line that holds buffer `offset` (without its newline).
    pub fn line_at(&self, offset: usize) -> &[u8] {
        let offset = offset.min(self.buf.len());
        let start = memchr::memrchr(b'\n', &self.buf[..offset]).map_or(0, |i| i + 1);
        let end = memchr::memchr(b'\n', &self.buf[offset..]).map_or(self.buf.len(), |i| offset + i);
        &self.buf[start..end]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn whole_file_positions() {
        let t = AddedText::whole("a", b"one\ntwo\r\nthree".to_vec());
        assert_eq!(t.position(0), (1, 1));
        assert_eq!(t.position(4), (2, 1));
        assert_eq!(t.position(11), (3, 3));
        assert_eq!(t.line_at(5), b"two\r");
    }

    #[test]
    fn pushed_lines_form_hunks_with_blob_line_numbers() {
        let mut t = AddedText::new("a");
        t.push_line(3, b"alpha\n");
        t.push_line(4, b"beta");
        t.push_line(10, b"gamma\n");
        assert_eq!(t.hunks.len(), 2);
        assert_eq!(t.buf, b"alpha\nbeta\ngamma\n");
        assert_eq!(t.position(6), (4, 1));
        assert_eq!(t.position(13), (10, 3));
        assert_eq!(t.hunk_end(0), 11);
        assert_eq!(t.hunk_index(12), 1);
    }
}

//! Added text: the unit the scanner works on.
//!
//! An [`AddedText`] holds the added lines of one blob (or the whole of a plain file) **in their
//! context**: each run of added lines comes with up to [`CONTEXT_BYTES`] of the unchanged lines
//! around it, so that a rule can see a PEM block's unchanged `BEGIN` line or a YAML key on the line
//! above an added value. The unit remembers which bytes are added; a finding counts only when its
//! secret overlaps them (see `docs/SCANNING.md`). Lines that are contiguous in the blob form a
//! [`Hunk`]; the scanner never lets a match cross from one hunk into the next.

use std::sync::OnceLock;

/// Unchanged bytes kept before and after each run of added lines (whole lines, at least one line
/// on each side when it exists). Equal to the scanner's multiline window, so that a multiline
/// match that overlaps an added line is seen from its first line to its last.
pub const CONTEXT_BYTES: usize = crate::scanner::MULTILINE_WINDOW;

/// A run of lines that are contiguous in the source blob.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Hunk {
    /// Offset of the hunk's first byte in [`AddedText::buf`].
    pub offset: usize,
    /// 1-based line number of the hunk's first line in the source blob.
    pub first_line: usize,
    /// 1-based column of the hunk's first byte in its line (1 unless a window of a stream
    /// starts inside a line).
    pub first_column: usize,
}

/// The added lines of one blob with their context, and where they came from.
#[derive(Debug, Clone, Default)]
pub struct AddedText {
    /// Path of the blob (bytes as git stores them; escaped only when printed).
    pub path: Vec<u8>,
    /// Commit that introduced the lines, when scanning history.
    pub commit: Option<String>,
    /// The lines, each hunk's lines contiguous.
    pub buf: Vec<u8>,
    /// Hunks in buffer order (offsets increasing).
    pub hunks: Vec<Hunk>,
    /// Byte ranges of `buf` that are added (sorted, disjoint); the rest is context.
    added: Vec<(usize, usize)>,
    /// The old versions the added lines were diffed against (empty for a whole unit).
    pub previous: Vec<Vec<u8>>,
    /// Whether lines were also removed (so a unit with no added line is still an edit to check).
    pub deletions: bool,
    /// Line number that would continue the last hunk (0: none yet).
    next_line: usize,
    /// Offsets of `buf`'s line feeds, built by the first [`AddedText::position`] far into a
    /// hunk (so that a unit with many findings does not count its lines again for each).
    newlines: OnceLock<Vec<usize>>,
}

/// How far into a hunk [`AddedText::position`] counts line feeds itself; past it, it uses the
/// unit's index of them.
const COUNTED_BYTES: usize = 64 * 1024;

impl AddedText {
    /// A unit whose every line is added (a new file, a plain file on disk, a commit message).
    pub fn whole(path: impl Into<Vec<u8>>, buf: Vec<u8>) -> Self {
        let len = buf.len();
        AddedText {
            path: path.into(),
            commit: None,
            buf,
            hunks: vec![Hunk {
                offset: 0,
                first_line: 1,
                first_column: 1,
            }],
            added: vec![(0, len)],
            previous: Vec::new(),
            deletions: false,
            next_line: 0,
            newlines: OnceLock::new(),
        }
    }

    /// A unit holding every line of a blob (each one added or kept as context, the last one
    /// ending with a line feed): `buf` is the blob itself, not a copy, and `added` the byte ranges
    /// of its added lines (sorted, disjoint). The same unit as pushing each line in turn.
    pub fn all_lines(path: impl Into<Vec<u8>>, buf: Vec<u8>, added: Vec<(usize, usize)>) -> Self {
        let mut unit = AddedText::whole(path, buf);
        unit.added = added;
        unit
    }

    /// A whole unit that is one window of a bigger blob: its first byte is at line
    /// `first_line`, column `first_column` of the blob.
    pub fn window(
        path: impl Into<Vec<u8>>,
        buf: Vec<u8>,
        first_line: usize,
        first_column: usize,
    ) -> Self {
        let mut unit = AddedText::whole(path, buf);
        unit.hunks[0].first_line = first_line;
        unit.hunks[0].first_column = first_column;
        unit
    }

    /// Makes only `start..end` of the buffer count as added (the rest is context).
    pub fn set_added(&mut self, start: usize, end: usize) {
        self.added = vec![(start.min(end), end)];
    }

    /// An empty unit for `path`, to be filled with [`AddedText::push_line`] and
    /// [`AddedText::push_context_line`].
    pub fn new(path: impl Into<Vec<u8>>) -> Self {
        AddedText {
            path: path.into(),
            ..Default::default()
        }
    }

    /// Appends one added line (1-based `line_number` in the source blob). A line that does not
    /// continue the previous one starts a new hunk. A missing final newline is added.
    pub fn push_line(&mut self, line_number: usize, text: &[u8]) {
        let start = self.append(line_number, text);
        match self.added.last_mut() {
            Some(last) if last.1 == start => last.1 = self.buf.len(),
            _ => self.added.push((start, self.buf.len())),
        }
    }

    /// Appends `text`, whole lines each ending with a line feed, all added, the first numbered
    /// `first_line` (1-based) and the rest after it; returns the number after the last. The same
    /// unit as pushing each line in turn with [`AddedText::push_line`], at one copy's cost.
    pub fn push_lines(&mut self, first_line: usize, text: &[u8]) -> usize {
        if text.is_empty() {
            return first_line;
        }
        let start = self.append(first_line, text);
        match self.added.last_mut() {
            Some(last) if last.1 == start => last.1 = self.buf.len(),
            _ => self.added.push((start, self.buf.len())),
        }
        let unterminated = usize::from(text.last() != Some(&b'\n'));
        let next = first_line + memchr::memchr_iter(b'\n', text).count() + unterminated;
        self.next_line = next;
        next
    }

    /// Appends one unchanged line kept as context: rules see it, but a finding that lies wholly
    /// in context lines is not reported.
    pub fn push_context_line(&mut self, line_number: usize, text: &[u8]) {
        self.append(line_number, text);
    }

    fn append(&mut self, line_number: usize, text: &[u8]) -> usize {
        if self.next_line == 0 || line_number != self.next_line {
            self.hunks.push(Hunk {
                offset: self.buf.len(),
                first_line: line_number,
                first_column: 1,
            });
        }
        let start = self.buf.len();
        self.newlines = OnceLock::new();
        self.buf.extend_from_slice(text);
        if text.last() != Some(&b'\n') {
            self.buf.push(b'\n');
        }
        self.next_line = line_number + 1;
        start
    }

    /// Whether a match lying in context lines is still new: none of the old versions holds it
    /// whole, so an edit next to it completed it (a PEM block's END line added). Whole units
    /// have no old versions: their every byte is added anyway.
    pub fn is_new_value(&self, matched: &[u8]) -> bool {
        !self.previous.is_empty()
            && !matched.is_empty()
            && self
                .previous
                .iter()
                .all(|old| memchr::memmem::find(old, matched).is_none())
    }

    /// Whether nothing in the unit is new: no line added and none removed (so nothing can be
    /// reported).
    pub fn is_empty(&self) -> bool {
        !self.deletions && self.added.iter().all(|(s, e)| s == e)
    }

    /// Bytes of added text (context excluded).
    pub fn added_bytes(&self) -> u64 {
        self.added.iter().map(|(s, e)| (e - s) as u64).sum()
    }

    /// Whether the byte range `start..end` of the buffer overlaps an added line (an empty range
    /// counts when it sits inside one).
    pub fn overlaps_added(&self, start: usize, end: usize) -> bool {
        let end = end.max(start + 1);
        let i = self.added.partition_point(|&(_, e)| e <= start);
        self.added.get(i).is_some_and(|&(s, _)| s < end)
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
        let end = offset.min(self.buf.len());
        let before = &self.buf[hunk.offset..end];
        // The line feeds before `offset` in the hunk: how many, and the last one's offset.
        let (newlines, last) = if before.len() <= COUNTED_BYTES {
            let last = memchr::memrchr(b'\n', before).map(|i| hunk.offset + i);
            (memchr::memchr_iter(b'\n', before).count(), last)
        } else {
            let all = self
                .newlines
                .get_or_init(|| memchr::memchr_iter(b'\n', &self.buf).collect());
            let (from, to) = (
                all.partition_point(|&i| i < hunk.offset),
                all.partition_point(|&i| i < end),
            );
            (
                to - from,
                to.checked_sub(1).filter(|&i| i >= from).map(|i| all[i]),
            )
        };
        match last {
            Some(i) => (hunk.first_line + newlines, offset - i),
            None => (hunk.first_line, offset - hunk.offset + hunk.first_column),
        }
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

    /// Far into a hunk, positions come from the index of line feeds: the same as counting, in
    /// every hunk, and again after more lines are pushed.
    #[test]
    fn far_positions_match_counted_ones() {
        let line = |i: usize| format!("line {i} {}\n", "x".repeat(i % 90));
        let mut t = AddedText::new("a");
        for i in 1..4000 {
            t.push_line(i, line(i).as_bytes());
        }
        let counted = |t: &AddedText, offset: usize| {
            let hunk = &t.hunks[t.hunk_index(offset)];
            let before = &t.buf[hunk.offset..offset];
            match memchr::memrchr(b'\n', before) {
                Some(i) => (
                    hunk.first_line + memchr::memchr_iter(b'\n', before).count(),
                    offset - (hunk.offset + i),
                ),
                None => (hunk.first_line, offset - hunk.offset + hunk.first_column),
            }
        };
        let check = |t: &AddedText| {
            for offset in (0..t.buf.len()).step_by(997).chain([t.buf.len() - 1]) {
                assert_eq!(t.position(offset), counted(t, offset), "at {offset}");
            }
        };
        check(&t);
        // A second hunk far from the first, then more lines of it.
        for i in 9000..12000 {
            t.push_line(i, line(i).as_bytes());
        }
        check(&t);
        assert!(t.buf.len() > 2 * COUNTED_BYTES);
    }

    #[test]
    fn whole_file_positions() {
        let t = AddedText::whole("a", b"one\ntwo\r\nthree".to_vec());
        assert_eq!(t.position(0), (1, 1));
        assert_eq!(t.position(4), (2, 1));
        assert_eq!(t.position(11), (3, 3));
        assert_eq!(t.line_at(5), b"two\r");
        assert!(t.overlaps_added(0, 3));
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

    /// Blocks of lines pushed at once make the unit that pushing them line by line makes: the
    /// same buffer, hunks, added ranges and positions, with blocks that continue the previous
    /// one, blocks after a gap, an empty block, and an unterminated last line.
    #[test]
    fn pushed_blocks_equal_pushed_lines() {
        let blocks: [(usize, &[u8]); 5] = [
            (1, b"a\nbb\n"),
            (3, b"ccc\n"),
            (9, b""),
            (9, b"d\n\ne\n"),
            (20, b"f\ng"),
        ];
        let (mut by_block, mut by_line) = (AddedText::new("a"), AddedText::new("a"));
        for (first, text) in blocks {
            let next = by_block.push_lines(first, text);
            let mut number = first;
            for line in text.split_inclusive(|&b| b == b'\n') {
                by_line.push_line(number, line);
                number += 1;
            }
            assert_eq!(next, number, "block at {first}");
        }
        assert_eq!(by_block.buf, by_line.buf);
        assert_eq!(by_block.hunks, by_line.hunks);
        assert_eq!(by_block.added, by_line.added);
        for offset in 0..by_block.buf.len() {
            assert_eq!(by_block.position(offset), by_line.position(offset));
        }
    }

    #[test]
    fn context_lines_are_seen_but_not_added() {
        let mut t = AddedText::new("a");
        t.push_context_line(1, b"begin\n");
        t.push_line(2, b"body\n");
        t.push_context_line(3, b"end\n");
        assert_eq!(t.hunks.len(), 1);
        assert_eq!(t.added_bytes(), 5);
        assert!(!t.overlaps_added(0, 6));
        assert!(t.overlaps_added(0, 7));
        assert!(t.overlaps_added(8, 9));
        assert!(!t.overlaps_added(11, 14));
        assert!(!t.is_empty());
        let mut only_context = AddedText::new("b");
        only_context.push_context_line(1, b"x\n");
        assert!(only_context.is_empty());
    }
}

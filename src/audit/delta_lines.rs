//! Which lines of a blob its pack delta changed: the audit's prescan scans only those (with their
//! neighbours) when the delta's base scanned clean, instead of the whole blob.
//!
//! A git delta rebuilds a blob from its base with two instructions: copy a byte range of the base,
//! or insert new bytes. A line of the blob is *settled* when it and its neighbours — the line
//! before it and the two after it — lie in one copied range whose bytes equal the base's (checked
//! here byte for byte, so a wrong delta can only make lines changed), and the copied range starts
//! at a line start of the base. When the line is the blob's first, its copy must start at the
//! base's first byte; when its neighbours reach the blob's last line, the copy must end at the
//! base's last byte. Then the base holds the same four lines, consecutive, at the same place
//! relative to the start or the end of the file where that matters.
//!
//! Why that is enough: the scanner's single-line rules look at one line (and, for a value
//! written on the line after its name, the next one), and what it keeps of them depends on the
//! spans found on the same lines; so what it reports from a settled line it reports from the same
//! line of the base. Multiline rules reach further: `ChangeScanner::scans_clean_changed` runs
//! them over the whole blob, never over the changed lines alone.

use std::collections::VecDeque;

use crate::added::AddedText;

/// A copied range: `start..end` of the blob equals `source..source + (end - start)` of the base.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Copied {
    /// First byte in the blob.
    pub start: usize,
    /// End (exclusive) in the blob.
    pub end: usize,
    /// First byte in the base.
    pub source: usize,
}

/// Reads one size of a delta's header (7 bits a byte, low bits first).
fn header_size(delta: &[u8], at: &mut usize) -> Option<usize> {
    let mut value: u64 = 0;
    let mut shift = 0u32;
    loop {
        let byte = *delta.get(*at)?;
        *at += 1;
        if shift > 63 {
            return None;
        }
        value |= u64::from(byte & 0x7f).checked_shl(shift)?;
        shift += 7;
        if byte & 0x80 == 0 {
            return usize::try_from(value).ok();
        }
    }
}

/// The little-endian number whose bytes `flags` (bits from `first_bit`, `count` of them) say are
/// present, read from `delta` at `at`.
fn packed_number(
    delta: &[u8],
    at: &mut usize,
    flags: u8,
    first_bit: u32,
    count: u32,
) -> Option<usize> {
    let mut value = 0usize;
    for i in 0..count {
        if flags & (1 << (first_bit + i)) != 0 {
            value |= usize::from(*delta.get(*at)?) << (8 * i);
            *at += 1;
        }
    }
    Some(value)
}

/// Rebuilds into `out` (cleared first) the blob that `delta` (git's delta format) makes of
/// `base`, and returns its copied ranges, adjacent copies of adjacent base bytes joined; `None`
/// when the delta is not one of `base` (its header names another size, an instruction reads
/// past the base or the delta, or the result is not the size its header names), or when its
/// header names a blob over `max_len` bytes (refused before anything is allocated for it: a few
/// bytes of copies can name gigabytes). The copied ranges hold by construction: each is a copy
/// of the base into `out`.
pub fn apply(delta: &[u8], base: &[u8], out: &mut Vec<u8>, max_len: usize) -> Option<Vec<Copied>> {
    out.clear();
    let mut at = 0;
    if header_size(delta, &mut at)? != base.len() {
        return None;
    }
    let size = header_size(delta, &mut at)?;
    if size > max_len {
        return None;
    }
    out.reserve_exact(size);
    let mut copies: Vec<Copied> = Vec::new();
    while at < delta.len() {
        let op = delta[at];
        at += 1;
        let start = out.len();
        if op & 0x80 != 0 {
            let source = packed_number(delta, &mut at, op, 0, 4)?;
            let mut len = packed_number(delta, &mut at, op, 4, 3)?;
            if len == 0 {
                len = 0x10000;
            }
            out.extend_from_slice(base.get(source..source.checked_add(len)?)?);
            match copies.last_mut() {
                Some(last)
                    if last.end == start && last.source + (last.end - last.start) == source =>
                {
                    last.end = out.len();
                }
                _ => copies.push(Copied {
                    start,
                    end: out.len(),
                    source,
                }),
            }
        } else if op != 0 {
            let end = at.checked_add(usize::from(op))?;
            out.extend_from_slice(delta.get(at..end)?);
            at = end;
        } else {
            return None;
        }
        if out.len() > size {
            return None;
        }
    }
    (out.len() == size).then_some(copies)
}

/// The copied ranges of `delta` that rebuild `blob` from `base` ([`apply`]); `None` when the
/// delta does not rebuild exactly `blob`.
#[cfg(test)]
pub(crate) fn copied_ranges(delta: &[u8], base: &[u8], blob: &[u8]) -> Option<Vec<Copied>> {
    let mut out = Vec::new();
    let copies = apply(delta, base, &mut out, usize::MAX)?;
    (out == blob).then_some(copies)
}

/// Line ends found searching forward from places that come in increasing order: the line feeds
/// past the last place are remembered, so a blob with many changed places on one long line
/// (minified code) is searched once, not once per place.
struct ForwardLines<'a> {
    data: &'a [u8],
    /// The line feeds in `from..searched`, in order.
    feeds: VecDeque<usize>,
    from: usize,
    searched: usize,
}

impl<'a> ForwardLines<'a> {
    fn new(data: &'a [u8]) -> Self {
        ForwardLines {
            data,
            feeds: VecDeque::new(),
            from: 0,
            searched: 0,
        }
    }

    /// The end (past its line feed) of the `n`-th line after the one that holds byte `at` (or
    /// the end of the data). A place before the previous one starts the search afresh.
    fn lines_forward(&mut self, at: usize, n: usize) -> usize {
        if at < self.from || at > self.searched {
            self.feeds.clear();
            self.searched = at;
        }
        self.from = at;
        while self.feeds.front().is_some_and(|&f| f < at) {
            self.feeds.pop_front();
        }
        while self.feeds.len() <= n && self.searched < self.data.len() {
            match memchr::memchr(b'\n', &self.data[self.searched..]) {
                Some(p) => {
                    self.feeds.push_back(self.searched + p);
                    self.searched += p + 1;
                }
                None => self.searched = self.data.len(),
            }
        }
        self.feeds.get(n).map_or(self.data.len(), |f| f + 1)
    }
}

/// The start of the `n`-th line before the one that holds byte `at` (`at` at least `floor`),
/// searching no lower than `floor`; `None` when that line starts at or before `floor` (at the
/// data's start when `floor` is 0).
fn lines_back_above(data: &[u8], at: usize, n: usize, floor: usize) -> Option<usize> {
    let mut end = at;
    for _ in 0..=n {
        end = floor + memchr::memrchr(b'\n', &data[floor..end])?;
    }
    Some(end + 1)
}

/// The two line searches [`changed_regions`] makes, answered by searching the blob from each
/// place ([`SearchedLines`]) or from an index of its line feeds ([`LineIndex`]).
trait LineSearch {
    /// The end (past its line feed) of the `n`-th line after the one that holds byte `at` (or
    /// the end of the blob).
    fn forward(&mut self, at: usize, n: usize) -> usize;
    /// [`lines_back_above`].
    fn back_above(&mut self, at: usize, n: usize, floor: usize) -> Option<usize>;
}

/// Line searches from each place: cheap when the places are few.
struct SearchedLines<'a> {
    ends: ForwardLines<'a>,
    data: &'a [u8],
}

impl<'a> SearchedLines<'a> {
    fn new(data: &'a [u8]) -> Self {
        SearchedLines {
            ends: ForwardLines::new(data),
            data,
        }
    }
}

impl LineSearch for SearchedLines<'_> {
    fn forward(&mut self, at: usize, n: usize) -> usize {
        self.ends.lines_forward(at, n)
    }

    fn back_above(&mut self, at: usize, n: usize, floor: usize) -> Option<usize> {
        lines_back_above(self.data, at, n, floor)
    }
}

/// The offsets of a blob's line feeds: one pass over the blob, then each search is a binary
/// search. Cheaper than searching from each place when a delta stops copying every few lines
/// (a lock file stored as a delta of another version copies its repeated lines from anywhere).
struct LineIndex {
    feeds: Vec<usize>,
    len: usize,
}

impl LineIndex {
    fn new(data: &[u8]) -> Self {
        LineIndex {
            feeds: memchr::memchr_iter(b'\n', data).collect(),
            len: data.len(),
        }
    }
}

impl LineSearch for &LineIndex {
    fn forward(&mut self, at: usize, n: usize) -> usize {
        let first = self.feeds.partition_point(|&f| f < at);
        self.feeds.get(first + n).map_or(self.len, |f| f + 1)
    }

    fn back_above(&mut self, at: usize, n: usize, floor: usize) -> Option<usize> {
        let below = self.feeds.partition_point(|&f| f < at);
        let feed = self.feeds[below.checked_sub(n + 1)?];
        (feed >= floor).then_some(feed + 1)
    }
}

/// Copies at least this many, one per this many bytes of the blob or more, and the line feeds
/// are indexed ([`LineIndex`]) rather than searched for from each place.
const INDEXED_MIN_COPIES: usize = 32;
const INDEXED_BYTES_PER_COPY: usize = 256;

/// Lines either side of a place where copying stops that a changed line's neighbours can reach
/// (one before, two after, and the line after it for a value continued there), with a margin.
const REACH_LINES: usize = 3;

/// The byte ranges of `blob` (whole lines, sorted, disjoint) that hold every line that is not
/// settled (see the module documentation) and the line after each: around every place where
/// copying from the base stops (an inserted run, two copies that do not continue each other, a
/// copy whose first line starts inside a line of the base) and the blob's first and last lines
/// unless they are the base's. `blob` ends with a line feed.
pub fn changed_regions(base: &[u8], blob: &[u8], copies: &[Copied]) -> Vec<(usize, usize)> {
    if copies.len() >= INDEXED_MIN_COPIES && copies.len() * INDEXED_BYTES_PER_COPY >= blob.len() {
        let index = LineIndex::new(blob);
        regions_with(base, blob, copies, [&index, &index])
    } else {
        regions_with(
            base,
            blob,
            copies,
            [SearchedLines::new(blob), SearchedLines::new(blob)],
        )
    }
}

/// [`changed_regions`] with `searches`: one for the places in copy order, one for the regions.
fn regions_with(
    base: &[u8],
    blob: &[u8],
    copies: &[Copied],
    searches: [impl LineSearch; 2],
) -> Vec<(usize, usize)> {
    let [mut line_ends, mut region_ends] = searches;
    // The bytes (first, last) each such place touches.
    let mut places: Vec<(usize, usize)> = Vec::new();
    let mut copied_to = 0usize;
    for c in copies {
        if !(c.start == 0 && c.source == 0) {
            places.push((copied_to.saturating_sub(1), c.start));
        }
        let first_line = if c.start == 0 || blob[c.start - 1] == b'\n' {
            c.start
        } else {
            line_ends.forward(c.start, 0)
        };
        if first_line < c.end {
            let mapped = c.source + (first_line - c.start);
            if mapped != 0 && base[mapped - 1] != b'\n' {
                places.push((first_line.saturating_sub(1), first_line));
            }
        }
        copied_to = c.end;
    }
    let ends_as_base = copies
        .last()
        .is_some_and(|c| c.end == blob.len() && c.source + (c.end - c.start) == base.len());
    if !ends_as_base {
        places.push((copied_to.saturating_sub(1), blob.len() - 1));
    }
    // Each place's region runs from REACH_LINES lines before its first byte to REACH_LINES
    // after its last; it joins the previous region when it starts at or before that one's end.
    // The search back stops at that end, and the search forward goes on from the last, so each
    // byte is searched about once.
    let mut regions: Vec<(usize, usize)> = Vec::with_capacity(places.len());
    for (first, last) in places {
        let last = last.min(blob.len() - 1);
        let first = first.min(last);
        let end = region_ends.forward(last, REACH_LINES);
        let floor = regions.last().map_or(0, |prev| prev.1);
        let start = if first < floor {
            None
        } else {
            region_ends.back_above(first, REACH_LINES, floor)
        };
        match (start, regions.last_mut()) {
            (None, Some(prev)) => prev.1 = prev.1.max(end),
            (None, None) => regions.push((0, end)),
            (Some(start), _) => regions.push((start, end)),
        }
    }
    regions
}

/// The unit to scan for `blob` (delta of `base`, its copied ranges `copies`): the lines of
/// [`changed_regions`], all added, one hunk per region. The line numbers are not the blob's (the
/// unit only decides whether the blob is clean): consecutive within a region, with a gap between
/// regions. `None` when the blob is empty or does not end with a line feed (scanned whole
/// instead).
pub fn changed_unit(path: &[u8], base: &[u8], blob: &[u8], copies: &[Copied]) -> Option<AddedText> {
    if blob.last() != Some(&b'\n') {
        return None;
    }
    let mut unit = AddedText::new(path);
    let mut number = 1;
    for (start, end) in changed_regions(base, blob, copies) {
        // Regions are whole lines of a blob that ends with a line feed.
        number = unit.push_lines(number, &blob[start..end]) + 1;
    }
    Some(unit)
}

/// Each line's byte range (with its line feed; an unterminated last line too), for tests that
/// check the regions line by line.
#[cfg(test)]
pub(crate) fn line_ranges(data: &[u8]) -> Vec<(usize, usize)> {
    let mut lines = Vec::new();
    let mut start = 0;
    for end in memchr::memchr_iter(b'\n', data) {
        lines.push((start, end + 1));
        start = end + 1;
    }
    if start < data.len() {
        lines.push((start, data.len()));
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A delta (git's format) of `ops` rebuilding a blob of `result_len` bytes from a base of
    /// `base_len`: `Ok((source, size))` copies, `Err(bytes)` inserts.
    fn delta(base_len: usize, result_len: usize, ops: &[Result<(usize, usize), &[u8]>]) -> Vec<u8> {
        let mut d = Vec::new();
        for mut n in [base_len, result_len] {
            loop {
                let byte = (n & 0x7f) as u8;
                n >>= 7;
                if n == 0 {
                    d.push(byte);
                    break;
                }
                d.push(byte | 0x80);
            }
        }
        for op in ops {
            match op {
                Ok((source, size)) => {
                    let mut cmd = 0x80u8;
                    let mut tail = Vec::new();
                    for i in 0..4 {
                        let b = (source >> (8 * i)) as u8;
                        if b != 0 {
                            cmd |= 1 << i;
                            tail.push(b);
                        }
                    }
                    let size = if *size == 0x10000 { 0 } else { *size };
                    for i in 0..3 {
                        let b = (size >> (8 * i)) as u8;
                        if b != 0 {
                            cmd |= 1 << (4 + i);
                            tail.push(b);
                        }
                    }
                    d.push(cmd);
                    d.extend(tail);
                }
                Err(bytes) => {
                    d.push(bytes.len() as u8);
                    d.extend_from_slice(bytes);
                }
            }
        }
        d
    }

    /// The text of the regions of `blob` from `base` by `delta`.
    fn regions_text(base: &[u8], blob: &[u8], d: &[u8]) -> Vec<String> {
        let copies = copied_ranges(d, base, blob).unwrap();
        changed_regions(base, blob, &copies)
            .into_iter()
            .map(|(s, e)| String::from_utf8_lossy(&blob[s..e]).into_owned())
            .collect()
    }

    #[test]
    fn copies_are_read_joined_and_checked() {
        let base = b"one\ntwo\nthree\n";
        let blob = b"one\ntwo\nNEW\nthree\n";
        let d = delta(
            base.len(),
            blob.len(),
            &[Ok((0, 4)), Ok((4, 4)), Err(b"NEW\n"), Ok((8, 6))],
        );
        let copies = copied_ranges(&d, base, blob).unwrap();
        assert_eq!(
            copies,
            vec![
                Copied {
                    start: 0,
                    end: 8,
                    source: 0
                },
                Copied {
                    start: 12,
                    end: 18,
                    source: 8
                }
            ]
        );
        // Sizes that disagree, a copy out of the base, a delta that says other bytes: refused.
        assert!(copied_ranges(&d, b"one\ntwo\nthree", blob).is_none());
        assert!(copied_ranges(
            &delta(14, 18, &[Ok((10, 8)), Err(b"0123456789")]),
            base,
            blob
        )
        .is_none());
        let lying = delta(
            base.len(),
            blob.len(),
            &[Ok((0, 4)), Ok((4, 4)), Err(b"NEW\n"), Ok((0, 6))],
        );
        assert!(copied_ranges(&lying, base, blob).is_none());
        // A reserved instruction (0) and a truncated one.
        let mut bad = d.clone();
        bad.push(0);
        assert!(copied_ranges(&bad, base, blob).is_none());
        assert!(copied_ranges(&d[..d.len() - 2], base, blob).is_none());
        // What the delta rebuilds is the blob; a header naming more than the limit is refused
        // before anything is allocated for it, one naming the limit is not.
        let mut out = vec![b'?'; 3];
        assert_eq!(
            apply(&d, base, &mut out, usize::MAX),
            copied_ranges(&d, base, blob)
        );
        assert_eq!(out, blob);
        assert!(apply(&d, base, &mut out, blob.len()).is_some());
        assert!(apply(&d, base, &mut Vec::new(), blob.len() - 1).is_none());
        let huge = delta(base.len(), usize::MAX >> 8, &[Ok((0, 4))]);
        let mut empty = Vec::new();
        assert!(apply(&huge, base, &mut empty, 1 << 20).is_none());
        assert_eq!(empty.capacity(), 0);
        // Size 0 means 0x10000.
        let big = vec![b'x'; 0x10000];
        let d = delta(big.len(), big.len(), &[Ok((0, 0x10000))]);
        assert_eq!(copied_ranges(&d, &big, &big).unwrap().len(), 1);
    }

    #[test]
    fn a_change_brings_the_lines_around_it_and_nothing_else() {
        let text = |i: usize| format!("l{i}\n").into_bytes();
        let base: Vec<u8> = (0..30).flat_map(text).collect();
        let blob: Vec<u8> = (0..30)
            .flat_map(|i| if i == 15 { b"X5\n".to_vec() } else { text(i) })
            .collect();
        // Lines 0-9 are 3 bytes, 10-29 are 4: line 15 starts at 30 + 5 * 4 = 50.
        let d = delta(
            base.len(),
            blob.len(),
            &[Ok((0, 50)), Err(b"X5\n"), Ok((54, 56))],
        );
        let regions = regions_text(&base, &blob, &d);
        assert_eq!(
            regions,
            vec!["l11\nl12\nl13\nl14\nX5\nl16\nl17\nl18\nl19\n"]
        );
        // Unchanged: nothing to scan.
        let same = delta(base.len(), base.len(), &[Ok((0, base.len()))]);
        assert!(regions_text(&base, &base, &same).is_empty());
    }

    #[test]
    fn the_first_and_last_lines_must_stay_first_and_last() {
        // The base has a line before and after the copied text.
        let base = b"head\na\nb\nc\nd\ne\nf\ng\nh\ni\ntail\n";
        let blob = b"a\nb\nc\nd\ne\nf\ng\nh\ni\n";
        let d = delta(base.len(), blob.len(), &[Ok((5, 18))]);
        let regions = regions_text(base, blob, &d);
        assert_eq!(regions, vec!["a\nb\nc\nd\n", "f\ng\nh\ni\n"]);
    }

    #[test]
    fn a_copy_that_does_not_start_at_a_line_start_of_the_base_is_a_change() {
        let base = b"a\nb\nc\nd\ne\nf\ng\nh\nXi\nj\nk\nl\nm\nn\n";
        // The blob's line 7 ("i") is copied from inside the base's "Xi" line.
        let blob = b"a\nb\nc\nd\ne\nf\ng\nh\ni\nj\nk\nl\nm\nn\n";
        let d = delta(base.len(), blob.len(), &[Ok((0, 16)), Ok((17, 12))]);
        let regions = regions_text(base, blob, &d);
        assert_eq!(regions, vec!["e\nf\ng\nh\ni\nj\nk\nl\n"]);
    }

    #[test]
    fn a_blob_without_a_final_line_feed_is_not_split() {
        assert!(changed_unit(b"f", b"a\n", b"a", &[]).is_none());
        assert!(changed_unit(b"f", b"a\n", b"", &[]).is_none());
        let unit = changed_unit(b"f", b"a\n", b"b\nc\n", &[]).unwrap();
        assert_eq!(unit.buf, b"b\nc\n");
        assert!(unit.overlaps_added(0, 4));
    }

    /// Against a slow definition of settled lines: every line that is not settled is in a region
    /// with the line after it, and regions are whole lines.
    #[test]
    fn every_unsettled_line_and_the_next_are_in_one_region() {
        let mut rng = crate::test_support::Rng(0x5eed);
        for _ in 0..3000 {
            let base: Vec<u8> = (0..=rng.below(12))
                .flat_map(|_| {
                    format!("{}\n", ["a", "b", "cc", "", "a b"][rng.below(5)]).into_bytes()
                })
                .collect();
            let mut ops = Vec::new();
            let mut blob = Vec::new();
            for _ in 0..=rng.below(4) {
                if rng.below(3) == 0 {
                    let text = ["z\n", "q", "\n", "a\n"][rng.below(4)].as_bytes();
                    blob.extend_from_slice(text);
                    ops.push(Err(text));
                } else {
                    let s = rng.below(base.len());
                    let n = rng.below(base.len() - s) + 1;
                    blob.extend_from_slice(&base[s..s + n]);
                    ops.push(Ok((s, n)));
                }
            }
            if blob.last() != Some(&b'\n') {
                blob.push(b'\n');
                ops.push(Err(b"\n"));
            }
            let d = delta(base.len(), blob.len(), &ops);
            let copies = copied_ranges(&d, &base, &blob).unwrap();
            let regions = changed_regions(&base, &blob, &copies);
            let lines = line_ranges(&blob);
            for &(s, e) in &regions {
                assert!(s == 0 || blob[s - 1] == b'\n');
                assert!(blob[e - 1] == b'\n');
            }
            for (i, &(s, _)) in lines.iter().enumerate() {
                if settled_slowly(i, &lines, &copies, &base) {
                    continue;
                }
                let end = lines.get(i + 1).map_or(lines[i].1, |next| next.1);
                assert!(
                    regions.iter().any(|&(rs, re)| rs <= s && end <= re),
                    "line {i} of {:?} from {:?} by {ops:?}: {regions:?}",
                    String::from_utf8_lossy(&blob),
                    String::from_utf8_lossy(&base)
                );
            }
        }
    }

    /// A line is settled when lines i-1..=i+2 (clamped) lie in one copy that maps them to whole
    /// lines of the base, the first line to the base's first, a window reaching the end to the
    /// base's end.
    fn settled_slowly(i: usize, lines: &[(usize, usize)], copies: &[Copied], base: &[u8]) -> bool {
        let first = i.saturating_sub(1);
        let last = (i + 2).min(lines.len() - 1);
        copies.iter().any(|c| {
            let (from, to) = (lines[first].0, lines[last].1);
            if from < c.start || to > c.end {
                return false;
            }
            let a = c.source + (from - c.start);
            let b = c.source + (to - c.start);
            let at_line_start = if i == 0 {
                a == 0
            } else {
                a == 0 || base[a - 1] == b'\n'
            };
            let at_end = last + 1 < lines.len() || b == base.len();
            at_line_start && at_end
        })
    }

    /// The line searches answer as scanning for line feeds does, at every byte, with and
    /// without a final line feed, for places in order and out of order; and many places on one
    /// long line make one region, the whole line.
    #[test]
    fn the_line_searches_find_the_lines_a_scan_finds() {
        let mut rng = crate::test_support::Rng(11);
        for _ in 0..200 {
            let data: Vec<u8> = (0..rng.below(60))
                .map(|_| if rng.below(4) == 0 { b'\n' } else { b'a' })
                .collect();
            let start_of = |at: usize| memchr::memrchr(b'\n', &data[..at]).map_or(0, |p| p + 1);
            let end_of = |at: usize| {
                memchr::memchr(b'\n', &data[at.min(data.len())..])
                    .map_or(data.len(), |p| at + p + 1)
            };
            let mut in_order = ForwardLines::new(&data);
            let mut shuffled = ForwardLines::new(&data);
            let index = LineIndex::new(&data);
            for at in 0..=data.len() {
                let n = rng.below(4);
                let mut end = end_of(at);
                for _ in 0..n {
                    end = end_of(end);
                }
                assert_eq!(in_order.lines_forward(at, n), end, "{data:?} at {at} n {n}");
                assert_eq!(
                    (&index).forward(at, n),
                    end,
                    "indexed: {data:?} at {at} n {n}"
                );
                let other = rng.below(data.len() + 1);
                let mut other_end = end_of(other);
                for _ in 0..n {
                    other_end = end_of(other_end);
                }
                assert_eq!(
                    shuffled.lines_forward(other, n),
                    other_end,
                    "{data:?} at {other}"
                );
                let mut start = start_of(at);
                for _ in 0..n {
                    start = if start == 0 { 0 } else { start_of(start - 1) };
                }
                let floor = rng.below(at + 1);
                let expected = (start > floor).then_some(start);
                assert_eq!(
                    lines_back_above(&data, at, n, floor),
                    expected,
                    "{data:?} at {at} n {n} floor {floor}"
                );
                assert_eq!(
                    (&index).back_above(at, n, floor),
                    expected,
                    "indexed: {data:?} at {at} n {n} floor {floor}"
                );
            }
        }
        let mut base: Vec<u8> = (0..1 << 20).map(|i| b"abcdefgh"[i % 8]).collect();
        base.push(b'\n');
        let mut blob = base.clone();
        let mut copies = Vec::new();
        let mut at = 0;
        for k in (50..blob.len() - 1).step_by(50) {
            blob[k] = b'Z';
            copies.push(Copied {
                start: at,
                end: k,
                source: at,
            });
            at = k + 1;
        }
        copies.push(Copied {
            start: at,
            end: blob.len(),
            source: at,
        });
        assert_eq!(
            changed_regions(&base, &blob, &copies),
            vec![(0, blob.len())]
        );
    }

    /// Regions found through the line index are the regions found by searching, for random
    /// blobs built of copies from a random base (dense and sparse, aligned to lines and not)
    /// and inserts; and `changed_regions` picks the index for dense copies.
    #[test]
    fn indexed_line_searches_find_the_searched_regions() {
        let mut rng = crate::test_support::Rng(29);
        let line = |rng: &mut crate::test_support::Rng| -> Vec<u8> {
            let mut l: Vec<u8> = (0..rng.below(12))
                .map(|_| b'a' + rng.below(3) as u8)
                .collect();
            l.push(b'\n');
            l
        };
        for round in 0..300 {
            let base: Vec<u8> = (0..=rng.below(80)).flat_map(|_| line(&mut rng)).collect();
            let (mut blob, mut copies) = (Vec::new(), Vec::new());
            for _ in 0..rng.below(120) {
                if rng.below(3) == 0 {
                    blob.extend(line(&mut rng));
                    continue;
                }
                let source = rng.below(base.len());
                let len =
                    1 + rng.below((base.len() - source).min(if round % 2 == 0 { 8 } else { 60 }));
                copies.push(Copied {
                    start: blob.len(),
                    end: blob.len() + len,
                    source,
                });
                blob.extend_from_slice(&base[source..source + len]);
            }
            blob.push(b'\n');
            let index = LineIndex::new(&blob);
            let searched = [SearchedLines::new(&blob), SearchedLines::new(&blob)];
            assert_eq!(
                regions_with(&base, &blob, &copies, [&index, &index]),
                regions_with(&base, &blob, &copies, searched),
                "round {round}"
            );
        }
    }
}

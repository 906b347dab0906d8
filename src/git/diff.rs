//! Added lines of a blob relative to one or more old versions.
//!
//! A line counts as added when it is added relative to **every** old version (a merge contributes
//! only lines none of its parents has). The diff is git's histogram line diff with its
//! post-processing, so the added lines match `git diff`; for very large inputs a set-based
//! fallback (lines whose content does not occur in the old blob) bounds the cost.

use std::collections::HashSet;

use gix_imara_diff::{Algorithm, Diff, InternedInput};

use crate::added::{AddedText, CONTEXT_BYTES};

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
///
/// Lines the two share at the start and at the end are not diffed (git trims them too): an edit
/// to a big file costs the size of the edit, not of the file.
#[cfg(test)]
fn added_relative_to(old: &[u8], new: &[u8], new_lines: &[&[u8]]) -> Vec<bool> {
    edits_relative_to(old, new, new_lines).0
}

/// [`added_relative_to`], and the places (0-based indexes into `new`'s lines, up to its length)
/// where lines of `old` were removed with nothing added in their stead: a deletion can complete a
/// secret too (a stray line removed from a key block). The set-based fallback for huge inputs
/// knows no such places.
fn edits_relative_to(old: &[u8], new: &[u8], new_lines: &[&[u8]]) -> (Vec<bool>, Vec<usize>) {
    let old_lines = lines(old);
    let prefix = old_lines
        .iter()
        .zip(new_lines)
        .take_while(|(a, b)| a == b)
        .count();
    let room = old_lines.len().min(new_lines.len()) - prefix;
    let suffix = old_lines
        .iter()
        .rev()
        .zip(new_lines.iter().rev())
        .take(room)
        .take_while(|(a, b)| a == b)
        .count();
    let bytes = |lines: &[&[u8]]| lines.iter().map(|l| l.len()).sum::<usize>();
    let prefix_bytes = bytes(&new_lines[..prefix]);
    let suffix_bytes = bytes(&new_lines[new_lines.len() - suffix..]);
    let old_middle = &old[prefix_bytes..old.len() - suffix_bytes];
    let new_middle = &new[prefix_bytes..new.len() - suffix_bytes];
    let old_middle_lines = &old_lines[prefix..old_lines.len() - suffix];
    let new_middle_lines = &new_lines[prefix..new_lines.len() - suffix];
    let mut added = vec![false; new_lines.len()];
    let middle_added = &mut added[prefix..new_lines.len() - suffix];
    if old_middle_lines.len() > DIFF_LINE_LIMIT || new_middle_lines.len() > DIFF_LINE_LIMIT {
        let present: HashSet<&[u8]> = old_middle_lines
            .iter()
            .map(|l| without_line_ending(l))
            .collect();
        for (a, l) in middle_added.iter_mut().zip(new_middle_lines) {
            *a = !present.contains(without_line_ending(l));
        }
        return (added, Vec::new());
    }
    let input = InternedInput::new(old_middle, new_middle);
    let mut diff = Diff::compute(Algorithm::Histogram, &input);
    diff.postprocess_lines(&input);
    for (i, a) in middle_added.iter_mut().enumerate() {
        *a = diff.is_added(i as u32);
    }
    let deletions = diff
        .hunks()
        .filter(|h| h.after.is_empty() && !h.before.is_empty())
        .map(|h| prefix + h.after.start as usize)
        .collect();
    (added, deletions)
}

/// `line` without its line ending (`\n` or `\r\n`).
pub(crate) fn without_line_ending(line: &[u8]) -> &[u8] {
    let line = line.strip_suffix(b"\n").unwrap_or(line);
    line.strip_suffix(b"\r").unwrap_or(line)
}

/// The added text of `new` relative to every blob in `olds` (none: the whole blob is added, and
/// becomes the unit's buffer without a copy). Each run of added lines comes with its unchanged
/// context (see [`crate::added::CONTEXT_BYTES`]).
pub fn added_text(path: &[u8], olds: &[&[u8]], new: Vec<u8>) -> AddedText {
    if olds.is_empty() {
        return AddedText::whole(path.to_vec(), new);
    }
    let new_lines = lines(&new);
    let (added, context, deletions) = added_and_context(olds, &new, &new_lines);
    let kept_everything = added.iter().zip(&context).all(|(a, c)| *a || *c);
    let mut text = if kept_everything && new.last() == Some(&b'\n') {
        // Every line kept (a small file, or one edited all over): the blob is the buffer.
        let ranges = added_ranges(&new_lines, &added);
        drop(new_lines);
        AddedText::all_lines(path.to_vec(), new, ranges)
    } else {
        kept_lines(path, &new_lines, &added, &context)
    };
    text.deletions = deletions;
    text
}

/// Per line of `new`: whether it is added relative to every old version, whether it is kept as
/// context (around added lines, and around places where lines were removed relative to every old
/// version); and whether there is such a place.
fn added_and_context(
    olds: &[&[u8]],
    new: &[u8],
    new_lines: &[&[u8]],
) -> (Vec<bool>, Vec<bool>, bool) {
    let mut added = vec![true; new_lines.len()];
    // Places where lines were removed relative to every old version.
    let mut deletions: Option<HashSet<usize>> = None;
    for old in olds {
        let (relative, removed) = edits_relative_to(old, new, new_lines);
        for (a, r) in added.iter_mut().zip(relative) {
            *a &= r;
        }
        let removed: HashSet<usize> = removed.into_iter().collect();
        deletions = Some(match deletions {
            None => removed,
            Some(d) => d.intersection(&removed).copied().collect(),
        });
    }
    let mut deletions: Vec<usize> = deletions.unwrap_or_default().into_iter().collect();
    deletions.sort_unstable();
    let mut context = context_lines(new_lines, &added, CONTEXT_BYTES);
    for &at in &deletions {
        mark_context_around(new_lines, &added, &mut context, at, CONTEXT_BYTES);
    }
    (added, context, !deletions.is_empty())
}

/// The byte ranges of the added lines of `new_lines` (consecutive ones merged).
fn added_ranges(new_lines: &[&[u8]], added: &[bool]) -> Vec<(usize, usize)> {
    let mut ranges: Vec<(usize, usize)> = Vec::new();
    let mut offset = 0;
    for (line, is_added) in new_lines.iter().zip(added) {
        let end = offset + line.len();
        if *is_added {
            match ranges.last_mut() {
                Some(last) if last.1 == offset => last.1 = end,
                _ => ranges.push((offset, end)),
            }
        }
        offset = end;
    }
    ranges
}

/// A unit of the added lines of `new_lines` and the unchanged ones kept as context, copied one
/// after another (hunks where lines are left out).
fn kept_lines(path: &[u8], new_lines: &[&[u8]], added: &[bool], context: &[bool]) -> AddedText {
    let mut text = AddedText::new(path.to_vec());
    let kept: usize = new_lines
        .iter()
        .zip(added.iter().zip(context))
        .filter(|(_, (a, c))| **a || **c)
        .map(|(l, _)| l.len() + 1)
        .sum();
    text.buf.reserve(kept);
    for (i, line) in new_lines.iter().enumerate() {
        if added[i] {
            text.push_line(i + 1, line);
        } else if context[i] {
            text.push_context_line(i + 1, line);
        }
    }
    text
}

/// Which unchanged lines are kept as context: before and after each run of added lines, whole
/// lines up to `budget` bytes on each side, and always the one adjacent line on each side.
fn context_lines(lines: &[&[u8]], added: &[bool], budget: usize) -> Vec<bool> {
    let mut context = vec![false; lines.len()];
    let mut i = 0;
    while i < lines.len() {
        if !added[i] {
            i += 1;
            continue;
        }
        let start = i;
        while i < lines.len() && added[i] {
            i += 1;
        }
        let mut spent = 0;
        for j in (0..start).rev() {
            if added[j] || context[j] || (spent > 0 && spent + lines[j].len() > budget) {
                break;
            }
            spent += lines[j].len();
            context[j] = true;
        }
        let mut spent = 0;
        for j in i..lines.len() {
            if added[j] || (spent > 0 && spent + lines[j].len() > budget) {
                break;
            }
            spent += lines[j].len();
            context[j] = true;
        }
    }
    context
}

/// Marks unchanged lines as context before and after a deletion point `at` (a zero-width edit
/// between lines `at - 1` and `at`), up to `budget` bytes on each side.
fn mark_context_around(
    lines: &[&[u8]],
    added: &[bool],
    context: &mut [bool],
    at: usize,
    budget: usize,
) {
    let mut spent = 0;
    for j in (0..at.min(lines.len())).rev() {
        if added[j] || (spent > 0 && spent + lines[j].len() > budget) {
            break;
        }
        spent += lines[j].len();
        context[j] = true;
    }
    let mut spent = 0;
    for j in at..lines.len() {
        if added[j] || (spent > 0 && spent + lines[j].len() > budget) {
            break;
        }
        spent += lines[j].len();
        context[j] = true;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_added_lines_with_new_line_numbers() {
        let old = b"a\nb\nc\n";
        let new = b"a\nx\nb\nc\ny\n";
        let t = added_text(b"f", &[old], new.to_vec());
        // The whole small file is context; only x and y are added.
        assert_eq!(t.buf, new);
        assert_eq!(
            added_lines(&t),
            vec![(2, "x".to_string()), (5, "y".to_string())]
        );
    }

    #[test]
    fn merge_keeps_only_lines_new_to_every_parent() {
        let p1 = b"base\nfrom-one\n";
        let p2 = b"base\nfrom-two\n";
        let merged = b"base\nfrom-one\nfrom-two\nevil\n";
        let t = added_text(b"f", &[p1, p2], merged.to_vec());
        assert_eq!(added_lines(&t), vec![(4, "evil".to_string())]);
    }

    #[test]
    fn crlf_and_missing_final_newline() {
        let t = added_text(b"f", &[b"a\r\n"], b"a\r\nb".to_vec());
        assert_eq!(t.buf, b"a\r\nb\n");
        assert_eq!(added_lines(&t), vec![(2, "b".to_string())]);
    }

    #[test]
    fn a_blob_kept_whole_is_the_same_unit_as_its_lines_pushed_one_by_one() {
        let mut rng = crate::test_support::Rng(0x0051_de0f_f5e7);
        let mut whole = 0;
        for round in 0..2000 {
            let line = |rng: &mut crate::test_support::Rng| -> Vec<u8> {
                let mut l = vec![b"abcx"[rng.below(4)]; 1 + rng.below(3)];
                l.extend_from_slice(if rng.below(8) == 0 { b"\r\n" } else { b"\n" });
                l
            };
            let old: Vec<u8> = (0..rng.below(12)).flat_map(|_| line(&mut rng)).collect();
            let mut new: Vec<u8> = (0..rng.below(12)).flat_map(|_| line(&mut rng)).collect();
            if round % 5 == 0 {
                new.extend_from_slice(b"no newline");
            }
            let fast = added_text(b"f", &[&old], new.clone());
            let new_lines = lines(&new);
            let (added, context, deletions) = added_and_context(&[&old], &new, &new_lines);
            let mut slow = kept_lines(b"f", &new_lines, &added, &context);
            slow.deletions = deletions;
            whole += usize::from(added.iter().zip(&context).all(|(a, c)| *a || *c));
            assert_eq!(fast.buf, slow.buf, "round {round}");
            assert_eq!(fast.hunks, slow.hunks, "round {round}");
            assert_eq!(fast.added_bytes(), slow.added_bytes(), "round {round}");
            assert_eq!(fast.is_empty(), slow.is_empty(), "round {round}");
            for at in 0..=fast.buf.len() {
                assert_eq!(
                    fast.overlaps_added(at, at + 1),
                    slow.overlaps_added(at, at + 1),
                    "round {round} byte {at}"
                );
            }
        }
        assert!(whole > 1000, "most rounds keep every line: {whole}");
    }

    /// Red team: merges (one to three old versions, each the new blob with one to three lines
    /// removed, replaced or inserted), CRLF, a lone `\r`, NUL and empty lines, lines longer than
    /// the context budget, secrets and PEM blocks: a unit kept whole reads the same as the pushed
    /// one at every offset (path, line and column, line text), and real scans with the test rules
    /// and the built-in pack report the same findings at the same places.
    #[test]
    fn a_merge_kept_whole_scans_the_same_as_its_lines_pushed_one_by_one() {
        use crate::scanner::{Scanner, Suppressions};
        let scanners = [
            crate::scanner::test_scanner(crate::scanner::TEST_RULES),
            Scanner::new(crate::builtin::rules().unwrap(), Suppressions::default()).unwrap(),
        ];
        let token = ["acme", "_Q8zR2mLx9VtB4nW7"].concat();
        let password = ["pass", "word = \"Q8zR2mLx", "9VtB4nW7Kd3F\"\n"].concat();
        let pieces: Vec<Vec<u8>> = vec![
            b"a\n".to_vec(),
            b"b\r\n".to_vec(),
            b"\n".to_vec(),
            b"\r".to_vec(),
            b"x\ry\n".to_vec(),
            b"\0\0\n".to_vec(),
            format!("t={token}\r\n").into_bytes(),
            b"-----BEGIN ACME KEY-----\n".to_vec(),
            b"QUJD\n".to_vec(),
            b"REVG\n".to_vec(),
            b"-----END ACME KEY-----\n".to_vec(),
            password.into_bytes(),
        ];
        let mut rng = crate::test_support::Rng(0x7e57_1234_abcd);
        // Units kept whole, and findings in them.
        let (mut whole, mut found) = (0, 0);
        for round in 0..600 {
            let mut new: Vec<Vec<u8>> = (0..rng.below(10))
                .map(|_| pieces[rng.below(pieces.len())].clone())
                .collect();
            if rng.below(20) == 0 {
                let mut long = vec![b'z'; CONTEXT_BYTES + 1];
                long.push(b'\n');
                new.insert(rng.below(new.len() + 1), long);
            }
            let olds: Vec<Vec<u8>> = (0..=rng.below(3))
                .map(|_| {
                    let mut old = new.clone();
                    for _ in 0..=rng.below(3) {
                        let at = rng.below(old.len() + 1);
                        let piece = pieces[rng.below(pieces.len())].clone();
                        match rng.below(3) {
                            0 if at < old.len() => drop(old.remove(at)),
                            1 if at < old.len() => old[at] = piece,
                            _ => old.insert(at, piece),
                        }
                    }
                    old.concat()
                })
                .collect();
            let new = new.concat();
            let olds: Vec<&[u8]> = olds.iter().map(Vec::as_slice).collect();
            let mut fast = added_text(b"f.env", &olds, new.clone());
            let new_lines = lines(&new);
            let (added, context, deletions) = added_and_context(&olds, &new, &new_lines);
            let mut slow = kept_lines(b"f.env", &new_lines, &added, &context);
            slow.deletions = deletions;
            let kept_whole = added.iter().zip(&context).all(|(a, c)| *a || *c);
            whole += usize::from(kept_whole);
            assert_eq!(fast.path, slow.path, "round {round}");
            assert_eq!(fast.buf, slow.buf, "round {round}");
            assert_eq!(fast.hunks, slow.hunks, "round {round}");
            assert_eq!(fast.deletions, slow.deletions, "round {round}");
            for at in 0..=fast.buf.len() {
                assert_eq!(fast.position(at), slow.position(at), "round {round} {at}");
                assert_eq!(fast.line_at(at), slow.line_at(at), "round {round} {at}");
            }
            fast.previous = olds.iter().map(|o| o.to_vec()).collect();
            slow.previous.clone_from(&fast.previous);
            for s in &scanners {
                let place = |f: &crate::finding::Finding| {
                    (f.rule.clone(), f.path.clone(), f.line, f.column)
                };
                let fast_found: Vec<_> = s.scan(&fast).unwrap().iter().map(place).collect();
                let slow_found: Vec<_> = s.scan(&slow).unwrap().iter().map(place).collect();
                assert_eq!(fast_found, slow_found, "round {round}");
                found += if kept_whole { fast_found.len() } else { 0 };
            }
        }
        assert!(
            whole > 200 && found > 20,
            "kept whole: {whole}, found: {found}"
        );
    }

    /// The added lines of a unit with their line numbers.
    fn added_lines(t: &AddedText) -> Vec<(usize, String)> {
        let mut out = Vec::new();
        let mut offset = 0;
        for line in t.buf.split_inclusive(|&b| b == b'\n') {
            let text = String::from_utf8_lossy(line.strip_suffix(b"\n").unwrap_or(line));
            if t.overlaps_added(offset, offset + line.len().saturating_sub(1)) {
                out.push((t.position(offset).0, text.into_owned()));
            }
            offset += line.len();
        }
        out
    }

    #[test]
    fn context_reaches_the_unchanged_begin_and_end_of_a_block() {
        let old = b"top\n-----BEGIN X-----\nplaceholder\n-----END X-----\nbottom\n";
        let new = b"top\n-----BEGIN X-----\nQUJD\nREVG\n-----END X-----\nbottom\n";
        let t = added_text(b"k", &[old], new.to_vec());
        assert_eq!(t.buf, new);
        assert_eq!(
            added_lines(&t),
            vec![(3, "QUJD".into()), (4, "REVG".into())]
        );
    }

    #[test]
    fn context_is_limited_but_keeps_the_adjacent_line() {
        let lines: Vec<&[u8]> = vec![b"aaaa\n", b"bbbb\n", b"cccc\n", b"dddd\n", b"eeee\n"];
        let added = [false, false, true, false, false];
        assert_eq!(
            context_lines(&lines, &added, 5),
            [false, true, false, true, false]
        );
        assert_eq!(
            context_lines(&lines, &added, 1),
            [false, true, false, true, false]
        );
        assert_eq!(
            context_lines(&lines, &added, 10),
            [true, true, false, true, true]
        );
    }

    #[test]
    fn new_file_is_whole() {
        let t = added_text(b"f", &[], b"x\ny".to_vec());
        assert_eq!(t.buf, b"x\ny");
        assert_eq!(t.hunks.len(), 1);
    }

    /// The untrimmed diff, as a reference.
    fn added_untrimmed(old: &[u8], new: &[u8]) -> Vec<bool> {
        let input = InternedInput::new(old, new);
        let mut diff = Diff::compute(Algorithm::Histogram, &input);
        diff.postprocess_lines(&input);
        (0..lines(new).len())
            .map(|i| diff.is_added(i as u32))
            .collect()
    }

    #[test]
    fn trimming_shared_ends_keeps_what_is_added() {
        // Small vocabulary: many repeated lines, so hunks could slide.
        const VOCAB: [&str; 6] = ["}\n", "{\n", "x = 1;\n", "\n", "return;\n", "end"];
        let mut seed = 0x9e37_79b9_7f4a_7c15u64;
        let mut next = |n: usize| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            (seed % n as u64) as usize
        };
        for case in 0..500 {
            let mut old: Vec<&str> = (0..next(40)).map(|_| VOCAB[next(5)]).collect();
            if case % 3 == 0 {
                old.push(VOCAB[5]);
            }
            let mut new = old.clone();
            for _ in 0..=next(4) {
                let at = next(new.len() + 1);
                match next(3) {
                    0 if at < new.len() => {
                        new.remove(at);
                    }
                    1 if at < new.len() => new[at] = "secret = 1;\n",
                    _ => new.insert(at, VOCAB[next(5)]),
                }
            }
            let (old, new) = (old.concat().into_bytes(), new.concat().into_bytes());
            let new_lines = lines(&new);
            let trimmed = added_relative_to(&old, &new, &new_lines);
            let reference = added_untrimmed(&old, &new);
            let content = |added: &[bool]| {
                let mut picked: Vec<&[u8]> = new_lines
                    .iter()
                    .zip(added)
                    .filter(|(_, a)| **a)
                    .map(|(l, _)| *l)
                    .collect();
                picked.sort();
                picked
            };
            // The same lines are added; where a run of identical lines could slide, which copy
            // counts may differ.
            assert_eq!(content(&trimmed), content(&reference), "case {case}");
        }
    }

    #[test]
    fn an_edit_inside_a_big_file_diffs_only_the_edit() {
        let old: String = (0..50_000).map(|i| format!("line {i}\n")).collect();
        let mut new = old.clone();
        let middle = old[..old.len() / 2].rfind('\n').unwrap() + 1;
        new.insert_str(middle, "token = changed\n");
        new.push_str("appended\n");
        let t = added_text(b"f", &[old.as_bytes()], new.into_bytes());
        let added: Vec<String> = added_lines(&t).into_iter().map(|(_, l)| l).collect();
        assert_eq!(added, ["token = changed", "appended"]);
        assert_eq!(t.hunks.len(), 2);
        // Context is bounded: about CONTEXT_BYTES on each side of each edit.
        assert!(t.buf.len() < 4 * CONTEXT_BYTES, "{}", t.buf.len());
    }
}

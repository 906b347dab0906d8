//! The keyword hits of a blob stored as a pack delta, from its base's hits: the audit's prescan
//! runs the multiline rules over every delta blob whole, and finding their keywords again in
//! every version of a long file was most of that pass's cost.
//!
//! A keyword search keeps each keyword's first occurrence on each line
//! ([`crate::keywords::Keywords::hits_are_per_line`]), so a line's hits depend only on its own
//! bytes and the `reach − 1` bytes after it (`reach`: the longest keyword, which may start at the
//! line's end and run on). A line of the blob is *covered* when one copied range of the delta
//! holds the line, the byte before it (the line feed that starts it, so the base's line starts at
//! the same byte) and the `reach − 1` bytes after it; or, for the blob's first line, when its copy
//! starts at both files' first byte; or, for lines whose copy runs to both files' last byte, to the
//! end. The base then holds the same line with the same bytes after it, and so the same hits at
//! the same places in the line. The covered lines take the base's hits, moved; the others are
//! searched (with `reach − 1` bytes after them). The result is exactly what a search of the whole
//! blob gives, which the tests check against random edits.

use crate::audit::delta_lines::Copied;
use crate::keywords::Hit;

/// The hits of `blob` (a search of it whole), from the hits `base_hits` of its delta base `base`,
/// the delta's copied ranges `copies` (in blob order, each equal to the base's bytes), and
/// `search`, the same search run on a part of the blob (each part starts at a line start).
/// `reach` is the longest keyword's length.
pub fn hits_from_base(
    (base, base_hits): (&[u8], &[Hit]),
    blob: &[u8],
    copies: &[Copied],
    reach: usize,
    search: impl Fn(&[u8]) -> Vec<Hit>,
) -> Vec<Hit> {
    let mut hits = Vec::new();
    // Where the part not yet covered or searched starts (always a line start).
    let mut done = 0;
    for copy in copies {
        let Some((start, end)) = covered_lines(base, blob, copy, reach) else {
            continue;
        };
        if start < done {
            continue;
        }
        searched_hits(blob, (done, start), reach, &search, &mut hits);
        let source = copy.source + (start - copy.start);
        let source_end = source + (end - start);
        let from = base_hits.partition_point(|h| h.start < source);
        let to = base_hits.partition_point(|h| h.start < source_end);
        hits.extend(base_hits[from..to].iter().map(|h| Hit {
            start: h.start - source + start,
            keyword: h.keyword,
            line_end: h.line_end - source + start,
        }));
        done = end;
    }
    searched_hits(blob, (done, blob.len()), reach, &search, &mut hits);
    hits
}

/// The lines of `blob` that `copy` covers (see the module docs), as `start..end` (`start` a line
/// start; `end` the start of the line after the last, or the blob's end); `None` for none.
fn covered_lines(base: &[u8], blob: &[u8], copy: &Copied, reach: usize) -> Option<(usize, usize)> {
    let bytes = &blob[copy.start..copy.end];
    let start = if copy.start == 0 && copy.source == 0 {
        0
    } else {
        copy.start + memchr::memchr(b'\n', bytes)? + 1
    };
    let to_both_ends = copy.end == blob.len() && copy.source + bytes.len() == base.len();
    let end = if to_both_ends {
        blob.len()
    } else {
        // The last line feed at most `reach - 1` bytes before the copy's end, then one past it.
        let last = (copy.end + 1).checked_sub(reach.max(1))?;
        start + memchr::memrchr(b'\n', blob.get(start..last)?)? + 1
    };
    (start < end).then_some((start, end))
}

/// Appends the hits of `blob[from..to]` (`from` a line start, `to` a line start or the end) found
/// by `search` over it and the `reach - 1` bytes after it, placed in the blob.
fn searched_hits(
    blob: &[u8],
    (from, to): (usize, usize),
    reach: usize,
    search: &impl Fn(&[u8]) -> Vec<Hit>,
    hits: &mut Vec<Hit>,
) {
    if from >= to {
        return;
    }
    let past = (to + reach.saturating_sub(1)).min(blob.len());
    hits.extend(
        search(&blob[from..past])
            .into_iter()
            .take_while(|h| h.start < to - from)
            .map(|h| Hit {
                start: h.start + from,
                keyword: h.keyword,
                line_end: h.line_end + from,
            }),
    );
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keywords::Keywords;
    use crate::test_support::Rng;

    /// Keywords like the multiline rules' ones: prefixes of each other, ones ending in a line
    /// feed or a CRLF, one with a tab; and ones a custom rule could have, that run on past a line
    /// feed into the next line.
    const KEYWORDS: [&str; 10] = [
        "user",
        "username",
        "user=",
        "token",
        "default\n",
        "default\r\n",
        "[auth]",
        "kind:\tsecret",
        "name\nuser",
        "\n[auth",
    ];
    /// Pieces the random texts are made of.
    const PIECES: [&str; 16] = [
        "user",
        "name",
        "=",
        "token",
        "default",
        "\n",
        "\r\n",
        "[auth]",
        "kind:\tSecret",
        " ",
        "x",
        "USER",
        "Token",
        "de",
        "fault",
        "tok",
    ];

    fn keywords() -> Keywords {
        Keywords::new(KEYWORDS.iter().map(|k| k.as_bytes().to_vec()).collect())
            .expect("keywords build")
    }

    fn random_text(rng: &mut Rng, pieces: usize) -> Vec<u8> {
        (0..pieces)
            .flat_map(|_| PIECES[rng.below(PIECES.len())].bytes())
            .collect()
    }

    /// A blob made of copies of `base` and inserted text, with its copied ranges.
    fn edited(rng: &mut Rng, base: &[u8]) -> (Vec<u8>, Vec<Copied>) {
        let mut blob = Vec::new();
        let mut copies = Vec::new();
        let mut at = 0;
        while at < base.len() || rng.below(3) == 0 {
            match rng.below(4) {
                0 => {
                    let pieces = 1 + rng.below(4);
                    blob.extend(random_text(rng, pieces));
                }
                1 if at < base.len() => at += 1 + rng.below(base.len() - at),
                _ if at < base.len() => {
                    let len = 1 + rng.below(base.len() - at);
                    copies.push(Copied {
                        start: blob.len(),
                        end: blob.len() + len,
                        source: at,
                    });
                    blob.extend_from_slice(&base[at..at + len]);
                    at += len;
                }
                _ => break,
            }
        }
        (blob, copies)
    }

    /// [`hits_from_base`] with the base's hits from a whole search, `search` for the rest.
    fn moved_hits(
        keywords: &Keywords,
        base: &[u8],
        blob: &[u8],
        copies: &[Copied],
        search: impl Fn(&[u8]) -> Vec<Hit>,
    ) -> Vec<Hit> {
        let base_hits = keywords.hits(base);
        hits_from_base((base, &base_hits), blob, copies, keywords.longest(), search)
    }

    #[test]
    fn hits_from_the_base_are_the_hits_of_the_whole_blob() {
        let keywords = keywords();
        assert!(keywords.hits_are_per_line());
        let mut rng = Rng(0x5eed_0fde_17a0);
        for round in 0..20_000 {
            let pieces = rng.below(60);
            let base = random_text(&mut rng, pieces);
            let (blob, copies) = edited(&mut rng, &base);
            let derived = moved_hits(&keywords, &base, &blob, &copies, |b| keywords.hits(b));
            assert_eq!(
                derived,
                keywords.hits(&blob),
                "round {round}: base {:?} blob {:?} copies {copies:?}",
                String::from_utf8_lossy(&base),
                String::from_utf8_lossy(&blob)
            );
        }
    }

    #[test]
    fn an_unchanged_blob_takes_every_hit_from_its_base() {
        let keywords = keywords();
        let base = b"user=a\ntoken b\n[auth]\nkind:\tSecret\nend".to_vec();
        let copies = [Copied {
            start: 0,
            end: base.len(),
            source: 0,
        }];
        let derived = moved_hits(&keywords, &base, &base, &copies, |_| {
            panic!("nothing to search")
        });
        assert_eq!(derived, keywords.hits(&base));
    }

    #[test]
    fn a_line_that_ends_a_copy_early_is_searched() {
        // The copy ends right before the line feed that ends a keyword (`default\n`): the blob
        // has `default\r` there, so the line is searched, not taken from the base.
        let keywords = keywords();
        let base = b"x\nuser default\nmore".to_vec();
        let mut blob = base[..14].to_vec();
        blob.extend_from_slice(b"\rzz");
        let copies = [Copied {
            start: 0,
            end: 14,
            source: 0,
        }];
        let derived = moved_hits(&keywords, &base, &blob, &copies, |b| keywords.hits(b));
        assert_eq!(derived, keywords.hits(&blob));
    }
}

//! The first stage of the keyword prefilter: a shift-or filter over byte pairs ("grams"), in the
//! style of Hyperscan's FDR, that names the positions where a keyword may start. The Aho-Corasick
//! automaton then confirms each of them (see [`crate::keywords`]).
//!
//! Every keyword is put in one of [`BUCKETS`] buckets. For a position `p` of the haystack the
//! filter asks, for each of the first [`WINDOW`] gram offsets `j`, whether the gram at `p + j`
//! could be gram `j` of some keyword of the bucket; a position where some bucket passes every
//! offset is a candidate. The answer for all buckets and offsets costs one table load per
//! haystack byte and a few shifts, with no chain of dependent loads (the automaton's cost).
//!
//! Grams are folded (bit `0x20` of both bytes and the high bit of the second dropped), so
//! case-insensitive matching costs nothing; folding also merges a few other byte pairs, which can
//! only add candidates, never lose one. Keywords with the same number of grams share a bucket: a
//! short keyword constrains few offsets, and mixing it with long ones would make their bucket as
//! weak as the short one.

/// Number of buckets (bits per table byte).
const BUCKETS: usize = 8;
/// Gram offsets checked per keyword (table bytes per entry).
const WINDOW: usize = 8;
// A table entry is one `u64`: a byte per offset, a bit per bucket (the shifts, the `as u8` and the
// `0xFF` tests rely on it).
const _: () = assert!(BUCKETS == 8 && BUCKETS * WINDOW == 64);
/// Which bits of a little-endian byte pair make its gram: bit `0x20` (ASCII case) of both bytes
/// and the high bit of the second are dropped.
const GRAM_MASK: u16 = 0x5FDF;
/// Number of gram values.
const DOMAIN: usize = GRAM_MASK as usize + 1;

/// The gram of two bytes.
#[inline(always)]
fn gram(a: u8, b: u8) -> usize {
    usize::from(u16::from_le_bytes([a, b]) & GRAM_MASK)
}

/// The filter tables over a fixed keyword list.
pub(crate) struct GramFilter {
    /// Per gram (folded byte pair), bit `j * 8 + b` clear when gram `j` of some keyword in
    /// bucket `b` folds to it, or when some keyword of bucket `b` is too short to have a gram `j`
    /// (nothing can be ruled out there); set otherwise, and always for an empty bucket.
    reach: Box<[u64; DOMAIN]>,
}

impl GramFilter {
    /// Builds the filter, or `None` when a keyword is shorter than two bytes (it has no gram; the
    /// caller uses another search).
    pub(crate) fn new(keywords: &[Vec<u8>]) -> Option<Self> {
        if keywords.iter().any(|k| k.len() < 2) {
            return None;
        }
        let bucket = assign_buckets(keywords);
        let mut reach: Box<[u64; DOMAIN]> =
            vec![u64::MAX; DOMAIN].into_boxed_slice().try_into().ok()?;
        let mut unconstrained = 0u64;
        for (k, &b) in keywords.iter().zip(bucket.iter()) {
            let grams = k.len() - 1;
            for j in 0..WINDOW {
                let bit = 1u64 << (j * BUCKETS + usize::from(b));
                if j < grams {
                    reach[gram(k[j], k[j + 1])] &= !bit;
                } else {
                    unconstrained |= bit;
                }
            }
        }
        for r in reach.iter_mut() {
            *r &= !unconstrained;
        }
        Some(GramFilter { reach })
    }

    /// Calls `candidate` with every position of `haystack` where a keyword may start, in order:
    /// every position where one does start, and (rarely) some where none does.
    pub(crate) fn candidates(&self, haystack: &[u8], mut candidate: impl FnMut(usize)) {
        let n = haystack.len();
        if n < 2 {
            return;
        }
        // Past the last gram nothing rules a bucket out, but no keyword fits there.
        let mut candidate = |p: usize| {
            if p + 2 <= n {
                candidate(p);
            }
        };
        // The haystack is walked in blocks of `WINDOW` starts. For a start `q + i`, byte `7 - i`
        // of the block's `fails` word has the buckets that some offset rules out: table entry
        // `q + t` contributes its byte `j` to start `q + t - j`. The entries of the block itself
        // cover offsets up to `t`; the next block's entries cover the rest, shifted right. No
        // value depends on the previous gram's, so the CPU overlaps all the table loads.
        let mut previous_own = u64::MAX;
        let mut q = 0;
        while let Some(block) = haystack
            .get(q..q + WINDOW + 1)
            .and_then(|b| <&[u8; WINDOW + 1]>::try_from(b).ok())
        {
            let (own, to_previous) = self.block(block, |_| true);
            if q > 0 {
                Self::report(q - WINDOW, previous_own | to_previous, &mut candidate);
            }
            previous_own = own;
            q += WINDOW;
        }
        // The last (partial) block: grams past the end rule nothing out. Fewer than
        // `WINDOW + 1` bytes are left, so no later block holds a start.
        let mut tail = [0u8; WINDOW + 1];
        let rest = &haystack[q..];
        tail[..rest.len()].copy_from_slice(rest);
        let grams = rest.len().saturating_sub(1);
        let (own, to_previous) = self.block(&tail, |t| t < grams);
        if q > 0 {
            Self::report(q - WINDOW, previous_own | to_previous, &mut candidate);
        }
        Self::report(q, own, &mut candidate);
    }

    /// The table entries of one block (`WINDOW + 1` bytes: `WINDOW` grams), as this block's own
    /// contribution and the contribution to the previous block. `real(t)` says whether gram `t`
    /// is inside the haystack (an entry outside it rules nothing out).
    #[inline(always)]
    fn block(&self, block: &[u8; WINDOW + 1], real: impl Fn(usize) -> bool) -> (u64, u64) {
        let mut own = 0u64;
        let mut to_previous = 0u64;
        for t in 0..WINDOW {
            let entry = if real(t) {
                self.reach[gram(block[t], block[t + 1])]
            } else {
                0
            };
            own |= entry << (8 * (WINDOW - 1 - t));
            if t + 1 < WINDOW {
                to_previous |= entry >> (8 * (t + 1));
            }
        }
        (own, to_previous)
    }

    /// Reports the candidates of the block starting at `q` (`fails`: see
    /// [`GramFilter::candidates`]).
    #[inline(always)]
    fn report(q: usize, fails: u64, candidate: &mut impl FnMut(usize)) {
        if fails == u64::MAX {
            return;
        }
        for i in 0..WINDOW {
            let failed = (fails >> (8 * (WINDOW - 1 - i))) as u8;
            if failed != 0xFF {
                candidate(q + i);
            }
        }
    }
}

/// Buckets by number of grams, so that a bucket is as selective as its shortest keyword allows:
/// one or two grams share bucket 0; three grams (the many four-byte keywords, the next weakest)
/// alternate over buckets 1 and 2; four and five grams get buckets 3 and 4; six and seven share
/// bucket 5; a full window alternates over 6 and 7.
fn assign_buckets(keywords: &[Vec<u8>]) -> Box<[u8]> {
    let mut alternate = [0u8; WINDOW + 1];
    keywords
        .iter()
        .map(|k| {
            let grams = (k.len() - 1).min(WINDOW);
            let flip = &mut alternate[grams];
            *flip ^= 1;
            match grams {
                0..=2 => 0,
                3 => 1 + *flip,
                4 => 3,
                5 => 4,
                6 | 7 => 5,
                _ => 6 + *flip,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Starts of every occurrence of every keyword, by direct comparison.
    fn occurrences(keywords: &[&[u8]], hay: &[u8]) -> Vec<usize> {
        let mut out: Vec<usize> = (0..hay.len())
            .filter(|&p| {
                keywords.iter().any(|k| {
                    hay.len() - p >= k.len() && hay[p..p + k.len()].eq_ignore_ascii_case(k)
                })
            })
            .collect();
        out.dedup();
        out
    }

    fn filter(keywords: &[&[u8]]) -> GramFilter {
        let owned: Vec<Vec<u8>> = keywords.iter().map(|k| k.to_vec()).collect();
        GramFilter::new(&owned).unwrap()
    }

    fn candidates(f: &GramFilter, hay: &[u8]) -> Vec<usize> {
        let mut out = Vec::new();
        f.candidates(hay, |p| out.push(p));
        out
    }

    /// Every occurrence is a candidate; candidates come in order, each once.
    fn check(keywords: &[&[u8]], f: &GramFilter, hay: &[u8]) -> Vec<usize> {
        let got = candidates(f, hay);
        assert!(got.windows(2).all(|w| w[0] < w[1]), "{got:?}");
        for p in occurrences(keywords, hay) {
            assert!(got.binary_search(&p).is_ok(), "missed {p} in {hay:?}");
        }
        got
    }

    #[test]
    fn every_occurrence_of_every_length_is_a_candidate_at_both_ends() {
        let kws: Vec<&[u8]> = vec![
            b"ab",
            b"abc",
            b"ghp_",
            b"token",
            b"secret",
            b"api_key",
            b"password",
            b"xoxb-1234",
            b"authorization",
            b"ABC",
        ];
        let f = filter(&kws);
        check(
            &kws,
            &f,
            b"abc..ToKeN=secretPASSWORD;api_key xoxb-12345 Authorization: ghp_abab",
        );
        for k in &kws {
            check(&kws, &f, k);
        }
        assert!(candidates(&f, b"").is_empty());
        assert!(candidates(&f, b"a").is_empty());
    }

    #[test]
    fn random_haystacks_of_every_length_keep_every_occurrence() {
        let kws: Vec<&[u8]> = vec![
            b"ab",
            b"ba",
            b"abc",
            b"cab",
            b"aabb",
            b"abcab",
            b"bbbbbb",
            b"cabcabc",
            b"abcabcab",
            b"aaaaaaaaaaab",
            b"bcabcabcabca",
        ];
        let f = filter(&kws);
        let mut seed = 0x2545_f491_4f6c_dd1du64;
        for case in 0..4000 {
            // Every length up to 70 (partial blocks), and some long ones.
            let len = if case % 10 == 0 {
                500 + case
            } else {
                case % 70
            };
            let hay: Vec<u8> = (0..len)
                .map(|_| {
                    seed ^= seed << 13;
                    seed ^= seed >> 7;
                    seed ^= seed << 17;
                    b"abcAB"[(seed % 5) as usize]
                })
                .collect();
            check(&kws, &f, &hay);
        }
    }

    #[test]
    fn text_without_keywords_has_few_candidates() {
        let kws: Vec<&[u8]> = vec![b"ghp_", b"xoxb-", b"sk_live_", b"AKIA", b"password"];
        let f = filter(&kws);
        let hay = b"fn main() { let value = compute(items, index); return value; }\n".repeat(200);
        let got = check(&kws, &f, &hay);
        assert!(
            got.is_empty(),
            "{:?}",
            got.iter()
                .map(|&p| String::from_utf8_lossy(&hay[p..p + 8]).into_owned())
                .collect::<Vec<_>>()
        );
    }

    #[test]
    fn a_one_byte_keyword_has_no_filter() {
        assert!(GramFilter::new(&[b"a".to_vec(), b"abc".to_vec()]).is_none());
    }
}

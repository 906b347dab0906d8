//! The fast first stage of the keyword prefilter: a shift-or filter over hashed byte pairs
//! ("grams"), in the style of Hyperscan's FDR, in front of an exact check of each keyword.
//!
//! Every keyword is put in one of [`BUCKETS`] buckets. For a position `p` of the haystack the
//! filter asks, for each of the first [`WINDOW`] gram offsets `j`, whether the gram at `p + j`
//! could be gram `j` of some keyword of the bucket; a bucket that passes every offset is a
//! candidate, and only then are that bucket's keywords whose first gram matches compared byte by
//! byte. The answer for all buckets and offsets is one table load per haystack byte and a 64-bit
//! shift-or, with no dependent load chain, which is what makes it fast.
//!
//! Grams are folded (bit `0x20` cleared), so case-insensitive matching costs nothing; a fold also
//! merges a few punctuation pairs, which can only add candidates, never lose one. Keywords of the
//! same length share a bucket: a short keyword constrains few offsets, and mixing it with long
//! ones would make the long ones' bucket as weak as the short one.

/// Number of buckets (bits per table byte).
pub const BUCKETS: usize = 8;
/// Gram offsets checked per keyword (table bytes per entry).
pub const WINDOW: usize = 8;
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

/// A keyword candidate found by the filter and confirmed byte by byte.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GramHit {
    /// Offset of the keyword's first byte.
    pub start: usize,
    /// Keyword index.
    pub keyword: u32,
}

/// The filter tables over a fixed keyword list.
pub struct GramFilter {
    /// Per gram hash, bit `j * 8 + b` clear when gram offset `j` of some keyword in bucket `b`
    /// has this hash (or when no keyword of bucket `b` has a gram at offset `j`).
    reach: Box<[u64; DOMAIN]>,
    /// Keywords by the hash of their first gram: `by_first[h]..by_first[h + 1]` index `ids`.
    by_first: Box<[u32]>,
    /// Keyword indexes grouped by first gram.
    ids: Box<[u32]>,
    /// Bucket of each keyword.
    bucket: Box<[u8]>,
    /// Lowercased keywords.
    keywords: Vec<Vec<u8>>,
}

impl GramFilter {
    /// Builds the filter, or `None` when a keyword is shorter than two bytes (it has no gram; the
    /// caller uses another search).
    pub fn new(keywords: &[Vec<u8>]) -> Option<Self> {
        if keywords.iter().any(|k| k.len() < 2) || keywords.len() > u32::MAX as usize {
            return None;
        }
        let keywords: Vec<Vec<u8>> = keywords.iter().map(|k| k.to_ascii_lowercase()).collect();
        let bucket = assign_buckets(&keywords);
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
        let mut counts = vec![0u32; DOMAIN + 1];
        for k in &keywords {
            counts[gram(k[0], k[1]) + 1] += 1;
        }
        for h in 0..DOMAIN {
            counts[h + 1] += counts[h];
        }
        let mut fill = counts.clone();
        let mut ids = vec![0u32; keywords.len()];
        for (i, k) in keywords.iter().enumerate() {
            let h = gram(k[0], k[1]);
            ids[fill[h] as usize] = i as u32;
            fill[h] += 1;
        }
        Some(GramFilter {
            reach,
            by_first: counts.into_boxed_slice(),
            ids: ids.into_boxed_slice(),
            bucket,
            keywords,
        })
    }

    /// Calls `found` for every keyword occurrence in `haystack`, in order of start (several
    /// keywords at one start in no particular order).
    pub fn find(&self, haystack: &[u8], mut found: impl FnMut(GramHit)) {
        let n = haystack.len();
        if n < 2 {
            return;
        }
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
                self.report(haystack, q - WINDOW, previous_own | to_previous, &mut found);
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
            self.report(haystack, q - WINDOW, previous_own | to_previous, &mut found);
        }
        self.report(haystack, q, own, &mut found);
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

    /// Confirms the candidates of the block starting at `q` (`fails`: see [`GramFilter::find`]).
    #[inline(always)]
    fn report(&self, haystack: &[u8], q: usize, fails: u64, found: &mut impl FnMut(GramHit)) {
        if fails == u64::MAX {
            return;
        }
        for i in 0..WINDOW {
            let failed = (fails >> (8 * (WINDOW - 1 - i))) as u8;
            if failed != 0xFF {
                self.confirm(haystack, q + i, !failed, found);
            }
        }
    }

    /// Compares the keywords of `buckets` whose first gram matches at `start`.
    #[inline(never)]
    fn confirm(&self, haystack: &[u8], start: usize, buckets: u8, found: &mut impl FnMut(GramHit)) {
        let Some(rest) = haystack.get(start..) else {
            return;
        };
        if rest.len() < 2 {
            return;
        }
        let h = gram(rest[0], rest[1]);
        let ids = &self.ids[self.by_first[h] as usize..self.by_first[h + 1] as usize];
        for &id in ids {
            if buckets & (1 << self.bucket[id as usize]) == 0 {
                continue;
            }
            let k = &self.keywords[id as usize];
            if rest.len() >= k.len() && rest[..k.len()].eq_ignore_ascii_case(k) {
                found(GramHit { start, keyword: id });
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

    fn naive(keywords: &[&[u8]], hay: &[u8]) -> Vec<(usize, u32)> {
        let mut out = Vec::new();
        for p in 0..hay.len() {
            for (i, k) in keywords.iter().enumerate() {
                if hay.len() - p >= k.len() && hay[p..p + k.len()].eq_ignore_ascii_case(k) {
                    out.push((p, i as u32));
                }
            }
        }
        out
    }

    fn found(f: &GramFilter, hay: &[u8]) -> Vec<(usize, u32)> {
        let mut out = Vec::new();
        f.find(hay, |h| out.push((h.start, h.keyword)));
        out.sort_unstable();
        out
    }

    #[test]
    fn finds_every_occurrence_of_every_length_at_both_ends() {
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
        let owned: Vec<Vec<u8>> = kws.iter().map(|k| k.to_vec()).collect();
        let f = GramFilter::new(&owned).unwrap();
        let hay = b"abc..ToKeN=secretPASSWORD;api_key xoxb-12345 Authorization: ghp_abab";
        assert_eq!(found(&f, hay), naive(&kws, hay));
        for k in &kws {
            assert_eq!(found(&f, k), naive(&kws, k), "{:?}", k);
        }
        assert!(found(&f, b"").is_empty());
        assert!(found(&f, b"a").is_empty());
    }

    #[test]
    fn random_haystacks_of_every_length_match_a_naive_search() {
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
        let owned: Vec<Vec<u8>> = kws.iter().map(|k| k.to_vec()).collect();
        let f = GramFilter::new(&owned).unwrap();
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
            assert_eq!(found(&f, &hay), naive(&kws, &hay), "{:?}", hay);
        }
    }

    #[test]
    fn a_one_byte_keyword_has_no_filter() {
        assert!(GramFilter::new(&[b"a".to_vec(), b"abc".to_vec()]).is_none());
    }
}

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
//! only add candidates, never lose one. Which keyword goes to which bucket is
//! [`crate::gram_buckets`]' choice: by length, then so that the keywords of a bucket agree on
//! their grams (a bucket passes a position when every offset's gram belongs to *some* keyword of
//! the bucket, so keywords that agree keep these combinations close to real ones). Only the first
//! [`WINDOW`] + 1 bytes of a keyword count, and a keyword that starts with another is left out
//! (where it starts, the shorter one starts too).
//!
//! An entry is one SSE2 register, shifted by whole lanes with byte shifts; on a CPU with AVX2
//! (checked at run time) two blocks share one 256-bit register, which halves the byte shifts,
//! the loop's bottleneck.

/// Number of buckets (bits per offset of a table entry).
pub(crate) const BUCKETS: usize = 16;
/// Gram offsets checked per keyword (offsets per table entry).
pub(crate) const WINDOW: usize = 8;
/// A table entry: `BUCKETS` bits per offset, `WINDOW` offsets.
type Entry = u128;
/// The bits of one offset of an entry.
type Lane = u16;
// The shifts, the `as Lane` and the `Lane::MAX` tests rely on an entry holding exactly one lane
// per offset.
const _: () = assert!(BUCKETS == Lane::BITS as usize && BUCKETS * WINDOW == Entry::BITS as usize);
/// Which bits of a little-endian byte pair make its gram: bit `0x20` (ASCII case) of both bytes
/// and the high bit of the second are dropped.
const GRAM_MASK: u16 = 0x5FDF;
/// Number of gram values.
const DOMAIN: usize = GRAM_MASK as usize + 1;

/// The gram of two bytes.
#[inline(always)]
pub(crate) fn gram(a: u8, b: u8) -> usize {
    usize::from(u16::from_le_bytes([a, b]) & GRAM_MASK)
}

/// `word` rotated right by `N` bits in one BMI2 `rorx` instruction (which the compiler would not
/// pick for a rotation that is then masked).
///
/// # Safety
///
/// The CPU must have BMI2.
#[cfg(target_arch = "x86_64")]
#[inline(always)]
unsafe fn rotate_right<const N: u32>(word: u64) -> u64 {
    let rotated: u64;
    // SAFETY: `rorx` reads and writes registers only; the caller checked BMI2.
    unsafe {
        std::arch::asm!(
            "rorx {out}, {word}, {n}",
            out = lateout(reg) rotated,
            word = in(reg) word,
            n = const N,
            options(pure, nomem, nostack, preserves_flags)
        );
    }
    rotated
}

/// The table offsets (gram times the entry size, 16) of a pair's sixteen grams, from the three
/// 8-byte words holding its bytes 0-7, 7-14 and 14-21 (7, 7 and 2 grams): the word rotated right
/// by `8 * i - 4` bits for its gram `i` (left by 4 for the first), masked. The rotation is one
/// `rorx` written out, because the compiler turns a shift and a mask into three instructions.
///
/// # Safety
///
/// The CPU must have BMI2.
#[cfg(target_arch = "x86_64")]
#[inline(always)]
unsafe fn pair_offsets([w0, w1, w2]: [u64; 3]) -> [usize; 2 * WINDOW] {
    macro_rules! offset {
        ($w:expr, $bits:literal) => {
            // SAFETY: the caller checked BMI2.
            (unsafe { rotate_right::<$bits>($w) } & (u64::from(GRAM_MASK) << 4)) as usize
        };
    }
    [
        offset!(w0, 60),
        offset!(w0, 4),
        offset!(w0, 12),
        offset!(w0, 20),
        offset!(w0, 28),
        offset!(w0, 36),
        offset!(w0, 44),
        offset!(w1, 60),
        offset!(w1, 4),
        offset!(w1, 12),
        offset!(w1, 20),
        offset!(w1, 28),
        offset!(w1, 36),
        offset!(w1, 44),
        offset!(w2, 60),
        offset!(w2, 4),
    ]
}

/// A block's own contribution and its contribution to the previous block (see
/// [`GramFilter::block`]) from its eight entries `$e`, with one vector width's OR and byte
/// shifts within 128 bits: the same tree for SSE2 (one block) and AVX2 (two blocks, one per
/// half). A shift by `n` lanes is a byte shift by `2 * n` bytes.
#[cfg(target_arch = "x86_64")]
macro_rules! lane_contributions {
    ($e:expr, $or:ident, $left:ident, $right:ident) => {{
        let e = $e;
        let own = $or(
            $or(
                $or($left::<14>(e[0]), $left::<12>(e[1])),
                $or($left::<10>(e[2]), $left::<8>(e[3])),
            ),
            $or(
                $or($left::<6>(e[4]), $left::<4>(e[5])),
                $or($left::<2>(e[6]), e[7]),
            ),
        );
        let to_previous = $or(
            $or(
                $or($right::<2>(e[0]), $right::<4>(e[1])),
                $or($right::<6>(e[2]), $right::<8>(e[3])),
            ),
            $or(
                $or($right::<10>(e[4]), $right::<12>(e[5])),
                $right::<14>(e[6]),
            ),
        );
        (own, to_previous)
    }};
}

/// The filter tables over a fixed keyword list.
pub(crate) struct GramFilter {
    /// Per gram (folded byte pair), bit `j * BUCKETS + b` clear when gram `j` of some keyword
    /// in bucket `b` folds to it, or when some keyword of bucket `b` is too short to have a gram
    /// `j` (nothing can be ruled out there); set otherwise, and always for an empty bucket.
    reach: Box<[Entry; DOMAIN]>,
}

impl GramFilter {
    /// Builds the filter, or `None` when a keyword is shorter than two bytes (it has no gram; the
    /// caller uses another search).
    pub(crate) fn new(keywords: &[Vec<u8>]) -> Option<Self> {
        if keywords.iter().any(|k| k.len() < 2) {
            return None;
        }
        let keywords = filter_keys(keywords);
        let bucket = crate::gram_buckets::assign_buckets(&keywords);
        let bit = |j: usize, b: u8| -> Entry { 1 << (j * BUCKETS + usize::from(b)) };
        // Offsets past a keyword's last gram rule nothing out for its bucket: those bits start
        // clear in every entry (one pass over the table, not a second one to clear them).
        let unconstrained = keywords
            .iter()
            .zip(bucket.iter())
            .flat_map(|(k, &b)| (k.len() - 1..WINDOW).map(move |j| bit(j, b)))
            .fold(0, |all, one| all | one);
        let mut reach: Box<[Entry; DOMAIN]> = vec![!unconstrained; DOMAIN]
            .into_boxed_slice()
            .try_into()
            .ok()?;
        for (k, &b) in keywords.iter().zip(bucket.iter()) {
            for j in 0..(k.len() - 1).min(WINDOW) {
                reach[gram(k[j], k[j + 1])] &= !bit(j, b);
            }
        }
        Some(GramFilter { reach })
    }

    /// Calls `candidate` with every position of `haystack` where a keyword may start, in order:
    /// every position where one does start, and (rarely) some where none does.
    pub(crate) fn candidates(&self, haystack: &[u8], candidate: impl FnMut(usize)) {
        self.candidates_with(haystack, candidate, true);
    }

    /// [`GramFilter::candidates`], two blocks at a time with AVX2 when `pairs` allows it and the
    /// CPU has it (the tests compare both ways).
    fn candidates_with(&self, haystack: &[u8], mut candidate: impl FnMut(usize), pairs: bool) {
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
        let (mut q, mut previous_own) = (0, Entry::MAX);
        #[cfg(target_arch = "x86_64")]
        if pairs && std::is_x86_feature_detected!("avx2") && std::is_x86_feature_detected!("bmi2") {
            // SAFETY: the CPU has AVX2 and BMI2 (checked above).
            (q, previous_own) = unsafe { self.pairs_avx2(haystack, &mut candidate) };
        }
        // Elsewhere there is no pair path (and `-D warnings` must not trip on the flag).
        #[cfg(not(target_arch = "x86_64"))]
        let _ = pairs;
        while let Some(block) = haystack
            .get(q..q + WINDOW + 1)
            .and_then(|b| <&[u8; WINDOW + 1]>::try_from(b).ok())
        {
            let (own, to_previous) = self.full_block(block);
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
    fn block(&self, block: &[u8; WINDOW + 1], real: impl Fn(usize) -> bool) -> (Entry, Entry) {
        let mut own: Entry = 0;
        let mut to_previous: Entry = 0;
        for t in 0..WINDOW {
            let entry = if real(t) {
                self.reach[gram(block[t], block[t + 1])]
            } else {
                0
            };
            own |= entry << (BUCKETS * (WINDOW - 1 - t));
            if t + 1 < WINDOW {
                to_previous |= entry >> (BUCKETS * (t + 1));
            }
        }
        (own, to_previous)
    }

    /// [`GramFilter::block`] of a block wholly inside the haystack, with SSE2 (part of the
    /// x86-64 baseline): an entry is one vector register, and each shift by whole lanes is one
    /// byte-shift instruction instead of a pair of 64-bit shifts.
    #[cfg(target_arch = "x86_64")]
    #[inline(always)]
    fn full_block(&self, block: &[u8; WINDOW + 1]) -> (Entry, Entry) {
        use std::arch::x86_64::{
            __m128i, _mm_load_si128, _mm_or_si128, _mm_slli_si128, _mm_srli_si128,
        };
        let load = |t: usize| {
            let entry: *const Entry = &raw const self.reach[gram(block[t], block[t + 1])];
            // SAFETY: SSE2 is part of the x86-64 baseline; `entry` points at a live table entry,
            // and a `u128` is 16-byte aligned on x86-64, as the aligned load requires.
            unsafe { _mm_load_si128(entry.cast::<__m128i>()) }
        };
        // Lane shifts in bytes: `BUCKETS * n` bits is `2 * n` bytes.
        const _: () = assert!(BUCKETS == 16);
        // SAFETY: register-only SSE2 operations, and the transmutes are between two 16-byte
        // plain-data types.
        unsafe {
            let e: [__m128i; WINDOW] = std::array::from_fn(load);
            let (own, to_previous) =
                lane_contributions!(e, _mm_or_si128, _mm_slli_si128, _mm_srli_si128);
            (
                std::mem::transmute::<__m128i, Entry>(own),
                std::mem::transmute::<__m128i, Entry>(to_previous),
            )
        }
    }

    /// [`GramFilter::block`] of a block wholly inside the haystack.
    #[cfg(not(target_arch = "x86_64"))]
    #[inline(always)]
    fn full_block(&self, block: &[u8; WINDOW + 1]) -> (Entry, Entry) {
        self.block(block, |_| true)
    }

    /// The leading blocks of `haystack` two at a time with AVX2, reporting their candidates as
    /// [`GramFilter::candidates`] does; returns where the blocks it did not take start, and the
    /// own contribution of the last block it took (not reported yet).
    ///
    /// A 256-bit register holds one entry of each block, the first block's in its low half: the
    /// per-half byte shifts (`vpslldq`, `vpsrldq`) shift both blocks' entries at once, half the
    /// shift and OR instructions of two SSE2 blocks (byte shifts are the loop's bottleneck: they
    /// share one execution port).
    ///
    /// # Safety
    ///
    /// The CPU must have AVX2 and BMI2.
    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2,bmi2")]
    unsafe fn pairs_avx2(
        &self,
        haystack: &[u8],
        candidate: &mut impl FnMut(usize),
    ) -> (usize, Entry) {
        use std::arch::x86_64::{
            __m128i, __m256i, _mm256_cmpeq_epi16, _mm256_extracti128_si256, _mm256_loadu2_m128i,
            _mm256_movemask_epi8, _mm256_or_si256, _mm256_permute2x128_si256, _mm256_set1_epi8,
        };
        const PAIR: usize = 2 * WINDOW;
        let all_ones = _mm256_set1_epi8(-1);
        // High half: the own contribution of the last block taken (none yet: all ones).
        let mut previous_own = all_ones;
        let mut q = 0;
        // The pair's 16 grams come from three 8-byte words (see `pair_offsets`): two
        // instructions per gram, and no load but the table's.
        const READ: usize = 3 * 7 + 1;
        let table: *const Entry = self.reach.as_ptr();
        while let Some(bytes) = haystack
            .get(q..q + READ)
            .and_then(|b| <&[u8; READ]>::try_from(b).ok())
        {
            let word = |at: usize| {
                let mut w = [0u8; 8];
                w.copy_from_slice(&bytes[at..at + 8]);
                u64::from_le_bytes(w)
            };
            let words = [word(0), word(7), word(14)];
            // SAFETY: the CPU has BMI2 (this function's contract).
            let offsets = unsafe { pair_offsets(words) };
            let entry = |g: usize| -> *const Entry {
                // SAFETY: `offsets[g] / 16` is a gram, at most `GRAM_MASK`: inside the table of
                // `DOMAIN` entries (the offset has its low four bits clear, so this adds it).
                unsafe { table.add(offsets[g] >> 4) }
            };
            let load = |t: usize| {
                // SAFETY: both point at live 16-byte table entries (unaligned loads allowed).
                unsafe { _mm256_loadu2_m128i(entry(WINDOW + t).cast(), entry(t).cast()) }
            };
            let e: [__m256i; WINDOW] = std::array::from_fn(load);
            // SAFETY: the CPU has AVX2 (this function's contract).
            let (own, to_previous) = unsafe { Self::pair_contributions(&e) };
            // Low half: the block before this pair (its own part, and what the first block adds
            // to it); high half: the pair's first block (its own part, and the second block's).
            let owns = _mm256_permute2x128_si256::<0x21>(previous_own, own);
            let fails = _mm256_or_si256(owns, to_previous);
            let full = _mm256_movemask_epi8(_mm256_cmpeq_epi16(fails, all_ones)) as u32;
            if full != u32::MAX {
                // Block `q - WINDOW` only exists past the first pair; before it the low half is
                // all ones, so no lane passes there.
                Self::report_lanes(q.wrapping_sub(WINDOW), !full & 0xFFFF, candidate);
                Self::report_lanes(q, !full >> 16, candidate);
            }
            previous_own = own;
            q += PAIR;
        }
        let last_own = _mm256_extracti128_si256::<1>(previous_own);
        // SAFETY: a transmute between two 16-byte plain-data types.
        (q, unsafe {
            std::mem::transmute::<__m128i, Entry>(last_own)
        })
    }

    /// [`GramFilter::full_block`]'s own and previous-block contributions for both halves of
    /// `e` at once (the byte shifts act on each 128-bit half alone).
    ///
    /// # Safety
    ///
    /// The CPU must have AVX2.
    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2")]
    #[inline]
    unsafe fn pair_contributions(
        e: &[std::arch::x86_64::__m256i; WINDOW],
    ) -> (std::arch::x86_64::__m256i, std::arch::x86_64::__m256i) {
        use std::arch::x86_64::{_mm256_or_si256, _mm256_slli_si256, _mm256_srli_si256};
        lane_contributions!(e, _mm256_or_si256, _mm256_slli_si256, _mm256_srli_si256)
    }

    /// Reports the candidates of the block starting at `q` (`fails`: see
    /// [`GramFilter::candidates`]).
    #[inline(always)]
    fn report(q: usize, fails: Entry, candidate: &mut impl FnMut(usize)) {
        if fails == Entry::MAX {
            return;
        }
        Self::report_lanes(q, Self::passing_lanes(fails), candidate);
    }

    /// Reports the starts of the block at `q` whose lanes pass: bits `2l` and `2l + 1` of
    /// `passing` set for lane `l` (see [`GramFilter::passing_lanes`]).
    #[inline(always)]
    fn report_lanes(q: usize, mut passing: u32, candidate: &mut impl FnMut(usize)) {
        // Two bits per lane, lane `WINDOW - 1 - i` (from the low end) for start `q + i`, set
        // where some bucket passes: walked from the high end, starts come in order, and only
        // the candidates cost a step.
        while passing != 0 {
            let lane = (u32::BITS - 1 - passing.leading_zeros()) as usize / 2;
            candidate(q + WINDOW - 1 - lane);
            passing &= !(0b11 << (2 * lane));
        }
    }

    /// Bits `2l` and `2l + 1` set for each lane `l` of `fails` that is not all ones.
    #[cfg(target_arch = "x86_64")]
    #[inline(always)]
    fn passing_lanes(fails: Entry) -> u32 {
        use std::arch::x86_64::{__m128i, _mm_cmpeq_epi16, _mm_movemask_epi8, _mm_set1_epi16};
        // SAFETY: SSE2 is part of the x86-64 baseline; the transmute is between two 16-byte
        // plain-data types.
        unsafe {
            let v = std::mem::transmute::<Entry, __m128i>(fails);
            let full = _mm_movemask_epi8(_mm_cmpeq_epi16(v, _mm_set1_epi16(-1))) as u32;
            !full & 0xFFFF
        }
    }

    /// Bits `2l` and `2l + 1` set for each lane `l` of `fails` that is not all ones.
    #[cfg(not(target_arch = "x86_64"))]
    #[inline(always)]
    fn passing_lanes(fails: Entry) -> u32 {
        (0..WINDOW)
            .filter(|&lane| (fails >> (BUCKETS * lane)) as Lane != Lane::MAX)
            .fold(0, |bits, lane| bits | 0b11 << (2 * lane))
    }
}

/// The keywords the filter needs: each cut to its first `WINDOW + 1` bytes (the grams it checks),
/// without repeats and without any that starts with another (every start of the longer one is a
/// start of the shorter one).
pub(crate) fn filter_keys(keywords: &[Vec<u8>]) -> Vec<Vec<u8>> {
    let mut keys: Vec<Vec<u8>> = keywords
        .iter()
        .map(|k| k[..k.len().min(WINDOW + 1)].to_ascii_lowercase())
        .collect();
    keys.sort_unstable();
    keys.dedup();
    // Sorted, a key's prefixes that are keys come before it; the last kept one is the only
    // candidate (kept keys are not prefixes of one another, so at most one of them prefixes it).
    let mut kept: Vec<Vec<u8>> = Vec::with_capacity(keys.len());
    for key in keys {
        if kept.last().is_none_or(|last| !key.starts_with(last)) {
            kept.push(key);
        }
    }
    kept
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
    fn the_vector_block_equals_the_scalar_block() {
        let kws: Vec<Vec<u8>> = (0..400u32)
            .map(|i| format!("k{}w{}", i * 7919 % 1000, "x".repeat((i % 12) as usize)).into_bytes())
            .collect();
        let f = GramFilter::new(&kws).unwrap();
        let mut rng = crate::test_support::Rng(0x9e37_79b9_7f4a_7c15);
        for _ in 0..20_000 {
            let block: [u8; WINDOW + 1] =
                std::array::from_fn(|_| b"k0123456789wxX_ "[rng.below(16)]);
            assert_eq!(f.full_block(&block), f.block(&block, |_| true), "{block:?}");
        }
    }

    #[test]
    fn two_blocks_at_a_time_give_the_candidates_of_one_at_a_time() {
        let pack = crate::test_support::pack_keywords();
        let mut rng = crate::test_support::Rng(0x51_7cc1_b727_220a);
        let mut sets: Vec<Vec<Vec<u8>>> = crate::test_support::adversarial_keyword_sets()
            .into_iter()
            .map(|set| set.into_iter().map(<[u8]>::to_vec).collect())
            .collect();
        sets.push(crate::test_support::random_keywords(&mut rng, 300));
        sets.push(pack);
        let mut compared = 0;
        for keywords in &sets {
            let Some(f) = GramFilter::new(keywords) else {
                continue;
            };
            let both = |hay: &[u8]| {
                let (mut one, mut two) = (Vec::new(), Vec::new());
                f.candidates_with(hay, |p| one.push(p), false);
                f.candidates_with(hay, |p| two.push(p), true);
                assert_eq!(one, two, "{}", String::from_utf8_lossy(hay));
            };
            crate::test_support::flipped_haystacks(keywords, 300, 7, &both);
            // Long haystacks: many pairs, then single blocks, then a partial block.
            for len in [16, 17, 18, 25, 33, 34, 1000, 1001, 1007, 1009, 4096 + 15] {
                let mut hay = Vec::with_capacity(len);
                while hay.len() < len {
                    let k = &keywords[rng.below(keywords.len())];
                    hay.extend_from_slice(&k[..rng.below(k.len() + 1)]);
                    hay.push(b" \n_aZ"[rng.below(5)]);
                }
                hay.truncate(len);
                both(&hay);
            }
            compared += 1;
        }
        assert!(compared >= 3, "{compared}");
    }

    #[test]
    fn every_keyword_at_every_start_around_the_pair_hand_off_is_a_candidate() {
        // Haystacks of 15 to 50 bytes (no pair, one pair, the pair loop's last 22 bytes going to
        // single blocks and the tail), every keyword of the pack and some longer than a window,
        // uppercased, at every start, among NUL, high and fold-neighbour bytes.
        let mut keywords = crate::test_support::pack_keywords();
        keywords.extend([
            b"authorization_bearer".to_vec(),
            b"x-api-key-header".to_vec(),
        ]);
        let f = GramFilter::new(&keywords).unwrap();
        let filler = b"\0\x80\xff\xc0@`{[_ \n";
        for len in 15..=50usize {
            for (k, keyword) in keywords.iter().enumerate() {
                for at in 0..=len.saturating_sub(keyword.len()) {
                    if at + keyword.len() > len {
                        continue;
                    }
                    let mut hay: Vec<u8> =
                        (0..len).map(|i| filler[(i + k) % filler.len()]).collect();
                    let upper = (at + k) % 2 == 0;
                    for (i, &b) in keyword.iter().enumerate() {
                        hay[at + i] = if upper { b.to_ascii_uppercase() } else { b };
                    }
                    assert!(
                        candidates(&f, &hay).contains(&at),
                        "{keyword:?} at {at} of {len}"
                    );
                }
            }
        }
    }

    /// The candidates read straight off the table: a start passes when some bucket's bit is
    /// clear at every offset whose gram lies inside the haystack.
    fn table_candidates(f: &GramFilter, hay: &[u8]) -> Vec<usize> {
        let n = hay.len();
        (0..n.saturating_sub(1))
            .filter(|&p| {
                (0..BUCKETS).any(|b| {
                    (0..WINDOW).all(|j| {
                        let a = p + j;
                        a + 1 >= n
                            || (f.reach[gram(hay[a], hay[a + 1])] >> (j * BUCKETS + b)) & 1 == 0
                    })
                })
            })
            .collect()
    }

    #[test]
    fn both_paths_give_exactly_the_candidates_the_table_gives() {
        let mut rng = crate::test_support::Rng(0x0ddb_a11e);
        let mut sets = vec![
            crate::test_support::pack_keywords(),
            crate::test_support::random_keywords(&mut rng, 40),
        ];
        // Keywords of random bytes: every gram bit (case, high bits) matters somewhere.
        sets.push(
            (0..60)
                .map(|_| (0..2 + rng.below(12)).map(|_| rng.next() as u8).collect())
                .collect(),
        );
        for keywords in &sets {
            let f = GramFilter::new(keywords).unwrap();
            for round in 0..600 {
                let len = if round % 50 == 0 {
                    300 + rng.below(200)
                } else {
                    rng.below(70)
                };
                let mut hay = Vec::with_capacity(len + 16);
                while hay.len() < len {
                    if rng.below(3) == 0 {
                        let k = &keywords[rng.below(keywords.len())];
                        hay.extend(k.iter().map(|&b| b ^ [0, 0x20, 0x80][rng.below(3)]));
                    } else {
                        hay.push(rng.next() as u8);
                    }
                }
                hay.truncate(len);
                let want = table_candidates(&f, &hay);
                for pairs in [false, true] {
                    let mut got = Vec::new();
                    f.candidates_with(&hay, |p| got.push(p), pairs);
                    assert_eq!(got, want, "pairs {pairs}: {hay:?}");
                }
            }
        }
    }

    #[test]
    fn a_one_byte_keyword_has_no_filter() {
        assert!(GramFilter::new(&[b"a".to_vec(), b"abc".to_vec()]).is_none());
    }
}

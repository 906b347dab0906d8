//! Long runs of base64-alphabet bytes (`A`–`Z`, `a`–`z`, `0`–`9`, `+`, `/`, `=`), found a block at a
//! time: the decoding stage ([`crate::encoded`]) looks for them on every added byte, so this is on
//! the scanner's hot path.
//!
//! The buffer is first turned into a bitmap, one bit per byte (set for an alphabet byte), sixteen
//! bytes per step with SSE2 on x86-64 (a table lookup per byte elsewhere). A run of at least
//! fifteen bytes covers some whole byte of the bitmap (eight aligned positions), so only bitmap
//! bytes equal to `0xFF` start a look; runs are then measured a word of the bitmap at a time.
//! Ordinary code, whose words are shorter than eight bytes or straddle an alignment, costs a few
//! instructions per sixteen bytes and no branch per byte.

/// Bytes of the alphabet and its padding, as a table (the scalar classifier, and the reference the
/// vector one is tested against).
static ALPHABET: [bool; 256] = {
    let mut table = [false; 256];
    let mut b = 0;
    while b < 256 {
        let c = b as u8;
        table[b] = c.is_ascii_alphanumeric() || c == b'+' || c == b'/' || c == b'=';
        b += 1;
    }
    table
};

/// Whether `b` is a base64 byte (alphabet or padding).
pub fn is_base64_byte(b: u8) -> bool {
    ALPHABET[usize::from(b)]
}

/// The shortest run [`base64_runs`] can find with the aligned-byte test.
const MIN_RUN: usize = 15;

/// Every maximal run of base64 bytes at least `min` long (`min` ≥ 15), as `(start, end)`, in
/// order.
pub fn base64_runs(buf: &[u8], min: usize) -> Vec<(usize, usize)> {
    assert!(
        min >= MIN_RUN,
        "runs shorter than {MIN_RUN} bytes need a byte walk"
    );
    let bits = bitmap(buf);
    let mut runs = Vec::new();
    // Nothing before `resume` starts a new run: it ends the last run measured.
    let mut resume = 0;
    for (w, &word) in bits.iter().enumerate() {
        let previous = if w > 0 { bits[w - 1] } else { 0 };
        let next = bits.get(w + 1).copied().unwrap_or(0);
        let mut looks = run_bytes(previous, word, next);
        while looks != 0 {
            let byte = looks.trailing_zeros() as usize / 8;
            looks &= looks - 1;
            let p = w * 64 + byte * 8;
            if p < resume {
                continue;
            }
            let start = p - ones_before(&bits, p);
            let end = p + ones_from(&bits, p, buf.len());
            if end - start >= min {
                runs.push((start, end));
            }
            resume = end;
        }
    }
    runs
}

/// Bit `8k` set for each byte `k` of bitmap word `word` that may lie inside a run of at least
/// [`MIN_RUN`] bytes (`previous` and `next`: the words around it, 0 at the ends): the byte is all
/// ones, and so are the last four bits before it or the first four after it. A run of fifteen
/// covers a whole aligned byte and seven bits around it, at least four on one side; ordinary
/// identifiers (eight letters between two spaces) fill a byte but not its neighbours' nibbles.
/// No branch per byte: most words of ordinary text have no such byte.
fn run_bytes(previous: u64, word: u64, next: u64) -> u64 {
    const BYTE_STARTS: u64 = 0x0101_0101_0101_0101;
    // Bit `i` of `nibbles` is set when bits `i..i + 4` are; of `full`, bits `i..i + 8`.
    let pairs = word & (word >> 1);
    let nibbles = pairs & (pairs >> 2);
    let full = nibbles & (nibbles >> 4) & BYTE_STARTS;
    let nibble_before = (nibbles << 4) | u64::from(previous >> 60 == 0xF);
    let nibble_after = (nibbles >> 8) | u64::from(next & 0xF == 0xF) << 56;
    full & (nibble_before | nibble_after)
}

/// How many set bits end right before bit `p`.
fn ones_before(bits: &[u64], p: usize) -> usize {
    let mut count = 0;
    let mut at = p;
    while at > 0 {
        let (w, bit) = ((at - 1) / 64, (at - 1) % 64);
        let below = (bits[w] << (63 - bit)).leading_ones() as usize;
        let taken = below.min(bit + 1);
        count += taken;
        at -= taken;
        if taken < bit + 1 {
            break;
        }
    }
    count
}

/// How many set bits start at bit `p` (bits at or past `len` are clear).
fn ones_from(bits: &[u64], p: usize, len: usize) -> usize {
    let mut count = 0;
    let mut at = p;
    while at < len {
        let (w, bit) = (at / 64, at % 64);
        let above = (bits[w] >> bit).trailing_ones() as usize;
        let taken = above.min(64 - bit);
        count += taken;
        at += taken;
        if taken < 64 - bit {
            break;
        }
    }
    count
}

/// One bit per byte of `buf`, set for a base64 byte; bits past the end are clear.
fn bitmap(buf: &[u8]) -> Vec<u64> {
    let mut bits = vec![0u64; buf.len().div_ceil(64)];
    let done = wide_words(buf, &mut bits);
    let mut blocks = buf[done..].chunks_exact(16);
    for (i, block) in blocks.by_ref().enumerate() {
        let block: &[u8; 16] = block.try_into().expect("chunks_exact gives 16 bytes");
        let at = done + i * 16;
        bits[at / 64] |= u64::from(classify16(block)) << (at % 64);
    }
    let tail_start = buf.len() - blocks.remainder().len();
    for (offset, &b) in blocks.remainder().iter().enumerate() {
        let p = tail_start + offset;
        bits[p / 64] |= u64::from(is_base64_byte(b)) << (p % 64);
    }
    bits
}

/// Fills the bitmap words of `buf`'s whole 64-byte blocks with AVX2 when the CPU has it, and
/// returns how many bytes it covered (0 without AVX2: the caller classifies everything).
#[cfg(target_arch = "x86_64")]
fn wide_words(buf: &[u8], bits: &mut [u64]) -> usize {
    if !std::is_x86_feature_detected!("avx2") {
        return 0;
    }
    // SAFETY: the CPU has AVX2 (checked above).
    unsafe { wide_words_avx2(buf, bits) }
}

#[cfg(not(target_arch = "x86_64"))]
fn wide_words(_: &[u8], _: &mut [u64]) -> usize {
    0
}

/// [`wide_words`] with AVX2: 32 bytes per classification.
///
/// # Safety
///
/// The CPU must have AVX2.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn wide_words_avx2(buf: &[u8], bits: &mut [u64]) -> usize {
    use std::arch::x86_64::{
        __m256i, _mm256_add_epi8, _mm256_cmpeq_epi8, _mm256_cmpgt_epi8, _mm256_loadu_si256,
        _mm256_movemask_epi8, _mm256_or_si256, _mm256_set1_epi8,
    };
    // `x` in `lo..lo + n` (unsigned) ⇔ `-128 + n` > `x + (0x80 - lo)` (signed).
    let in_range = |x: __m256i, lo: u8, n: u8| {
        let shifted = _mm256_add_epi8(x, _mm256_set1_epi8(0x80u8.wrapping_sub(lo) as i8));
        _mm256_cmpgt_epi8(_mm256_set1_epi8((n as i8).wrapping_sub(-128i8)), shifted)
    };
    let classify = |v: __m256i| {
        let folded = _mm256_or_si256(v, _mm256_set1_epi8(0x20));
        let letters = in_range(folded, b'a', 26);
        let digits = in_range(v, b'0', 10);
        let plus = _mm256_cmpeq_epi8(v, _mm256_set1_epi8(b'+' as i8));
        let slash = _mm256_cmpeq_epi8(v, _mm256_set1_epi8(b'/' as i8));
        let equals = _mm256_cmpeq_epi8(v, _mm256_set1_epi8(b'=' as i8));
        let any = _mm256_or_si256(
            _mm256_or_si256(letters, digits),
            _mm256_or_si256(plus, _mm256_or_si256(slash, equals)),
        );
        u64::from(_mm256_movemask_epi8(any) as u32)
    };
    let mut words = buf.chunks_exact(64);
    for (word, block) in bits.iter_mut().zip(words.by_ref()) {
        // SAFETY: each load reads 32 of the block's 64 bytes; unaligned loads are allowed.
        let (low, high) = unsafe {
            (
                _mm256_loadu_si256(block.as_ptr().cast()),
                _mm256_loadu_si256(block[32..].as_ptr().cast()),
            )
        };
        *word = classify(low) | classify(high) << 32;
    }
    buf.len() - words.remainder().len()
}

/// Bit `i` set when byte `i` of the block is a base64 byte.
#[cfg(target_arch = "x86_64")]
fn classify16(block: &[u8; 16]) -> u16 {
    use std::arch::x86_64::{
        __m128i, _mm_add_epi8, _mm_cmpeq_epi8, _mm_cmplt_epi8, _mm_loadu_si128, _mm_movemask_epi8,
        _mm_or_si128, _mm_set1_epi8,
    };
    // SAFETY: SSE2 is part of the x86-64 baseline, and the load reads exactly the 16 bytes of
    // `block` (unaligned loads are allowed).
    unsafe {
        // `loadu` has no alignment requirement, whatever the pointer type says.
        #[allow(clippy::cast_ptr_alignment)]
        let v = _mm_loadu_si128(block.as_ptr().cast::<__m128i>());
        // `x` in `lo..lo + n` (unsigned) ⇔ `x + (0x80 - lo)` < `-128 + n` (signed).
        let in_range = |x: __m128i, lo: u8, n: u8| {
            let shifted = _mm_add_epi8(x, _mm_set1_epi8(0x80u8.wrapping_sub(lo) as i8));
            _mm_cmplt_epi8(shifted, _mm_set1_epi8((n as i8).wrapping_sub(-128i8)))
        };
        let folded = _mm_or_si128(v, _mm_set1_epi8(0x20));
        let letters = in_range(folded, b'a', 26);
        let digits = in_range(v, b'0', 10);
        let plus = _mm_cmpeq_epi8(v, _mm_set1_epi8(b'+' as i8));
        let slash = _mm_cmpeq_epi8(v, _mm_set1_epi8(b'/' as i8));
        let equals = _mm_cmpeq_epi8(v, _mm_set1_epi8(b'=' as i8));
        let any = _mm_or_si128(
            _mm_or_si128(letters, digits),
            _mm_or_si128(plus, _mm_or_si128(slash, equals)),
        );
        _mm_movemask_epi8(any) as u16
    }
}

/// Bit `i` set when byte `i` of the block is a base64 byte.
#[cfg(not(target_arch = "x86_64"))]
fn classify16(block: &[u8; 16]) -> u16 {
    block
        .iter()
        .enumerate()
        .fold(0, |bits, (i, &b)| bits | u16::from(is_base64_byte(b)) << i)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::naive_base64_runs as naive;

    #[test]
    fn the_vector_classifier_agrees_with_the_table_on_every_byte() {
        for first in 0..=255u8 {
            let block: [u8; 16] = std::array::from_fn(|i| first.wrapping_add(i as u8 * 17));
            let expected = block.iter().enumerate().fold(0u16, |bits, (i, &b)| {
                bits | u16::from(is_base64_byte(b)) << i
            });
            assert_eq!(classify16(&block), expected, "block from {first}");
        }
    }

    #[test]
    fn the_bitmap_agrees_with_the_table_on_every_byte_at_every_offset() {
        // Every byte value at every offset of a 64-byte block (the vector step), then a tail.
        let buf: Vec<u8> = (0..256 * 64 + 37)
            .map(|i| ((i / 64 + i % 64) % 256) as u8)
            .collect();
        let bits = bitmap(&buf);
        for (p, &b) in buf.iter().enumerate() {
            assert_eq!(
                bits[p / 64] >> (p % 64) & 1 == 1,
                is_base64_byte(b),
                "byte {b} at {p}"
            );
        }
        assert_eq!(
            bits.last().map(|w| w >> (buf.len() % 64)),
            Some(0),
            "no bit past the end"
        );
    }

    #[test]
    fn the_bitmap_walk_finds_exactly_what_a_byte_walk_finds() {
        let mut rng = crate::test_support::Rng(0x9e37_79b9_7f4a_7c15);
        let mut found = 0;
        for round in 0..3000 {
            let len = if round % 50 == 0 { 5000 } else { round % 300 };
            let buf: Vec<u8> = (0..len)
                .map(|_| {
                    let state = rng.next();
                    // Mostly alphabet bytes, with breaks of every kind (high bytes too).
                    match state % 23 {
                        0 => b' ',
                        1 => (state >> 8) as u8,
                        2 => b'\n',
                        _ => b"aZ09+/=Qx"[(state >> 16) as usize % 9],
                    }
                })
                .collect();
            for min in [15, 16, 17, 32, 64] {
                let expected = naive(&buf, min);
                found += expected.len();
                assert_eq!(base64_runs(&buf, min), expected, "round {round} min {min}");
            }
        }
        assert!(found > 1000, "the input holds runs: {found}");
    }

    #[test]
    fn runs_of_every_length_near_the_minimum_at_every_offset() {
        for len in 12..=18usize {
            for lead in 0..140usize {
                for filler in [b' ', b'.'] {
                    // The run, after `lead` filler bytes, between words of eight letters (which
                    // fill aligned bitmap bytes without being runs of fifteen).
                    let mut buf: Vec<u8> =
                        b"abcdefgh.".iter().cycle().take(lead).copied().collect();
                    if let Some(last) = buf.last_mut() {
                        *last = filler;
                    }
                    buf.extend(std::iter::repeat_n(b'Q', len));
                    buf.push(filler);
                    buf.extend_from_slice(b"abcdefgh abcdefgh");
                    let expected = crate::test_support::naive_base64_runs(&buf, 15);
                    assert_eq!(base64_runs(&buf, 15), expected, "len {len} lead {lead}");
                }
            }
        }
    }

    #[test]
    fn runs_broken_near_the_minimum_at_random_alignments_match_a_byte_walk() {
        // Breaks every 12 to 20 bytes on average: many runs of 14, 15 and 16 at every alignment
        // (crossing bitmap bytes and words), broken by NUL, high bytes, `-` or a space; padding
        // and the alphabet's last letters inside; buffers of every length up to 300.
        let mut rng = crate::test_support::Rng(0x0b64_150f_f5e7);
        for round in 0..6000 {
            let len = round % 301;
            let break_every = 12 + round % 9;
            let buf: Vec<u8> = (0..len)
                .map(|_| {
                    if rng.below(break_every) == 0 {
                        b"\0\x80\xff- "[rng.below(5)]
                    } else {
                        b"Az09+/="[rng.below(7)]
                    }
                })
                .collect();
            for min in [15, 16, 20] {
                let expected = crate::test_support::naive_base64_runs(&buf, min);
                assert_eq!(base64_runs(&buf, min), expected, "round {round} min {min}");
            }
        }
    }

    #[test]
    fn runs_over_block_and_word_edges_and_at_both_ends() {
        for len in [15usize, 16, 63, 64, 65, 127, 128, 200] {
            for lead in [0usize, 1, 7, 8, 15, 63, 64] {
                let mut buf = vec![b' '; lead];
                buf.extend(std::iter::repeat_n(b'k', len));
                let end = buf.len();
                assert_eq!(
                    base64_runs(&buf, 15),
                    vec![(lead, end)],
                    "len {len} lead {lead}"
                );
                buf.push(b'.');
                assert_eq!(base64_runs(&buf, 15), vec![(lead, end)]);
            }
        }
        assert!(base64_runs(b"", 16).is_empty());
        assert!(base64_runs(&[b'a'; 14], 15).is_empty());
    }
}

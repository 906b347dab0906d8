//! What a blob's bytes are, before scanning: UTF-16 text is decoded to UTF-8 (tokens are ASCII,
//! and interleaved NUL bytes would hide them), and compressed archives are recognised so the report
//! can say their contents were not expanded. Everything else, text or binary, is scanned as is.

/// How many leading bytes decide the encoding (git's binary test looks at as many).
pub const PROBE_BYTES: usize = 8000;

/// A UTF-16 byte order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Utf16 {
    /// Little endian (Windows: PowerShell, `.reg` files, Notepad's "Unicode").
    Le,
    /// Big endian.
    Be,
}

/// Whether `data` is UTF-16 text: a byte order mark, or (in the first [`PROBE_BYTES`]) the shape
/// of mostly-ASCII UTF-16, where nearly every other byte is NUL and the bytes between are not.
pub fn detect_utf16(data: &[u8]) -> Option<Utf16> {
    match data {
        [0xFF, 0xFE, 0, 0, ..] => return None, // UTF-32LE's mark
        [0xFF, 0xFE, ..] => return Some(Utf16::Le),
        [0xFE, 0xFF, ..] => return Some(Utf16::Be),
        _ => {}
    }
    let probe = &data[..data.len().min(PROBE_BYTES) & !1];
    let pairs = probe.len() / 2;
    if pairs < 8 {
        return None;
    }
    let (mut nul_even, mut nul_odd, mut seen) = (0, 0, 0);
    // Counted a block at a time, stopping once neither parity can be mostly NUL (the common case,
    // text, is decided within the first tenth of the probe): the answer is the full count's.
    for block in probe.chunks(BLOCK_BYTES) {
        let (even, odd) = nul_counts(block);
        (nul_even, nul_odd, seen) = (nul_even + even, nul_odd + odd, seen + block.len() / 2);
        if (seen - nul_even) * 10 > pairs && (seen - nul_odd) * 10 > pairs {
            return None;
        }
    }
    let mostly = |n: usize| n * 10 >= pairs * 9;
    let rarely = |n: usize| n * 20 <= pairs;
    if mostly(nul_odd) && rarely(nul_even) {
        Some(Utf16::Le)
    } else if mostly(nul_even) && rarely(nul_odd) {
        Some(Utf16::Be)
    } else {
        None
    }
}

/// Bytes of the probe counted between two checks of whether its answer is already known (even,
/// so that each block's pairs keep their parity).
const BLOCK_BYTES: usize = 256;

/// The NUL bytes of `probe` (of even length) at even offsets and at odd offsets, eight bytes at a
/// time: each NUL byte of a word gets its high bit set, exactly (no carry crosses a byte), and the
/// bits of the even and of the odd bytes are counted apart.
fn nul_counts(probe: &[u8]) -> (usize, usize) {
    const LOW7: u64 = 0x7F7F_7F7F_7F7F_7F7F;
    // Little endian: byte `i` of a word is bits 8i..8i+8, its high bit 8i+7.
    const EVEN_HIGH: u64 = 0x0080_0080_0080_0080;
    const ODD_HIGH: u64 = 0x8000_8000_8000_8000;
    let (mut even, mut odd) = (0usize, 0usize);
    let mut words = probe.chunks_exact(8);
    for word in &mut words {
        let mut bytes = [0u8; 8];
        bytes.copy_from_slice(word);
        let w = u64::from_le_bytes(bytes);
        let nul = !(((w & LOW7) + LOW7) | w | LOW7);
        even += (nul & EVEN_HIGH).count_ones() as usize;
        odd += (nul & ODD_HIGH).count_ones() as usize;
    }
    // Words start at even offsets, so the rest's pairs keep their parity.
    for pair in words.remainder().chunks_exact(2) {
        even += usize::from(pair[0] == 0);
        odd += usize::from(pair[1] == 0);
    }
    (even, odd)
}

/// Decodes UTF-16 `data` (a leading byte order mark dropped, a trailing odd byte ignored) to
/// UTF-8; unpaired surrogates become U+FFFD. Line breaks stay line breaks, so line numbers carry
/// over.
pub fn decode_utf16(data: &[u8], order: Utf16) -> Vec<u8> {
    let body = match (order, data) {
        (Utf16::Le, [0xFF, 0xFE, rest @ ..]) | (Utf16::Be, [0xFE, 0xFF, rest @ ..]) => rest,
        _ => data,
    };
    let units = body.chunks_exact(2).map(|p| match order {
        Utf16::Le => u16::from_le_bytes([p[0], p[1]]),
        Utf16::Be => u16::from_be_bytes([p[0], p[1]]),
    });
    let mut out = String::with_capacity(body.len() / 2);
    for c in char::decode_utf16(units) {
        out.push(c.unwrap_or(char::REPLACEMENT_CHARACTER));
    }
    out.into_bytes()
}

/// The views of a blob that are scanned: its bytes as stored, and, for UTF-16 text, the decoded
/// text first (the raw bytes are scanned too, so that ASCII hidden behind a byte order mark is
/// not lost). UTF-16 that starts at an odd offset (behind an odd-length ASCII prefix) is decoded
/// from that offset.
pub fn views(data: Vec<u8>) -> Vec<Vec<u8>> {
    if let Some(order) = detect_utf16(&data) {
        return vec![decode_utf16(&data, order), data];
    }
    if let Some(start) = odd_utf16_start(&data) {
        if let Some(order) = detect_utf16(&data[start..]) {
            return vec![decode_utf16(&data[start..], order), data];
        }
    }
    vec![data]
}

/// Whether [`views`] decodes `data` as UTF-16 (from its start, or after its first line break).
pub fn has_utf16_view(data: &[u8]) -> bool {
    detect_utf16(data).is_some()
        || odd_utf16_start(data).is_some_and(|start| detect_utf16(&data[start..]).is_some())
}

/// Where UTF-16 could start at an odd offset: just after the first line break when that is at
/// an even index (so the line break's offset + 1 is odd), within the probe.
fn odd_utf16_start(data: &[u8]) -> Option<usize> {
    let probe = &data[..data.len().min(PROBE_BYTES)];
    let nl = memchr::memchr(b'\n', probe)?;
    ((nl + 1) % 2 == 1).then_some(nl + 1)
}

/// The kind of compressed archive `data` starts with, if any (its contents are not expanded).
pub fn archive_kind(data: &[u8]) -> Option<&'static str> {
    const MAGIC: [(&[u8], &str); 7] = [
        (b"PK\x03\x04", "zip"),
        (b"\x1f\x8b", "gzip"),
        (b"\xfd7zXZ\x00", "xz"),
        (b"BZh", "bzip2"),
        (b"\x28\xb5\x2f\xfd", "zstd"),
        (b"7z\xbc\xaf\x27\x1c", "7z"),
        (b"Rar!\x1a\x07", "rar"),
    ];
    MAGIC
        .iter()
        .find(|(magic, _)| data.starts_with(magic))
        .map(|(_, kind)| *kind)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The word-at-a-time NUL count is the pair-at-a-time one, on random probes of every even
    /// length up to 40 bytes and of the full probe size, NUL-heavy and not.
    #[test]
    fn nul_counts_are_counted_pair_by_pair() {
        let mut state = 0x9E37_79B9_7F4A_7C15u64;
        let mut next = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        for round in 0..4000 {
            let len = if round % 10 == 0 {
                PROBE_BYTES
            } else {
                2 * (round % 21)
            };
            let nul_share = next() % 4;
            let probe: Vec<u8> = (0..len)
                .map(|_| {
                    let r = next();
                    if r % 4 < nul_share {
                        0
                    } else {
                        (r >> 8) as u8
                    }
                })
                .collect();
            let (mut even, mut odd) = (0, 0);
            for pair in probe.chunks_exact(2) {
                even += usize::from(pair[0] == 0);
                odd += usize::from(pair[1] == 0);
            }
            assert_eq!(nul_counts(&probe), (even, odd), "{probe:?}");
        }
    }

    /// Stopping the count early gives the full count's answer: on random data whose NUL bytes
    /// sit at one parity with shares on both sides of the thresholds (and the rest at random),
    /// each share switching at a random place, and data shorter and longer than the probe.
    #[test]
    fn early_stops_give_the_full_counts_answer() {
        let full = |data: &[u8]| {
            let probe = &data[..data.len().min(PROBE_BYTES) & !1];
            let pairs = probe.len() / 2;
            let (even, odd) = nul_counts(probe);
            let mostly = |n: usize| n * 10 >= pairs * 9;
            let rarely = |n: usize| n * 20 <= pairs;
            if pairs < 8 {
                None
            } else if mostly(odd) && rarely(even) {
                Some(Utf16::Le)
            } else if mostly(even) && rarely(odd) {
                Some(Utf16::Be)
            } else {
                None
            }
        };
        let mut rng = crate::test_support::Rng(0x2545_F491_4F6C_DD1D);
        let mut next = move || rng.next();
        let mut found = [0usize; 2];
        for round in 0..3000u64 {
            let len = [PROBE_BYTES, PROBE_BYTES + 7, 900, 40][(round % 4) as usize];
            let switch = (next() % (len as u64 + 1)) as usize;
            let shares = [80 + next() % 21, 80 + next() % 21];
            let parity = (next() % 2) as usize;
            let data: Vec<u8> = (0..len)
                .map(|i| {
                    let share = shares[usize::from(i >= switch)];
                    let r = next();
                    if i % 2 == parity && r % 100 < share {
                        0
                    } else {
                        0x20 + (r >> 8) as u8 % 0x5f
                    }
                })
                .collect();
            let answer = detect_utf16(&data);
            assert_eq!(answer, full(&data), "round {round}");
            found[usize::from(answer.is_some())] += 1;
        }
        // Both answers were met, so the thresholds were crossed.
        assert!(found[0] > 100 && found[1] > 100, "{found:?}");
    }

    fn utf16le(text: &str, bom: bool) -> Vec<u8> {
        let mut out = if bom { vec![0xFF, 0xFE] } else { Vec::new() };
        for u in text.encode_utf16() {
            out.extend_from_slice(&u.to_le_bytes());
        }
        out
    }

    #[test]
    fn utf16_with_and_without_a_byte_order_mark() {
        let text = "$token = 'abc'\r\nline two ü\r\n";
        for bom in [true, false] {
            let data = utf16le(text, bom);
            assert_eq!(detect_utf16(&data), Some(Utf16::Le));
            assert_eq!(decode_utf16(&data, Utf16::Le), text.as_bytes());
        }
        let be: Vec<u8> = [0xFE, 0xFF]
            .into_iter()
            .chain(text.encode_utf16().flat_map(u16::to_be_bytes))
            .collect();
        assert_eq!(detect_utf16(&be), Some(Utf16::Be));
        assert_eq!(decode_utf16(&be, Utf16::Be), text.as_bytes());
    }

    #[test]
    fn plain_text_and_binary_are_not_utf16() {
        assert_eq!(detect_utf16(b"plain ascii text that is long enough"), None);
        let binary: Vec<u8> = (0..4000u32).map(|i| (i * 7 % 256) as u8).collect();
        assert_eq!(detect_utf16(&binary), None);
        assert_eq!(detect_utf16(b"\xff\xfe\0\0utf32"), None);
    }

    #[test]
    fn raw_bytes_behind_a_byte_order_mark_stay_scanned() {
        let mut data = vec![0xFF, 0xFE];
        data.extend_from_slice(b"token=ascii");
        let v = views(data.clone());
        assert_eq!(v.len(), 2);
        assert_eq!(v[1], data);
    }

    #[test]
    fn utf16_behind_an_odd_ascii_prefix_is_decoded() {
        let mut data = b"AAAAAAAAAA\n".to_vec();
        data.extend(utf16le("token = value-long-enough\n", false));
        let v = views(data);
        assert_eq!(v.len(), 2);
        assert_eq!(v[0], b"token = value-long-enough\n");
    }

    #[test]
    fn archives_are_recognised() {
        assert_eq!(archive_kind(b"PK\x03\x04rest"), Some("zip"));
        assert_eq!(archive_kind(b"\x1f\x8b\x08"), Some("gzip"));
        assert_eq!(archive_kind(b"plain"), None);
    }
}

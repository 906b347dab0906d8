//! Encoded values on added lines: base64, hex and percent-encoded runs are decoded **in place**,
//! so that the rules see the plain text with the line's own context around it.
//!
//! `password: cGE1NXdvcmQ=` (a Kubernetes `Secret`'s `data:`) becomes `password: pa55word`, and
//! `echo Z2hwXy4uLg== | base64 -d` becomes `echo ghp_... | base64 -d`: the ordinary rules then find
//! the value, and the scanner maps each finding back to the encoded run's position. Only runs that
//! decode to printable text are used (random tokens and binary data decode to bytes that are not
//! text, and are left alone). The work is linear in the unit's size: each line is rewritten once
//! with all its runs replaced, decoded text is shorter than its encoding, and the caller decodes
//! at most two levels deep. There is no cap that a long file could exhaust.

use crate::added::AddedText;

/// Shortest base64 run considered (12 decoded bytes).
pub const MIN_BASE64: usize = 16;
/// Shortest hex run considered (16 decoded bytes).
pub const MIN_HEX: usize = 32;

/// How a run was encoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoding {
    /// RFC 4648 base64 (standard alphabet, optional padding).
    Base64,
    /// Hexadecimal, two digits a byte.
    Hex,
    /// Percent-encoding (`%3D`), as in URLs and form bodies.
    Percent,
}

impl Encoding {
    /// Lowercase name for reports ("base64").
    pub fn as_str(self) -> &'static str {
        match self {
            Encoding::Base64 => "base64",
            Encoding::Hex => "hex",
            Encoding::Percent => "percent",
        }
    }
}

/// One encoded run, decoded, inside a rewritten line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DecodedRun {
    /// Where the decoded bytes sit in the rewritten line.
    pub decoded: (usize, usize),
    /// Where the encoded run sits in the unit's buffer.
    pub run: (usize, usize),
    /// How the run was encoded.
    pub encoding: Encoding,
}

/// One line (or block of wrapped lines) of a unit with every decodable run replaced by its
/// decoded text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DecodedLine {
    /// The rewritten text: the line with each run replaced by what it decodes to.
    pub text: Vec<u8>,
    /// The runs it holds, in order.
    pub runs: Vec<DecodedRun>,
}

impl DecodedLine {
    /// The run whose decoded bytes overlap `start..end` of the rewritten text, if any.
    pub fn run_at(&self, start: usize, end: usize) -> Option<&DecodedRun> {
        self.runs
            .iter()
            .find(|r| start < r.decoded.1 && r.decoded.0 < end.max(start + 1))
    }
}

/// The decodable runs of `unit` that overlap its added lines, as rewritten lines: one per line
/// that holds any (all its runs replaced at once, so the cost stays linear in the unit's size),
/// and one per block of base64 wrapped over several lines. Decoded text is at most three
/// quarters of what it decodes, so no further cap is needed.
pub fn decoded_lines(unit: &AddedText) -> Vec<DecodedLine> {
    let buf = &unit.buf;
    let mut found: Vec<((usize, usize), Encoding, Vec<u8>)> = Vec::new();
    let base64_runs = crate::base64_runs::base64_runs(buf, MIN_BASE64);
    for &run in &base64_runs {
        if unit.overlaps_added(run.0, run.1) {
            // The part decoded may be a tail of the run: it must overlap the added bytes too.
            if let Some((run, decoded)) =
                base64_text(buf, run).filter(|(tail, _)| unit.overlaps_added(tail.0, tail.1))
            {
                found.push((run, Encoding::Base64, decoded));
            }
        }
    }
    for run in hex_runs(buf, &base64_runs) {
        if unit.overlaps_added(run.0, run.1) {
            if let Some(decoded) = decode_hex(&buf[run.0..run.1]).filter(|d| is_text(d)) {
                found.push((run, Encoding::Hex, decoded));
            }
        }
    }
    for run in percent_runs(buf) {
        if unit.overlaps_added(run.0, run.1) {
            let decoded = decode_percent(&buf[run.0..run.1]);
            if is_text(&decoded) {
                found.push((run, Encoding::Percent, decoded));
            }
        }
    }
    // Overlapping runs (a base64 run inside a percent-encoded one): the first, longest wins.
    found.sort_by_key(|(run, _, _)| (run.0, std::cmp::Reverse(run.1)));
    let mut kept: Vec<((usize, usize), Encoding, Vec<u8>)> = Vec::with_capacity(found.len());
    for candidate in found {
        if kept
            .last()
            .is_none_or(|(last, _, _)| last.1 <= candidate.0 .0)
        {
            kept.push(candidate);
        }
    }
    let mut out: Vec<DecodedLine> = Vec::new();
    let mut i = 0;
    while i < kept.len() {
        let first = kept[i].0;
        let line_start = memchr::memrchr(b'\n', &buf[..first.0]).map_or(0, |p| p + 1);
        let line_end = memchr::memchr(b'\n', &buf[first.1..]).map_or(buf.len(), |p| first.1 + p);
        let mut line = DecodedLine {
            text: Vec::with_capacity(line_end - line_start),
            runs: Vec::new(),
        };
        let mut at = line_start;
        while i < kept.len() && kept[i].0 .0 < line_end {
            let (run, encoding, decoded) = &kept[i];
            line.text.extend_from_slice(&buf[at..run.0]);
            let from = line.text.len();
            line.text.extend_from_slice(decoded);
            line.runs.push(DecodedRun {
                decoded: (from, line.text.len()),
                run: *run,
                encoding: *encoding,
            });
            at = run.1;
            i += 1;
        }
        line.text.extend_from_slice(&buf[at..line_end.max(at)]);
        out.push(line);
    }
    out.extend(wrapped_blocks(unit, &base64_runs));
    out
}

/// A base64 run that decodes to text: the whole run, or else its tail after the last `=` or `/`
/// inside it (`cfg=<base64>`, a URL path ending in a base64 segment).
fn base64_text(buf: &[u8], run: (usize, usize)) -> Option<((usize, usize), Vec<u8>)> {
    let whole = &buf[run.0..run.1];
    if let Some(decoded) = decode_base64(whole).filter(|d| is_text(d)) {
        return Some((run, decoded));
    }
    if !whole.iter().any(|&b| b == b'=' || b == b'/') {
        return None;
    }
    let body_end = whole.iter().rposition(|&b| b != b'=').map_or(0, |p| p + 1);
    for sep in [b'=', b'/'] {
        let Some(cut) = whole[..body_end].iter().rposition(|&b| b == sep) else {
            continue;
        };
        let tail = (run.0 + cut + 1, run.1);
        if tail.1 - tail.0 < MIN_BASE64 {
            continue;
        }
        if let Some(decoded) = decode_base64(&buf[tail.0..tail.1]).filter(|d| is_text(d)) {
            return Some((tail, decoded));
        }
    }
    None
}

/// Shortest line of a wrapped base64 block (`base64` wraps at 76, PEM at 64).
const MIN_WRAPPED_LINE: usize = 40;

/// Blocks of base64 wrapped over consecutive lines (each line only base64 apart from indentation
/// and quotes, all but the last of one length, at least [`MIN_WRAPPED_LINE`]), joined and
/// decoded: a PEM key or a connection string that `base64` wrapped at 76 columns. Built from the
/// base64 runs already found, so it costs nothing on text without long runs.
fn wrapped_blocks(unit: &AddedText, runs: &[(usize, usize)]) -> Vec<DecodedLine> {
    let buf = &unit.buf;
    let lines = whole_line_runs(buf, runs);
    let mut out = Vec::new();
    let mut i = 0;
    while i < lines.len() {
        let ((s, e), _, mut line_end) = lines[i];
        let width = e - s;
        let mut block = vec![(s, e)];
        let mut j = i + 1;
        if width >= MIN_WRAPPED_LINE {
            while j < lines.len() {
                let ((ns, ne), next_start, next_end) = lines[j];
                let last_full = block.last().is_some_and(|&(bs, be)| be - bs == width);
                if next_start != line_end + 1 || !last_full || ne - ns > width {
                    break;
                }
                block.push((ns, ne));
                line_end = next_end;
                j += 1;
            }
        }
        if block.len() >= 2 {
            let start = block[0].0;
            let end = block[block.len() - 1].1;
            let joined: Vec<u8> = block
                .iter()
                .flat_map(|&(bs, be)| buf[bs..be].iter().copied())
                .collect();
            if unit.overlaps_added(start, end) {
                if let Some(decoded) = decode_base64(&joined).filter(|d| is_text(d)) {
                    out.push(DecodedLine {
                        runs: vec![DecodedRun {
                            decoded: (0, decoded.len()),
                            run: (start, end),
                            encoding: Encoding::Base64,
                        }],
                        text: decoded,
                    });
                }
            }
        }
        i = j.max(i + 1);
    }
    out
}

/// The base64 runs of at least 4 bytes that are their line's whole content (apart from
/// indentation and quotes), each with its line's start and end: the lines of wrapped blocks.
fn whole_line_runs(buf: &[u8], runs: &[(usize, usize)]) -> Vec<((usize, usize), usize, usize)> {
    let framing = |b: u8| matches!(b, b' ' | b'\t' | b'\r' | b'"' | b'\'' | b',' | b'\\');
    let whole_line = |&(s, e): &(usize, usize)| {
        let line_start = memchr::memrchr(b'\n', &buf[..s]).map_or(0, |p| p + 1);
        let line_end = memchr::memchr(b'\n', &buf[e..]).map_or(buf.len(), |p| e + p);
        let framed = buf[line_start..s].iter().all(|&b| framing(b))
            && buf[e..line_end].iter().all(|&b| framing(b));
        framed.then_some(((s, e), line_start, line_end))
    };
    runs.iter()
        .filter(|&&(s, e)| e - s >= 4)
        .filter_map(whole_line)
        .collect()
}

/// Whether `buf` holds the start of a wrapped base64 block ([`decoded_lines`]): a line that is a
/// base64 run of at least [`MIN_WRAPPED_LINE`] bytes followed by a line that is a run no longer.
/// A diff's unit can join such lines from another first line than the whole blob does (the
/// block's first lines past its context), so a blob that has them is never cleared whole.
pub fn has_wrapped_lines(buf: &[u8]) -> bool {
    let runs = crate::base64_runs::base64_runs(buf, MIN_BASE64);
    let lines = whole_line_runs(buf, &runs);
    lines.windows(2).any(|pair| {
        let (((s, e), _, end), ((ns, ne), next_start, _)) = (pair[0], pair[1]);
        e - s >= MIN_WRAPPED_LINE && next_start == end + 1 && ne - ns <= e - s
    })
}

/// The maximal hex runs of at least [`MIN_HEX`] bytes, found inside the base64 runs (hex digits
/// are base64 bytes, so every hex run lies in one): a second pass over the base64 runs only, not
/// over the whole buffer.
fn hex_runs(buf: &[u8], base64_runs: &[(usize, usize)]) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    for &(start, end) in base64_runs.iter().filter(|(s, e)| e - s >= MIN_HEX) {
        out.extend(
            runs_of(&buf[start..end], MIN_HEX, |b| b.is_ascii_hexdigit())
                .into_iter()
                .map(|(s, e)| (start + s, start + e)),
        );
    }
    out
}

/// Maximal runs of bytes in `class` at least `min` long (`min` ≥ 2).
///
/// Probes a grid of points `min / 2` apart: a run at least `min` long holds two consecutive grid
/// points and every byte between them, so text whose words are shorter costs about two probes
/// per `min / 2` bytes instead of a look at every byte.
fn runs_of(buf: &[u8], min: usize, class: impl Fn(u8) -> bool) -> Vec<(usize, usize)> {
    let step = (min / 2).max(1);
    let mut runs = Vec::new();
    let mut p = 0;
    let mut previous_end = 0;
    while p + step < buf.len() {
        let linked =
            class(buf[p]) && class(buf[p + step]) && buf[p + 1..p + step].iter().all(|&b| class(b));
        if !linked {
            p += step;
            continue;
        }
        let mut start = p;
        while start > previous_end && class(buf[start - 1]) {
            start -= 1;
        }
        let mut end = p + step + 1;
        while end < buf.len() && class(buf[end]) {
            end += 1;
        }
        if end - start >= min {
            runs.push((start, end));
        }
        previous_end = end;
        p = end + 1;
    }
    runs
}

#[cfg(test)]
mod runs_of_tests {
    use super::{hex_runs, runs_of, MIN_BASE64, MIN_HEX};
    use crate::base64_runs::base64_runs;

    /// Every maximal run of at least `min` class bytes, the slow way.
    fn naive(buf: &[u8], min: usize, class: impl Fn(u8) -> bool) -> Vec<(usize, usize)> {
        let mut runs = Vec::new();
        let mut i = 0;
        while i < buf.len() {
            if class(buf[i]) {
                let start = i;
                while i < buf.len() && class(buf[i]) {
                    i += 1;
                }
                if i - start >= min {
                    runs.push((start, i));
                }
            } else {
                i += 1;
            }
        }
        runs
    }

    #[test]
    fn the_grid_finds_exactly_what_a_byte_by_byte_walk_finds() {
        let mut state = 0x9e37_79b9_7f4a_7c15u64;
        let mut hex_found = 0;
        for round in 0..2000 {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            let len = (state % 120) as usize;
            let buf: Vec<u8> = (0..len)
                .map(|i| {
                    let x = state.rotate_left((i % 64) as u32) ^ (i as u64 * 0x51);
                    if x.is_multiple_of(7) {
                        b' '
                    } else {
                        b'a'
                    }
                })
                .collect();
            // Hex runs found inside the base64 runs are every hex run of the buffer.
            let mixed: Vec<u8> = buf
                .iter()
                .enumerate()
                .map(|(i, &b)| match (b, (state >> (i % 60)) % 40) {
                    (b' ', n) if n < 20 => b' ',
                    (_, 0) => b'g',
                    (_, 1) => b'+',
                    (_, 2) => b'=',
                    (_, n) => b"0a9F3e"[n as usize % 6],
                })
                .collect();
            let mut long = mixed.clone();
            long.extend_from_slice(&mixed);
            long.extend_from_slice(&mixed);
            let base64 = base64_runs(&long, MIN_BASE64);
            let expected = naive(&long, MIN_HEX, |b| b.is_ascii_hexdigit());
            hex_found += expected.len();
            assert_eq!(hex_runs(&long, &base64), expected, "round {round}");
            for min in [2usize, 3, 16, 17, 32] {
                let class = |b: u8| b == b'a';
                assert_eq!(
                    runs_of(&buf, min, class),
                    naive(&buf, min, class),
                    "round {round} min {min}"
                );
            }
        }
        assert!(hex_found > 100, "the input holds hex runs: {hex_found}");
    }
}

/// How many leading decoded bytes must be printable ASCII before a run is decoded whole: random
/// tokens and binary data fail within a few bytes (a random byte passes with p ≈ 0.38), which
/// keeps decoding off the scanner's hot path. Encoded secrets (tokens, `user:password`, PEM, JSON,
/// URLs) start with ASCII.
const ASCII_PREFIX: usize = 6;

fn is_ascii_text_byte(b: u8) -> bool {
    matches!(b, 0x20..=0x7e | b'\t' | b'\n' | b'\r')
}

/// Standard base64 with optional padding; `None` when the run is not base64 (a padding byte
/// inside it, a length that cannot be base64, or no mix of cases and digits that base64 of text
/// always shows).
fn decode_base64(run: &[u8]) -> Option<Vec<u8>> {
    // Text starts with bytes 0x09..0x7e: their top six bits make the first character of each
    // group one of `C`–`Z` or `a`–`f` (a one-byte test that rejects most random runs).
    let starts_ascii = |b: u8| matches!(b, b'C'..=b'Z' | b'a'..=b'f');
    if !run.first().is_some_and(|&b| starts_ascii(b))
        || !run.get(4).is_some_and(|&b| starts_ascii(b))
    {
        return None;
    }
    let body_len = run.iter().rposition(|&b| b != b'=').map_or(0, |i| i + 1);
    let (body, padding) = run.split_at(body_len);
    if padding.len() > 2 || body.contains(&b'=') || body.len() % 4 == 1 {
        return None;
    }
    if !padding.is_empty() && !run.len().is_multiple_of(4) {
        return None;
    }
    let has = |f: fn(&u8) -> bool| body.iter().any(f);
    if !(has(u8::is_ascii_uppercase) && has(u8::is_ascii_lowercase)) {
        return None;
    }
    let value = |b: u8| -> u32 {
        match b {
            b'A'..=b'Z' => u32::from(b - b'A'),
            b'a'..=b'z' => u32::from(b - b'a') + 26,
            b'0'..=b'9' => u32::from(b - b'0') + 52,
            b'+' => 62,
            _ => 63,
        }
    };
    let decode_chunk = |chunk: &[u8], out: &mut Vec<u8>| {
        let mut acc = 0u32;
        for (i, &b) in chunk.iter().enumerate() {
            acc |= value(b) << (18 - 6 * i);
        }
        out.extend_from_slice(&acc.to_be_bytes()[1..chunk.len()]);
    };
    let mut prefix = Vec::with_capacity(ASCII_PREFIX);
    for chunk in body.chunks(4).take(ASCII_PREFIX / 3) {
        decode_chunk(chunk, &mut prefix);
    }
    if !prefix.iter().all(|&b| is_ascii_text_byte(b)) {
        return None;
    }
    let mut out = Vec::with_capacity(body.len() * 3 / 4);
    for chunk in body.chunks(4) {
        let mut acc = 0u32;
        for (i, &b) in chunk.iter().enumerate() {
            acc |= value(b) << (18 - 6 * i);
        }
        let bytes = acc.to_be_bytes();
        out.extend_from_slice(&bytes[1..chunk.len()]);
    }
    Some(out)
}

/// Hex digits to bytes; `None` for an odd length or a byte that is not a hex digit.
fn decode_hex(run: &[u8]) -> Option<Vec<u8>> {
    if !run.len().is_multiple_of(2) || !run.iter().all(u8::is_ascii_hexdigit) {
        return None;
    }
    let digit = |b: u8| match b {
        b'0'..=b'9' => b - b'0',
        b'a'..=b'f' => b - b'a' + 10,
        _ => b.to_ascii_lowercase().wrapping_sub(b'a') + 10,
    };
    // Hashes and ids (most hex runs) fail within a few bytes.
    let starts_as_text = run
        .chunks(2)
        .take(ASCII_PREFIX)
        .all(|pair| is_ascii_text_byte((digit(pair[0]) << 4) | digit(pair[1])));
    if run.len() > 2 && !starts_as_text {
        return None;
    }
    Some(
        run.chunks(2)
            .map(|pair| (digit(pair[0]) << 4) | digit(pair[1]))
            .collect(),
    )
}

/// Runs of non-space, non-quote bytes that hold at least two `%XX` escapes.
fn percent_runs(buf: &[u8]) -> Vec<(usize, usize)> {
    let mut runs = Vec::new();
    let mut from = 0;
    while let Some(p) = memchr::memchr(b'%', &buf[from..]) {
        let at = from + p;
        let stop =
            |b: &u8| b.is_ascii_whitespace() || matches!(b, b'"' | b'\'' | b'`' | b'<' | b'>');
        let start = buf[..at].iter().rposition(stop).map_or(0, |i| i + 1);
        let end = buf[at..]
            .iter()
            .position(stop)
            .map_or(buf.len(), |i| at + i);
        let escapes = buf[start..end]
            .windows(3)
            .filter(|w| w[0] == b'%' && w[1].is_ascii_hexdigit() && w[2].is_ascii_hexdigit())
            .count();
        if escapes >= 2 {
            runs.push((start, end));
        }
        from = end.max(at + 1);
    }
    runs
}

fn decode_percent(run: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(run.len());
    let mut i = 0;
    while i < run.len() {
        if run[i] == b'%' && i + 2 < run.len() {
            let hex = &run[i + 1..i + 3];
            if let Some(byte) = decode_hex(hex) {
                out.push(byte[0]);
                i += 3;
                continue;
            }
        }
        out.push(run[i]);
        i += 1;
    }
    out
}

/// Whether decoded bytes are text worth scanning: valid UTF-8, at least 8 bytes, and printable
/// (tabs and newlines allowed) apart from at most one byte in twenty.
fn is_text(decoded: &[u8]) -> bool {
    if decoded.len() < 8 || std::str::from_utf8(decoded).is_err() {
        return false;
    }
    let odd = decoded
        .iter()
        .filter(|&&b| b < 0x20 && !matches!(b, b'\t' | b'\n' | b'\r') || b == 0x7f)
        .count();
    odd * 20 <= decoded.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(text: &str) -> Vec<(String, Encoding)> {
        decoded_lines(&AddedText::whole("f", text.as_bytes().to_vec()))
            .into_iter()
            .map(|d| (String::from_utf8(d.text).unwrap(), d.runs[0].encoding))
            .collect()
    }

    #[test]
    fn a_kubernetes_data_value_is_decoded_in_its_line() {
        // base64("correct-horse-battery") = Y29ycmVjdC1ob3JzZS1iYXR0ZXJ5
        let got = lines("data:\n  password: Y29ycmVjdC1ob3JzZS1iYXR0ZXJ5\n");
        assert_eq!(
            got,
            vec![(
                "  password: correct-horse-battery".to_string(),
                Encoding::Base64
            )]
        );
    }

    /// Fuzz crash (`decode_runs`): a base64 run whose head was added but whose decoded tail (after
    /// its last `=`) lay in context was decoded and scanned as if the tail were new.
    #[test]
    fn a_decoded_tail_outside_the_added_bytes_is_not_scanned() {
        let text = format!("abcd={}\n", crate::test_support::b64(b"a sentence of text"));
        let mut unit = AddedText::whole("f", text.clone().into_bytes());
        unit.set_added(0, 2);
        assert_eq!(decoded_lines(&unit), Vec::new());
        let whole = decoded_lines(&AddedText::whole("f", text.into_bytes()));
        assert_eq!(whole[0].text, b"abcd=a sentence of text");
    }

    #[test]
    fn padding_hex_and_percent() {
        // base64("user:hunter22hunter") with padding
        assert_eq!(
            lines("Basic dXNlcjpodW50ZXIyMmh1bnRlcg==")[0].0,
            "Basic user:hunter22hunter"
        );
        // hex("token=abcdefgh12345678")
        assert_eq!(
            lines("x = 746f6b656e3d61626364656667683132333435363738")[0].0,
            "x = token=abcdefgh12345678"
        );
        assert_eq!(
            lines("url=https://h/?password%3Ds3cr%21t%26x%3D1 next")[0].0,
            "url=https://h/?password=s3cr!t&x=1 next"
        );
    }

    #[test]
    fn random_tokens_identifiers_and_hashes_are_left_alone() {
        assert!(lines("k = 'Zm9vYmFyYmF6cXV4'").len() == 1); // "foobarbazqux" is text
        assert!(lines("let some_long_identifier_name = 1;").is_empty());
        assert!(
            lines("sha = e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
                .is_empty()
        );
        assert!(lines("key = 'q9Vz3Lr8Kd2Xw7Yt1Np5Hs6Jm4Bc0Ga'").is_empty());
        assert!(lines("ALLCAPSIDENTIFIERWITHOUTLOWER").is_empty());
    }

    #[test]
    fn a_percent_sign_before_non_hex_bytes_is_kept() {
        // Regression: `%zz` once reached the hex decoder and overflowed.
        assert!(lines("printf(\"%zz %s %d\", a%Zb, 100%, %GG%)").is_empty());
        assert_eq!(decode_percent(b"a%zz%41%4a%"), b"a%zzAJ%".to_vec());
    }

    #[test]
    fn only_runs_on_added_lines_are_decoded() {
        let mut unit = AddedText::new("f");
        unit.push_context_line(1, b"old: Y29ycmVjdC1ob3JzZS1iYXR0ZXJ5");
        unit.push_line(2, b"new: Y29ycmVjdC1ob3JzZS1iYXR0ZXJ5");
        let got = decoded_lines(&unit);
        assert_eq!(got.len(), 1);
        assert!(got[0].text.starts_with(b"new: "));
    }

    #[test]
    fn every_run_of_a_line_is_replaced_at_once_and_maps_back() {
        let line = "a: Y29ycmVjdC1ob3JzZS1iYXR0ZXJ5 b: Y29ycmVjdC1ob3JzZS1iYXR0ZXJ5\n".repeat(3);
        let got = decoded_lines(&AddedText::whole("f", line.into_bytes()));
        assert_eq!(got.len(), 3, "one rewritten line per line");
        let first = &got[0];
        assert_eq!(
            String::from_utf8_lossy(&first.text),
            "a: correct-horse-battery b: correct-horse-battery"
        );
        assert_eq!(first.runs.len(), 2);
        let second = first.run_at(30, 35).unwrap();
        assert_eq!(second.run, (35, 63));
    }

    #[test]
    fn a_run_behind_an_equals_sign_or_a_path_is_found() {
        assert_eq!(
            lines("data: cfg=Y29ycmVjdC1ob3JzZS1iYXR0ZXJ5")[0].0,
            "data: cfg=correct-horse-battery"
        );
        assert_eq!(
            lines("GET /api/v1/Y29ycmVjdC1ob3JzZS1iYXR0ZXJ5 HTTP/1.1")[0].0,
            "GET /api/v1/correct-horse-battery HTTP/1.1"
        );
    }

    #[test]
    fn no_cap_lets_a_late_run_through() {
        // Regression: a run cap once let an encoded value after thousands of runs pass.
        let mut text = "Q8zR2mLx9VtB4nW7Kd3Fh6Jp\n".repeat(6000);
        text.push_str("data: Y29ycmVjdC1ob3JzZS1iYXR0ZXJ5\n");
        let got = decoded_lines(&AddedText::whole("f", text.into_bytes()));
        assert!(got
            .iter()
            .any(|d| d.text == b"data: correct-horse-battery".to_vec()));
    }

    #[test]
    fn base64_wrapped_over_lines_is_joined() {
        // base64 of 120 bytes of text, wrapped at 76 columns.
        // Built at run time: the project scans itself.
        let text = [
            "user=admin pass",
            "word=Zq8#mPw2!vLx9 host=db.internal port=5432 sslmode=require ",
            "application_name=billing-service-v2 x",
        ]
        .concat();
        let text = text.as_str();
        let encoded = crate::test_support::b64(text.as_bytes());
        let wrapped: Vec<&str> = encoded
            .as_bytes()
            .chunks(76)
            .map(|c| std::str::from_utf8(c).unwrap())
            .collect();
        let yaml = format!("tls.key: |\n  {}\n", wrapped.join("\n  "));
        let got = decoded_lines(&AddedText::whole("f", yaml.into_bytes()));
        assert!(
            got.iter().any(|d| d.text == text.as_bytes()),
            "{:?}",
            got.iter()
                .map(|d| String::from_utf8_lossy(&d.text))
                .collect::<Vec<_>>()
        );
    }
}

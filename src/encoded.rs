//! Encoded values on added lines: base64, hex and percent-encoded runs are decoded **in place**,
//! so that the rules see the plain text with the line's own context around it.
//!
//! `password: cGE1NXdvcmQ=` (a Kubernetes `Secret`'s `data:`) becomes `password: pa55word`, and
//! `echo Z2hwXy4uLg== | base64 -d` becomes `echo ghp_... | base64 -d`: the ordinary rules then find
//! the value, and the scanner maps each finding back to the encoded run's position. Only runs that
//! decode to printable text are used (random tokens and binary data decode to bytes that are not
//! text, and are left alone), and the work is bounded: at most [`MAX_RUNS`] runs and
//! [`MAX_DECODED_BYTES`] decoded bytes per unit, and the caller decodes at most two levels deep.

use crate::added::AddedText;

/// Shortest base64 run considered (12 decoded bytes).
pub const MIN_BASE64: usize = 16;
/// Shortest hex run considered (16 decoded bytes).
pub const MIN_HEX: usize = 32;
/// Most runs decoded per unit.
pub const MAX_RUNS: usize = 4096;
/// Most decoded bytes per unit.
pub const MAX_DECODED_BYTES: usize = 1 << 20;

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

/// One line of a unit with an encoded run replaced by its decoded text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DecodedLine {
    /// The rewritten line: the original line's text before the run, the decoded bytes, the text
    /// after the run.
    pub text: Vec<u8>,
    /// Where the decoded bytes sit in `text`.
    pub decoded: (usize, usize),
    /// Where the encoded run sits in the unit's buffer.
    pub run: (usize, usize),
    /// How the run was encoded.
    pub encoding: Encoding,
}

/// The decodable runs of `unit` that overlap its added lines, each as a rewritten line.
pub fn decoded_lines(unit: &AddedText) -> Vec<DecodedLine> {
    let buf = &unit.buf;
    let mut out = Vec::new();
    let mut budget = MAX_DECODED_BYTES;
    let mut runs = 0usize;
    let mut push = |run: (usize, usize), encoding: Encoding, decoded: Vec<u8>| {
        if decoded.len() > budget {
            return;
        }
        budget -= decoded.len();
        let line_start = memchr::memrchr(b'\n', &buf[..run.0]).map_or(0, |i| i + 1);
        let line_end = memchr::memchr(b'\n', &buf[run.1..]).map_or(buf.len(), |i| run.1 + i);
        let mut text = Vec::with_capacity(line_end - line_start + decoded.len());
        text.extend_from_slice(&buf[line_start..run.0]);
        let from = text.len();
        text.extend_from_slice(&decoded);
        let to = text.len();
        text.extend_from_slice(&buf[run.1..line_end]);
        out.push(DecodedLine {
            text,
            decoded: (from, to),
            run,
            encoding,
        });
    };
    for run in runs_of(buf, MIN_BASE64, is_base64_byte) {
        if runs >= MAX_RUNS {
            break;
        }
        runs += 1;
        if !unit.overlaps_added(run.0, run.1) {
            continue;
        }
        if let Some(decoded) = decode_base64(&buf[run.0..run.1]).filter(|d| is_text(d)) {
            push(run, Encoding::Base64, decoded);
        }
    }
    for run in runs_of(buf, MIN_HEX, |b| b.is_ascii_hexdigit()) {
        if runs >= MAX_RUNS {
            break;
        }
        runs += 1;
        if !unit.overlaps_added(run.0, run.1) {
            continue;
        }
        if let Some(decoded) = decode_hex(&buf[run.0..run.1]).filter(|d| is_text(d)) {
            push(run, Encoding::Hex, decoded);
        }
    }
    for run in percent_runs(buf) {
        if runs >= MAX_RUNS {
            break;
        }
        runs += 1;
        if !unit.overlaps_added(run.0, run.1) {
            continue;
        }
        let decoded = decode_percent(&buf[run.0..run.1]);
        if is_text(&decoded) {
            push(run, Encoding::Percent, decoded);
        }
    }
    out
}

/// Maximal runs of bytes in `class` at least `min` long. Skips ahead `min` bytes whenever the
/// byte at the far end of the window is outside the class, so ordinary text costs little.
fn runs_of(buf: &[u8], min: usize, class: impl Fn(u8) -> bool) -> Vec<(usize, usize)> {
    let mut runs = Vec::new();
    let mut i = min.saturating_sub(1);
    while i < buf.len() {
        if !class(buf[i]) {
            i += min;
            continue;
        }
        let mut start = i;
        while start > 0 && class(buf[start - 1]) {
            start -= 1;
        }
        let mut end = i + 1;
        while end < buf.len() && class(buf[end]) {
            end += 1;
        }
        if end - start >= min {
            runs.push((start, end));
        }
        i = end + min;
    }
    runs
}

fn is_base64_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'+' || b == b'/' || b == b'='
}

/// Standard base64 with optional padding; `None` when the run is not base64 (a padding byte
/// inside it, a length that cannot be base64, or no mix of cases and digits that base64 of text
/// always shows).
fn decode_base64(run: &[u8]) -> Option<Vec<u8>> {
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
            .map(|d| (String::from_utf8(d.text).unwrap(), d.encoding))
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
}

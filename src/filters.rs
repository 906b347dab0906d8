//! Filters applied to a candidate secret after its rule's regex matched: entropy, placeholder
//! values, and allow markers on the line.

/// Markers that, on a finding's line, mark the value as reviewed and not a secret. The markers of
/// gitleaks and detect-secrets are honoured so existing annotations keep working.
pub const ALLOW_MARKERS: [&str; 3] = [
    "leakgate:allow",
    "gitleaks:allow",
    "pragma: allowlist secret",
];

/// Shannon entropy of `bytes`, in bits per byte.
pub fn shannon_entropy(bytes: &[u8]) -> f64 {
    if bytes.is_empty() {
        return 0.0;
    }
    let mut counts = [0u32; 256];
    for &b in bytes {
        counts[usize::from(b)] += 1;
    }
    let len = bytes.len() as f64;
    counts
        .iter()
        .filter(|&&c| c > 0)
        .map(|&c| {
            let p = f64::from(c) / len;
            -p * p.log2()
        })
        .sum()
}

/// Whether the line carries an allow marker.
pub fn has_allow_marker(line: &[u8]) -> bool {
    ALLOW_MARKERS
        .iter()
        .any(|m| memchr::memmem::find(line, m.as_bytes()).is_some())
}

/// Words that, anywhere in a value (ASCII case-insensitive), mark it as a placeholder.
const PLACEHOLDER_WORDS: [&[u8]; 16] = [
    b"example",
    b"sample",
    b"dummy",
    b"placeholder",
    b"changeme",
    b"change_me",
    b"change-me",
    b"your_",
    b"your-",
    b"yourtoken",
    b"yourkey",
    b"redacted",
    b"xxxx",
    b"****",
    b"\xe2\x80\xa6", // …
    b"replace_me",
];

/// Values at least this long that span lines (a private key's body) have their placeholder words
/// judged [`CHUNK_BYTES`] at a time.
pub const LONG_VALUE_BYTES: usize = 128;
/// The piece of a long value judged on its own.
pub const CHUNK_BYTES: usize = 64;

/// Whether a value is a placeholder rather than a secret: a documentation word (`EXAMPLE`,
/// `your_api_key_here`, `changeme`, `xxxx`…), a template (`${VAR}`, `{{ var }}`, `<token>`,
/// `%(name)s`, `$VAR`), one repeated character, or an ascending run like `12345678`/`abcdefgh`.
///
/// A value of [`LONG_VALUE_BYTES`] or more that spans lines (a line feed, or an escaped `\n` as
/// in a service-account JSON) is one block of key material: there a word makes it a placeholder
/// only when it is in most of its [`CHUNK_BYTES`]-byte pieces. One word is not enough: `xxxx`
/// or `sample` turns up by chance in about one real RSA key body in a thousand, and one
/// `EXAMPLE` line written into a real key must not make the whole key pass. A one-line value
/// keeps the plain test: a long token with one `EXAMPLE` in it is the providers' own way of
/// marking documentation (AWS's example session tokens).
pub fn is_placeholder(value: &[u8]) -> bool {
    if value.len() < LONG_VALUE_BYTES || !spans_lines(value) {
        return is_short_placeholder(value);
    }
    if !has_placeholder_word(value) {
        return is_short_placeholder(value);
    }
    let chunks = value.chunks(CHUNK_BYTES);
    let total = chunks.len();
    let marked = chunks.filter(|c| has_placeholder_word(c)).count();
    2 * marked > total || is_template(value)
}

/// Whether `value` holds a line feed or an escaped one (`\n`).
fn spans_lines(value: &[u8]) -> bool {
    memchr::memchr(b'\n', value).is_some() || memchr::memmem::find(value, b"\\n").is_some()
}

/// Whether `value` holds one of [`PLACEHOLDER_WORDS`] (ASCII case-insensitively).
fn has_placeholder_word(value: &[u8]) -> bool {
    let lower = value.to_ascii_lowercase();
    PLACEHOLDER_WORDS
        .iter()
        .any(|w| memchr::memmem::find(&lower, w).is_some())
}

/// [`is_placeholder`]'s plain test: any word, template, repeat or run in the whole value.
fn is_short_placeholder(value: &[u8]) -> bool {
    if value.is_empty() || has_placeholder_word(value) {
        return true;
    }
    if is_template(value) {
        return true;
    }
    if value.iter().all(|&b| b == value[0]) {
        return true;
    }
    longest_ascending_run(value) >= 6
}

/// `${VAR}`, `{{ var }}`, `<token>`, `%(name)s`, `$VAR`, `%VAR%`.
fn is_template(value: &[u8]) -> bool {
    let has = |needle: &[u8]| memchr::memmem::find(value, needle).is_some();
    if has(b"${") || has(b"{{") || has(b"%(") || has(b"#{") {
        return true;
    }
    if value.first() == Some(&b'<') && value.last() == Some(&b'>') {
        return true;
    }
    if value.first() == Some(&b'%') && value.last() == Some(&b'%') && value.len() > 2 {
        return true;
    }
    // `$VAR` / `$var_name`: a shell or PHP variable reference, not a value.
    if value.first() == Some(&b'$')
        && value.len() > 1
        && value[1..]
            .iter()
            .all(|b| b.is_ascii_alphanumeric() || *b == b'_')
        && !value[1].is_ascii_digit()
    {
        return true;
    }
    false
}

/// Length of the longest run of consecutive ascending bytes (`abcd`, `3456`).
fn longest_ascending_run(value: &[u8]) -> usize {
    let mut best = 1;
    let mut run = 1;
    for w in value.windows(2) {
        if w[0].is_ascii_alphanumeric() && w[1] == w[0].wrapping_add(1) {
            run += 1;
            best = best.max(run);
        } else {
            run = 1;
        }
    }
    best
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entropy_of_simple_strings() {
        assert_eq!(shannon_entropy(b"aaaa"), 0.0);
        assert!((shannon_entropy(b"abab") - 1.0).abs() < 1e-9);
        assert!(shannon_entropy(b"q8Zr2LmX9vTb4Nw7Kc1Hs6Yp") > 4.0);
    }

    #[test]
    fn placeholders_are_recognised() {
        for p in [
            &b"AKIAIOSFODNN7EXAMPLE"[..],
            b"your_api_key_here",
            b"${GITHUB_TOKEN}",
            b"{{ secret }}",
            b"<token>",
            b"changeme",
            b"xxxxxxxxxxxxxxxx",
            b"0000000000000000",
            b"sk_live_123456789",
            b"abcdefghijk",
            b"$DB_PASSWORD",
            b"%(password)s",
        ] {
            assert!(is_placeholder(p), "{}", String::from_utf8_lossy(p));
        }
    }

    #[test]
    fn a_long_value_is_a_placeholder_when_most_of_it_is() {
        let mut rng = crate::test_support::Rng(0x61);
        const B64: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
        let mut line = || -> String { (0..64).map(|_| B64[rng.below(64)] as char).collect() };
        let mut lines: Vec<String> = (0..25).map(|_| line()).collect();
        // One placeholder word in a real key's body (by chance, or written there).
        lines[7] = format!("EXAMPLE{}", &lines[7][7..]);
        lines[19].replace_range(30..34, "xxxx");
        assert!(!is_placeholder(lines.join("\n").as_bytes()));
        // A documentation key: most of its lines say so.
        for l in lines.iter_mut().step_by(2) {
            l.replace_range(10..17, "EXAMPLE");
        }
        for l in lines.iter_mut().skip(1).step_by(4) {
            l.replace_range(20..26, "SAMPLE");
        }
        assert!(is_placeholder(lines.join("\n").as_bytes()));
        assert!(is_placeholder("x".repeat(3000).as_bytes()));
        assert!(is_placeholder(
            format!("{}${{KEY}}\n", line()).repeat(5).as_bytes()
        ));
        // A short key (an EC key's three lines), and a key on one line with escaped line feeds.
        let ec = format!("{}\nEXAMPLE{}\n{}", line(), &line()[7..], line());
        assert!(!is_placeholder(ec.as_bytes()));
        let escaped = format!("{}\\n{}\\nxxxx{}", line(), line(), &line()[4..]);
        assert!(!is_placeholder(escaped.as_bytes()));
        // A one-line token marked the providers' way stays a placeholder.
        let marked = format!("{}EXAMPLE{}{}", line(), line(), line());
        assert!(is_placeholder(marked.as_bytes()));
        // Pieces that only look like templates or repeats do not make a key a placeholder.
        let pieces = format!(
            "<{}>\n%{}%\n{}",
            &line()[..62],
            &line()[..62],
            "A".repeat(64)
        );
        assert!(!is_placeholder(pieces.as_bytes()));
    }

    #[test]
    fn random_values_are_not_placeholders() {
        for v in [
            &b"wJalrXUtnFEMIK7MDENGbPxRfiCYzQ3f9Lk2"[..],
            b"q8Zr2LmX9vTb4Nw7Kc1Hs6Yp",
            b"Tr0ub4dor&3-horse",
        ] {
            assert!(!is_placeholder(v), "{}", String::from_utf8_lossy(v));
        }
    }

    #[test]
    fn allow_markers() {
        assert!(has_allow_marker(b"key = 'abc' # leakgate:allow"));
        assert!(has_allow_marker(b"key = 'abc' # pragma: allowlist secret"));
        assert!(!has_allow_marker(b"key = 'abc'"));
    }
}

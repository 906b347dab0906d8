//! Escaping untrusted text (paths, lines, values) before it reaches a terminal.
//!
//! A file name is chosen by whoever made the commit, and on the server it reaches other people's
//! terminals through `remote:` lines: control characters could move the cursor or rewrite the
//! screen, and bidirectional overrides could make a path read differently from what it is.

/// Escapes control characters (C0, DEL, C1), bidi controls and invalid UTF-8 in `bytes`.
pub fn sanitize_bytes(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len());
    for chunk in bytes.utf8_chunks() {
        sanitize_into(chunk.valid(), &mut out);
        for b in chunk.invalid() {
            out.push_str(&format!("\\x{b:02x}"));
        }
    }
    out
}

/// Escapes control and bidi characters in `text`.
pub fn sanitize(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    sanitize_into(text, &mut out);
    out
}

fn sanitize_into(text: &str, out: &mut String) {
    for c in text.chars() {
        match c {
            '\t' => out.push_str("\\t"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            c if c.is_control() || is_bidi_or_invisible(c) => {
                out.push_str(&format!("\\u{{{:x}}}", c as u32));
            }
            c => out.push(c),
        }
    }
}

/// Bidirectional formatting characters and zero-width characters that can disguise text.
fn is_bidi_or_invisible(c: char) -> bool {
    matches!(
        c,
        '\u{061C}'
            | '\u{200B}'..='\u{200F}'
            | '\u{202A}'..='\u{202E}'
            | '\u{2060}'..='\u{2069}'
            | '\u{FEFF}'
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_controls_bidi_and_invalid_utf8() {
        assert_eq!(sanitize_bytes(b"a\x1b[31mb"), "a\\u{1b}[31mb");
        assert_eq!(sanitize_bytes("x\u{202E}y".as_bytes()), "x\\u{202e}y");
        assert_eq!(sanitize_bytes(b"\xffok\n"), "\\xffok\\n");
        assert_eq!(sanitize("plain/path.rs"), "plain/path.rs");
        assert_eq!(sanitize("caf\u{e9}"), "caf\u{e9}");
    }
}

//! Terminal sanitizing (`src/report/sanitize.rs`) and redaction of known secrets inside other
//! text (`finding::Redactor`). The sanitized text never holds a control, escape or bidi
//! character, is the same through the byte and the text entry points, and keeps printable text
//! unchanged; redacted text never holds a known secret (of two or more characters).
#![no_main]

use leakgate::finding::{redact, Redactor};
use leakgate::report::sanitize::{sanitize, sanitize_bytes};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let out = sanitize_bytes(data);
    assert!(!leakgate_fuzz::has_terminal_controls(&out), "{out:?}");
    if let Ok(text) = std::str::from_utf8(data) {
        assert_eq!(sanitize(text), out);
        if !leakgate_fuzz::has_terminal_controls(text) {
            assert_eq!(out, text);
        }
    }
    // The first line names secrets (split at `|`); the rest is text that may hold them.
    let (head, text) = match data.iter().position(|&b| b == b'\n') {
        Some(i) => (&data[..i], &data[i + 1..]),
        None => (data, &b""[..]),
    };
    let secrets: Vec<&[u8]> = head.split(|&b| b == b'|').collect();
    let redactor = Redactor::new(secrets.iter().copied());
    let redacted = redactor.bytes(text);
    let has = |hay: &[u8], needle: &[u8]| hay.windows(needle.len()).any(|w| w == needle);
    for s in &secrets {
        // What redaction writes (`…`, U+FFFD for invalid UTF-8) may spell a secret made of
        // their bytes; what it keeps (a few characters at each end) may spell a secret that is
        // part of another secret.
        let spelled = s.iter().any(|b| "…\u{fffd}".as_bytes().contains(b));
        if String::from_utf8_lossy(s).chars().count() < 2 || spelled {
            continue;
        }
        assert!(!has(redact(s).as_bytes(), s), "redact({s:?}) shows it");
        let inside_another = secrets.iter().any(|o| o.len() > s.len() && has(o, s));
        if !inside_another {
            assert!(
                !has(&redacted, s),
                "secret {s:?} survives redaction of {:?}: {:?}",
                String::from_utf8_lossy(text),
                String::from_utf8_lossy(&redacted)
            );
        }
    }
});

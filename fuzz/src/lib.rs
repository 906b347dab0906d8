//! Shared pieces of leakgate's fuzz targets: the scanner built once, and the invariants every
//! scan must keep whatever the input.

use std::sync::OnceLock;

use leakgate::finding::Finding;
use leakgate::scanner::{Scanner, Suppressions};

/// The embedded pack as hooks use it (decoding on), built once per process.
pub fn builtin_scanner() -> &'static Scanner {
    static SCANNER: OnceLock<Scanner> = OnceLock::new();
    SCANNER.get_or_init(|| {
        let rules = leakgate::builtin::rules().expect("the embedded pack loads");
        Scanner::new(rules, Suppressions::default()).expect("the embedded pack compiles")
    })
}

/// The lines of `text` as the scanner numbers them (1-based; a last line without `\n` counts).
pub fn line_lengths(text: &[u8]) -> Vec<usize> {
    text.split(|&b| b == b'\n').map(<[u8]>::len).collect()
}

/// Checks what a finding says about its place and its secret against the text it was found in
/// (`lines`: [`line_lengths`] of the source blob):
/// - it points inside the text: a line that exists, a column at most one past that line's end;
/// - the secret is not empty, and its redacted form never shows it (nor most of it).
pub fn check_finding(f: &Finding, lines: &[usize]) {
    assert!(
        f.line >= 1 && f.line <= lines.len(),
        "finding {} at line {} of a {}-line text",
        f.rule,
        f.line,
        lines.len()
    );
    let len = lines[f.line - 1];
    assert!(
        f.column >= 1 && f.column <= len + 1,
        "finding {} at {}:{} but the line is {len} bytes",
        f.rule,
        f.line,
        f.column
    );
    let secret = f.secret.expose();
    assert!(
        !secret.is_empty(),
        "finding {} with an empty secret",
        f.rule
    );
    let shown = f.secret.redacted();
    let value = String::from_utf8_lossy(secret);
    if value.chars().count() >= 2 {
        assert_ne!(shown, value, "redaction of {} shows the value", f.rule);
        assert!(
            !shown.contains(value.as_ref()),
            "redaction of {} holds the value",
            f.rule
        );
    }
    let kept = shown.chars().filter(|&c| c != '…').count();
    assert!(
        kept * 3 <= value.chars().count().max(1),
        "redaction of {} shows more than a third: {} of {}",
        f.rule,
        kept,
        value.chars().count()
    );
}

/// [`check_finding`] for every finding.
pub fn check_findings<'a>(findings: impl IntoIterator<Item = &'a Finding>, text: &[u8]) {
    let lines = line_lengths(text);
    for f in findings {
        check_finding(f, &lines);
    }
}

/// Whether `text` holds a C0/C1 control, DEL or a bidi/zero-width character: what must never
/// reach a terminal from untrusted input.
pub fn has_terminal_controls(text: &str) -> bool {
    text.chars().any(|c| {
        c.is_control()
            || matches!(
                c,
                '\u{061C}'
                    | '\u{200B}'..='\u{200F}'
                    | '\u{202A}'..='\u{202E}'
                    | '\u{2060}'..='\u{2069}'
                    | '\u{FEFF}'
            )
    })
}

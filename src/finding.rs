//! Findings: what was found where, with a stable fingerprint and a redacted view of the secret.

use std::fmt;
use std::sync::Arc;

use std::sync::OnceLock;

use crate::rules::{Confidence, Provider, Severity};

/// A secret value. It never prints itself: `Debug` and [`Secret::redacted`] show a redacted form.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Secret(Vec<u8>);

impl Secret {
    /// Wraps the raw bytes of a secret.
    pub fn new(bytes: Vec<u8>) -> Self {
        Secret(bytes)
    }

    /// The raw bytes; for hashing only, never for output.
    pub fn expose(&self) -> &[u8] {
        &self.0
    }

    /// A redacted form that keeps a few characters at each end for recognition (`AKIA…MPLE`).
    pub fn redacted(&self) -> String {
        redact(&self.0)
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Secret({})", self.redacted())
    }
}

/// Redacts a secret: long values keep 4 characters at each end, medium ones 2, short ones none.
/// Never more than a third of the value is shown.
pub fn redact(secret: &[u8]) -> String {
    redact_keeping_at_most(secret, usize::MAX)
}

/// Characters [`redact`] keeps at each end of a value of `chars` characters.
fn kept_at_each_end(chars: usize) -> usize {
    match chars {
        n if n >= 24 => 4,
        n if n >= 12 => 2,
        _ => 0,
    }
}

/// [`redact`], keeping no more than `most` characters at each end.
fn redact_keeping_at_most(secret: &[u8], most: usize) -> String {
    let text = String::from_utf8_lossy(secret);
    let chars: Vec<char> = text.chars().collect();
    let keep = kept_at_each_end(chars.len()).min(most);
    let head: String = chars[..keep].iter().collect();
    let tail: String = chars[chars.len() - keep..].iter().collect();
    format!("{head}…{tail}")
}

/// Redacts known secret values wherever they occur inside other text: a ref name that holds a
/// token, a path that names such a ref (`(tag header refs/tags/<token>)`), a bypass reason. Every
/// occurrence is replaced by its [`redact`]ed form; occurrences that overlap (two secrets, or one
/// secret twice) are redacted as one span that keeps no more at its ends than the shortest of
/// them would, so that no kept end spells a secret.
#[derive(Debug, Clone, Default)]
pub struct Redactor {
    automaton: Option<aho_corasick::AhoCorasick>,
    /// Per secret (the automaton's pattern id): characters its redacted form keeps at each end.
    kept: Vec<usize>,
}

impl Redactor {
    /// A redactor for these secrets (empty ones are left out).
    pub fn new<'a>(secrets: impl IntoIterator<Item = &'a [u8]>) -> Redactor {
        let mut secrets: Vec<&[u8]> = secrets.into_iter().filter(|s| !s.is_empty()).collect();
        secrets.sort();
        secrets.dedup();
        if secrets.is_empty() {
            return Redactor::default();
        }
        let automaton = aho_corasick::AhoCorasick::new(&secrets).ok();
        Redactor {
            kept: secrets
                .iter()
                .map(|s| kept_at_each_end(String::from_utf8_lossy(s).chars().count()))
                .collect(),
            automaton,
        }
    }

    /// Whether it knows no secret (then it changes nothing).
    pub fn is_empty(&self) -> bool {
        self.kept.is_empty()
    }

    /// `text` with every known secret in it redacted.
    pub fn bytes(&self, text: &[u8]) -> Vec<u8> {
        match &self.automaton {
            Some(ac) => {
                let mut found: Vec<(usize, usize, usize)> = ac
                    .find_overlapping_iter(text)
                    .map(|m| (m.start(), m.end(), self.kept[m.pattern().as_usize()]))
                    .collect();
                found.sort_unstable();
                let mut out = Vec::with_capacity(text.len());
                let mut at = 0;
                let mut i = 0;
                while i < found.len() {
                    let (start, mut end, mut most) = found[i];
                    while i < found.len() && found[i].0 < end {
                        end = end.max(found[i].1);
                        most = most.min(found[i].2);
                        i += 1;
                    }
                    out.extend_from_slice(&text[at..start]);
                    out.extend_from_slice(
                        redact_keeping_at_most(&text[start..end], most).as_bytes(),
                    );
                    at = end;
                }
                out.extend_from_slice(&text[at..]);
                out
            }
            None if self.is_empty() => text.to_vec(),
            // The automaton could not be built: say nothing rather than a secret.
            None => redact(text).into_bytes(),
        }
    }

    /// [`Redactor::bytes`] for text (lossy where a secret ends inside a character).
    pub fn text(&self, text: &str) -> String {
        match String::from_utf8(self.bytes(text.as_bytes())) {
            Ok(s) => s,
            Err(e) => String::from_utf8_lossy(e.as_bytes()).into_owned(),
        }
    }
}

/// Computes the fingerprints of many findings on all cores (each costs ~30 ms of one core), so
/// that a report of many findings is not slowed down by them one by one.
pub fn prepare_fingerprints<'a>(findings: impl IntoIterator<Item = &'a Finding>) {
    let pending: Vec<&Finding> = findings
        .into_iter()
        .filter(|f| f.fingerprint.get().is_none())
        .collect();
    if pending.len() < 2 {
        return;
    }
    let threads = std::thread::available_parallelism()
        .map_or(1, std::num::NonZero::get)
        .min(pending.len());
    let next = std::sync::atomic::AtomicUsize::new(0);
    std::thread::scope(|scope| {
        for _ in 0..threads {
            scope.spawn(|| loop {
                let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                match pending.get(i) {
                    Some(f) => {
                        f.fingerprint();
                    }
                    None => break,
                }
            });
        }
    });
}

/// One secret found in one place.
#[derive(Debug, Clone)]
pub struct Finding {
    /// Rule id.
    pub rule: String,
    /// Rule description.
    pub description: String,
    /// The rule's provider (name, remediation).
    pub provider: Arc<Provider>,
    /// Severity of the rule.
    pub severity: Severity,
    /// Confidence of the rule: with `block_at`, whether the finding blocks or warns.
    pub confidence: Confidence,
    /// Path of the blob or file (raw bytes).
    pub path: Vec<u8>,
    /// Commit that introduced it, when scanning history.
    pub commit: Option<String>,
    /// 1-based line in the source blob.
    pub line: usize,
    /// 1-based byte column.
    pub column: usize,
    /// The secret (never printed in full).
    pub secret: Secret,
    /// The fingerprint, computed on first use (it is deliberately slow: see [`crate::fingerprint`]).
    pub fingerprint: OnceLock<String>,
}

impl Finding {
    /// `<rule-id>:<20 hex>` ([`crate::fingerprint::fingerprint`]).
    pub fn fingerprint(&self) -> &str {
        self.fingerprint
            .get_or_init(|| crate::fingerprint::fingerprint(&self.rule, self.secret.expose()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redaction_never_shows_most_of_the_value() {
        assert_eq!(redact(b"ABCDQWERTYUIOPASDFGH1234"), "ABCD…1234");
        assert_eq!(redact(b"hunter2hunter2"), "hu…r2");
        assert_eq!(redact(b"hunter2"), "…");
        assert_eq!(redact("pässwörd-äöü-€€€".as_bytes()), "pä…€€");
    }

    #[test]
    fn a_redactor_redacts_every_occurrence_inside_other_text() {
        let token = b"ghp_ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
        let r = Redactor::new([&token[..], b"hunter2hunter2", b""]);
        let name = format!(
            "(tag header refs/tags/{})",
            std::str::from_utf8(token).unwrap()
        );
        assert_eq!(r.text(&name), "(tag header refs/tags/ghp_…6789)");
        assert_eq!(
            r.text("a hunter2hunter2 b hunter2hunter2"),
            "a hu…r2 b hu…r2"
        );
        assert_eq!(r.text("nothing here"), "nothing here");
        assert_eq!(Redactor::new([]).text("x"), "x");
    }

    /// Found with the `sanitize` fuzz target's invariant (redacted text holds no known secret): a
    /// secret whose end repeats its start (`ab…ab`), written twice so that the occurrences
    /// overlap, came out whole: only the first occurrence was replaced, and the kept tail of its
    /// redacted form spelled the second one with the text after it.
    #[test]
    fn overlapping_occurrences_of_a_secret_are_redacted_together() {
        let secret = b"abcdefghijklab";
        let text = "abcdefghijklabcdefghijklab x";
        let r = Redactor::new([&secret[..]]);
        let out = r.text(text);
        assert!(!out.contains("abcdefghijklab"), "{out}");
        assert_eq!(out, "ab…ab x");
        // Occurrences that only touch are redacted one by one, as before.
        assert_eq!(r.text("abcdefghijklababcdefghijklab"), "ab…abab…ab");
    }

    /// Fuzz crash (`sanitize`, against the change above): a short secret repeated (`\0\0` in a run
    /// of NULs) merged into a span long enough to keep two characters at each end, which were
    /// the secret itself. A span keeps no more than its shortest secret's redaction would.
    #[test]
    fn a_span_of_a_short_secret_repeated_keeps_nothing_of_it() {
        let r = Redactor::new([&b"\0\0"[..]]);
        let text = [&b"\0\0\x18"[..], &[0u8; 18]].concat();
        assert_eq!(r.bytes(&text), "…\x18…".as_bytes());
        let r = Redactor::new([&b"abcdefghijklab"[..], &b"ab"[..]]);
        assert_eq!(r.text("xx abcdefghijklab yy"), "xx … yy");
    }

    #[test]
    fn debug_is_redacted() {
        let s = Secret::new(b"sk_live_0123456789abcdefghijkl".to_vec());
        assert!(!format!("{s:?}").contains("0123456789"));
    }
}

//! Findings: what was found where, with a stable fingerprint and a redacted view of the secret.

use std::fmt;
use std::sync::Arc;

use sha2::{Digest, Sha256};

use crate::rules::{Provider, Severity};

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
    let text = String::from_utf8_lossy(secret);
    let chars: Vec<char> = text.chars().collect();
    let keep = match chars.len() {
        n if n >= 24 => 4,
        n if n >= 12 => 2,
        _ => 0,
    };
    let head: String = chars[..keep].iter().collect();
    let tail: String = chars[chars.len() - keep..].iter().collect();
    format!("{head}…{tail}")
}

/// `<rule-id>:<16 hex>` from SHA-256 of the secret value: stable across line moves and rebases.
pub fn fingerprint(rule_id: &str, secret: &[u8]) -> String {
    let digest = Sha256::digest(secret);
    let mut out = String::with_capacity(rule_id.len() + 17);
    out.push_str(rule_id);
    out.push(':');
    for b in &digest[..8] {
        out.push_str(&format!("{b:02x}"));
    }
    out
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
    /// `<rule-id>:<16 hex>`.
    pub fingerprint: String,
}

impl Finding {
    /// The path as text (lossy; escape before printing to a terminal).
    pub fn path_lossy(&self) -> String {
        String::from_utf8_lossy(&self.path).into_owned()
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
    fn fingerprint_depends_on_rule_and_value_only() {
        let a = fingerprint("aws-access-key-id", b"first value");
        assert!(a.starts_with("aws-access-key-id:"));
        assert_eq!(a.len(), "aws-access-key-id:".len() + 16);
        assert_eq!(a, fingerprint("aws-access-key-id", b"first value"));
        assert_ne!(a, fingerprint("aws-access-key-id", b"second value"));
    }

    #[test]
    fn debug_is_redacted() {
        let s = Secret::new(b"sk_live_0123456789abcdefghijkl".to_vec());
        assert!(!format!("{s:?}").contains("0123456789"));
    }
}

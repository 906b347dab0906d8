//! Fingerprints: a stable name for a secret that a team can commit to `.leakgateignore`, and that
//! cannot be turned back into the secret by hashing guesses cheaply.
//!
//! A fingerprint is `<rule-id>:<20 hex>`: the first 10 bytes of **Argon2id** (memory-hard, OWASP's
//! minimum parameters: 19 MiB, 2 passes, 1 lane) of the secret value, salted with the fingerprint
//! version and the rule id. It depends on nothing but the rule and the value, so it is the same on
//! every machine and survives line moves, renames and rebases. Every guess costs an attacker ~30 ms
//! of one core and 19 MiB of memory (a GPU gains little), where the first version, the first 16 hex
//! of a bare SHA-256, let `printf pa55word | sha256sum` confirm a guess in nanoseconds. A weak
//! password stays weak: the fingerprint raises the cost of a dictionary, it cannot make `hunter2`
//! safe, and a found secret must be rotated whatever its fingerprint.
//!
//! Version-1 fingerprints (`<rule-id>:<16 hex>`) in existing `.leakgateignore` files are still
//! honoured, and every use prints the line that replaces it ([`IgnoreEntry::Legacy`]).

use std::collections::{HashMap, HashSet};
use std::sync::{Mutex, OnceLock};

use argon2::{Algorithm, Argon2, Block, Params, Version};
use sha2::{Digest, Sha256};

/// Hex digits of a current (version 2) fingerprint.
pub const HEX_LEN: usize = 20;
/// Hex digits of a version-1 fingerprint (SHA-256; honoured in ignore files, never printed).
pub const LEGACY_HEX_LEN: usize = 16;

/// Argon2id parameters: 19 MiB, 2 passes, 1 lane (OWASP's password-storage minimum). Checked at
/// compile time.
const PARAMS: Params = match Params::new(19 * 1024, 2, 1, Some(HEX_LEN / 2)) {
    Ok(params) => params,
    Err(_) => panic!("invalid Argon2id parameters"),
};
thread_local! {
    /// The memory of this thread's Argon2 hashes ([`slow_hash`]), kept between them.
    static ARGON2_BLOCKS: std::cell::RefCell<Vec<Block>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// Longer secrets (a whole private key block is a few KiB) are hashed by SHA-256 first, which
/// keeps Argon2's input bounded and loses nothing: such a value cannot be guessed.
const PREHASH_ABOVE: usize = 64 * 1024;

/// `<rule-id>:<20 hex>`: Argon2id of the secret, salted with the version and rule id.
///
/// Results are cached for the life of the process (keyed by a SHA-256 of rule and value that never
/// leaves memory), so a secret seen in many places costs one hash.
pub fn fingerprint(rule_id: &str, secret: &[u8]) -> String {
    static CACHE: OnceLock<Mutex<HashMap<[u8; 32], String>>> = OnceLock::new();
    let cache = CACHE.get_or_init(|| Mutex::new(HashMap::new()));
    let mut key = Sha256::new();
    key.update(rule_id.as_bytes());
    key.update([0]);
    key.update(secret);
    let key: [u8; 32] = key.finalize().into();
    if let Some(hit) = cache.lock().ok().and_then(|c| c.get(&key).cloned()) {
        return hit;
    }
    let computed = format!(
        "{rule_id}:{}",
        crate::hex::encode_lower(&slow_hash(rule_id, secret))
    );
    if let Ok(mut c) = cache.lock() {
        c.insert(key, computed.clone());
    }
    computed
}

/// The version-1 fingerprint (`<rule-id>:<16 hex>` of SHA-256): only to recognise old
/// `.leakgateignore` entries; never printed.
pub fn legacy_fingerprint(rule_id: &str, secret: &[u8]) -> String {
    let digest = Sha256::digest(secret);
    format!(
        "{rule_id}:{}",
        crate::hex::encode_lower(&digest[..LEGACY_HEX_LEN / 2])
    )
}

/// Argon2id of the secret; the salt is `leakgate fingerprint v2`, a NUL and the rule id.
fn slow_hash(rule_id: &str, secret: &[u8]) -> [u8; HEX_LEN / 2] {
    let mut out = [0u8; HEX_LEN / 2];
    let mut salt = b"leakgate fingerprint v2\0".to_vec();
    salt.extend_from_slice(rule_id.as_bytes());
    let prehashed;
    let input = if secret.len() > PREHASH_ABOVE {
        prehashed = Sha256::digest(secret);
        &prehashed[..]
    } else {
        secret
    };
    let argon = Argon2::new(Algorithm::Argon2id, Version::V0x13, PARAMS);
    // Each thread keeps its 19 MiB of blocks for its next hash: a fresh allocation per secret
    // costs a page fault per 4 KiB (an audit of many secrets spent more time faulting than
    // hashing). Argon2 writes every block before it reads it, so what a previous hash left there
    // changes nothing.
    let hashed = ARGON2_BLOCKS.with_borrow_mut(|blocks| {
        blocks.resize(PARAMS.block_count(), Block::default());
        argon.hash_password_into_with_memory(input, &salt, &mut out, &mut blocks[..])
    });
    if hashed.is_err() {
        // Unreachable: the salt (≥ 24 bytes), the output (10 bytes) and the input (≤ 64 KiB) are
        // within Argon2's limits. A fast fallback would silently weaken every fingerprint.
        unreachable!("Argon2id refused bounded input");
    }
    out
}

/// One entry of an ignore file.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum IgnoreEntry {
    /// A current fingerprint, lower-cased.
    Current(String),
    /// A version-1 fingerprint, lower-cased: honoured, with a message naming its replacement.
    Legacy(String),
}

/// Recognises a fingerprint (`<rule-id>:<20 hex>`, or a version-1 `<rule-id>:<16 hex>`).
pub fn parse(text: &str) -> Option<IgnoreEntry> {
    let (id, digits) = text.rsplit_once(':')?;
    if id.is_empty() || !digits.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    let lower = text.to_ascii_lowercase();
    match digits.len() {
        HEX_LEN => Some(IgnoreEntry::Current(lower)),
        LEGACY_HEX_LEN => Some(IgnoreEntry::Legacy(lower)),
        _ => None,
    }
}

/// The fingerprints of ignore files, by version, and those of a baseline (known secrets, left
/// out of reports: `--baseline`, `leakgate.baseline`).
#[derive(Debug, Default, Clone)]
pub struct IgnoreSet {
    current: HashSet<String>,
    legacy: HashSet<String>,
    baseline: HashSet<String>,
}

/// Which kind of entry ignored a secret.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IgnoredBy {
    /// A current fingerprint.
    Current,
    /// A version-1 fingerprint (to be replaced).
    Legacy,
    /// A baseline's fingerprint.
    Baseline,
}

impl IgnoreSet {
    /// Adds one entry.
    pub fn insert(&mut self, entry: IgnoreEntry) {
        match entry {
            IgnoreEntry::Current(fp) => self.current.insert(fp),
            IgnoreEntry::Legacy(fp) => self.legacy.insert(fp),
        };
    }

    /// Adds every entry of another set.
    pub fn extend(&mut self, other: IgnoreSet) {
        self.current.extend(other.current);
        self.legacy.extend(other.legacy);
        self.baseline.extend(other.baseline);
    }

    /// Adds a baseline's fingerprints (current ones, lowercase).
    pub fn add_baseline<'a>(&mut self, fingerprints: impl IntoIterator<Item = &'a String>) {
        self.baseline.extend(fingerprints.into_iter().cloned());
    }

    /// Whether the set holds this entry.
    pub fn contains(&self, entry: &IgnoreEntry) -> bool {
        match entry {
            IgnoreEntry::Current(fp) => self.current.contains(fp),
            IgnoreEntry::Legacy(fp) => self.legacy.contains(fp),
        }
    }

    /// Number of ignore-file entries (a baseline's are not counted).
    pub fn len(&self) -> usize {
        self.current.len() + self.legacy.len()
    }

    /// Whether the set is empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Whether the secret found by `rule_id` is ignored (an ignore-file entry first, then the
    /// baseline); `current` gives its current fingerprint (computed only when the set holds
    /// current or baseline entries, since it is slow).
    pub fn ignores<'a>(
        &self,
        rule_id: &str,
        secret: &[u8],
        current: impl FnOnce() -> &'a str,
    ) -> Option<IgnoredBy> {
        if !self.legacy.is_empty() && self.legacy.contains(&legacy_fingerprint(rule_id, secret)) {
            return Some(IgnoredBy::Legacy);
        }
        if self.current.is_empty() && self.baseline.is_empty() {
            return None;
        }
        let fingerprint = current();
        if self.current.contains(fingerprint) {
            Some(IgnoredBy::Current)
        } else if self.baseline.contains(fingerprint) {
            Some(IgnoredBy::Baseline)
        } else {
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn depends_on_rule_and_value_only() {
        let a = fingerprint("aws-access-key-id", b"first value");
        assert!(a.starts_with("aws-access-key-id:"));
        assert_eq!(a.len(), "aws-access-key-id:".len() + HEX_LEN);
        assert_eq!(a, fingerprint("aws-access-key-id", b"first value"));
        assert_ne!(a, fingerprint("aws-access-key-id", b"second value"));
        assert_ne!(
            a[a.len() - HEX_LEN..],
            fingerprint("other-rule", b"first value")[10..10 + HEX_LEN]
        );
    }

    #[test]
    fn is_not_a_bare_hash_of_the_value() {
        // The attack of the issue: the bare SHA-256 prefix of the value must not appear.
        let fp = fingerprint("amqp-connection-string", b"pa55word");
        let bare = crate::hex::encode_lower(&Sha256::digest(b"pa55word"));
        assert!(!bare.contains(&fp[fp.len() - HEX_LEN..]));
        assert!(!fp.contains(&bare[..LEGACY_HEX_LEN]));
    }

    #[test]
    fn pinned_value_keeps_ignore_files_valid_across_releases() {
        // Changing the parameters or salt silently invalidates every team's `.leakgateignore`;
        // that needs a new version, not an edit. The value is the reference implementation's
        // (libargon2 through argon2-cffi: `hash_secret_raw(b"secret", b"leakgate fingerprint
        // v2\\x00r", time_cost=2, memory_cost=19456, parallelism=1, hash_len=10, type=Type.ID)`).
        assert_eq!(fingerprint("r", b"secret"), "r:".to_string() + PINNED);
    }
    const PINNED: &str = "bc4627fcf64c127314dd";

    #[test]
    fn parses_both_versions() {
        assert_eq!(
            parse("rule:ABCDEF0123456789abcd"),
            Some(IgnoreEntry::Current("rule:abcdef0123456789abcd".into()))
        );
        assert_eq!(
            parse("rule:0123456789abcdef"),
            Some(IgnoreEntry::Legacy("rule:0123456789abcdef".into()))
        );
        assert_eq!(parse("rule:0123"), None);
        assert_eq!(parse("rule:0123456789abcdef0123456789abcdef"), None);
        assert_eq!(parse(":0123456789abcdef"), None);
        assert_eq!(parse("rule:0123456789abcdeg"), None);
    }

    #[test]
    fn an_ignore_entry_comes_before_the_baseline() {
        let fp = fingerprint("r", b"secret");
        let mut set = IgnoreSet::default();
        assert_eq!(set.ignores("r", b"secret", || &fp), None);
        set.add_baseline([&fp]);
        assert_eq!(
            set.ignores("r", b"secret", || &fp),
            Some(IgnoredBy::Baseline)
        );
        assert_eq!(set.len(), 0, "a baseline is not an ignore file");
        set.insert(IgnoreEntry::Current(fp.clone()));
        assert_eq!(
            set.ignores("r", b"secret", || &fp),
            Some(IgnoredBy::Current)
        );
        let other = fingerprint("r", b"other");
        assert_eq!(set.ignores("r", b"other", || &other), None);
    }
}

//! Snapshots of what users and scripts read (insta, files in `tests/snapshots/`), with the
//! volatile parts normalised so that a snapshot is the same on every machine: the sandbox's
//! temporary path, the built binaries' directory, leakgate's version, commit and object ids,
//! fingerprints (they depend on the secret, which is built per run from a seed, so they are
//! stable, but a rule change should not churn every snapshot) and `file://` URIs.
//!
//! After a deliberate change: `INSTA_UPDATE=always cargo test -q --test integration`, then review
//! `git diff tests/snapshots`. CI never updates snapshots (insta writes none when `CI` is set).

use std::path::Path;
use std::sync::LazyLock;

use regex::Regex;

/// `text` with every volatile part replaced by a `[NAME]` placeholder; `tmp` is the test's
/// temporary directory.
pub fn normalise(text: &str, tmp: &Path) -> String {
    static FINGERPRINT: LazyLock<Regex> =
        LazyLock::new(|| Regex::new(r"\b([a-z0-9-]+):[0-9a-f]{20}\b").unwrap());
    static OBJECT_ID: LazyLock<Regex> =
        LazyLock::new(|| Regex::new(r"\b[0-9a-f]{40}\b|\b[0-9a-f]{64}\b").unwrap());
    static SHORT_ID: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"\b[0-9a-f]{7,12}\b").unwrap());
    let mut text = text.replace("\r\n", "\n");
    for dir in [
        tmp.to_path_buf(),
        tmp.canonicalize().unwrap_or_else(|_| tmp.to_path_buf()),
    ] {
        text = text.replace(&dir.display().to_string(), "[TMP]");
    }
    if let Ok(relative) = tmp.strip_prefix(env!("CARGO_MANIFEST_DIR")) {
        text = text.replace(&relative.display().to_string(), "[TMP]");
    }
    let bin = super::leakgate_bin();
    let bin_dir = bin.parent().unwrap().display().to_string();
    text = text.replace(&bin_dir, "[BIN]");
    // This checkout (a scan outside any repository of the sandbox finds it as the root).
    text = text.replace(env!("CARGO_MANIFEST_DIR"), "[CHECKOUT]");
    text = text.replace(env!("CARGO_PKG_VERSION"), "[VERSION]");
    let text = FINGERPRINT.replace_all(&text, "$1:[FINGERPRINT]");
    let text = OBJECT_ID.replace_all(&text, "[OID]");
    SHORT_ID
        .replace_all(&text, |c: &regex::Captures| {
            // Short ids have letters and digits; a plain number or word is left alone.
            let s = &c[0];
            if s.bytes().any(|b| b.is_ascii_digit()) && s.bytes().any(|b| b.is_ascii_alphabetic()) {
                "[SHORT-OID]".to_string()
            } else {
                s.to_string()
            }
        })
        .into_owned()
}

/// Pretty-printed JSON with the volatile parts normalised (see [`normalise`]).
pub fn json(doc: &serde_json::Value, tmp: &Path) -> String {
    normalise(&serde_json::to_string_pretty(doc).unwrap(), tmp)
}

/// Asserts that `text` equals the reviewed snapshot `tests/snapshots/<name>.snap`.
pub fn assert(name: &str, text: &str) {
    let mut settings = insta::Settings::clone_current();
    settings.set_prepend_module_to_snapshot(false);
    settings.set_omit_expression(true);
    settings.set_snapshot_path(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/snapshots"));
    settings.bind(|| insta::assert_snapshot!(name, text));
}

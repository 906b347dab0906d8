//! Shared helpers for integration tests: temporary directories, running the built binaries in an
//! isolated environment, and synthetic secrets built at run time (so no token literal is committed).

// Shared by several test crates through `mod common;`: each uses a part, all `pub`.
#![allow(unreachable_pub)]
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::atomic::{AtomicUsize, Ordering};

/// A directory removed when dropped.
pub struct TempDir(pub PathBuf);

impl TempDir {
    /// A new empty directory under the target directory.
    pub fn new(name: &str) -> TempDir {
        static COUNTER: AtomicUsize = AtomicUsize::new(0);
        let base = PathBuf::from(env!("CARGO_TARGET_TMPDIR"));
        let dir = base.join(format!(
            "{name}-{}-{}",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        TempDir(dir)
    }

    /// Path of a child.
    pub fn join(&self, p: impl AsRef<Path>) -> PathBuf {
        self.0.join(p)
    }

    /// Writes a file (creating parent directories).
    pub fn write(&self, rel: &str, content: impl AsRef<[u8]>) -> PathBuf {
        let path = self.0.join(rel);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).unwrap();
        }
        std::fs::write(&path, content).unwrap();
        path
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// The built `leakgate` binary.
pub fn leakgate_bin() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_leakgate"))
}

/// A `leakgate` command running in `dir`, with colour and user git config out of the way.
pub fn leakgate(dir: &Path) -> Command {
    let mut cmd = Command::new(leakgate_bin());
    cmd.current_dir(dir);
    isolate(&mut cmd, &shared_home());
    cmd
}

/// A home directory outside every test's work tree, with an empty git config.
pub fn shared_home() -> PathBuf {
    let home = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("home");
    let _ = std::fs::create_dir_all(&home);
    home
}

/// Removes inherited git variables and points git's config at an empty file, with fixed
/// identities and dates. `home` becomes `HOME`; its `.gitconfig-empty` is the global config.
pub fn isolate(cmd: &mut Command, home: &Path) {
    for (key, _) in std::env::vars_os() {
        let k = key.to_string_lossy();
        if k.starts_with("GIT_")
            || k == "NO_COLOR"
            || k.starts_with("PRE_COMMIT")
            || k.starts_with("LEAKGATE_")
        {
            cmd.env_remove(&key);
        }
    }
    let empty = home.join(".gitconfig-empty");
    if !empty.exists() {
        let _ = std::fs::write(&empty, "");
    }
    cmd.env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_CONFIG_GLOBAL", &empty)
        .env("HOME", home)
        .env("GIT_AUTHOR_NAME", "Test Author")
        .env("GIT_AUTHOR_EMAIL", "author@example.invalid")
        .env("GIT_COMMITTER_NAME", "Test Committer")
        .env("GIT_COMMITTER_EMAIL", "committer@example.invalid")
        .env("GIT_AUTHOR_DATE", "2026-01-01T00:00:00Z")
        .env("GIT_COMMITTER_DATE", "2026-01-01T00:00:00Z")
        .env("TERM", "dumb");
}

/// Text of stdout and stderr together.
pub fn all_output(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// Deterministic pseudo-random alphanumerics.
pub fn random_alnum(seed: u64, len: usize) -> String {
    const A: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    let mut s = seed
        .wrapping_mul(6364136223846793005)
        .wrapping_add(1442695040888963407)
        | 1;
    (0..len)
        .map(|_| {
            s ^= s << 13;
            s ^= s >> 7;
            s ^= s << 17;
            A[(s % 62) as usize] as char
        })
        .collect()
}

/// A GitHub classic personal access token with a valid checksum, built from a seed.
pub fn github_token(seed: u64) -> String {
    let random = random_alnum(seed, 30);
    let check = leakgate::checksum::base62(u64::from(crc32fast::hash(random.as_bytes())), 6);
    format!("ghp_{random}{}", String::from_utf8(check).unwrap())
}

/// An AWS access key id built from a seed (base32 alphabet after the prefix).
pub fn aws_key_id(seed: u64) -> String {
    let body: String = random_alnum(seed, 16)
        .to_uppercase()
        .chars()
        .map(|c| match c {
            '0' | '1' | '8' | '9' => 'Q',
            c => c,
        })
        .collect();
    format!("{}{}", "AKIA", body)
}

/// Parses `bytes` as a SARIF log and validates it against the SARIF 2.1.0 schema vendored from
/// `@microsoft/jest-sarif` (`tests/sarif-2.1.0-rtm.5.json`), formats (`uri`, `uri-reference`,
/// `date-time`) included; panics with every violation. Returns the parsed log.
pub fn assert_valid_sarif(bytes: &[u8]) -> serde_json::Value {
    let log: serde_json::Value = serde_json::from_slice(bytes).unwrap_or_else(|e| {
        panic!(
            "SARIF output is not JSON: {e}\n{}",
            String::from_utf8_lossy(bytes)
        )
    });
    let errors = sarif_violations(&log);
    assert!(
        errors.is_empty(),
        "SARIF log violates the SARIF 2.1.0 schema:\n{}\n{}",
        errors.join("\n"),
        String::from_utf8_lossy(bytes)
    );
    log
}

/// What the SARIF 2.1.0 schema finds wrong with `log` (empty when valid).
pub fn sarif_violations(log: &serde_json::Value) -> Vec<String> {
    static VALIDATOR: std::sync::OnceLock<jsonschema::Validator> = std::sync::OnceLock::new();
    let validator = VALIDATOR.get_or_init(|| {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/sarif-2.1.0-rtm.5.json");
        let schema: serde_json::Value =
            serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap();
        // One flaw of the published schema: its `language` pattern
        // (`^[a-zA-Z]{2}|^[a-zA-Z]{2}-[a-zA-Z]{2}]?$`, a stray `]`) is not a valid ECMA-262
        // regex, so the meta-schema refuses the schema. The pattern the SARIF spec means ("en" or
        // "en-US") replaces it here, in memory, wherever it occurs; the file stays as published.
        fn fix_language_pattern(value: &mut serde_json::Value) {
            match value {
                serde_json::Value::Object(map) => {
                    for (key, child) in map.iter_mut() {
                        if key == "pattern"
                            && child.as_str() == Some("^[a-zA-Z]{2}|^[a-zA-Z]{2}-[a-zA-Z]{2}]?$")
                        {
                            *child = serde_json::json!("^[a-zA-Z]{2}$|^[a-zA-Z]{2}-[a-zA-Z]{2}$");
                        } else {
                            fix_language_pattern(child);
                        }
                    }
                }
                serde_json::Value::Array(items) => items.iter_mut().for_each(fix_language_pattern),
                _ => {}
            }
        }
        let mut schema = schema;
        fix_language_pattern(&mut schema);
        // Draft 4 knows no `uri-reference` format, which the schema uses for every artifact URI:
        // the schema (plain draft-4 keywords, local `$ref`s only) is validated under draft 7,
        // which checks it.
        if let Some(map) = schema.as_object_mut() {
            map.remove("$schema");
        }
        jsonschema::options()
            .with_draft(jsonschema::Draft::Draft7)
            .should_validate_formats(true)
            .build(&schema)
            .unwrap()
    });
    validator
        .iter_errors(log)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect()
}

//! The audit log: one JSON line per push, appended under an exclusive lock in a single write, so
//! concurrent pushes never interleave or lose a line. Findings carry a **keyed** fingerprint
//! (HMAC-SHA256 with the server's key), never the secret and never a bare hash of it.

use std::io::Write as _;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::Path;

use serde::Serialize;
use sha2::{Digest, Sha256};

/// HMAC-SHA256 (RFC 2104).
pub fn hmac_sha256(key: &[u8], message: &[u8]) -> [u8; 32] {
    const BLOCK: usize = 64;
    let mut block = [0u8; BLOCK];
    if key.len() > BLOCK {
        block[..32].copy_from_slice(&Sha256::digest(key));
    } else {
        block[..key.len()].copy_from_slice(key);
    }
    let mut inner = Sha256::new();
    inner.update(block.map(|b| b ^ 0x36));
    inner.update(message);
    let inner = inner.finalize();
    let mut outer = Sha256::new();
    outer.update(block.map(|b| b ^ 0x5c));
    outer.update(inner);
    outer.finalize().into()
}

/// `<rule-id>:<16 hex>` from HMAC-SHA256(key, secret).
pub fn keyed_fingerprint(key: &[u8], rule: &str, secret: &[u8]) -> String {
    let mac = hmac_sha256(key, secret);
    let hex = crate::hex::encode_lower(&mac[..8]);
    format!("{rule}:{hex}")
}

/// Why a fingerprint key file cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    /// Others may read (or change) it: they could test guesses against the audit fingerprints.
    #[error("the fingerprint key {path} may be read or changed by other users (mode {mode:o}): chmod 600 {path} (owned by the user the hook runs as)")]
    Exposed {
        /// The key file.
        path: String,
        /// Its permission bits.
        mode: u32,
    },
    /// It holds no key.
    #[error("the fingerprint key {path} is empty: remove it (a new key is created on first use, mode 0600) or write a random key into it, then chmod 600 {path}")]
    Empty {
        /// The key file.
        path: String,
    },
    /// It is not a regular file.
    #[error("the fingerprint key {path} is not a regular file")]
    NotAFile {
        /// The key file.
        path: String,
    },
    /// It cannot be read or created.
    #[error("the fingerprint key {path} cannot be read or created")]
    Io {
        /// The key file.
        path: String,
        /// The error.
        source: std::io::Error,
    },
}

/// Whether a key file exists (usable as far as its metadata tells), or is still to be created.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyFile {
    /// It exists, is a regular file, not empty, and only its owner may read it.
    Present,
    /// It does not exist: it is created (mode 0600) on first use.
    Missing,
}

/// Checks a key file without reading it (so that an admin can check a key owned by the git
/// user): a key that others may read or write (group or world permissions), an empty one, or
/// something other than a file is refused.
pub fn check_key_file(path: &Path) -> Result<KeyFile, KeyError> {
    let shown = || path.display().to_string();
    let meta = match std::fs::metadata(path) {
        Ok(meta) => meta,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(KeyFile::Missing),
        Err(source) => {
            return Err(KeyError::Io {
                path: shown(),
                source,
            })
        }
    };
    if !meta.is_file() {
        return Err(KeyError::NotAFile { path: shown() });
    }
    let mode = meta.permissions().mode() & 0o777;
    if mode & 0o077 != 0 {
        return Err(KeyError::Exposed {
            path: shown(),
            mode,
        });
    }
    if meta.len() == 0 {
        return Err(KeyError::Empty { path: shown() });
    }
    Ok(KeyFile::Present)
}

/// Reads the key file, creating it (32 random bytes, hex, mode 0600) when it does not exist.
/// A key that [`check_key_file`] refuses, or that holds only whitespace, is an error: no
/// fingerprint is made with it.
pub fn load_or_create_key(path: &Path) -> Result<Vec<u8>, KeyError> {
    let io = |source| KeyError::Io {
        path: path.display().to_string(),
        source,
    };
    if check_key_file(path)? == KeyFile::Missing {
        create_key(path).map_err(io)?;
        // Another push may have created it first; either way, check what is there now.
        check_key_file(path)?;
    }
    let key = std::fs::read(path).map_err(io)?;
    if key.iter().all(u8::is_ascii_whitespace) {
        return Err(KeyError::Empty {
            path: path.display().to_string(),
        });
    }
    Ok(key)
}

/// Creates a new key file (mode 0600) unless one exists.
fn create_key(path: &Path) -> std::io::Result<()> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let mut random = [0u8; 32];
    std::fs::File::open("/dev/urandom")
        .and_then(|mut f| std::io::Read::read_exact(&mut f, &mut random))?;
    let hex = crate::hex::encode_lower(&random);
    match std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
    {
        Ok(mut f) => {
            f.write_all(hex.as_bytes())?;
            f.write_all(b"\n")
        }
        // Another push created it first: use theirs.
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        Err(e) => Err(e),
    }
}

/// One ref update of the push.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct AuditRef {
    /// Full ref name.
    #[serde(rename = "ref")]
    pub name: String,
    /// Old id.
    pub old: String,
    /// New id.
    pub new: String,
}

/// One finding, without its value.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct AuditFinding {
    /// Commit (or tag) that introduced it.
    pub commit: Option<String>,
    /// Path (lossy UTF-8).
    pub path: String,
    /// Line.
    pub line: usize,
    /// Rule id.
    pub rule: String,
    /// Keyed fingerprint, when the key could be read.
    pub fingerprint: Option<String>,
}

/// A secret that a suppression silenced, without its value.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct AuditSuppressed {
    /// What silenced it: `allow-marker`, `ignore-file`, `allow-value`.
    pub kind: String,
    /// Where it is and what it is.
    #[serde(flatten)]
    pub finding: AuditFinding,
}

/// A pushed suppression that was not honoured: its finding is among the findings.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct AuditNotHonoured {
    /// The suppression: `allow-marker`, `ignore-file`, `ignore-file-v1`.
    pub kind: String,
    /// Why it did not count: `pusher-may-not-bypass`, `not-in-its-refs-ignore-file`.
    pub why: String,
    /// Where it is and what it is.
    #[serde(flatten)]
    pub finding: AuditFinding,
}

/// Content that was not scanned (whole), and why.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct AuditSkipped {
    /// Commit it was in, when known.
    pub commit: Option<String>,
    /// Path (lossy UTF-8).
    pub path: String,
    /// Machine-readable reason (`too-large`, `compressed-archive`, `submodule`, ...).
    pub reason: String,
    /// Human description, with exact sizes.
    pub detail: String,
}

/// One audit line.
#[derive(Debug, Clone, Serialize)]
pub struct AuditRecord {
    /// RFC 3339 UTC time.
    pub time: String,
    /// Repository path.
    pub repository: String,
    /// Who pushed (the policy's `pusher_variable`, else the OS user).
    pub pusher: String,
    /// Who the other hosting variables say pushed, when that differs (not trusted).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub claimed_pusher: Option<String>,
    /// The ref updates.
    pub refs: Vec<AuditRef>,
    /// The decision ([`crate::server::decision::Decision::as_str`]).
    pub decision: String,
    /// What was found.
    pub findings: Vec<AuditFinding>,
    /// Findings below the policy's `block_at`: shown to the pusher, not rejecting.
    pub warnings: Vec<AuditFinding>,
    /// What suppressions silenced.
    pub suppressed: Vec<AuditSuppressed>,
    /// Pushed suppressions that were not honoured (their findings are in `findings`).
    pub suppressions_not_honoured: Vec<AuditNotHonoured>,
    /// What was not scanned (whole), and why.
    pub skipped: Vec<AuditSkipped>,
    /// The bypass reason, when one was given.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bypass_reason: Option<String>,
    /// Error or timeout detail.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    /// Commits and bytes scanned.
    pub scanned: AuditScanned,
}

/// How much was scanned.
#[derive(Debug, Clone, Serialize, Default)]
pub struct AuditScanned {
    /// Commits scanned.
    pub commits: usize,
    /// Blobs and messages scanned.
    pub blobs: u64,
    /// Bytes of added text.
    pub bytes: u64,
}

/// Appends one record as a single line, under an exclusive lock.
pub fn append(path: &Path, record: &AuditRecord) -> std::io::Result<()> {
    let mut line = serde_json::to_string(record).map_err(std::io::Error::other)?;
    line.push('\n');
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let file = std::fs::OpenOptions::new()
        .append(true)
        .create(true)
        .mode(0o640)
        .open(path)?;
    file.lock()?;
    // The mode of an existing log is the admin's: a new one is created 0640, nothing is reset.
    let result = (&file).write_all(line.as_bytes());
    let _ = file.unlock();
    result
}

/// The current time as RFC 3339 UTC (`2026-11-28T12:00:00Z`).
pub fn now_rfc3339() -> String {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    rfc3339(secs)
}

/// Formats seconds since the epoch as RFC 3339 UTC.
pub fn rfc3339(secs: u64) -> String {
    let days = (secs / 86_400) as i64;
    let rem = secs % 86_400;
    // Civil from days (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = if m <= 2 { y + 1 } else { y };
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        (rem % 3600) / 60,
        rem % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hmac_matches_rfc_4231_test_case_2() {
        let mac = hmac_sha256(b"Jefe", b"what do ya want for nothing?");
        let hex = crate::hex::encode_lower(&mac);
        assert_eq!(
            hex,
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }

    #[test]
    fn keyed_fingerprint_depends_on_the_key() {
        let a = keyed_fingerprint(b"k1", "r", b"secret");
        assert_ne!(a, keyed_fingerprint(b"k2", "r", b"secret"));
        assert!(a.starts_with("r:") && a.len() == 18);
    }

    #[test]
    fn a_key_that_others_may_read_or_an_empty_one_is_refused_and_a_missing_one_created() {
        let dir = std::env::temp_dir().join(format!("leakgate-key-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let path = dir.join("k/fingerprint.key");
        assert_eq!(check_key_file(&path).unwrap(), KeyFile::Missing);
        let key = load_or_create_key(&path).unwrap();
        assert_eq!(key.len(), 65);
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        assert_eq!(check_key_file(&path).unwrap(), KeyFile::Present);
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
        let e = load_or_create_key(&path).unwrap_err().to_string();
        assert!(e.contains("chmod 600") && e.contains("mode 644"), "{e}");
        std::fs::write(&path, "").unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
        assert!(matches!(check_key_file(&path), Err(KeyError::Empty { .. })));
        std::fs::write(&path, " \n").unwrap();
        assert!(matches!(
            load_or_create_key(&path),
            Err(KeyError::Empty { .. })
        ));
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn dates() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339(1_795_867_200), "2026-11-28T12:00:00Z");
    }
}

//! The result of a scan: findings, what was skipped and why, and how much was read.

use crate::finding::Finding;

/// Why a blob or file was not scanned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SkipReason {
    /// NUL byte in the first 8000 bytes (git's own test).
    Binary,
    /// Larger than the size cap.
    TooLarge {
        /// Its size in bytes.
        size: u64,
        /// The cap.
        cap: u64,
    },
    /// Its path is allowed by the config (`allow.paths`).
    AllowedPath,
    /// A symbolic link whose target does not exist.
    BrokenSymlink,
    /// Not a regular file (socket, fifo, device).
    NotRegular,
    /// A symbolic link to a directory (not followed, to avoid loops).
    SymlinkToDirectory,
    /// A submodule (gitlink): its content lives in another repository.
    Submodule,
    /// It could not be read: the scan is incomplete.
    Unreadable(String),
}

impl SkipReason {
    /// Short machine-readable reason for JSON.
    pub fn code(&self) -> &'static str {
        match self {
            SkipReason::Binary => "binary",
            SkipReason::TooLarge { .. } => "too-large",
            SkipReason::AllowedPath => "allowed-path",
            SkipReason::BrokenSymlink => "broken-symlink",
            SkipReason::NotRegular => "not-a-regular-file",
            SkipReason::SymlinkToDirectory => "symlink-to-directory",
            SkipReason::Submodule => "submodule",
            SkipReason::Unreadable(_) => "unreadable",
        }
    }

    /// Whether skipping it means the scan could not do its job (an error, exit 2).
    pub fn is_error(&self) -> bool {
        matches!(self, SkipReason::Unreadable(_))
    }

    /// Human description.
    pub fn describe(&self) -> String {
        match self {
            SkipReason::Binary => "binary".into(),
            SkipReason::TooLarge { size, cap } => {
                format!(
                    "too large ({} > cap {})",
                    human_bytes(*size),
                    human_bytes(*cap)
                )
            }
            SkipReason::AllowedPath => "path allowed by config".into(),
            SkipReason::BrokenSymlink => "broken symlink".into(),
            SkipReason::NotRegular => "not a regular file".into(),
            SkipReason::SymlinkToDirectory => "symlink to a directory (not followed)".into(),
            SkipReason::Submodule => "submodule".into(),
            SkipReason::Unreadable(e) => format!("unreadable: {e}"),
        }
    }
}

/// One skipped blob or file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Skipped {
    /// Its path (raw bytes).
    pub path: Vec<u8>,
    /// The commit it was in, when scanning history.
    pub commit: Option<String>,
    /// Why.
    pub reason: SkipReason,
}

/// Everything a scan produced.
#[derive(Debug, Default)]
pub struct ScanOutcome {
    /// Findings, in scan order.
    pub findings: Vec<Finding>,
    /// Skipped blobs and files.
    pub skipped: Vec<Skipped>,
    /// Blobs / files / messages scanned.
    pub blobs: u64,
    /// Bytes of added text scanned.
    pub bytes: u64,
}

impl ScanOutcome {
    /// Whether something could not be scanned for a reason that makes the scan incomplete.
    pub fn has_errors(&self) -> bool {
        self.skipped.iter().any(|s| s.reason.is_error())
    }

    /// The exit code of the contract: 1 when secrets were found, 2 when the scan was incomplete,
    /// else 0.
    pub fn exit_code(&self) -> i32 {
        if !self.findings.is_empty() {
            1
        } else if self.has_errors() {
            2
        } else {
            0
        }
    }

    /// Adds another outcome's results to this one.
    pub fn merge(&mut self, other: ScanOutcome) {
        self.findings.extend(other.findings);
        self.skipped.extend(other.skipped);
        self.blobs += other.blobs;
        self.bytes += other.bytes;
    }
}

/// `1.5 MB`-style size.
pub fn human_bytes(n: u64) -> String {
    const UNITS: [&str; 4] = ["KB", "MB", "GB", "TB"];
    if n < 1000 {
        return format!("{n} B");
    }
    let mut v = n as f64;
    let mut unit = "B";
    for u in UNITS {
        v /= 1000.0;
        unit = u;
        if v < 1000.0 {
            break;
        }
    }
    format!("{v:.1} {unit}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes() {
        assert_eq!(human_bytes(999), "999 B");
        assert_eq!(human_bytes(1500), "1.5 KB");
        assert_eq!(human_bytes(100_000_000), "100.0 MB");
    }
}

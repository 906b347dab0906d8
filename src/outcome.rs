//! The result of a scan: findings, what was skipped and why, and how much was read.

use crate::exit::Exit;
use crate::finding::Finding;
use crate::rules::Confidence;

/// What to do when content could not be scanned whole (a blob over the size cap): the
/// `on_unscanned` setting of the repository config and of the server policy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum OnUnscanned {
    /// Block the commit or reject the push (the default: fail closed).
    #[default]
    Reject,
    /// Let it through; the skip is still listed (and recorded on the server).
    Accept,
}

/// Why a blob or file was not scanned, or not scanned whole.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SkipReason {
    /// Larger than the size cap: only its first `scanned` bytes were scanned.
    TooLarge {
        /// Its size in bytes.
        size: u64,
        /// The cap.
        cap: u64,
        /// How many of its first bytes were scanned (0: not read).
        scanned: u64,
    },
    /// A compressed archive: its bytes were scanned, the files inside it were not expanded.
    CompressedArchive(&'static str),
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
    /// The code of [`SkipReason::Unreadable`], the one reason that makes a scan incomplete.
    pub const UNREADABLE: &'static str = "unreadable";

    /// Short machine-readable reason for JSON.
    pub fn code(&self) -> &'static str {
        match self {
            SkipReason::TooLarge { .. } => "too-large",
            SkipReason::CompressedArchive(_) => "compressed-archive",
            SkipReason::AllowedPath => "allowed-path",
            SkipReason::BrokenSymlink => "broken-symlink",
            SkipReason::NotRegular => "not-a-regular-file",
            SkipReason::SymlinkToDirectory => "symlink-to-directory",
            SkipReason::Submodule => "submodule",
            SkipReason::Unreadable(_) => Self::UNREADABLE,
        }
    }

    /// Whether skipping it means the scan could not do its job (an error, exit 2).
    pub fn is_error(&self) -> bool {
        matches!(self, SkipReason::Unreadable(_))
    }

    /// Whether content was left unscanned, so that `on_unscanned` decides.
    pub fn is_unscanned(&self) -> bool {
        matches!(self, SkipReason::TooLarge { .. })
    }

    /// Human description.
    pub fn describe(&self) -> String {
        match self {
            SkipReason::TooLarge { size, cap, scanned } => {
                let read = if *scanned == 0 {
                    "not read".to_string()
                } else {
                    format!("only its first {scanned} bytes were scanned")
                };
                format!(
                    "too large: {size} bytes ({}), over the cap of {cap} bytes (max_blob_bytes); {read}",
                    human_bytes(*size)
                )
            }
            SkipReason::CompressedArchive(kind) => format!(
                "{kind} archive: its bytes were scanned, the files inside it were not expanded"
            ),
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
    /// Secrets that suppressions (allow values, markers, the ignore file) silenced.
    pub suppressed: Vec<crate::scanner::Suppressed>,
    /// Skipped blobs and files.
    pub skipped: Vec<Skipped>,
    /// Blobs / files / messages scanned.
    pub blobs: u64,
    /// Bytes of added text scanned.
    pub bytes: u64,
    /// What the config that configured this scan says about unscanned content.
    pub on_unscanned: OnUnscanned,
    /// Findings below the config's `block_at`: shown as warnings and recorded, never blocking.
    pub warnings: Vec<Finding>,
}

impl ScanOutcome {
    /// Whether something could not be scanned for a reason that makes the scan incomplete.
    pub fn has_errors(&self) -> bool {
        self.skipped.iter().any(|s| s.reason.is_error())
    }

    /// Whether content was left unscanned (see [`SkipReason::is_unscanned`]).
    pub fn has_unscanned(&self) -> bool {
        self.skipped.iter().any(|s| s.reason.is_unscanned())
    }

    /// Whether the scan is incomplete: an unreadable part, or unscanned content that
    /// `on_unscanned` does not accept.
    pub fn is_incomplete(&self) -> bool {
        self.has_errors() || (self.on_unscanned == OnUnscanned::Reject && self.has_unscanned())
    }

    /// The exit code of the contract: 1 when secrets were found, 2 when the scan was incomplete
    /// (see [`ScanOutcome::is_incomplete`]), else 0.
    pub fn exit_code(&self) -> Exit {
        if !self.findings.is_empty() {
            Exit::Found
        } else if self.is_incomplete() {
            Exit::Error
        } else {
            Exit::Clean
        }
    }

    /// Moves the findings whose confidence is below `block_at` to [`ScanOutcome::warnings`], so
    /// that `findings` holds exactly what blocks.
    pub fn apply_block_at(&mut self, block_at: Confidence) {
        let (blocking, warnings): (Vec<Finding>, Vec<Finding>) = std::mem::take(&mut self.findings)
            .into_iter()
            .partition(|f| f.confidence >= block_at);
        self.findings = blocking;
        self.warnings.extend(warnings);
    }

    /// Adds another outcome's results to this one.
    pub fn merge(&mut self, other: ScanOutcome) {
        self.findings.extend(other.findings);
        self.warnings.extend(other.warnings);
        self.suppressed.extend(other.suppressed);
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

//! Plain files as a source: `leakgate scan PATH...` walks files and directories (skipping `.git`),
//! reads each file as one all-added unit and scans it (binary or not; UTF-16 decoded), listing
//! what it could not scan.

use std::fs;
use std::path::{Path, PathBuf};

use std::io::Read as _;

use crate::added::AddedText;
use crate::decode::{archive_kind, detect_utf16, views, PROBE_BYTES};
use crate::git::objects::STREAM_BYTES;
use crate::outcome::{ScanOutcome, SkipReason, Skipped};
use crate::scanner::{ScanError, Scanner};
use crate::stream::{scan_stream, StreamError};

/// Scans the given files and directories.
pub fn scan_paths(
    scanner: &Scanner,
    paths: &[PathBuf],
    max_bytes: u64,
) -> Result<ScanOutcome, ScanError> {
    let mut files = Vec::new();
    let mut outcome = ScanOutcome::default();
    for path in paths {
        collect(scanner, path, true, &mut files, &mut outcome.skipped);
    }
    let results = scan_files_parallel(scanner, &files, max_bytes);
    for result in results {
        outcome.merge(result?);
    }
    Ok(outcome)
}

/// Scans files on up to `available_parallelism` threads; results come back in input order.
fn scan_files_parallel(
    scanner: &Scanner,
    files: &[PathBuf],
    max_bytes: u64,
) -> Vec<Result<ScanOutcome, ScanError>> {
    let threads = std::thread::available_parallelism()
        .map_or(1, std::num::NonZero::get)
        .min(files.len().max(1));
    if threads <= 1 {
        return files
            .iter()
            .map(|f| scan_file(scanner, f, max_bytes))
            .collect();
    }
    let next = std::sync::atomic::AtomicUsize::new(0);
    let mut slots: Vec<Option<Result<ScanOutcome, ScanError>>> = Vec::new();
    slots.resize_with(files.len(), || None);
    let slots = std::sync::Mutex::new(slots);
    std::thread::scope(|s| {
        for _ in 0..threads {
            s.spawn(|| loop {
                let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                let Some(file) = files.get(i) else { break };
                let result = scan_file(scanner, file, max_bytes);
                if let Ok(mut slots) = slots.lock() {
                    slots[i] = Some(result);
                }
            });
        }
    });
    slots
        .into_inner()
        .unwrap_or_default()
        .into_iter()
        .flatten()
        .collect()
}

/// Display bytes of a path (`./a/b` → `a/b`).
fn path_bytes(path: &Path) -> Vec<u8> {
    use std::os::unix::ffi::OsStrExt;
    let p = path.strip_prefix("./").unwrap_or(path);
    p.as_os_str().as_bytes().to_vec()
}

fn skip(skipped: &mut Vec<Skipped>, path: &Path, reason: SkipReason) {
    skipped.push(Skipped {
        path: path_bytes(path),
        commit: None,
        reason,
    });
}

/// Collects regular files under `path` (sorted), recording what cannot be scanned. A directory
/// whose path (with a trailing `/`) is allowed by the config is listed once and not entered.
fn collect(
    scanner: &Scanner,
    path: &Path,
    top: bool,
    files: &mut Vec<PathBuf>,
    skipped: &mut Vec<Skipped>,
) {
    let meta = match fs::symlink_metadata(path) {
        Ok(m) => m,
        Err(e) => return skip(skipped, path, SkipReason::Unreadable(e.to_string())),
    };
    let file_type = meta.file_type();
    if file_type.is_symlink() {
        match fs::metadata(path) {
            Err(_) => skip(skipped, path, SkipReason::BrokenSymlink),
            Ok(target) if target.is_dir() && !top => {
                skip(skipped, path, SkipReason::SymlinkToDirectory);
            }
            Ok(target) if target.is_dir() => walk_dir(scanner, path, files, skipped),
            Ok(target) if target.is_file() => files.push(path.to_path_buf()),
            Ok(_) => skip(skipped, path, SkipReason::NotRegular),
        }
    } else if file_type.is_dir() {
        if !top && path.file_name().is_some_and(|n| n == ".git") {
            return;
        }
        let mut dir = path_bytes(path);
        dir.push(b'/');
        if !top && scanner.path_allowed(&dir) {
            return skip(skipped, path, SkipReason::AllowedPath);
        }
        walk_dir(scanner, path, files, skipped);
    } else if file_type.is_file() {
        files.push(path.to_path_buf());
    } else {
        skip(skipped, path, SkipReason::NotRegular);
    }
}

fn walk_dir(scanner: &Scanner, dir: &Path, files: &mut Vec<PathBuf>, skipped: &mut Vec<Skipped>) {
    let entries = match fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) => return skip(skipped, dir, SkipReason::Unreadable(e.to_string())),
    };
    let mut children: Vec<PathBuf> = Vec::new();
    for entry in entries {
        match entry {
            Ok(e) => children.push(e.path()),
            Err(e) => skip(skipped, dir, SkipReason::Unreadable(e.to_string())),
        }
    }
    children.sort();
    for child in children {
        collect(scanner, &child, false, files, skipped);
    }
}

/// Reads and scans one file: its bytes as stored (and UTF-16 text decoded); a big file is
/// streamed in windows, one over the cap scanned up to the cap and listed.
pub fn scan_file(scanner: &Scanner, path: &Path, max_bytes: u64) -> Result<ScanOutcome, ScanError> {
    let mut outcome = ScanOutcome::default();
    let display = path_bytes(path);
    if scanner.path_allowed(&display) {
        skip(&mut outcome.skipped, path, SkipReason::AllowedPath);
        return Ok(outcome);
    }
    let unreadable = |outcome: &mut ScanOutcome, e: std::io::Error| {
        skip(
            &mut outcome.skipped,
            path,
            SkipReason::Unreadable(e.to_string()),
        );
    };
    let mut file = match fs::File::open(path) {
        Ok(f) => f,
        Err(e) => {
            unreadable(&mut outcome, e);
            return Ok(outcome);
        }
    };
    let size = match file.metadata() {
        Ok(m) => m.len(),
        Err(e) => {
            unreadable(&mut outcome, e);
            return Ok(outcome);
        }
    };
    let mut head = Vec::new();
    if let Err(e) = (&mut file).take(PROBE_BYTES as u64).read_to_end(&mut head) {
        unreadable(&mut outcome, e);
        return Ok(outcome);
    }
    if let Some(kind) = archive_kind(&head) {
        skip(
            &mut outcome.skipped,
            path,
            SkipReason::CompressedArchive(kind),
        );
    }
    let utf16 = detect_utf16(&head).is_some();
    if size > max_bytes || (size >= STREAM_BYTES && !utf16) {
        let mut reader = std::io::Cursor::new(head).chain(file);
        match scan_stream(scanner, &display, None, &mut reader, max_bytes) {
            Ok(scanned) => {
                outcome.blobs = 1;
                outcome.bytes = scanned.bytes;
                outcome.findings = scanned.findings;
                outcome.suppressed = scanned.suppressed;
                if size > max_bytes {
                    let reason = SkipReason::TooLarge {
                        size,
                        cap: max_bytes,
                        scanned: scanned.bytes,
                    };
                    skip(&mut outcome.skipped, path, reason);
                }
            }
            Err(StreamError::Read(e)) => unreadable(&mut outcome, e),
            Err(StreamError::Scan(e)) => return Err(e),
        }
        return Ok(outcome);
    }
    let mut data = head;
    if let Err(e) = file.read_to_end(&mut data) {
        unreadable(&mut outcome, e);
        return Ok(outcome);
    }
    outcome.blobs = 1;
    outcome.bytes = data.len() as u64;
    for view in views(data) {
        let unit = AddedText::whole(display.clone(), view);
        let scanned = scanner.scan_all(&unit)?;
        outcome.findings.extend(scanned.findings);
        outcome.suppressed.extend(scanned.suppressed);
    }
    Ok(outcome)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nothing_here_is_binary_only() {
        let dir = std::env::temp_dir().join(format!("leakgate-files-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("f.bin");
        std::fs::write(&file, b"\0\x01\x02").unwrap();
        let scanner = Scanner::new(Vec::new(), Default::default()).unwrap();
        let outcome = scan_file(&scanner, &file, 1000).unwrap();
        assert_eq!(outcome.blobs, 1);
        assert!(outcome.skipped.is_empty());
        let _ = std::fs::remove_dir_all(&dir);
    }
}

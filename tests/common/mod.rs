//! The one test harness: temporary directories, an isolated git environment and a command runner
//! ([`Sandbox`]), work trees and repositories ([`Repo`]), a bare server with the pre-receive hook
//! installed and a client ([`Pair`]), what a finished command gives ([`Ran`]), snapshots with
//! volatile parts normalised ([`snapshot`]), the output schemas under `docs/` ([`schema`]), and
//! synthetic secrets built at run time (so no token literal is committed).

// `pub` items of a private module of the one test crate: every test module uses some of them.
#![allow(unreachable_pub)]
#![allow(dead_code)]

mod repo;
mod run;
mod sandbox;
pub mod schema;
mod server;
pub mod snapshot;

pub use repo::Repo;
pub use run::Ran;
pub use sandbox::Sandbox;
pub use server::{check, remote_line, Pair, Pushed};

use std::path::{Path, PathBuf};
use std::process::Output;
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

/// The built `leakgate-server` binary.
pub fn server_bin() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_leakgate-server"))
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

pub use schema::{assert_valid_sarif, sarif_violations};

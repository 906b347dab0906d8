//! gix-based sources of added text: the index against `HEAD` ([`staged`]) and a set of commits
//! ([`commits`]). No `git` subprocess is involved.

pub mod changes;
pub mod commits;
pub mod diff;
pub mod index_file;
pub mod loose;
pub mod objects;
pub mod pack_check;
pub mod ref_update;
pub mod staged;
pub mod tree_diff;
pub mod walk;

use std::path::Path;

/// Errors from reading a repository.
#[derive(Debug, thiserror::Error)]
pub enum GitError {
    /// The repository could not be opened.
    #[error("cannot open the git repository at {path}: {message}")]
    Open {
        /// Where we looked.
        path: String,
        /// What went wrong.
        message: String,
    },
    /// No repository was found around a directory, or it could not be opened.
    #[error("cannot open the git repository at {path}")]
    Discover {
        /// Where we looked.
        path: String,
        /// What gix said.
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// The repository uses an object format leakgate cannot read.
    #[error("cannot read the git repository at {path}: it uses the {format} object format (extensions.objectFormat), which leakgate does not read yet; nothing was scanned")]
    UnsupportedObjectFormat {
        /// The repository's git directory.
        path: String,
        /// The format named in its config.
        format: String,
    },
    /// The repository is owned by someone else and not trusted (git's `safe.directory`).
    #[error("refusing to read {path}: it is owned by another user; git would refuse too (see `git config --global --add safe.directory`)")]
    Untrusted {
        /// The repository.
        path: String,
    },
    /// The index could not be read.
    #[error("cannot read the index {path}: {message}")]
    Index {
        /// The index file.
        path: String,
        /// What gix said.
        message: String,
    },
    /// An object could not be read; names the commit and path it belongs to when known.
    #[error("cannot read {what}{}{}: {message}", .commit.as_ref().map(|c| format!(" in commit {c}")).unwrap_or_default(), .path.as_ref().map(|p| format!(" at path {p}")).unwrap_or_default())]
    Object {
        /// What was being read ("blob 1a2b…", "tree …").
        what: String,
        /// The commit, when scanning history.
        commit: Option<String>,
        /// The path, when known (escaped for display).
        path: Option<String>,
        /// What gix said.
        message: String,
    },
    /// A revision or range could not be resolved.
    #[error("cannot resolve {spec}: {message}")]
    Revision {
        /// The revision text.
        spec: String,
        /// What went wrong.
        message: String,
    },
    /// The time budget ran out.
    #[error("time budget of {budget_ms} ms exhausted after scanning {commits} commits")]
    Timeout {
        /// The budget.
        budget_ms: u64,
        /// Commits scanned before it ran out.
        commits: usize,
    },
    /// A rule failed while scanning.
    #[error(transparent)]
    Scan(#[from] crate::scanner::ScanError),
}

impl GitError {
    /// Adds the commit and path an object error belongs to, when it does not carry them yet.
    #[must_use]
    pub fn at(self, commit: Option<&str>, path: Option<&[u8]>) -> GitError {
        match self {
            GitError::Object {
                what,
                commit: c,
                path: p,
                message,
            } => GitError::Object {
                what,
                commit: c.or_else(|| commit.map(str::to_string)),
                path: p.or_else(|| path.map(crate::report::sanitize::sanitize_bytes)),
                message,
            },
            other => other,
        }
    }
}

/// Bytes of decoded objects (mostly trees) kept between reads: history walks read every parent
/// tree again as the next commit's base.
pub const OBJECT_CACHE_BYTES: usize = 16 * 1024 * 1024;
/// Bytes of resolved pack entries kept between reads: a pushed pack stores each version of a file
/// as a delta on another, and without this every version would resolve its whole chain again.
pub const PACK_CACHE_BYTES: usize = 16 * 1024 * 1024;

/// A pack cache of [`PACK_CACHE_BYTES`]; an entry bigger than that is never copied into it.
pub fn new_pack_cache() -> gix::odb::pack::cache::lru::StaticLinkedList<64> {
    gix::odb::pack::cache::lru::StaticLinkedList::new(PACK_CACHE_BYTES)
}

/// Sets up the object and pack caches for a history walk.
pub fn configure_caches(repo: &mut gix::Repository) {
    repo.object_cache_size(Some(OBJECT_CACHE_BYTES));
    repo.objects.set_pack_cache(|| Box::new(new_pack_cache()));
    // Every pack index is loaded now, so that a read looks in the packs before the loose objects,
    // as git does. gix loads indices lazily and looks at the loose objects between two loads: an
    // object stored packed and loose (a crafted loose copy) would otherwise be read from the loose
    // copy whenever this handle had not read from the packs yet, and the audit would scan what git
    // never shows. An error here is met again by the first read.
    let _ = repo.objects.packed_object_count();
}

/// When the repository around `dir` (`GIT_DIR`, else the nearest `.git` or bare repository)
/// declares an object format other than SHA-1, the error that says so.
fn unsupported_object_format(dir: &Path) -> Option<GitError> {
    let git_dir = match std::env::var_os("GIT_DIR").filter(|v| !v.is_empty()) {
        Some(d) => dir.join(d),
        None => dir.canonicalize().ok()?.ancestors().find_map(|a| {
            if a.join(".git").is_dir() {
                Some(a.join(".git"))
            } else if a.join("objects").is_dir() && a.join("config").is_file() {
                Some(a.to_path_buf())
            } else {
                None
            }
        })?,
    };
    let config = std::fs::read_to_string(git_dir.join("config")).ok()?;
    let format = config.lines().find_map(|line| {
        let (key, value) = line.split_once('=')?;
        key.trim()
            .eq_ignore_ascii_case("objectformat")
            .then(|| value.trim().trim_matches('"').to_ascii_lowercase())
    })?;
    (format != "sha1").then(|| GitError::UnsupportedObjectFormat {
        path: git_dir.display().to_string(),
        format,
    })
}

/// Opens the repository around `dir` the way git does inside a hook: honouring `GIT_DIR`,
/// `GIT_WORK_TREE`, `GIT_INDEX_FILE` and the other environment overrides, and refusing a
/// repository owned by another user, as git would.
pub fn open_repository(dir: &Path) -> Result<gix::Repository, GitError> {
    let repo = gix::discover_with_environment_overrides(dir).map_err(|e| {
        unsupported_object_format(dir).unwrap_or_else(|| GitError::Discover {
            path: dir.display().to_string(),
            source: Box::new(e),
        })
    })?;
    if repo.git_dir_trust() != gix::sec::Trust::Full {
        return Err(GitError::Untrusted {
            path: repo.git_dir().display().to_string(),
        });
    }
    pack_check::check_packs(repo.objects.store_ref().path())?;
    let mut repo = repo;
    configure_caches(&mut repo);
    Ok(repo)
}

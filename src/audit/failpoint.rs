//! Test-only panics in the audit's worker threads, armed for one repository and one stage, so
//! that tests can check what a panicking worker leaves behind (an error, never a shorter report;
//! never a walk that waits forever).

use std::path::{Path, PathBuf};
use std::sync::Mutex;

/// Where a worker panics.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Stage {
    /// A prescan worker, on taking a job.
    Prescan,
    /// A history scan worker, on starting a chunk of commits.
    History,
    /// The thread that opens the packs for the prescan.
    Packs,
}

/// Repositories (by a directory their git directory lies in) and the stage that panics there.
static ARMED: Mutex<Vec<(PathBuf, Stage)>> = Mutex::new(Vec::new());

/// Makes every worker of `stage` panic in repositories under `dir`.
pub(crate) fn arm(dir: &Path, stage: Stage) {
    ARMED.lock().unwrap().push((dir.to_path_buf(), stage));
}

/// Panics when `stage` is armed for `git_dir`.
pub(crate) fn hit(git_dir: &Path, stage: Stage) {
    let armed = ARMED
        .lock()
        .is_ok_and(|a| a.iter().any(|(d, s)| *s == stage && git_dir.starts_with(d)));
    assert!(
        !armed,
        "failpoint: {stage:?} worker in {}",
        git_dir.display()
    );
}

//! The server policy's scanner, built once per push on a second thread while the hook finds what
//! the push adds, and shared by the scan of the pushed content and of the texts the pusher wrote
//! (ref names, the bypass reason), each with its own suppressions.
//!
//! Loading the embedded pack and building its keyword tables costs about 3 ms of one core; the
//! hook used to pay it twice per push (once for each scan) and before anything else. Reading the
//! refs and walking to the new commits does not need it.

use std::thread::JoinHandle;

use crate::config::{assemble_rules, RepoConfig, RuleSetOptions};
use crate::scanner::{Scanner, Suppressions};
use crate::server::policy::Policy;

/// Why the policy's scanner could not be built (the policy's rules, or the pack).
pub(crate) type BuildError = Box<dyn std::error::Error + Send + Sync>;

/// The policy's scanner: being built, built, or handed out.
pub(crate) struct PolicyScanner {
    build: Option<JoinHandle<Result<Scanner, BuildError>>>,
    ready: Option<Result<Scanner, BuildError>>,
}

impl PolicyScanner {
    /// Starts building the scanner of `policy`'s rules (no suppressions yet) on another thread;
    /// builds it here when no thread can be started.
    pub(crate) fn start(policy: &Policy) -> Self {
        let config = policy.as_scan_config();
        let here = config.clone();
        let spawned = std::thread::Builder::new()
            .name("leakgate-policy".into())
            .spawn(move || build(&config));
        match spawned {
            Ok(handle) => PolicyScanner {
                build: Some(handle),
                ready: None,
            },
            Err(_) => PolicyScanner {
                build: None,
                ready: Some(build(&here)),
            },
        }
    }

    /// The scanner (waiting for its build), or why there is none. Once taken, it is gone until
    /// [`PolicyScanner::put_back`].
    pub(crate) fn take(&mut self) -> Result<Scanner, BuildError> {
        if let Some(handle) = self.build.take() {
            let built = handle
                .join()
                .unwrap_or_else(|_| Err("building the scanner failed (a panic)".into()));
            self.ready = Some(built);
        }
        self.ready
            .take()
            .unwrap_or_else(|| Err("the scanner is in use".into()))
    }

    /// Returns a scanner taken with [`PolicyScanner::take`], for the next use.
    pub(crate) fn put_back(&mut self, scanner: Scanner) {
        self.ready = Some(Ok(scanner));
    }
}

/// The scanner of `config`'s rules (the embedded pack less `disable`, plus the policy's rules),
/// without suppressions.
fn build(config: &RepoConfig) -> Result<Scanner, BuildError> {
    let (rules, _) = assemble_rules(config, "server policy", &RuleSetOptions::default())?;
    Ok(Scanner::new(rules, Suppressions::default())?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_scanner_is_handed_out_once_at_a_time_and_comes_back() {
        let mut pending = PolicyScanner::start(&Policy::default());
        let scanner = pending.take().expect("built");
        let rules = scanner.rules().count();
        assert_eq!(rules, crate::builtin::rules().unwrap().len());
        assert!(pending.take().is_err(), "in use");
        pending.put_back(scanner);
        assert_eq!(pending.take().expect("back").rules().count(), rules);
    }

    #[test]
    fn the_policy_s_own_rules_and_disable_list_are_in_it() {
        let id = crate::builtin::rules().unwrap()[0].id().to_string();
        let policy = Policy::parse(
            "policy.yaml",
            &format!(
                "disable: [{id}]\nrules:\n  - id: team-token\n    description: A team token\n    \
                 regex: 'team_[a-z0-9]{{20}}'\n    keywords: [team_]\n"
            ),
        )
        .unwrap();
        let scanner = PolicyScanner::start(&policy).take().expect("built");
        let ids: Vec<&str> = scanner.rules().map(crate::rules::Rule::id).collect();
        assert!(ids.contains(&"team-token"));
        assert!(!ids.contains(&id.as_str()));
    }
}

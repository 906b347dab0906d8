//! The embedded pack's scanner, built on a second thread while a hook does its own start-up work.
//!
//! A pre-commit hook in a big repository spends most of its time reading the index (6.5 ms for
//! 100,000 entries), and loading the embedded pack and building its keyword prefilter costs
//! another 2.7 ms of one core. Neither needs the other, so the hook starts this build first and
//! reads the index meanwhile. The result is used only where it is exactly what
//! [`crate::config::build_scanner`] would build: the embedded pack unchanged (no `disable`, no
//! rules in the config, no `--rules`, no `--no-builtin`). Anything else, and any failure or panic
//! on the thread, falls back to building on the caller's thread, which reports its own errors, so
//! a prebuilt scanner can never mean fewer rules.

use std::thread::JoinHandle;

use crate::builtin;
use crate::config::{RepoConfig, RuleSetOptions};
use crate::scanner::{Scanner, Suppressions};

/// A scanner of the embedded pack being built on another thread, or nothing.
#[derive(Debug, Default)]
pub struct PrebuiltScanner {
    build: Option<JoinHandle<Option<Scanner>>>,
}

impl PrebuiltScanner {
    /// Starts building the embedded pack's scanner (no suppressions yet) on another thread.
    /// When no thread can be started, nothing is prebuilt.
    pub fn start() -> Self {
        let build = std::thread::Builder::new()
            .name("leakgate-pack".into())
            .spawn(|| {
                let rules = builtin::rules().ok()?;
                Scanner::new(rules, Suppressions::default()).ok()
            })
            .ok();
        PrebuiltScanner { build }
    }

    /// Nothing prebuilt: whoever needs a scanner builds it.
    pub fn none() -> Self {
        PrebuiltScanner::default()
    }

    /// The prebuilt scanner, when one was started, built without error, and is what `config` and
    /// `options` ask for: the embedded pack, whole and alone.
    pub fn take_for(self, config: &RepoConfig, options: &RuleSetOptions) -> Option<Scanner> {
        let unchanged_pack = !options.no_builtin
            && options.extra_rules.is_empty()
            && config.disable.is_empty()
            && config.rules.is_empty();
        let build = self.build?;
        if !unchanged_pack {
            return None;
        }
        build.join().ok().flatten()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(yaml: &str) -> RepoConfig {
        RepoConfig::parse(".leakgate.yaml", yaml).unwrap()
    }

    #[test]
    fn the_default_config_takes_the_whole_embedded_pack() {
        let scanner = PrebuiltScanner::start()
            .take_for(&RepoConfig::default(), &RuleSetOptions::default())
            .expect("prebuilt");
        assert_eq!(scanner.rules().count(), builtin::rules().unwrap().len());
    }

    #[test]
    fn a_config_that_changes_the_rules_is_never_given_the_prebuilt_scanner() {
        let id = builtin::rules().unwrap()[0].id().to_string();
        let custom = "rules:\n  - id: team-token\n    description: A team token\n    \
                      regex: 'team_[a-z0-9]{20}'\n    keywords: [team_]\n";
        for changed in [config(&format!("disable: [{id}]\n")), config(custom)] {
            assert!(PrebuiltScanner::start()
                .take_for(&changed, &RuleSetOptions::default())
                .is_none());
        }
        let no_builtin = RuleSetOptions {
            no_builtin: true,
            extra_rules: Vec::new(),
        };
        assert!(PrebuiltScanner::start()
            .take_for(&RepoConfig::default(), &no_builtin)
            .is_none());
        let extra = RuleSetOptions {
            no_builtin: false,
            extra_rules: builtin::rules().unwrap().into_iter().take(1).collect(),
        };
        assert!(PrebuiltScanner::start()
            .take_for(&RepoConfig::default(), &extra)
            .is_none());
    }

    #[test]
    fn nothing_started_gives_nothing() {
        assert!(PrebuiltScanner::none()
            .take_for(&RepoConfig::default(), &RuleSetOptions::default())
            .is_none());
    }
}

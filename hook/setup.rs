//! Finding and loading what configures a scan: the repository root, `.leakgate.yaml` (or
//! `--config`), `.leakgateignore`, and the scanner built from them.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::Context as _;
use gix::hash::ObjectId;
use leakgate::config::{self, RepoConfig, RuleSetOptions, CONFIG_FILE, IGNORE_FILE};
use leakgate::fingerprint::IgnoreSet;
use leakgate::prebuilt::PrebuiltScanner;
use leakgate::report::ColorChoice;
use leakgate::scanner::Scanner;

use crate::cli::{ColorArg, Common};

/// A loaded configuration.
pub(crate) struct Setup {
    /// The config (default when there is none).
    pub config: RepoConfig,
    /// Its name for messages.
    pub config_name: String,
    /// Fingerprints from the ignore file.
    pub ignored: IgnoreSet,
}

impl Setup {
    /// Builds the scanner; warns about `disable` ids that match no rule.
    pub(crate) fn scanner(&self, common: &Common) -> anyhow::Result<Arc<Scanner>> {
        self.scanner_with(common, PrebuiltScanner::none())
    }

    /// [`Setup::scanner`], using the embedded pack's scanner from `prebuilt` when it applies.
    pub(crate) fn scanner_with(
        &self,
        common: &Common,
        prebuilt: PrebuiltScanner,
    ) -> anyhow::Result<Arc<Scanner>> {
        let options = RuleSetOptions {
            no_builtin: common.no_builtin,
            extra_rules: leakgate::rules::load_rule_paths(&common.rule_paths)?,
        };
        let mut ignored = self.ignored.clone();
        if let Some(baseline) = &common.baseline {
            ignored.add_baseline(baseline.fingerprints());
        }
        let (scanner, unknown) = config::build_scanner_with(
            &self.config,
            &self.config_name,
            ignored,
            &options,
            prebuilt,
        )?;
        for id in unknown {
            eprintln!(
                "leakgate: warning: {}: `disable` names no builtin rule: {}",
                self.config_name,
                leakgate::report::sanitize::sanitize(&id)
            );
        }
        Ok(scanner)
    }
}

/// The work-tree root above the current directory (the nearest directory holding `.git`), or the
/// current directory.
pub(crate) fn work_tree_root() -> PathBuf {
    let cwd = std::env::current_dir().unwrap_or_else(|_| PathBuf::from("."));
    cwd.ancestors()
        .find(|dir| dir.join(".git").exists())
        .map(Path::to_path_buf)
        .unwrap_or(cwd)
}

/// `<root>/.leakgate.yaml` when there is one, else the default config.
fn disk_config(root: &Path) -> anyhow::Result<RepoConfig> {
    let path = root.join(CONFIG_FILE);
    Ok(if path.is_file() {
        RepoConfig::read(&path)?
    } else {
        RepoConfig::default()
    })
}

/// The fingerprints of `<root>/.leakgateignore` when there is one.
fn disk_ignore(root: &Path) -> anyhow::Result<IgnoreSet> {
    let path = root.join(IGNORE_FILE);
    if !path.is_file() {
        return Ok(IgnoreSet::default());
    }
    let text = std::fs::read_to_string(&path)
        .with_context(|| format!("cannot read {}", path.display()))?;
    Ok(config::parse_ignore_file(IGNORE_FILE, &text)?)
}

/// Loads `--config` or `<root>/.leakgate.yaml`, and `<root>/.leakgateignore`, from disk.
pub(crate) fn load_from_disk(common: &Common, root: &Path) -> anyhow::Result<Setup> {
    let (config, config_name) = match &common.config {
        Some(path) => (RepoConfig::read(path)?, path.display().to_string()),
        None => (disk_config(root)?, CONFIG_FILE.to_string()),
    };
    Ok(Setup {
        config,
        config_name,
        ignored: disk_ignore(root)?,
    })
}

/// The colour choice of `--color`.
pub(crate) fn color_choice(arg: ColorArg) -> ColorChoice {
    match arg {
        ColorArg::Auto => ColorChoice::Auto,
        ColorArg::Always => ColorChoice::Always,
        ColorArg::Never => ColorChoice::Never,
    }
}

/// Which versions of the repository's own `.leakgate.yaml` and `.leakgateignore` configure a scan.
#[derive(Clone, Copy)]
pub(crate) enum ConfigSource<'a> {
    /// pre-commit: `HEAD`'s config, tightened by the staged one; the staged ignore file.
    Staged(&'a leakgate::git::index_file::StagedIndex),
    /// Commits leaving for a destination (pre-push, a range): the config the destination already
    /// has (`base`), tightened by the one at the pushed `tip`; the tip's ignore file.
    Commits {
        /// What the destination has.
        base: Base,
        /// The pushed commit.
        tip: Option<ObjectId>,
    },
    /// `HEAD`'s config and ignore file (history audits, commit messages).
    Head,
}

/// The config a destination already has, before the pushed commits.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Base {
    /// The config at a commit the destination has (the remote's old value of a pushed ref, its
    /// tracking branch, or the parent of the oldest pushed commit).
    At(ObjectId),
    /// The pushed history starts from nothing (a root commit): no config yet, only defaults.
    Nothing,
    /// Not known yet: the caller works it out from the commits to scan.
    Unknown,
}

/// Loads the config for a hook or a git scan: `--config` when given, else what is **committed**,
/// never an untracked file of the work tree.
///
/// A config that the change itself brings (staged at pre-commit, or in the pushed commits at
/// pre-push) is merged with the committed one by [`config::strictest`]: the change that widens
/// `allow`, `disable`, `block_at` or the caps, or removes a rule, is scanned as if the widening
/// were not there yet, and each held-back widening is printed.
pub(crate) fn load_for_repo(
    common: &Common,
    repo: &gix::Repository,
    source: ConfigSource<'_>,
) -> anyhow::Result<Setup> {
    use leakgate::git::staged::{committed_file, file_at_commit, staged_file};
    let text = |bytes: Vec<u8>| String::from_utf8_lossy(&bytes).into_owned();
    // (where, text) of the committed and of the proposed version of a file.
    let versions = |name: &str| -> anyhow::Result<(Version, Version)> {
        let head = || -> anyhow::Result<Version> {
            Ok(("HEAD".to_string(), committed_file(repo, name)?.map(text)))
        };
        let at = |id: ObjectId| -> anyhow::Result<Version> {
            let short = id.to_hex_with_len(12).to_string();
            Ok((short, file_at_commit(repo, id, name)?.map(text)))
        };
        Ok(match source {
            ConfigSource::Staged(index) => (
                head()?,
                (
                    "staged".to_string(),
                    staged_file(repo, index, name)?.map(text),
                ),
            ),
            ConfigSource::Commits { base, tip } => {
                let committed = match base {
                    Base::At(id) => at(id)?,
                    Base::Nothing => ("no commit".to_string(), None),
                    Base::Unknown => head()?,
                };
                let proposed = match tip {
                    Some(id) => at(id)?,
                    None => head()?,
                };
                (committed, proposed)
            }
            ConfigSource::Head => (head()?, head()?),
        })
    };
    let (config, config_name) = match &common.config {
        Some(path) => (RepoConfig::read(path)?, path.display().to_string()),
        None => {
            let ((at, committed_text), (proposed_at, proposed_text)) = versions(CONFIG_FILE)?;
            let committed = match &committed_text {
                Some(t) => RepoConfig::parse(&format!("{CONFIG_FILE} ({at})"), t)?,
                None => RepoConfig::default(),
            };
            match proposed_text.filter(|t| Some(t) != committed_text.as_ref()) {
                Some(t) => {
                    let proposed =
                        RepoConfig::parse(&format!("{CONFIG_FILE} ({proposed_at})"), &t)?;
                    let (merged, held_back) = config::strictest(&committed, &proposed);
                    warn_held_back(&held_back);
                    (merged, CONFIG_FILE.to_string())
                }
                // Unchanged, or deleted by the change: the committed one applies.
                None => (committed, CONFIG_FILE.to_string()),
            }
        }
    };
    // The ignore file of the change itself: each line names one value and is a reviewed line of
    // the commit (the fingerprint a report printed).
    let (_, (ignore_at, ignore_text)) = versions(IGNORE_FILE)?;
    let ignored = match ignore_text {
        Some(t) => config::parse_ignore_file(&format!("{IGNORE_FILE} ({ignore_at})"), &t)?,
        None => IgnoreSet::default(),
    };
    Ok(Setup {
        config,
        config_name,
        ignored,
    })
}

/// Where a version of a file comes from, and its text when it exists.
type Version = (String, Option<String>);

/// Prints, loudly, what a staged `.leakgate.yaml` would have let through in its own commit.
fn warn_held_back(held_back: &[String]) {
    if held_back.is_empty() {
        return;
    }
    eprintln!(
        "leakgate: warning: the {CONFIG_FILE} that this change brings widens what is let through; \
         the change is scanned without the widening (it applies to later changes, once it is on \
         the destination):"
    );
    for line in held_back {
        eprintln!("  - {}", leakgate::report::sanitize::sanitize(line));
    }
}

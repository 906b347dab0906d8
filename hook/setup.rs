//! Finding and loading what configures a scan: the repository root, `.leakgate.yaml` (or
//! `--config`), `.leakgateignore`, and the scanner built from them.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::Context as _;
use leakgate::config::{self, RepoConfig, RuleSetOptions, CONFIG_FILE, IGNORE_FILE};
use leakgate::fingerprint::IgnoreSet;
use leakgate::report::ColorChoice;
use leakgate::scanner::Scanner;

use crate::cli::{ColorArg, Common};

/// A loaded configuration.
pub struct Setup {
    /// The config (default when there is none).
    pub config: RepoConfig,
    /// Its name for messages.
    pub config_name: String,
    /// Fingerprints from the ignore file.
    pub ignored: IgnoreSet,
}

impl Setup {
    /// Builds the scanner; warns about `disable` ids that match no rule.
    pub fn scanner(&self, common: &Common) -> anyhow::Result<Arc<Scanner>> {
        let options = RuleSetOptions {
            no_builtin: common.no_builtin,
            extra_rules: leakgate::rules::load_rule_paths(&common.rule_paths)?,
        };
        let (scanner, unknown) = config::build_scanner(
            &self.config,
            &self.config_name,
            self.ignored.clone(),
            &options,
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
pub fn work_tree_root() -> PathBuf {
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
pub fn load_from_disk(common: &Common, root: &Path) -> anyhow::Result<Setup> {
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
pub fn color_choice(arg: ColorArg) -> ColorChoice {
    match arg {
        ColorArg::Auto => ColorChoice::Auto,
        ColorArg::Always => ColorChoice::Always,
        ColorArg::Never => ColorChoice::Never,
    }
}

/// Loads the config for a hook or a git scan: `--config` when given, else what is **committed**
/// (`HEAD`'s `.leakgate.yaml`), never an untracked file of the work tree.
///
/// At pre-commit (`index` given) a `.leakgate.yaml` staged with changes is merged with the
/// committed one by [`config::strictest`]: the commit that widens `allow`, `disable` or the caps
/// is scanned as if the widening were not there yet, and each held-back widening is printed.
/// `.leakgateignore` is the staged one at pre-commit, else the committed one.
pub fn load_for_repo(
    common: &Common,
    repo: &gix::Repository,
    index: Option<&gix::index::File>,
) -> anyhow::Result<Setup> {
    let text = |bytes: Vec<u8>| String::from_utf8_lossy(&bytes).into_owned();
    let committed = |name: &str| -> anyhow::Result<Option<String>> {
        Ok(leakgate::git::staged::committed_file(repo, name)?.map(text))
    };
    let staged = |name: &str| -> anyhow::Result<Option<String>> {
        let Some(index) = index else { return Ok(None) };
        Ok(leakgate::git::staged::staged_file(repo, index, name)?.map(text))
    };
    let (config, config_name) = match &common.config {
        Some(path) => (RepoConfig::read(path)?, path.display().to_string()),
        None => {
            let head_text = committed(CONFIG_FILE)?;
            let head = match &head_text {
                Some(t) => RepoConfig::parse(&format!("{CONFIG_FILE} (HEAD)"), t)?,
                None => RepoConfig::default(),
            };
            let staged_text = staged(CONFIG_FILE)?;
            match staged_text.filter(|t| Some(t) != head_text.as_ref()) {
                Some(t) if index.is_some() => {
                    let staged = RepoConfig::parse(&format!("{CONFIG_FILE} (staged)"), &t)?;
                    let (merged, held_back) = config::strictest(&head, &staged);
                    warn_held_back(&held_back);
                    (merged, CONFIG_FILE.to_string())
                }
                _ => (head, CONFIG_FILE.to_string()),
            }
        }
    };
    let ignored = match (index, staged(IGNORE_FILE)?) {
        (Some(_), Some(t)) => config::parse_ignore_file(&format!("{IGNORE_FILE} (staged)"), &t)?,
        (Some(_), None) => IgnoreSet::default(),
        (None, _) => match committed(IGNORE_FILE)? {
            Some(t) => config::parse_ignore_file(&format!("{IGNORE_FILE} (HEAD)"), &t)?,
            None => IgnoreSet::default(),
        },
    };
    Ok(Setup {
        config,
        config_name,
        ignored,
    })
}

/// Prints, loudly, what a staged `.leakgate.yaml` would have let through in its own commit.
fn warn_held_back(held_back: &[String]) {
    if held_back.is_empty() {
        return;
    }
    eprintln!(
        "leakgate: warning: the staged {CONFIG_FILE} widens what is let through; this commit is \
         scanned without the widening (it applies once committed):"
    );
    for line in held_back {
        eprintln!("  - {}", leakgate::report::sanitize::sanitize(line));
    }
}

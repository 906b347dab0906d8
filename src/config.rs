//! Repository configuration (`.leakgate.yaml`), the ignore file (`.leakgateignore`), and how they
//! combine with the embedded pack into a [`Scanner`].

use std::collections::HashSet;
use std::path::Path;
use std::sync::Arc;

use serde::de::DeserializeOwned;
use serde::Deserialize;

use crate::builtin;
use crate::fingerprint::IgnoreSet;
use crate::outcome::OnUnscanned;
use crate::prebuilt::PrebuiltScanner;
use crate::rules::Confidence;
use crate::rules::{
    check_unique_ids, validate_file, yaml_error, RawRule, Remediation, Rule, RuleError, RuleFile,
};
use crate::scanner::{ScanError, Scanner, Suppressions};

/// Default cap on the size of one blob or file: a guard, not a filter. Bigger ones are scanned
/// up to the cap where they can be streamed, listed, and follow `on_unscanned`. GitHub refuses
/// files over 100 MiB outright.
pub const DEFAULT_MAX_BLOB_BYTES: u64 = 100_000_000;

/// File name of the repository config.
pub const CONFIG_FILE: &str = ".leakgate.yaml";
/// File name of the ignore file.
pub const IGNORE_FILE: &str = ".leakgateignore";

/// Errors in configuration files.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// A rule-related error (YAML with `file:line:column`, or a bad rule).
    #[error(transparent)]
    Rules(#[from] RuleError),
    /// The file could not be read.
    #[error("{file}: cannot read")]
    Io {
        /// The file.
        file: String,
        /// What went wrong.
        #[source]
        source: std::io::Error,
    },
    /// The path names a directory where a config file was expected.
    #[error("{file}: cannot read: is a directory, not a config file")]
    IsDirectory {
        /// The path.
        file: String,
    },
    /// A git config file (the repository's own, naming the server policy) could not be read.
    #[error("{file}: cannot read")]
    GitConfig {
        /// The git config file.
        file: String,
        /// What gix said.
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// An allowlist regex does not compile.
    #[error("{file}: allow.{list}: bad regex {pattern:?}")]
    BadRegex {
        /// The config file.
        file: String,
        /// `paths` or `values`.
        list: &'static str,
        /// The regex as written.
        pattern: String,
        /// What the regex compiler said.
        #[source]
        source: Box<regex::Error>,
    },
    /// A value is wrong (a malformed ignore line).
    #[error("{file}{}: {message}", .line.map(|l| format!(":{l}")).unwrap_or_default())]
    Invalid {
        /// The file.
        file: String,
        /// 1-based line, when known.
        line: Option<usize>,
        /// What is wrong.
        message: String,
    },
    /// The scanner could not be built.
    #[error(transparent)]
    Scan(#[from] ScanError),
}

/// Path and value allowlists (regexes).
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct AllowConfig {
    /// Regexes over paths: matching files are not scanned.
    #[serde(default)]
    pub paths: Vec<String>,
    /// Regexes over secret values: matching values are not reported.
    #[serde(default)]
    pub values: Vec<String>,
}

/// The commented `.leakgate.yaml` that `leakgate init` writes: every setting at its default.
pub const CONFIG_TEMPLATE: &str = include_str!("config_template.yaml");

/// `.leakgate.yaml`.
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct RepoConfig {
    /// Extra rules (the rule schema of `patterns/`).
    #[serde(default)]
    pub rules: Vec<RawRule>,
    /// Remediation shown for the extra rules (a generic text when absent).
    #[serde(default)]
    pub remediation: Option<Remediation>,
    /// Builtin rule ids to turn off.
    #[serde(default)]
    pub disable: Vec<String>,
    /// Allowlists.
    #[serde(default)]
    pub allow: AllowConfig,
    /// Cap on one blob's size.
    #[serde(default)]
    pub max_blob_bytes: Option<u64>,
    /// What to do when content could not be scanned whole (default: block).
    #[serde(default)]
    pub on_unscanned: OnUnscanned,
    /// The lowest confidence that blocks (default `medium`); findings below it are warnings.
    #[serde(default)]
    pub block_at: Confidence,
}

/// Parses a YAML settings document (`.leakgate.yaml`, the server policy); an empty one takes
/// every default. `name` is used in errors (`file:line:column`).
pub(crate) fn parse_settings<T: DeserializeOwned + Default>(
    name: &str,
    text: &str,
) -> Result<T, ConfigError> {
    if text.trim().is_empty() {
        return Ok(T::default());
    }
    yaml_serde::from_str(text).map_err(|e| ConfigError::Rules(yaml_error(name, &e)))
}

/// Reads and parses a YAML settings file ([`parse_settings`]).
pub(crate) fn read_settings<T: DeserializeOwned + Default>(path: &Path) -> Result<T, ConfigError> {
    let name = path.display().to_string();
    if path.is_dir() {
        return Err(ConfigError::IsDirectory { file: name });
    }
    let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Io {
        file: name.clone(),
        source,
    })?;
    parse_settings(&name, &text)
}

impl RepoConfig {
    /// Parses a config's text; `name` is used in errors (`file:line:column`).
    pub fn parse(name: &str, text: &str) -> Result<Self, ConfigError> {
        parse_settings(name, text)
    }

    /// Reads and parses a config file.
    pub fn read(path: &Path) -> Result<Self, ConfigError> {
        read_settings(path)
    }

    /// The effective blob size cap.
    pub fn max_blob_bytes(&self) -> u64 {
        self.max_blob_bytes.unwrap_or(DEFAULT_MAX_BLOB_BYTES)
    }
}

/// The strictest of the committed config and the one staged beside it: a commit that widens what
/// is let through is scanned as if the widening were not there yet.
///
/// Rules: both sets (a staged edit of a committed rule is added as `<id>-staged`); `disable` and
/// the allowlists: only entries both hold; the larger size cap; `on_unscanned: reject` when either
/// says so. Returns the merged config and one line per widening that was held back.
pub fn strictest(committed: &RepoConfig, staged: &RepoConfig) -> (RepoConfig, Vec<String>) {
    let mut held_back = Vec::new();
    let mut merged = committed.clone();
    for rule in &staged.rules {
        match committed.rules.iter().find(|r| r.id == rule.id) {
            Some(same) if same == rule => {}
            Some(_) => {
                let mut renamed = rule.clone();
                renamed.id = format!("{}-staged", rule.id);
                held_back.push(format!(
                    "rule `{}` is changed: both versions apply",
                    rule.id
                ));
                merged.rules.push(renamed);
            }
            None => merged.rules.push(rule.clone()),
        }
    }
    for rule in committed
        .rules
        .iter()
        .filter(|r| staged.rules.iter().all(|s| s.id != r.id))
    {
        held_back.push(format!("rule `{}` is removed: it still applies", rule.id));
    }
    if staged.remediation.is_some() {
        merged.remediation = staged.remediation.clone();
    }
    let both = |committed: &[String], staged: &[String], what: &str, held: &mut Vec<String>| {
        for entry in staged.iter().filter(|e| !committed.contains(e)) {
            held.push(format!("{what} adds `{entry}`"));
        }
        committed
            .iter()
            .filter(|e| staged.contains(e))
            .cloned()
            .collect::<Vec<_>>()
    };
    merged.disable = both(
        &committed.disable,
        &staged.disable,
        "disable",
        &mut held_back,
    );
    merged.allow.paths = both(
        &committed.allow.paths,
        &staged.allow.paths,
        "allow.paths",
        &mut held_back,
    );
    merged.allow.values = both(
        &committed.allow.values,
        &staged.allow.values,
        "allow.values",
        &mut held_back,
    );
    if staged.max_blob_bytes() < committed.max_blob_bytes() {
        held_back.push(format!(
            "max_blob_bytes lowers the cap to {}",
            staged.max_blob_bytes()
        ));
    }
    merged.max_blob_bytes = Some(committed.max_blob_bytes().max(staged.max_blob_bytes()));
    if staged.on_unscanned == OnUnscanned::Accept && committed.on_unscanned == OnUnscanned::Reject {
        held_back.push("on_unscanned: accept".to_string());
    }
    if staged.on_unscanned == OnUnscanned::Reject {
        merged.on_unscanned = OnUnscanned::Reject;
    }
    if staged.block_at > committed.block_at {
        held_back.push(format!(
            "block_at raises the threshold to {}",
            staged.block_at
        ));
    }
    merged.block_at = committed.block_at.min(staged.block_at);
    (merged, held_back)
}

/// Remediation for user rules that do not bring their own.
fn custom_remediation() -> Remediation {
    Remediation {
        revoke: "Revoke the credential in the system that issued it (its admin console or API)."
            .into(),
        rotate: "Issue a new credential, store it in a secret store or environment variable, \
                 deploy it to every consumer, then revoke the old one."
            .into(),
        docs: String::new(),
    }
}

/// Parses `.leakgateignore`: one fingerprint per line, `# reason` comments allowed.
/// Current (`<rule-id>:<20 hex>`) and version-1 (`<rule-id>:<16 hex>`) fingerprints are accepted.
pub fn parse_ignore_file(name: &str, text: &str) -> Result<IgnoreSet, ConfigError> {
    let mut set = IgnoreSet::default();
    for (i, line) in text.lines().enumerate() {
        let entry = line.split('#').next().unwrap_or("").trim();
        if entry.is_empty() {
            continue;
        }
        let Some(parsed) = crate::fingerprint::parse(entry) else {
            return Err(ConfigError::Invalid {
                file: name.to_string(),
                line: Some(i + 1),
                message: format!(
                    "`{}` is not a fingerprint (expected <rule-id>:<20 hex>, as a report prints it)",
                    entry.escape_debug()
                ),
            });
        };
        set.insert(parsed);
    }
    Ok(set)
}

/// How to assemble the rule set.
#[derive(Debug, Clone, Default)]
pub struct RuleSetOptions {
    /// Leave the embedded pack out (`--no-builtin`).
    pub no_builtin: bool,
    /// Extra rules (`--rules PATH`); they replace embedded rules with the same id.
    pub extra_rules: Vec<Rule>,
}

/// The rules of the embedded pack (minus `disable`) and of the config, validated together.
/// Returns the rules and the `disable` ids that matched no builtin rule (worth a warning).
pub fn assemble_rules(
    config: &RepoConfig,
    config_name: &str,
    options: &RuleSetOptions,
) -> Result<(Vec<Rule>, Vec<String>), ConfigError> {
    let mut rules = Vec::new();
    let mut unknown_disabled = Vec::new();
    if !options.no_builtin {
        let disabled: HashSet<&str> = config.disable.iter().map(String::as_str).collect();
        let builtin = builtin::rules()?;
        let known: HashSet<&str> = builtin.iter().map(Rule::id).collect();
        unknown_disabled = config
            .disable
            .iter()
            .filter(|d| !known.contains(d.as_str()))
            .cloned()
            .collect();
        let replaced: HashSet<&str> = options.extra_rules.iter().map(Rule::id).collect();
        rules.extend(
            builtin
                .into_iter()
                .filter(|r| !disabled.contains(r.id()) && !replaced.contains(r.id())),
        );
    }
    rules.extend(options.extra_rules.iter().cloned());
    if !config.rules.is_empty() {
        let file = RuleFile {
            provider: format!("Custom rules ({config_name})"),
            remediation: config
                .remediation
                .clone()
                .unwrap_or_else(custom_remediation),
            rules: config.rules.clone(),
        };
        rules.extend(validate_file(config_name, file, None, false)?);
    }
    check_unique_ids(&rules)?;
    Ok((rules, unknown_disabled))
}

/// Compiles `allow.paths` (needed before the scanner: a file renamed out of an allowed path is
/// new content, not a rename).
pub fn path_allowlist(
    config: &RepoConfig,
    config_name: &str,
) -> Result<Vec<regex::bytes::Regex>, ConfigError> {
    config
        .allow
        .paths
        .iter()
        .map(|p| {
            regex::bytes::Regex::new(p).map_err(|source| ConfigError::BadRegex {
                file: config_name.to_string(),
                list: "paths",
                pattern: p.clone(),
                source: Box::new(source),
            })
        })
        .collect()
}

/// Compiles the allowlists of a config into suppressions.
pub fn suppressions(
    config: &RepoConfig,
    config_name: &str,
    fingerprints: IgnoreSet,
) -> Result<Suppressions, ConfigError> {
    let compile = |list: &[String], what: &'static str| {
        list.iter()
            .map(|p| {
                regex::bytes::Regex::new(p).map_err(|source| ConfigError::BadRegex {
                    file: config_name.to_string(),
                    list: what,
                    pattern: p.clone(),
                    source: Box::new(source),
                })
            })
            .collect::<Result<Vec<regex::bytes::Regex>, ConfigError>>()
    };
    Ok(Suppressions {
        values: compile(&config.allow.values, "values")?,
        paths: path_allowlist(config, config_name)?,
        fingerprints,
        ignore_markers: false,
    })
}

/// Builds a scanner from a config and ignore list.
pub fn build_scanner(
    config: &RepoConfig,
    config_name: &str,
    fingerprints: IgnoreSet,
    options: &RuleSetOptions,
) -> Result<(Arc<Scanner>, Vec<String>), ConfigError> {
    build_scanner_with(
        config,
        config_name,
        fingerprints,
        options,
        PrebuiltScanner::none(),
    )
}

/// [`build_scanner`], taking the embedded pack's scanner from `prebuilt` when it was built ahead
/// and the config leaves the pack unchanged ([`PrebuiltScanner::take_for`]).
pub fn build_scanner_with(
    config: &RepoConfig,
    config_name: &str,
    fingerprints: IgnoreSet,
    options: &RuleSetOptions,
    prebuilt: PrebuiltScanner,
) -> Result<(Arc<Scanner>, Vec<String>), ConfigError> {
    let suppressions = suppressions(config, config_name, fingerprints)?;
    if let Some(scanner) = prebuilt.take_for(config, options) {
        return Ok((
            Arc::new(scanner.with_suppressions(suppressions)),
            Vec::new(),
        ));
    }
    let (rules, unknown) = assemble_rules(config, config_name, options)?;
    Ok((Arc::new(Scanner::new(rules, suppressions)?), unknown))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fingerprint::IgnoreEntry;

    #[test]
    fn config_rejects_unknown_fields_with_location() {
        let e = RepoConfig::parse(".leakgate.yaml", "disable: [a]\nallowlist: {}\n").unwrap_err();
        let e = crate::exit::chain(&e);
        assert!(
            e.starts_with(".leakgate.yaml:2:1: unknown field `allowlist`"),
            "{e}"
        );
    }

    #[test]
    fn empty_config_is_default() {
        assert_eq!(RepoConfig::parse("c", "\n").unwrap(), RepoConfig::default());
    }

    #[test]
    fn ignore_file_parses_fingerprints_and_reasons() {
        let set = parse_ignore_file(
            "i",
            "# comment\naws-access-key-id:5c1f0a9be3d27f41  # version 1\nr:0123456789ABCDEF0123  # test fixture\n\n",
        )
        .unwrap();
        assert!(set.contains(&IgnoreEntry::Legacy(
            "aws-access-key-id:5c1f0a9be3d27f41".into()
        )));
        assert!(set.contains(&IgnoreEntry::Current("r:0123456789abcdef0123".into())));
        assert_eq!(set.len(), 2);
        let e = parse_ignore_file("i", "\nnot-a-fingerprint\n").unwrap_err();
        let e = crate::exit::chain(&e);
        assert!(e.starts_with("i:2: "), "{e}");
    }

    #[test]
    fn strictest_holds_back_every_widening_of_the_staged_config() {
        let committed =
            RepoConfig::parse("c", "allow:\n  paths: ['^docs/']\ndisable: [a-rule]\n").unwrap();
        let staged = RepoConfig::parse(
            "s",
            "allow:\n  paths: ['.*']\n  values: ['.*']\ndisable: [a-rule, b-rule]\nmax_blob_bytes: 1\non_unscanned: accept\n",
        )
        .unwrap();
        let (merged, held) = strictest(&committed, &staged);
        assert!(merged.allow.paths.is_empty(), "{merged:?}");
        assert!(merged.allow.values.is_empty());
        assert_eq!(merged.disable, vec!["a-rule".to_string()]);
        assert_eq!(merged.max_blob_bytes(), DEFAULT_MAX_BLOB_BYTES);
        assert_eq!(merged.on_unscanned, OnUnscanned::Reject);
        assert_eq!(held.len(), 5, "{held:?}");
        // A staged config that only tightens holds nothing back, and the tightening applies.
        let (tight, held) = strictest(&staged, &RepoConfig::default());
        assert!(held.is_empty(), "{held:?}");
        assert!(tight.allow.paths.is_empty() && tight.disable.is_empty());
        assert_eq!(tight.on_unscanned, OnUnscanned::Reject);
    }

    #[test]
    fn disable_and_no_builtin() {
        let rule = "rules:\n  - id: my-token\n    description: mine\n    regex: 'myt_[a-z]{10}'\n    keywords: [myt_]\n";
        let config = RepoConfig::parse("c", rule).unwrap();
        let only_mine = RuleSetOptions {
            no_builtin: true,
            ..Default::default()
        };
        let (rules, _) = assemble_rules(&config, "c", &only_mine).unwrap();
        assert_eq!(rules.len(), 1);
        let (all, _) = assemble_rules(&config, "c", &RuleSetOptions::default()).unwrap();
        assert!(all.len() > 1);
        let first = all[0].id().to_string();
        let disabling =
            RepoConfig::parse("c", &format!("disable: [{first}, no-such-rule]\n")).unwrap();
        let (fewer, unknown) = assemble_rules(&disabling, "c", &RuleSetOptions::default()).unwrap();
        assert_eq!(fewer.len(), all.len() - 2);
        assert_eq!(unknown, vec!["no-such-rule".to_string()]);
    }

    #[test]
    fn init_template_holds_every_setting_at_its_default() {
        let mut parsed = RepoConfig::parse("template", CONFIG_TEMPLATE).unwrap();
        assert_eq!(parsed.max_blob_bytes(), DEFAULT_MAX_BLOB_BYTES);
        parsed.max_blob_bytes = None;
        assert_eq!(parsed, RepoConfig::default());
        for key in [
            "rules:",
            "remediation:",
            "disable:",
            "allow:",
            "max_blob_bytes:",
            "on_unscanned: reject",
            "block_at: medium",
        ] {
            assert!(CONFIG_TEMPLATE.contains(key), "{key}");
        }
    }
}

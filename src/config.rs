//! Repository configuration (`.leakgate.yaml`), the ignore file (`.leakgateignore`), and how they
//! combine with the embedded pack into a [`Scanner`].

use std::collections::HashSet;
use std::path::Path;
use std::sync::Arc;

use serde::Deserialize;

use crate::builtin;
use crate::outcome::OnUnscanned;
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
    /// A rule-related error (YAML with file:line:column, or a bad rule).
    #[error(transparent)]
    Rules(#[from] RuleError),
    /// The file could not be read.
    #[error("{file}: cannot read: {message}")]
    Io {
        /// The file.
        file: String,
        /// What went wrong.
        message: String,
    },
    /// A value is wrong (bad allow regex, malformed ignore line).
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
}

impl RepoConfig {
    /// Parses a config's text; `name` is used in errors (file:line:column).
    pub fn parse(name: &str, text: &str) -> Result<Self, ConfigError> {
        if text.trim().is_empty() {
            return Ok(RepoConfig::default());
        }
        yaml_serde::from_str(text).map_err(|e| ConfigError::Rules(yaml_error(name, &e)))
    }

    /// Reads and parses a config file.
    pub fn read(path: &Path) -> Result<Self, ConfigError> {
        let name = path.display().to_string();
        if path.is_dir() {
            return Err(ConfigError::Io {
                file: name,
                message: "is a directory, not a config file".into(),
            });
        }
        let text = std::fs::read_to_string(path).map_err(|e| ConfigError::Io {
            file: name.clone(),
            message: e.to_string(),
        })?;
        Self::parse(&name, &text)
    }

    /// The effective blob size cap.
    pub fn max_blob_bytes(&self) -> u64 {
        self.max_blob_bytes.unwrap_or(DEFAULT_MAX_BLOB_BYTES)
    }
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
pub fn parse_ignore_file(name: &str, text: &str) -> Result<HashSet<String>, ConfigError> {
    let mut set = HashSet::new();
    for (i, line) in text.lines().enumerate() {
        let entry = line.split('#').next().unwrap_or("").trim();
        if entry.is_empty() {
            continue;
        }
        let valid = entry.rsplit_once(':').is_some_and(|(id, hex)| {
            !id.is_empty() && hex.len() == 16 && hex.bytes().all(|b| b.is_ascii_hexdigit())
        });
        if !valid {
            return Err(ConfigError::Invalid {
                file: name.to_string(),
                line: Some(i + 1),
                message: format!(
                    "`{}` is not a fingerprint (expected <rule-id>:<16 hex>)",
                    entry.escape_debug()
                ),
            });
        }
        set.insert(entry.to_ascii_lowercase());
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

/// Compiles the allowlists of a config into suppressions.
pub fn suppressions(
    config: &RepoConfig,
    config_name: &str,
    fingerprints: HashSet<String>,
) -> Result<Suppressions, ConfigError> {
    let compile = |list: &[String], what: &str| -> Result<Vec<regex::bytes::Regex>, ConfigError> {
        list.iter()
            .map(|p| {
                regex::bytes::Regex::new(p).map_err(|e| ConfigError::Invalid {
                    file: config_name.to_string(),
                    line: None,
                    message: format!("allow.{what}: bad regex {p:?}: {e}"),
                })
            })
            .collect()
    };
    Ok(Suppressions {
        values: compile(&config.allow.values, "values")?,
        paths: compile(&config.allow.paths, "paths")?,
        fingerprints,
        ignore_markers: false,
    })
}

/// Builds a scanner from a config and ignore list.
pub fn build_scanner(
    config: &RepoConfig,
    config_name: &str,
    fingerprints: HashSet<String>,
    options: &RuleSetOptions,
) -> Result<(Arc<Scanner>, Vec<String>), ConfigError> {
    let (rules, unknown) = assemble_rules(config, config_name, options)?;
    let suppressions = suppressions(config, config_name, fingerprints)?;
    Ok((Arc::new(Scanner::new(rules, suppressions)?), unknown))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn config_rejects_unknown_fields_with_location() {
        let e = RepoConfig::parse(".leakgate.yaml", "disable: [a]\nallowlist: {}\n")
            .unwrap_err()
            .to_string();
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
            "# comment\naws-access-key-id:5c1f0a9be3d27f41  # test fixture\n\n",
        )
        .unwrap();
        assert!(set.contains("aws-access-key-id:5c1f0a9be3d27f41"));
        let e = parse_ignore_file("i", "\nnot-a-fingerprint\n")
            .unwrap_err()
            .to_string();
        assert!(e.starts_with("i:2: "), "{e}");
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
}

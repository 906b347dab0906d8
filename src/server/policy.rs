//! The server policy (`leakgate-server`): what the admin decides. Pushed content never configures
//! the scan; the policy says whether pushed allow markers and `.leakgateignore` may suppress.

use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::config::{AllowConfig, ConfigError, RepoConfig};
use crate::outcome::OnUnscanned;
use crate::rules::Confidence;
use crate::rules::{RawRule, Remediation};

/// Default location of the policy file.
pub const DEFAULT_POLICY_PATH: &str = "/etc/leakgate/server.yaml";
/// Git config key (in the repository's own config file) naming the policy file.
pub const POLICY_GIT_KEY: &str = "leakgate.config";

/// The policy file that the repository's own config file (`config` in `git_dir`) names under
/// [`POLICY_GIT_KEY`], if any. Only that file is read, without its includes: git's global,
/// system and environment config (`GIT_CONFIG_GLOBAL`, `HOME`, `GIT_CONFIG_SYSTEM`,
/// `GIT_CONFIG_COUNT`...) come from the pusher's environment in local pushes, and an include can
/// name a path under the pusher's `HOME`. A relative value is taken from `git_dir`.
pub fn repository_policy(git_dir: &Path) -> Result<Option<PathBuf>, ConfigError> {
    let file = git_dir.join("config");
    let config =
        match gix::config::File::from_path_no_includes(file.clone(), gix::config::Source::Local) {
            Ok(config) => config,
            Err(_) if !file.exists() => return Ok(None),
            Err(source) => {
                return Err(ConfigError::GitConfig {
                    file: file.display().to_string(),
                    source: Box::new(source),
                })
            }
        };
    Ok(config.string(POLICY_GIT_KEY).map(|value| {
        let path = PathBuf::from(value.to_string());
        if path.is_absolute() {
            path
        } else {
            git_dir.join(path)
        }
    }))
}

/// What pushed content may suppress.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields, default)]
pub struct RepositoryFiles {
    /// Honour `leakgate:allow` (and other tools') markers on pushed lines.
    pub allow_markers: bool,
    /// Honour fingerprints in the pushed `.leakgateignore`.
    pub ignore_file: bool,
}

impl Default for RepositoryFiles {
    fn default() -> Self {
        RepositoryFiles {
            allow_markers: true,
            ignore_file: true,
        }
    }
}

/// What to do when the budget runs out, the scan fails, content is unscanned or the audit line
/// cannot be written: `reject` (the default: fail closed) or `accept` (recorded).
pub use crate::outcome::OnUnscanned as OnFailure;

/// The bypass push option.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields, default)]
pub struct Bypass {
    /// Whether a bypass is possible at all.
    pub enabled: bool,
    /// The push option's name (`git push -o <name>="<reason>"`).
    #[serde(deserialize_with = "option_name")]
    pub push_option: String,
    /// Who may bypass; empty means anyone.
    pub users: Vec<String>,
}

impl Default for Bypass {
    fn default() -> Self {
        Bypass {
            enabled: true,
            push_option: "leakgate.bypass".into(),
            users: Vec::new(),
        }
    }
}

/// The policy file.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct Policy {
    /// Extra rules (the rule schema of `patterns/`).
    pub rules: Vec<RawRule>,
    /// Remediation shown for the extra rules.
    pub remediation: Option<Remediation>,
    /// Builtin rule ids to turn off.
    pub disable: Vec<String>,
    /// Path and value allowlists.
    #[serde(deserialize_with = "allowlists")]
    pub allow: AllowConfig,
    /// What pushed content may suppress.
    pub repository_files: RepositoryFiles,
    /// The whole hook's budget.
    #[serde(deserialize_with = "positive")]
    pub time_budget_ms: u64,
    /// When the budget runs out.
    pub on_timeout: OnFailure,
    /// When the scan fails (missing or corrupt objects, unreadable repository).
    pub on_error: OnFailure,
    /// Cap on one blob's size (a guard: bigger blobs are scanned up to the cap where they can
    /// be streamed, and follow `on_unscanned`).
    #[serde(deserialize_with = "positive")]
    pub max_blob_bytes: u64,
    /// When content could not be scanned whole (a blob over the cap).
    pub on_unscanned: OnUnscanned,
    /// The lowest confidence that rejects (default `medium`); findings below it are warnings,
    /// shown to the pusher and recorded.
    pub block_at: Confidence,
    /// The bypass push option.
    pub bypass: Bypass,
    /// The JSON Lines audit log.
    #[serde(deserialize_with = "path")]
    pub audit_log: PathBuf,
    /// When the audit line cannot be written.
    pub on_audit_failure: OnFailure,
    /// The HMAC key for audit fingerprints (created on first use when absent).
    #[serde(deserialize_with = "path")]
    pub fingerprint_key_file: PathBuf,
    /// The environment variable the hosting software sets to the authenticated pusher
    /// (`GL_USERNAME` on GitLab, `GITEA_PUSHER_NAME` on Gitea/Forgejo, `GITHUB_USER_LOGIN` on
    /// GitHub Enterprise, `REMOTE_USER` behind `git http-backend`). Only this variable names the
    /// pusher for `bypass.users`; unset, the pusher is the OS user the hook runs as.
    pub pusher_variable: Option<String>,
    /// Colour in the pusher's `remote:` lines.
    pub color: bool,
}

/// A number that must be more than 0.
fn positive<'de, D: serde::Deserializer<'de>>(d: D) -> Result<u64, D::Error> {
    let n = u64::deserialize(d)?;
    if n == 0 {
        return Err(serde::de::Error::custom("must be more than 0"));
    }
    Ok(n)
}

/// A string scalar checked while it is read, so that an error points at its line and column.
struct CheckedStr<T> {
    check: fn(&str) -> Result<T, String>,
    expecting: &'static str,
}

impl<T> serde::de::Visitor<'_> for CheckedStr<T> {
    type Value = T;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.expecting)
    }

    fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<T, E> {
        (self.check)(v).map_err(E::custom)
    }
}

/// A path that must not be empty, and must be absolute: the hook runs inside the repository, so
/// a relative audit log or key would land in it (and a bare repository may be served as files,
/// over dumb HTTP).
fn path<'de, D: serde::Deserializer<'de>>(d: D) -> Result<PathBuf, D::Error> {
    d.deserialize_str(CheckedStr {
        check: |p| {
            if p.is_empty() {
                return Err("must not be empty".into());
            }
            if !Path::new(p).is_absolute() {
                return Err(format!(
                    "must be an absolute path, not {p:?}: a relative one would land inside the repository, which may be served as files"
                ));
            }
            Ok(PathBuf::from(p))
        },
        expecting: "an absolute path",
    })
}

/// The policy's allowlists, as written: every entry is checked where it stands.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PolicyAllow {
    #[serde(default)]
    paths: Vec<AllowEntry>,
    #[serde(default)]
    values: Vec<AllowEntry>,
}

/// One allowlist entry: a regex that cannot match the empty string (one that can matches every
/// path or value, so it would switch the scan off).
struct AllowEntry(String);

impl<'de> Deserialize<'de> for AllowEntry {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_str(CheckedStr {
            check: |pattern| {
                let problem = if pattern.is_empty() {
                    "is empty".to_string()
                } else {
                    match regex::bytes::Regex::new(pattern) {
                        Err(e) => format!("is not a regex: {e}"),
                        Ok(re) if re.is_match(b"") => "matches the empty string".to_string(),
                        Ok(_) => return Ok(AllowEntry(pattern.to_string())),
                    }
                };
                Err(format!(
                    "the allow entry {pattern:?} {problem}, so it would allow everything: an entry must match something specific"
                ))
            },
            expecting: "a regex",
        })
    }
}

/// The allowlists, each entry checked ([`AllowEntry`]).
fn allowlists<'de, D: serde::Deserializer<'de>>(d: D) -> Result<AllowConfig, D::Error> {
    let allow = PolicyAllow::deserialize(d)?;
    let strings = |list: Vec<AllowEntry>| list.into_iter().map(|e| e.0).collect();
    Ok(AllowConfig {
        paths: strings(allow.paths),
        values: strings(allow.values),
    })
}

/// A push option name: not empty, no `=`, no whitespace.
fn option_name<'de, D: serde::Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    d.deserialize_str(CheckedStr {
        check: |name| {
            if name.is_empty() || name.contains('=') || name.chars().any(char::is_whitespace) {
                return Err(
                    "must be a push option name: not empty, without `=` or spaces".to_string(),
                );
            }
            Ok(name.to_string())
        },
        expecting: "a push option name",
    })
}

/// Every default in one place; an empty or partial policy file takes the missing ones from here
/// (`#[serde(default)]` on the struct). Fail closed: every `on_*` rejects.
impl Default for Policy {
    fn default() -> Self {
        Policy {
            rules: Vec::new(),
            remediation: None,
            disable: Vec::new(),
            allow: AllowConfig::default(),
            repository_files: RepositoryFiles::default(),
            // GitHub Enterprise gives all pre-receive hooks 5 s together.
            time_budget_ms: 4000,
            on_timeout: OnFailure::Reject,
            on_error: OnFailure::Reject,
            max_blob_bytes: crate::config::DEFAULT_MAX_BLOB_BYTES,
            on_unscanned: OnUnscanned::Reject,
            block_at: Confidence::default(),
            on_audit_failure: OnFailure::Reject,
            pusher_variable: None,
            bypass: Bypass::default(),
            audit_log: PathBuf::from("/var/log/leakgate/audit.jsonl"),
            fingerprint_key_file: PathBuf::from("/etc/leakgate/fingerprint.key"),
            color: false,
        }
    }
}

impl Policy {
    /// Parses a policy; errors carry `file:line:column`.
    pub fn parse(name: &str, text: &str) -> Result<Policy, ConfigError> {
        crate::config::parse_settings(name, text)
    }

    /// Reads a policy file.
    pub fn read(path: &Path) -> Result<Policy, ConfigError> {
        crate::config::read_settings(path)
    }

    /// The part of the policy that configures the scanner, in the repository-config shape.
    pub fn as_scan_config(&self) -> RepoConfig {
        RepoConfig {
            rules: self.rules.clone(),
            remediation: self.remediation.clone(),
            disable: self.disable.clone(),
            allow: self.allow.clone(),
            max_blob_bytes: Some(self.max_blob_bytes),
            on_unscanned: self.on_unscanned,
            block_at: self.block_at,
        }
    }
}

/// Where the policy came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PolicySource {
    /// A file (by flag, environment, git config or the default path).
    File(PathBuf),
    /// Built-in defaults.
    Defaults,
}

/// Finds the policy: `--config` (written into the hook by `leakgate-server install --config`),
/// the repository's `leakgate.config` (from its own config file only: [`repository_policy`]),
/// `/etc/leakgate/server.yaml`, else defaults. A named file
/// that is missing is an error. The pusher's environment never chooses the policy: git passes
/// the client's environment to the hook in local pushes, and so can ssh (`AcceptEnv`) and CI.
pub fn locate(flag: Option<&Path>, repo_config_value: Option<PathBuf>) -> PolicySource {
    if let Some(path) = flag {
        return PolicySource::File(path.to_path_buf());
    }
    if let Some(path) = repo_config_value {
        return PolicySource::File(path);
    }
    let default = Path::new(DEFAULT_POLICY_PATH);
    if default.exists() {
        return PolicySource::File(default.to_path_buf());
    }
    PolicySource::Defaults
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_empty_policy_file_takes_every_default() {
        assert_eq!(Policy::parse("p.yaml", "{}").unwrap(), Policy::default());
        assert_eq!(Policy::parse("p.yaml", "\n").unwrap(), Policy::default());
        let partial = Policy::parse("p.yaml", "bypass: {users: [ana]}\n").unwrap();
        assert_eq!(partial.bypass.push_option, "leakgate.bypass");
        assert!(partial.bypass.enabled && partial.repository_files.allow_markers);
    }

    #[test]
    fn defaults_are_fail_closed() {
        let p = Policy::default();
        assert_eq!(p.time_budget_ms, 4000);
        assert_eq!(p.on_timeout, OnFailure::Reject);
        assert_eq!(p.on_error, OnFailure::Reject);
        assert!(p.bypass.enabled);
        assert_eq!(p.bypass.push_option, "leakgate.bypass");
        assert!(p.repository_files.allow_markers);
    }

    #[test]
    fn values_that_cannot_work_are_rejected_with_location() {
        for text in [
            "audit_log: ''\n",
            "color: false\ntime_budget_ms: 0\n",
            "max_blob_bytes: 0\n",
            "bypass:\n  push_option: ''\n",
            "bypass:\n  push_option: 'a=b'\n",
            "fingerprint_key_file: ''\n",
            "audit_log: audit.jsonl\n",
            "fingerprint_key_file: keys/fingerprint.key\n",
            "allow:\n  values: ['']\n",
            "allow:\n  values: ['EXAMPLE', '.*']\n",
            "allow:\n  paths: ['^vendor/|']\n",
            "allow:\n  paths: ['(?:docs/)?']\n",
        ] {
            let e = Policy::parse("p.yaml", text).unwrap_err();
            let e = crate::exit::chain(&e);
            assert!(
                e.starts_with("p.yaml:") && e.contains("must"),
                "{text:?}: {e}"
            );
        }
    }

    #[test]
    fn the_repository_policy_comes_from_its_own_config_file_only() {
        let dir = std::env::temp_dir().join(format!("leakgate-repo-config-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        assert_eq!(repository_policy(&dir).unwrap(), None);
        std::fs::write(dir.join("other"), "[leakgate]\n\tconfig = /evil.yaml\n").unwrap();
        std::fs::write(
            dir.join("config"),
            "[core]\n\tbare = true\n[include]\n\tpath = other\n",
        )
        .unwrap();
        assert_eq!(
            repository_policy(&dir).unwrap(),
            None,
            "an include was followed"
        );
        std::fs::write(
            dir.join("config"),
            "[leakgate]\n\tconfig = /etc/leakgate/repo.yaml\n[include]\n\tpath = other\n",
        )
        .unwrap();
        assert_eq!(
            repository_policy(&dir).unwrap(),
            Some(PathBuf::from("/etc/leakgate/repo.yaml"))
        );
        std::fs::write(dir.join("config"), "[leakgate]\n\tconfig = policy.yaml\n").unwrap();
        assert_eq!(
            repository_policy(&dir).unwrap(),
            Some(dir.join("policy.yaml"))
        );
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn checked_values_point_at_their_own_line_and_column() {
        for (text, at) in [
            ("color: false\naudit_log: audit.jsonl\n", "p.yaml:2:12: "),
            (
                "allow:\n  paths: ['^a/']\n  values:\n    - x\n    - '.*'\n",
                "p.yaml:5:7: ",
            ),
            ("bypass:\n  push_option: 'a b'\n", "p.yaml:2:16: "),
        ] {
            let e = Policy::parse("p.yaml", text).unwrap_err();
            let e = crate::exit::chain(&e);
            assert!(e.starts_with(at), "{text:?}: {e}");
        }
    }

    #[test]
    fn unknown_fields_are_rejected_with_location() {
        let e = Policy::parse(
            "server.yaml",
            "time_budget_ms: 10\nbypass:\n  enable: false\n",
        )
        .unwrap_err();
        let e = crate::exit::chain(&e);
        assert!(
            e.starts_with("server.yaml:3:3: ") && e.contains("unknown field `enable`"),
            "{e}"
        );
    }
}

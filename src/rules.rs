//! Rule files: the YAML schema, loading with `file:line:column` errors, validation, and merging.
//!
//! A rule file (`patterns/<provider>.yaml`, or the `rules:` of a config) is parsed into [`RuleFile`]
//! (the raw, deserialized form), then checked into [`Rule`]s (validated: id, regex syntax, keywords,
//! group), which the scanner compiles. Unknown fields are rejected at every level.

use std::collections::HashMap;
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

pub use crate::schema::{Confidence, GroupRef, RawRule, Remediation, RuleFile, Severity};

/// Provider data shared by all rules of one file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Provider {
    /// Display name.
    pub name: String,
    /// Revoke / rotate / docs.
    pub remediation: Remediation,
    /// Where the rules came from (file name, or "builtin:aws.yaml").
    pub origin: String,
}

/// A validated rule, ready to be compiled by the scanner.
#[derive(Debug, Clone)]
pub struct Rule {
    /// The raw rule as written.
    pub raw: RawRule,
    /// Its provider.
    pub provider: Arc<Provider>,
    /// Whether it comes from the embedded pack.
    pub builtin: bool,
}

impl Rule {
    /// The rule id.
    pub fn id(&self) -> &str {
        &self.raw.id
    }
}

/// Where a rule-loading error happened.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceLocation {
    /// File (or embedded name).
    pub file: String,
    /// 1-based line, when known.
    pub line: Option<usize>,
    /// 1-based column, when known.
    pub column: Option<usize>,
}

impl fmt::Display for SourceLocation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.file)?;
        if let Some(line) = self.line {
            write!(f, ":{line}")?;
            if let Some(column) = self.column {
                write!(f, ":{column}")?;
            }
        }
        Ok(())
    }
}

/// Errors from reading, parsing and validating rule files.
#[derive(Debug, thiserror::Error)]
pub enum RuleError {
    /// The file could not be read.
    #[error("{file}: cannot read")]
    Io {
        /// The file.
        file: String,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// The YAML did not parse or did not fit the schema.
    #[error("{at}: {message}")]
    Yaml {
        /// `file:line:column`.
        at: SourceLocation,
        /// What the parser said (without its own "at line X column Y", which `at` holds).
        message: String,
    },
    /// A rule file names no provider.
    #[error("{at}: `provider` must not be empty")]
    EmptyProvider {
        /// The file.
        at: SourceLocation,
    },
    /// The pack precompiled into the binary by `build.rs` does not parse (a build fault).
    #[error("builtin pack: the precompiled pack does not parse")]
    BuiltinPack {
        /// What the JSON parser said.
        #[source]
        source: serde_json::Error,
    },
    /// The binary was built without `patterns/`.
    #[error(
        "builtin pack: the embedded pattern pack is empty: the binary was built without patterns/"
    )]
    EmptyPack,
    /// The YAML parsed but a rule is wrong.
    #[error("{at}: rule `{rule}`")]
    Invalid {
        /// `file:line` of the rule when found.
        at: SourceLocation,
        /// The rule id.
        rule: String,
        /// What is wrong.
        #[source]
        problem: Box<RuleProblem>,
    },
}

/// What is wrong with one rule (the cause of [`RuleError::Invalid`]).
#[derive(Debug, thiserror::Error)]
pub enum RuleProblem {
    /// The id is empty or not `[a-z0-9-]`.
    #[error("id must be non-empty lowercase [a-z0-9-]")]
    BadId,
    /// The description is empty.
    #[error("description must not be empty")]
    EmptyDescription,
    /// The rule has no keyword.
    #[error("at least one keyword is required (the prefilter selects rules by keyword)")]
    NoKeywords,
    /// A keyword is shorter than 3 bytes.
    #[error("keyword {0:?} is shorter than 3 bytes")]
    ShortKeyword(String),
    /// A keyword is not ASCII.
    #[error("keyword {0:?} is not ASCII")]
    NonAsciiKeyword(String),
    /// The regex does not parse.
    #[error("bad regex")]
    BadRegex(#[source] Box<regex_syntax::Error>),
    /// `secret_group` is a number past the regex's groups.
    #[error("secret_group {index} but the regex has {count} groups")]
    GroupOutOfRange {
        /// The group asked for.
        index: usize,
        /// The regex's explicit groups.
        count: usize,
    },
    /// `secret_group` names no group of the regex.
    #[error("secret_group {0:?} is not a group of the regex")]
    UnknownGroup(String),
    /// `min_entropy` is outside 0..=8 bits per byte.
    #[error("min_entropy {0} is outside 0..=8")]
    EntropyOutOfRange(f64),
    /// An `allow` or `demote_when` regex does not parse.
    #[error("bad {list} regex {pattern:?}")]
    BadListRegex {
        /// `allow` or `demote_when`.
        list: &'static str,
        /// The regex as written.
        pattern: String,
        /// What the parser said.
        #[source]
        source: Box<regex_syntax::Error>,
    },
    /// Another rule has the same id.
    #[error("duplicate rule id (also defined in {first})")]
    DuplicateId {
        /// Where the first rule with this id comes from.
        first: String,
    },
}

/// Largest compiled regex a rule may produce (bytes).
pub const REGEX_SIZE_LIMIT: usize = 8 * 1024 * 1024;

/// Parses one rule file's text. `name` is used in error messages.
pub fn parse_rule_file(name: &str, text: &str) -> Result<RuleFile, RuleError> {
    yaml_serde::from_str::<RuleFile>(text).map_err(|e| yaml_error(name, &e))
}

/// Converts a YAML error into a [`RuleError::Yaml`] with `file:line:column`.
pub fn yaml_error(name: &str, error: &yaml_serde::Error) -> RuleError {
    let location = error.location();
    // The parser's message repeats "at line X column Y"; keep only the message part.
    let message = error.to_string();
    let message = match message.find(" at line ") {
        Some(i) => message[..i].to_string(),
        None => message,
    };
    RuleError::Yaml {
        at: SourceLocation {
            file: name.to_string(),
            line: location.as_ref().map(yaml_serde::Location::line),
            column: location.as_ref().map(yaml_serde::Location::column),
        },
        message,
    }
}

/// Reads and parses a rule file from disk.
pub fn read_rule_file(path: &Path) -> Result<RuleFile, RuleError> {
    let name = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|source| RuleError::Io {
        file: name.clone(),
        source,
    })?;
    parse_rule_file(&name, &text)
}

/// Finds the 1-based line where `id: <rule id>` is written, for error messages.
pub fn find_rule_line(text: &str, id: &str) -> Option<usize> {
    text.lines()
        .position(|line| {
            let t = line.trim_start().trim_start_matches("- ").trim_start();
            t.strip_prefix("id:")
                .is_some_and(|rest| rest.trim().trim_matches(|c| c == '\'' || c == '"') == id)
        })
        .map(|i| i + 1)
}

/// Validates a parsed rule file into rules. `text` (the file's source, when available) lets errors
/// point at the rule's line.
pub fn validate_file(
    origin: &str,
    file: RuleFile,
    text: Option<&str>,
    builtin: bool,
) -> Result<Vec<Rule>, RuleError> {
    let invalid = |id: &str, problem: RuleProblem| RuleError::Invalid {
        at: SourceLocation {
            file: origin.to_string(),
            line: text.and_then(|t| find_rule_line(t, id)),
            column: None,
        },
        rule: id.to_string(),
        problem: Box::new(problem),
    };
    if file.provider.trim().is_empty() {
        return Err(RuleError::EmptyProvider {
            at: SourceLocation {
                file: origin.to_string(),
                line: None,
                column: None,
            },
        });
    }
    let provider = Arc::new(Provider {
        name: file.provider.clone(),
        remediation: file.remediation.clone(),
        origin: origin.to_string(),
    });
    let mut rules = Vec::with_capacity(file.rules.len());
    for raw in file.rules {
        check_rule(&raw, !builtin).map_err(|m| invalid(&raw.id, m))?;
        rules.push(Rule {
            raw,
            provider: Arc::clone(&provider),
            builtin,
        });
    }
    Ok(rules)
}

/// Checks one rule's fields; returns what is wrong. The regexes of the embedded pack are proven by
/// the test suite, so `parse_regexes` is off for them (saves start-up time in hooks).
fn check_rule(raw: &RawRule, parse_regexes: bool) -> Result<(), RuleProblem> {
    if raw.id.is_empty()
        || !raw
            .id
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
    {
        return Err(RuleProblem::BadId);
    }
    if raw.description.trim().is_empty() {
        return Err(RuleProblem::EmptyDescription);
    }
    if raw.keywords.is_empty() {
        return Err(RuleProblem::NoKeywords);
    }
    for k in &raw.keywords {
        if k.len() < 3 {
            return Err(RuleProblem::ShortKeyword(k.clone()));
        }
        if !k.is_ascii() {
            return Err(RuleProblem::NonAsciiKeyword(k.clone()));
        }
    }
    if !parse_regexes {
        return Ok(());
    }
    let hir = regex_syntax::ParserBuilder::new()
        .utf8(false)
        .build()
        .parse(&raw.regex)
        .map_err(|e| RuleProblem::BadRegex(Box::new(e)))?;
    let count = hir.properties().explicit_captures_len();
    match &raw.secret_group {
        Some(GroupRef::Index(i)) if *i > count => {
            return Err(RuleProblem::GroupOutOfRange { index: *i, count })
        }
        Some(GroupRef::Name(n)) if !group_names(&raw.regex).any(|g| g == n) => {
            return Err(RuleProblem::UnknownGroup(n.clone()))
        }
        _ => {}
    }
    if let Some(e) = raw.min_entropy {
        if !(0.0..=8.0).contains(&e) {
            return Err(RuleProblem::EntropyOutOfRange(e));
        }
    }
    for (what, list) in [("allow", &raw.allow), ("demote_when", &raw.demote_when)] {
        for a in list {
            regex_syntax::ParserBuilder::new()
                .utf8(false)
                .build()
                .parse(a)
                .map_err(|e| RuleProblem::BadListRegex {
                    list: what,
                    pattern: a.clone(),
                    source: Box::new(e),
                })?;
        }
    }
    Ok(())
}

/// Names of the named groups written in a pattern (`(?P<name>` and `(?<name>`).
fn group_names(pattern: &str) -> impl Iterator<Item = &str> {
    pattern.match_indices("(?").filter_map(move |(i, _)| {
        let rest = &pattern[i + 2..];
        let rest = rest.strip_prefix('P').unwrap_or(rest).strip_prefix('<')?;
        rest.find('>').map(|end| &rest[..end])
    })
}

/// Checks that rule ids are unique across all rules; names both places of a duplicate.
pub fn check_unique_ids(rules: &[Rule]) -> Result<(), RuleError> {
    let mut seen: HashMap<&str, &str> = HashMap::new();
    for rule in rules {
        if let Some(first) = seen.insert(rule.id(), &rule.provider.origin) {
            return Err(RuleError::Invalid {
                at: SourceLocation {
                    file: rule.provider.origin.clone(),
                    line: None,
                    column: None,
                },
                rule: rule.id().to_string(),
                problem: Box::new(RuleProblem::DuplicateId {
                    first: first.to_string(),
                }),
            });
        }
    }
    Ok(())
}

/// Loads rule files from paths (files or directories of `*.yaml`/`*.yml`, sorted).
pub fn load_rule_paths(paths: &[PathBuf]) -> Result<Vec<Rule>, RuleError> {
    let mut rules = Vec::new();
    for path in paths {
        let files = if path.is_dir() {
            let mut v: Vec<PathBuf> = std::fs::read_dir(path)
                .map_err(|source| RuleError::Io {
                    file: path.display().to_string(),
                    source,
                })?
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| matches!(p.extension().and_then(|e| e.to_str()), Some("yaml" | "yml")))
                .collect();
            v.sort();
            v
        } else {
            vec![path.clone()]
        };
        for file in files {
            let name = file.display().to_string();
            let text = std::fs::read_to_string(&file).map_err(|source| RuleError::Io {
                file: name.clone(),
                source,
            })?;
            let parsed = parse_rule_file(&name, &text)?;
            rules.extend(validate_file(&name, parsed, Some(&text), false)?);
        }
    }
    check_unique_ids(&rules)?;
    Ok(rules)
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = "provider: Acme\nremediation:\n  revoke: r\n  rotate: o\n  docs: d\nrules:\n  - id: acme-key\n    description: Acme key\n    regex: '(acme_[a-z]{8})'\n    keywords: [acme_]\n";

    #[test]
    fn parses_a_good_file() {
        let f = parse_rule_file("acme.yaml", GOOD).unwrap();
        let rules = validate_file("acme.yaml", f, Some(GOOD), false).unwrap();
        assert_eq!(rules.len(), 1);
        assert_eq!(rules[0].id(), "acme-key");
    }

    #[test]
    fn bad_yaml_names_file_line_and_column() {
        let text = "provider: Acme\nremediation:\n  revoke: r\n   rotate: [\n";
        let e = parse_rule_file("acme.yaml", text).unwrap_err();
        let e = crate::exit::chain(&e);
        assert!(e.starts_with("acme.yaml:4:"), "{e}");
    }

    #[test]
    fn unknown_field_is_rejected_with_location() {
        let text = GOOD.replace(
            "    keywords: [acme_]\n",
            "    keywords: [acme_]\n    keyword: x\n",
        );
        let e = parse_rule_file("acme.yaml", &text).unwrap_err();
        let e = crate::exit::chain(&e);
        assert!(e.contains("unknown field `keyword`"), "{e}");
        assert!(
            e.starts_with("acme.yaml:7:") || e.starts_with("acme.yaml:11:"),
            "{e}"
        );
    }

    #[test]
    fn bad_regex_names_rule_and_line() {
        let text = GOOD.replace("(acme_[a-z]{8})", "(acme_[a-z");
        let f = parse_rule_file("acme.yaml", &text).unwrap();
        let e = validate_file("acme.yaml", f, Some(&text), false).unwrap_err();
        let e = crate::exit::chain(&e);
        assert!(
            e.starts_with("acme.yaml:7: rule `acme-key`: bad regex"),
            "{e}"
        );
    }

    #[test]
    fn missing_keyword_is_rejected() {
        let text = GOOD.replace("    keywords: [acme_]\n", "");
        let f = parse_rule_file("acme.yaml", &text).unwrap();
        let e = validate_file("acme.yaml", f, Some(&text), false).unwrap_err();
        let e = crate::exit::chain(&e);
        assert!(e.contains("rule `acme-key`: at least one keyword"), "{e}");
    }

    #[test]
    fn secret_group_must_exist() {
        let text = GOOD.replace(
            "    keywords: [acme_]\n",
            "    keywords: [acme_]\n    secret_group: 3\n",
        );
        let f = parse_rule_file("acme.yaml", &text).unwrap();
        let e = validate_file("acme.yaml", f, Some(&text), false).unwrap_err();
        let e = crate::exit::chain(&e);
        assert!(e.contains("secret_group 3"), "{e}");
    }

    #[test]
    fn duplicate_ids_across_files_are_rejected() {
        let f1 = parse_rule_file("a.yaml", GOOD).unwrap();
        let f2 = parse_rule_file("b.yaml", GOOD).unwrap();
        let mut rules = validate_file("a.yaml", f1, None, false).unwrap();
        rules.extend(validate_file("b.yaml", f2, None, false).unwrap());
        let e = check_unique_ids(&rules).unwrap_err();
        let e = crate::exit::chain(&e);
        assert!(
            e.contains("b.yaml: rule `acme-key`: duplicate rule id (also defined in a.yaml)"),
            "{e}"
        );
    }
}

//! SARIF 2.1.0: one result per finding; each rule's metadata carries the provider's remediation as
//! its help text. Values are redacted; fingerprints go in `partialFingerprints`.
//!
//! Every location is a valid URI reference: a path relative to the repository root (uriBaseId
//! `%SRCROOT%`), percent-encoded byte by byte (spaces, `#`, `%`, `:`, newlines, non-UTF-8 names);
//! a path outside the root is relative to `FILESYSTEM` (`file:///`). What is not a file (a commit
//! message, commit or tag header, a blob pushed under a ref) is a logical location.

use std::collections::BTreeMap;
use std::path::{Component, Path, PathBuf};

use serde_json::{json, Value};

use crate::finding::Finding;
use crate::outcome::ScanOutcome;
use crate::rules::Severity;

fn level(severity: Severity) -> &'static str {
    match severity {
        Severity::Critical | Severity::High => "error",
        Severity::Medium => "warning",
        Severity::Low => "note",
    }
}

fn security_severity(severity: Severity) -> &'static str {
    match severity {
        Severity::Critical => "9.5",
        Severity::High => "8.0",
        Severity::Medium => "5.5",
        Severity::Low => "3.0",
    }
}

fn rule_metadata(f: &Finding) -> Value {
    let r = &f.provider.remediation;
    let help = format!(
        "Remove the value from the code and keep it in an environment variable or a secret store. \
         Treat it as compromised if it ever left the machine.\nRevoke: {}\nRotate: {}\nDocs: {}",
        r.revoke.trim(),
        r.rotate.trim(),
        r.docs.trim()
    );
    let mut rule = json!({
        "id": f.rule,
        "name": f.rule,
        "shortDescription": {"text": f.description},
        "fullDescription": {"text": format!("{} ({})", f.description, f.provider.name)},
        "help": {"text": help},
        "defaultConfiguration": {"level": level(f.severity)},
        "properties": {
            "security-severity": security_severity(f.severity),
            "tags": ["security", "secret", f.provider.name],
            "provider": f.provider.name,
        },
    });
    if !r.docs.trim().is_empty() {
        rule["helpUri"] = json!(r.docs.trim());
    }
    rule
}

/// Where the paths of an outcome are relative to.
#[derive(Debug, Clone, Default)]
pub struct SarifOptions {
    /// The repository root (absolute): `%SRCROOT%`. Unknown: URIs stay relative without a base.
    pub root: Option<PathBuf>,
    /// Paths are files on disk as given on the command line (`scan PATH`), relative to `cwd`
    /// (or absolute), rather than paths inside the repository.
    pub files_from: Option<PathBuf>,
}

/// The base id of paths inside the repository.
pub const SRCROOT: &str = "%SRCROOT%";
/// The base id of absolute paths outside the repository.
pub const FILESYSTEM: &str = "FILESYSTEM";

/// Percent-encodes `bytes` for a URI path: everything but unreserved characters and `/`.
pub fn percent_encode_path(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len());
    for &b in bytes {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~' | b'/') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// `path` with `.` and `..` resolved lexically.
fn normalize(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in path.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir => {
                out.pop();
            }
            other => out.push(other.as_os_str()),
        }
    }
    out
}

/// A `file:` URI of a directory (ends with `/`).
fn directory_uri(dir: &Path) -> String {
    use std::os::unix::ffi::OsStrExt as _;
    let mut uri = format!("file://{}", percent_encode_path(dir.as_os_str().as_bytes()));
    if !uri.ends_with('/') {
        uri.push('/');
    }
    uri
}

/// Whether a finding's path names something that is not a file: a commit message or header, a
/// tag's header or message, a blob pushed under a ref.
fn is_logical(path: &[u8]) -> bool {
    let text = String::from_utf8_lossy(path);
    (text.starts_with('(') && text.ends_with(')'))
        || (text.ends_with(')') && text.contains(" (blob "))
}

/// The SARIF location of a finding.
fn location(f: &Finding, options: &SarifOptions) -> Value {
    use std::os::unix::ffi::OsStrExt as _;
    if options.files_from.is_none() && is_logical(&f.path) {
        let name = String::from_utf8_lossy(&f.path).into_owned();
        let qualified = match &f.commit {
            Some(c) => format!("{c}/{name}"),
            None => name.clone(),
        };
        return json!({
            "logicalLocations": [{
                "name": name,
                "fullyQualifiedName": qualified,
                "kind": "resource",
            }],
            "message": {"text": format!("line {}, column {}", f.line, f.column)},
        });
    }
    let region = json!({"startLine": f.line, "startColumn": f.column});
    let (uri, base) = match &options.files_from {
        Some(cwd) => {
            let given = Path::new(std::ffi::OsStr::from_bytes(&f.path));
            let absolute = normalize(&cwd.join(given));
            match options
                .root
                .as_deref()
                .and_then(|root| absolute.strip_prefix(root).ok())
            {
                Some(rel) => (percent_encode_path(rel.as_os_str().as_bytes()), SRCROOT),
                None => {
                    let rel = absolute.strip_prefix("/").unwrap_or(&absolute);
                    (percent_encode_path(rel.as_os_str().as_bytes()), FILESYSTEM)
                }
            }
        }
        None => {
            let trimmed = f.path.strip_prefix(b"/").unwrap_or(&f.path);
            (percent_encode_path(trimmed), SRCROOT)
        }
    };
    let mut artifact = json!({ "uri": uri });
    if options.root.is_some() || base == FILESYSTEM {
        artifact["uriBaseId"] = json!(base);
    }
    json!({"physicalLocation": {"artifactLocation": artifact, "region": region}})
}

/// Renders the outcome as a SARIF 2.1.0 log (newline-terminated), paths taken as relative to an
/// unknown repository root.
pub fn render(outcome: &ScanOutcome) -> String {
    render_with(outcome, &SarifOptions::default())
}

/// Renders the outcome as a SARIF 2.1.0 log (newline-terminated).
pub fn render_with(outcome: &ScanOutcome, options: &SarifOptions) -> String {
    let all = || outcome.findings.iter().chain(&outcome.warnings);
    crate::finding::prepare_fingerprints(all());
    let mut rules: BTreeMap<&str, (usize, Value)> = BTreeMap::new();
    for f in all() {
        let next = rules.len();
        rules
            .entry(&f.rule)
            .or_insert_with(|| (next, rule_metadata(f)));
    }
    let mut ordered: Vec<(usize, Value)> = rules.values().cloned().collect();
    ordered.sort_by_key(|(i, _)| *i);
    let blocking = outcome.findings.iter().map(|f| (f, true));
    let warned = outcome.warnings.iter().map(|f| (f, false));
    let results: Vec<Value> = blocking
        .chain(warned)
        .map(|(f, blocks)| {
            let index = rules.get(f.rule.as_str()).map_or(0, |(i, _)| *i);
            // A warning (below `block_at`) is a note: shown, not failing a code-scanning check.
            let level = if blocks { level(f.severity) } else { "note" };
            let mut result = json!({
                "ruleId": f.rule,
                "ruleIndex": index,
                "level": level,
                "message": {"text": format!("{} ({}) found: {}", f.description, f.provider.name, f.secret.redacted())},
                "locations": [location(f, options)],
                "partialFingerprints": {"leakgate/v2": f.fingerprint()},
            });
            result["properties"] = json!({"confidence": f.confidence.as_str()});
            if let Some(commit) = &f.commit {
                result["properties"]["commit"] = json!(commit);
            }
            result
        })
        .collect();
    let notifications: Vec<Value> = outcome
        .skipped
        .iter()
        .map(|s| {
            json!({
                "level": if s.reason.is_error() { "error" } else { "note" },
                "message": {"text": format!("not scanned: {}: {}", String::from_utf8_lossy(&s.path), s.reason.describe())},
            })
        })
        .collect();
    let mut bases = serde_json::Map::new();
    if let Some(root) = &options.root {
        bases.insert(SRCROOT.into(), json!({"uri": directory_uri(root)}));
    }
    if options.files_from.is_some() {
        bases.insert(FILESYSTEM.into(), json!({"uri": "file:///"}));
    }
    let mut log = log(
        ordered.into_iter().map(|(_, v)| v).collect(),
        !outcome.is_incomplete(),
        notifications,
        results,
    );
    if !bases.is_empty() {
        log["runs"][0]["originalUriBaseIds"] = Value::Object(bases);
    }
    let mut text = serde_json::to_string(&log).unwrap_or_else(|_| "{}".into());
    text.push('\n');
    text
}

/// A SARIF 2.1.0 log of one leakgate run: the tool with its rules, whether the run could read
/// everything (with its notifications), and the results (scan and audit reports share it).
pub fn log(
    rules: Vec<Value>,
    successful: bool,
    notifications: Vec<Value>,
    results: Vec<Value>,
) -> Value {
    json!({
        "version": "2.1.0",
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "runs": [{
            "tool": {"driver": {
                "name": "leakgate",
                "version": env!("CARGO_PKG_VERSION"),
                "informationUri": "https://github.com/leakgate/leakgate",
                "rules": rules,
            }},
            "invocations": [{
                "executionSuccessful": successful,
                "toolExecutionNotifications": notifications,
            }],
            "results": results,
        }]
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodes_what_a_uri_cannot_hold() {
        assert_eq!(percent_encode_path(b"a b/c#d%e"), "a%20b/c%23d%25e");
        assert_eq!(percent_encode_path(b"new\nline:x"), "new%0Aline%3Ax");
        assert_eq!(percent_encode_path(b"caf\xc3\xa9/\xff"), "caf%C3%A9/%FF");
    }

    #[test]
    fn messages_and_pushed_blobs_are_not_files() {
        assert!(is_logical(b"(commit message)"));
        assert!(is_logical(b"(tag header refs/tags/v1)"));
        assert!(is_logical(b"refs/tags/k (blob 0123abcd)"));
        assert!(!is_logical(b"src/(x).rs"));
    }

    #[test]
    fn files_are_relative_to_the_root_or_the_filesystem() {
        assert_eq!(normalize(Path::new("/a/./b/../c")), PathBuf::from("/a/c"));
        assert_eq!(directory_uri(Path::new("/r o")), "file:///r%20o/");
    }
}

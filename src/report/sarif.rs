//! SARIF 2.1.0: one result per finding; each rule's metadata carries the provider's remediation as
//! its help text. Values are redacted; fingerprints go in `partialFingerprints`.

use std::collections::BTreeMap;

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
    json!({
        "id": f.rule,
        "name": f.rule,
        "shortDescription": {"text": f.description},
        "fullDescription": {"text": format!("{} ({})", f.description, f.provider.name)},
        "help": {"text": help},
        "helpUri": if r.docs.trim().is_empty() { Value::Null } else { json!(r.docs.trim()) },
        "defaultConfiguration": {"level": level(f.severity)},
        "properties": {
            "security-severity": security_severity(f.severity),
            "tags": ["security", "secret", f.provider.name],
            "provider": f.provider.name,
        },
    })
}

/// Renders the outcome as a SARIF 2.1.0 log (newline-terminated).
pub fn render(outcome: &ScanOutcome) -> String {
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
                "locations": [{
                    "physicalLocation": {
                        "artifactLocation": {"uri": String::from_utf8_lossy(&f.path)},
                        "region": {"startLine": f.line, "startColumn": f.column},
                    }
                }],
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
    let log = json!({
        "version": "2.1.0",
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "runs": [{
            "tool": {"driver": {
                "name": "leakgate",
                "version": env!("CARGO_PKG_VERSION"),
                "rules": ordered.into_iter().map(|(_, v)| v).collect::<Vec<_>>(),
            }},
            "invocations": [{
                "executionSuccessful": !outcome.is_incomplete(),
                "toolExecutionNotifications": notifications,
            }],
            "results": results,
        }]
    });
    let mut text = serde_json::to_string(&log).unwrap_or_else(|_| "{}".into());
    text.push('\n');
    text
}

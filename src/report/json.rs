//! The JSON report, version 1: its contract is the JSON Schema `docs/scan-report.schema.json`
//! (the tests validate every report against it). Findings carry redacted values and fingerprints
//! only.

use serde::Serialize;

use crate::outcome::ScanOutcome;

#[derive(Serialize)]
struct JsonReport<'a> {
    version: u32,
    findings: Vec<JsonFinding<'a>>,
    warnings: Vec<JsonFinding<'a>>,
    skipped: Vec<JsonSkipped>,
    scanned: JsonScanned,
}

#[derive(Serialize)]
struct JsonFinding<'a> {
    rule: &'a str,
    description: &'a str,
    provider: &'a str,
    path: String,
    line: usize,
    column: usize,
    commit: Option<&'a str>,
    secret: String,
    fingerprint: &'a str,
    severity: &'static str,
    confidence: &'static str,
}

#[derive(Serialize)]
struct JsonSkipped {
    path: String,
    reason: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    detail: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    commit: Option<String>,
}

#[derive(Serialize)]
struct JsonScanned {
    blobs: u64,
    bytes: u64,
}

/// Renders the outcome as the version-1 JSON document (one line, newline-terminated).
pub fn render(outcome: &ScanOutcome) -> String {
    crate::finding::prepare_fingerprints(outcome.findings.iter().chain(&outcome.warnings));
    let report = JsonReport {
        version: 1,
        findings: outcome.findings.iter().map(json_finding).collect(),
        warnings: outcome.warnings.iter().map(json_finding).collect(),
        skipped: outcome
            .skipped
            .iter()
            .map(|s| JsonSkipped {
                path: String::from_utf8_lossy(&s.path).into_owned(),
                reason: s.reason.code(),
                detail: Some(s.reason.describe()),
                commit: s.commit.clone(),
            })
            .collect(),
        scanned: JsonScanned {
            blobs: outcome.blobs,
            bytes: outcome.bytes,
        },
    };
    let mut text = serde_json::to_string(&report)
        .unwrap_or_else(|e| format!("{{\"version\":1,\"error\":{:?}}}", e.to_string()));
    text.push('\n');
    text
}

/// One finding (or warning) of the report.
fn json_finding(f: &crate::finding::Finding) -> JsonFinding<'_> {
    JsonFinding {
        rule: &f.rule,
        description: &f.description,
        provider: &f.provider.name,
        path: String::from_utf8_lossy(&f.path).into_owned(),
        line: f.line,
        column: f.column,
        commit: f.commit.as_deref(),
        secret: f.secret.redacted(),
        fingerprint: f.fingerprint(),
        severity: f.severity.as_str(),
        confidence: f.confidence.as_str(),
    }
}

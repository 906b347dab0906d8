//! The output contracts as JSON Schema files under `docs/`, and the checks every test report
//! goes through: `leakgate scan --format json` against `docs/scan-report.schema.json`,
//! `leakgate audit --format json` against `docs/audit-report.schema.json`, and every SARIF log
//! against the SARIF 2.1.0 schema (`docs/sarif-2.1.0-rtm.5.json`, vendored from
//! `@microsoft/jest-sarif`) and leakgate's profile of it (`docs/sarif-report.schema.json`).
//! [`super::Ran::json`] calls [`check_report`] on every document it parses.

use std::path::Path;
use std::sync::OnceLock;

use serde_json::Value;

/// One of the output schemas.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Schema {
    /// `docs/scan-report.schema.json`.
    ScanReport,
    /// `docs/audit-report.schema.json`.
    AuditReport,
    /// `docs/sarif-2.1.0-rtm.5.json` (the SARIF 2.1.0 standard).
    Sarif,
    /// `docs/sarif-report.schema.json` (what leakgate puts in a SARIF log).
    SarifProfile,
}

impl Schema {
    /// The file under `docs/`.
    pub fn file(self) -> &'static str {
        match self {
            Schema::ScanReport => "docs/scan-report.schema.json",
            Schema::AuditReport => "docs/audit-report.schema.json",
            Schema::Sarif => "docs/sarif-2.1.0-rtm.5.json",
            Schema::SarifProfile => "docs/sarif-report.schema.json",
        }
    }

    /// The schema document, parsed.
    pub fn document(self) -> Value {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(self.file());
        serde_json::from_slice(&std::fs::read(&path).unwrap())
            .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
    }

    fn validator(self) -> &'static jsonschema::Validator {
        static VALIDATORS: [OnceLock<jsonschema::Validator>; 4] = [const { OnceLock::new() }; 4];
        VALIDATORS[self as usize].get_or_init(|| {
            let mut schema = self.document();
            let options = if self == Schema::Sarif {
                prepare_sarif(&mut schema);
                jsonschema::options().with_draft(jsonschema::Draft::Draft7)
            } else {
                jsonschema::options()
            };
            options
                .should_validate_formats(true)
                .build(&schema)
                .unwrap_or_else(|e| panic!("{}: {e}", self.file()))
        })
    }

    /// What the schema finds wrong with `doc` (empty when valid).
    pub fn violations(self, doc: &Value) -> Vec<String> {
        self.validator()
            .iter_errors(doc)
            .map(|e| format!("{e} at {}", e.instance_path()))
            .collect()
    }

    /// Panics with every violation unless `doc` is valid.
    pub fn assert_valid(self, doc: &Value) {
        let errors = self.violations(doc);
        assert!(
            errors.is_empty(),
            "the document violates {}:\n{}\n{doc:#}",
            self.file(),
            errors.join("\n")
        );
    }
}

/// The vendored SARIF schema as this validator can use it. One flaw of the published schema:
/// its `language` pattern (`^[a-zA-Z]{2}|^[a-zA-Z]{2}-[a-zA-Z]{2}]?$`, a stray `]`) is not a
/// valid ECMA-262 regex, so the meta-schema refuses the schema; the pattern the SARIF spec means
/// ("en" or "en-US") replaces it, in memory (the file stays as published). Draft 4 knows no
/// `uri-reference` format, which the schema uses for every artifact URI: the schema (plain
/// draft-4 keywords, local `$ref`s only) is validated under draft 7, which checks it.
fn prepare_sarif(schema: &mut Value) {
    fn fix_language_pattern(value: &mut Value) {
        match value {
            Value::Object(map) => {
                for (key, child) in map.iter_mut() {
                    if key == "pattern"
                        && child.as_str() == Some("^[a-zA-Z]{2}|^[a-zA-Z]{2}-[a-zA-Z]{2}]?$")
                    {
                        *child = serde_json::json!("^[a-zA-Z]{2}$|^[a-zA-Z]{2}-[a-zA-Z]{2}$");
                    } else {
                        fix_language_pattern(child);
                    }
                }
            }
            Value::Array(items) => items.iter_mut().for_each(fix_language_pattern),
            _ => {}
        }
    }
    fix_language_pattern(schema);
    if let Some(map) = schema.as_object_mut() {
        map.remove("$schema");
    }
}

/// Which schema a report document follows, by its shape: a SARIF log (`version` "2.1.0" and
/// `runs`), an audit report (`kind` "leakgate-audit"), a scan report (`findings` and `scanned`);
/// `None` for any other JSON.
pub fn schema_of(doc: &Value) -> Option<Schema> {
    if doc.get("runs").is_some() && doc["version"] == "2.1.0" {
        Some(Schema::Sarif)
    } else if doc["kind"] == "leakgate-audit" {
        Some(Schema::AuditReport)
    } else if doc.get("findings").is_some() && doc.get("scanned").is_some() {
        Some(Schema::ScanReport)
    } else {
        None
    }
}

/// Validates a report against its schemas (a SARIF log against the standard and the profile);
/// other JSON passes through.
pub fn check_report(doc: &Value) {
    match schema_of(doc) {
        Some(Schema::Sarif) => {
            Schema::Sarif.assert_valid(doc);
            Schema::SarifProfile.assert_valid(doc);
        }
        Some(schema) => schema.assert_valid(doc),
        None => {}
    }
}

/// Parses `bytes` as a SARIF log and validates it against the SARIF 2.1.0 schema (formats
/// `uri`, `uri-reference` and `date-time` included) and leakgate's profile; panics with every
/// violation. Returns the parsed log.
pub fn assert_valid_sarif(bytes: &[u8]) -> Value {
    let log: Value = serde_json::from_slice(bytes).unwrap_or_else(|e| {
        panic!(
            "SARIF output is not JSON: {e}\n{}",
            String::from_utf8_lossy(bytes)
        )
    });
    assert_eq!(
        schema_of(&log),
        Some(Schema::Sarif),
        "not a SARIF log: {log}"
    );
    check_report(&log);
    log
}

/// What the SARIF 2.1.0 schema finds wrong with `log` (empty when valid).
pub fn sarif_violations(log: &Value) -> Vec<String> {
    Schema::Sarif.violations(log)
}

//! Every rule of the embedded pack runs its examples and negative examples through the full
//! scanner (prefilter, regex, secret group, filters), with every other rule loaded beside it.

use leakgate::rules::Rule;
use leakgate::scanner::{Scanner, Suppressions};
use leakgate::selftest::check_examples;

#[test]
fn every_builtin_rule_finds_its_examples_and_not_its_negative_examples() {
    let pack = leakgate::builtin::rules_with_examples().expect("embedded pack loads");
    let scanner = Scanner::new(pack, Suppressions::default()).expect("scanner builds");
    scanner.compile_all().expect("every regex compiles");
    let rules: Vec<&Rule> = scanner.rules().collect();
    let failures = check_examples(&scanner, &rules).expect("scan runs");
    let report: Vec<String> = failures
        .iter()
        .map(|f| format!("{}: {}: {}", f.origin, f.rule, f.message))
        .collect();
    assert!(
        report.is_empty(),
        "{} failures:\n{}",
        report.len(),
        report.join("\n")
    );
}

#[test]
fn every_provider_has_remediation() {
    for rule in leakgate::builtin::rules().expect("pack loads") {
        let r = &rule.provider.remediation;
        assert!(
            !r.revoke.trim().is_empty() && !r.rotate.trim().is_empty() && !r.docs.trim().is_empty(),
            "{}: provider {} lacks revoke/rotate/docs",
            rule.provider.origin,
            rule.provider.name
        );
    }
}

#[test]
fn every_example_contains_one_of_its_keywords() {
    for rule in leakgate::builtin::rules_with_examples().expect("pack loads") {
        for example in &rule.raw.examples {
            let lower = example.to_ascii_lowercase();
            assert!(
                rule.raw
                    .keywords
                    .iter()
                    .any(|k| lower.contains(&k.to_ascii_lowercase())),
                "{}: an example holds none of the keywords",
                rule.id()
            );
        }
    }
}

#[test]
fn every_builtin_rule_states_its_confidence() {
    // `confidence` defaults to medium for a user's own rules; the pack states it for every rule,
    // because it decides what blocks.
    for (name, text) in leakgate::builtin::files() {
        let doc: serde_json::Value = yaml_serde::from_str(text).expect("pack file parses");
        for rule in doc["rules"].as_array().expect("rules list") {
            assert!(
                matches!(rule["confidence"].as_str(), Some("high" | "medium" | "low")),
                "{name}: rule {} states no confidence",
                rule["id"]
            );
        }
    }
}

//! `leakgate rules check FILE` end to end: a rule pack file parsed and validated as a user's file
//! (regexes parsed), compiled into a scanner (prefilter, every regex), and its examples and
//! negative examples run through it. Errors are fine; panics are not, and an error message must
//! point into the file. Slow by nature (regex compilation); `rule_file` fuzzes the parser fast.
#![no_main]

use leakgate::rules::{check_unique_ids, parse_rule_file, validate_file, RuleError};
use leakgate::scanner::{Scanner, Suppressions};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let _ = leakgate::rules::find_rule_line(text, "fuzz-rule");
    let file = match parse_rule_file("fuzz.yaml", text) {
        Ok(file) => file,
        Err(e) => {
            check_location(&e, text);
            return;
        }
    };
    let rules = match validate_file("fuzz.yaml", file, Some(text), false) {
        Ok(rules) => rules,
        Err(e) => {
            check_location(&e, text);
            return;
        }
    };
    if check_unique_ids(&rules).is_err() {
        return;
    }
    let Ok(scanner) = Scanner::new(rules.clone(), Suppressions::default()) else {
        return;
    };
    if scanner.compile_all().is_err() {
        return;
    }
    let refs: Vec<&leakgate::rules::Rule> = rules.iter().collect();
    if let Ok(failures) = leakgate::selftest::check_examples(&scanner, &refs) {
        for f in failures {
            assert!(rules.iter().any(|r| r.id() == f.rule));
        }
    }
});

/// A line named by an error is a line of the file (or one past it, where the YAML ended).
fn check_location(e: &RuleError, text: &str) {
    let at = match e {
        RuleError::Yaml { at, .. }
        | RuleError::Invalid { at, .. }
        | RuleError::EmptyProvider { at } => at,
        other => panic!("a rule file's text gave {other:?}"),
    };
    if let Some(line) = at.line {
        // YAML 1.1 breaks lines at `\n`, `\r\n`, a lone `\r`, NEL, LS and PS alike.
        let lines = text
            .replace("\r\n", "\n")
            .split(['\n', '\r', '\u{85}', '\u{2028}', '\u{2029}'])
            .count();
        assert!(
            line >= 1 && line <= lines + 1,
            "error at line {line} of {lines}"
        );
    }
    let _ = e.to_string();
}

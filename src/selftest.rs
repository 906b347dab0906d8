//! Running rules' `examples` and `negative_examples` through the full scanner (`rules check`, and
//! the test suite for the embedded pack).

use crate::added::AddedText;
use crate::rules::Rule;
use crate::scanner::{ScanError, Scanner};

/// Fewest examples (and negative examples) a rule must carry.
pub const MIN_EXAMPLES: usize = 2;

/// One rule whose examples do not behave.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExampleFailure {
    /// The rule id.
    pub rule: String,
    /// Its file.
    pub origin: String,
    /// What went wrong.
    pub message: String,
}

/// Checks every rule in `rules_to_check` (by id) against `scanner`, which must hold them and may
/// hold others: each example must be found by its rule, no negative example may be reported by it.
pub fn check_examples(
    scanner: &Scanner,
    rules_to_check: &[&Rule],
) -> Result<Vec<ExampleFailure>, ScanError> {
    let mut failures = Vec::new();
    for rule in rules_to_check {
        let raw = &rule.raw;
        let fail = |message: String| ExampleFailure {
            rule: raw.id.clone(),
            origin: rule.provider.origin.clone(),
            message,
        };
        if raw.examples.len() < MIN_EXAMPLES {
            failures.push(fail(format!(
                "has {} examples; at least {MIN_EXAMPLES} are required",
                raw.examples.len()
            )));
        }
        if raw.negative_examples.len() < MIN_EXAMPLES {
            failures.push(fail(format!(
                "has {} negative examples; at least {MIN_EXAMPLES} are required",
                raw.negative_examples.len()
            )));
        }
        for (i, example) in raw.examples.iter().enumerate() {
            let unit = AddedText::whole("example", example.as_bytes().to_vec());
            let found = scanner.scan(&unit)?;
            if !found.iter().any(|f| f.rule == raw.id) {
                let others: Vec<&str> = found.iter().map(|f| f.rule.as_str()).collect();
                failures.push(fail(format!(
                    "example {} is not found{}: {}",
                    i + 1,
                    if others.is_empty() {
                        String::new()
                    } else {
                        format!(" (found by {} instead)", others.join(", "))
                    },
                    preview(example)
                )));
            }
        }
        for (i, negative) in raw.negative_examples.iter().enumerate() {
            let unit = AddedText::whole("negative-example", negative.as_bytes().to_vec());
            if scanner.scan(&unit)?.iter().any(|f| f.rule == raw.id) {
                failures.push(fail(format!(
                    "negative example {} is reported: {}",
                    i + 1,
                    preview(negative)
                )));
            }
        }
    }
    Ok(failures)
}

/// A short one-line preview of an example for messages (examples are synthetic, not secrets).
fn preview(text: &str) -> String {
    let one_line = text.trim().replace('\n', "⏎");
    let mut out: String = one_line.chars().take(100).collect();
    if one_line.chars().count() > 100 {
        out.push('…');
    }
    crate::report::sanitize::sanitize(&out)
}

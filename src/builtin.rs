//! The embedded pattern pack: every `patterns/*.yaml` compiled into the binary by `build.rs`, as
//! YAML text (with examples, for `rules check`) and as precompiled JSON without examples (loaded
//! at start-up, where YAML parsing would cost hooks tens of milliseconds).

use crate::rules::{check_unique_ids, parse_rule_file, validate_file, Rule, RuleError, RuleFile};

#[allow(unreachable_pub)] // the generated file declares `pub static FILES`
mod files {
    include!(concat!(env!("OUT_DIR"), "/builtin_files.rs"));
}

/// The precompiled pack: `[[file name, rule file without examples], ...]`.
static PACK_JSON: &str = include_str!(concat!(env!("OUT_DIR"), "/pack.json"));

/// The embedded rule files: (file name, YAML text), sorted by name.
pub fn files() -> &'static [(&'static str, &'static str)] {
    files::FILES
}

/// The embedded pack as the scanner needs it (no examples): fast to load.
pub fn rules() -> Result<Vec<Rule>, RuleError> {
    let pack: Vec<(String, RuleFile)> =
        serde_json::from_str(PACK_JSON).map_err(|source| RuleError::BuiltinPack { source })?;
    let mut rules = Vec::new();
    for (name, file) in pack {
        let origin = format!("builtin:{name}");
        rules.extend(validate_file(&origin, file, None, true)?);
    }
    if rules.is_empty() {
        return Err(RuleError::EmptyPack);
    }
    check_unique_ids(&rules)?;
    Ok(rules)
}

/// The embedded pack parsed from its YAML, with examples (for `rules check` and tests).
pub fn rules_with_examples() -> Result<Vec<Rule>, RuleError> {
    let mut rules = Vec::new();
    for (name, text) in files() {
        let origin = format!("builtin:{name}");
        let file = parse_rule_file(&origin, text)?;
        rules.extend(validate_file(&origin, file, Some(text), true)?);
    }
    check_unique_ids(&rules)?;
    Ok(rules)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn embedded_pack_equals_the_files_on_disk() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("patterns");
        let mut on_disk: Vec<(String, String)> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
            .map(|p| {
                (
                    p.file_name().unwrap().to_string_lossy().into_owned(),
                    std::fs::read_to_string(&p).unwrap(),
                )
            })
            .collect();
        on_disk.sort();
        let embedded: Vec<(String, String)> = files()
            .iter()
            .map(|(n, t)| (n.to_string(), t.to_string()))
            .collect();
        assert_eq!(embedded.len(), on_disk.len(), "file count differs: rebuild");
        assert_eq!(embedded, on_disk);
        assert!(!embedded.is_empty());
    }

    #[test]
    fn precompiled_pack_equals_the_yaml_without_examples() {
        let fast = rules().unwrap();
        let full = rules_with_examples().unwrap();
        assert_eq!(fast.len(), full.len());
        for (a, b) in fast.iter().zip(&full) {
            let mut b_raw = b.raw.clone();
            b_raw.examples.clear();
            b_raw.negative_examples.clear();
            assert_eq!(a.raw, b_raw);
            assert_eq!(a.provider.remediation, b.provider.remediation);
        }
    }
}

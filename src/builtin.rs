//! The embedded pattern pack: every `patterns/*.yaml` compiled into the binary by `build.rs`.

use crate::rules::{check_unique_ids, parse_rule_file, validate_file, Rule, RuleError};

mod files {
    include!(concat!(env!("OUT_DIR"), "/builtin_files.rs"));
}

/// The embedded rule files: (file name, YAML text), sorted by name.
pub fn files() -> &'static [(&'static str, &'static str)] {
    files::FILES
}

/// Parses and validates the embedded pack.
pub fn rules() -> Result<Vec<Rule>, RuleError> {
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
    fn embedded_pack_loads() {
        let rules = rules().unwrap();
        assert!(!rules.is_empty());
    }
}

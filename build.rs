//! Embeds the pattern pack (`patterns/*.yaml`) into the binary, twice:
//! - `builtin_files.rs`: the YAML texts, for `rules check` and the completeness test;
//! - `pack.json`: the parsed rule files without their examples, which the scanner loads at start-up
//!   (parsing JSON is an order of magnitude faster than YAML, and hooks start often).
//!
//! A YAML error in a pattern file fails the build with `file:line:column`.

#[allow(dead_code)]
// The library exports these types; the build script uses them privately.
#[allow(unreachable_pub)]
#[path = "src/schema.rs"]
mod schema;

use std::fmt::Write as _;
use std::path::Path;

fn main() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("patterns");
    println!("cargo:rerun-if-changed={}", dir.display());
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", dir.display()))
        .map(|e| {
            e.unwrap_or_else(|e| panic!("cannot read {}: {e}", dir.display()))
                .file_name()
                .to_string_lossy()
                .into_owned()
        })
        .filter(|n| n.ends_with(".yaml"))
        .collect();
    names.sort();
    assert!(!names.is_empty(), "no pattern files in {}", dir.display());
    let mut files =
        String::from("/// Embedded rule files: (file name, contents), sorted by name.\n");
    files.push_str("pub static FILES: &[(&str, &str)] = &[\n");
    let mut pack: Vec<(String, schema::RuleFile)> = Vec::new();
    for name in &names {
        let path = dir.join(name);
        println!("cargo:rerun-if-changed={}", path.display());
        let _ = writeln!(
            files,
            "    ({name:?}, include_str!({:?})),",
            path.display().to_string()
        );
        let text = std::fs::read_to_string(&path).expect("read a pattern file");
        let mut file: schema::RuleFile = match yaml_serde::from_str(&text) {
            Ok(f) => f,
            Err(e) => {
                let at = e
                    .location()
                    .map(|l| format!(":{}:{}", l.line(), l.column()))
                    .unwrap_or_default();
                panic!("patterns/{name}{at}: {e}");
            }
        };
        for rule in &mut file.rules {
            rule.examples.clear();
            rule.negative_examples.clear();
        }
        pack.push((name.clone(), file));
    }
    files.push_str("];\n");
    let out = std::path::PathBuf::from(std::env::var("OUT_DIR").expect("OUT_DIR is set by cargo"));
    std::fs::write(out.join("builtin_files.rs"), files).expect("write builtin_files.rs");
    let json = serde_json::to_string(&pack).expect("serialize the pack");
    std::fs::write(out.join("pack.json"), json).expect("write pack.json");
}

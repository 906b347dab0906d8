//! The repository config (`.leakgate.yaml`) as the pre-commit hook reads it: the committed and
//! the staged version (the input split at its first NUL), each parsed, merged by `strictest`, and
//! built into a scanner with its allowlists. No panic; the merge never lets through more than
//! the committed config does, and a config merged with itself holds nothing back.
#![no_main]

use leakgate::config::{
    assemble_rules, parse_ignore_file, strictest, suppressions, RepoConfig, RuleSetOptions,
};
use leakgate::outcome::OnUnscanned;
use leakgate::scanner::Scanner;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let (committed, staged) = text.split_once('\0').unwrap_or((text, ""));
    let Ok(committed) = RepoConfig::parse(".leakgate.yaml", committed) else {
        return;
    };
    let staged = RepoConfig::parse(".leakgate.yaml (staged)", staged).unwrap_or_default();

    let (merged, _) = strictest(&committed, &staged);
    assert!(merged
        .allow
        .paths
        .iter()
        .all(|p| committed.allow.paths.contains(p)));
    assert!(merged
        .allow
        .values
        .iter()
        .all(|v| committed.allow.values.contains(v)));
    assert!(merged.disable.iter().all(|d| committed.disable.contains(d)));
    assert!(merged.max_blob_bytes() >= committed.max_blob_bytes());
    assert!(merged.block_at <= committed.block_at);
    if committed.on_unscanned == OnUnscanned::Reject {
        assert_eq!(merged.on_unscanned, OnUnscanned::Reject);
    }
    assert!(committed.rules.iter().all(|r| merged.rules.contains(r)) || has_nan(&committed));

    let mut ids: Vec<&str> = committed.rules.iter().map(|r| r.id.as_str()).collect();
    ids.sort_unstable();
    let unique = ids.windows(2).all(|w| w[0] != w[1]);
    let (same, held) = strictest(&committed, &committed);
    if unique && !has_nan(&committed) {
        assert!(
            held.is_empty(),
            "a config merged with itself holds back {held:?}"
        );
        assert_eq!(same.rules, committed.rules);
    }

    let options = RuleSetOptions {
        no_builtin: true,
        ..RuleSetOptions::default()
    };
    for config in [&committed, &merged] {
        let Ok((rules, _)) = assemble_rules(config, ".leakgate.yaml", &options) else {
            continue;
        };
        let Ok(suppressions) = suppressions(config, ".leakgate.yaml", Default::default()) else {
            continue;
        };
        let Ok(scanner) = Scanner::new(rules, suppressions) else {
            continue;
        };
        if scanner.compile_all().is_ok() {
            let unit = leakgate::added::AddedText::whole("config.txt", text.as_bytes().to_vec());
            if let Ok(found) = scanner.scan_all(&unit) {
                leakgate_fuzz::check_findings(&found.findings, &unit.buf);
            }
        }
    }
    let _ = parse_ignore_file(".leakgateignore", text);
});

fn has_nan(config: &RepoConfig) -> bool {
    config
        .rules
        .iter()
        .any(|r| r.min_entropy.is_some_and(f64::is_nan))
}

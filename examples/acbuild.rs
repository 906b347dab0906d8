use aho_corasick::{AhoCorasick, AhoCorasickKind, MatchKind};
use std::time::Instant;
fn main() {
    let mut kws: Vec<Vec<u8>> = Vec::new();
    for (n, t) in leakgate::builtin::files() {
        if let Ok(f) = leakgate::rules::parse_rule_file(n, t) {
            for r in f.rules {
                for k in r.keywords {
                    kws.push(k.to_ascii_lowercase().into_bytes());
                }
            }
        }
    }
    kws.sort();
    kws.dedup();
    for kind in [
        AhoCorasickKind::NoncontiguousNFA,
        AhoCorasickKind::ContiguousNFA,
        AhoCorasickKind::DFA,
    ] {
        let t = Instant::now();
        let ac = AhoCorasick::builder()
            .ascii_case_insensitive(true)
            .match_kind(MatchKind::Standard)
            .kind(Some(kind))
            .build(&kws)
            .unwrap();
        println!(
            "{kind:?}: build {:?} mem {}",
            t.elapsed(),
            ac.memory_usage()
        );
    }
}

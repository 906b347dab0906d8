//! Property test: the keyword prefilter never drops a rule whose keyword occurs in the input,
//! checked against a naive case-insensitive substring search, on many random inputs built from
//! keyword fragments, mixed case, random bytes and newlines.

use leakgate::config::{build_scanner, RepoConfig, RuleSetOptions};

struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

fn naive_candidates(keywords: &[Vec<Vec<u8>>], haystack: &[u8]) -> Vec<usize> {
    let lower = haystack.to_ascii_lowercase();
    keywords
        .iter()
        .enumerate()
        .filter(|(_, kws)| {
            kws.iter()
                .any(|k| lower.windows(k.len()).any(|w| w == k.as_slice()))
        })
        .map(|(i, _)| i)
        .collect()
}

#[test]
fn prefilter_keeps_every_rule_whose_keyword_occurs() {
    let (scanner, _) = build_scanner(
        &RepoConfig::default(),
        "none",
        Default::default(),
        &RuleSetOptions::default(),
    )
    .expect("pack loads");
    let keywords: Vec<Vec<Vec<u8>>> = scanner
        .rules()
        .map(|r| {
            r.raw
                .keywords
                .iter()
                .map(|k| k.to_ascii_lowercase().into_bytes())
                .collect()
        })
        .collect();
    let all: Vec<&Vec<u8>> = keywords.iter().flatten().collect();
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    for case in 0..3000 {
        let mut hay = Vec::new();
        for _ in 0..rng.below(12) {
            match rng.below(5) {
                0 => hay.push(b'\n'),
                1 => {
                    for _ in 0..rng.below(20) {
                        hay.push(rng.below(256) as u8);
                    }
                }
                2 => {
                    // A keyword fragment: a prefix or suffix, so near-misses are tested too.
                    let k = all[rng.below(all.len())];
                    let cut = rng.below(k.len() + 1);
                    if rng.below(2) == 0 {
                        hay.extend_from_slice(&k[..cut]);
                    } else {
                        hay.extend_from_slice(&k[cut..]);
                    }
                }
                _ => {
                    // A whole keyword in random case, possibly overlapping the previous bytes.
                    let k = all[rng.below(all.len())];
                    for &b in k {
                        hay.push(if rng.below(2) == 0 {
                            b.to_ascii_uppercase()
                        } else {
                            b
                        });
                    }
                }
            }
        }
        let expected = naive_candidates(&keywords, &hay);
        for got in [
            scanner.candidate_rules(&hay),
            scanner.candidate_rules_reference(&hay),
        ] {
            assert_eq!(
                got,
                expected,
                "case {case}: haystack {:?}",
                String::from_utf8_lossy(&hay)
            );
        }
    }
}

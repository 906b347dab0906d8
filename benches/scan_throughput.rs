//! Scanner throughput over generated source-like text, beside a plain `memchr` pass over the same
//! buffers (the memory-bandwidth floor). Run: `cargo bench --bench scan_throughput`.
//!
//! Prints MB/s for: the memchr floor, the keyword prefilter alone, and the full scan (prefilter,
//! regexes, filters) with the embedded pack; and the ratios between them, all from one run.
//! `LEAKGATE_BENCH_MB` sets the size (default 64 MB).

use std::hint::black_box;
use std::time::{Duration, Instant};

use leakgate::added::AddedText;
use leakgate::config::{build_scanner, RepoConfig, RuleSetOptions};
use leakgate::scanner::{Scanner, Suppressions};

/// xorshift64*: deterministic input without a dependency.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    fn alnum(&mut self, len: usize) -> String {
        const A: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
        (0..len).map(|_| A[self.below(A.len())] as char).collect()
    }
}

const WORDS: &[&str] = &[
    "let", "fn", "return", "self", "value", "count", "index", "buffer", "config", "result",
    "error", "match", "Some", "None", "Ok", "Err", "impl", "struct", "pub", "use", "for", "in",
    "if", "else", "while", "loop", "data", "items", "name", "path", "request", "response",
    "handler", "client", "server", "user", "session", "cache", "logger", "format", "parse",
    "write", "read", "open",
];

/// One synthetic source file of about `size` bytes.
fn source_file(rng: &mut Rng, size: usize) -> Vec<u8> {
    let mut out = String::with_capacity(size + 128);
    while out.len() < size {
        let indent = rng.below(4) * 4;
        out.extend(std::iter::repeat_n(' ', indent));
        match rng.below(10) {
            0 => out.push_str(&format!(
                "// {} {} {}\n",
                WORDS[rng.below(WORDS.len())],
                WORDS[rng.below(WORDS.len())],
                WORDS[rng.below(WORDS.len())]
            )),
            1 => out.push_str(&format!(
                "let {} = \"{}\";\n",
                WORDS[rng.below(WORDS.len())],
                rng.alnum(12)
            )),
            2 => out.push_str(&format!(
                "{}.{}({}, {});\n",
                WORDS[rng.below(WORDS.len())],
                WORDS[rng.below(WORDS.len())],
                rng.below(1000),
                WORDS[rng.below(WORDS.len())]
            )),
            _ => {
                for _ in 0..(4 + rng.below(8)) {
                    out.push_str(WORDS[rng.below(WORDS.len())]);
                    out.push(' ');
                }
                out.push_str(";\n");
            }
        }
    }
    out.into_bytes()
}

fn mbps(bytes: usize, elapsed: Duration) -> f64 {
    bytes as f64 / 1e6 / elapsed.as_secs_f64()
}

fn best_of<F: FnMut() -> usize>(runs: usize, mut f: F) -> (Duration, usize) {
    let mut best = Duration::MAX;
    let mut result = 0;
    for _ in 0..runs {
        let start = Instant::now();
        result = black_box(f());
        best = best.min(start.elapsed());
    }
    (best, result)
}

fn main() {
    let total_mb: usize = std::env::var("LEAKGATE_BENCH_MB")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(64);
    let mut rng = Rng(0x5eed_1ea6_a7e0_0001);
    let mut units = Vec::new();
    let mut total = 0;
    while total < total_mb * 1_000_000 {
        let size = 2_000 + rng.below(30_000);
        let data = source_file(&mut rng, size);
        total += data.len();
        units.push(AddedText::whole(
            format!("src/file{}.rs", units.len()),
            data,
        ));
    }
    // A few planted secrets, built at run time so this file holds no token literal.
    let planted = [
        format!(
            "AWS_ACCESS_KEY_ID=AKIA{}\n",
            rng.alnum(16)
                .to_uppercase()
                .replace(['0', '1', '8', '9'], "Q")
        ),
        format!(
            "token = \"xoxb-{}-{}-{}\"\n",
            100000 + rng.below(900000),
            100000 + rng.below(900000),
            rng.alnum(24)
        ),
        format!("stripe_key = \"sk_live_{}\"\n", rng.alnum(24)),
    ];
    for (i, p) in planted.iter().enumerate() {
        let n = units.len();
        let unit = &mut units[(i * 997) % n];
        unit.buf.extend_from_slice(p.as_bytes());
    }
    total = units.iter().map(|u| u.buf.len()).sum();

    let (scanner, _) = build_scanner(
        &RepoConfig::default(),
        "bench",
        Default::default(),
        &RuleSetOptions::default(),
    )
    .expect("embedded pack loads");
    // The pack of the first release (the providers the core issue named), for the scaling ratio.
    let v1_files = [
        "aws.yaml",
        "azure.yaml",
        "gcp.yaml",
        "github.yaml",
        "gitlab.yaml",
        "slack.yaml",
        "stripe.yaml",
        "twilio.yaml",
        "sendgrid.yaml",
        "npm.yaml",
        "pypi.yaml",
        "docker-hub.yaml",
        "openai.yaml",
        "anthropic.yaml",
        "private-keys.yaml",
        "jwt.yaml",
        "url-credentials.yaml",
        "generic.yaml",
    ];
    let v1_rules: Vec<_> = leakgate::builtin::rules()
        .expect("pack loads")
        .into_iter()
        .filter(|r| {
            v1_files
                .iter()
                .any(|f| r.provider.origin == format!("builtin:{f}"))
        })
        .collect();
    let v1 = Scanner::new(v1_rules, Suppressions::default()).expect("v1 scanner");
    // Warm up: compile the regexes the planted secrets need, and pass the DFA threshold.
    for u in &units {
        let _ = scanner.scan(u);
        let _ = v1.scan(u);
    }

    let (floor, newlines) = best_of(5, || {
        units
            .iter()
            .map(|u| memchr::memchr_iter(b'\n', &u.buf).count())
            .sum()
    });
    let (prefilter, candidates) = best_of(5, || {
        units
            .iter()
            .map(|u| scanner.candidate_rules(&u.buf).len())
            .sum()
    });
    let (full, findings) = best_of(5, || {
        units
            .iter()
            .map(|u| scanner.scan(u).map(|f| f.len()).unwrap_or(0))
            .sum()
    });
    let (v1_full, _) = best_of(5, || {
        units
            .iter()
            .map(|u| v1.scan(u).map(|f| f.len()).unwrap_or(0))
            .sum()
    });

    println!(
        "scan throughput: {} units, {:.1} MB, {} rules, {} lines",
        units.len(),
        total as f64 / 1e6,
        scanner.len(),
        newlines
    );
    println!("  memchr floor     {:>9.1} MB/s", mbps(total, floor));
    println!(
        "  prefilter only   {:>9.1} MB/s  ({} candidate rule hits)",
        mbps(total, prefilter),
        candidates
    );
    println!(
        "  full scan        {:>9.1} MB/s  ({} findings, {} planted)",
        mbps(total, full),
        findings,
        planted.len()
    );
    println!(
        "  v1 pack full scan {:>9.1} MB/s  ({} rules)",
        mbps(total, v1_full),
        v1.len()
    );
    println!(
        "  ratio full pack / v1 pack throughput {:.3}",
        v1_full.as_secs_f64() / full.as_secs_f64()
    );
    println!(
        "  ratio full/floor      {:.3}",
        floor.as_secs_f64() / full.as_secs_f64()
    );
    println!(
        "  ratio prefilter/floor {:.3}",
        floor.as_secs_f64() / prefilter.as_secs_f64()
    );
}

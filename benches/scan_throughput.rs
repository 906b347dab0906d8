//! Scanner throughput over generated source-like text, beside a plain `memchr` pass over the same
//! buffers (the memory-bandwidth floor). Run: `cargo bench --bench scan_throughput`.
//!
//! Prints MB/s for: the memchr floor, the keyword prefilter alone, and the full scan (prefilter,
//! regexes, filters) with the embedded pack; and the ratios between them, all from one run. Two
//! texts: one whose vocabulary includes `path` (which holds the Airtable keyword `pat`, so many
//! lines go to a regex), and the same without it, where keywords are rare. Last, the full pack
//! against the first release's pack. `LEAKGATE_BENCH_MB` sets the size of each text (default
//! 64 MB).

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

/// The same vocabulary without `path`, which holds the keyword `pat` (Airtable tokens): text where
/// keywords are rare.
fn rare_words() -> Vec<&'static str> {
    WORDS
        .iter()
        .map(|&w| if w == "path" { "route" } else { w })
        .collect()
}

/// One synthetic source file of about `size` bytes.
fn source_file(rng: &mut Rng, size: usize, words: &[&str]) -> Vec<u8> {
    let mut out = String::with_capacity(size + 128);
    while out.len() < size {
        let indent = rng.below(4) * 4;
        out.extend(std::iter::repeat_n(' ', indent));
        match rng.below(10) {
            0 => out.push_str(&format!(
                "// {} {} {}\n",
                words[rng.below(words.len())],
                words[rng.below(words.len())],
                words[rng.below(words.len())]
            )),
            1 => out.push_str(&format!(
                "let {} = \"{}\";\n",
                words[rng.below(words.len())],
                rng.alnum(12)
            )),
            2 => out.push_str(&format!(
                "{}.{}({}, {});\n",
                words[rng.below(words.len())],
                words[rng.below(words.len())],
                rng.below(1000),
                words[rng.below(words.len())]
            )),
            _ => {
                for _ in 0..(4 + rng.below(8)) {
                    out.push_str(words[rng.below(words.len())]);
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

/// About `total_mb` MB of units of source-like text over `words`, with three planted secrets
/// (built at run time, so this file holds no token literal): (units, bytes, planted).
fn corpus(total_mb: usize, words: &[&str]) -> (Vec<AddedText>, usize, usize) {
    let mut rng = Rng(0x5eed_1ea6_a7e0_0001);
    let mut units = Vec::new();
    let mut total = 0;
    while total < total_mb * 1_000_000 {
        let size = 2_000 + rng.below(30_000);
        let data = source_file(&mut rng, size, words);
        total += data.len();
        units.push(AddedText::whole(
            format!("src/file{}.rs", units.len()),
            data,
        ));
    }
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
        // Rebuilt, so the planted line counts as added (a line appended to the buffer alone
        // would sit outside the unit's added range, and nothing would be found).
        let mut buf = std::mem::take(&mut unit.buf);
        buf.extend_from_slice(p.as_bytes());
        *unit = AddedText::whole(std::mem::take(&mut unit.path), buf);
    }
    total = units.iter().map(|u| u.buf.len()).sum();

    (units, total, planted.len())
}

fn main() {
    let total_mb: usize = std::env::var("LEAKGATE_BENCH_MB")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(64);
    let (units, total, planted) = corpus(total_mb, WORDS);
    let (rare_units, rare_total, _) = corpus(total_mb, &rare_words());

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
    let baseline = baseline_scanner();
    // Warm up: compile the regexes the planted secrets need. A scan error would make the figures
    // meaningless: stop.
    for u in units.iter().chain(&rare_units) {
        if let Err(e) = scanner.scan(u) {
            panic!(
                "the scan of {} fails: {e}",
                String::from_utf8_lossy(&u.path)
            );
        }
        let _ = v1.scan(u);
        if let Some((b, _)) = &baseline {
            let _ = b.scan(u);
        }
    }

    println!(
        "scan throughput, {} rules ({} in the v1 pack); best of 5 runs each",
        scanner.len(),
        v1.len()
    );
    let full = measure(
        "source-like text (`path`, a common word, holds the keyword `pat`)",
        &scanner,
        &units,
        total,
        planted,
    );
    measure(
        "source-like text where keywords are rare (`path` -> `route`)",
        &scanner,
        &rare_units,
        rare_total,
        planted,
    );
    let (v1_full, _) = best_of(5, || {
        units
            .iter()
            .map(|u| v1.scan(u).map_or(0, |f| f.len()))
            .sum()
    });
    println!(
        "v1 pack full scan {:.1} MB/s over the first text; ratio full pack / v1 pack throughput {:.3}",
        mbps(total, v1_full),
        v1_full.as_secs_f64() / full.as_secs_f64()
    );
    let undecoded = Scanner::new(
        leakgate::builtin::rules().expect("pack loads"),
        Suppressions::default(),
    )
    .expect("scanner builds")
    .without_decoding();
    for u in &units {
        let _ = undecoded.scan(u);
    }
    let (undecoded_full, _) = best_of(5, || {
        units
            .iter()
            .map(|u| undecoded.scan(u).map_or(0, |f| f.len()))
            .sum()
    });
    println!(
        "full pack without decoding {:.1} MB/s over the first text (decoding costs {:.0}% of the full scan's time)",
        mbps(total, undecoded_full),
        100.0 * (1.0 - undecoded_full.as_secs_f64() / full.as_secs_f64())
    );
    if let Some((base, rev)) = &baseline {
        let (base_full, _) = best_of(5, || {
            units
                .iter()
                .map(|u| base.scan(u).map_or(0, |f| f.len()))
                .sum()
        });
        println!(
            "baseline: the pack at {rev} ({} rules) without decoding {:.1} MB/s over the first text; ratio full pack with decoding / baseline throughput {:.3}",
            base.len(),
            mbps(total, base_full),
            base_full.as_secs_f64() / full.as_secs_f64()
        );
    }
}

/// The scanner before Detection v2: the pack as of `LEAKGATE_BENCH_BASE` (a git revision, default
/// the commit before it), read with `git show`, without decoding. `None` outside a git checkout.
fn baseline_scanner() -> Option<(Scanner, String)> {
    let rev = std::env::var("LEAKGATE_BENCH_BASE").unwrap_or_else(|_| "780b775".to_string());
    let root = env!("CARGO_MANIFEST_DIR");
    let git = |args: &[&str]| {
        std::process::Command::new("git")
            .current_dir(root)
            .args(args)
            .output()
            .ok()
            .filter(|o| o.status.success())
            .map(|o| o.stdout)
    };
    let listing = git(&["ls-tree", "--name-only", &rev, "patterns/"])?;
    let mut rules = Vec::new();
    for path in String::from_utf8_lossy(&listing).lines() {
        let text = git(&["show", &format!("{rev}:{path}")])?;
        let text = String::from_utf8_lossy(&text);
        let file = leakgate::rules::parse_rule_file(path, &text).ok()?;
        rules.extend(leakgate::rules::validate_file(path, file, None, true).ok()?);
    }
    let scanner = Scanner::new(rules, Suppressions::default()).ok()?;
    Some((scanner.without_decoding(), rev))
}

/// Times the memchr floor, the prefilter alone and the full scan over `units`, prints them with
/// their ratios, and returns the full scan's time.
fn measure(
    title: &str,
    scanner: &Scanner,
    units: &[AddedText],
    total: usize,
    planted: usize,
) -> Duration {
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
            .map(|u| scanner.scan(u).map_or(0, |f| f.len()))
            .sum()
    });
    println!(
        "{title}: {} units, {:.1} MB, {} lines",
        units.len(),
        total as f64 / 1e6,
        newlines
    );
    println!("  memchr floor     {:>9.1} MB/s", mbps(total, floor));
    println!(
        "  prefilter only   {:>9.1} MB/s  ({} candidate rule hits)  ratio to floor {:.3}",
        mbps(total, prefilter),
        candidates,
        floor.as_secs_f64() / prefilter.as_secs_f64()
    );
    println!(
        "  full scan        {:>9.1} MB/s  ({} findings, {} planted)  ratio to floor {:.3}",
        mbps(total, full),
        findings,
        planted,
        floor.as_secs_f64() / full.as_secs_f64()
    );
    full
}

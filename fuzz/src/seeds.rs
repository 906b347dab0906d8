//! Writes the seed corpora of the fuzz targets, at run time, from the repository's own examples:
//! the rule pack's examples and negative examples, its YAML files, the config template and the
//! contract examples of docs/design. `LEAKGATE_FUZZ_SEEDS=DIR seeds` writes `DIR/<target>/<n>`
//! and exits. Nothing here is committed: the pack's examples look like real tokens, and the
//! project scans itself.
//!
//! It is a fuzz target only in form: every binary of a cargo-fuzz crate is built with coverage
//! instrumentation, which needs libFuzzer's runtime and its `main`; the seeds are written from
//! the target's `init` block, before any fuzzing starts.
#![no_main]
// The `init` block exits the process by design: the fuzz body never runs.
#![allow(unreachable_code)]

use std::path::Path;

fn write(dir: &Path, target: &str, seeds: &[Vec<u8>]) -> std::io::Result<()> {
    let dir = dir.join(target);
    std::fs::create_dir_all(&dir)?;
    for (i, seed) in seeds.iter().enumerate() {
        std::fs::write(dir.join(format!("seed-{i:05}")), seed)?;
    }
    Ok(())
}

fn b64(data: &[u8]) -> String {
    const A: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in data.chunks(3) {
        let mut n = 0u32;
        for (i, &b) in chunk.iter().enumerate() {
            n |= u32::from(b) << (16 - 8 * i);
        }
        for i in 0..4 {
            out.push(if i <= chunk.len() {
                char::from(A[(n >> (18 - 6 * i) & 63) as usize])
            } else {
                '='
            });
        }
    }
    out
}

const POLICIES: &[&str] = &[
    "",
    "{}\n",
    "rules: []\ndisable: []\nallow: { paths: ['^vendor/'], values: ['EXAMPLE'] }\n\
     repository_files: { allow_markers: true, ignore_file: false }\ntime_budget_ms: 4000\n\
     on_timeout: reject\non_error: accept\nmax_blob_bytes: 10000000\n\
     bypass: { enabled: true, push_option: leakgate.bypass, users: [alice] }\n\
     audit_log: /var/log/leakgate/audit.jsonl\nfingerprint_key_file: /etc/leakgate/fingerprint.key\n",
    "block_at: low\non_unscanned: accept\non_audit_failure: reject\npusher_variable: GL_USERNAME\ncolor: true\n",
    "rules:\n  - id: my-token\n    description: mine\n    regex: 'myt_([a-z]{10})'\n    keywords: [myt_]\n    secret_group: 1\n",
];

const CONFIGS: &[&str] = &[
    "disable: [aws-access-key-id]\nallow:\n  paths: ['^testdata/']\n  values: ['EXAMPLEKEY']\nmax_blob_bytes: 5000000\n",
    "rules:\n  - id: my-token\n    description: mine\n    regex: 'myt_(?P<v>[a-z]{10})'\n    keywords: [myt_]\n    secret_group: v\n    min_entropy: 2.5\n    allow: ['^myt_test']\n    confidence: low\n",
    "on_unscanned: accept\nblock_at: high\nremediation: { revoke: r, rotate: o, docs: d }\n",
];

libfuzzer_sys::fuzz_target!(
    init: {
        let Some(dir) = std::env::var_os("LEAKGATE_FUZZ_SEEDS") else {
            eprintln!("seeds: set LEAKGATE_FUZZ_SEEDS to the directory to write");
            std::process::exit(2);
        };
        if let Err(e) = write_all(Path::new(&dir)) {
            eprintln!("seeds: {e}");
            std::process::exit(2);
        }
        std::process::exit(0);
    },
    |_data: &[u8]| {}
);

fn write_all(out: &Path) -> Result<(), Box<dyn std::error::Error>> {
    let rules = leakgate::builtin::rules_with_examples()?;
    let mut texts: Vec<Vec<u8>> = Vec::new();
    for rule in &rules {
        for example in rule.raw.examples.iter().chain(&rule.raw.negative_examples) {
            texts.push(example.clone().into_bytes());
        }
    }
    let mut scan = texts.clone();
    for (i, t) in texts.iter().enumerate().step_by(7) {
        let encoded = b64(t);
        scan.push(format!("value: {encoded}\n").into_bytes());
        if i % 2 == 0 {
            let hex: String = t.iter().map(|b| format!("{b:02x}")).collect();
            scan.push(format!("hex={hex}\n").into_bytes());
        }
    }
    write(out, "scan_bytes", &scan)?;
    let diffs: Vec<Vec<u8>> = texts
        .iter()
        .step_by(3)
        .map(|t| {
            let mut d = b"a: 1\nb: 2\n\0a: 1\n".to_vec();
            d.extend_from_slice(t);
            d.extend_from_slice(b"\nb: 2\n");
            d
        })
        .collect();
    write(out, "scan_diff", &diffs)?;
    // One rule a file: a whole provider file compiles and runs many rules per execution, which
    // would leave the fuzzer at a few executions a second.
    let mut files: Vec<Vec<u8>> = Vec::new();
    for (name, text) in leakgate::builtin::files() {
        let file = leakgate::rules::parse_rule_file(name, text)?;
        for rule in &file.rules {
            let single = leakgate::rules::RuleFile {
                rules: vec![rule.clone()],
                ..file.clone()
            };
            files.push(yaml_serde::to_string(&single)?.into_bytes());
        }
    }
    write(out, "rule_file", &files)?;
    write(out, "rule_check", &files)?;
    let mut configs: Vec<Vec<u8>> = vec![leakgate::config::CONFIG_TEMPLATE.as_bytes().to_vec()];
    configs.extend(CONFIGS.iter().map(|c| c.as_bytes().to_vec()));
    configs.push(format!("{}\0{}", CONFIGS[0], CONFIGS[1]).into_bytes());
    write(out, "repo_config", &configs)?;
    write(
        out,
        "server_policy",
        &POLICIES
            .iter()
            .map(|p| p.as_bytes().to_vec())
            .collect::<Vec<_>>(),
    )?;
    let a = "1111111111111111111111111111111111111111";
    let z = "0000000000000000000000000000000000000000";
    write(
        out,
        "ref_update",
        &[
            format!("{z} {a} refs/heads/new branch\n{a} {z} refs/tags/v1\n").into_bytes(),
            format!("refs/heads/main {a} refs/heads/main {z}\n").into_bytes(),
            format!("{a} {a} refs/heads/x\r\n\n").into_bytes(),
        ],
    )?;
    write(
        out,
        "ignore_baseline",
        &[
            b"# comment\nsome-rule:5c1f0a9be3d27f41  # version 1\nr:0123456789ABCDEF0123  # fixture\n"
                .to_vec(),
            b"{\"secrets\": [{\"fingerprint\": \"r:0123456789abcdef0123\"}], \"findings\": []}\n"
                .to_vec(),
        ],
    )?;
    write(
        out,
        "sanitize",
        &[
            b"a\x1b[31mb\n".to_vec(),
            "x\u{202E}y|\u{200B}".as_bytes().to_vec(),
            b"abcdefghijklmnop|abc\nxx abcdefghijklmnop yy abc\n".to_vec(),
            b"\xffok\r\n\x7f\xc2\x9b".to_vec(),
        ],
    )?;
    for target in ["decode_runs", "revisions", "loose_object"] {
        write(out, target, &[])?;
    }
    Ok(())
}

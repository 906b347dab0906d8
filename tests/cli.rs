//! `leakgate scan`, `rules`, `ignore`: exit codes, the JSON shape, redaction, and bad input.

use crate::common;

use common::snapshot::{self, normalise};
use common::{all_output, aws_key_id, github_token, leakgate_bin, Ran as _, Sandbox};

#[test]
fn clean_directory_exits_0_and_says_what_was_scanned() {
    let sb = Sandbox::new("clean");
    let dir = sb.dir("work");
    dir.write("src/main.rs", "fn main() { println!(\"hello\"); }\n");
    let out = dir.leakgate(&["scan", "."]).expect_code(0);
    snapshot::assert("cli_clean_directory", &out.all_text());
}

#[test]
fn secret_exits_1_with_location_provider_and_redacted_value_only() {
    let sb = Sandbox::new("found");
    let dir = sb.dir("work");
    let token = github_token(1);
    dir.write("config/app.env", format!("# app\nGITHUB_TOKEN={token}\n"));
    let out = dir.leakgate(&["scan", "config"]).expect_code(1);
    let text = all_output(&out);
    // Location, provider, rule, redacted value, remediation and the ignore hint.
    snapshot::assert("cli_github_token_found", &normalise(&text, &sb.tmp.0));
    assert!(!text.contains(&token), "full secret printed:\n{text}");
    assert!(
        !text.contains(&token[4..20]),
        "most of the secret printed:\n{text}"
    );
}

#[test]
fn json_follows_the_contract_and_never_carries_the_secret() {
    let sb = Sandbox::new("json");
    let dir = sb.dir("work");
    let token = github_token(2);
    let key = aws_key_id(3);
    dir.write("a.py", format!("TOKEN = \"{token}\"\nKEY_ID = \"{key}\"\n"));
    dir.write("logo.png", b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR");
    let out = dir.leakgate(&["scan", ".", "--format", "json"]);
    assert_eq!(out.status.code(), Some(1), "{}", all_output(&out));
    let text = all_output(&out);
    assert!(
        !text.contains(&token) && !text.contains(&key),
        "secret leaked:\n{text}"
    );
    let json = out.json();
    assert_eq!(json["version"], 1);
    let findings = json["findings"].as_array().unwrap();
    assert!(findings.len() >= 2, "{json}");
    let f = &findings[0];
    for key in [
        "rule",
        "description",
        "provider",
        "path",
        "line",
        "column",
        "commit",
        "secret",
        "fingerprint",
        "severity",
    ] {
        assert!(f.get(key).is_some(), "missing {key} in {f}");
    }
    assert_eq!(f["path"], "a.py");
    assert_eq!(f["line"], 1);
    assert!(f["commit"].is_null());
    let fp = f["fingerprint"].as_str().unwrap();
    let (rule, hex) = fp.rsplit_once(':').unwrap();
    assert_eq!(rule, f["rule"].as_str().unwrap());
    assert_eq!(hex.len(), leakgate::fingerprint::HEX_LEN);
    assert!(f["secret"].as_str().unwrap().contains('…'));
    // Binary files are scanned like any other.
    assert_eq!(json["skipped"], serde_json::json!([]));
    assert_eq!(json["scanned"]["blobs"], 2);
}

#[test]
fn fingerprint_is_stable_when_the_line_moves() {
    let sb = Sandbox::new("fp");
    let dir = sb.dir("work");
    let token = github_token(4);
    dir.write("a.txt", format!("{token}\n"));
    dir.write("b.txt", format!("\n\n\nx = {token}\n"));
    let out = dir.leakgate(&["scan", ".", "--format", "json"]);
    let json = out.json();
    let f = json["findings"].as_array().unwrap();
    assert_eq!(f.len(), 2);
    assert_eq!(f[0]["fingerprint"], f[1]["fingerprint"]);
}

#[test]
fn ignore_file_and_allow_marker_suppress() {
    let sb = Sandbox::new("ignore");
    let dir = sb.dir("work");
    std::fs::create_dir(dir.join(".git")).unwrap();
    let token = github_token(5);
    dir.write("a.txt", format!("t={token}\n"));
    dir.write("b.txt", format!("t={} # leakgate:allow\n", github_token(6)));
    let out = dir.leakgate(&["scan", ".", "--format", "json"]);
    let json = out.json();
    let findings = json["findings"].as_array().unwrap();
    assert_eq!(findings.len(), 1, "{json}");
    let fp = findings[0]["fingerprint"].as_str().unwrap().to_string();
    let out = dir.leakgate(&["ignore", &fp, "--reason", "test fixture"]);
    assert_eq!(out.status.code(), Some(0), "{}", all_output(&out));
    let ignore = std::fs::read_to_string(dir.join(".leakgateignore")).unwrap();
    assert_eq!(ignore, format!("{fp}  # test fixture\n"));
    // Idempotent.
    dir.leakgate(&["ignore", &fp]);
    assert_eq!(
        std::fs::read_to_string(dir.join(".leakgateignore")).unwrap(),
        ignore
    );
    let out = dir.leakgate(&["scan", "."]);
    assert_eq!(out.status.code(), Some(0), "{}", all_output(&out));
}

#[test]
fn binary_non_utf8_crlf_and_broken_symlinks_never_crash() {
    let sb = Sandbox::new("odd");
    let dir = sb.dir("work");
    let token = github_token(7);
    let mut latin1 = b"caf\xe9 = \"".to_vec();
    latin1.extend_from_slice(token.as_bytes());
    latin1.extend_from_slice(b"\"\r\n\xff\xfe\r\n");
    dir.write("latin1.txt", latin1);
    let mut binary = b"\0\x01\x02 binary ".to_vec();
    binary.extend_from_slice(github_token(17).as_bytes());
    dir.write("bin.dat", binary);
    std::os::unix::fs::symlink(dir.join("missing"), dir.join("dangling")).unwrap();
    let out = dir.leakgate(&["scan", ".", "--format", "json"]);
    assert_eq!(out.status.code(), Some(1), "{}", all_output(&out));
    let json = out.json();
    let paths: Vec<&str> = json["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["path"].as_str().unwrap())
        .collect();
    assert_eq!(paths, ["bin.dat", "latin1.txt"], "{json}");
    assert_eq!(json["findings"][1]["line"], 1);
    let reasons: Vec<&str> = json["skipped"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["reason"].as_str().unwrap())
        .collect();
    assert_eq!(reasons, ["broken-symlink"], "{json}");
}

#[test]
fn a_file_over_the_cap_is_scanned_up_to_it_blocks_by_default_and_is_scanned_whole_when_allowed() {
    let sb = Sandbox::new("huge");
    let dir = sb.dir("work");
    let token = github_token(8);
    let mut data = vec![b'a'; 100 * 1024 * 1024];
    data.extend_from_slice(b" token=");
    data.extend_from_slice(token.as_bytes());
    dir.write("one-line.txt", &data);
    let data_len = data.len();
    drop(data);
    let out = dir.leakgate(&["scan", "one-line.txt", "--format", "json"]);
    // Over the 100 MB cap: its first 100,000,000 bytes are scanned, and unscanned content blocks.
    assert_eq!(out.status.code(), Some(2), "{}", all_output(&out));
    let json = out.json();
    assert_eq!(json["skipped"][0]["reason"], "too-large");
    let detail = json["skipped"][0]["detail"].as_str().unwrap();
    assert!(
        detail.contains(&format!("{data_len} bytes"))
            && detail.contains("first 100000000 bytes were scanned"),
        "{detail}"
    );
    let accept = dir.write("accept.yaml", "on_unscanned: accept\n");
    let out = dir.leakgate(&[
        "scan",
        "one-line.txt",
        "--format",
        "json",
        "--config",
        accept.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", all_output(&out));
    let config = dir.write("big.yaml", "max_blob_bytes: 200000000\n");
    let out = dir.leakgate(&[
        "scan",
        "one-line.txt",
        "--format",
        "json",
        "--config",
        config.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(1), "{}", all_output(&out));
    let json = out.json();
    assert_eq!(json["findings"][0]["column"], 100 * 1024 * 1024 + 8);
}

#[test]
fn unreadable_file_is_listed_and_exits_2() {
    let sb = Sandbox::new("unreadable");
    let dir = sb.dir("work");
    // As root a chmod'ed file stays readable; /proc/self/mem is a regular file whose read fails.
    let out = dir.leakgate(&["scan", "/proc/self/mem", "--format", "json"]);
    assert_eq!(out.status.code(), Some(2), "{}", all_output(&out));
    let json = out.json();
    assert_eq!(json["skipped"][0]["reason"], "unreadable");
    let out = dir.leakgate(&["scan", "/proc/self/mem"]).expect_code(2);
    snapshot::assert("cli_unreadable_file", &out.all_text());
}

#[test]
fn missing_path_is_an_error() {
    let sb = Sandbox::new("missing");
    let dir = sb.dir("work");
    let out = dir.leakgate(&["scan", "nope"]);
    assert_eq!(out.status.code(), Some(2), "{}", all_output(&out));
}

#[test]
fn config_errors_exit_2_with_location() {
    let sb = Sandbox::new("config");
    let dir = sb.dir("work");
    dir.write("a.txt", "hello\n");
    let out = dir.leakgate(&["scan", ".", "--config", dir.dir.to_str().unwrap()]);
    let mut errors = out.expect_code(2).all_text();
    let bad = dir.write("bad.yaml", "disable: [a\nallow: {}\n");
    let out = dir.leakgate(&["scan", "a.txt", "--config", bad.to_str().unwrap()]);
    errors += &out.expect_code(2).all_text();
    let unknown = dir.write("unknown.yaml", "allowlist: []\n");
    let out = dir.leakgate(&["scan", "a.txt", "--config", unknown.to_str().unwrap()]);
    errors += &out.expect_code(2).all_text();
    // Each error names the file (line and column where there are some).
    snapshot::assert("cli_config_errors", &normalise(&errors, &sb.tmp.0));
}

#[test]
fn user_rules_merge_and_no_builtin_runs_them_alone() {
    let sb = Sandbox::new("userrules");
    let dir = sb.dir("work");
    let config = dir.write(
        "rules.yaml",
        "rules:\n  - id: acme-internal-token\n    description: Acme internal token\n    regex: '\\b(acme_[a-z0-9]{20})\\b'\n    keywords: [acme_]\n",
    );
    let token = format!("acme_{}", common::random_alnum(9, 20).to_lowercase());
    dir.write("a.txt", format!("x={token}\ny={}\n", github_token(10)));
    let run = |extra: &[&str]| {
        let out = dir
            .command(leakgate_bin())
            .args(["scan", "a.txt", "--format", "json", "--config"])
            .arg(&config)
            .args(extra)
            .output()
            .unwrap();
        let json = out.json();
        let mut rules: Vec<String> = json["findings"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["rule"].as_str().unwrap().to_string())
            .collect();
        rules.sort();
        rules
    };
    let both = run(&[]);
    assert_eq!(both.len(), 2, "{both:?}");
    assert!(both.contains(&"acme-internal-token".to_string()));
    assert_eq!(
        run(&["--no-builtin"]),
        vec!["acme-internal-token".to_string()]
    );
}

#[test]
fn colour_follows_flag_and_no_color() {
    let sb = Sandbox::new("color");
    let dir = sb.dir("work");
    dir.write("a.txt", format!("{}\n", github_token(11)));
    let always = dir.leakgate(&["scan", ".", "--color", "always"]);
    assert!(String::from_utf8_lossy(&always.stdout).contains("\x1b["));
    let never = dir.leakgate(&["scan", ".", "--color", "never"]);
    assert!(!String::from_utf8_lossy(&never.stdout).contains('\x1b'));
    let no_color = dir
        .command(leakgate_bin())
        .args(["scan", "."])
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    assert!(!String::from_utf8_lossy(&no_color.stdout).contains('\x1b'));
}

#[test]
fn control_and_bidi_characters_in_paths_are_escaped() {
    let sb = Sandbox::new("escape");
    let dir = sb.dir("work");
    let name = "evil\x1b[2J\u{202e}txt.env";
    dir.write(name, format!("T={}\n", github_token(12)));
    let out = dir.leakgate(&["scan", "."]);
    let text = all_output(&out);
    assert!(
        !text.contains('\x1b') && !text.contains('\u{202e}'),
        "{text:?}"
    );
    assert!(
        text.contains("evil\\u{1b}[2J\\u{202e}txt.env:1:3"),
        "{text}"
    );
}

#[test]
fn rules_list_and_check() {
    let sb = Sandbox::new("rules");
    let dir = sb.dir("work");
    let out = dir.leakgate(&["rules", "list"]);
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.lines().count() >= 40);
    assert!(text.lines().all(|l| l
        .split('\t')
        .next()
        .unwrap()
        .chars()
        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')));
    dir.leakgate(&["rules", "check"]).expect_code(0);
    let bad = dir.write(
        "bad.yaml",
        "provider: Acme\nremediation: {revoke: r, rotate: o, docs: d}\nrules:\n  - id: acme-x\n    description: x\n    regex: '(acme_[a-z]{8})'\n    keywords: [acme_]\n    examples: ['acme_short']\n    negative_examples: ['acme_abcdefgh', 'n']\n",
    );
    let out = dir.leakgate(&["rules", "check", bad.to_str().unwrap()]);
    let mut failures = out.expect_code(1).all_text();
    let broken = dir.write("broken.yaml", "provider: Acme\nrules: [\n");
    let out = dir.leakgate(&["rules", "check", broken.to_str().unwrap()]);
    failures += &out.expect_code(2).all_text();
    // An example that is not found, too few examples, a file that is not YAML (with its place).
    snapshot::assert("cli_rules_check_failures", &normalise(&failures, &sb.tmp.0));
}

#[test]
fn usage_error_exits_2() {
    let sb = Sandbox::new("usage");
    let dir = sb.dir("work");
    let out = dir.leakgate(&["scan"]);
    assert_eq!(out.status.code(), Some(2));
    let out = dir.leakgate(&["frobnicate"]);
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn findings_below_block_at_are_warnings_that_exit_0_and_block_at_low_blocks_them() {
    let sb = Sandbox::new("block-at");
    let dir = sb.dir("work");
    let rule = "rules:\n  - id: acme-weak-code\n    confidence: low\n    description: Acme door code\n    regex: 'acme_code=([A-Za-z0-9]{12})'\n    keywords: [acme_code]\n";
    dir.write("conf.yaml", rule);
    let value = common::random_alnum(41, 12);
    dir.write("src/door.env", format!("acme_code={value}\n"));
    let scan = |extra: &str| {
        dir.write("conf.yaml", format!("{rule}{extra}"));
        dir.leakgate(&["scan", "--config", "conf.yaml", "--format", "json", "src"])
    };
    // Default block_at (medium): a warning, exit 0, listed in `warnings`, never the value.
    let out = scan("");
    assert_eq!(out.status.code(), Some(0), "{}", all_output(&out));
    let json = out.json();
    assert_eq!(json["findings"], serde_json::json!([]));
    assert_eq!(json["warnings"][0]["rule"], "acme-weak-code");
    assert_eq!(json["warnings"][0]["confidence"], "low");
    assert!(!all_output(&out).contains(&value));
    let human = dir.leakgate(&["scan", "--config", "conf.yaml", "src"]);
    assert_eq!(human.status.code(), Some(0));
    let text = all_output(&human);
    snapshot::assert("cli_warning_below_block_at", &normalise(&text, &sb.tmp.0));
    // block_at: low makes it block.
    let out = scan("block_at: low\n");
    assert_eq!(out.status.code(), Some(1), "{}", all_output(&out));
    let json = out.json();
    assert_eq!(json["findings"][0]["rule"], "acme-weak-code");
    // block_at: high turns a medium rule into a warning.
    let out = scan("block_at: high\n");
    assert_eq!(out.status.code(), Some(0), "{}", all_output(&out));
}

#[test]
fn init_writes_every_default_and_refuses_to_overwrite() {
    let sb = Sandbox::new("init");
    let dir = sb.dir("work");
    std::fs::create_dir_all(dir.join(".git")).unwrap();
    let out = dir.leakgate(&["init"]);
    assert_eq!(out.status.code(), Some(0), "{}", all_output(&out));
    // Every default, commented.
    snapshot::assert("cli_init_leakgate_yaml", &dir.read(".leakgate.yaml"));
    // The written file is a valid config: a scan with it runs.
    dir.write("a.txt", "nothing here\n");
    let out = dir.leakgate(&["scan", "a.txt"]);
    assert_eq!(out.status.code(), Some(0), "{}", all_output(&out));

    std::fs::write(dir.join(".leakgate.yaml"), "block_at: high\n").unwrap();
    let out = dir.leakgate(&["init"]);
    assert_eq!(out.status.code(), Some(2), "{}", all_output(&out));
    assert!(all_output(&out).contains("already exists"));
    assert_eq!(
        std::fs::read_to_string(dir.join(".leakgate.yaml")).unwrap(),
        "block_at: high\n"
    );
}

#[test]
fn completions_and_man_page_come_from_the_cli_definitions() {
    let sb = Sandbox::new("generated");
    let dir = sb.dir("work");
    for shell in ["bash", "zsh", "fish", "elvish", "powershell"] {
        let out = dir.leakgate(&["completions", shell]);
        assert_eq!(out.status.code(), Some(0), "{shell}: {}", all_output(&out));
        let text = String::from_utf8_lossy(&out.stdout);
        for word in ["leakgate", "install", "staged", "completions"] {
            assert!(text.contains(word), "{shell} completion lacks {word}");
        }
    }
    let out = dir.leakgate(&["completions", "tcsh"]);
    assert_eq!(out.status.code(), Some(2), "{}", all_output(&out));
    let out = dir.leakgate(&["man"]);
    assert_eq!(out.status.code(), Some(0), "{}", all_output(&out));
    let page = String::from_utf8_lossy(&out.stdout);
    assert!(
        page.starts_with(".ie") || page.contains(".TH leakgate"),
        "{page}"
    );
    for word in ["scan", "install", "completions"] {
        assert!(page.contains(word), "man page lacks {word}");
    }
}

#[test]
fn many_findings_are_listed_compactly_with_every_fingerprint_and_in_full_with_verbose() {
    let sb = Sandbox::new("compact");
    let dir = sb.dir("work");
    let tokens: Vec<String> = (0..7).map(|i| github_token(700 + i)).collect();
    let text: String = tokens
        .iter()
        .enumerate()
        .map(|(i, t)| format!("TOKEN_{i}={t}\n"))
        .collect();
    dir.write("many.env", text);
    let out = dir.leakgate(&["scan", "many.env"]);
    assert_eq!(out.status.code(), Some(1), "{}", all_output(&out));
    let report = String::from_utf8_lossy(&out.stdout).into_owned();
    // One line per finding, the `--verbose` hint, every fingerprint in the ignore hint.
    snapshot::assert("cli_many_findings_compact", &normalise(&report, &sb.tmp.0));
    for (i, token) in tokens.iter().enumerate() {
        assert!(report.contains(&format!("many.env:{}:", i + 1)), "{report}");
        let fp =
            leakgate::fingerprint::fingerprint("github-personal-access-token", token.as_bytes());
        assert!(report.contains(&fp), "ignore hint lacks {fp}:\n{report}");
        assert!(
            !report.contains(token.as_str()),
            "secret printed:\n{report}"
        );
    }
    for line in report.lines() {
        assert!(line.chars().count() <= 80, "{line:?}");
    }
    let out = dir.leakgate(&["scan", "many.env", "--verbose"]);
    let verbose = String::from_utf8_lossy(&out.stdout).into_owned();
    assert_eq!(verbose.matches("    fingerprint  ").count(), 7, "{verbose}");
}

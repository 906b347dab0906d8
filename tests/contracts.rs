//! Snapshots of the output contracts, what people and scripts read: the human, JSON and SARIF
//! reports of `leakgate scan`, the blocked-commit message of the pre-commit hook, `rules list`,
//! the `remote:` lines a pusher sees when the server hook rejects, and the `--help` texts of both
//! binaries and their subcommands. Volatile parts (temporary paths, ids, fingerprints, version)
//! are normalised (`common::snapshot`). After a deliberate change:
//! `INSTA_UPDATE=always cargo test -q --test integration contracts`, then review
//! `git diff tests/snapshots`.
//!
//! The reports here run custom rules (`--no-builtin`, a config with its own remediation) so that a
//! snapshot holds the report's layout and wording, not the rule pack's remediation texts; the
//! blocked-commit message, `rules list` and the `remote:` rejection run the real pack.

use crate::common;

use common::snapshot::{self, normalise};
use common::{github_token, random_alnum, Pair, Ran as _, Repo, Sandbox};

/// A rule file of two custom rules (one below `block_at`) with their own remediation.
const RULES: &str = "\
remediation:
  revoke: Revoke the key in the Acme console (Settings > API keys).
  rotate: Create a new key, store it in the secret manager, redeploy.
  docs: https://acme.invalid/docs/keys
rules:
  - id: acme-api-key
    description: Acme API key
    regex: '\\b(acmk_[a-z0-9]{24})\\b'
    keywords: [acmk_]
  - id: acme-door-code
    confidence: low
    description: Acme door code
    regex: 'door_code=([A-Za-z0-9]{12})'
    keywords: [door_code]
";

/// An Acme API key built from a seed.
fn acme_key(seed: u64) -> String {
    format!("acmk_{}", random_alnum(seed, 24).to_lowercase())
}

/// A work directory with two findings, one warning and one skipped entry.
fn scan_fixture(sb: &Sandbox) -> (Repo<'_>, Vec<String>) {
    // A repository: SARIF locations are relative to its root.
    let dir = sb.repo("work");
    dir.write("rules.yaml", RULES);
    let (first, second) = (acme_key(1), acme_key(2));
    let code = random_alnum(3, 12);
    dir.write(
        "config/app.env",
        format!("# app\nACME_KEY={first}\nBACKUP_ACME_KEY={second}\n"),
    );
    dir.write("src/door.env", format!("door_code={code}\n"));
    std::os::unix::fs::symlink(dir.join("missing"), dir.join("dangling")).unwrap();
    (dir, vec![first, second, code])
}

/// `leakgate scan --no-builtin --config rules.yaml config src dangling ARGS` in the fixture.
fn scan(dir: &Repo, args: &[&str]) -> std::process::Output {
    let mut all = vec![
        "scan",
        "--no-builtin",
        "--config",
        "rules.yaml",
        "config",
        "src",
        "dangling",
    ];
    all.extend_from_slice(args);
    dir.leakgate(&all)
}

/// Neither value appears in `text`.
fn assert_no_value(text: &str, values: &[String]) {
    for value in values {
        assert!(!text.contains(value.as_str()), "value printed:\n{text}");
    }
}

#[test]
fn scan_reports_human_json_and_sarif() {
    let sb = Sandbox::new("contract-scan");
    let (dir, values) = scan_fixture(&sb);
    let human = scan(&dir, &[]).expect_code(1);
    assert_no_value(&human.all_text(), &values);
    snapshot::assert("scan_human", &normalise(&human.all_text(), &sb.tmp.0));
    let verbose = scan(&dir, &["--verbose"]).expect_code(1);
    assert_eq!(
        verbose.out_text(),
        human.out_text(),
        "two findings: in full"
    );

    let json = scan(&dir, &["--format", "json"]).expect_code(1);
    assert_no_value(&json.all_text(), &values);
    assert!(json.stderr.is_empty(), "{}", json.err_text());
    assert_eq!(json.out_text().lines().count(), 1, "one line");
    snapshot::assert("scan_json", &snapshot::json(&json.json(), &sb.tmp.0));

    let sarif = scan(&dir, &["--format", "sarif"]).expect_code(1);
    assert_no_value(&sarif.all_text(), &values);
    let log = common::assert_valid_sarif(&sarif.stdout);
    snapshot::assert("scan_sarif", &snapshot::json(&log, &sb.tmp.0));
}

#[test]
fn clean_scan_reports_human_json_and_sarif() {
    let sb = Sandbox::new("contract-clean");
    let dir = sb.repo("work");
    dir.write("src/main.rs", "fn main() { println!(\"hello\"); }\n");
    dir.write("README.md", "# hello\n");
    let human = dir.leakgate(&["scan", "."]).expect_code(0);
    snapshot::assert("scan_clean_human", &normalise(&human.all_text(), &sb.tmp.0));
    let json = dir
        .leakgate(&["scan", ".", "--format", "json"])
        .expect_code(0);
    snapshot::assert("scan_clean_json", &snapshot::json(&json.json(), &sb.tmp.0));
    let sarif = dir
        .leakgate(&["scan", ".", "--format", "sarif"])
        .expect_code(0);
    let log = common::assert_valid_sarif(&sarif.stdout);
    snapshot::assert("scan_clean_sarif", &snapshot::json(&log, &sb.tmp.0));
}

/// What a person reads when a commit is blocked: four findings of two providers, through the
/// real pre-commit hook, in a pipe (80 columns).
#[test]
fn blocked_commit_with_four_findings_reads_well_in_80_columns() {
    let sb = Sandbox::new("contract-commit").without_env("COLUMNS");
    let repo = sb.repo("repo");
    let tokens = [github_token(501), github_token(502)];
    repo.write(
        "deploy.env",
        format!("GITHUB_TOKEN={}\nRELEASE_TOKEN={}\n", tokens[0], tokens[1]),
    );
    repo.write(
        "config/aws.py",
        format!(
            "PRIMARY_KEY_ID = \"{}\"\nBACKUP_KEY_ID = \"{}\"\n",
            common::aws_key_id(503),
            common::aws_key_id(504)
        ),
    );
    repo.git_ok(&["add", "."]);
    let out = repo.leakgate(&["hook", "pre-commit"]).expect_code(1);
    let text = normalise(&out.err_text(), &sb.tmp.0);
    for line in text.lines() {
        assert!(
            line.chars().count() <= 80,
            "line wider than 80 columns ({}): {line:?}\n{text}",
            line.chars().count()
        );
    }
    assert_no_value(&out.all_text(), &tokens);
    snapshot::assert("commit_blocked_four_findings", &text);
}

/// `leakgate rules list`: one line per rule of the embedded pack (a pack change is a reviewed
/// change of this snapshot too).
#[test]
fn rules_list() {
    let sb = Sandbox::new("contract-rules");
    let out = sb.leakgate(&sb.tmp.0, &["rules", "list"]).expect_code(0);
    assert!(out.stderr.is_empty(), "{}", out.err_text());
    snapshot::assert("rules_list", &out.out_text());
}

/// The `remote:` lines a pusher sees when the server hook rejects a push (and the client's own
/// lines around them, normalised).
#[test]
fn remote_rejection_as_the_pusher_sees_it() {
    let pair = Pair::new("contract-remote", "");
    pair.seed();
    let token = github_token(801);
    pair.commit(
        &[("ci/deploy.env", &format!("# deploy\nTOKEN={token}\n"))],
        "deploy settings",
    );
    let pushed = pair.push(&["origin", "main"]);
    assert!(!pushed.ok, "accepted:\n{}", pushed.text);
    assert!(
        !pushed.text.contains(&token),
        "secret printed:\n{}",
        pushed.text
    );
    let remote: String = pushed
        .text
        .lines()
        .filter(|l| l.starts_with("remote:"))
        .map(|l| format!("{}\n", l.trim_end()))
        .collect();
    snapshot::assert("remote_rejection", &normalise(&remote, &pair.sb.tmp.0));
}

/// `--help` of both binaries and of every subcommand.
#[test]
fn help_texts_of_both_binaries_and_their_subcommands() {
    let sb = Sandbox::new("contract-help").without_env("COLUMNS");
    let leakgate: &[&[&str]] = &[
        &[],
        &["scan"],
        &["audit"],
        &["rules"],
        &["rules", "list"],
        &["rules", "check"],
        &["report"],
        &["report", "merge"],
        &["ignore"],
        &["hook"],
        &["hook", "pre-commit"],
        &["hook", "commit-msg"],
        &["hook", "pre-push"],
        &["install"],
        &["uninstall"],
        &["init"],
        &["completions"],
        &["man"],
    ];
    let server: &[&[&str]] = &[
        &[],
        &["pre-receive"],
        &["install"],
        &["uninstall"],
        &["check-config"],
    ];
    for (bin, name, commands) in [
        (common::leakgate_bin(), "leakgate", leakgate),
        (common::server_bin(), "leakgate-server", server),
    ] {
        for command in commands {
            let mut args = command.to_vec();
            args.push("--help");
            let out = sb.run(&sb.tmp.0, &bin, &args).expect_code(0);
            let mut snap = vec!["help", name];
            snap.extend_from_slice(command);
            snapshot::assert(&snap.join("_"), &normalise(&out.out_text(), &sb.tmp.0));
        }
    }
}

/// Every format of `leakgate audit` over a small history with fixed authors and dates: two
/// secrets, one added twice and still at the tip, one removed (custom rules, so the snapshots
/// hold the audit's layout and wording, not the pack's remediation texts).
#[test]
fn audit_reports_in_every_format() {
    let sb = Sandbox::new("contract-audit");
    let repo = sb.repo("history");
    let (key, old) = (acme_key(11), acme_key(12));
    repo.write("README.md", "# history\n");
    repo.commit_as("init", "Zed", "2020-01-15T10:00:00Z");
    repo.write("config/app.env", format!("ACME_KEY={key}\n"));
    repo.commit_as("add the key", "Alice", "2021-03-01T10:00:00Z");
    repo.write(
        "deploy/run.sh",
        format!("export ACME_KEY={key}\nOLD={old}\n"),
    );
    repo.commit_as("deploy script", "Bob", "2022-06-15T10:00:00Z");
    repo.write("deploy/run.sh", format!("export ACME_KEY={key}\n"));
    repo.commit_as("drop the old key", "Bob", "2023-02-01T10:00:00Z");
    std::fs::write(sb.tmp.join("rules.yaml"), RULES).unwrap();
    let rules = sb.tmp.join("rules.yaml");
    let audit = |format: &str| {
        repo.leakgate(&[
            "audit",
            "--no-builtin",
            "--config",
            rules.to_str().unwrap(),
            "--format",
            format,
        ])
        .expect_code(1)
    };
    for format in ["human", "csv", "markdown", "html"] {
        let out = audit(format);
        assert_no_value(&out.all_text(), &[key.clone(), old.clone()]);
        snapshot::assert(
            &format!("audit_{format}"),
            &normalise(&out.all_text(), &sb.tmp.0),
        );
    }
    let json = audit("json");
    assert_no_value(&json.all_text(), &[key.clone(), old.clone()]);
    snapshot::assert("audit_json", &snapshot::json(&json.json(), &sb.tmp.0));
    let sarif = audit("sarif");
    let log = common::assert_valid_sarif(&sarif.stdout);
    snapshot::assert("audit_sarif", &snapshot::json(&log, &sb.tmp.0));
}

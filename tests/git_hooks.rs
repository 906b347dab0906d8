//! The git hooks end to end: `leakgate install`, then real `git commit` / `git push` through the
//! installed hooks, in temporary repositories with an isolated git environment (no system or user
//! config, fixed identities and dates, no inherited `GIT_*`). Secrets are built at run time.

use crate::common;

use std::path::{Path, PathBuf};
use std::process::Output;

use common::{all_output, aws_key_id, github_token, random_alnum, Ran as _, Repo, Sandbox};
use leakgate::fingerprint::fingerprint;
use serde_json::Value;

const GITHUB_RULE: &str = "github-personal-access-token";
const AWS_RULE: &str = "aws-access-key-id";
const MARKER: &str = "# leakgate-managed-hook";

/// The fingerprint leakgate prints for a GitHub token.
fn fp(token: &str) -> String {
    fingerprint(GITHUB_RULE, token.as_bytes())
}

/// A repository `repo` with a first commit (a README), and leakgate's `hook` installed.
fn hooked_repo<'a>(sb: &'a Sandbox, hook: &str) -> Repo<'a> {
    let repo = sb.repo("repo");
    repo.write("README", "readme\n");
    repo.commit_unchecked("init");
    repo.install(&["--hook", hook]);
    repo
}

/// `leakgate scan --staged --format json`: `(path, line, fingerprint)` of each finding.
fn staged_findings(repo: &Repo) -> Vec<(String, u64, String)> {
    let out = repo.leakgate(&["scan", "--staged", "--format", "json"]);
    assert!(
        matches!(out.status.code(), Some(0 | 1)),
        "{}",
        all_output(&out)
    );
    findings(&out)
}

/// `(path, line, fingerprint)` of each finding of a JSON report.
fn findings(out: &Output) -> Vec<(String, u64, String)> {
    out.json()["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["path"].as_str().unwrap().to_string(),
                f["line"].as_u64().unwrap(),
                f["fingerprint"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

/// `git push ARGS` in `repo` is refused by the hook, which names `location` and never prints
/// `secret`.
fn assert_push_blocked(repo: &Repo, args: &[&str], location: &str, secret: &str) {
    let out = repo.git(&[&["push"], args].concat());
    assert_ne!(out.code(), 0, "{}", all_output(&out));
    out.err_has(location);
    assert_no_secret(&out, &[secret]);
}

/// `git commit` in `repo` is refused by the hook (exit 1), which names `location` and never
/// prints `secret`.
fn assert_commit_blocked(repo: &Repo, location: &str, secret: &str) {
    let out = repo.commit(&[]);
    assert_eq!(out.status.code(), Some(1), "{}", all_output(&out));
    out.err_has(location);
    assert_no_secret(&out, &[secret]);
}

/// Writes `text` to `path`, stages it and asserts that the commit is blocked at `location`.
fn assert_staged_blocked(repo: &Repo, path: &str, text: String, location: &str, secret: &str) {
    repo.write(path, text);
    repo.git_ok(&["add", path]);
    assert_commit_blocked(repo, location, secret);
}

/// Commits `head` + `after` at `path` unchecked and installs the pre-commit hook; then stages a
/// new line `  <key>: <new>` between the two and checks that the commit is blocked at that line.
fn assert_key_added_blocked(
    repo: &Repo,
    path: &str,
    (head, after): (&str, &str),
    key: &str,
    new: &str,
) {
    repo.write(path, format!("{head}{after}"));
    repo.commit_unchecked("init");
    repo.install(&["--hook", "pre-commit"]);
    let at = format!("{path}:{}:{}", head.lines().count() + 1, key.len() + 5);
    let text = format!("{head}  {key}: {new}\n{after}");
    assert_staged_blocked(repo, path, text, &at, new);
}

/// Neither the whole secret nor most of it appears anywhere in the output.
fn assert_no_secret(out: &Output, secrets: &[&str]) {
    let text = all_output(out);
    for secret in secrets {
        assert!(!text.contains(secret), "a secret printed in full:\n{text}");
        let middle = &secret[4..secret.len() - 4];
        assert!(!text.contains(middle), "most of a secret printed:\n{text}");
    }
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// A hook script that appends `<name> <args>` to `log` and fails when `FOREIGN_FAIL` is set;
/// pre-push hooks also log the refs git gives them on stdin.
fn foreign_hook(name: &str, log: &Path) -> String {
    let log = log.display();
    let stdin = if name == "pre-push" {
        format!("while read -r line; do echo \"stdin $line\" >>'{log}'; done\n")
    } else {
        String::new()
    };
    format!(
        "#!/bin/sh\necho \"{name} ran\" >>'{log}'\n{stdin}if [ -n \"$FOREIGN_FAIL\" ]; then exit 1; fi\nexit 0\n"
    )
}

fn write_executable(path: &Path, content: &str) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, content).unwrap();
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755)).unwrap();
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_default()
}

// ---------------------------------------------------------------------------------------------
// pre-commit: what is scanned

#[test]
fn commit_is_blocked_and_reports_only_the_newly_staged_secret() {
    let sb = Sandbox::new("only-b");
    let repo = sb.repo("repo");
    let (a, b, c, d) = (
        github_token(101),
        github_token(102),
        github_token(103),
        github_token(104),
    );
    repo.write("app.env", format!("A_TOKEN={a}\n"));
    let before = repo.commit_unchecked("history already holds A");
    repo.install(&[]);

    // Staged: B added to the same file and in a new file.
    repo.write("app.env", format!("A_TOKEN={a}\nB_TOKEN={b}\n"));
    repo.write("new.env", format!("# new\nB_TOKEN={b}\n"));
    repo.git_ok(&["add", "app.env", "new.env"]);
    // Unstaged: C in the work tree only. Untracked: D.
    repo.write(
        "app.env",
        format!("A_TOKEN={a}\nB_TOKEN={b}\nC_TOKEN={c}\n"),
    );
    repo.write("untracked.env", format!("D_TOKEN={d}\n"));

    let out = repo.commit(&[]);
    assert_eq!(out.status.code(), Some(1), "{}", all_output(&out));
    assert_eq!(repo.head(), before, "the commit was made");
    let err = stderr(&out);
    assert!(err.contains("commit blocked: 2 secrets"), "{err}");
    assert!(err.contains("app.env:2:9"), "{err}");
    assert!(err.contains("new.env:2:9"), "{err}");
    assert!(err.contains(&fp(&b)), "{err}");
    for other in [&a, &c, &d] {
        assert!(
            !err.contains(&fp(other)),
            "reported a secret not staged:\n{err}"
        );
    }
    assert!(!err.contains("untracked.env"), "{err}");
    assert!(err.contains("git restore --staged"), "{err}");
    assert!(err.contains("leakgate ignore "), "{err}");
    assert!(err.contains("--no-verify"), "{err}");
    assert!(
        err.lines()
            .last()
            .unwrap()
            .starts_with("leakgate: secrets found; scanned 2 blobs"),
        "{err}"
    );
    assert_no_secret(&out, &[&a, &b, &c, &d]);

    let out = repo.leakgate(&["scan", "--staged", "--format", "json"]);
    assert_eq!(out.status.code(), Some(1), "{}", all_output(&out));
    assert_no_secret(&out, &[&a, &b, &c, &d]);
    let found = findings(&out);
    assert_eq!(
        found,
        vec![
            ("app.env".to_string(), 2, fp(&b)),
            ("new.env".to_string(), 2, fp(&b)),
        ]
    );
}

#[test]
fn partial_staging_scans_the_index_version() {
    let sb = Sandbox::new("partial");
    let repo = hooked_repo(&sb, "pre-commit");
    let token = github_token(111);

    // Clean version staged, secret only in the work tree: the commit passes, without the secret.
    repo.write("settings.env", "MODE=dev\n");
    repo.git_ok(&["add", "settings.env"]);
    repo.write("settings.env", format!("MODE=dev\nTOKEN={token}\n"));
    let out = repo.commit(&[]);
    assert_eq!(out.status.code(), Some(0), "{}", all_output(&out));
    assert_eq!(repo.git_ok(&["show", "HEAD:settings.env"]), "MODE=dev");

    // Secret staged, work tree cleaned afterwards: the commit is blocked.
    repo.git_ok(&["add", "settings.env"]);
    repo.write("settings.env", "MODE=prod\n");
    let before = repo.head();
    let out = repo.commit(&[]);
    assert_eq!(out.status.code(), Some(1), "{}", all_output(&out));
    assert_eq!(repo.head(), before);
    out.err_has(&fp(&token));
    assert_no_secret(&out, &[&token]);
}

#[test]
fn commit_all_is_scanned() {
    let sb = Sandbox::new("commit-a");
    let repo = sb.repo("repo");
    repo.write("settings.env", "MODE=dev\n");
    let before = repo.commit_unchecked("init");
    repo.install(&["--hook", "pre-commit"]);
    let token = github_token(121);
    // Nothing staged; the secret is only in the work tree, which `commit -a` takes.
    repo.write("settings.env", format!("MODE=dev\nTOKEN={token}\n"));
    assert!(staged_findings(&repo).is_empty());
    let out = repo.commit(&["-a"]);
    assert_eq!(out.status.code(), Some(1), "{}", all_output(&out));
    assert_eq!(repo.head(), before);
    out.err_has("settings.env:2:7");
    assert_no_secret(&out, &[&token]);
}

/// A decoy value that the filters drop, written over the next key name, does not hide the token
/// after it from the pre-commit hook.
#[test]
fn a_token_behind_a_decoy_that_runs_over_its_key_name_is_blocked() {
    let sb = Sandbox::new("decoy");
    let repo = hooked_repo(&sb, "pre-commit");
    let token = random_alnum(614, 20);
    let line = format!("pagerduty_token=xxxxxxxxxx_pagerduty.token={token}\n");
    assert_staged_blocked(&repo, "ops/pager.env", line, "ops/pager.env:1:44", &token);

    // A token whose characters include its own prefix, behind a rejected one of the same rule.
    let token = format!("dbtc_{}", random_alnum(615, 40));
    repo.write("ops/pager.env", "# none\n");
    repo.git_ok(&["add", "ops/pager.env"]);
    let line = format!("DBT_TOKEN=dbtc_xxxx-{token}\n");
    assert_staged_blocked(&repo, "ops/dbt.env", line, "ops/dbt.env:1:21", &token);
}

/// A made-up `ghp_` token (its checksum fails) followed by more secret material: the generic
/// finding of the whole value is not silenced by the malformed token inside it.
#[test]
fn a_value_that_runs_past_a_malformed_token_is_blocked() {
    let sb = Sandbox::new("malformed");
    let repo = hooked_repo(&sb, "pre-commit");
    let value = format!("ghp_{}.{}", random_alnum(618, 36), random_alnum(619, 40));
    let line = format!("API_KEY = \"{value}\"\n");
    assert_staged_blocked(&repo, "cfg/app.env", line, "cfg/app.env:1:12", &value);
}

/// A Kubernetes Secret whose first value is rejected (no entropy): the value after it, under the
/// same `data:` header, is still found.
fn secret_manifest(value: &str) -> String {
    format!(
        "apiVersion: v1\nkind: Secret\nmetadata:\n  name: db\ndata:\n  user: {}\n  dbkey: {value}\n",
        "A".repeat(20)
    )
}

#[test]
fn a_secret_value_after_a_rejected_one_under_the_same_header_is_blocked() {
    let sb = Sandbox::new("blanked");
    let repo = hooked_repo(&sb, "pre-commit");
    let value = random_alnum(616, 32);
    let manifest = secret_manifest(&value);
    assert_staged_blocked(&repo, "k8s/db.yaml", manifest, "k8s/db.yaml:7:10", &value);
}

/// A Secret whose first `data:` value is in the repository's baseline (known, being rotated)
/// gets a second value: the baselined one is left out, the new one still blocks the commit.
#[test]
fn a_baselined_value_does_not_hide_a_new_one_under_the_same_header() {
    let sb = Sandbox::new("baselined-first");
    let repo = sb.repo("repo");
    let known = random_alnum(617, 32);
    let new = random_alnum(618, 32);
    let head = "apiVersion: v1\nkind: Secret\nmetadata:\n  name: db\ndata:\n";
    baselined_hooked_repo(&repo, "k8s/db.yaml", format!("{head}  alpha: {known}\n"));
    let both = format!("{head}  alpha: {known}\n  beta: {new}\n");
    assert_staged_blocked(&repo, "k8s/db.yaml", both, "k8s/db.yaml:7:9", &new);
}

/// Commits `text` at `path` unchecked, records what it holds in `.leakgate-baseline` (written by
/// `leakgate audit`, named by `git config leakgate.baseline`) and installs the pre-commit hook.
fn baselined_hooked_repo(repo: &Repo, path: &str, text: String) {
    repo.write(path, text);
    repo.commit_unchecked("init");
    let out = repo.leakgate(&["audit", "--write-baseline", ".leakgate-baseline", "-q"]);
    assert_eq!(out.status.code(), Some(1), "{}", all_output(&out));
    repo.git_ok(&["config", "leakgate.baseline", ".leakgate-baseline"]);
    repo.install(&["--hook", "pre-commit"]);
}

/// A token in the repository's baseline, with a new value glued to it: the baseline leaves out
/// the token, not the generic finding of the whole value, which the token no longer silences.
#[test]
fn a_baselined_token_does_not_hide_a_value_glued_to_it() {
    let sb = Sandbox::new("baselined-glued");
    let repo = sb.repo("repo");
    let token = github_token(619);
    baselined_hooked_repo(&repo, "app.env", format!("API_KEY=\"{token}\"\n"));
    let glued = format!("{token}.{}", random_alnum(620, 40));
    // `scan --baseline` judges it the same way.
    repo.write("other.env", format!("API_KEY=\"{glued}\"\n"));
    let out = repo.leakgate(&["scan", "other.env", "--baseline", ".leakgate-baseline"]);
    assert_eq!(out.status.code(), Some(1), "{}", all_output(&out));
    assert_no_secret(&out, &[&glued]);
    let text = format!("API_KEY=\"{glued}\"\n");
    assert_staged_blocked(&repo, "app.env", text, "app.env:1:", &glued);
}

/// A bundle of eight Secrets of eight values each gets a ninth value in its last one: the
/// searches from each header cost about the length of its section, so the committed values (the
/// hunk's context) leave the new one within reach.
#[test]
fn a_value_added_to_the_last_of_many_secrets_is_blocked() {
    let sb = Sandbox::new("many-secrets");
    let repo = sb.repo("repo");
    let mut bundle = String::new();
    for s in 0..8u64 {
        bundle.push_str(&format!(
            "---\napiVersion: v1\nkind: Secret\nmetadata:\n  name: svc{s}\ntype: Opaque\ndata:\n"
        ));
        for k in 0..8u64 {
            bundle.push_str(&format!(
                "  KEY_{k}: {}\n",
                random_alnum(800 + s * 8 + k, 32)
            ));
        }
    }
    let new = random_alnum(899, 33);
    assert_key_added_blocked(&repo, "k8s/bundle.yaml", (&bundle, ""), "beta", &new);
}

/// A Secret with a long annotation (an 8 KB `last-applied-configuration`) in its metadata and
/// many placeholder values gets a real one at the end: the chain of searches after the values
/// copies only the header's first and last lines, so the long line does not use up its budget
/// before the new value.
#[test]
fn a_value_after_a_long_annotation_and_many_values_is_blocked() {
    let sb = Sandbox::new("long-header");
    let repo = sb.repo("repo");
    let note = "x".repeat(8000);
    let mut secret = format!(
        "apiVersion: v1\nkind: Secret\nmetadata:\n  name: app\n  annotations:\n    kubectl.kubernetes.io/last-applied-configuration: {{\"note\":\"{note}\"}}\ntype: Opaque\ndata:\n"
    );
    for k in 0..30 {
        secret.push_str(&format!("  K{k}: {}\n", "A".repeat(24)));
    }
    let new = random_alnum(902, 40);
    assert_key_added_blocked(&repo, "k8s/app.yaml", (&secret, ""), "beta", &new);
}

/// Shapes around a Secret's values that made each search of the chain after them costly or
/// sent it to a later section, each followed by a new value at the end of the `data:` block: a
/// short first key after an 8 KB annotation, a comment between `data:` and the values, trailing
/// blanks after `data:`, and a second top-level `data:` block after the values.
#[test]
fn a_value_after_many_under_an_odd_header_is_blocked() {
    let sb = Sandbox::new("odd-headers");
    let note = format!(
        "  annotations:\n    kubectl.kubernetes.io/last-applied-configuration: {{\"note\":\"{}\"}}\n",
        "x".repeat(8000)
    );
    let shapes = [
        ("short-key", note.as_str(), "data:\n  user: YWRtaW4=\n", ""),
        ("comment", note.as_str(), "data:\n  # values\n", ""),
        ("trailing", "", &*format!("data:{}\n", " ".repeat(8000)), ""),
        (
            "second",
            "",
            "data:\n  user: YWRtaW4=\n",
            "# defaults\ndata:\n  note: BBBBBBBBBBBBBBBBBBBBBBBB\n",
        ),
    ];
    for (i, (name, metadata, data, after)) in shapes.into_iter().enumerate() {
        let repo = sb.repo(name);
        let mut head = format!(
            "apiVersion: v1\nkind: Secret\nmetadata:\n  name: app\n{metadata}type: Opaque\n{data}"
        );
        for k in 0..45 {
            head.push_str(&format!("  K{k}: {}\n", "A".repeat(24)));
        }
        let new = random_alnum(910 + i as u64, 40);
        assert_key_added_blocked(&repo, "k8s/app.yaml", (&head, after), "beta", &new);
    }
}

/// A Secret of 120 keys gets one more: the rule reads a `data:` block of any length (it read 40
/// lines of it, so the new key, 121 lines after `data:`, passed).
#[test]
fn a_value_added_to_a_secret_of_many_keys_is_blocked() {
    let sb = Sandbox::new("many-keys");
    let repo = sb.repo("repo");
    let mut secret = String::from("apiVersion: v1\nkind: Secret\nmetadata:\n  name: env\ndata:\n");
    for k in 0..120u64 {
        secret.push_str(&format!("  KEY_{k}: {}\n", random_alnum(1000 + k, 32)));
    }
    let new = random_alnum(1200, 40);
    assert_key_added_blocked(&repo, "k8s/env.yaml", (&secret, ""), "beta", &new);
}

/// Two Secrets around a `ConfigMap` with a 40 KB line, in one window: the searches that end the
/// first Secret's chain run over that line, and must leave the second Secret's chain its
/// budget (a search more per chain end used it up, and the new value passed).
#[test]
fn a_value_after_a_long_document_between_secrets_is_blocked() {
    let sb = Sandbox::new("drain");
    let repo = sb.repo("repo");
    let placeholder = "A".repeat(24);
    let secret = |name: &str, keys: &[&str]| {
        let mut text = format!(
            "apiVersion: v1\nkind: Secret\nmetadata:\n  name: {name}\ntype: Opaque\ndata:\n"
        );
        for key in keys {
            text.push_str(&format!("  {key}: {placeholder}\n"));
        }
        text
    };
    let dashboard = format!(
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: dashboards\ndata:\n  d.json: '{}'\n",
        "{\"type\": \"graph\", \"title\": \"requests\"}, ".repeat(900)
    );
    let head = format!(
        "{}---\n{dashboard}---\n{}",
        secret("defaults", &["username", "password"]),
        secret("app", &["a0", "a1", "a2", "a3", "a4"])
    );
    let new = random_alnum(1300, 40);
    assert_key_added_blocked(&repo, "k8s/all.yaml", (&head, ""), "conn", &new);
}

/// A header-like line inside a Secret's `data:` (`kind: Secret` as a key) starts the rule's next
/// match, which runs on to the next Secret: the value added after it under the first header is
/// still searched from that header.
#[test]
fn a_value_after_a_header_like_line_in_its_section_is_blocked() {
    let sb = Sandbox::new("header-like");
    let repo = sb.repo("repo");
    let decoy = "A".repeat(24);
    let fixture = |added: &str| {
        format!(
            "S1 = \"\"\"\napiVersion: v1\nkind: Secret\nmetadata:\n  name: a\ndata:\n  a: {decoy}\n  kind: Secret\n{added}\"\"\"\nS2 = \"\"\"\napiVersion: v1\nkind: Secret\nmetadata:\n  name: b\ndata:\n  c: {decoy}\n\"\"\"\n"
        )
    };
    repo.write("t.py", fixture(""));
    repo.commit_unchecked("init");
    repo.install(&["--hook", "pre-commit"]);
    let new = random_alnum(901, 44);
    let text = fixture(&format!("  b: {new}\n"));
    assert_staged_blocked(&repo, "t.py", text, "t.py:9:6", &new);
}

#[test]
fn commit_with_paths_scans_the_temporary_index() {
    let sb = Sandbox::new("commit-paths");
    let repo = sb.repo("repo");
    repo.write("a.env", "A=1\n");
    repo.write("b.txt", "b\n");
    let before = repo.commit_unchecked("init");
    repo.install(&["--hook", "pre-commit"]);
    let staged = github_token(131);
    let worktree = github_token(132);

    // `git commit <path>` commits the work-tree version of that path (not what is staged).
    repo.write("a.env", format!("A=1\nTOKEN={worktree}\n"));
    let out = repo.commit(&["a.env"]);
    assert_eq!(out.status.code(), Some(1), "{}", all_output(&out));
    assert_eq!(repo.head(), before);
    out.err_has(&fp(&worktree));
    assert_no_secret(&out, &[&worktree]);

    // A secret staged elsewhere is not part of `git commit b.txt`: that commit passes.
    repo.write("a.env", format!("A=1\nTOKEN={staged}\n"));
    repo.git_ok(&["add", "a.env"]);
    repo.write("b.txt", "b\nmore\n");
    let out = repo.commit(&["b.txt"]);
    assert_eq!(out.status.code(), Some(0), "{}", all_output(&out));
    assert_ne!(repo.head(), before);
    assert_eq!(repo.git_ok(&["show", "HEAD:a.env"]), "A=1");
    // ... and it is still staged, and still blocked.
    let out = repo.commit(&[]);
    assert_eq!(out.status.code(), Some(1), "{}", all_output(&out));
    out.err_has(&fp(&staged));
}

#[test]
fn first_commit_of_a_new_repository_is_scanned() {
    let sb = Sandbox::new("first");
    let repo = sb.repo("repo");
    repo.install(&[]);
    let key = aws_key_id(141);
    repo.write("deploy/config.py", format!("KEY_ID = \"{key}\"\n"));
    repo.git_ok(&["add", "."]);
    let out = repo.commit(&[]);
    assert_eq!(out.status.code(), Some(1), "{}", all_output(&out));
    assert!(
        !repo
            .git(&["rev-parse", "--verify", "-q", "HEAD"])
            .status
            .success(),
        "the first commit was made"
    );
    let err = stderr(&out);
    assert!(err.contains("deploy/config.py:1:"), "{err}");
    assert!(
        err.contains(&fingerprint(AWS_RULE, key.as_bytes())),
        "{err}"
    );
    assert_no_secret(&out, &[&key]);

    repo.write("deploy/config.py", "KEY_ID = os.environ[\"KEY_ID\"]\n");
    repo.git_ok(&["add", "."]);
    let out = repo.commit(&[]);
    assert_eq!(out.status.code(), Some(0), "{}", all_output(&out));
    out.err_has("no secrets found; scanned 1 blob");
}

#[test]
fn merge_commit_reports_only_lines_new_to_both_parents() {
    let sb = Sandbox::new("merge");
    let repo = sb.repo("repo");
    repo.write("conflict.txt", "x = base\n");
    repo.commit_unchecked("base");
    repo.install(&["--hook", "pre-commit"]);
    let old = github_token(151);
    let in_branch = github_token(152);
    let resolution = github_token(153);

    // A clean merge of a branch whose history already holds a secret: nothing new, it passes.
    repo.git_ok(&["checkout", "-q", "-b", "feature1"]);
    repo.write("feature.env", format!("T={old}\n"));
    repo.commit_unchecked("feature1 (already holds a secret)");
    repo.git_ok(&["checkout", "-q", "main"]);
    repo.write("main.txt", "main work\n");
    repo.git_ok(&["add", "main.txt"]);
    let out = repo.commit(&[]);
    assert_eq!(out.status.code(), Some(0), "{}", all_output(&out));
    repo.git_ok(&["merge", "-q", "--no-ff", "--no-commit", "feature1"]);
    assert!(staged_findings(&repo).is_empty());
    let out = repo.git(&["commit", "--no-edit"]);
    assert_eq!(out.status.code(), Some(0), "{}", all_output(&out));
    assert_eq!(
        repo.git_ok(&["rev-list", "--parents", "-n1", "HEAD"])
            .split(' ')
            .count(),
        3
    );

    // A conflict resolution that keeps the branch's secret and adds a new one: only the new one.
    repo.git_ok(&["checkout", "-q", "-b", "feature2"]);
    repo.write("conflict.txt", format!("x = feature\nT1={in_branch}\n"));
    repo.commit_unchecked("feature2 (already holds a secret)");
    repo.git_ok(&["checkout", "-q", "main"]);
    repo.write("conflict.txt", "x = main\n");
    repo.git_ok(&["add", "conflict.txt"]);
    let out = repo.commit(&[]);
    assert_eq!(out.status.code(), Some(0), "{}", all_output(&out));
    let before = repo.head();
    let out = repo.git(&["merge", "feature2"]);
    assert!(
        !out.status.success(),
        "expected a conflict:\n{}",
        all_output(&out)
    );
    repo.write(
        "conflict.txt",
        format!("x = main\nx = feature\nT1={in_branch}\nT2={resolution}\n"),
    );
    repo.git_ok(&["add", "conflict.txt"]);
    assert_eq!(
        staged_findings(&repo),
        vec![("conflict.txt".to_string(), 4, fp(&resolution))]
    );
    let out = repo.git(&["commit", "--no-edit"]);
    assert_eq!(out.status.code(), Some(1), "{}", all_output(&out));
    assert_eq!(repo.head(), before);
    let err = stderr(&out);
    assert!(err.contains("commit blocked: 1 secret "), "{err}");
    assert!(err.contains("conflict.txt:4:4"), "{err}");
    assert!(
        !err.contains(&fp(&in_branch)) && !err.contains(&fp(&old)),
        "{err}"
    );
    assert_no_secret(&out, &[&old, &in_branch, &resolution]);
}

#[test]
fn renames_report_only_new_lines() {
    let sb = Sandbox::new("rename");
    let repo = sb.repo("repo");
    let old = github_token(161);
    let new = github_token(162);
    let body: String = (1..=20).map(|i| format!("setting_{i} = {i}\n")).collect();
    repo.write("old.env", format!("{body}TOKEN={old}\n"));
    repo.commit_unchecked("history already holds a secret");
    repo.install(&["--hook", "pre-commit"]);

    // Exact rename: nothing new.
    repo.git_ok(&["mv", "old.env", "renamed.env"]);
    assert!(staged_findings(&repo).is_empty());
    let out = repo.commit(&[]);
    assert_eq!(out.status.code(), Some(0), "{}", all_output(&out));

    // Renamed and edited: only the added line.
    std::fs::create_dir_all(repo.dir.join("moved")).unwrap();
    repo.git_ok(&["mv", "renamed.env", "moved/app.env"]);
    repo.write(
        "moved/app.env",
        format!("{body}TOKEN={old}\nsetting_21 = 21\nNEW_TOKEN={new}\n"),
    );
    repo.git_ok(&["add", "moved/app.env"]);
    assert_eq!(
        staged_findings(&repo),
        vec![("moved/app.env".to_string(), 23, fp(&new))]
    );
    let before = repo.head();
    let out = repo.commit(&[]);
    assert_eq!(out.status.code(), Some(1), "{}", all_output(&out));
    assert_eq!(repo.head(), before);
    let err = stderr(&out);
    assert!(err.contains("moved/app.env:23:11"), "{err}");
    assert!(!err.contains(&fp(&old)), "{err}");
    assert_no_secret(&out, &[&old, &new]);
}

#[test]
fn binary_files_are_scanned_and_a_file_over_the_cap_blocks_until_the_config_accepts_it() {
    let sb = Sandbox::new("skipped");
    let repo = hooked_repo(&sb, "pre-commit");
    let token = github_token(171);
    repo.write(".leakgate.yaml", "max_blob_bytes: 2000\n");
    repo.commit_unchecked("config");
    // One NUL byte in the first 8000 bytes no longer hides anything.
    let mut binary = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\n\n".to_vec();
    binary.extend_from_slice(format!("x={token}\n").as_bytes());
    repo.write("img/logo.png", &binary);
    let big: String = (0..300).map(|i| format!("line {i}\n")).collect();
    repo.write("data/big.txt", format!("{big}TOKEN={token}\n"));
    repo.write("small.txt", "small\n");
    repo.git_ok(&["add", "."]);

    let out = repo.leakgate(&["scan", "--staged", "--format", "json"]);
    assert_eq!(out.status.code(), Some(1), "{}", all_output(&out));
    let json: Value = out.json();
    assert_eq!(json["findings"][0]["path"], "img/logo.png");
    assert_eq!(json["findings"][0]["line"], 5);
    assert_eq!(json["skipped"][0]["path"], "data/big.txt");
    assert_eq!(json["skipped"][0]["reason"], "too-large");
    let detail = json["skipped"][0]["detail"].as_str().unwrap();
    assert!(
        detail.contains("2637 bytes") && detail.contains("cap of 2000 bytes"),
        "{detail}"
    );
    let out = repo.commit(&[]);
    assert_eq!(out.status.code(), Some(1), "{}", all_output(&out));
    assert_no_secret(&out, &[&token]);

    // Without the binary secret, the file over the cap still blocks: it was not scanned whole.
    binary.truncate(16);
    repo.write("img/logo.png", &binary);
    repo.git_ok(&["add", "."]);
    let out = repo.commit(&[]);
    assert_eq!(out.status.code(), Some(1), "{}", all_output(&out));
    let err = stderr(&out);
    assert!(err.contains("data/big.txt: too large"), "{err}");
    assert!(err.contains("on_unscanned: accept"), "{err}");
    assert!(err.contains("scan incomplete"), "{err}");

    // The repository decides to accept what is over the cap: committed, and still listed.
    repo.write(
        ".leakgate.yaml",
        "max_blob_bytes: 2000\non_unscanned: accept\n",
    );
    repo.commit_unchecked("accept big files");
    repo.write("data/big.txt", format!("{big}more\nTOKEN={token}\n"));
    repo.git_ok(&["add", "."]);
    let out = repo.commit(&[]);
    assert_eq!(out.status.code(), Some(0), "{}", all_output(&out));
    let err = stderr(&out);
    assert!(err.contains("Not scanned:"), "{err}");
    let last = err.lines().last().unwrap();
    assert!(
        last.contains("skipped 1 (1 too-large)"),
        "the summary must say what was skipped: {last}"
    );
    assert_no_secret(&out, &[&token]);
}

/// A private key in PEM form built at run time (no key literal is committed).
fn pem_key(seed: u64) -> (String, String, String) {
    let body: Vec<String> = (0..25).map(|i| random_alnum(seed * 100 + i, 64)).collect();
    (
        "-----BEGIN RSA PRIVATE KEY-----".to_string(),
        body.join("\n"),
        "-----END RSA PRIVATE KEY-----".to_string(),
    )
}

/// One placeholder word written into a real key's body does not make the whole key pass.
#[test]
fn a_key_with_one_example_line_in_its_body_is_blocked() {
    let sb = Sandbox::new("pem-example");
    let repo = hooked_repo(&sb, "pre-commit");
    let (begin, body, end) = pem_key(3);
    let mut lines: Vec<String> = body.lines().map(str::to_string).collect();
    lines[12] = format!("EXAMPLE{}", &lines[12][7..]);
    let body = lines.join("\n");
    let pem = format!("{begin}\n{body}\n{end}\n");
    assert_staged_blocked(&repo, "deploy/key.pem", pem, "deploy/key.pem:2:1", &body);
}

#[test]
fn a_key_rotated_inside_an_unchanged_pem_block_is_blocked() {
    let sb = Sandbox::new("pem-rotate");
    let repo = sb.repo("repo");
    let (begin, body, end) = pem_key(1);
    repo.write("README", "readme\n");
    repo.write("key.pem", format!("{begin}\nplaceholder\n{end}\n"));
    repo.commit_unchecked("placeholder key");
    repo.install(&["--hook", "pre-commit"]);
    // Only the body lines are added; BEGIN and END stay unchanged.
    repo.write("key.pem", format!("{begin}\n{body}\n{end}\n"));
    repo.git_ok(&["add", "."]);
    let out = repo.commit(&[]);
    assert_eq!(out.status.code(), Some(1), "{}", all_output(&out));
    let err = stderr(&out);
    assert!(err.contains("key.pem:"), "{err}");
    assert_no_secret(&out, &[&body]);
    repo.commit_unchecked("real key (already compromised)");

    // Rotated in place: a new body between the same lines.
    let (_, rotated, _) = pem_key(2);
    repo.write("key.pem", format!("{begin}\n{rotated}\n{end}\n"));
    repo.git_ok(&["add", "."]);
    let out = repo.commit(&[]);
    assert_eq!(out.status.code(), Some(1), "{}", all_output(&out));
    repo.commit_unchecked("rotated key");

    // An unrelated line added next to the unchanged block is not reported.
    repo.write(
        "key.pem",
        format!("# deploy key\n{begin}\n{rotated}\n{end}\n"),
    );
    repo.git_ok(&["add", "."]);
    assert_eq!(staged_findings(&repo), vec![]);
}

#[test]
fn a_yaml_value_on_the_line_after_its_unchanged_key_is_blocked() {
    let sb = Sandbox::new("yaml-next-line");
    let repo = sb.repo("repo");
    repo.write(
        "config.yml",
        "aws:\n  aws_secret_access_key: >-\n    CHANGE_ME\n  region: eu-west-1\n",
    );
    repo.commit_unchecked("template");
    repo.install(&["--hook", "pre-commit"]);
    let secret = random_alnum(77, 40);
    repo.write(
        "config.yml",
        format!("aws:\n  aws_secret_access_key: >-\n    {secret}\n  region: eu-west-1\n"),
    );
    repo.git_ok(&["add", "."]);
    let out = repo.commit(&[]);
    assert_eq!(out.status.code(), Some(1), "{}", all_output(&out));
    let err = stderr(&out);
    assert!(err.contains("config.yml:3:5"), "{err}");
    assert_no_secret(&out, &[&secret]);
}

/// A multiline rule's window ends a few lines after its keyword's line: a user entry appended far
/// below the first one, spelled with other spacing (`-  name:`), needs a keyword of its own to be
/// found by the kubeconfig rule (and not only by a generic one).
#[test]
fn a_kubeconfig_user_appended_with_other_spacing_is_blocked_by_its_rule() {
    let sb = Sandbox::new("kubeconfig-spacing");
    let repo = sb.repo("repo");
    let first = random_alnum(81, 32);
    let filler: String = (0..20).map(|i| format!("  # note {i}\n")).collect();
    let head = format!(
        "apiVersion: v1\nkind: Config\nusers:\n- name: alice\n  user:\n    token: {first}\n{filler}"
    );
    repo.write("kubeconfig", &head);
    repo.commit_unchecked("alice");
    repo.install(&["--hook", "pre-commit"]);
    let second = random_alnum(82, 32);
    repo.write(
        "kubeconfig",
        format!("{head}-  name: bob\n  user:\n    token: {second}\n"),
    );
    repo.git_ok(&["add", "."]);
    let rule = fingerprint("kubernetes-kubeconfig-token", second.as_bytes());
    assert_eq!(
        staged_findings(&repo)
            .into_iter()
            .filter(|(_, _, f)| *f == rule)
            .collect::<Vec<_>>(),
        vec![("kubeconfig".to_string(), 29, rule.clone())]
    );
    let out = repo.commit(&[]);
    assert_eq!(out.status.code(), Some(1), "{}", all_output(&out));
    assert!(stderr(&out).contains("kubeconfig:29:"), "{}", stderr(&out));
    assert_no_secret(&out, &[&first, &second]);
}

#[test]
fn a_utf16_file_is_decoded_and_blocked_with_its_line() {
    let sb = Sandbox::new("utf16");
    let repo = hooked_repo(&sb, "pre-commit");
    let token = github_token(181);
    let text = format!("# setup\r\n$token = \"{token}\"\r\n");
    let mut utf16 = vec![0xFF, 0xFE];
    for unit in text.encode_utf16() {
        utf16.extend_from_slice(&unit.to_le_bytes());
    }
    repo.write("setup.ps1", &utf16);
    repo.git_ok(&["add", "."]);
    let out = repo.commit(&[]);
    assert_eq!(out.status.code(), Some(1), "{}", all_output(&out));
    out.err_has("setup.ps1:2:");
    assert_no_secret(&out, &[&token]);
}

#[test]
fn a_50_mb_staged_file_with_a_key_on_its_last_line_is_blocked() {
    let sb = Sandbox::new("big-staged");
    let repo = hooked_repo(&sb, "pre-commit");
    let token = github_token(191);
    let line = "var x = function(a, b) { return a + b; }; // padding padding padding\n";
    let mut data = line.repeat(50_000_000 / line.len());
    data.push_str(&format!("const t = \"{token}\";\n"));
    let lines = data.lines().count();
    repo.write("dist/bundle.js", &data);
    drop(data);
    repo.git_ok(&["add", "."]);
    let out = repo.commit(&[]);
    assert_eq!(out.status.code(), Some(1), "{}", all_output(&out));
    out.err_has(&format!("dist/bundle.js:{lines}:"));
    assert_no_secret(&out, &[&token]);
}

/// The prefilter confirms a keyword by the eight bytes from its start, zero past the end of the
/// text, folded to lowercase at once: tokens that start a file with no final line feed, or end
/// one in capitals, are still found, at their lines, through a real commit.
#[test]
fn tokens_at_the_very_start_and_end_of_files_without_a_final_newline_are_blocked() {
    let sb = Sandbox::new("edges");
    let repo = hooked_repo(&sb, "pre-commit");
    let token = github_token(311);
    let key_id = aws_key_id(311);
    repo.write("only.txt", &token);
    repo.write("tail.env", format!("x=1\nAWS_ACCESS_KEY_ID={key_id}"));
    repo.git_ok(&["add", "."]);
    let mut places: Vec<(String, u64)> = staged_findings(&repo)
        .into_iter()
        .map(|(path, line, _)| (path, line))
        .collect();
    places.sort();
    places.dedup();
    assert_eq!(
        places,
        [("only.txt".to_string(), 1), ("tail.env".to_string(), 2)]
    );
    let out = repo.commit(&[]);
    assert_eq!(out.status.code(), Some(1), "{}", all_output(&out));
    assert_no_secret(&out, &[&token, &key_id]);
}

/// Tokens on lines with non-ASCII characters around them (a non-breaking space, an ideographic
/// space, a letter right before, an emoji after) are found on their lines: such a line is the
/// one whose rule regexes are tried first with a cheaper superset before the Unicode form. On
/// line 4 only the Unicode form matches: its `\s*` takes the non-breaking spaces.
#[test]
fn tokens_among_non_ascii_characters_are_blocked_on_their_lines() {
    let sb = Sandbox::new("non-ascii");
    let repo = hooked_repo(&sb, "pre-commit");
    let token = github_token(312);
    let key_id = aws_key_id(312);
    let secret = random_alnum(312, 40);
    repo.write(
        "notes.md",
        format!(
            "Schlüssel für café:\u{a0}{token}\n\
             AWS_ACCESS_KEY_ID\u{a0}=\u{3000}{key_id} 😀\n\
             ключ=é{token}\n\
             aws_secret_access_key\u{a0}=\u{a0}{secret}\n"
        ),
    );
    repo.git_ok(&["add", "."]);
    let mut lines: Vec<u64> = staged_findings(&repo)
        .into_iter()
        .map(|(_, line, _)| line)
        .collect();
    lines.sort_unstable();
    lines.dedup();
    assert_eq!(lines, [1, 2, 3, 4]);
    let out = repo.commit(&[]);
    assert_eq!(out.status.code(), Some(1), "{}", all_output(&out));
    assert_no_secret(&out, &[&token, &key_id, &secret]);
}

#[test]
fn a_secret_in_the_author_name_is_blocked_by_commit_msg_and_pre_push() {
    let sb = Sandbox::new("author");
    let repo = sb.repo("repo");
    repo.seed_with_origin(&sb.bare_remote());
    repo.install(&[]);
    let token = github_token(201);
    let author = format!("{token} <dev@example.invalid>");
    repo.write("a.txt", "clean\n");
    repo.git_ok(&["add", "."]);
    let out = repo.commit(&["--author", &author]);
    assert_eq!(out.status.code(), Some(1), "{}", all_output(&out));
    out.err_has("(commit author/committer)");
    assert_no_secret(&out, &[&token]);
    // Made without the hooks, it is stopped at the push.
    repo.git_ok(&[
        "commit",
        "-q",
        "--no-verify",
        "-m",
        "x",
        "--author",
        &author,
    ]);
    assert_push_blocked(
        &repo,
        &["origin", "HEAD:refs/heads/main"],
        "(commit author/committer)",
        &token,
    );
}

#[test]
fn pre_push_blocks_a_tag_that_points_at_a_blob_or_a_tree() {
    let sb = Sandbox::new("tag-blob");
    let repo = sb.repo("repo");
    repo.seed_with_origin(&sb.bare_remote());
    repo.install(&["--hook", "pre-push"]);
    let token = github_token(211);
    repo.write("secret.txt", format!("token={token}\n"));
    let blob = repo.git_ok(&["hash-object", "-w", "secret.txt"]);
    repo.git_ok(&["tag", "t-blob", &blob]);
    let out = repo.git(&["push", "origin", "t-blob"]);
    assert_ne!(out.code(), 0, "{}", all_output(&out));
    let err = stderr(&out);
    assert!(
        err.contains(&format!("refs/tags/t-blob (blob {blob}):1")),
        "{err}"
    );
    assert_no_secret(&out, &[&token]);
    // An annotated tag of a tree: the tree's files are scanned, not only the tag message.
    repo.git_ok(&["add", "secret.txt"]);
    let tree = repo.git_ok(&["write-tree"]);
    repo.git_ok(&["tag", "-a", "-m", "a tree", "t-tree", &tree]);
    assert_push_blocked(
        &repo,
        &["origin", "t-tree"],
        "refs/tags/t-tree:secret.txt:1",
        &token,
    );
}

// ---------------------------------------------------------------------------------------------
// commit-msg and pre-push

#[test]
fn commit_msg_hook_blocks_a_token_in_the_message() {
    let sb = Sandbox::new("commit-msg");
    let repo = sb.repo("repo");
    repo.write("README", "readme\n");
    repo.commit_unchecked("init");
    repo.install(&[]);
    let token = github_token(181);
    repo.write("README", "readme\nmore\n");
    repo.git_ok(&["add", "README"]);
    let before = repo.head();
    let message = format!("deploy: use {token} for the release");
    let out = repo.git(&["commit", "-m", &message]);
    assert_eq!(out.status.code(), Some(1), "{}", all_output(&out));
    assert_eq!(repo.head(), before);
    let err = stderr(&out);
    assert!(
        err.contains("commit blocked: 1 secret in the commit message"),
        "{err}"
    );
    assert!(err.contains(&fp(&token)), "{err}");
    assert!(err.contains("edit the commit message"), "{err}");
    assert_no_secret(&out, &[&token]);

    let out = repo.git(&[
        "commit",
        "-m",
        "deploy: read the token from the environment",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", all_output(&out));
    assert_ne!(repo.head(), before);
}

#[test]
fn pre_push_blocks_unverified_commits_and_lets_a_clean_push_through() {
    let sb = Sandbox::new("pre-push");
    let remote = sb.bare_remote();
    let remote_head = || {
        let out = sb
            .command("git", &remote)
            .args(["rev-parse", "-q", "--verify", "refs/heads/main"])
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    };
    let repo = sb.repo("repo");
    repo.git_ok(&["remote", "add", "origin", &remote.display().to_string()]);
    // A foreign pre-push hook is chained: it must still see git's stdin.
    let log = sb.tmp.join("foreign.log");
    write_executable(
        &repo.dir.join(".git/hooks/pre-push"),
        &foreign_hook("pre-push", &log),
    );
    repo.install(&[]);

    repo.write("README", "readme\n");
    repo.git_ok(&["add", "README"]);
    let out = repo.commit(&[]);
    assert_eq!(out.status.code(), Some(0), "{}", all_output(&out));
    let out = repo.git(&["push", "-q", "origin", "main"]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "clean push: {}",
        all_output(&out)
    );
    let pushed = repo.head();
    assert_eq!(remote_head(), pushed);
    assert!(read(&log).contains(&format!("stdin refs/heads/main {pushed} refs/heads/main ")));

    // A secret committed with --no-verify at the tip: blocked, with `git commit --amend`.
    let token = github_token(191);
    repo.write("deploy.env", format!("TOKEN={token}\n"));
    let bad = repo.commit_unchecked("add deploy config");
    let out = repo.git(&["push", "origin", "main"]);
    assert_ne!(out.status.code(), Some(0), "{}", all_output(&out));
    assert_eq!(remote_head(), pushed, "the push went through");
    let err = stderr(&out);
    assert!(err.contains("push blocked: 1 secret in 1 commit"), "{err}");
    assert!(err.contains("deploy.env:1:7"), "{err}");
    assert!(err.contains(&format!("commit {}", &bad[..12])), "{err}");
    assert!(err.contains("git commit --amend"), "{err}");
    assert!(err.contains(&fp(&token)), "{err}");
    assert_no_secret(&out, &[&token]);
    assert!(read(&log).contains(&format!("stdin refs/heads/main {bad} ")));

    // With a clean commit on top it is older: `git rebase -i <commit>^`.
    repo.write("README", "readme\nmore\n");
    repo.git_ok(&["add", "README"]);
    let out = repo.commit(&[]);
    assert_eq!(out.status.code(), Some(0), "{}", all_output(&out));
    let out = repo.git(&["push", "origin", "main"]);
    assert_ne!(out.status.code(), Some(0), "{}", all_output(&out));
    assert_eq!(remote_head(), pushed);
    let err = stderr(&out);
    assert!(
        err.contains(&format!("git rebase -i {}^", &bad[..12])),
        "{err}"
    );
    assert_no_secret(&out, &[&token]);

    // The same through `scan --range`.
    let out = repo.leakgate(&["scan", "--range", "origin/main..HEAD", "--format", "json"]);
    assert_eq!(out.status.code(), Some(1), "{}", all_output(&out));
    let json: Value = out.json();
    assert_eq!(json["findings"].as_array().unwrap().len(), 1, "{json}");
    assert_eq!(json["findings"][0]["commit"], bad.as_str());

    // The chained hook's failure blocks a clean push too.
    repo.git_ok(&["reset", "-q", "--hard", "origin/main"]);
    repo.write("notes.txt", "clean\n");
    repo.git_ok(&["add", "notes.txt"]);
    let out = repo.commit(&[]);
    assert_eq!(out.status.code(), Some(0), "{}", all_output(&out));
    let out = repo
        .git_cmd(&["push", "-q", "origin", "main"])
        .env("FOREIGN_FAIL", "1")
        .output()
        .unwrap();
    assert_ne!(out.status.code(), Some(0), "{}", all_output(&out));
    assert_eq!(remote_head(), pushed);

    // Fixed history: the push goes through.
    let out = repo.git(&["push", "-q", "origin", "main"]);
    assert_eq!(out.status.code(), Some(0), "{}", all_output(&out));
    assert_eq!(remote_head(), repo.head());
}

// ---------------------------------------------------------------------------------------------
// install / uninstall

#[test]
fn install_in_a_fresh_repository_is_idempotent_and_uninstall_removes_it() {
    let sb = Sandbox::new("install-fresh");
    let repo = sb.repo("repo");
    let hooks = repo.dir.join(".git/hooks");
    let first = repo.install(&[]);
    for hook in ["pre-commit", "commit-msg", "pre-push"] {
        assert!(first.contains(&format!("{hook}: installed")), "{first}");
        let path = hooks.join(hook);
        let content = read(&path);
        assert!(content.contains(MARKER), "{content}");
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o111, 0o111, "{hook} is not executable");
    }
    let snapshot = |dir: &Path| {
        let mut v: Vec<(String, String)> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| {
                let e = e.unwrap();
                (
                    e.file_name().to_string_lossy().into_owned(),
                    read(&e.path()),
                )
            })
            .collect();
        v.sort();
        v
    };
    let after_first = snapshot(&hooks);
    let second = repo.install(&[]);
    assert!(second.contains("pre-commit: updated"), "{second}");
    assert_eq!(
        snapshot(&hooks),
        after_first,
        "a second install changed the hooks"
    );
    assert!(!after_first.iter().any(|(n, _)| n.contains("chained")));

    // Installed twice, the hook still scans once and blocks.
    let token = github_token(201);
    repo.write("a.env", format!("T={token}\n"));
    repo.git_ok(&["add", "a.env"]);
    let out = repo.commit(&[]);
    assert_eq!(out.status.code(), Some(1), "{}", all_output(&out));
    assert_eq!(
        stderr(&out).matches("commit blocked").count(),
        1,
        "{}",
        stderr(&out)
    );

    let out = repo.leakgate(&["uninstall"]);
    assert_eq!(out.status.code(), Some(0), "{}", all_output(&out));
    for hook in ["pre-commit", "commit-msg", "pre-push"] {
        assert!(!hooks.join(hook).exists(), "{hook} left behind");
    }
    let out = repo.leakgate(&["uninstall"]);
    assert_eq!(out.status.code(), Some(0), "{}", all_output(&out));
    let out = repo.commit(&[]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "uninstalled, yet blocked: {}",
        all_output(&out)
    );
}

#[test]
fn foreign_hook_is_chained_and_restored() {
    let sb = Sandbox::new("install-chain");
    let repo = sb.repo("repo");
    let log = sb.tmp.join("foreign.log");
    let hook = repo.dir.join(".git/hooks/pre-commit");
    let original = foreign_hook("pre-commit", &log);
    write_executable(&hook, &original);

    let err = repo.install(&[]);
    assert!(err.contains("the existing hook runs first"), "{err}");
    let err = repo.install(&[]);
    assert!(
        err.contains("pre-commit: installed; the existing hook runs first"),
        "{err}"
    );
    let chained: Vec<String> = std::fs::read_dir(repo.dir.join(".git/hooks"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.contains("chained"))
        .collect();
    assert_eq!(chained, vec!["pre-commit.leakgate-chained".to_string()]);

    // Clean: both run, the commit is made.
    repo.write("a.txt", "clean\n");
    repo.git_ok(&["add", "a.txt"]);
    let out = repo.commit(&[]);
    assert_eq!(out.status.code(), Some(0), "{}", all_output(&out));
    assert_eq!(read(&log).matches("pre-commit ran").count(), 1);

    // A secret: both run, leakgate blocks.
    let token = github_token(211);
    repo.write("b.env", format!("T={token}\n"));
    repo.git_ok(&["add", "b.env"]);
    let out = repo.commit(&[]);
    assert_eq!(out.status.code(), Some(1), "{}", all_output(&out));
    assert_eq!(read(&log).matches("pre-commit ran").count(), 2);
    assert!(stderr(&out).contains(&fp(&token)));

    // The foreign hook fails on a clean change: that blocks too.
    repo.git_ok(&["rm", "-q", "--cached", "b.env"]);
    repo.write("c.txt", "clean\n");
    repo.git_ok(&["add", "c.txt"]);
    let before = repo.head();
    let out = repo
        .git_cmd(&["commit", "-m", "change"])
        .env("FOREIGN_FAIL", "1")
        .output()
        .unwrap();
    assert_ne!(out.status.code(), Some(0), "{}", all_output(&out));
    assert_eq!(repo.head(), before);
    assert_eq!(read(&log).matches("pre-commit ran").count(), 3);

    // Uninstall puts the foreign hook back, byte for byte.
    let out = repo.leakgate(&["uninstall"]);
    assert_eq!(out.status.code(), Some(0), "{}", all_output(&out));
    out.err_has("the previous hook is back");
    assert_eq!(read(&hook), original);
    assert!(!repo
        .dir
        .join(".git/hooks/pre-commit.leakgate-chained")
        .exists());
    assert!(!repo.dir.join(".git/hooks/commit-msg").exists());
}

#[test]
fn core_hooks_path_is_respected() {
    let sb = Sandbox::new("install-hookspath");
    let repo = sb.repo("repo");
    repo.git_ok(&["config", "core.hooksPath", ".githooks"]);
    let err = repo.install(&[]);
    assert!(err.contains(".githooks"), "{err}");
    assert!(read(&repo.dir.join(".githooks/pre-commit")).contains(MARKER));
    assert!(!repo.dir.join(".git/hooks/pre-commit").exists());

    let token = github_token(221);
    repo.write("a.env", format!("T={token}\n"));
    repo.git_ok(&["add", "a.env"]);
    let out = repo.commit(&[]);
    assert_eq!(out.status.code(), Some(1), "{}", all_output(&out));
    assert!(stderr(&out).contains(&fp(&token)));

    let out = repo.leakgate(&["uninstall"]);
    assert_eq!(out.status.code(), Some(0), "{}", all_output(&out));
    assert!(!repo.dir.join(".githooks/pre-commit").exists());
}

#[test]
fn linked_worktree_commits_are_scanned() {
    let sb = Sandbox::new("install-worktree");
    let repo = sb.repo("repo");
    repo.write("README", "readme\n");
    repo.commit_unchecked("init");
    let wt_dir = sb.tmp.join("wt");
    repo.git_ok(&[
        "worktree",
        "add",
        "-q",
        "-b",
        "side",
        &wt_dir.display().to_string(),
    ]);
    let wt = Repo {
        sb: &sb,
        dir: wt_dir,
    };
    // Installed from the linked worktree: the hooks go where git looks for them (the common dir).
    wt.install(&[]);
    assert!(read(&repo.dir.join(".git/hooks/pre-commit")).contains(MARKER));

    let token = github_token(231);
    for (r, name) in [(&wt, "in-worktree.env"), (&repo, "in-main.env")] {
        r.write(name, format!("T={token}\n"));
        r.git_ok(&["add", name]);
        let before = r.head();
        let out = r.commit(&[]);
        assert_eq!(out.status.code(), Some(1), "{name}: {}", all_output(&out));
        assert_eq!(r.head(), before);
        out.err_has(&format!("{name}:1:3"));
        assert_no_secret(&out, &[&token]);
    }
    // A clean commit in the worktree passes.
    wt.git_ok(&["rm", "-q", "--cached", "in-worktree.env"]);
    wt.write("notes.txt", "clean\n");
    wt.git_ok(&["add", "notes.txt"]);
    let out = wt.commit(&[]);
    assert_eq!(out.status.code(), Some(0), "{}", all_output(&out));
}

#[test]
fn submodule_hooks_go_to_its_own_git_directory() {
    let sb = Sandbox::new("install-submodule");
    let child = sb.repo("child");
    child.write("README", "child\n");
    child.commit_unchecked("child");
    let parent = sb.repo("parent");
    parent.write("README", "parent\n");
    parent.commit_unchecked("parent");
    let child_path = child.dir.display().to_string();
    parent.git_ok(&[
        "-c",
        "protocol.file.allow=always",
        "submodule",
        "add",
        "-q",
        &child_path,
        "sub",
    ]);
    let sub = Repo {
        sb: &sb,
        dir: parent.dir.join("sub"),
    };
    sub.install(&["--hook", "pre-commit"]);
    assert!(read(&parent.dir.join(".git/modules/sub/hooks/pre-commit")).contains(MARKER));
    assert!(!parent.dir.join(".git/hooks/pre-commit").exists());

    let token = github_token(235);
    sub.write("a.env", format!("T={token}\n"));
    sub.git_ok(&["add", "a.env"]);
    let before = sub.head();
    let out = sub.commit(&[]);
    assert_eq!(out.status.code(), Some(1), "{}", all_output(&out));
    assert_eq!(sub.head(), before);
    out.err_has("a.env:1:3");
}

#[test]
fn global_install_protects_every_repository_and_keeps_their_own_hooks() {
    let sb = Sandbox::new("install-global");
    let out = sb.leakgate(&sb.home, &["install", "--global"]);
    assert_eq!(out.status.code(), Some(0), "{}", all_output(&out));
    let global_dir = sb.home.join(".config/leakgate/hooks");
    assert_eq!(
        sb.global_config("core.hooksPath").map(PathBuf::from),
        Some(global_dir.clone())
    );
    assert!(read(&global_dir.join("pre-commit")).contains(MARKER));
    // Idempotent.
    let out = sb.leakgate(&sb.home, &["install", "--global"]);
    assert_eq!(out.status.code(), Some(0), "{}", all_output(&out));

    // A repository created afterwards, with no hooks of its own, is protected.
    let fresh = sb.repo("fresh");
    assert!(!fresh.dir.join(".git/hooks/pre-commit").exists());
    let token = github_token(241);
    fresh.write("a.env", format!("T={token}\n"));
    fresh.git_ok(&["add", "a.env"]);
    let out = fresh.commit(&[]);
    assert_eq!(out.status.code(), Some(1), "{}", all_output(&out));
    assert!(stderr(&out).contains(&fp(&token)));
    assert_no_secret(&out, &[&token]);

    // A repository's own hook still runs, and its failure still blocks.
    let own = sb.repo("own");
    let log = sb.tmp.join("own.log");
    write_executable(
        &own.dir.join(".git/hooks/pre-commit"),
        &foreign_hook("pre-commit", &log),
    );
    own.write("a.txt", "clean\n");
    own.git_ok(&["add", "a.txt"]);
    let out = own
        .git_cmd(&["commit", "-m", "change"])
        .env("FOREIGN_FAIL", "1")
        .output()
        .unwrap();
    assert_ne!(out.status.code(), Some(0), "{}", all_output(&out));
    assert_eq!(read(&log).matches("pre-commit ran").count(), 1);
    let out = own.commit(&[]);
    assert_eq!(out.status.code(), Some(0), "{}", all_output(&out));
    assert_eq!(read(&log).matches("pre-commit ran").count(), 2);
    own.write("b.env", format!("T={token}\n"));
    own.git_ok(&["add", "b.env"]);
    let out = own.commit(&[]);
    assert_eq!(out.status.code(), Some(1), "{}", all_output(&out));
    assert_eq!(read(&log).matches("pre-commit ran").count(), 3);

    // Uninstall: core.hooksPath unset, the hooks gone, the repository's own hook back in charge.
    let out = sb.leakgate(&sb.home, &["uninstall", "--global"]);
    assert_eq!(out.status.code(), Some(0), "{}", all_output(&out));
    assert_eq!(sb.global_config("core.hooksPath"), None);
    assert!(!global_dir.join("pre-commit").exists());
    let out = fresh.commit(&[]);
    assert_eq!(out.status.code(), Some(0), "{}", all_output(&out));
    let out = own.commit(&[]);
    assert_eq!(out.status.code(), Some(0), "{}", all_output(&out));
    assert_eq!(read(&log).matches("pre-commit ran").count(), 4);
}

// ---------------------------------------------------------------------------------------------
// report formats

#[test]
fn sarif_has_one_result_per_finding_with_remediation_help_and_no_secret() {
    let sb = Sandbox::new("sarif");
    let repo = sb.repo("repo");
    let (t1, t2, key) = (github_token(251), github_token(252), aws_key_id(253));
    repo.write("a.env", format!("T1={t1}\nT2={t2}\n"));
    repo.write("b/config.py", format!("KEY_ID = \"{key}\"\n"));
    repo.git_ok(&["add", "."]);

    for args in [
        &["scan", "--staged", "--format"][..],
        &["scan", ".", "--format"][..],
    ] {
        let mut json_args = args.to_vec();
        json_args.push("json");
        let json_out = repo.leakgate(&json_args);
        let expected = findings(&json_out);
        assert_eq!(expected.len(), 3, "{}", all_output(&json_out));

        let mut sarif_args = args.to_vec();
        sarif_args.push("sarif");
        let out = repo.leakgate(&sarif_args);
        assert_eq!(out.status.code(), Some(1), "{}", all_output(&out));
        assert_no_secret(&out, &[&t1, &t2, &key]);
        let sarif: Value = common::assert_valid_sarif(&out.stdout);
        assert_eq!(sarif["version"], "2.1.0");
        let run = &sarif["runs"][0];
        assert_eq!(run["tool"]["driver"]["name"], "leakgate");
        let rules = run["tool"]["driver"]["rules"].as_array().unwrap();
        let results = run["results"].as_array().unwrap();
        assert_eq!(results.len(), expected.len(), "one result per finding");
        let rule_ids: Vec<&str> = rules.iter().map(|r| r["id"].as_str().unwrap()).collect();
        let mut sorted = rule_ids.clone();
        sorted.sort_unstable();
        assert_eq!(sorted, vec![AWS_RULE, GITHUB_RULE]);
        for rule in rules {
            let help = rule["help"]["text"].as_str().unwrap();
            for part in [
                "Revoke: ",
                "Rotate: ",
                "environment variable or a secret store",
            ] {
                assert!(help.contains(part), "rule help lacks {part:?}: {help}");
            }
            let revoke = help
                .split("Revoke: ")
                .nth(1)
                .unwrap()
                .lines()
                .next()
                .unwrap();
            assert!(revoke.trim().len() > 10, "empty revoke step: {help}");
        }
        let mut got: Vec<(String, u64, String)> = results
            .iter()
            .map(|r| {
                let index = r["ruleIndex"].as_u64().unwrap() as usize;
                assert_eq!(rule_ids[index], r["ruleId"].as_str().unwrap());
                let location = &r["locations"][0]["physicalLocation"];
                (
                    location["artifactLocation"]["uri"]
                        .as_str()
                        .unwrap()
                        .to_string(),
                    location["region"]["startLine"].as_u64().unwrap(),
                    r["partialFingerprints"]["leakgate/v2"]
                        .as_str()
                        .unwrap()
                        .to_string(),
                )
            })
            .collect();
        got.sort();
        let mut expected = expected;
        expected.sort();
        assert_eq!(got, expected);
    }
}

#[test]
fn reports_escape_file_names_and_never_print_a_secret() {
    let sb = Sandbox::new("escape");
    let repo = sb.repo("repo");
    repo.write("README", "readme\n");
    repo.commit_unchecked("init");
    repo.install(&[]);
    let token = github_token(261);
    let key = aws_key_id(262);
    let evil = "evil\x1b[2J\u{202e}name.env";
    repo.write(evil, format!("T={token}\nKEY_ID={key}\n"));
    repo.git_ok(&["add", "."]);

    // Machine formats are JSON (control characters escaped by JSON itself); the human report
    // escapes control and bidi characters.
    let check = |what: &str, out: &Output, code: i32, human: bool| {
        assert_eq!(out.status.code(), Some(code), "{what}: {}", all_output(out));
        for stream in [&out.stdout, &out.stderr] {
            assert!(
                !stream.contains(&0x1b),
                "{what}: raw ESC in the output:\n{}",
                all_output(out)
            );
            assert!(
                !human || !String::from_utf8_lossy(stream).contains('\u{202e}'),
                "{what}: raw bidi override in the output"
            );
        }
        assert_no_secret(out, &[&token, &key]);
    };

    let out = repo.commit(&[]);
    check("pre-commit hook", &out, 1, true);
    out.err_has("evil\\u{1b}[2J\\u{202e}name.env:1:3");
    for source in [&["--staged"][..], &["."][..]] {
        for format in ["human", "json", "sarif"] {
            let mut args = vec!["scan"];
            args.extend_from_slice(source);
            args.extend_from_slice(&["--format", format]);
            let out = repo.leakgate(&args);
            check(&format!("{args:?}"), &out, 1, format == "human");
            if format == "sarif" {
                common::assert_valid_sarif(&out.stdout);
            }
        }
    }
    let out = repo.leakgate(&["--color", "always", "scan", "--staged"]);
    assert_eq!(out.status.code(), Some(1), "{}", all_output(&out));
    assert!(String::from_utf8_lossy(&out.stdout).contains("evil\\u{1b}[2J"));
    assert_no_secret(&out, &[&token, &key]);

    // History and the commit message, through the other hooks' sources.
    repo.git_ok(&["commit", "-q", "--no-verify", "-m", &format!("key {token}")]);
    let out = repo.leakgate(&["scan", "--range", "HEAD~1..HEAD"]);
    check("scan --range", &out, 1, true);
    let out = repo.leakgate(&["scan", "--range", "HEAD~1..HEAD", "--format", "json"]);
    check("scan --range json", &out, 1, false);
    assert_eq!(findings(&out).len(), 3, "{}", all_output(&out));
}

#[test]
fn pre_push_blocks_an_annotated_tag_whose_message_holds_a_token() {
    let sb = Sandbox::new("pre-push-tag");
    let remote = sb.bare_remote();
    let repo = sb.repo("repo");
    repo.git_ok(&["remote", "add", "origin", &remote.display().to_string()]);
    repo.install(&["--hook", "pre-push"]);
    repo.write("README", "readme\n");
    repo.git_ok(&["add", "README"]);
    repo.commit_unchecked("clean");
    let out = repo.git(&["push", "-q", "origin", "main"]);
    assert_eq!(out.status.code(), Some(0), "{}", all_output(&out));
    let token = github_token(31);
    repo.git_ok(&[
        "tag",
        "-a",
        "v1",
        "-m",
        &format!("release, deploy with {token}"),
    ]);
    let out = repo.git(&["push", "origin", "v1"]);
    assert_ne!(out.status.code(), Some(0), "tag push went through");
    let text = stderr(&out);
    assert!(text.contains("(tag message refs/tags/v1)"), "{text}");
    assert_no_secret(&out, &[&token]);
    let out = sb
        .command("git", &remote)
        .args(["rev-parse", "-q", "--verify", "refs/tags/v1"])
        .output()
        .unwrap();
    assert!(!out.status.success(), "the tag reached the remote");
    // A clean annotated tag goes through.
    repo.git_ok(&["tag", "-a", "v2", "-m", "release notes"]);
    let out = repo.git(&["push", "-q", "origin", "v2"]);
    assert_eq!(out.status.code(), Some(0), "{}", all_output(&out));
}

#[test]
fn pre_push_hides_only_what_the_destination_has() {
    let sb = Sandbox::new("two-remotes");
    let repo = sb.repo("repo");
    let public = sb.bare_remote();
    let internal = sb.bare_repo("internal.git");
    repo.write("README", "readme\n");
    repo.commit_unchecked("init");
    repo.git_ok(&["remote", "add", "internal", internal.to_str().unwrap()]);
    repo.git_ok(&["remote", "add", "public", public.to_str().unwrap()]);
    repo.git_ok(&["push", "-q", "public", "HEAD:refs/heads/main"]);
    repo.install(&["--hook", "pre-push"]);
    let token = github_token(221);
    repo.write("t.env", format!("T={token}\n"));
    repo.commit_unchecked("secret");
    // Pushed past the hook to an internal remote: now on refs/remotes/internal/main.
    repo.git_ok(&[
        "push",
        "-q",
        "--no-verify",
        "internal",
        "HEAD:refs/heads/main",
    ]);
    assert_push_blocked(
        &repo,
        &["public", "HEAD:refs/heads/main"],
        "t.env:1",
        &token,
    );
}

#[test]
fn a_sha256_repository_fails_closed_naming_the_object_format() {
    let sb = Sandbox::new("sha256-client");
    let dir = sb.tmp.join("s256");
    let out = sb
        .command("git", &sb.tmp.0)
        .args(["init", "-q", "--object-format=sha256"])
        .arg(&dir)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", all_output(&out));
    std::fs::write(dir.join("a.txt"), format!("T={}\n", github_token(231))).unwrap();
    let add = sb
        .command("git", &dir)
        .args(["add", "a.txt"])
        .output()
        .unwrap();
    assert!(add.status.success(), "{}", all_output(&add));
    let out = sb.leakgate(&dir, &["hook", "pre-commit"]);
    assert_eq!(out.status.code(), Some(2), "{}", all_output(&out));
    out.err_has("sha256 object format");
}

#[test]
fn a_key_completed_by_deleting_a_stray_line_is_blocked() {
    let sb = Sandbox::new("pem-delete");
    let repo = sb.repo("repo");
    let (begin, body, end) = pem_key(3);
    repo.write(
        "key.pem",
        format!("{begin}\n{body}\nnot base64 at all!\n{end}\n"),
    );
    repo.commit_unchecked("broken key");
    repo.install(&["--hook", "pre-commit"]);
    // Only a deletion: no line is added, and the block becomes a valid key.
    repo.write("key.pem", format!("{begin}\n{body}\n{end}\n"));
    repo.git_ok(&["add", "."]);
    let out = repo.commit(&[]);
    assert_eq!(out.status.code(), Some(1), "{}", all_output(&out));
    out.err_has("key.pem:");
    assert_no_secret(&out, &[&body]);
    // Deleting an unrelated line next to an unchanged key is not a new finding.
    repo.commit_unchecked("valid key (already compromised)");
    repo.write("key.pem", format!("# comment\n{begin}\n{body}\n{end}\n"));
    repo.commit_unchecked("comment");
    repo.write("key.pem", format!("{begin}\n{body}\n{end}\n"));
    repo.git_ok(&["add", "."]);
    assert_eq!(staged_findings(&repo), vec![]);
}

#[test]
fn a_printed_fingerprint_cannot_be_confirmed_by_hashing_a_guess_and_old_ignore_entries_still_work()
{
    use sha2::{Digest, Sha256};
    let sb = Sandbox::new("fp-v2");
    let repo = sb.repo("repo");
    repo.write("README", "readme\n");
    repo.commit_unchecked("init");
    // A weak password in a connection string: the dictionary attack.
    // Built at run time: the project scans itself.
    let password = ["pa5", "5word"].concat();
    let password = password.as_str();
    let line = format!("BROKER=amqp://user:{password}@queue.internal:5672/\n");
    repo.write("broker.env", &line);
    repo.git_ok(&["add", "-A"]);
    let out = repo.leakgate(&["scan", "--staged", "--format", "json"]);
    assert_eq!(out.status.code(), Some(1), "{}", all_output(&out));
    let json: Value = out.json();
    let f = &json["findings"][0];
    let printed = f["fingerprint"].as_str().unwrap().to_string();
    let rule = f["rule"].as_str().unwrap().to_string();
    // `printf pa55word | sha256sum | cut -c1-16` (and of the whole URL) no longer matches.
    let url = format!("amqp://user:{password}@queue.internal:5672/");
    for guess in [password, url.as_str()] {
        let bare: String = Sha256::digest(guess.as_bytes())
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        let digits = printed.rsplit_once(':').unwrap().1;
        assert!(
            !bare.starts_with(digits) && !bare.contains(&digits[..16]),
            "{printed}"
        );
    }
    // The human report and SARIF carry the same fingerprint and never the bare hash.
    let human = repo.leakgate(&["scan", "--staged"]);
    assert!(
        all_output(&human).contains(&printed),
        "{}",
        all_output(&human)
    );
    let sarif = repo.leakgate(&["scan", "--staged", "--format", "sarif"]);
    let sarif: Value = common::assert_valid_sarif(&sarif.stdout);
    assert_eq!(
        sarif["runs"][0]["results"][0]["partialFingerprints"]["leakgate/v2"],
        Value::String(printed.clone())
    );
    // A version-1 entry (bare SHA-256 prefix) written by an older release is still honoured, and the
    // report names the line that replaces it.
    // The rule's secret group is the password or the whole URL: an entry for each.
    let legacy = [password, url.as_str()]
        .iter()
        .map(|v| {
            let d = Sha256::digest(v.as_bytes());
            format!(
                "{rule}:{}",
                d[..8]
                    .iter()
                    .map(|b| format!("{b:02x}"))
                    .collect::<String>()
            )
        })
        .collect::<Vec<_>>();
    repo.write(".leakgateignore", format!("{}\n{}\n", legacy[0], legacy[1]));
    repo.git_ok(&["add", "-A"]);
    let out = repo.leakgate(&["scan", "--staged"]);
    assert_eq!(out.status.code(), Some(0), "{}", all_output(&out));
    let text = all_output(&out);
    assert!(text.contains("version-1 fingerprints"), "{text}");
    assert!(text.contains(&format!("->  {printed}")), "{text}");
    // `leakgate ignore` refuses to record a version-1 fingerprint.
    let out = repo.leakgate(&["ignore", &legacy[0]]);
    assert_eq!(out.status.code(), Some(2), "{}", all_output(&out));
    assert!(
        all_output(&out).contains("version-1"),
        "{}",
        all_output(&out)
    );
}

#[test]
fn a_config_staged_with_the_secret_cannot_widen_its_own_commit() {
    let sb = Sandbox::new("cfg-widen");
    let repo = hooked_repo(&sb, "pre-commit");
    let token = github_token(231);
    for widening in [
        "allow:\n  paths: ['.*']\n",
        "allow:\n  values: ['.*']\n",
        &format!("disable: [{GITHUB_RULE}]\n"),
        "max_blob_bytes: 1\non_unscanned: accept\n",
    ] {
        repo.write(".leakgate.yaml", widening);
        repo.write("t.env", format!("T={token}\n"));
        repo.git_ok(&["add", "-A"]);
        let out = repo.commit(&[]);
        assert!(!out.status.success(), "{widening}: {}", all_output(&out));
        let err = stderr(&out);
        assert!(err.contains("t.env:1"), "{widening}: {err}");
        assert!(
            err.contains("widens what is let through"),
            "{widening}: {err}"
        );
        assert_no_secret(&out, &[&token]);
        repo.git_ok(&["reset", "-q"]);
    }
    // An untracked work-tree config is never used by the hooks.
    std::fs::remove_file(repo.dir.join("t.env")).unwrap();
    repo.write(".leakgate.yaml", "allow:\n  paths: ['.*']\n");
    repo.write("u.env", format!("T={token}\n"));
    repo.git_ok(&["add", "u.env"]);
    let out = repo.commit(&[]);
    assert_ne!(out.code(), 0, "{}", all_output(&out));
    out.err_has("u.env:1");
    // Once committed (reviewed, in history), the config applies to later commits.
    repo.git_ok(&["reset", "-q"]);
    repo.git_ok(&["add", ".leakgate.yaml"]);
    let out = repo.commit(&[]);
    assert!(out.status.success(), "{}", all_output(&out));
    repo.git_ok(&["add", "u.env"]);
    let out = repo.commit(&[]);
    assert!(out.status.success(), "{}", all_output(&out));
}

#[test]
fn a_base64_encoded_key_in_a_kubernetes_secret_is_blocked_at_its_line() {
    let sb = Sandbox::new("b64");
    let repo = hooked_repo(&sb, "pre-commit");
    let key = aws_key_id(77);
    let encoded = base64_encode(key.as_bytes());
    repo.write(
        "k8s/secret.yaml",
        format!("apiVersion: v1\nkind: Secret\nmetadata:\n  name: app\ndata:\n  AWS_ACCESS_KEY_ID: {encoded}\n"),
    );
    repo.git_ok(&["add", "-A"]);
    let out = repo.commit(&[]);
    assert_ne!(out.code(), 0, "{}", all_output(&out));
    let err = stderr(&out);
    assert!(err.contains("k8s/secret.yaml:6:22"), "{err}");
    assert!(err.contains("base64-encoded"), "{err}");
    assert_no_secret(&out, &[&key, &encoded]);
}

/// A made-up token in a base64 config does not hide the real password beside it.
#[test]
fn a_password_beside_a_made_up_token_in_a_base64_config_is_blocked() {
    let sb = Sandbox::new("b64-fake");
    let repo = hooked_repo(&sb, "pre-commit");
    let password = random_alnum(620, 24);
    let json = format!(
        "{{\"github_token\": \"ghp_{}\", \"db_password\": \"{password}\"}}",
        "X".repeat(36)
    );
    let encoded = base64_encode(json.as_bytes());
    repo.write("app.env", format!("APP_CONFIG={encoded}\n"));
    repo.git_ok(&["add", "-A"]);
    let out = repo.commit(&[]);
    assert_eq!(out.code(), 1, "{}", all_output(&out));
    let err = stderr(&out);
    assert!(err.contains("app.env:1:12"), "{err}");
    assert!(err.contains("base64-encoded"), "{err}");
    assert_no_secret(&out, &[&password]);
}

/// Standard base64 with padding (test helper; the scanner has its own decoder).
fn base64_encode(data: &[u8]) -> String {
    const A: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in data.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(A[((n >> (18 - 6 * i)) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

#[test]
fn pre_push_scans_what_a_push_url_elsewhere_has_not_seen() {
    let sb = Sandbox::new("pushurl");
    let repo = sb.repo("repo");
    let public = sb.bare_remote();
    let internal = sb.bare_repo("internal.git");
    repo.write("README", "readme\n");
    repo.commit_unchecked("init");
    repo.git_ok(&["remote", "add", "origin", internal.to_str().unwrap()]);
    repo.git_ok(&["push", "-q", "origin", "HEAD:refs/heads/main"]);
    repo.install(&["--hook", "pre-push"]);
    let token = github_token(241);
    repo.write("t.env", format!("T={token}\n"));
    repo.commit_unchecked("secret");
    // The secret reaches the internal server past the hook; origin/main now holds it.
    repo.git_ok(&[
        "push",
        "-q",
        "--no-verify",
        "origin",
        "HEAD:refs/heads/main",
    ]);
    // Same remote name, but pushes now go elsewhere: its tracking branches are not the
    // destination's.
    repo.git_ok(&[
        "remote",
        "set-url",
        "--push",
        "origin",
        public.to_str().unwrap(),
    ]);
    assert_push_blocked(
        &repo,
        &["origin", "HEAD:refs/heads/main"],
        "t.env:1",
        &token,
    );
}

#[test]
fn pre_push_scans_under_the_config_the_destination_has_not_one_the_push_brings() {
    let sb = Sandbox::new("push-config");
    let repo = sb.repo("repo");
    let remote = sb.bare_remote();
    repo.write(".leakgate.yaml", "allow:\n  paths: ['^docs/']\n");
    repo.seed_with_origin(&remote);
    repo.install(&["--hook", "pre-push"]);
    // Commit 1 widens the config; commit 2 adds a key under the widening.
    repo.write(".leakgate.yaml", "allow:\n  paths: ['^docs/', '.*']\n");
    repo.commit_unchecked("widen");
    let key = aws_key_id(242);
    repo.write("app/settings.py", format!("KEY = \"{key}\"\n"));
    repo.commit_unchecked("key");
    let out = repo.git(&["push", "origin", "HEAD:refs/heads/main"]);
    assert_ne!(out.code(), 0, "{}", all_output(&out));
    let err = stderr(&out);
    assert!(err.contains("app/settings.py:1"), "{err}");
    assert!(err.contains("widens what is let through"), "{err}");
    assert!(err.contains("allow.paths adds `.*`"), "{err}");
    assert_no_secret(&out, &[&key]);
}

#[test]
fn leftover_pre_commit_framework_variables_do_not_replace_the_staged_changes() {
    let sb = Sandbox::new("leftover-env");
    let repo = hooked_repo(&sb, "pre-commit");
    let key = aws_key_id(243);
    repo.write("k.env", format!("AWS_ACCESS_KEY_ID={key}\n"));
    repo.git_ok(&["add", "-A"]);
    let out = repo
        .git_cmd(&["commit", "-m", "c"])
        .env("PRE_COMMIT_FROM_REF", "HEAD")
        .env("PRE_COMMIT_TO_REF", "HEAD")
        .output()
        .unwrap();
    assert_ne!(out.code(), 0, "{}", all_output(&out));
    out.err_has("k.env:1");
}

#[test]
fn a_file_moved_out_of_an_allowed_path_is_scanned_whole() {
    let sb = Sandbox::new("rename-allowed");
    let repo = sb.repo("repo");
    repo.write(".leakgate.yaml", "allow:\n  paths: ['^testdata/']\n");
    let key = aws_key_id(244);
    repo.write("testdata/fixture.ini", format!("[aws]\nkey = {key}\n"));
    repo.commit_unchecked("fixtures");
    repo.install(&["--hook", "pre-commit"]);
    repo.git_ok(&["mv", "testdata/fixture.ini", "deploy.ini"]);
    let out = repo.commit(&[]);
    assert_ne!(out.code(), 0, "{}", all_output(&out));
    out.err_has("deploy.ini:2");
    assert_no_secret(&out, &[&key]);
    // The same in pushed history: the rename commit is scanned whole under pre-push.
    repo.git_ok(&["reset", "-q", "--hard"]);
}

#[test]
fn a_token_used_as_a_file_name_is_blocked_and_never_printed() {
    let sb = Sandbox::new("token-name");
    let repo = sb.repo("repo");
    let remote = sb.bare_remote();
    repo.seed_with_origin(&remote);
    repo.install(&["--hook", "pre-commit,pre-push"]);
    let key = aws_key_id(245);
    let name = format!("keys/{key}.txt");
    // The content holds a second finding: its report must not print the name in full either.
    repo.write(&name, format!("AWS_ACCESS_KEY_ID={}\n", aws_key_id(246)));
    repo.git_ok(&["add", "-A"]);
    let out = repo.commit(&[]);
    assert_ne!(out.code(), 0, "{}", all_output(&out));
    let err = stderr(&out);
    assert!(err.contains("(in the file name)"), "{err}");
    assert_no_secret(&out, &[&key, &aws_key_id(246)]);
    // Pushed past the commit hook, the pre-push hook finds it in the commit.
    repo.commit_unchecked("key as a name");
    assert_push_blocked(
        &repo,
        &["origin", "HEAD:refs/heads/main"],
        "(in the file name)",
        &key,
    );
}

#[test]
fn a_pure_rename_into_a_token_name_is_blocked() {
    let sb = Sandbox::new("rename-into-token");
    let repo = sb.repo("repo");
    repo.write("notes.txt", "nothing here\n");
    repo.commit_unchecked("init");
    repo.install(&["--hook", "pre-commit"]);
    let key = aws_key_id(247);
    repo.git_ok(&["mv", "notes.txt", &format!("{key}.txt")]);
    let out = repo.commit(&[]);
    assert_ne!(out.code(), 0, "{}", all_output(&out));
    out.err_has("(in the file name)");
    assert_no_secret(&out, &[&key]);
}

#[test]
fn a_push_to_a_fresh_destination_is_scanned_without_the_config_its_own_commits_bring() {
    let sb = Sandbox::new("fresh-destination");
    let repo = sb.repo("repo");
    let remote = sb.bare_remote();
    repo.write("README", "readme\n");
    repo.commit_unchecked("init");
    repo.write(".leakgate.yaml", "disable: [aws-access-key-id]\n");
    repo.commit_unchecked("turn the rule off");
    let key = aws_key_id(248);
    repo.write("k.env", format!("AWS_ACCESS_KEY_ID={key}\n"));
    repo.commit_unchecked("key");
    repo.install(&["--hook", "pre-push"]);
    // By URL: no remote, no tracking branch, nothing known about the destination.
    let out = repo.git(&["push", remote.to_str().unwrap(), "HEAD:refs/heads/orphan"]);
    assert_ne!(out.code(), 0, "{}", all_output(&out));
    let err = stderr(&out);
    assert!(err.contains("k.env:1"), "{err}");
    assert!(err.contains("disable adds `aws-access-key-id`"), "{err}");
}

/// A pre-push hook wired without git's stdin (a hook manager that does not pass it on, here a
/// script that closes it): the push is still scanned, never passed as "scanned nothing".
#[test]
fn pre_push_without_ref_lines_still_blocks_the_pushed_secret() {
    let sb = Sandbox::new("pre-push-nostdin");
    let remote = sb.bare_remote();
    let repo = sb.repo("repo");
    repo.seed_with_origin(&remote);
    repo.git_ok(&["fetch", "-q", "origin"]);
    let bin = common::leakgate_bin();
    write_executable(
        &repo.dir.join(".git/hooks/pre-push"),
        &format!(
            "#!/bin/sh\nexec {} hook pre-push \"$@\" <&-\n",
            bin.display()
        ),
    );
    let token = github_token(195);
    repo.write("deploy.env", format!("TOKEN={token}\n"));
    repo.commit_unchecked("add deploy config");
    let out = repo.git(&["push", "origin", "main"]);
    let err = stderr(&out);
    assert_ne!(out.status.code(), Some(0), "{err}");
    assert!(err.contains("no ref lines"), "{err}");
    assert!(err.contains("push blocked: 1 secret in 1 commit"), "{err}");
    assert!(!err.contains(&token), "secret printed:\n{err}");

    // Where what is pushed cannot be told (a detached HEAD), the hook fails closed, exit 2.
    let detached = repo.head();
    repo.git_ok(&["checkout", "-q", &detached]);
    let out = repo.git(&["push", "origin", "HEAD:refs/heads/other"]);
    let err = stderr(&out)
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    assert_ne!(out.status.code(), Some(0), "{err}");
    assert!(err.contains("cannot tell what is pushed"), "{err}");
    assert!(err.contains("use_stdin: true"), "{err}");
    let out = sb
        .command(&bin, &repo.dir)
        .args(["hook", "pre-push", "origin", remote.to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", all_output(&out));
}

/// SARIF locations are URIs GitHub code scanning and the SARIF schema accept: relative to the
/// repository root, percent-encoded (spaces, `#`, `%`, newlines), never `(commit message)`; an
/// absolute path scanned is written relative to an `originalUriBaseIds` base.
#[test]
fn sarif_locations_are_valid_relative_percent_encoded_uris() {
    let sb = Sandbox::new("sarif-uri");
    let repo = sb.repo("repo");
    let names = [
        "dir with space/a.env",
        "hash#tag.env",
        "100%.env",
        "new\nline.env",
    ];
    for (i, name) in names.iter().enumerate() {
        repo.write(name, format!("T={}\n", github_token(260 + i as u64)));
    }
    repo.git_ok(&["add", "."]);
    let expected = [
        "dir%20with%20space/a.env",
        "hash%23tag.env",
        "100%25.env",
        "new%0Aline.env",
    ];
    let uris = |log: &Value| -> Vec<(String, String)> {
        let mut uris: Vec<(String, String)> = log["runs"][0]["results"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| {
                let a = &r["locations"][0]["physicalLocation"]["artifactLocation"];
                (
                    a["uri"].as_str().unwrap().to_string(),
                    a["uriBaseId"].as_str().unwrap_or("").to_string(),
                )
            })
            .collect();
        uris.sort();
        uris
    };
    let mut want: Vec<(String, String)> = expected
        .iter()
        .map(|u| (u.to_string(), "%SRCROOT%".to_string()))
        .collect();
    want.sort();
    let absolute = repo.dir.canonicalize().unwrap();
    let subdir = repo.dir.join("dir with space");
    for (dir, args) in [
        (&repo.dir, vec!["scan", "--staged", "--format", "sarif"]),
        (&repo.dir, vec!["scan", ".", "--format", "sarif"]),
        (
            &repo.dir,
            vec!["scan", absolute.to_str().unwrap(), "--format", "sarif"],
        ),
        (&subdir, vec!["scan", "..", "--format", "sarif"]),
    ] {
        let out = sb.leakgate(dir, &args);
        assert_eq!(out.status.code(), Some(1), "{args:?}: {}", all_output(&out));
        let log = common::assert_valid_sarif(&out.stdout);
        assert_eq!(uris(&log), want, "{args:?}");
        let base = log["runs"][0]["originalUriBaseIds"]["%SRCROOT%"]["uri"]
            .as_str()
            .unwrap();
        assert!(
            base.starts_with("file:///") && base.ends_with("/repo/"),
            "{base}"
        );
    }
    // A file outside the repository: relative to the FILESYSTEM base.
    let outside = sb.tmp.join("outside.env");
    std::fs::write(&outside, format!("T={}\n", github_token(270))).unwrap();
    let out = sb.leakgate(
        &repo.dir,
        &["scan", outside.to_str().unwrap(), "--format", "sarif"],
    );
    let log = common::assert_valid_sarif(&out.stdout);
    let location = &log["runs"][0]["results"][0]["locations"][0]["physicalLocation"];
    assert_eq!(location["artifactLocation"]["uriBaseId"], "FILESYSTEM");
    assert!(!location["artifactLocation"]["uri"]
        .as_str()
        .unwrap()
        .starts_with('/'));

    // Findings in a commit message and in a commit header: logical locations.
    repo.git_ok(&["commit", "-q", "--no-verify", "-m", "files"]);
    let token = github_token(271);
    repo.write("notes.txt", "notes\n");
    repo.git_ok(&["add", "notes.txt"]);
    repo.git_ok(&[
        "commit",
        "-q",
        "--no-verify",
        "-m",
        &format!("deploy {token}"),
    ]);
    let out = repo.leakgate(&["scan", "--range", "HEAD~1..HEAD", "--format", "sarif"]);
    assert_eq!(out.status.code(), Some(1), "{}", all_output(&out));
    let log = common::assert_valid_sarif(&out.stdout);
    let result = &log["runs"][0]["results"][0];
    assert!(
        result["locations"][0].get("physicalLocation").is_none(),
        "{result}"
    );
    // The validation has teeth: what older releases wrote is refused.
    let mut old = log.clone();
    old["runs"][0]["results"][0]["locations"][0] = serde_json::json!({"physicalLocation": {
        "artifactLocation": {"uri": "(commit message)"}, "region": {"startLine": 1}}});
    assert!(!common::sarif_violations(&old).is_empty());
    assert_eq!(
        result["locations"][0]["logicalLocations"][0]["name"],
        "(commit message)"
    );
    let message = sb.tmp.join("MSG");
    std::fs::write(&message, format!("release {token}\n")).unwrap();
    let out = repo.leakgate(&[
        "scan",
        "--commit-msg",
        message.to_str().unwrap(),
        "--format",
        "sarif",
    ]);
    assert_eq!(out.status.code(), Some(1), "{}", all_output(&out));
    common::assert_valid_sarif(&out.stdout);
    assert!(!String::from_utf8_lossy(&out.stdout).contains(&token));
}

/// The index's cache-tree replaced by `tree` (git's TREE format) and a null trailing hash (as
/// `index.skipHash` writes).
fn with_cache_tree(repo: &Repo, tree: &[u8]) {
    let path = repo.join(".git/index");
    let data = std::fs::read(&path).unwrap();
    let at = memchr::memmem::find(&data, b"TREE").expect("a TREE extension");
    let mut out = data[..at].to_vec();
    out.extend_from_slice(b"TREE");
    out.extend_from_slice(&(tree.len() as u32).to_be_bytes());
    out.extend_from_slice(tree);
    out.extend_from_slice(&[0; 20]);
    std::fs::write(&path, out).unwrap();
}

/// One cache-tree node: `name NUL count SP subtrees LF id`.
fn cache_tree_node(name: &str, count: u32, subtrees: u32, hex: &str) -> Vec<u8> {
    let mut out = format!("{name}\0{count} {subtrees}\n").into_bytes();
    let id = gix::hash::ObjectId::from_hex(hex.as_bytes()).unwrap();
    out.extend_from_slice(id.as_bytes());
    out
}

#[test]
fn a_cache_tree_naming_a_secret_git_commits_is_scanned() {
    let sb = Sandbox::new("cache-tree");
    let repo = sb.repo("repo");
    repo.write("a/x", "x\n");
    repo.write("top", "top\n");
    let before = repo.commit_unchecked("init");
    repo.install(&["--hook", "pre-commit"]);
    let token = github_token(281);
    // A tree that adds a secret, which the index claims in its cache-tree while its entries
    // stay as `HEAD` has them, but for an innocent change to `top`: git commits the claimed tree
    // as it is (`git diff --cached` shows only `top`).
    repo.write("a/config.env", format!("TOKEN={token}\n"));
    repo.git_ok(&["add", "a/config.env"]);
    let claimed = repo.git_ok(&["write-tree"]);
    repo.git_ok(&["rm", "-q", "--cached", "a/config.env"]);
    repo.write("top", "top\nmore\n");
    repo.git_ok(&["add", "top"]);
    repo.git_ok(&["write-tree"]);
    let a = repo.git_ok(&["rev-parse", "HEAD:a"]);
    let mut tree = cache_tree_node("", 2, 1, &claimed);
    tree.extend(cache_tree_node("a", 1, 0, &a));
    with_cache_tree(&repo, &tree);
    assert_eq!(repo.git_ok(&["diff", "--cached", "--name-only"]), "top");
    let out = repo.commit(&[]);
    assert_eq!(out.status.code(), Some(1), "{}", all_output(&out));
    assert_eq!(repo.head(), before);
    out.err_has(&fp(&token));
    assert_no_secret(&out, &[&token]);
    // Bytes git reads in that cache-tree and gix does not: the hook cannot scan, and stops.
    let mut lenient = b"\x002 1 junk\n".to_vec();
    lenient.extend_from_slice(&tree[5..]);
    with_cache_tree(&repo, &lenient);
    let out = repo.commit(&[]);
    assert_eq!(out.status.code(), Some(1), "{}", all_output(&out));
    assert_eq!(repo.head(), before);
    out.err_has("leakgate: cannot scan: cannot read the index");
    out.err_has("cache-tree (TREE extension) does not parse");
}

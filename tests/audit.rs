//! `leakgate audit` on generated histories, with real git: one finding per secret across commits,
//! first/last seen with author and date, presence at branch tips, baselines, revision arguments,
//! a bare mirror, `--repos`, every report format, and the HTML page in headless Chromium.

use crate::common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use common::schema::{schema_of, Schema};
use common::{
    all_output, assert_valid_sarif, aws_key_id, github_token, random_alnum, Ran as _, Repo,
    Sandbox, TempDir,
};
use serde_json::Value;

/// `leakgate audit ARGS` in `dir`.
fn audit(sb: &Sandbox, dir: &Path, args: &[&str]) -> Output {
    let mut all = vec!["audit"];
    all.extend_from_slice(args);
    sb.leakgate(dir, &all)
}

/// `leakgate audit --format json ARGS`: the exit code and the document (checked against
/// docs/audit-report.schema.json).
fn audit_json(sb: &Sandbox, dir: &Path, args: &[&str]) -> (i32, Value) {
    let out = audit(sb, dir, &[&["--format", "json"], args].concat());
    (out.code(), out.json())
}

fn secrets(doc: &Value) -> &Vec<Value> {
    doc["secrets"].as_array().expect("secrets")
}

fn rules(doc: &Value) -> Vec<String> {
    secrets(doc)
        .iter()
        .map(|s| s["rule"].as_str().unwrap().to_string())
        .collect()
}

fn assert_no_value(text: &str, values: &[&str]) {
    for v in values {
        assert!(!text.contains(v), "a secret value was printed:\n{text}");
    }
}

/// A history: Alice adds an AWS key in 2020, Bob adds the same key to another file in 2021, Carol
/// adds a GitHub token in 2022 and removes it in 2023 on main; a branch `feature` keeps it.
fn history(t: &Sandbox) -> (Repo<'_>, String, String) {
    let repo = t.repo("repo");
    let aws = aws_key_id(11);
    let gh = github_token(12);
    repo.write("README", "hello\n");
    repo.commit_as("init", "Zed", "2019-12-01T10:00:00Z");
    repo.write("app/settings.py", format!("AWS_KEY = \"{aws}\"\n"));
    repo.commit_as("settings", "Alice", "2020-03-01T10:00:00Z");
    repo.write("deploy/env.sh", format!("export AWS_ACCESS_KEY_ID={aws}\n"));
    repo.commit_as("deploy", "Bob", "2021-06-15T10:00:00Z");
    repo.write("ci.yml", format!("token: {gh}\n"));
    repo.commit_as("ci", "Carol", "2022-02-02T10:00:00Z");
    repo.git_ok(&["branch", "feature"]);
    std::fs::remove_file(repo.dir.join("ci.yml")).unwrap();
    repo.commit_as("drop token", "Carol", "2023-01-10T10:00:00Z");
    (repo, aws, gh)
}

#[test]
fn one_finding_per_secret_with_first_and_last_seen_author_and_date() {
    let t = Sandbox::new("audit-dedup");
    let (repo, aws, gh) = history(&t);
    let (code, doc) = audit_json(&t, &repo.dir, &[]);
    assert_eq!(code, 1, "{doc}");
    let text = doc.to_string();
    assert_no_value(&text, &[&aws, &gh]);
    let all = secrets(&doc);
    assert_eq!(all.len(), 2, "{doc:#}");
    let key = all
        .iter()
        .find(|s| s["rule"] == "aws-access-key-id")
        .expect("the AWS key");
    assert_eq!(key["occurrences"].as_array().unwrap().len(), 2);
    assert_eq!(key["first_seen"]["commit"]["author"], "Alice");
    assert_eq!(key["first_seen"]["path"], "app/settings.py");
    assert_eq!(key["first_seen"]["line"], 1);
    assert!(key["first_seen"]["commit"]["date"]
        .as_str()
        .unwrap()
        .starts_with("2020-03-01"));
    assert_eq!(key["last_seen"]["commit"]["author"], "Bob");
    assert_eq!(key["last_seen"]["commit"]["email"], "bob@example.invalid");
    assert_eq!(key["last_seen"]["path"], "deploy/env.sh");
    assert!(key["last_seen"]["commit"]["date"]
        .as_str()
        .unwrap()
        .starts_with("2021-06-15"));
    assert!(key["fingerprint"]
        .as_str()
        .unwrap()
        .starts_with("aws-access-key-id:"));
    assert_eq!(doc["summary"]["secrets"], 2);
    assert_eq!(doc["repositories"][0]["commits"], 5);
    // Oldest first; the human report leads with the summary, never the values.
    assert_eq!(rules(&doc)[0], "aws-access-key-id");
    let out = audit(&t, &repo.dir, &[]);
    let human = all_output(&out);
    assert_no_value(&human, &[&aws, &gh]);
    assert!(
        human.find("Summary").unwrap() < human.find("1. ").unwrap(),
        "{human}"
    );
    assert!(
        human.contains("by Alice <alice@example.invalid>"),
        "{human}"
    );
    assert!(human.contains("git filter-repo --replace-text"), "{human}");
    assert!(human.contains("rotation does"), "{human}");
    assert!(!human.contains("push blocked"), "{human}");
}

#[test]
fn a_cherry_picked_secret_is_listed_in_both_commits() {
    let t = Sandbox::new("audit-cherry");
    let repo = t.repo("repo");
    let aws = aws_key_id(21);
    repo.write("README", "hello\n");
    repo.commit_as("init", "Zed", "2020-01-01T00:00:00Z");
    repo.git_ok(&["checkout", "-q", "-b", "side"]);
    repo.write("conf.py", format!("KEY = \"{aws}\"\n"));
    let picked = repo.commit_as("key", "Alice", "2020-02-01T00:00:00Z");
    repo.git_ok(&["checkout", "-q", "main"]);
    let out = repo
        .git_cmd(&["cherry-pick", &picked])
        .env("GIT_COMMITTER_DATE", "2020-03-01T00:00:00Z")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", all_output(&out));
    let (_, doc) = audit_json(&t, &repo.dir, &[]);
    assert_eq!(secrets(&doc).len(), 1);
    let commits: Vec<&str> = secrets(&doc)[0]["occurrences"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["commit"]["id"].as_str().unwrap())
        .collect();
    assert_eq!(commits.len(), 2, "{doc:#}");
    assert!(commits.contains(&picked.as_str()));
}

#[test]
fn still_present_is_told_per_branch_tip() {
    let t = Sandbox::new("audit-tips");
    let (repo, _, _) = history(&t);
    let (_, doc) = audit_json(&t, &repo.dir, &[]);
    let by_rule = |rule: &str| {
        secrets(&doc)
            .iter()
            .find(|s| s["rule"] == rule)
            .unwrap_or_else(|| panic!("{rule} in {doc:#}"))
            .clone()
    };
    let aws = by_rule("aws-access-key-id");
    let tips: Vec<&str> = aws["present_at"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["branch"].as_str().unwrap())
        .collect();
    assert_eq!(tips, ["refs/heads/feature", "refs/heads/main"]);
    let gh = by_rule("github-personal-access-token");
    assert_eq!(gh["still_present"], true);
    let tips: Vec<&str> = gh["present_at"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["branch"].as_str().unwrap())
        .collect();
    assert_eq!(tips, ["refs/heads/feature"], "removed on main only");
    // Removed from every branch: history only.
    repo.git_ok(&["branch", "-D", "feature"]);
    let (_, doc) = audit_json(&t, &repo.dir, &[]);
    let gh = secrets(&doc)
        .iter()
        .find(|s| s["rule"] == "github-personal-access-token")
        .unwrap();
    assert_eq!(gh["still_present"], false, "{gh:#}");
    assert_eq!(doc["summary"]["still_present"], 1);
}

#[test]
fn a_baseline_hides_known_secrets_and_a_new_one_is_reported() {
    let t = Sandbox::new("audit-baseline");
    let (repo, aws, gh) = history(&t);
    let baseline = t.join("known.txt");
    let out = audit(
        &t,
        &repo.dir,
        &["--write-baseline", baseline.to_str().unwrap(), "-q"],
    );
    assert_eq!(out.status.code(), Some(1), "{}", all_output(&out));
    let written = std::fs::read_to_string(&baseline).unwrap();
    assert_no_value(&written, &[&aws, &gh]);
    assert_eq!(
        written
            .lines()
            .filter(|l| !l.starts_with('#') && !l.is_empty())
            .count(),
        2,
        "{written}"
    );
    // Everything known: exit 0, nothing listed.
    let (code, doc) = audit_json(&t, &repo.dir, &["--baseline", baseline.to_str().unwrap()]);
    assert_eq!(code, 0, "{doc:#}");
    assert_eq!(secrets(&doc).len(), 0);
    assert_eq!(doc["summary"]["baselined"], 2);
    // A new secret is reported, the known ones are not.
    let new = github_token(99);
    repo.write("new.env", format!("GH={new}\n"));
    repo.commit_as("new", "Dan", "2024-05-05T00:00:00Z");
    let (code, doc) = audit_json(&t, &repo.dir, &["--baseline", baseline.to_str().unwrap()]);
    assert_eq!(code, 1);
    assert_eq!(secrets(&doc).len(), 1, "{doc:#}");
    assert_eq!(secrets(&doc)[0]["first_seen"]["path"], "new.env");
    // The same baseline works for `scan` (files) and its JSON report is a baseline too.
    let baseline = baseline.to_str().unwrap();
    repo.leakgate(&["scan", "app", "deploy", "--baseline", baseline])
        .expect_code(0);
    repo.leakgate(&["scan", "new.env", "--baseline", baseline])
        .expect_code(1);
    let report = t.join("report.json");
    let out = audit(&t, &repo.dir, &["-o", report.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    let (code, _) = audit_json(&t, &repo.dir, &["--baseline", report.to_str().unwrap()]);
    assert_eq!(code, 0);
}

/// Each value under a Secret's `data:` is a secret of its own to rotate: all three are listed,
/// and a baseline holding the first leaves the other two.
#[test]
fn every_value_of_a_secret_manifest_is_listed() {
    let t = Sandbox::new("audit-secret-values");
    let repo = t.repo("repo");
    let values: Vec<String> = (0..3).map(|i| random_alnum(700 + i, 32)).collect();
    let mut manifest = String::from("apiVersion: v1\nkind: Secret\nmetadata:\n  name: db\ndata:\n");
    for (name, value) in ["alpha", "beta", "gamma"].iter().zip(&values) {
        manifest.push_str(&format!("  {name}: {value}\n"));
    }
    repo.write("k8s/db.yaml", manifest);
    repo.commit_as("secret", "Alice", "2024-01-01T10:00:00Z");
    let (code, doc) = audit_json(&t, &repo.dir, &[]);
    assert_eq!(code, 1);
    let lines: Vec<u64> = secrets(&doc)
        .iter()
        .map(|s| s["first_seen"]["line"].as_u64().unwrap())
        .collect();
    assert_eq!(lines.len(), 3, "{doc:#}");
    assert!([6, 7, 8].iter().all(|l| lines.contains(l)), "{lines:?}");
    let first = secrets(&doc)
        .iter()
        .find(|s| s["first_seen"]["line"] == 6)
        .unwrap()["fingerprint"]
        .as_str()
        .unwrap()
        .to_string();
    let baseline = t.join("first.baseline");
    std::fs::write(&baseline, format!("{first}\n")).unwrap();
    let (code, doc) = audit_json(&t, &repo.dir, &["--baseline", baseline.to_str().unwrap()]);
    assert_eq!((code, secrets(&doc).len()), (1, 2), "{doc:#}");
    assert_no_value(
        &doc.to_string(),
        &values.iter().map(String::as_str).collect::<Vec<_>>(),
    );
}

#[test]
fn the_hooks_honour_the_baseline_in_git_config() {
    let t = Sandbox::new("audit-hook-baseline");
    let (repo, aws, _) = history(&t);
    let out = audit(
        &t,
        &repo.dir,
        &["--write-baseline", ".leakgate-baseline", "-q"],
    );
    assert_eq!(out.status.code(), Some(1), "{}", all_output(&out));
    // The known key staged again in a new file: blocked without the baseline, let through with.
    repo.write("again.py", format!("K = \"{aws}\"\n"));
    repo.git_ok(&["add", "again.py"]);
    let hook = || repo.leakgate(&["hook", "pre-commit"]);
    assert_eq!(hook().status.code(), Some(1));
    repo.git_ok(&["config", "leakgate.baseline", ".leakgate-baseline"]);
    let out = hook();
    assert_eq!(out.status.code(), Some(0), "{}", all_output(&out));
    // A baseline that cannot be read fails closed.
    repo.git_ok(&["config", "leakgate.baseline", "missing.txt"]);
    assert_eq!(hook().status.code(), Some(2));
}

#[test]
fn revision_arguments_select_the_commits() {
    let t = Sandbox::new("audit-revs");
    let (repo, _, _) = history(&t);
    let count = |args: &[&str]| {
        let (_, doc) = audit_json(&t, &repo.dir, args);
        (
            doc["repositories"][0]["commits"].as_u64().unwrap(),
            rules(&doc),
        )
    };
    assert_eq!(count(&[]).0, 5);
    assert_eq!(count(&["--all"]).0, 5);
    assert_eq!(count(&["main"]).0, 5);
    assert_eq!(count(&["--branches"]).0, 5);
    // main~2..main: the token and its removal.
    let (n, found) = count(&["main~2..main"]);
    assert_eq!(n, 2);
    assert_eq!(found, ["github-personal-access-token"]);
    assert_eq!(count(&["^main~1", "main"]).0, 1);
    let (n, found) = count(&["--since", "2021-01-01"]);
    assert_eq!(n, 3);
    assert_eq!(found.len(), 2, "Bob's copy of the key is after the date");
    let (n, found) = count(&["--since=2022-01-01", "--until=2022-12-31"]);
    assert_eq!(
        (n, found.as_slice()),
        (1, ["github-personal-access-token".to_string()].as_slice())
    );
    // Tags only.
    repo.git_ok(&["tag", "v1", "main~3"]);
    let (n, found) = count(&["--tags"]);
    assert_eq!(n, 2);
    assert_eq!(found, ["aws-access-key-id"]);
    // The repository path first, then a revision.
    let (_, doc) = audit_json(&t, &t.tmp.0, &["repo", "main~2..main"]);
    assert_eq!(doc["repositories"][0]["commits"], 2);
    // Nonsense is refused, not guessed at.
    for bad in [&["--bogus"][..], &["no-such-branch"], &["main...feature"]] {
        let out = audit(&t, &repo.dir, bad);
        assert_eq!(out.status.code(), Some(2), "{bad:?}: {}", all_output(&out));
    }
}

#[test]
fn a_bare_mirror_is_audited_like_its_origin() {
    let t = Sandbox::new("audit-mirror");
    let (repo, aws, _) = history(&t);
    let mirror = t.join("mirror.git");
    let out = repo
        .git_cmd(&["clone", "-q", "--mirror", ".", mirror.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", all_output(&out));
    let (code, doc) = audit_json(&t, &t.tmp.0, &[mirror.to_str().unwrap()]);
    assert_eq!(code, 1);
    assert_eq!(doc["repositories"][0]["name"], "mirror");
    assert_eq!(doc["repositories"][0]["commits"], 5);
    assert_eq!(secrets(&doc).len(), 2);
    let key = secrets(&doc)
        .iter()
        .find(|s| s["rule"] == "aws-access-key-id")
        .unwrap();
    assert_eq!(key["present_at"].as_array().unwrap().len(), 2, "{key:#}");
    assert_no_value(&doc.to_string(), &[&aws]);
    // From inside the bare repository too.
    let (_, doc) = audit_json(&t, &mirror, &[]);
    assert_eq!(secrets(&doc).len(), 2);
}

/// Three bare repositories under `repos/`: alpha and beta share one AWS key, gamma holds a
/// GitHub token.
fn three_bare_repositories(t: &Sandbox) -> PathBuf {
    let shared = aws_key_id(31);
    let root = t.join("repos");
    for (i, name) in ["alpha", "beta", "gamma"].iter().enumerate() {
        let work = t.repo(&format!("work-{name}"));
        work.write("README", "hi\n");
        work.commit_as("init", "Zed", "2020-01-01T00:00:00Z");
        let content = if i < 2 {
            format!("KEY = \"{shared}\"\n")
        } else {
            format!("TOKEN = \"{}\"\n", github_token(32))
        };
        work.write("conf.py", &content);
        work.commit_as("conf", name, &format!("202{}-02-01T00:00:00Z", i + 1));
        let bare = root.join(format!("{name}.git"));
        let out = work
            .git_cmd(&["clone", "-q", "--bare", ".", bare.to_str().unwrap()])
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", all_output(&out));
    }
    root
}

#[test]
fn many_repositories_make_one_report() {
    let t = Sandbox::new("audit-repos");
    let root = three_bare_repositories(&t);
    let (code, doc) = audit_json(&t, &t.tmp.0, &["--repos", root.to_str().unwrap()]);
    assert_eq!(code, 1);
    let names: Vec<&str> = doc["repositories"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["alpha", "beta", "gamma"]);
    assert_eq!(secrets(&doc).len(), 2, "{doc:#}");
    let key = secrets(&doc)
        .iter()
        .find(|s| s["rule"] == "aws-access-key-id")
        .unwrap();
    let repos: Vec<&str> = key["occurrences"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["repository"].as_str().unwrap())
        .collect();
    assert_eq!(repos, ["alpha", "beta"], "one secret, two repositories");
    assert_eq!(key["first_seen"]["commit"]["author"], "alpha");
    // A list file (relative paths, comments) gives the same report.
    std::fs::write(
        t.join("list.txt"),
        "# our repositories\nrepos/alpha.git\nrepos/beta.git\n\nrepos/gamma.git\n",
    )
    .unwrap();
    let (_, listed) = audit_json(&t, &t.tmp.0, &["--repos", "list.txt"]);
    assert_eq!(listed["secrets"], doc["secrets"]);
    // One unreadable repository: the others are reported, and the run is not clean.
    std::fs::write(t.join("bad.txt"), "repos/alpha.git\nrepos/nope.git\n").unwrap();
    let out = audit(&t, &t.tmp.0, &["--repos", "bad.txt", "--format", "json"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("nope"));
}

#[test]
fn reports_of_separate_jobs_merge_into_the_report_of_one_audit() {
    let t = Sandbox::new("audit-merge");
    let root = three_bare_repositories(&t);
    let (_, combined) = audit_json(&t, &t.tmp.0, &["--repos", root.to_str().unwrap()]);
    // Three jobs, as a CI matrix would run them: one per repository, JSON each.
    let mut parts = Vec::new();
    for name in ["gamma", "alpha", "beta"] {
        let part = t.join(format!("{name}.json"));
        let out = audit(
            &t,
            &t.tmp.0,
            &[
                root.join(format!("{name}.git")).to_str().unwrap(),
                "-o",
                part.to_str().unwrap(),
            ],
        );
        assert_eq!(out.status.code(), Some(1), "{}", all_output(&out));
        parts.push(part.to_str().unwrap().to_string());
    }
    let merge = |extra: &[&str]| {
        let mut args = vec!["report", "merge"];
        args.extend(parts.iter().map(String::as_str));
        args.extend_from_slice(extra);
        t.leakgate(&t.tmp.0, &args)
    };
    let merged = merge(&["--format", "json"]).expect_code(1).json();
    assert_eq!(merged["secrets"], combined["secrets"], "{merged:#}");
    assert_eq!(merged["summary"], combined["summary"]);
    let mut names: Vec<&str> = merged["repositories"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["name"].as_str().unwrap())
        .collect();
    names.sort_unstable();
    assert_eq!(names, ["alpha", "beta", "gamma"]);
    // Any format by extension; the merged report is itself mergeable (nothing counted twice).
    let html = t.join("all.html");
    let out = merge(&["-o", html.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1), "{}", all_output(&out));
    assert!(std::fs::read_to_string(&html).unwrap().contains("<table"));
    let all = t.join("all.json");
    std::fs::write(&all, serde_json::to_vec(&merged).unwrap()).unwrap();
    let again = t
        .leakgate(
            &t.tmp.0,
            &[
                "report",
                "merge",
                "--format",
                "json",
                all.to_str().unwrap(),
                &parts[0],
            ],
        )
        .json();
    assert_eq!(again["secrets"], combined["secrets"]);
    // A baseline of everything: exit 0. A malformed part: exit 2, naming file, line and column.
    let baseline = t.join("baseline.txt");
    audit(
        &t,
        &t.tmp.0,
        &[
            "--repos",
            root.to_str().unwrap(),
            "--write-baseline",
            baseline.to_str().unwrap(),
        ],
    )
    .expect_code(1);
    let out = merge(&["--baseline", baseline.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0), "{}", all_output(&out));
    std::fs::write(t.join("broken.json"), "{\n  \"version\": 1,\n  oops\n").unwrap();
    let out = t.leakgate(&t.tmp.0, &["report", "merge", "broken.json", &parts[0]]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("broken.json:3:"),
        "{}",
        all_output(&out)
    );
}

#[test]
fn a_value_demoted_in_one_repository_keeps_its_strongest_confidence_in_any_order() {
    let t = Sandbox::new("audit-confidence");
    // A browser key line (`apiKey: "…",`) is demoted to low; the same value in a .env is high.
    let key = format!("AIza{}", common::random_alnum(41, 35));
    for (name, file, line) in [
        ("web", "config.js", format!("  apiKey: \"{key}\",\n")),
        ("srv", ".env", format!("GOOGLE_API_KEY={key}\n")),
    ] {
        let repo = t.repo(name);
        repo.write(file, &line);
        repo.commit_as("add", "Dana", "2021-01-01T00:00:00Z");
    }
    for list in ["web\nsrv\n", "srv\nweb\n"] {
        std::fs::write(t.join("list.txt"), list).unwrap();
        let (code, doc) = audit_json(&t, &t.tmp.0, &["--repos", "list.txt"]);
        assert_eq!(code, 1, "{doc:#}");
        let gcp: Vec<&Value> = secrets(&doc)
            .iter()
            .filter(|s| s["rule"] == "gcp-api-key")
            .collect();
        assert_eq!(gcp.len(), 1, "{doc:#}");
        assert_eq!(gcp[0]["confidence"], "high", "order {list:?}: {doc:#}");
        assert_eq!(gcp[0]["occurrences"].as_array().unwrap().len(), 2);
    }
    // The same through `report merge`, in both orders, and with --block-at high.
    for name in ["web", "srv"] {
        let out = audit(
            &t,
            &t.tmp.0,
            &[name, "-o", t.join(format!("{name}.json")).to_str().unwrap()],
        );
        assert!(
            matches!(out.status.code(), Some(0 | 1)),
            "{}",
            all_output(&out)
        );
    }
    for order in [["web.json", "srv.json"], ["srv.json", "web.json"]] {
        let mut args = vec!["report", "merge", "--block-at", "high", "--format", "json"];
        args.extend(order);
        let doc = t.leakgate(&t.tmp.0, &args).expect_code(1).json();
        assert_eq!(secrets(&doc)[0]["confidence"], "high");
    }
}

#[test]
fn output_format_follows_the_file_extension_and_escapes_untrusted_text() {
    let t = Sandbox::new("audit-formats");
    let repo = t.repo("repo");
    let aws = aws_key_id(41);
    repo.write("README", "hi\n");
    repo.commit_as("init", "Zed", "2020-01-01T00:00:00Z");
    // A hostile file name and author.
    let name = "=cmd|x <script>alert(1)<\\script> [a](b).py";
    repo.write(name, format!("KEY = \"{aws}\"\n"));
    repo.commit_as(
        "evil",
        "<img src=x onerror=alert(1)>",
        "2020-02-01T00:00:00Z",
    );
    let read = |ext: &str| {
        let path = t.join(format!("report.{ext}"));
        let out = audit(&t, &repo.dir, &["-o", path.to_str().unwrap()]);
        assert_eq!(out.status.code(), Some(1), "{}", all_output(&out));
        assert!(out.stdout.is_empty(), "-o writes nothing to stdout");
        let text = std::fs::read_to_string(path).unwrap();
        assert_no_value(&text, &[&aws]);
        text
    };
    let csv = read("csv");
    assert!(csv.starts_with("fingerprint,provider,rule,"));
    assert!(csv.contains("\"'=cmd|x <script>"), "formula defused: {csv}");
    let md = read("md");
    assert!(md.starts_with("# leakgate audit"));
    assert!(md.contains("=cmd\\|x &lt;script&gt;"), "{md}");
    assert!(!md.contains("<img") && !md.contains("<script>"), "{md}");
    let html = read("html");
    assert!(html.starts_with("<!DOCTYPE html>"));
    assert!(!html.contains("<img src=x"), "author escaped");
    assert!(!html.contains("<script>alert"), "path escaped");
    assert!(
        !html.contains("src=\"http") && !html.contains("href=\"http"),
        "no external asset"
    );
    let sarif = assert_valid_sarif(read("sarif").as_bytes());
    assert_eq!(sarif["version"], "2.1.0");
    let result = &sarif["runs"][0]["results"][0];
    assert_eq!(result["ruleId"], "aws-access-key-id");
    assert!(result["partialFingerprints"]["leakgate/v2"].is_string());
    assert!(result["locations"][0]["physicalLocation"]["region"]["startLine"].is_u64());
    let json: Value = serde_json::from_str(&read("json")).unwrap();
    Schema::AuditReport.assert_valid(&json);
    assert_eq!(json["version"], 1);
    let text = read("txt");
    assert!(text.starts_with("leakgate audit"));
    // --format wins over the extension; an unknown extension is an error.
    let path = t.join("r.out");
    let out = audit(
        &t,
        &repo.dir,
        &["-o", path.to_str().unwrap(), "--format", "csv"],
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(std::fs::read_to_string(&path)
        .unwrap()
        .starts_with("fingerprint,"));
    let out = audit(&t, &repo.dir, &["-o", path.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn a_clean_history_exits_0_and_scan_all_history_still_works() {
    let t = Sandbox::new("audit-clean");
    let repo = t.repo("repo");
    repo.write("README", "nothing here\n");
    repo.commit_as("init", "Zed", "2020-01-01T00:00:00Z");
    let out = audit(&t, &repo.dir, &[]);
    assert_eq!(out.status.code(), Some(0), "{}", all_output(&out));
    assert!(String::from_utf8_lossy(&out.stdout).contains("No secrets found"));
    assert!(
        out.stderr.is_empty(),
        "no progress bar in a pipe: {}",
        all_output(&out)
    );
    let out = audit(&t, &repo.dir, &["-q"]);
    assert!(
        out.stdout.is_empty() && out.stderr.is_empty(),
        "{}",
        all_output(&out)
    );
    let t2 = Sandbox::new("audit-alias");
    let (other, _, _) = history(&t2);
    other
        .leakgate(&["scan", "--all-history", "--format", "json"])
        .expect_code(1)
        .json();
}

/// The JSON report against docs/audit-report.schema.json (every `audit_json` checks it too), and
/// the check does catch a broken document.
#[test]
fn the_json_report_matches_its_schema() {
    let t = Sandbox::new("audit-schema");
    let (repo, _, _) = history(&t);
    let (_, doc) = audit_json(&t, &repo.dir, &[]);
    assert_eq!(schema_of(&doc), Some(Schema::AuditReport));
    Schema::AuditReport.assert_valid(&doc);
    let mut broken = doc.clone();
    broken["secrets"][0]
        .as_object_mut()
        .unwrap()
        .remove("first_seen");
    broken["secrets"][0]["still_present"] = Value::from("yes");
    let errors = Schema::AuditReport.violations(&broken);
    assert_eq!(errors.len(), 2, "{errors:#?}");
}

/// The SARIF log against the SARIF 2.1.0 schema (docs/sarif-2.1.0-rtm.5.json, from the npm
/// package `@microsoft/jest-sarif`) and leakgate's profile (docs/sarif-report.schema.json).
#[test]
fn the_sarif_log_matches_the_sarif_schema() {
    let t = Sandbox::new("audit-sarif");
    let (repo, _, _) = history(&t);
    let out = audit(&t, &repo.dir, &["--format", "sarif"]).expect_code(1);
    let log = assert_valid_sarif(&out.stdout);
    assert_eq!(log["runs"][0]["results"].as_array().unwrap().len(), 2);
    let mut broken = log.clone();
    broken["runs"][0]["results"][0]["level"] = Value::from("fatal");
    assert!(
        !Schema::Sarif.violations(&broken).is_empty(),
        "the validator catches a bad level"
    );
}

/// The HTML page in a real browser: headless Chromium loads it, runs its script, and the DOM it
/// dumps holds the rows the script filled, sorted, and filtered by the URL fragment.
#[test]
fn the_html_report_renders_its_table_in_headless_chromium() {
    let chromium = ["chromium", "chromium-browser", "google-chrome"]
        .iter()
        .find(|b| {
            Command::new(b)
                .arg("--version")
                .output()
                .is_ok_and(|o| o.status.success())
        })
        .expect("Chromium is needed for this test (CI installs it: apt-get install -y chromium)");
    let t = Sandbox::new("audit-html");
    let (repo, aws, gh) = history(&t);
    // A third secret, and a hostile path that must stay text.
    let other = github_token(77);
    repo.write("x<b>y</b>.env", format!("GH={other}\n"));
    repo.commit_as("more", "Eve", "2018-07-07T00:00:00Z");
    let page = t.join("report.html");
    let out = audit(&t, &repo.dir, &["-o", page.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1), "{}", all_output(&out));
    let dump = |fragment: &str| -> String {
        let profile = TempDir::new("chromium-profile");
        let out = Command::new(chromium)
            .args([
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
                "--disable-dev-shm-usage",
            ])
            .arg(format!("--user-data-dir={}", profile.0.display()))
            .arg("--dump-dom")
            .arg(format!("file://{}{fragment}", page.display()))
            .env("HOME", &profile.0)
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", all_output(&out));
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    let rows = |dom: &str| -> Vec<Vec<String>> {
        let body = dom
            .split("<table id=\"secrets\"")
            .nth(1)
            .and_then(|s| s.split("<tbody>").nth(1))
            .and_then(|s| s.split("</tbody>").next())
            .unwrap_or_else(|| panic!("no table body in {dom}"));
        body.split("<tr")
            .skip(1)
            .map(|tr| {
                tr.split("<td")
                    .skip(1)
                    .map(|td| {
                        let inner = td.split_once('>').unwrap().1;
                        let inner = inner.split("</td>").next().unwrap();
                        // Drop a link's tags.
                        let mut text = String::new();
                        let mut in_tag = false;
                        for c in inner.chars() {
                            match c {
                                '<' => in_tag = true,
                                '>' => in_tag = false,
                                c if !in_tag => text.push(c),
                                _ => {}
                            }
                        }
                        text
                    })
                    .collect()
            })
            .collect()
    };
    let dom = dump("");
    assert_no_value(&dom, &[&aws, &gh, &other]);
    let all = rows(&dom);
    assert_eq!(all.len(), 3, "the script filled every row:\n{dom}");
    // Sorted by first seen: Eve's 2018 token, Alice's 2020 key, Carol's 2022 token.
    let providers: Vec<&str> = all.iter().map(|r| r[1].as_str()).collect();
    let firsts: Vec<&str> = all.iter().map(|r| r[5].as_str()).collect();
    assert_eq!(
        firsts,
        ["2018-07-07", "2020-03-01", "2022-02-02"],
        "{all:?}"
    );
    assert_eq!(providers[1], "AWS");
    assert!(all[1][6].starts_with("Alice"), "{all:?}");
    assert_eq!(all[1][9], "2", "two places");
    assert_eq!(
        all[0][7], "x&lt;b&gt;y&lt;/b&gt;.env:1",
        "a path stays text"
    );
    assert!(dom.contains("3 of 3 secrets shown"));
    // The chart: one bar per month from the first to the last, three months with a secret.
    let bars = dom.matches("class=\"bar\"").count();
    assert_eq!(
        bars,
        (2022 - 2018) * 12 + 2 - 7 + 1,
        "months 2018-07..2022-02"
    );
    assert_eq!(dom.matches("data-count=\"1\"").count(), 3);
    // Filtered and sorted by the fragment.
    let dom = dump("#provider=GitHub&sort=first&dir=desc");
    let some = rows(&dom);
    let firsts: Vec<&str> = some.iter().map(|r| r[5].as_str()).collect();
    assert_eq!(firsts, ["2022-02-02", "2018-07-07"], "{some:?}");
    let dom = dump("#present=1&q=ci.yml");
    let some = rows(&dom);
    assert_eq!(some.len(), 1, "{some:?}");
    assert_eq!(some[0][10], "yes");
}

/// An unchanged name line (CRLF) with its value added on the next line, on a branch merged later:
/// the audit finds the value once, in the branch's commit (the merge holds the line of one parent
/// and adds nothing), at its line.
#[test]
fn a_value_added_under_an_unchanged_name_line_is_found_once_through_a_merge() {
    let t = Sandbox::new("audit-continued");
    let repo = t.repo("repo");
    let template = "aws:\r\n  aws_secret_access_key: >-\r\n    CHANGE_ME\r\n  region: eu\r\n";
    repo.write("config.yml", template);
    repo.commit_as("template", "Zed", "2020-01-01T00:00:00Z");
    repo.git_ok(&["checkout", "-q", "-b", "side"]);
    let secret = common::random_alnum(93, 40);
    repo.write("config.yml", template.replace("CHANGE_ME", &secret));
    let added = repo.commit_as("value", "Alice", "2020-02-01T00:00:00Z");
    repo.git_ok(&["checkout", "-q", "main"]);
    repo.write("README", "hello\n");
    repo.commit_as("readme", "Bob", "2020-03-01T00:00:00Z");
    let out = repo
        .git_cmd(&["merge", "-q", "--no-ff", "-m", "merge", "side"])
        .env("GIT_COMMITTER_DATE", "2020-04-01T00:00:00Z")
        .env("GIT_AUTHOR_DATE", "2020-04-01T00:00:00Z")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", all_output(&out));
    let raw = audit(&t, &repo.dir, &["--format", "json"]);
    assert_no_value(&all_output(&raw), &[&secret]);
    let doc = raw.json();
    assert_eq!(secrets(&doc).len(), 1, "{doc:#}");
    let occurrences = secrets(&doc)[0]["occurrences"].as_array().unwrap();
    assert_eq!(occurrences.len(), 1, "{doc:#}");
    assert_eq!(occurrences[0]["commit"]["id"], added.as_str());
    assert_eq!(occurrences[0]["path"], "config.yml");
    assert_eq!(occurrences[0]["line"], 3);
}

//! The real pre-commit framework (<https://pre-commit.com>) running this repository's
//! `.pre-commit-hooks.yaml`. Requires `pre-commit` on PATH (`python3 -m pip install pre-commit`;
//! `.ci/run` installs it).
//!
//! Nothing is downloaded: the test builds a small "hook repository" holding a copy of
//! `.pre-commit-hooks.yaml` (so it does not depend on what this checkout has committed), points a
//! `.pre-commit-config.yaml` at it by path, and uses `language: system` with the built `leakgate`
//! first on PATH. The hooks declared `language: rust` are used with their language overridden to
//! `system` in the config (their entry, stages and file passing still come from the manifest).

use crate::common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use common::{all_output, github_token, Ran as _, Sandbox};
use leakgate::fingerprint::fingerprint;

/// The fingerprint leakgate prints for a GitHub token.
fn fp(token: &str) -> String {
    fingerprint("github-personal-access-token", token.as_bytes())
}

/// A sandbox whose PATH starts with the directory of the built `leakgate`, with the framework's
/// home inside it; fails clearly when the framework is not installed.
fn framework(name: &str) -> Sandbox {
    let version = Command::new("pre-commit").arg("--version").output();
    match version {
        Ok(out) if out.status.success() => {}
        _ => panic!(
            "the pre-commit framework is not on PATH: install it with \
             `python3 -m pip install pre-commit` (CI does this in .ci/run)"
        ),
    }
    let sb = Sandbox::new(name).with_path_first([]).without_env("SKIP");
    let home = sb.join("pre-commit-home");
    sb.with_env("PRE_COMMIT_HOME", home)
}

/// A hook repository holding a copy of this repository's `.pre-commit-hooks.yaml`; its path and
/// commit.
fn hook_repo(fw: &Sandbox) -> (PathBuf, String) {
    let repo = fw.repo("hook-repo");
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR")).join(".pre-commit-hooks.yaml");
    std::fs::copy(&manifest, repo.join(".pre-commit-hooks.yaml")).unwrap();
    repo.git_ok(&["add", "."]);
    repo.git_ok(&["commit", "-q", "-m", "hooks"]);
    (repo.dir.clone(), repo.head())
}

/// A repository using the hooks through the framework, with the framework's git hooks installed
/// (pre-commit, commit-msg, pre-push).
fn project(fw: &Sandbox) -> PathBuf {
    let dir = project_with(
        fw,
        "\x20     - id: leakgate-system\n\
         \x20     - id: leakgate-commit-msg\n\
         \x20       language: system\n",
    );
    let out = fw.ok(&dir, "pre-commit", &["install"]);
    assert!(out.contains("pre-commit installed"), "{out}");
    dir
}

/// A repository whose `.pre-commit-config.yaml` lists `hooks` (YAML list items) from the hook
/// repository; the framework's git hooks are not installed yet.
fn project_with(fw: &Sandbox, hooks: &str) -> PathBuf {
    let (hook_repo, rev) = hook_repo(fw);
    let repo = fw.repo("project");
    let config = format!(
        "default_install_hook_types: [pre-commit, commit-msg, pre-push]\n\
         repos:\n\
         \x20 - repo: {}\n\
         \x20   rev: {rev}\n\
         \x20   hooks:\n{hooks}",
        hook_repo.display()
    );
    repo.write(".pre-commit-config.yaml", config);
    repo.git_ok(&["add", ".pre-commit-config.yaml"]);
    repo.dir.clone()
}

fn stderr_and_stdout(out: &Output) -> String {
    all_output(out)
}

fn head(fw: &Sandbox, dir: &Path) -> Option<String> {
    let out = fw.git(dir, &["rev-parse", "-q", "--verify", "HEAD"]);
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).trim().to_string())
}

#[test]
fn framework_blocks_a_staged_secret_and_passes_a_clean_commit() {
    let fw = framework("framework-commit");
    let dir = project(&fw);
    let token = github_token(301);

    std::fs::write(dir.join("README"), "readme\n").unwrap();
    fw.git_ok(&dir, &["add", "README"]);
    let out = fw.git(&dir, &["commit", "-m", "clean start"]);
    assert_eq!(out.status.code(), Some(0), "{}", all_output(&out));
    let text = stderr_and_stdout(&out);
    assert!(text.contains("leakgate (secrets in the change)"), "{text}");
    assert!(text.contains("Passed"), "{text}");
    let clean = head(&fw, &dir).unwrap();

    std::fs::write(dir.join("deploy.env"), format!("TOKEN={token}\n")).unwrap();
    fw.git_ok(&dir, &["add", "deploy.env"]);
    let out = fw.git(&dir, &["commit", "-m", "add deploy config"]);
    assert_ne!(out.status.code(), Some(0), "{}", all_output(&out));
    assert_eq!(head(&fw, &dir).as_deref(), Some(clean.as_str()));
    let text = stderr_and_stdout(&out);
    assert!(text.contains("Failed"), "{text}");
    assert!(text.contains("deploy.env:1:7"), "{text}");
    assert!(text.contains(&fp(&token)), "{text}");
    assert!(!text.contains(&token), "secret printed:\n{text}");
    // The hint names the id that is running: only `SKIP=leakgate-system` skips this hook.
    assert!(text.contains("SKIP=leakgate-system"), "{text}");
    assert!(!text.contains("SKIP=leakgate "), "{text}");

    // SKIP=leakgate-system is the framework's bypass.
    let out = fw
        .command("git", &dir)
        .args(["commit", "-m", "deliberate"])
        .env("SKIP", "leakgate-system")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", all_output(&out));
    assert_ne!(head(&fw, &dir).as_deref(), Some(clean.as_str()));
}

#[test]
fn framework_commit_msg_hook_blocks_a_token_in_the_message() {
    let fw = framework("framework-msg");
    let dir = project(&fw);
    let token = github_token(311);
    std::fs::write(dir.join("README"), "readme\n").unwrap();
    fw.git_ok(&dir, &["add", "README"]);
    let out = fw.git(&dir, &["commit", "-m", &format!("release with {token}")]);
    assert_ne!(out.status.code(), Some(0), "{}", all_output(&out));
    assert_eq!(head(&fw, &dir), None);
    let text = stderr_and_stdout(&out);
    assert!(
        text.contains("commit blocked: 1 secret in the commit message"),
        "{text}"
    );
    assert!(!text.contains(&token), "secret printed:\n{text}");
    let out = fw.git(&dir, &["commit", "-m", "release"]);
    assert_eq!(out.status.code(), Some(0), "{}", all_output(&out));
}

#[test]
fn framework_pre_push_scans_the_pushed_commits() {
    let fw = framework("framework-push");
    let dir = project(&fw);
    let remote = fw.bare_remote();
    fw.git_ok(
        &dir,
        &["remote", "add", "origin", &remote.display().to_string()],
    );
    let remote_head = || {
        let out = fw.git(&remote, &["rev-parse", "-q", "--verify", "refs/heads/main"]);
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    };

    // The first push carries the root commit: the framework then sets no range.
    let first = github_token(321);
    std::fs::write(dir.join("first.env"), format!("TOKEN={first}\n")).unwrap();
    fw.git_ok(&dir, &["add", "."]);
    fw.git_ok(
        &dir,
        &["commit", "-q", "--no-verify", "-m", "root with a secret"],
    );
    let out = fw.git(&dir, &["push", "origin", "main"]);
    assert_ne!(out.status.code(), Some(0), "{}", all_output(&out));
    assert_eq!(remote_head(), "");
    let text = stderr_and_stdout(&out);
    assert!(text.contains("push blocked"), "{text}");
    assert!(text.contains(&fp(&first)), "{text}");
    assert!(!text.contains(&first), "secret printed:\n{text}");

    // Clean history goes through.
    fw.git_ok(&dir, &["rm", "-q", "first.env"]);
    fw.git_ok(
        &dir,
        &["commit", "-q", "--no-verify", "--amend", "-m", "root"],
    );
    let out = fw.git(&dir, &["push", "origin", "main"]);
    assert_eq!(out.status.code(), Some(0), "{}", all_output(&out));
    let pushed = head(&fw, &dir).unwrap();
    assert_eq!(remote_head(), pushed);

    // Later pushes: the framework hands over PRE_COMMIT_FROM_REF..PRE_COMMIT_TO_REF.
    let later = github_token(322);
    std::fs::write(dir.join("later.env"), format!("TOKEN={later}\n")).unwrap();
    fw.git_ok(&dir, &["add", "later.env"]);
    fw.git_ok(&dir, &["commit", "-q", "--no-verify", "-m", "unverified"]);
    let bad = head(&fw, &dir).unwrap();
    let out = fw.git(&dir, &["push", "origin", "main"]);
    assert_ne!(out.status.code(), Some(0), "{}", all_output(&out));
    assert_eq!(remote_head(), pushed);
    let text = stderr_and_stdout(&out);
    assert!(
        text.contains("push blocked: 1 secret in 1 commit"),
        "{text}"
    );
    assert!(text.contains(&format!("commit {}", &bad[..12])), "{text}");
    assert!(text.contains("git commit --amend"), "{text}");
    assert!(!text.contains(&later), "secret printed:\n{text}");
}

#[test]
fn framework_commit_msg_system_hook_blocks_and_names_its_own_skip_id() {
    let fw = framework("framework-msg-system");
    let dir = project_with(&fw, "\x20     - id: leakgate-commit-msg-system\n");
    fw.ok(
        &dir,
        "pre-commit",
        &["install", "--hook-type", "commit-msg"],
    );
    let token = github_token(331);
    std::fs::write(dir.join("README"), "readme\n").unwrap();
    fw.git_ok(&dir, &["add", "README"]);
    let out = fw.git(&dir, &["commit", "-m", &format!("release with {token}")]);
    let text = stderr_and_stdout(&out);
    assert_ne!(out.status.code(), Some(0), "{text}");
    assert_eq!(head(&fw, &dir), None);
    assert!(
        text.contains("commit blocked: 1 secret in the commit message"),
        "{text}"
    );
    assert!(text.contains("SKIP=leakgate-commit-msg-system"), "{text}");
    assert!(!text.contains(&token), "secret printed:\n{text}");
    let out = fw
        .command("git", &dir)
        .args(["commit", "-m", &format!("release with {token}")])
        .env("SKIP", "leakgate-commit-msg-system")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", all_output(&out));
}

/// After `leakgate install --global`, `pre-commit install` refuses (core.hooksPath is set); the
/// README's way out installs the framework's hooks into the repository's own hooks directory,
/// which leakgate's global hooks run first.
#[test]
fn framework_after_a_global_install_refuses_and_the_readme_way_out_runs_both() {
    let fw = framework("framework-global");
    let dir = project_with(&fw, "\x20     - id: leakgate-system\n");
    fw.leakgate(&dir, &["install", "--global"]).expect_code(0);
    let out = fw.run(&dir, "pre-commit", &["install"]);
    let text = stderr_and_stdout(&out);
    assert_ne!(out.status.code(), Some(0), "{text}");
    assert!(text.contains("core.hooksPath"), "{text}");

    let out = fw
        .command("pre-commit", &dir)
        .arg("install")
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", all_output(&out));
    std::fs::write(dir.join("README"), "readme\n").unwrap();
    fw.git_ok(&dir, &["add", "README"]);
    let out = fw.git(&dir, &["commit", "-m", "clean"]);
    let text = stderr_and_stdout(&out);
    assert_eq!(out.status.code(), Some(0), "{text}");
    // The framework's hook ran (chained by the global hook), and so did leakgate's own.
    assert!(text.contains("leakgate (secrets in the change)"), "{text}");
    let clean = head(&fw, &dir).unwrap();

    let token = github_token(341);
    std::fs::write(dir.join("deploy.env"), format!("TOKEN={token}\n")).unwrap();
    fw.git_ok(&dir, &["add", "deploy.env"]);
    let out = fw.git(&dir, &["commit", "-m", "deploy"]);
    let text = stderr_and_stdout(&out);
    assert_ne!(out.status.code(), Some(0), "{text}");
    assert!(text.contains("commit blocked"), "{text}");
    assert_eq!(head(&fw, &dir).as_deref(), Some(clean.as_str()));
}

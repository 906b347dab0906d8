//! The real husky and lefthook (npm packages) in a test project: `leakgate install` refuses to
//! install under them and prints the lines to add; those very lines, added to the manager's own
//! configuration, block a secret at commit, in the message and at push. Also pre-push wired
//! without git's stdin (lefthook without `use_stdin`): the push is still scanned.
//!
//! Requires `npm` and network access to the npm registry (`.ci/run` checks `npm`); without them
//! every test here prints why it is skipped and passes.

use crate::common;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;

use common::{all_output, github_token, leakgate_bin, Repo, Sandbox};

/// `node_modules` with husky and lefthook, installed once per test run (shared by the tests).
fn node_modules() -> Option<&'static Path> {
    static DIR: OnceLock<Option<PathBuf>> = OnceLock::new();
    DIR.get_or_init(|| {
        let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("npm-hook-managers");
        if dir.join("node_modules/.bin/lefthook").exists()
            && dir.join("node_modules/.bin/husky").exists()
        {
            return Some(dir.join("node_modules"));
        }
        let _ = std::fs::create_dir_all(&dir);
        let _ = std::fs::write(dir.join("package.json"), "{\"private\": true}\n");
        let out = Command::new("npm")
            .args([
                "install",
                "--no-audit",
                "--no-fund",
                "--ignore-scripts",
                "husky@9",
                "lefthook",
            ])
            .current_dir(&dir)
            .stdin(Stdio::null())
            .output();
        match out {
            Ok(out) if out.status.success() => Some(dir.join("node_modules")),
            Ok(out) => {
                eprintln!(
                    "SKIPPED: `npm install husky lefthook` failed (no network?):\n{}",
                    all_output(&out)
                );
                None
            }
            Err(e) => {
                eprintln!(
                    "SKIPPED: npm is not available ({e}); install Node.js to run these tests"
                );
                None
            }
        }
    })
    .as_deref()
}

/// A sandbox with the built `leakgate` and the npm packages' binaries first on PATH; `None`
/// (after printing why) when npm or the network is missing.
fn sandbox(name: &str) -> Option<Sandbox> {
    let modules = node_modules()?;
    Some(
        Sandbox::new(name)
            .with_path_first([modules.join(".bin")])
            .without_env("HUSKY")
            .without_env("LEFTHOOK"),
    )
}

/// The project: a git repository with the npm packages linked in.
fn project(sb: &Sandbox) -> Repo<'_> {
    let p = sb.repo("project");
    std::os::unix::fs::symlink(node_modules().unwrap(), p.join("node_modules")).unwrap();
    p.write(".gitignore", "node_modules\n");
    p
}

/// A bare remote `origin` for `p`.
fn add_remote(p: &Repo) -> PathBuf {
    let remote = p.sb.bare_remote();
    p.ok(
        "git",
        &["remote", "add", "origin", remote.to_str().unwrap()],
    );
    remote
}

/// The remote's `main` (empty when it has none).
fn remote_main(p: &Repo, remote: &Path) -> String {
    p.sb.rev(remote, "refs/heads/main").unwrap_or_default()
}

/// The lines of `text` after the line `start` (exclusive) while they are indented by four
/// spaces, dedented: a snippet as leakgate's refusal prints it.
fn snippet_after(text: &str, start: &str) -> String {
    let mut lines = text.lines().skip_while(|l| l.trim() != start);
    assert!(lines.next().is_some(), "no `{start}` in:\n{text}");
    let mut out = String::new();
    for line in lines {
        let Some(body) = line.strip_prefix("    ") else {
            break;
        };
        if body.starts_with("# ") || body.starts_with("then run") {
            break;
        }
        out.push_str(body);
        out.push('\n');
    }
    out
}

/// With the manager's hooks wired: a clean commit passes and runs the user's own hook (it writes
/// `user-hook.log`, `users_hook` names it); `token` staged is blocked and never printed, and
/// `token` in a commit message is blocked.
fn commit_and_message_are_blocked(p: &Repo, token: &str, users_hook: &str) {
    p.ok("git", &["add", "."]);
    let out = p.run("git", &["commit", "-q", "-m", "clean start"]);
    assert!(out.status.success(), "{}", all_output(&out));
    assert!(p.join("user-hook.log").exists(), "{users_hook} did not run");
    let clean = p.try_head().unwrap();

    // A staged secret is blocked, and the user's hook still runs.
    p.write("deploy.env", format!("TOKEN={token}\n"));
    p.ok("git", &["add", "deploy.env"]);
    let out = p.run("git", &["commit", "-m", "deploy"]);
    let text = all_output(&out);
    assert_ne!(out.status.code(), Some(0), "{text}");
    assert!(text.contains("commit blocked"), "{text}");
    assert!(!text.contains(token), "secret printed:\n{text}");
    assert_eq!(p.try_head().as_deref(), Some(clean.as_str()));

    // A token in the message is blocked by the commit-msg line.
    p.ok("git", &["rm", "-q", "--cached", "deploy.env"]);
    std::fs::remove_file(p.join("deploy.env")).unwrap();
    p.write("notes.txt", "notes\n");
    p.ok("git", &["add", "notes.txt"]);
    let out = p.run("git", &["commit", "-m", &format!("release {token}")]);
    let text = all_output(&out);
    assert_ne!(out.status.code(), Some(0), "{text}");
    assert!(text.contains("in the commit message"), "{text}");
}

#[test]
fn husky9_install_is_refused_and_the_printed_lines_block_secrets() {
    let Some(sb) = sandbox("husky9") else {
        return;
    };
    let p = project(&sb);
    p.write("README", "readme\n");
    p.ok("husky", &[]);
    assert_eq!(p.ok("git", &["config", "core.hooksPath"]), ".husky/_");
    // The user's own husky hook, which must keep running.
    p.write(".husky/pre-commit", "echo user-hook >> user-hook.log\n");
    let stub = std::fs::read(p.dir.join(".husky/_/pre-commit")).unwrap();

    let out = p.run(leakgate_bin().to_str().unwrap(), &["install"]);
    let text = all_output(&out);
    assert_eq!(out.status.code(), Some(2), "{text}");
    assert!(text.contains("belong to husky"), "{text}");
    assert!(text.contains("leakgate hook pre-commit"), "{text}");
    // Nothing was renamed or rewritten: husky's stubs are untouched.
    assert_eq!(
        std::fs::read(p.dir.join(".husky/_/pre-commit")).unwrap(),
        stub
    );
    let entries: Vec<String> = std::fs::read_dir(p.dir.join(".husky/_"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert!(
        !entries.iter().any(|n| n.contains("leakgate")),
        "{entries:?}"
    );
    // --force cannot help under husky 5+.
    let out = p.run(leakgate_bin().to_str().unwrap(), &["install", "--force"]);
    assert_eq!(out.status.code(), Some(2), "{}", all_output(&out));

    // Add exactly the printed lines to the husky scripts.
    for hook in ["pre-commit", "commit-msg", "pre-push"] {
        let lines = snippet_after(&text, &format!("# .husky/{hook}  (add this line)"));
        assert!(lines.contains("leakgate hook"), "{hook}: {lines:?}");
        let path = p.dir.join(".husky").join(hook);
        let mut script = std::fs::read_to_string(&path).unwrap_or_default();
        script.push_str(&lines);
        std::fs::write(path, script).unwrap();
    }
    let token = github_token(901);
    commit_and_message_are_blocked(&p, &token, "the user's husky hook");

    // A secret committed with --no-verify is blocked at push by the pre-push line.
    let remote = add_remote(&p);
    p.write("deploy.env", format!("TOKEN={token}\n"));
    p.ok("git", &["add", "deploy.env"]);
    p.ok("git", &["commit", "-q", "--no-verify", "-m", "unverified"]);
    let out = p.run("git", &["push", "origin", "main"]);
    let text = all_output(&out);
    assert_ne!(out.status.code(), Some(0), "{text}");
    assert!(text.contains("push blocked"), "{text}");
    assert_eq!(remote_main(&p, &remote), "");
}

#[test]
fn lefthook_install_is_refused_and_the_printed_block_blocks_secrets() {
    let Some(sb) = sandbox("lefthook") else {
        return;
    };
    let p = project(&sb);
    p.write(
        "lefthook.yml",
        "pre-commit:\n  commands:\n    hello:\n      run: echo user-hook >> user-hook.log\n",
    );
    let out = p.run(leakgate_bin().to_str().unwrap(), &["install"]);
    let text = all_output(&out);
    assert_eq!(out.status.code(), Some(2), "{text}");
    assert!(text.contains("belong to lefthook"), "{text}");
    assert!(text.contains("use_stdin: true"), "{text}");
    let block = snippet_after(&text, "# lefthook.yml");
    assert!(block.contains("pre-push:"), "{block}");

    // lefthook's stubs installed: still refused, by the stubs.
    p.ok("lefthook", &["install"]);
    let out = p.run(leakgate_bin().to_str().unwrap(), &["install"]);
    assert_eq!(out.status.code(), Some(2), "{}", all_output(&out));

    // The printed block, verbatim, with the user's own command beside leakgate's.
    let merged = block.replacen(
        "pre-commit:\n  commands:\n",
        "pre-commit:\n  commands:\n    hello:\n      run: echo user-hook >> user-hook.log\n",
        1,
    );
    assert_ne!(merged, block, "{block}");
    p.write("lefthook.yml", &merged);
    p.ok("lefthook", &["install"]);
    p.write("README", "readme\n");
    let token = github_token(911);
    commit_and_message_are_blocked(&p, &token, "the user's lefthook command");

    let remote = add_remote(&p);
    p.ok("git", &["commit", "-q", "-m", "notes"]);
    let out = p.run("git", &["push", "origin", "main"]);
    assert!(out.status.success(), "{}", all_output(&out));
    p.write("deploy.env", format!("TOKEN={token}\n"));
    p.ok("git", &["add", "deploy.env"]);
    p.ok("git", &["commit", "-q", "--no-verify", "-m", "unverified"]);
    let pushed = remote_main(&p, &remote);
    let out = p.run("git", &["push", "origin", "main"]);
    let text = all_output(&out);
    assert_ne!(out.status.code(), Some(0), "{text}");
    assert!(
        text.contains("push blocked: 1 secret in 1 commit"),
        "{text}"
    );
    assert!(
        !text.contains("no ref lines"),
        "use_stdin gave no ref lines:\n{text}"
    );
    assert_eq!(remote_main(&p, &remote), pushed);
}

#[test]
fn lefthook_pre_push_without_use_stdin_still_blocks_the_pushed_secret() {
    let Some(sb) = sandbox("lefthook-nostdin") else {
        return;
    };
    let p = project(&sb);
    // The wiring people write first: no `use_stdin`, so leakgate gets no ref lines.
    p.write(
        "lefthook.yml",
        "pre-push:\n  commands:\n    leakgate:\n      run: leakgate hook pre-push {1} {2}\n",
    );
    p.ok("lefthook", &["install"]);
    let remote = add_remote(&p);
    p.write("README", "readme\n");
    p.ok("git", &["add", "."]);
    p.ok("git", &["commit", "-q", "-m", "clean start"]);
    let out = p.run("git", &["push", "-u", "origin", "main"]);
    let text = all_output(&out);
    assert!(out.status.success(), "{text}");
    assert!(text.contains("no ref lines"), "{text}");
    let pushed = remote_main(&p, &remote);

    let token = github_token(921);
    p.write("deploy.env", format!("TOKEN={token}\n"));
    p.ok("git", &["add", "deploy.env"]);
    p.ok("git", &["commit", "-q", "-m", "add deploy config"]);
    let out = p.run("git", &["push", "origin", "main"]);
    let text = all_output(&out);
    assert_ne!(out.status.code(), Some(0), "{text}");
    assert!(
        text.contains("push blocked: 1 secret in 1 commit"),
        "{text}"
    );
    assert!(!text.contains(&token), "secret printed:\n{text}");
    assert_eq!(remote_main(&p, &remote), pushed);

    // A new branch without an upstream: its commits on no branch of origin are scanned.
    p.ok("git", &["checkout", "-q", "-b", "feature"]);
    let out = p.run("git", &["push", "origin", "feature"]);
    assert_ne!(out.status.code(), Some(0), "{}", all_output(&out));
}

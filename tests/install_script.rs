//! `install.sh`: its options, its errors, what it would run (`--dry-run`, so no release build), and
//! shellcheck when it is installed. The real build-and-install is exercised by hand and in CI's
//! self-scan build, not here: it is a full release build.

use crate::common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use common::{all_output, Sandbox};

fn script() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("install.sh")
}

/// The first `name` on the test's own PATH.
fn which(name: &str) -> Option<PathBuf> {
    std::env::split_paths(&std::env::var_os("PATH")?)
        .map(|dir| dir.join(name))
        .find(|p| p.is_file())
}

fn bash() -> PathBuf {
    which("bash").expect("bash is not on PATH")
}

/// `bash install.sh ARGS` in `dir`, in the sandbox's isolated environment.
fn run(sb: &Sandbox, dir: &Path, args: &[&str]) -> Output {
    sb.command(bash(), dir)
        .arg(script())
        .args(args)
        .output()
        .unwrap()
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn help_lists_the_options() {
    let sb = Sandbox::new("install-help");
    let out = run(&sb, &sb.tmp.0, &["--help"]);
    assert_eq!(out.status.code(), Some(0), "{}", all_output(&out));
    let text = String::from_utf8_lossy(&out.stdout);
    for option in [
        "--prefix DIR",
        "--no-hook",
        "--hooks LIST",
        "--global",
        "--force",
        "--dry-run",
        "cargo install --locked --path",
    ] {
        assert!(text.contains(option), "--help lacks {option}:\n{text}");
    }
}

#[test]
fn unknown_option_is_a_usage_error() {
    let sb = Sandbox::new("install-usage");
    let out = run(&sb, &sb.tmp.0, &["--frobnicate"]);
    assert_eq!(out.status.code(), Some(2), "{}", all_output(&out));
    assert!(stderr(&out).contains("unknown option: --frobnicate"));
    let out = run(&sb, &sb.tmp.0, &["--prefix"]);
    assert_eq!(out.status.code(), Some(1), "{}", all_output(&out));
    assert!(stderr(&out).contains("--prefix needs a directory"));
}

#[test]
fn missing_cargo_is_a_clear_error() {
    let sb = Sandbox::new("install-nocargo");
    let empty = sb.dir("empty-path").dir;
    let out = sb
        .command(bash(), &sb.tmp.0)
        .arg(script())
        .env("PATH", &empty)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", all_output(&out));
    let err = stderr(&out);
    assert!(err.contains("cargo was not found on PATH"), "{err}");
    assert!(err.contains("https://rustup.rs"), "{err}");
}

#[test]
fn dry_run_shows_the_install_and_the_hook_for_the_current_repository() {
    let sb = Sandbox::new("install-dry");
    let repo = sb.repo("repo").dir;
    let prefix = sb.join("prefix");
    let prefix_text = prefix.display().to_string();
    let source = Path::new(env!("CARGO_MANIFEST_DIR"))
        .canonicalize()
        .unwrap();
    let install_line = format!(
        "+ cargo install --locked --path {} --root {prefix_text}",
        source.display()
    );
    let leakgate = format!("+ {prefix_text}/bin/leakgate install");

    // Inside a repository: the binaries, then the hooks there.
    let out = run(
        &sb,
        &repo,
        &[
            "--dry-run",
            "--prefix",
            &prefix_text,
            "--hooks",
            "pre-commit,pre-push",
        ],
    );
    assert_eq!(out.status.code(), Some(0), "{}", all_output(&out));
    let err = stderr(&out);
    assert!(err.contains(&install_line), "{err}");
    assert!(
        err.contains(&format!("{leakgate} --hook pre-commit,pre-push\n")),
        "{err}"
    );
    assert!(!prefix.exists(), "--dry-run created the prefix");

    // --global: for every repository.
    let out = run(
        &sb,
        &repo,
        &["--dry-run", "--prefix", &prefix_text, "--global"],
    );
    assert_eq!(out.status.code(), Some(0), "{}", all_output(&out));
    assert!(
        stderr(&out).contains(&format!("{leakgate} --global\n")),
        "{}",
        stderr(&out)
    );

    // --no-hook, or outside a repository: the binaries only.
    let out = run(
        &sb,
        &repo,
        &["--dry-run", "--prefix", &prefix_text, "--no-hook"],
    );
    assert_eq!(out.status.code(), Some(0), "{}", all_output(&out));
    assert!(stderr(&out).contains(&install_line), "{}", stderr(&out));
    assert!(!stderr(&out).contains(&leakgate), "{}", stderr(&out));
    let outside = sb.join("not-a-repo");
    std::fs::create_dir_all(&outside).unwrap();
    let out = run(&sb, &outside, &["--dry-run", "--prefix", &prefix_text]);
    assert_eq!(out.status.code(), Some(0), "{}", all_output(&out));
    let err = stderr(&out);
    assert!(err.contains("Not inside a git work tree"), "{err}");
    assert!(!err.contains(&leakgate), "{err}");

    let out = run(&sb, &repo, &["--dry-run", "--no-hook", "--global"]);
    assert_eq!(out.status.code(), Some(1), "{}", all_output(&out));
}

#[test]
fn shellcheck_is_clean_when_available() {
    let Some(shellcheck) = which("shellcheck") else {
        eprintln!("shellcheck is not installed: skipped");
        return;
    };
    let out = Command::new(shellcheck).arg(script()).output().unwrap();
    assert!(out.status.success(), "shellcheck:\n{}", all_output(&out));
}

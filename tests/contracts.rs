//! Snapshot of what a person reads when a commit is blocked: four findings of two providers,
//! through the real pre-commit hook, in a pipe (80 columns). Volatile parts (fingerprints, the
//! temporary directory) are normalised. Set `LEAKGATE_UPDATE_SNAPSHOTS=1` to rewrite the expected
//! file after a deliberate change, and review the diff.

use crate::common;

use std::path::Path;
use std::process::{Command, Stdio};

use common::{all_output, aws_key_id, github_token, isolate, leakgate_bin, TempDir};

const SNAPSHOT: &str = "tests/snapshots/commit_blocked_four_findings.txt";

fn git(dir: &Path, home: &Path, args: &[&str]) {
    let mut cmd = Command::new("git");
    cmd.current_dir(dir).args(args).stdin(Stdio::null());
    isolate(&mut cmd, home);
    let out = cmd.output().unwrap();
    assert!(out.status.success(), "git {args:?}: {}", all_output(&out));
}

fn normalise(text: &str, tmp: &Path) -> String {
    let fingerprint = regex::Regex::new(r"([a-z0-9-]+):[0-9a-f]{20}\b").unwrap();
    let text = text.replace(&tmp.display().to_string(), "<tmp>");
    fingerprint
        .replace_all(&text, "$1:<fingerprint>")
        .into_owned()
}

#[test]
fn blocked_commit_with_four_findings_reads_well_in_80_columns() {
    let tmp = TempDir::new("snapshot");
    let home = tmp.join("home");
    let dir = tmp.join("repo");
    std::fs::create_dir_all(&home).unwrap();
    std::fs::create_dir_all(&dir).unwrap();
    git(&dir, &home, &["init", "-q", "-b", "main"]);
    std::fs::write(
        dir.join("deploy.env"),
        format!(
            "GITHUB_TOKEN={}\nRELEASE_TOKEN={}\n",
            github_token(501),
            github_token(502)
        ),
    )
    .unwrap();
    std::fs::create_dir_all(dir.join("config")).unwrap();
    std::fs::write(
        dir.join("config/aws.py"),
        format!(
            "PRIMARY_KEY_ID = \"{}\"\nBACKUP_KEY_ID = \"{}\"\n",
            aws_key_id(503),
            aws_key_id(504)
        ),
    )
    .unwrap();
    git(&dir, &home, &["add", "."]);

    let mut cmd = Command::new(leakgate_bin());
    cmd.current_dir(&dir)
        .args(["hook", "pre-commit"])
        .stdin(Stdio::null());
    isolate(&mut cmd, &home);
    cmd.env_remove("COLUMNS");
    let out = cmd.output().unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", all_output(&out));
    let text = normalise(&String::from_utf8_lossy(&out.stderr), &tmp.0);

    for line in text.lines() {
        assert!(
            line.chars().count() <= 80,
            "line wider than 80 columns ({}): {line:?}\n{text}",
            line.chars().count()
        );
    }
    for seed in [501, 502] {
        assert!(
            !text.contains(&github_token(seed)),
            "secret printed:\n{text}"
        );
    }
    assert!(text.contains("leakgate ignore"), "{text}");

    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(SNAPSHOT);
    if std::env::var_os("LEAKGATE_UPDATE_SNAPSHOTS").is_some() {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, &text).unwrap();
    }
    let expected = std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!("{SNAPSHOT}: {e} (LEAKGATE_UPDATE_SNAPSHOTS=1 writes it)\nactual:\n{text}")
    });
    assert_eq!(
        text, expected,
        "the blocked-commit message changed; review it, then LEAKGATE_UPDATE_SNAPSHOTS=1"
    );
}

//! Audit revision arguments (`leakgate audit [REPO] [REV-ARGS...]`, `src/audit/revisions.rs`)
//! against a small fixture repository (branches, tags, a remote ref, commits with fixed dates),
//! built once per process with the `git` command. Arguments are drawn from the options and names
//! an audit knows, combined with `..`, `^` and `=`, or fuzzer-made. No panic; what parses is
//! sorted without duplicates, its description carries no terminal controls, and the commits it
//! selects can be listed.
#![no_main]

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;

const WORDS: &[&str] = &[
    "--all",
    "--branches",
    "--tags",
    "--remotes",
    "--since",
    "--until",
    "--after",
    "--before",
    "--not",
    "-",
    "HEAD",
    "main",
    "side",
    "v1",
    "v2",
    "origin/main",
    "HEAD~1",
    "HEAD^2",
    "main~3",
    "v2^{commit}",
    "v2^{tree}",
    "HEAD@{0}",
    "@",
    "2005-04-07",
    "2005-04-07T22:13:13",
    "1 year ago",
    "yesterday",
    "now",
    "1112911993 +0000",
    "refs/heads/main",
    ":/second",
    "..",
    "...",
];

#[derive(Arbitrary, Debug)]
enum Arg {
    Word(u8),
    Text(String),
    Range(u8, u8),
    Symmetric(u8, u8),
    Hidden(u8),
    Inline(u8, u8),
}

fn word(i: u8) -> &'static str {
    WORDS[usize::from(i) % WORDS.len()]
}

fn render(arg: &Arg) -> String {
    match arg {
        Arg::Word(i) => word(*i).to_string(),
        Arg::Text(t) => t.clone(),
        Arg::Range(a, b) => format!("{}..{}", word(*a), word(*b)),
        Arg::Symmetric(a, b) => format!("{}...{}", word(*a), word(*b)),
        Arg::Hidden(a) => format!("^{}", word(*a)),
        Arg::Inline(a, b) => format!("{}={}", word(*a), word(*b)),
    }
}

fn git(dir: &Path, args: &[&str], date: &str) {
    let status = Command::new("git")
        .args(args)
        .current_dir(dir)
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", dir)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_AUTHOR_NAME", "Fuzz")
        .env("GIT_AUTHOR_EMAIL", "fuzz@example.com")
        .env("GIT_COMMITTER_NAME", "Fuzz")
        .env("GIT_COMMITTER_EMAIL", "fuzz@example.com")
        .env("GIT_AUTHOR_DATE", date)
        .env("GIT_COMMITTER_DATE", date)
        .status()
        .expect("git runs");
    assert!(status.success(), "git {args:?}");
}

/// The fixture's directory, made once per process.
fn fixture() -> &'static PathBuf {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let dir: PathBuf =
            std::env::temp_dir().join(format!("leakgate-fuzz-revisions-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("temp dir");
        let d = "1112911993 +0000";
        git(&dir, &["init", "-q", "-b", "main"], d);
        for (i, date) in ["1112911993 +0000", "1112998393 +0000", "1113084793 +0000"]
            .iter()
            .enumerate()
        {
            std::fs::write(dir.join("f.txt"), format!("line {i}\n")).expect("write");
            git(&dir, &["add", "f.txt"], date);
            git(
                &dir,
                &["commit", "-q", "-m", ["first", "second", "third"][i]],
                date,
            );
        }
        git(&dir, &["tag", "v1", "HEAD~1"], d);
        git(&dir, &["tag", "-a", "-m", "v2", "v2"], d);
        git(&dir, &["checkout", "-q", "-b", "side", "HEAD~2"], d);
        std::fs::write(dir.join("g.txt"), "side\n").expect("write");
        git(&dir, &["add", "g.txt"], d);
        git(&dir, &["commit", "-q", "-m", "side"], d);
        git(&dir, &["checkout", "-q", "main"], d);
        git(
            &dir,
            &["merge", "-q", "--no-ff", "-m", "merge", "side"],
            "1113171193 +0000",
        );
        git(
            &dir,
            &["update-ref", "refs/remotes/origin/main", "HEAD~1"],
            d,
        );
        dir
    })
}

thread_local! {
    static REPO: gix::Repository = gix::open(fixture()).expect("the fixture opens");
}

fuzz_target!(|args: Vec<Arg>| {
    if args.len() > 8 {
        return;
    }
    let args: Vec<String> = args.iter().map(render).collect();
    REPO.with(|repo| check(repo, &args));
});

fn check(repo: &gix::Repository, args: &[String]) {
    let Ok(revs) = leakgate::audit::revisions::parse(repo, args) else {
        return;
    };
    assert!(revs.tips.windows(2).all(|w| w[0] < w[1]));
    assert!(revs.hidden.windows(2).all(|w| w[0] < w[1]));
    assert!(
        !leakgate_fuzz::has_terminal_controls(&revs.described),
        "{:?}",
        revs.described
    );
    let commits = leakgate::audit::revisions::commits(repo, &revs).expect("a parsed set lists");
    assert!(commits.len() <= 5);
}

//! A work tree (usually a git repository) in a [`Sandbox`]: files, git, the built `leakgate`.

use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use super::{all_output, Ran as _, Sandbox};

/// A directory of a sandbox; [`Sandbox::repo`] makes it a repository on branch `main`.
pub struct Repo<'a> {
    /// The sandbox whose environment every command gets.
    pub sb: &'a Sandbox,
    /// The work tree.
    pub dir: PathBuf,
}

impl Repo<'_> {
    /// Path of a child of the work tree.
    pub fn join(&self, rel: impl AsRef<Path>) -> PathBuf {
        self.dir.join(rel)
    }

    /// Writes a file (creating parent directories); returns its path.
    pub fn write(&self, rel: &str, content: impl AsRef<[u8]>) -> PathBuf {
        let path = self.dir.join(rel);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).unwrap();
        }
        std::fs::write(&path, content).unwrap();
        path
    }

    /// A file's text (empty when it does not exist).
    pub fn read(&self, rel: &str) -> String {
        std::fs::read_to_string(self.dir.join(rel)).unwrap_or_default()
    }

    /// `program` in the work tree, with the sandbox's environment.
    pub fn command(&self, program: impl AsRef<OsStr>) -> Command {
        self.sb.command(program, &self.dir)
    }

    /// Runs `program ARGS` in the work tree.
    pub fn run(&self, program: impl AsRef<OsStr>, args: &[&str]) -> Output {
        self.sb.run(&self.dir, program, args)
    }

    /// Runs `program ARGS`, which must succeed; its stdout, trimmed.
    pub fn ok(&self, program: impl AsRef<OsStr>, args: &[&str]) -> String {
        self.sb.ok(&self.dir, program, args)
    }

    /// `git ARGS` as a command, to add to.
    pub fn git_cmd(&self, args: &[&str]) -> Command {
        let mut cmd = self.command("git");
        cmd.args(args);
        cmd
    }

    /// `git ARGS`.
    pub fn git(&self, args: &[&str]) -> Output {
        self.sb.git(&self.dir, args)
    }

    /// Runs git, which must succeed; its stdout, trimmed.
    pub fn git_ok(&self, args: &[&str]) -> String {
        self.sb.git_ok(&self.dir, args)
    }

    /// `leakgate ARGS`.
    pub fn leakgate(&self, args: &[&str]) -> Output {
        self.sb.leakgate(&self.dir, args)
    }

    /// `leakgate install ARGS`, which must succeed; its stderr.
    pub fn install(&self, args: &[&str]) -> String {
        let mut all = vec!["install"];
        all.extend_from_slice(args);
        self.leakgate(&all).expect_code(0).err_text()
    }

    /// A first commit, pushed to `remote` as `origin`'s `main`.
    pub fn seed_with_origin(&self, remote: &Path) {
        self.write("README", "readme\n");
        self.commit_unchecked("init");
        self.git_ok(&["remote", "add", "origin", remote.to_str().unwrap()]);
        self.git_ok(&["push", "-q", "origin", "HEAD:refs/heads/main"]);
    }

    /// `git add -A` + `git commit --no-verify` (how history that already holds a secret is
    /// made); returns the commit id.
    pub fn commit_unchecked(&self, message: &str) -> String {
        self.git_ok(&["add", "-A"]);
        self.git_ok(&["commit", "-q", "--no-verify", "-m", message]);
        self.head()
    }

    /// `git add -A` + `git commit --allow-empty` as `author` on `date` (ISO 8601), past the
    /// hooks; returns the commit id.
    pub fn commit_as(&self, message: &str, author: &str, date: &str) -> String {
        self.git_ok(&["add", "-A"]);
        let out = self
            .git_cmd(&[
                "commit",
                "-q",
                "--no-verify",
                "--allow-empty",
                "-m",
                message,
            ])
            .env("GIT_AUTHOR_NAME", author)
            .env(
                "GIT_AUTHOR_EMAIL",
                format!("{}@example.invalid", author.to_lowercase()),
            )
            .env("GIT_AUTHOR_DATE", date)
            .env("GIT_COMMITTER_DATE", date)
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", all_output(&out));
        self.head()
    }

    /// `git commit -m change EXTRA` through the hooks.
    pub fn commit(&self, extra: &[&str]) -> Output {
        let mut args = vec!["commit", "-m", "change"];
        args.extend_from_slice(extra);
        self.git(&args)
    }

    /// The commit `HEAD` names.
    pub fn head(&self) -> String {
        self.git_ok(&["rev-parse", "HEAD"])
    }

    /// The commit `HEAD` names, if any (`None` in a repository without commits).
    pub fn try_head(&self) -> Option<String> {
        let out = self.git(&["rev-parse", "-q", "--verify", "HEAD"]);
        out.status
            .success()
            .then(|| String::from_utf8_lossy(&out.stdout).trim().to_string())
    }
}

//! The isolated git environment and the command runner: every process a test starts (git, the
//! built binaries, the pre-commit framework, husky, lefthook, `bash install.sh`) runs through
//! [`Sandbox::command`], with no system or user git config, fixed identities and dates, no
//! inherited `GIT_*`/`LEAKGATE_*`/`PRE_COMMIT*` variables, a private `HOME`, and repository
//! discovery stopped at the sandbox (which lives inside this project's own checkout).

use std::ffi::{OsStr, OsString};
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use super::{all_output, leakgate_bin, server_bin, Repo, TempDir};

/// A temporary directory for repositories, with a private `HOME` (`home/`, whose empty
/// `.gitconfig-empty` is git's global config; `XDG_CONFIG_HOME` is `home/.config`).
pub struct Sandbox {
    /// The sandbox's directory (removed on drop); also git's ceiling directory.
    pub tmp: TempDir,
    /// `HOME` of every command.
    pub home: PathBuf,
    /// `PATH` of every command, when a test puts tools first on it.
    path: Option<OsString>,
    /// Variables set (`Some`) or removed (`None`) on every command, after the isolation.
    env: Vec<(OsString, Option<OsString>)>,
}

impl Sandbox {
    /// A new, empty sandbox named after the test.
    pub fn new(name: &str) -> Sandbox {
        let tmp = TempDir::new(name);
        let home = tmp.join("home");
        std::fs::create_dir_all(&home).unwrap();
        Sandbox {
            tmp,
            home,
            path: None,
            env: Vec::new(),
        }
    }

    /// Puts the directory of the built binaries, then `dirs`, first on every command's `PATH`.
    pub fn with_path_first(mut self, dirs: impl IntoIterator<Item = PathBuf>) -> Sandbox {
        let mut all = vec![leakgate_bin().parent().unwrap().to_path_buf()];
        all.extend(dirs);
        all.extend(std::env::split_paths(
            &std::env::var_os("PATH").unwrap_or_default(),
        ));
        self.path = Some(std::env::join_paths(all).unwrap());
        self
    }

    /// Sets `key` on every command.
    pub fn with_env(mut self, key: &str, value: impl AsRef<OsStr>) -> Sandbox {
        self.env
            .push((key.into(), Some(value.as_ref().to_os_string())));
        self
    }

    /// Removes `key` from every command's environment.
    pub fn without_env(mut self, key: &str) -> Sandbox {
        self.env.push((key.into(), None));
        self
    }

    /// Path of a child of the sandbox.
    pub fn join(&self, rel: impl AsRef<Path>) -> PathBuf {
        self.tmp.join(rel)
    }

    /// `program` in `dir` with the isolated environment and no standard input.
    pub fn command(&self, program: impl AsRef<OsStr>, dir: &Path) -> Command {
        let mut cmd = Command::new(program);
        cmd.current_dir(dir);
        isolate(&mut cmd, &self.home);
        cmd.env("GIT_CEILING_DIRECTORIES", &self.tmp.0)
            .env("XDG_CONFIG_HOME", self.home.join(".config"))
            .stdin(Stdio::null());
        if let Some(path) = &self.path {
            cmd.env("PATH", path);
        }
        for (key, value) in &self.env {
            match value {
                Some(value) => cmd.env(key, value),
                None => cmd.env_remove(key),
            };
        }
        cmd
    }

    /// Runs `program ARGS` in `dir`: its exit code, stdout and stderr.
    pub fn run(&self, dir: &Path, program: impl AsRef<OsStr>, args: &[&str]) -> Output {
        self.command(program, dir).args(args).output().unwrap()
    }

    /// Runs `program ARGS` in `dir`, which must succeed; its stdout, trimmed.
    pub fn ok(&self, dir: &Path, program: impl AsRef<OsStr>, args: &[&str]) -> String {
        let program = program.as_ref();
        let out = self.run(dir, program, args);
        assert!(
            out.status.success(),
            "{} {args:?} failed in {}:\n{}",
            program.to_string_lossy(),
            dir.display(),
            all_output(&out)
        );
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    }

    /// Runs `program ARGS` in `dir` with `input` on its standard input.
    pub fn run_with_input(
        &self,
        dir: &Path,
        program: impl AsRef<OsStr>,
        args: &[&str],
        input: &[u8],
    ) -> Output {
        let mut child = self
            .command(program, dir)
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        // A child that exits without reading all of it is the test's business (its output says).
        let _ = child.stdin.take().unwrap().write_all(input);
        child.wait_with_output().unwrap()
    }

    /// `git --git-dir GIT_DIR ARGS` (a bare repository, from the sandbox's directory).
    pub fn git_at(&self, git_dir: &Path, args: &[&str]) -> Output {
        let mut all = vec!["--git-dir", git_dir.to_str().unwrap()];
        all.extend_from_slice(args);
        self.git(&self.tmp.0, &all)
    }

    /// `git ARGS` in `dir`.
    pub fn git(&self, dir: &Path, args: &[&str]) -> Output {
        self.run(dir, "git", args)
    }

    /// `git ARGS` in `dir`, which must succeed; its stdout, trimmed.
    pub fn git_ok(&self, dir: &Path, args: &[&str]) -> String {
        self.ok(dir, "git", args)
    }

    /// `leakgate ARGS` in `dir`.
    pub fn leakgate(&self, dir: &Path, args: &[&str]) -> Output {
        self.run(dir, leakgate_bin(), args)
    }

    /// `leakgate-server ARGS` in `dir`.
    pub fn server(&self, dir: &Path, args: &[&str]) -> Output {
        self.run(dir, server_bin(), args)
    }

    /// A new repository (branch `main`) in the directory `name` of the sandbox.
    pub fn repo(&self, name: &str) -> Repo<'_> {
        let repo = self.dir(name);
        repo.git_ok(&["init", "-q", "-b", "main"]);
        repo
    }

    /// The directory `name` of the sandbox (created), as a work directory without a repository.
    pub fn dir(&self, name: &str) -> Repo<'_> {
        let dir = self.join(name);
        std::fs::create_dir_all(&dir).unwrap();
        Repo { sb: self, dir }
    }

    /// A bare repository `remote.git` (branch `main`) to push to.
    pub fn bare_remote(&self) -> PathBuf {
        self.bare_repo("remote.git")
    }

    /// A bare repository `name` (branch `main`) in the sandbox.
    pub fn bare_repo(&self, name: &str) -> PathBuf {
        let path = self.join(name);
        self.git_ok(&self.tmp.0, &["init", "-q", "--bare", "-b", "main", name]);
        path
    }

    /// A bare repository `name` whose pre-receive hook `leakgate-server install` installed, with
    /// `--config policy`.
    pub fn hooked_remote(&self, name: &str, policy: &Path) -> PathBuf {
        let path = self.bare_repo(name);
        let out = self.run(
            &self.tmp.0,
            server_bin(),
            &[
                "install",
                path.to_str().unwrap(),
                "--config",
                policy.to_str().unwrap(),
            ],
        );
        let text = all_output(&out);
        assert!(out.status.success(), "leakgate-server install:\n{text}");
        assert!(text.contains("pre-receive installed"), "{text}");
        assert!(path.join("hooks/pre-receive").exists());
        path
    }

    /// What `rev` names in the repository `git_dir`, if it exists.
    pub fn rev(&self, git_dir: &Path, rev: &str) -> Option<String> {
        let out = self.git_at(git_dir, &["rev-parse", "-q", "--verify", rev]);
        out.status
            .success()
            .then(|| String::from_utf8_lossy(&out.stdout).trim().to_string())
    }

    /// `git config --global --get KEY`, when set.
    pub fn global_config(&self, key: &str) -> Option<String> {
        let out = self.git(&self.home, &["config", "--global", "--get", key]);
        out.status
            .success()
            .then(|| String::from_utf8_lossy(&out.stdout).trim().to_string())
    }
}

/// Removes inherited git variables and points git's config at an empty file, with fixed
/// identities and dates. `home` becomes `HOME`; its `.gitconfig-empty` is the global config.
fn isolate(cmd: &mut Command, home: &Path) {
    for (key, _) in std::env::vars_os() {
        let k = key.to_string_lossy();
        if k.starts_with("GIT_")
            || k == "NO_COLOR"
            || k.starts_with("PRE_COMMIT")
            || k.starts_with("LEAKGATE_")
        {
            cmd.env_remove(&key);
        }
    }
    let empty = home.join(".gitconfig-empty");
    if !empty.exists() {
        let _ = std::fs::write(&empty, "");
    }
    cmd.env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_CONFIG_GLOBAL", &empty)
        .env("HOME", home)
        .env("GIT_AUTHOR_NAME", "Test Author")
        .env("GIT_AUTHOR_EMAIL", "author@example.invalid")
        .env("GIT_COMMITTER_NAME", "Test Committer")
        .env("GIT_COMMITTER_EMAIL", "committer@example.invalid")
        .env("GIT_AUTHOR_DATE", "2026-01-01T00:00:00Z")
        .env("GIT_COMMITTER_DATE", "2026-01-01T00:00:00Z")
        .env("TERM", "dumb");
}

//! A bare "server" repository whose pre-receive hook `leakgate-server install` installed, and a
//! client repository whose `origin` is that server: real `git push` through the real hook.

use std::ffi::OsStr;
use std::os::unix::fs::PermissionsExt as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;

use super::{all_output, Sandbox};

/// A server with the hook (installed with `--config policy`) and a client, in one sandbox. The
/// policy puts the audit log and the fingerprint key inside the sandbox.
pub struct Pair {
    /// The isolated environment (its directory holds everything below).
    pub sb: Sandbox,
    /// The bare server repository `server.git`.
    pub server: PathBuf,
    /// The client's work tree `client`.
    pub client: PathBuf,
    /// The policy file the hook reads on every push.
    pub policy: PathBuf,
    /// The hook's audit log.
    pub audit: PathBuf,
    /// The hook's fingerprint key file.
    pub key: PathBuf,
}

/// What one `git push` did.
pub struct Pushed {
    /// Whether git exited 0.
    pub ok: bool,
    /// Stdout then stderr (the `remote:` lines are on stderr).
    pub text: String,
}

impl Pushed {
    /// Panics (with git's output) unless git refused the push.
    pub fn rejected(&self) -> &Pushed {
        assert!(!self.ok, "the push was accepted:\n{}", self.text);
        self
    }

    /// Panics (with git's output) unless the push went through.
    pub fn accepted(&self) -> &Pushed {
        assert!(self.ok, "the push was rejected:\n{}", self.text);
        self
    }

    /// Panics unless one of the pusher's `remote:` lines contains `needle`.
    pub fn says(&self, needle: &str) -> &Pushed {
        assert!(
            remote_line(&self.text, needle),
            "no `remote:` line says {needle:?}:\n{}",
            self.text
        );
        self
    }

    /// Panics unless git's output contains `needle` anywhere.
    pub fn shows(&self, needle: &str) -> &Pushed {
        assert!(
            self.text.contains(needle),
            "the output lacks {needle:?}:\n{}",
            self.text
        );
        self
    }
}

/// `out`, which must have succeeded (`what` names it when it did not).
pub fn check(out: Output, what: &str) -> Output {
    assert!(out.status.success(), "{what} failed:\n{}", all_output(&out));
    out
}

/// Whether one of the pusher's `remote:` lines contains `needle`.
pub fn remote_line(text: &str, needle: &str) -> bool {
    text.lines()
        .any(|l| l.starts_with("remote:") && l.contains(needle))
}

impl Pair {
    /// Server, hook and client. `policy` is appended to the lines that put the audit log and the
    /// key file inside the sandbox.
    pub fn new(name: &str, policy: &str) -> Pair {
        let sb = Sandbox::new(name);
        let pair = Pair {
            server: sb.join("server.git"),
            client: sb.join("client"),
            policy: sb.join("policy.yaml"),
            audit: sb.join("log/audit.jsonl"),
            key: sb.join("keys/fingerprint.key"),
            sb,
        };
        pair.set_policy(policy);
        pair.sb.hooked_remote("server.git", &pair.policy);
        let client = pair.sb.repo("client");
        client.git_ok(&["remote", "add", "origin", pair.server.to_str().unwrap()]);
        pair
    }

    /// Rewrites the policy file (the hook reads it on every push).
    pub fn set_policy(&self, extra: &str) {
        let text = format!(
            "audit_log: '{}'\nfingerprint_key_file: '{}'\n{extra}",
            self.audit.display(),
            self.key.display()
        );
        std::fs::write(&self.policy, text).unwrap();
    }

    /// `program` in `dir` with the sandbox's environment.
    pub fn cmd(&self, dir: &Path, program: impl AsRef<OsStr>) -> Command {
        self.sb.command(program, dir)
    }

    /// Runs git in `dir`; must succeed; returns stdout, trimmed.
    pub fn git(&self, dir: &Path, args: &[&str]) -> String {
        self.sb.git_ok(dir, args)
    }

    /// Runs git against the server repository; must succeed; returns stdout, trimmed.
    pub fn server_git(&self, args: &[&str]) -> String {
        let out = check(self.sb.git_at(&self.server, args), "git (server)");
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    }

    /// Writes files (path, content) in the work tree `dir`, commits everything, returns the id.
    pub fn commit_in(&self, dir: &Path, files: &[(&str, &str)], message: &str) -> String {
        for (path, content) in files {
            let path = dir.join(path);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, content).unwrap();
        }
        self.git(dir, &["add", "-A"]);
        self.git(dir, &["commit", "-q", "--allow-empty", "-m", message]);
        self.git(dir, &["rev-parse", "HEAD"])
    }

    /// Commits in the client.
    pub fn commit(&self, files: &[(&str, &str)], message: &str) -> String {
        self.commit_in(&self.client, files, message)
    }

    /// Writes raw bytes into the client's work tree.
    pub fn write_bytes(&self, rel: &str, content: &[u8]) {
        let path = self.client.join(rel);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, content).unwrap();
    }

    /// A first clean commit on `main`, pushed and accepted.
    pub fn seed(&self) -> String {
        let id = self.commit(&[("README.md", "# project\n")], "initial commit");
        let pushed = self.push(&["origin", "main"]);
        assert!(pushed.ok, "seed push rejected:\n{}", pushed.text);
        id
    }

    /// `git push ARGS` from `dir` with extra environment variables.
    pub fn push_from(&self, dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Pushed {
        let mut cmd = self.cmd(dir, "git");
        cmd.arg("push").args(args);
        for (k, v) in env {
            cmd.env(k, v);
        }
        let out = cmd.output().unwrap();
        Pushed {
            ok: out.status.success(),
            text: all_output(&out),
        }
    }

    /// `git push ARGS` from the client.
    pub fn push(&self, args: &[&str]) -> Pushed {
        self.push_from(&self.client, args, &[])
    }

    /// The id a server ref points at, if it exists.
    pub fn server_ref(&self, name: &str) -> Option<String> {
        self.sb.rev(&self.server, name)
    }

    /// Every audit line, each parsed as JSON (a line that is not valid JSON fails the test).
    pub fn audit_lines(&self) -> Vec<Value> {
        let text = std::fs::read_to_string(&self.audit).unwrap_or_default();
        assert!(
            text.is_empty() || text.ends_with('\n'),
            "torn last line:\n{text}"
        );
        text.lines()
            .map(|line| {
                serde_json::from_str(line)
                    .unwrap_or_else(|e| panic!("audit line is not JSON ({e}): {line}"))
            })
            .collect()
    }

    /// The newest audit line.
    pub fn last_audit(&self) -> Value {
        self.audit_lines().pop().expect("no audit line")
    }

    /// Asserts a rejected push that names `location` in a `remote:` line, never shows `secret`,
    /// gives remediation, and is audited as rejected.
    pub fn assert_rejected(&self, pushed: &Pushed, location: &str, secret: &str) {
        assert!(!pushed.ok, "accepted:\n{}", pushed.text);
        assert!(
            remote_line(&pushed.text, location),
            "{location}:\n{}",
            pushed.text
        );
        assert!(
            !pushed.text.contains(secret),
            "secret printed:\n{}",
            pushed.text
        );
        assert!(
            remote_line(&pushed.text, "revoke"),
            "no remediation:\n{}",
            pushed.text
        );
        assert_eq!(self.last_audit()["decision"], "rejected");
    }

    /// Loose objects and pack files in the server's object store.
    pub fn server_objects(&self) -> (usize, usize) {
        let objects = self.server.join("objects");
        let mut loose = 0;
        for entry in std::fs::read_dir(&objects).unwrap() {
            let entry = entry.unwrap();
            let name = entry.file_name().to_string_lossy().to_string();
            if name.len() == 2 && name.bytes().all(|b| b.is_ascii_hexdigit()) {
                loose += std::fs::read_dir(entry.path()).unwrap().count();
            }
        }
        let packs = std::fs::read_dir(objects.join("pack"))
            .unwrap()
            .filter(|e| e.as_ref().unwrap().path().extension() == Some(OsStr::new("pack")))
            .count();
        (loose, packs)
    }

    /// Overwrites the server's loose object of the client's blob `spec` with garbage; its id.
    pub fn corrupt_server_blob(&self, spec: &str) -> String {
        let blob = self.git(&self.client, &["rev-parse", spec]);
        let file = self
            .server
            .join("objects")
            .join(&blob[..2])
            .join(&blob[2..]);
        assert!(file.exists(), "{} is not a loose object", file.display());
        std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o644)).unwrap();
        std::fs::write(&file, b"\x78\x9cthis is not zlib data at all").unwrap();
        blob
    }

    /// Builds `count` commits on `branch` (from `from`) with `git fast-import`; `extra(i)` gives
    /// fast-import file commands for commit `i` (1-based) besides its routine edit.
    pub fn fast_import(
        &self,
        branch: &str,
        from: &str,
        count: usize,
        extra: impl Fn(usize) -> String,
    ) {
        let mut stream = String::new();
        let data = |s: &mut String, text: &str| {
            s.push_str(&format!("data {}\n{text}\n", text.len()));
        };
        for i in 1..=count {
            stream.push_str(&format!("commit refs/heads/{branch}\n"));
            stream.push_str(&format!(
                "committer Test Committer <committer@example.invalid> {} +0000\n",
                1_767_225_600 + i
            ));
            data(&mut stream, &format!("{branch}: change {i}"));
            if i == 1 {
                stream.push_str(&format!("from {from}\n"));
            }
            stream.push_str(&format!("M 100644 inline history/file-{}.txt\n", i % 20));
            data(
                &mut stream,
                &format!("{branch}: line written by change {i}\n"),
            );
            stream.push_str(&extra(i));
        }
        stream.push_str("done\n");
        let out = self.sb.run_with_input(
            &self.client,
            "git",
            &["fast-import", "--quiet", "--done"],
            stream.as_bytes(),
        );
        check(out, "git fast-import");
    }
}

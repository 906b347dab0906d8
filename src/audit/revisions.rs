//! Which commits an audit reads: git's revision arguments, the subset that an audit needs.
//!
//! No argument (or `--all`) means every commit reachable from any ref and from `HEAD`. Otherwise
//! the arguments add tips (`main`, `v1.0`, a commit id; `--branches`, `--tags`, `--remotes`,
//! `--all`), hide what another revision reaches (`A..B`, `^A`, `--not` is not supported), and
//! limit by committer date (`--since DATE`, `--until DATE`, also `--after`/`--before`, with `=`
//! or as the next argument). Anything else is refused rather than guessed at.

use gix::hash::ObjectId;

use crate::git::commits::{peel_to_commit, ref_tips};
use crate::git::GitError;

/// The commits to audit, as tips to walk from, tips to hide, and a date window.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Revisions {
    /// Commits to walk from.
    pub tips: Vec<ObjectId>,
    /// Commits whose history is left out.
    pub hidden: Vec<ObjectId>,
    /// Only commits whose committer date is at or after this (seconds since the epoch).
    pub since: Option<i64>,
    /// Only commits whose committer date is at or before this.
    pub until: Option<i64>,
    /// The arguments as given, for the report.
    pub described: String,
}

fn error(spec: &str, message: impl Into<String>) -> GitError {
    GitError::Revision {
        spec: crate::report::sanitize::sanitize(spec),
        message: message.into(),
    }
}

fn parse_date(spec: &str, value: &str) -> Result<i64, GitError> {
    gix::date::parse(value, Some(gix::date::Zoned::now()))
        .map(|t| t.seconds)
        .map_err(|e| error(spec, format!("not a date: {e}")))
}

fn resolve(repo: &gix::Repository, spec: &str) -> Result<ObjectId, GitError> {
    let id = repo
        .rev_parse_single(spec)
        .map_err(|e| error(spec, e.to_string()))?
        .detach();
    peel_to_commit(repo, id).ok_or_else(|| error(spec, "does not name a commit"))
}

/// Every ref's commit and `HEAD`'s.
pub fn all_tips(repo: &gix::Repository) -> Result<Vec<ObjectId>, GitError> {
    let mut tips = ref_tips(repo, "refs/")?;
    if let Ok(head) = repo.head_id() {
        tips.extend(peel_to_commit(repo, head.detach()));
    }
    tips.sort();
    tips.dedup();
    Ok(tips)
}

/// Parses revision arguments (see the module documentation).
pub fn parse(repo: &gix::Repository, args: &[String]) -> Result<Revisions, GitError> {
    let mut reader = ArgReader {
        repo,
        args,
        next: 0,
        revs: Revisions {
            described: if args.is_empty() {
                "--all".to_string()
            } else {
                crate::report::sanitize::sanitize(&args.join(" "))
            },
            ..Revisions::default()
        },
        named_tips: false,
    };
    while let Some(arg) = args.get(reader.next) {
        reader.next += 1;
        reader.read(arg)?;
    }
    reader.finish()
}

/// Revision arguments as they are read: the position, the revisions so far, tips named.
struct ArgReader<'r> {
    repo: &'r gix::Repository,
    args: &'r [String],
    next: usize,
    revs: Revisions,
    named_tips: bool,
}

impl ArgReader<'_> {
    /// Reads one argument (and the date after `--since` and the like).
    fn read(&mut self, arg: &str) -> Result<(), GitError> {
        let (flag, inline) = match arg.split_once('=') {
            Some((f, v)) if f.starts_with("--") => (f, Some(v.to_string())),
            _ => (arg, None),
        };
        match flag {
            "--all" => {
                self.revs.tips.extend(all_tips(self.repo)?);
                self.named_tips = true;
            }
            "--branches" | "--tags" | "--remotes" => {
                let prefix = match flag {
                    "--branches" => "refs/heads/",
                    "--tags" => "refs/tags/",
                    _ => "refs/remotes/",
                };
                self.revs.tips.extend(ref_tips(self.repo, prefix)?);
                self.named_tips = true;
            }
            "--since" | "--after" | "--until" | "--before" => self.date(arg, flag, inline)?,
            _ if arg.starts_with('-') && arg != "-" => {
                return Err(error(
                    arg,
                    "unknown option (an audit takes revisions, A..B, ^A, --all, --branches, \
                     --tags, --remotes, --since, --until)",
                ));
            }
            _ if arg.contains("...") => {
                return Err(error(
                    arg,
                    "symmetric differences (A...B) are not supported",
                ));
            }
            _ => self.revision(arg)?,
        }
        Ok(())
    }

    /// A date limit: its value inline (`--since=DATE`) or the next argument.
    fn date(&mut self, arg: &str, flag: &str, inline: Option<String>) -> Result<(), GitError> {
        let value = match inline {
            Some(v) => v,
            None => {
                let v = self
                    .args
                    .get(self.next)
                    .ok_or_else(|| error(flag, "needs a date"))?
                    .clone();
                self.next += 1;
                v
            }
        };
        let at = parse_date(arg, &value)?;
        if matches!(flag, "--since" | "--after") {
            self.revs.since = Some(at);
        } else {
            self.revs.until = Some(at);
        }
        Ok(())
    }

    /// A revision: `^A` hides A's history, `A..B` walks B hiding A, anything else is a tip.
    fn revision(&mut self, arg: &str) -> Result<(), GitError> {
        self.named_tips = true;
        if let Some(hidden) = arg.strip_prefix('^') {
            self.revs.hidden.push(resolve(self.repo, hidden)?);
        } else if let Some((from, to)) = arg.split_once("..") {
            let from = if from.is_empty() { "HEAD" } else { from };
            let to = if to.is_empty() { "HEAD" } else { to };
            self.revs.hidden.push(resolve(self.repo, from)?);
            self.revs.tips.push(resolve(self.repo, to)?);
        } else {
            self.revs.tips.push(resolve(self.repo, arg)?);
        }
        Ok(())
    }

    /// The revisions: every ref's tip when no argument named one; tips and hidden sorted, once.
    fn finish(mut self) -> Result<Revisions, GitError> {
        if !self.named_tips {
            self.revs.tips = all_tips(self.repo)?;
        }
        let mut revs = self.revs;
        revs.tips.sort();
        revs.tips.dedup();
        revs.hidden.sort();
        revs.hidden.dedup();
        Ok(revs)
    }
}

/// The commits that `revs` selects, parents before children.
pub fn commits(repo: &gix::Repository, revs: &Revisions) -> Result<Vec<ObjectId>, GitError> {
    let mut list = crate::git::commits::new_commits(repo, &revs.tips, &revs.hidden)?;
    if revs.since.is_some() || revs.until.is_some() {
        let mut kept = Vec::with_capacity(list.len());
        for id in list {
            let time = repo
                .find_commit(id)
                .and_then(|c| c.time())
                .map_err(|e| error(&id.to_string(), e.to_string()))?
                .seconds;
            let after = revs.since.is_none_or(|s| time >= s);
            let before = revs.until.is_none_or(|u| time <= u);
            if after && before {
                kept.push(id);
            }
        }
        list = kept;
    }
    Ok(list)
}

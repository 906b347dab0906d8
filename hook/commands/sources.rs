//! The git sources behind `scan --staged/--range/--all-history/--commit-msg` and the hooks.

use std::io::Read as _;

use anyhow::Context as _;
use gix::hash::ObjectId;
use leakgate::added::AddedText;
use leakgate::git::changes::ChangeScanner;
use leakgate::git::commits::PushedValue;
use leakgate::git::{commits, open_repository, staged};
use leakgate::outcome::ScanOutcome;
use leakgate::prebuilt::PrebuiltScanner;
use leakgate::report::human::Situation;

use crate::cli::Common;
use crate::setup::{self, Base, ConfigSource};

/// Opens the repository of the current directory as git would inside a hook.
pub(super) fn repository() -> anyhow::Result<gix::Repository> {
    Ok(open_repository(std::path::Path::new("."))?)
}

/// An index at least this big takes longer to read than starting a thread: the embedded pack's
/// scanner is built on a second core meanwhile ([`PrebuiltScanner`]). 256 KiB is ~3,000 entries.
const PREBUILD_FROM_INDEX_BYTES: u64 = 256 * 1024;

/// The staged changes. Nothing staged: no rules are even loaded (in a big repository the
/// embedded pack's scanner may have been started on another thread, and is left unused).
pub(super) fn staged_outcome(common: &Common) -> anyhow::Result<ScanOutcome> {
    let repo = repository()?;
    let big_index =
        std::fs::metadata(repo.index_path()).is_ok_and(|m| m.len() >= PREBUILD_FROM_INDEX_BYTES);
    let prebuilt = if big_index {
        PrebuiltScanner::start()
    } else {
        PrebuiltScanner::none()
    };
    let index = staged::read_index(&repo)?;
    let setup = setup::load_for_repo(common, &repo, ConfigSource::Staged(&index))?;
    let cap = setup.config.max_blob_bytes();
    let allowed = leakgate::config::path_allowlist(&setup.config, &setup.config_name)?;
    let path_allowed = |path: &[u8]| allowed.iter().any(|re| re.is_match(path));
    let changes = staged::collect_staged(&repo, &index, cap, &path_allowed)?;
    if changes.is_empty() {
        return Ok(ScanOutcome::default());
    }
    let scanner = setup.scanner_with(common, prebuilt)?;
    let mut outcome = staged::scan_changes(&repo, &scanner, &changes, cap)?;
    outcome.on_unscanned = setup.config.on_unscanned;
    outcome.apply_block_at(setup.config.block_at);
    Ok(outcome)
}

/// Resolves a revision to a commit id.
pub(super) fn resolve(repo: &gix::Repository, spec: &str) -> anyhow::Result<ObjectId> {
    let id = repo.rev_parse_single(spec).with_context(|| {
        format!(
            "cannot resolve `{}`",
            leakgate::report::sanitize::sanitize(spec)
        )
    })?;
    Ok(id.detach())
}

/// Whether the remote `name`'s tracking branches mirror the destination: its fetch URL is the URL
/// pushed to (a `pushurl` elsewhere, or `git remote set-url --push`, makes them another place's).
fn tracks_destination(repo: &gix::Repository, name: &str, pushed_to: Option<&str>) -> bool {
    let Some(pushed_to) = pushed_to else {
        return false;
    };
    let config = repo.config_snapshot();
    let fetch_url = config.string(format!("remote.{name}.url").as_str());
    fetch_url.is_some_and(|u| &u[..] == pushed_to.as_bytes())
}

/// `id` when it names a commit this repository has (a remote's old value may be unknown here).
fn commit_of(repo: &gix::Repository, id: ObjectId) -> Option<ObjectId> {
    repo.find_commit(id).ok().map(|c| c.id)
}

/// Whether a pushed or received id is git's all-zero "no object".
pub(super) fn is_null(hex: &str) -> bool {
    !hex.is_empty() && hex.bytes().all(|b| b == b'0')
}

/// Scans the commits reachable from `tips` and not from `hidden`, with their messages, and what
/// the pushed ref values bring besides (tag headers and messages, blobs and trees).
pub(super) fn commits_outcome(
    common: &Common,
    repo: &gix::Repository,
    tips: &[ObjectId],
    hidden: &[ObjectId],
    extra: &[PushedValue],
    config: ConfigSource<'_>,
) -> anyhow::Result<(ScanOutcome, Situation)> {
    let list = commits::new_commits(repo, tips, hidden)?;
    let situation = Situation::LocalCommits {
        tips: tips.iter().map(std::string::ToString::to_string).collect(),
    };
    if list.is_empty() && extra.is_empty() {
        return Ok((ScanOutcome::default(), situation));
    }
    // A destination whose state is unknown has what lies before the oldest commit leaving.
    let config = match config {
        ConfigSource::Commits {
            base: Base::Unknown,
            tip,
        } => ConfigSource::Commits {
            base: list.first().map_or(Base::Unknown, |oldest| {
                match repo
                    .find_commit(*oldest)
                    .ok()
                    .and_then(|c| c.parent_ids().next())
                {
                    Some(parent) => Base::At(parent.detach()),
                    None => Base::Nothing,
                }
            }),
            tip,
        },
        other => other,
    };
    let setup = setup::load_for_repo(common, repo, config)?;
    let scanner = setup.scanner(common)?;
    let mut scan = ChangeScanner::new(repo, &scanner, setup.config.max_blob_bytes());
    commits::scan_pushed_values(&mut scan, extra)?;
    commits::scan_commits(&mut scan, &list)?;
    scan.outcome.on_unscanned = setup.config.on_unscanned;
    scan.outcome.apply_block_at(setup.config.block_at);
    Ok((scan.outcome, situation))
}

/// `A..B`: B's commits not reachable from A; an empty or all-zero A means "not on any
/// remote-tracking branch".
pub(super) fn range_outcome(
    common: &Common,
    spec: &str,
) -> anyhow::Result<(ScanOutcome, Situation)> {
    let repo = repository()?;
    let (from, to) = spec.split_once("..").with_context(|| {
        format!(
            "--range takes A..B, got `{}`",
            leakgate::report::sanitize::sanitize(spec)
        )
    })?;
    let to_spec = if to.is_empty() { "HEAD" } else { to };
    let to = resolve(&repo, to_spec)?;
    let (hidden, base) = if from.is_empty() || is_null(from) {
        (commits::ref_tips(&repo, "refs/remotes/")?, Base::Unknown)
    } else {
        let from = resolve(&repo, from)?;
        (
            vec![from],
            commit_of(&repo, from).map_or(Base::Unknown, Base::At),
        )
    };
    // `B` may name a tag, or a blob or tree: what it brings is scanned too.
    let value = commits::peel_pushed(&repo, to, to_spec)?;
    let tips: Vec<ObjectId> = value.commit.into_iter().collect();
    let config = ConfigSource::Commits {
        base,
        tip: tips.first().copied(),
    };
    commits_outcome(common, &repo, &tips, &hidden, &[value], config)
}

/// Every commit reachable from any ref.
pub(super) fn all_history_outcome(common: &Common) -> anyhow::Result<(ScanOutcome, Situation)> {
    let repo = repository()?;
    let mut tips = commits::ref_tips(&repo, "refs/")?;
    if let Ok(head) = repo.head_id() {
        tips.push(head.detach());
    }
    tips.sort();
    tips.dedup();
    commits_outcome(common, &repo, &tips, &[], &[], ConfigSource::Head)
}

/// The pre-push protocol on stdin: `<local ref> <local sha> <remote ref> <remote sha>` lines.
///
/// Only what the destination already has is hidden: the remote ids git gives, and the
/// remote-tracking branches of that remote (`refs/remotes/<remote>/`) when it is a named remote.
/// Other remotes' branches are not the destination's: a commit pushed with `--no-verify` to an
/// internal remote is scanned again on its way to a public one.
pub(super) fn pre_push_outcome(
    common: &Common,
    remote: Option<&str>,
    url: Option<&str>,
    input: &str,
) -> anyhow::Result<(ScanOutcome, Situation)> {
    let repo = repository()?;
    let mut tips = Vec::new();
    let mut values = Vec::new();
    let mut base = None;
    let named = remote
        .filter(|r| !r.is_empty() && !r.contains(['/', ':', '\\']) && repo.find_remote(*r).is_ok())
        .filter(|r| tracks_destination(&repo, r, url));
    let mut hidden = match named {
        Some(r) => commits::ref_tips(&repo, &format!("refs/remotes/{r}/"))?,
        None => Vec::new(),
    };
    for update in leakgate::git::ref_update::parse_pre_push(input)? {
        // Unless the remote already has that very object, the pushed value itself: a commit, an
        // annotated tag (its header and message leave too), a blob or a tree.
        if let (Some(id), true) = (update.new, update.brings_new_value()) {
            let local_ref = update.source.as_deref().unwrap_or(&update.name);
            let value = commits::peel_pushed(&repo, id, local_ref)?;
            tips.extend(value.commit);
            values.push(value);
        }
        if let Some(id) = update.old {
            base = base.or_else(|| commit_of(&repo, id));
            hidden.push(id);
        }
    }
    // Without an old value of a pushed ref, what the destination has is its tracking branches.
    let base = base
        .or_else(|| hidden.iter().find_map(|id| commit_of(&repo, *id)))
        .map_or(Base::Unknown, Base::At);
    let config = ConfigSource::Commits {
        base,
        tip: tips.first().copied(),
    };
    commits_outcome(common, &repo, &tips, &hidden, &values, config)
}

/// What git writes to a pre-push hook's stdin. A terminal is no input (the hook was run by hand,
/// or by a hook manager that does not pass git's stdin on); husky 4 hands the lines over in
/// `HUSKY_GIT_STDIN` instead.
pub(super) fn read_pre_push_input() -> anyhow::Result<String> {
    let mut input = String::new();
    let stdin = std::io::stdin();
    if !std::io::IsTerminal::is_terminal(&stdin) {
        match stdin.lock().read_to_string(&mut input) {
            Ok(_) => {}
            // A closed stdin (`<&-`) carries no ref lines, like an empty one.
            Err(e) if e.raw_os_error() == Some(libc::EBADF) => input.clear(),
            Err(e) => return Err(e).context("cannot read the pre-push input from git"),
        }
    }
    if input.trim().is_empty() {
        if let Ok(husky) = std::env::var("HUSKY_GIT_STDIN") {
            input = husky;
        }
    }
    Ok(input)
}

/// Why a pre-push hook without git's ref lines cannot tell what is pushed; the hook fails closed
/// and explains how to wire it.
#[derive(Debug)]
pub(super) struct UnwiredPush(pub String);

impl std::fmt::Display for UnwiredPush {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for UnwiredPush {}

/// pre-push without git's ref lines on stdin (a hook manager that does not pass them on): what
/// `git push` sends is worked out instead — the current branch's commits that are on no
/// remote-tracking branch of the remote pushed to (so against its upstream there, when it has
/// one). Fails with [`UnwiredPush`] when that cannot be told: a detached or unborn `HEAD`, no
/// named remote, or a remote whose tracking branches mirror another URL. Returns a note saying
/// what was scanned.
pub(super) fn unwired_push_outcome(
    common: &Common,
    remote: Option<&str>,
    url: Option<&str>,
) -> anyhow::Result<(ScanOutcome, Situation, String)> {
    use leakgate::report::sanitize::sanitize;
    let unwired = |why: String| anyhow::Error::new(UnwiredPush(why));
    let repo = repository()?;
    let head = repo.head().context("cannot read HEAD")?;
    let Some(branch) = head.referent_name().map(|n| n.shorten().to_string()) else {
        return Err(unwired("HEAD is detached".into()));
    };
    let Some(tip) = head.id().map(gix::Id::detach) else {
        return Err(unwired(format!(
            "branch `{}` has no commit yet",
            sanitize(&branch)
        )));
    };
    let config = repo.config_snapshot();
    let upstream_remote = config
        .string(format!("branch.{branch}.remote").as_str())
        .map(|v| v.to_string());
    let given = remote.filter(|r| !r.is_empty());
    let name = match given {
        Some(r) if repo.find_remote(r).is_ok() && !r.contains(['/', ':', '\\']) => r.to_string(),
        Some(r) => {
            return Err(unwired(format!(
                "the push goes to `{}`, which is not a named remote of this repository",
                sanitize(r)
            )))
        }
        None => match upstream_remote.filter(|r| repo.find_remote(r.as_str()).is_ok()) {
            Some(r) => r,
            None => {
                return Err(unwired(format!(
                    "no remote was named, and branch `{}` has no upstream",
                    sanitize(&branch)
                )))
            }
        },
    };
    if url.is_some() && !tracks_destination(&repo, &name, url) {
        return Err(unwired(format!(
            "the remote-tracking branches of `{}` mirror its fetch URL, not the URL pushed to",
            sanitize(&name)
        )));
    }
    let hidden = commits::ref_tips(&repo, &format!("refs/remotes/{name}/"))?;
    // What the destination has: its tracking branches; else worked out from the commits.
    let base = hidden
        .iter()
        .find_map(|id| commit_of(&repo, *id))
        .map_or(Base::Unknown, Base::At);
    let source = ConfigSource::Commits {
        base,
        tip: Some(tip),
    };
    let (outcome, situation) = commits_outcome(common, &repo, &[tip], &hidden, &[], source)?;
    let note = format!(
        "leakgate: pre-push got no ref lines from git on stdin; scanned what `git push` sends from \
         branch `{}`: its commits on no remote-tracking branch of `{}`. To scan exactly what is \
         pushed (other branches, tags), pass git's stdin to `leakgate hook pre-push` (lefthook: \
         `use_stdin: true`).\n",
        sanitize(&branch),
        sanitize(&name)
    );
    Ok((outcome, situation, note))
}

/// The commit message file, without comment lines and without what follows git's scissors line
/// (`git commit -v` appends the diff there; the staged content is the pre-commit hook's job).
pub(super) fn message_outcome(
    common: &Common,
    file: &std::path::Path,
) -> anyhow::Result<ScanOutcome> {
    let raw = std::fs::read(file).with_context(|| format!("cannot read {}", file.display()))?;
    let mut message = Vec::with_capacity(raw.len());
    for line in raw.split_inclusive(|&b| b == b'\n') {
        if line.starts_with(b"# ------------------------ >8 ------------------------") {
            break;
        }
        if line.starts_with(b"#") {
            message.extend_from_slice(b"\n");
        } else {
            message.extend_from_slice(line);
        }
    }
    let repo = repository();
    let setup = match &repo {
        Ok(repo) => setup::load_for_repo(common, repo, ConfigSource::Head)?,
        Err(_) => setup::load_from_disk(common, &setup::work_tree_root())?,
    };
    let scanner = setup.scanner(common)?;
    let units = [
        AddedText::whole(commits::COMMIT_MESSAGE_PATH, message),
        AddedText::whole(commits::COMMIT_HEADER_PATH, identities(repo.as_ref().ok())),
    ];
    let mut outcome = ScanOutcome::default();
    for unit in &units {
        outcome.blobs += 1;
        outcome.bytes += unit.buf.len() as u64;
        outcome.findings.extend(scanner.scan(unit)?);
    }
    outcome.apply_block_at(setup.config.block_at);
    Ok(outcome)
}

/// The author and committer the commit being made will carry, as header lines: git exports the
/// author to its hooks (`GIT_AUTHOR_NAME`, `GIT_AUTHOR_EMAIL`, so `--author` is seen); the
/// committer comes from the environment or the repository's `user.*` config.
fn identities(repo: Option<&gix::Repository>) -> Vec<u8> {
    let var = |k: &str| std::env::var_os(k).map(|v| v.to_string_lossy().into_owned());
    let mut out = String::new();
    if let (Some(name), Some(email)) = (var("GIT_AUTHOR_NAME"), var("GIT_AUTHOR_EMAIL")) {
        out.push_str(&format!("author {name} <{email}>\n"));
    }
    let committer = repo.and_then(|r| r.committer()).and_then(Result::ok);
    if let Some(c) = committer {
        out.push_str(&format!("committer {} <{}>\n", c.name, c.email));
    }
    out.into_bytes()
}

/// Under the pre-commit framework's pre-push stage, the range it hands over. When the push carries
/// a root commit the framework sets no range (it checks "all files" instead) and names only the
/// branches: then the commits of the local branch that are on no remote-tracking branch.
pub(super) fn framework_range() -> Option<String> {
    let var = |name: &str| std::env::var(name).ok().filter(|s| !s.is_empty());
    if let Some(to) = var("PRE_COMMIT_TO_REF") {
        let from = var("PRE_COMMIT_FROM_REF").unwrap_or_default();
        return Some(format!("{from}..{to}"));
    }
    let local = var("PRE_COMMIT_LOCAL_BRANCH")?;
    var("PRE_COMMIT_REMOTE_BRANCH")?;
    Some(format!("..{local}"))
}

/// The baseline the repository's git config names (`leakgate.baseline`, a path relative to the
/// work tree, or to the git directory in a bare repository), read; an unreadable one is an error.
pub(super) fn hook_baseline() -> anyhow::Result<Option<leakgate::audit::baseline::Baseline>> {
    let Ok(repo) = repository() else {
        return Ok(None);
    };
    let config = repo.config_snapshot();
    let Some(value) = config.string("leakgate.baseline") else {
        return Ok(None);
    };
    let value = std::path::PathBuf::from(value.to_string());
    let base = repo
        .workdir()
        .unwrap_or_else(|| repo.git_dir())
        .to_path_buf();
    Ok(Some(leakgate::audit::baseline::Baseline::read(
        &base.join(value),
    )?))
}

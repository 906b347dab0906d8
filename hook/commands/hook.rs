//! `leakgate hook ...`: what installed hooks call. Reports go to stderr. A hook that cannot scan
//! fails closed (exit 2) and says how to proceed.

use leakgate::exit::Exit;
use leakgate::outcome::ScanOutcome;
use leakgate::report::human::Situation;

use crate::cli::{Common, HookCommand};
use crate::commands::{scan, sources};
use crate::output;

/// How to skip this hook once under the pre-commit framework (`SKIP=<id>`), when it runs there:
/// the id the manifest's entry names, else both ids a configuration may use.
fn framework_skip(command: &HookCommand) -> Option<String> {
    let (hook_id, ids) = match command {
        HookCommand::PreCommit { hook_id } | HookCommand::PrePush { hook_id, .. } => {
            (hook_id, ["leakgate", "leakgate-system"])
        }
        HookCommand::CommitMsg { hook_id, .. } => (
            hook_id,
            ["leakgate-commit-msg", "leakgate-commit-msg-system"],
        ),
    };
    if let Some(id) = hook_id.as_deref().filter(|id| !id.is_empty()) {
        return Some(format!(
            "SKIP={} (the pre-commit framework)",
            leakgate::report::sanitize::sanitize(id)
        ));
    }
    let under_framework = std::env::var_os("PRE_COMMIT").is_some_and(|v| v == "1");
    under_framework.then(|| {
        format!(
            "SKIP={} or SKIP={} (the id in .pre-commit-config.yaml)",
            ids[0], ids[1]
        )
    })
}

/// `git ... --no-verify`, and the framework's `SKIP=` when it applies.
fn with_skip(no_verify: &str, skip: Option<&str>) -> String {
    match skip {
        Some(skip) => format!("{no_verify}, or {skip}"),
        None => no_verify.to_string(),
    }
}

/// What one hook scanned, and the situation its report is written for.
type HookScan = anyhow::Result<(ScanOutcome, Situation)>;

/// Runs a hook entry point: scans what the hook is about, leaving out the repository's baseline,
/// reports (a hook that could not scan says how to proceed), and maps the outcome to the exit
/// code.
pub(super) fn run(common: &Common, command: &HookCommand) -> anyhow::Result<Exit> {
    let skip = framework_skip(command);
    // The baseline (`git config leakgate.baseline FILE`) is read first: the scanner leaves out
    // the known secrets itself, so that they silence nothing a new one needs.
    let mut common = common.clone();
    let unreadable = match sources::hook_baseline() {
        Ok(baseline) => {
            common.baseline = baseline.map(std::sync::Arc::new);
            None
        }
        Err(e) => Some(e),
    };
    let common = &common;
    let (result, bypass) = match command {
        HookCommand::PreCommit { .. } => (
            pre_commit_outcome(common),
            with_skip("git commit --no-verify", skip.as_deref()),
        ),
        HookCommand::CommitMsg { file, .. } => (
            sources::message_outcome(common, file).map(|o| (o, Situation::CommitMessage)),
            with_skip("git commit --no-verify", skip.as_deref()),
        ),
        HookCommand::PrePush { remote, url, .. } => (
            pre_push_outcome(common, remote.as_deref(), url.as_deref()),
            with_skip("git push --no-verify", skip.as_deref()),
        ),
    };
    report(
        common,
        unless_baseline_unreadable(result, unreadable),
        skip.as_deref(),
        &bypass,
    )
}

/// The staged changes always; a range only when the pre-commit framework hands one over
/// (`pre-commit run --from-ref --to-ref`). Leftover `PRE_COMMIT_*` variables in the environment
/// must not replace the staged changes.
fn pre_commit_outcome(common: &Common) -> HookScan {
    let staged = sources::staged_outcome(common)?;
    match sources::framework_range() {
        Some(range) => sources::range_outcome(common, &range).map(|(mut o, situation)| {
            o.merge(staged);
            (o, situation)
        }),
        None => Ok((staged, Situation::Staged)),
    }
}

/// git's ref lines on stdin decide; the framework's range is used when it runs the hook itself
/// (its stdin then carries no ref lines), and added to them otherwise.
fn pre_push_outcome(common: &Common, remote: Option<&str>, url: Option<&str>) -> HookScan {
    let input = sources::read_pre_push_input()?;
    let pushed = || sources::pre_push_outcome(common, remote, url, &input);
    match sources::framework_range() {
        Some(range) if input.trim().is_empty() => sources::range_outcome(common, &range),
        Some(range) => pushed().and_then(|(mut o, situation)| {
            o.merge(sources::range_outcome(common, &range)?.0);
            Ok((o, situation))
        }),
        None if input.trim().is_empty() => sources::unwired_push_outcome(common, remote, url)
            .and_then(|(o, situation, note)| {
                output::stderr(&output::wrap(&note, output::width()))?;
                Ok((o, situation))
            }),
        None => pushed(),
    }
}

/// A baseline that could not be read fails the hook when the scan found something (it might
/// have been left out): the hook fails closed. With no finding or warning there was nothing to
/// leave out.
fn unless_baseline_unreadable(result: HookScan, unreadable: Option<anyhow::Error>) -> HookScan {
    let (outcome, situation) = result?;
    match unreadable {
        Some(e) if !(outcome.findings.is_empty() && outcome.warnings.is_empty()) => Err(e),
        _ => Ok((outcome, situation)),
    }
}

/// Reports the scan to stderr, or why there is none and how to proceed; the exit code.
fn report(
    common: &Common,
    result: HookScan,
    skip: Option<&str>,
    bypass: &str,
) -> anyhow::Result<Exit> {
    match result {
        Ok((outcome, situation)) => {
            scan::emit_hook(common, &outcome, situation, skip)?;
            if outcome.has_errors() && outcome.findings.is_empty() {
                output::stderr(&format!(
                    "leakgate: stopped because part of the change could not be scanned (see above).\n\
                     Fix what is listed, or, if you are sure it holds no secret, bypass once: {bypass}\n"
                ))?;
            } else if outcome.is_incomplete() && outcome.findings.is_empty() {
                output::stderr(&format!(
                    "leakgate: stopped because a file is over the size cap and was not scanned whole (see above).\n\
                     Keep big generated files out of git (or in Git LFS); or raise `max_blob_bytes`, or set\n\
                     `on_unscanned: accept`, in .leakgate.yaml; or, if you are sure it holds no secret,\n\
                     bypass once: {bypass}\n"
                ))?;
            }
            Ok(outcome.exit_code())
        }
        Err(error) if error.downcast_ref::<sources::UnwiredPush>().is_some() => {
            let text = format!(
                "leakgate: pre-push got no ref lines from git on stdin, and cannot tell what is \
                 pushed: {error}. The push stops here, because an unscanned push could carry a secret. \
                 Pass git's arguments and stdin to the hook: `leakgate hook pre-push \"$@\"` \
                 (husky: in .husky/pre-push; lefthook: `run: leakgate hook pre-push {{1}} {{2}}` \
                 with `use_stdin: true`). Bypass once: git push --no-verify\n"
            );
            output::stderr(&output::wrap(&text, output::width()))?;
            Ok(Exit::Error)
        }
        Err(error) => {
            output::stderr(&format!(
                "leakgate: cannot scan: {}\n\
                 The hook stops here because an unscanned change could carry a secret.\n\
                 Fix the problem above and try again; if you must proceed without a scan: {bypass}\n",
                output::error_chain(&error)
            ))?;
            Ok(Exit::Error)
        }
    }
}

//! `leakgate hook ...`: what installed hooks call. Reports go to stderr. A hook that cannot scan
//! fails closed (exit 2) and says how to proceed.

use leakgate::report::human::Situation;

use crate::cli::{Common, FormatArg, HookCommand};
use crate::commands::{scan, sources};
use crate::output;

/// Runs a hook entry point.
pub fn run(common: &Common, command: &HookCommand) -> anyhow::Result<i32> {
    let (result, bypass) = match command {
        HookCommand::PreCommit => (
            // The staged changes always; a range only when the pre-commit framework hands one
            // over (`pre-commit run --from-ref --to-ref`). Leftover PRE_COMMIT_* variables in the
            // environment must not replace the staged changes.
            sources::staged_outcome(common).and_then(|staged| match sources::framework_range() {
                Some(range) => sources::range_outcome(common, &range).map(|(mut o, situation)| {
                    o.merge(staged);
                    (o, situation)
                }),
                None => Ok((staged, Situation::Staged)),
            }),
            "git commit --no-verify (SKIP=leakgate under the pre-commit framework)",
        ),
        HookCommand::CommitMsg { file } => (
            sources::message_outcome(common, file).map(|o| (o, Situation::CommitMessage)),
            "git commit --no-verify (SKIP=leakgate-commit-msg under the pre-commit framework)",
        ),
        HookCommand::PrePush { remote, url } => (
            // git's ref lines on stdin decide; the framework's range is used when it runs the
            // hook itself (its stdin then carries no ref lines), and added to them otherwise.
            sources::read_pre_push_input().and_then(|input| {
                let pushed =
                    || sources::pre_push_outcome(common, remote.as_deref(), url.as_deref(), &input);
                match sources::framework_range() {
                    Some(range) if input.trim().is_empty() => {
                        sources::range_outcome(common, &range)
                    }
                    Some(range) => pushed().and_then(|(mut o, situation)| {
                        o.merge(sources::range_outcome(common, &range)?.0);
                        Ok((o, situation))
                    }),
                    None => pushed(),
                }
            }),
            "git push --no-verify",
        ),
    };
    match result {
        Ok((outcome, situation)) => {
            scan::emit(common, FormatArg::Human, &outcome, situation, true)?;
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
        Err(error) => {
            output::stderr(&format!(
                "leakgate: cannot scan: {}\n\
                 The hook stops here because an unscanned change could carry a secret.\n\
                 Fix the problem above and try again; if you must proceed without a scan: {bypass}\n",
                output::error_chain(&error)
            ))?;
            Ok(2)
        }
    }
}

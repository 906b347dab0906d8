//! `leakgate scan`: files, the staged changes, a range of commits, all history, or a message.

use leakgate::exit::Exit;
use leakgate::outcome::ScanOutcome;
use leakgate::report::human::{self, HumanOptions, Situation};

use crate::cli::{Common, FormatArg, ScanArgs};
use crate::commands::sources;
use crate::{output, setup};

/// Scans the chosen source and reports.
pub(super) fn run(common: &Common, args: &ScanArgs) -> anyhow::Result<Exit> {
    let mut common = common.clone();
    if let Some(path) = &args.baseline {
        common.baseline = Some(std::sync::Arc::new(
            leakgate::audit::baseline::Baseline::read(path)?,
        ));
    }
    let common = &common;
    let (outcome, situation) = if args.staged {
        (sources::staged_outcome(common)?, Situation::Staged)
    } else if let Some(range) = &args.range {
        sources::range_outcome(common, range)?
    } else if args.all_history {
        sources::all_history_outcome(common)?
    } else if let Some(file) = &args.commit_msg {
        (
            sources::message_outcome(common, file)?,
            Situation::CommitMessage,
        )
    } else {
        let root = setup::work_tree_root();
        let setup = setup::load_from_disk(common, &root)?;
        let scanner = setup.scanner(common)?;
        let mut outcome =
            leakgate::files::scan_paths(&scanner, &args.paths, setup.config.max_blob_bytes())?;
        outcome.on_unscanned = setup.config.on_unscanned;
        outcome.apply_block_at(setup.config.block_at);
        (outcome, Situation::Files)
    };
    if let Some(path) = &args.baseline {
        let left_out = leakgate::audit::baseline::left_out(&outcome);
        if left_out > 0 && !common.quiet {
            output::stderr(&format!(
                "leakgate: {left_out} finding(s) in the baseline {} not reported\n",
                path.display()
            ))?;
        }
    }
    emit(common, args.format, &outcome, situation, false)?;
    Ok(outcome.exit_code())
}

/// Prints a hook's human report on stderr; `skip` is the pre-commit framework's bypass when the
/// hook runs under it.
pub(super) fn emit_hook(
    common: &Common,
    outcome: &ScanOutcome,
    situation: Situation,
    skip: Option<&str>,
) -> anyhow::Result<()> {
    emit_with(common, FormatArg::Human, outcome, situation, true, skip)
}

/// Prints an outcome in the chosen format. Human output goes to stdout for `scan` and to stderr
/// for hooks (`to_stderr`); machine formats always go to stdout.
pub(super) fn emit(
    common: &Common,
    format: FormatArg,
    outcome: &ScanOutcome,
    situation: Situation,
    to_stderr: bool,
) -> anyhow::Result<()> {
    emit_with(common, format, outcome, situation, to_stderr, None)
}

fn emit_with(
    common: &Common,
    format: FormatArg,
    outcome: &ScanOutcome,
    situation: Situation,
    to_stderr: bool,
    skip: Option<&str>,
) -> anyhow::Result<()> {
    match format {
        FormatArg::Json => output::stdout(&leakgate::report::json::render(outcome))?,
        FormatArg::Sarif => {
            let root = setup::work_tree_root();
            let root = std::fs::canonicalize(&root).unwrap_or(root);
            let files_from = matches!(situation, Situation::Files)
                .then(|| std::env::current_dir().ok())
                .flatten()
                .map(|cwd| std::fs::canonicalize(&cwd).unwrap_or(cwd));
            let options = leakgate::report::sarif::SarifOptions {
                root: Some(root),
                files_from,
            };
            output::stdout(&leakgate::report::sarif::render_with(outcome, &options))?;
        }
        FormatArg::Human => {
            if common.quiet
                && outcome.findings.is_empty()
                && outcome.warnings.is_empty()
                && !outcome.is_incomplete()
            {
                return Ok(());
            }
            let choice = setup::color_choice(common.color);
            let color = if to_stderr {
                choice.enabled_for(&std::io::stderr())
            } else {
                choice.enabled_for(&std::io::stdout())
            };
            let text = human::render(
                outcome,
                &HumanOptions {
                    color,
                    situation,
                    quiet: common.quiet,
                    framework_skip: skip.map(str::to_string),
                    width: output::width(),
                    verbose: common.verbose,
                },
            );
            if to_stderr {
                output::stderr(&text)?;
            } else {
                output::stdout(&text)?;
            }
        }
    }
    Ok(())
}

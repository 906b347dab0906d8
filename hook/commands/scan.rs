//! `leakgate scan PATH...`.

use leakgate::outcome::ScanOutcome;
use leakgate::report::human::{self, HumanOptions, Situation};

use crate::cli::{Common, FormatArg, ScanArgs};
use crate::{output, setup};

/// Scans paths and reports.
pub fn run(common: &Common, args: &ScanArgs) -> anyhow::Result<i32> {
    let root = setup::work_tree_root();
    let setup = setup::load_from_disk(common, &root)?;
    let scanner = setup.scanner(common)?;
    let outcome =
        leakgate::files::scan_paths(&scanner, &args.paths, setup.config.max_blob_bytes())?;
    emit(common, args.format, &outcome, Situation::Files, false)?;
    Ok(outcome.exit_code())
}

/// Prints an outcome in the chosen format. Human output goes to stdout for `scan` and to stderr
/// for hooks (`to_stderr`); machine formats always go to stdout.
pub fn emit(
    common: &Common,
    format: FormatArg,
    outcome: &ScanOutcome,
    situation: Situation,
    to_stderr: bool,
) -> anyhow::Result<()> {
    match format {
        FormatArg::Json => output::stdout(&leakgate::report::json::render(outcome))?,
        FormatArg::Sarif => anyhow::bail!("--format sarif is not available for this source yet"),
        FormatArg::Human => {
            if common.quiet && outcome.findings.is_empty() && !outcome.has_errors() {
                return Ok(());
            }
            let color = if to_stderr {
                setup::color_choice(common.color).enabled_for(&std::io::stderr())
            } else {
                setup::color_choice(common.color).enabled_for(&std::io::stdout())
            };
            let text = human::render(
                outcome,
                &HumanOptions {
                    color,
                    situation,
                    quiet: common.quiet,
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

//! `leakgate report merge`: the JSON reports of many audit jobs as one report.

use anyhow::Context as _;
use leakgate::audit::baseline::Baseline;
use leakgate::audit::merge;
use leakgate::rules::Confidence;

use crate::cli::{Common, ConfidenceArg, MergeArgs, ReportCommand};
use crate::commands::audit::{format_of, write_report};

/// Runs a `leakgate report` command.
pub(super) fn run(common: &Common, cmd: &ReportCommand) -> anyhow::Result<i32> {
    match cmd {
        ReportCommand::Merge(args) => run_merge(common, args),
    }
}

/// Reads every report (all or nothing), merges them, applies the baseline and writes the result;
/// exits 1 when a secret at or above `--block-at` remains, 2 when a job could not read everything.
fn run_merge(common: &Common, args: &MergeArgs) -> anyhow::Result<i32> {
    let format = format_of(args.report.format, args.report.output.as_deref())?;
    let baseline = match &args.report.baseline {
        Some(path) => Some(Baseline::read(path)?),
        None => None,
    };
    let mut inputs = Vec::with_capacity(args.reports.len());
    for path in &args.reports {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read the report {}", path.display()))?;
        inputs.push((path.display().to_string(), text));
    }
    let mut report = merge::merge(&inputs)?;
    if let Some(baseline) = &baseline {
        report.apply_baseline(baseline);
    }
    write_report(common, &report, format, args.report.output.as_deref())?;
    let block_at = match args.block_at {
        ConfidenceArg::Low => Confidence::Low,
        ConfidenceArg::Medium => Confidence::Medium,
        ConfidenceArg::High => Confidence::High,
    };
    Ok(report.exit_code(block_at))
}

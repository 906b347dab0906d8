//! Command-line arguments of `leakgate` (clap derive).

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

/// leakgate: stops secrets from entering a repository, from git hooks.
///
/// Exit codes: 0 nothing found, 1 secrets found (commit or push blocked), 2 error.
#[derive(Debug, Parser)]
#[command(name = "leakgate", version, about, long_about = None)]
pub(crate) struct Cli {
    /// Options every command takes.
    #[command(flatten)]
    pub common: Common,
    /// The command.
    #[command(subcommand)]
    pub command: Command,
}

/// Options every command takes.
#[derive(Debug, Clone, Args)]
pub(crate) struct Common {
    /// Config file to use instead of the repository's .leakgate.yaml.
    #[arg(long, global = true, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// When to colour the human report (`NO_COLOR` is honoured in auto).
    #[arg(long, global = true, value_enum, default_value_t = ColorArg::Auto)]
    pub color: ColorArg,
    /// Run only the config's own rules (and --rules), without the embedded pack.
    #[arg(long, global = true)]
    pub no_builtin: bool,
    /// Extra rule files or directories (the schema of patterns/); a rule here replaces an
    /// embedded rule with the same id.
    #[arg(long = "rules", global = true, value_name = "PATH")]
    pub rule_paths: Vec<PathBuf>,
    /// Print nothing when nothing is found; omit the list of skipped entries.
    #[arg(short, long, global = true)]
    pub quiet: bool,
    /// List every finding in full (past a handful, reports list them one per line).
    #[arg(short, long, global = true)]
    pub verbose: bool,
    /// The baseline every scanner built for this command leaves out (known secrets: set from
    /// `--baseline` or `leakgate.baseline`, not a flag of its own).
    #[arg(skip)]
    pub baseline: Option<std::sync::Arc<leakgate::audit::baseline::Baseline>>,
}

/// `--color`.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub(crate) enum ColorArg {
    /// Colour when writing to a terminal.
    Auto,
    /// Always colour.
    Always,
    /// Never colour.
    Never,
}

/// `--format`.
#[derive(Debug, Clone, Copy, ValueEnum, Default)]
pub(crate) enum FormatArg {
    /// Readable report.
    #[default]
    Human,
    /// JSON (version 1) on stdout.
    Json,
    /// SARIF 2.1.0 on stdout.
    Sarif,
}

/// The commands.
#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// Scan files and directories (recursively, skipping .git/).
    Scan(ScanArgs),
    /// Audit a repository's whole history (or the given revisions): every secret once, with
    /// every place it was added, who added it and when, and whether a branch still holds it.
    Audit(AuditArgs),
    /// Work with audit reports (merge the JSON of many audit jobs into one report).
    #[command(subcommand)]
    Report(ReportCommand),
    /// Work with rules.
    #[command(subcommand)]
    Rules(RulesCommand),
    /// Record fingerprints of false positives in .leakgateignore.
    Ignore(IgnoreArgs),
    /// Entry points that installed git hooks call.
    #[command(subcommand)]
    Hook(HookCommand),
    /// Install the git hooks into this repository (or, with --global, for every repository).
    Install(InstallArgs),
    /// Remove leakgate's hooks and restore what was there before.
    Uninstall(UninstallArgs),
    /// Write a commented .leakgate.yaml with every setting at its default (never overwrites).
    Init,
    /// Print a shell completion script (e.g. `leakgate completions bash > ~/.local/share/bash-completion/completions/leakgate`).
    Completions {
        /// The shell.
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Print the man page (roff), e.g. `leakgate man > ~/.local/share/man/man1/leakgate.1`.
    Man,
}

/// `leakgate hook ...`.
#[derive(Debug, Subcommand)]
pub(crate) enum HookCommand {
    /// Scan the staged changes (the index against HEAD). Under the pre-commit framework's
    /// pre-push stage (`PRE_COMMIT_FROM_REF/PRE_COMMIT_TO_REF` set) scan that range instead.
    PreCommit {
        /// The pre-commit framework's id of the hook running this (for the `SKIP=` hint).
        #[arg(long, value_name = "ID")]
        hook_id: Option<String>,
    },
    /// Scan the commit message in FILE.
    CommitMsg {
        /// The message file git passes to the hook.
        file: PathBuf,
        /// The pre-commit framework's id of the hook running this (for the `SKIP=` hint).
        #[arg(long, value_name = "ID")]
        hook_id: Option<String>,
    },
    /// Scan the commits being pushed that the remote does not have yet (git's stdin protocol;
    /// without ref lines, the current branch's commits on no remote-tracking branch of REMOTE).
    PrePush {
        /// Remote name.
        remote: Option<String>,
        /// Remote URL.
        url: Option<String>,
        /// The pre-commit framework's id of the hook running this (for the `SKIP=` hint).
        #[arg(long, value_name = "ID")]
        hook_id: Option<String>,
    },
}

/// `leakgate install`.
#[derive(Debug, Args)]
pub(crate) struct InstallArgs {
    /// Hooks to install (comma-separated): pre-commit, commit-msg, pre-push.
    #[arg(long = "hook", value_delimiter = ',', default_values_t = [String::from("pre-commit"), String::from("commit-msg"), String::from("pre-push")])]
    pub hooks: Vec<String>,
    /// Install for every repository of this user (sets git's global core.hooksPath; each
    /// repository's own hooks still run).
    #[arg(long)]
    pub global: bool,
    /// Install even where another hook manager owns the hooks (its hook is still chained).
    #[arg(long)]
    pub force: bool,
}

/// `leakgate uninstall`.
#[derive(Debug, Args)]
pub(crate) struct UninstallArgs {
    /// Remove the global installation.
    #[arg(long)]
    pub global: bool,
}

/// `leakgate scan`: exactly one source.
#[derive(Debug, Args)]
#[command(group(clap::ArgGroup::new("source").required(true).args(["paths", "staged", "range", "all_history", "commit_msg"])))]
pub(crate) struct ScanArgs {
    /// Files and directories to scan.
    #[arg(value_name = "PATH")]
    pub paths: Vec<PathBuf>,
    /// Scan the staged changes (the index against HEAD), as the pre-commit hook does.
    #[arg(long)]
    pub staged: bool,
    /// Scan the commits in A..B (B's history not reachable from A; an empty A means not on any
    /// remote-tracking branch).
    #[arg(long, value_name = "A..B")]
    pub range: Option<String>,
    /// Scan every commit reachable from any ref (a one-off audit; hooks never do this).
    #[arg(long)]
    pub all_history: bool,
    /// Scan a commit message file.
    #[arg(long, value_name = "FILE")]
    pub commit_msg: Option<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = FormatArg::Human)]
    pub format: FormatArg,
    /// Report only secrets whose fingerprint is not in FILE (written by `audit --write-baseline`;
    /// the lines of a `.leakgateignore`, or an audit's JSON report, work too).
    #[arg(long, value_name = "FILE")]
    pub baseline: Option<PathBuf>,
}

/// `leakgate audit` output formats.
#[derive(Debug, Clone, Copy, ValueEnum, PartialEq, Eq)]
pub(crate) enum AuditFormatArg {
    /// Readable report (summary first).
    Human,
    /// JSON (docs/audit-report.schema.json).
    Json,
    /// SARIF 2.1.0.
    Sarif,
    /// CSV, one row per secret.
    Csv,
    /// Markdown.
    Markdown,
    /// A self-contained HTML page.
    Html,
}

/// How an audit report is written (`leakgate audit`, `leakgate report merge`).
#[derive(Debug, Args)]
pub(crate) struct AuditReportArgs {
    /// Output format (default: from the extension of -o, else human).
    #[arg(long, value_enum)]
    pub format: Option<AuditFormatArg>,
    /// Write the report to FILE (.json, .sarif, .csv, .md, .html, .txt pick the format).
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Report only secrets whose fingerprint is not in FILE.
    #[arg(long, value_name = "FILE")]
    pub baseline: Option<PathBuf>,
}

/// `leakgate audit`.
#[derive(Debug, Args)]
pub(crate) struct AuditArgs {
    /// The repository (a work tree, a bare repository or a mirror; default: the current one),
    /// then revisions: `main`, `A..B`, `^A` (default: every ref). A first argument that is not a
    /// directory is a revision.
    #[arg(value_name = "REPO | REV")]
    pub positional: Vec<String>,
    /// Every ref and HEAD (the default when no revision is given).
    #[arg(long)]
    pub all: bool,
    /// The local branches (refs/heads/).
    #[arg(long)]
    pub branches: bool,
    /// The tags (refs/tags/).
    #[arg(long)]
    pub tags: bool,
    /// The remote-tracking branches (refs/remotes/).
    #[arg(long)]
    pub remotes: bool,
    /// Only commits committed at or after DATE (git's formats: 2024-01-31, "2 weeks ago", ...).
    #[arg(long, visible_alias = "after", value_name = "DATE")]
    pub since: Option<String>,
    /// Only commits committed at or before DATE.
    #[arg(long, visible_alias = "before", value_name = "DATE")]
    pub until: Option<String>,
    /// Format, output file and baseline.
    #[command(flatten)]
    pub report: AuditReportArgs,
    /// Write the fingerprints of every secret found (and of --baseline's) to FILE.
    #[arg(long, value_name = "FILE")]
    pub write_baseline: Option<PathBuf>,
    /// Audit many repositories: FILE lists their paths (one a line, `#` comments), or DIR holds
    /// them (every repository under it); one combined report.
    #[arg(long, value_name = "FILE|DIR", conflicts_with = "positional")]
    pub repos: Option<PathBuf>,
    /// Worker threads (default: every core).
    #[arg(short = 'j', long, value_name = "N")]
    pub threads: Option<usize>,
}

/// `leakgate report ...`.
#[derive(Debug, Subcommand)]
pub(crate) enum ReportCommand {
    /// Merge JSON audit reports (`leakgate audit -o part.json` run on many machines or jobs) into
    /// one report: a secret found by several jobs is one secret with every occurrence.
    Merge(MergeArgs),
}

/// A confidence level on the command line.
#[derive(Debug, Clone, Copy, ValueEnum, PartialEq, Eq)]
pub(crate) enum ConfidenceArg {
    /// Every secret.
    Low,
    /// Medium and high (the default `block_at`).
    Medium,
    /// High only.
    High,
}

/// `leakgate report merge`.
#[derive(Debug, Args)]
pub(crate) struct MergeArgs {
    /// The JSON audit reports (written by `leakgate audit --format json` or `-o FILE.json`).
    #[arg(required = true, value_name = "REPORT.json")]
    pub reports: Vec<PathBuf>,
    /// Format, output file and baseline.
    #[command(flatten)]
    pub report: AuditReportArgs,
    /// Exit 1 when a reported secret has this confidence or higher.
    #[arg(long, value_enum, default_value_t = ConfidenceArg::Medium)]
    pub block_at: ConfidenceArg,
}

/// `leakgate rules ...`.
#[derive(Debug, Subcommand)]
pub(crate) enum RulesCommand {
    /// List the active rules, one per line, id first.
    List,
    /// Validate rule files and run their examples through the full scanner (the embedded pack when
    /// no file is given).
    Check {
        /// Rule files or directories of rule files.
        files: Vec<PathBuf>,
    },
}

/// `leakgate ignore`.
#[derive(Debug, Args)]
pub(crate) struct IgnoreArgs {
    /// Fingerprints (`<rule-id>:<20 hex>`) as printed in a report.
    #[arg(required = true, value_name = "FINGERPRINT")]
    pub fingerprints: Vec<String>,
    /// Why this is not a secret (kept beside the fingerprint).
    #[arg(long)]
    pub reason: Option<String>,
}

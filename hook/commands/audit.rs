//! `leakgate audit`: a history audit report for one repository or many.

use std::io::IsTerminal as _;
use std::path::{Path, PathBuf};
use std::sync::atomic::Ordering;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use anyhow::Context as _;
use leakgate::audit::baseline::Baseline;
use leakgate::audit::{self, render, AuditOptions, Progress, RepoAudit};
use leakgate::git::open_repository;
use leakgate::rules::Confidence;

use crate::cli::{AuditArgs, AuditFormatArg, Common};
use crate::output;
use crate::setup::{self, ConfigSource};

/// One repository's audit and its `block_at`, or why it failed.
type RepoResult = anyhow::Result<(RepoAudit, Confidence)>;

/// Runs an audit and writes its report.
pub(super) fn run(common: &Common, args: &AuditArgs) -> anyhow::Result<i32> {
    let format = format_of(args.report.format, args.report.output.as_deref())?;
    let baseline = match &args.report.baseline {
        Some(path) => Some(std::sync::Arc::new(Baseline::read(path)?)),
        None => None,
    };
    // The scanners leave the baseline's secrets out themselves (see `baseline::left_out`).
    let mut common = common.clone();
    common.baseline.clone_from(&baseline);
    let common = &common;
    let cores = std::thread::available_parallelism().map_or(1, std::num::NonZero::get);
    let threads = args.threads.unwrap_or(cores).max(1);
    let targets = Targets::of(args)?;
    let results = audit_all(common, &targets, threads);
    let mut folded = fold(results, &targets.names);
    if args.repos.is_none() {
        if let Some(e) = folded.errors.pop() {
            anyhow::bail!(e);
        }
    }
    let report = audit::finish(folded.audits);
    write(common, args, &report, baseline.as_deref(), format)?;
    for e in &folded.errors {
        output::stderr(&format!("leakgate: {e}\n"))?;
    }
    let code = report.exit_code(folded.block_at);
    Ok(if code == 0 && !folded.errors.is_empty() {
        2
    } else {
        code
    })
}

/// The repositories to audit, their names in the report, and the revision arguments.
struct Targets {
    paths: Vec<PathBuf>,
    names: Vec<String>,
    revision_args: Vec<String>,
}

impl Targets {
    /// The `--repos` repositories or the positional one, with their revision arguments.
    fn of(args: &AuditArgs) -> anyhow::Result<Targets> {
        let paths = match &args.repos {
            Some(list) => repo_list(list)?,
            None => {
                let (repo, _) = split_positional(&args.positional);
                vec![PathBuf::from(repo)]
            }
        };
        let revision_args = if args.repos.is_some() {
            flags(args)
        } else {
            let (_, revs) = split_positional(&args.positional);
            let mut all = flags(args);
            all.extend(revs);
            all
        };
        let names = display_names(&paths);
        Ok(Targets {
            paths,
            names,
            revision_args,
        })
    }
}

/// Audits the repositories in parallel, sharing `threads`; results in the order of `targets`.
fn audit_all(common: &Common, targets: &Targets, threads: usize) -> Vec<(usize, RepoResult)> {
    let progress = Progress::default();
    let show_progress = !common.quiet && std::io::stderr().is_terminal();
    let results: Mutex<Vec<(usize, RepoResult)>> = Mutex::new(Vec::new());
    let next = std::sync::atomic::AtomicUsize::new(0);
    let concurrent = targets.paths.len().clamp(1, threads);
    let per_repo = (threads / concurrent).max(1);
    let done = std::sync::atomic::AtomicBool::new(false);
    std::thread::scope(|scope| {
        if show_progress {
            scope.spawn(|| progress_bar(&progress, &done));
        }
        let workers: Vec<_> = (0..concurrent)
            .map(|_| {
                scope.spawn(|| loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some(path) = targets.paths.get(i) else {
                        break;
                    };
                    let name = &targets.names[i];
                    let args = &targets.revision_args;
                    let result = audit_one(common, path, name, args, per_repo, &progress);
                    if let Ok(mut all) = results.lock() {
                        all.push((i, result));
                    }
                })
            })
            .collect();
        for w in workers {
            let _ = w.join();
        }
        done.store(true, Ordering::Relaxed);
    });
    let mut results = results.into_inner().unwrap_or_default();
    results.sort_by_key(|(i, _)| *i);
    results
}

/// The repository audits, their lowest `block_at`, and one message per failed repository.
struct Folded {
    audits: Vec<RepoAudit>,
    block_at: Confidence,
    errors: Vec<String>,
}

/// Folds the results: audits kept in order, errors named after their repository.
fn fold(results: Vec<(usize, RepoResult)>, names: &[String]) -> Folded {
    let mut folded = Folded {
        audits: Vec::new(),
        block_at: Confidence::High,
        errors: Vec::new(),
    };
    for (i, result) in results {
        match result {
            Ok((audit, at)) => {
                folded.block_at = folded.block_at.min(at);
                folded.audits.push(audit);
            }
            Err(e) => folded.errors.push(format!(
                "{}: {}",
                leakgate::report::sanitize::sanitize(&names[i]),
                output::error_chain(&e)
            )),
        }
    }
    folded
}

/// Writes `--write-baseline` (with what `--baseline` holds, which the scan left out) and the
/// report.
fn write(
    common: &Common,
    args: &AuditArgs,
    report: &audit::AuditReport,
    baseline: Option<&Baseline>,
    format: AuditFormatArg,
) -> anyhow::Result<()> {
    if let Some(path) = &args.write_baseline {
        std::fs::write(path, audit::baseline::render(report, baseline))
            .with_context(|| format!("cannot write the baseline {}", path.display()))?;
    }
    write_report(common, report, format, args.report.output.as_deref())
}

/// Renders `report` in `format` to `output`, or to stdout (nothing for a clean `-q` human report).
pub(crate) fn write_report(
    common: &Common,
    report: &audit::AuditReport,
    format: AuditFormatArg,
    output: Option<&Path>,
) -> anyhow::Result<()> {
    let text = match format {
        AuditFormatArg::Human => {
            let color = output.is_none()
                && setup::color_choice(common.color).enabled_for(&std::io::stdout());
            render::human(report, color)
        }
        AuditFormatArg::Json => render::json(report),
        AuditFormatArg::Sarif => render::sarif(report),
        AuditFormatArg::Csv => render::csv(report),
        AuditFormatArg::Markdown => render::markdown(report),
        AuditFormatArg::Html => render::html(report),
    };
    match output {
        Some(path) => write_whole(path, text.as_bytes())
            .with_context(|| format!("cannot write the report {}", path.display()))?,
        None => {
            let quiet_clean = common.quiet && report.secrets.is_empty() && !report.has_errors();
            if !(quiet_clean && format == AuditFormatArg::Human) {
                output::stdout(&text)?;
            }
        }
    }
    Ok(())
}

/// Writes `bytes` to `path` whole or not at all: a temporary file beside it, renamed over it.
fn write_whole(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let name = path.file_name().map_or_else(
        || std::ffi::OsString::from("report"),
        std::ffi::OsStr::to_os_string,
    );
    let mut temporary_name = std::ffi::OsString::from(".");
    temporary_name.push(&name);
    temporary_name.push(format!(".{}.tmp", std::process::id()));
    let temporary = path.with_file_name(temporary_name);
    let result = std::fs::write(&temporary, bytes).and_then(|()| std::fs::rename(&temporary, path));
    if result.is_err() {
        let _ = std::fs::remove_file(&temporary);
    }
    result
}

/// The format: `--format`, else from the extension of `-o`, else human.
pub(crate) fn format_of(
    format: Option<AuditFormatArg>,
    output: Option<&Path>,
) -> anyhow::Result<AuditFormatArg> {
    if let Some(f) = format {
        return Ok(f);
    }
    let Some(path) = output else {
        return Ok(AuditFormatArg::Human);
    };
    let ext = path
        .extension()
        .map(|e| e.to_string_lossy().to_ascii_lowercase())
        .unwrap_or_default();
    Ok(match ext.as_str() {
        "json" => AuditFormatArg::Json,
        "sarif" => AuditFormatArg::Sarif,
        "csv" => AuditFormatArg::Csv,
        "md" | "markdown" => AuditFormatArg::Markdown,
        "html" | "htm" => AuditFormatArg::Html,
        "txt" | "text" | "log" => AuditFormatArg::Human,
        _ => anyhow::bail!(
            "cannot tell the format from the name {} (use .json, .sarif, .csv, .md, .html, .txt, or --format)",
            path.display()
        ),
    })
}

/// The repository and the revisions among the positional arguments: a first argument that is a
/// directory is the repository.
fn split_positional(positional: &[String]) -> (String, Vec<String>) {
    match positional.split_first() {
        Some((first, rest)) if Path::new(first).is_dir() => (first.clone(), rest.to_vec()),
        _ => (".".to_string(), positional.to_vec()),
    }
}

/// The revision flags as git spells them.
fn flags(args: &AuditArgs) -> Vec<String> {
    let mut out = Vec::new();
    for (on, flag) in [
        (args.all, "--all"),
        (args.branches, "--branches"),
        (args.tags, "--tags"),
        (args.remotes, "--remotes"),
    ] {
        if on {
            out.push(flag.to_string());
        }
    }
    if let Some(d) = &args.since {
        out.push(format!("--since={d}"));
    }
    if let Some(d) = &args.until {
        out.push(format!("--until={d}"));
    }
    out
}

/// The repositories of `--repos`: the lines of a file (relative to it), or every repository
/// under a directory.
fn repo_list(list: &Path) -> anyhow::Result<Vec<PathBuf>> {
    if list.is_dir() {
        let mut found = Vec::new();
        find_repos(list, 0, &mut found)?;
        found.sort();
        if found.is_empty() {
            anyhow::bail!("no git repository under {}", list.display());
        }
        return Ok(found);
    }
    let text = std::fs::read_to_string(list)
        .with_context(|| format!("cannot read the repository list {}", list.display()))?;
    let base = list.parent().unwrap_or(Path::new("."));
    let paths: Vec<PathBuf> = text
        .lines()
        .map(|l| l.split(" #").next().unwrap_or("").trim())
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(|l| base.join(l))
        .collect();
    if paths.is_empty() {
        anyhow::bail!("{} lists no repository", list.display());
    }
    Ok(paths)
}

/// Whether `dir` is a repository: a bare one (`HEAD`, `objects/`, `refs/`) or a work tree.
fn is_repo(dir: &Path) -> bool {
    dir.join(".git").exists()
        || (dir.join("HEAD").is_file() && dir.join("objects").is_dir() && dir.join("refs").is_dir())
}

fn find_repos(dir: &Path, depth: usize, out: &mut Vec<PathBuf>) -> anyhow::Result<()> {
    if is_repo(dir) {
        out.push(dir.to_path_buf());
        return Ok(());
    }
    if depth >= 4 {
        return Ok(());
    }
    let entries =
        std::fs::read_dir(dir).with_context(|| format!("cannot list {}", dir.display()))?;
    for entry in entries.flatten() {
        let path = entry.path();
        if entry.file_type().is_ok_and(|t| t.is_dir()) {
            find_repos(&path, depth + 1, out)?;
        }
    }
    Ok(())
}

/// A short name per repository: its directory name (without `.git`), the path when two share it.
fn display_names(targets: &[PathBuf]) -> Vec<String> {
    let short: Vec<String> = targets
        .iter()
        .map(|p| {
            let p = p.canonicalize().unwrap_or_else(|_| p.clone());
            let name = p.file_name().map_or_else(
                || p.display().to_string(),
                |n| n.to_string_lossy().into_owned(),
            );
            if name == ".git" {
                p.parent()
                    .and_then(|d| d.file_name())
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or(name)
            } else {
                name.strip_suffix(".git")
                    .map(str::to_string)
                    .unwrap_or(name)
            }
        })
        .collect();
    short
        .iter()
        .enumerate()
        .map(|(i, name)| {
            if short.iter().filter(|n| *n == name).count() > 1 {
                targets[i].display().to_string()
            } else {
                name.clone()
            }
        })
        .collect()
}

/// Audits one repository with its committed config.
fn audit_one(
    common: &Common,
    path: &Path,
    name: &str,
    revision_args: &[String],
    threads: usize,
    progress: &Progress,
) -> anyhow::Result<(RepoAudit, Confidence)> {
    let repo = open_repository(path)?;
    let setup = setup::load_for_repo(common, &repo, ConfigSource::Head)?;
    let scanner = setup.scanner(common)?;
    let revs = audit::revisions::parse(&repo, revision_args)?;
    let options = AuditOptions {
        name: name.to_string(),
        scanner: &scanner,
        max_blob_bytes: setup.config.max_blob_bytes(),
        threads,
        progress,
        prescan: true,
    };
    let audit = audit::audit_repository(&repo, &revs, &options)?;
    Ok((audit, setup.config.block_at))
}

/// Draws `[###---] 1234/23815 commits  45.2 MB  980 commits/s  ETA 0:21` on stderr until `done`;
/// while the prescan reads the blobs (no commit done yet), the same for the blobs.
fn progress_bar(progress: &Progress, done: &std::sync::atomic::AtomicBool) {
    let start = Instant::now();
    let mut commits_start: Option<Instant> = None;
    let mut drawn = false;
    while !done.load(Ordering::Relaxed) {
        std::thread::sleep(Duration::from_millis(200));
        let commits = progress.commits_done.load(Ordering::Relaxed);
        let blobs = progress.blobs_done.load(Ordering::Relaxed);
        let blobs_total = progress.blobs_total.load(Ordering::Relaxed);
        // The commits' rate is timed from the first commit done (after the prescan).
        let phase = if commits == 0 && blobs_total > 0 {
            (blobs, blobs_total, "blobs", start)
        } else {
            let since = if commits == 0 {
                start
            } else {
                *commits_start.get_or_insert_with(Instant::now)
            };
            let total = progress.commits_total.load(Ordering::Relaxed);
            (commits, total, "commits", since)
        };
        let bytes = progress.bytes_done.load(Ordering::Relaxed);
        let line = progress_line(phase, bytes);
        let _ = output::stderr(&line);
        drawn = true;
    }
    if drawn {
        let _ = output::stderr("\r\x1b[K");
    }
}

/// One progress line: `(done, total, unit, phase start)` and the bytes scanned so far.
fn progress_line((n, total, unit, since): (u64, u64, &str, Instant), bytes: u64) -> String {
    let secs = since.elapsed().as_secs_f64().max(0.001);
    let rate = n as f64 / secs;
    let eta = if rate > 0.0 && total > n {
        let left = ((total - n) as f64 / rate) as u64;
        format!("ETA {}:{:02}", left / 60, left % 60)
    } else {
        String::from("ETA -")
    };
    let width = 24usize;
    let filled = if total > 0 {
        ((n as f64 / total as f64) * width as f64) as usize
    } else {
        0
    }
    .min(width);
    let bar = format!("{}{}", "#".repeat(filled), "-".repeat(width - filled));
    format!(
        "\r[{bar}] {n}/{total} {unit}  {}  {:.0} {unit}/s  {eta}\x1b[K",
        leakgate::outcome::human_bytes(bytes),
        rate
    )
}

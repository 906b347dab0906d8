//! The human report: where each secret is, what it is, and what to do now, in this situation.

use std::collections::{BTreeMap, HashSet};
use std::fmt::Write as _;

use owo_colors::{OwoColorize, Style};

use crate::finding::Finding;
use crate::outcome::{human_bytes, ScanOutcome};
use crate::report::sanitize::{sanitize, sanitize_bytes};
use crate::rules::Severity;
use crate::scanner::SuppressionKind;

/// Where the findings come from, which decides what "take it out" means.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Situation {
    /// `leakgate scan PATH`: files on disk.
    Files,
    /// The pre-commit hook: staged changes.
    Staged,
    /// The commit-msg hook: the message being written.
    CommitMessage,
    /// Commits not pushed yet (pre-push, `scan --range`). `tips` are the commits at the tip of a
    /// branch (fixed with `--amend`); others need an interactive rebase.
    LocalCommits {
        /// Full ids of tip commits.
        tips: HashSet<String>,
    },
    /// Commits pushed to a server (pre-receive); `bypass` is the push option when policy allows.
    Pushed {
        /// Full ids of pushed tips.
        tips: HashSet<String>,
        /// `git push -o <bypass>="<reason>"`, when the policy allows a bypass.
        bypass: Option<String>,
    },
}

/// Rendering options.
#[derive(Debug, Clone)]
pub struct HumanOptions {
    /// Use ANSI colours.
    pub color: bool,
    /// The situation.
    pub situation: Situation,
    /// Omit the listing of skipped entries (the summary line still counts them).
    pub quiet: bool,
}

struct Palette {
    on: bool,
}

impl Palette {
    fn paint(&self, text: &str, style: Style) -> String {
        if self.on {
            text.style(style).to_string()
        } else {
            text.to_string()
        }
    }
    fn bold(&self, t: &str) -> String {
        self.paint(t, Style::new().bold())
    }
    fn red(&self, t: &str) -> String {
        self.paint(t, Style::new().red().bold())
    }
    fn yellow(&self, t: &str) -> String {
        self.paint(t, Style::new().yellow())
    }
    fn dim(&self, t: &str) -> String {
        self.paint(t, Style::new().dimmed())
    }
    fn cyan(&self, t: &str) -> String {
        self.paint(t, Style::new().cyan())
    }
}

fn plural(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

fn short(commit: &str) -> &str {
    &commit[..commit.len().min(12)]
}

/// Renders the whole human report.
pub fn render(outcome: &ScanOutcome, options: &HumanOptions) -> String {
    let p = Palette { on: options.color };
    let mut out = String::new();
    crate::finding::prepare_fingerprints(&outcome.findings);
    if !outcome.findings.is_empty() {
        headline(&mut out, outcome, options, &p);
        for f in &outcome.findings {
            finding(&mut out, f, &p);
        }
        what_to_do(&mut out, outcome, options, &p);
    }
    warnings(&mut out, outcome, &p);
    if !options.quiet && !outcome.skipped.is_empty() {
        let _ = writeln!(out, "{}", p.bold("Not scanned:"));
        for s in &outcome.skipped {
            let at = match &s.commit {
                Some(c) => format!(" (commit {})", short(c)),
                None => String::new(),
            };
            let _ = writeln!(
                out,
                "  {}{}: {}",
                sanitize_bytes(&s.path),
                at,
                sanitize(&s.reason.describe())
            );
        }
    }
    legacy_ignore_entries(&mut out, outcome, &p);
    let _ = writeln!(out, "{}", summary_line(outcome, &options.situation));
    out
}

/// Lists the findings below `block_at`: not blocking, never hidden.
fn warnings(out: &mut String, outcome: &ScanOutcome, p: &Palette) {
    if outcome.warnings.is_empty() {
        return;
    }
    let _ = writeln!(
        out,
        "{} {} below the blocking confidence (block_at); not blocking, but look at {}:",
        p.yellow("Warning:"),
        plural(
            outcome.warnings.len(),
            "possible secret",
            "possible secrets"
        ),
        if outcome.warnings.len() == 1 {
            "it"
        } else {
            "each"
        }
    );
    for f in &outcome.warnings {
        let at = match &f.commit {
            Some(c) => format!(" (commit {})", short(c)),
            None => String::new(),
        };
        let _ = writeln!(
            out,
            "  {}:{}{}  {} ({}, {} confidence)  {}",
            sanitize_bytes(&f.path),
            f.line,
            at,
            sanitize(&f.description),
            sanitize(&f.rule),
            f.confidence,
            sanitize(&f.secret.redacted())
        );
    }
    let _ = writeln!(
        out,
        "  {}",
        p.dim("A real secret here must be taken out and rotated like any other. `block_at: low` in .leakgate.yaml makes these block.")
    );
}

/// Names the replacement of each version-1 `.leakgateignore` entry that silenced a secret.
fn legacy_ignore_entries(out: &mut String, outcome: &ScanOutcome, p: &Palette) {
    let legacy: BTreeMap<String, String> = outcome
        .suppressed
        .iter()
        .filter(|s| s.kind == SuppressionKind::LegacyIgnoreFile)
        .map(|s| {
            let f = &s.finding;
            let old = crate::fingerprint::legacy_fingerprint(&f.rule, f.secret.expose());
            (old, f.fingerprint().to_string())
        })
        .collect();
    if legacy.is_empty() {
        return;
    }
    let _ = writeln!(
        out,
        "{} .leakgateignore holds version-1 fingerprints, which a dictionary attack can turn back \
         into the secret. They are still honoured; replace each line:",
        p.bold("Note:")
    );
    for (old, new) in legacy {
        let _ = writeln!(out, "  {}  ->  {}", sanitize(&old), sanitize(&new));
    }
}

fn headline(out: &mut String, outcome: &ScanOutcome, options: &HumanOptions, p: &Palette) {
    let n = outcome.findings.len();
    let secrets = plural(n, "secret", "secrets");
    let commits: HashSet<&str> = outcome
        .findings
        .iter()
        .filter_map(|f| f.commit.as_deref())
        .collect();
    let text = match &options.situation {
        Situation::Files => {
            let files: HashSet<&[u8]> =
                outcome.findings.iter().map(|f| f.path.as_slice()).collect();
            format!(
                "leakgate: {secrets} found in {}",
                plural(files.len(), "file", "files")
            )
        }
        Situation::Staged => format!("leakgate: commit blocked: {secrets} in the staged changes"),
        Situation::CommitMessage => {
            format!("leakgate: commit blocked: {secrets} in the commit message")
        }
        Situation::LocalCommits { .. } => format!(
            "leakgate: push blocked: {secrets} in {}",
            plural(commits.len(), "commit", "commits")
        ),
        Situation::Pushed { .. } => format!(
            "push rejected: {secrets} in {}",
            plural(commits.len(), "commit", "commits")
        ),
    };
    let _ = writeln!(out, "{}\n", p.red(&text));
}

fn finding(out: &mut String, f: &Finding, p: &Palette) {
    let commit = match &f.commit {
        Some(c) => format!("  commit {}", p.yellow(short(c))),
        None => String::new(),
    };
    let _ = writeln!(
        out,
        "  {}{}",
        p.bold(&format!(
            "{}:{}:{}",
            sanitize_bytes(&f.path),
            f.line,
            f.column
        )),
        commit
    );
    let severity = match f.severity {
        Severity::Critical | Severity::High => p.red(f.severity.as_str()),
        _ => p.yellow(f.severity.as_str()),
    };
    let _ = writeln!(
        out,
        "    {} · {} — {} ({})",
        p.cyan(&sanitize(&f.provider.name)),
        sanitize(&f.rule),
        sanitize(&f.description),
        severity
    );
    let _ = writeln!(out, "    value        {}", sanitize(&f.secret.redacted()));
    let _ = writeln!(out, "    fingerprint  {}\n", sanitize(f.fingerprint()));
}

fn what_to_do(out: &mut String, outcome: &ScanOutcome, options: &HumanOptions, p: &Palette) {
    let _ = writeln!(out, "{}", p.bold("What to do now"));
    let _ = writeln!(out, "  1. Take it out of the code:");
    take_it_out(out, outcome, &options.situation);
    let _ = writeln!(
        out,
        "  2. {}",
        match options.situation {
            Situation::Pushed { .. } => "It has left your machine: treat it as compromised. Revoke it at the provider and rotate:",
            _ => "If it ever left this machine (pushed, pasted, shared), treat it as compromised: revoke it at the provider and rotate:",
        }
    );
    let mut providers = BTreeMap::new();
    for f in &outcome.findings {
        providers
            .entry(f.provider.name.clone())
            .or_insert_with(|| f.provider.clone());
    }
    for (name, provider) in providers {
        let r = &provider.remediation;
        let _ = writeln!(out, "     {}", p.cyan(&sanitize(&name)));
        let _ = writeln!(out, "       revoke  {}", sanitize(r.revoke.trim()));
        let _ = writeln!(out, "       rotate  {}", sanitize(r.rotate.trim()));
        if !r.docs.trim().is_empty() {
            let _ = writeln!(out, "       docs    {}", sanitize(r.docs.trim()));
        }
    }
    let mut fingerprints: Vec<String> = outcome
        .findings
        .iter()
        .map(|f| sanitize(f.fingerprint()))
        .collect();
    fingerprints.sort();
    fingerprints.dedup();
    let _ = writeln!(out, "  3. Not a secret? Mark the line with a `leakgate:allow` comment, or record the fingerprint, and stage the file:");
    for fp in fingerprints {
        let _ = writeln!(
            out,
            "       leakgate ignore {fp} --reason \"why this is not a secret\""
        );
    }
    let _ = writeln!(out, "       git add .leakgateignore");
    match &options.situation {
        Situation::Staged | Situation::CommitMessage => {
            let _ = writeln!(
                out,
                "  {}",
                p.dim("Bypass (recorded nowhere, use with care): git commit --no-verify, or SKIP=leakgate under the pre-commit framework.")
            );
        }
        Situation::LocalCommits { .. } => {
            let _ = writeln!(
                out,
                "  {}",
                p.dim("Bypass (use with care): git push --no-verify; the server hook may still reject the push.")
            );
        }
        Situation::Pushed {
            bypass: Some(option),
            ..
        } => {
            let _ = writeln!(
                out,
                "  If this is deliberate: git push -o {option}=\"<reason>\" (the reason is required and recorded)."
            );
        }
        Situation::Files | Situation::Pushed { bypass: None, .. } => {}
    }
    out.push('\n');
}

fn take_it_out(out: &mut String, outcome: &ScanOutcome, situation: &Situation) {
    match situation {
        Situation::Files => {
            let _ = writeln!(out, "       move the value to an environment variable or a secret store and read it from there.");
        }
        Situation::Staged => {
            let _ = writeln!(out, "       remove the value from the file, move it to an environment variable or a secret store,");
            let _ = writeln!(out, "       then stage the file again (git add <file>); or unstage it: git restore --staged <file>");
        }
        Situation::CommitMessage => {
            let _ = writeln!(out, "       edit the commit message so it no longer carries the value; the message was saved in .git/COMMIT_EDITMSG.");
        }
        Situation::LocalCommits { tips } | Situation::Pushed { tips, .. } => {
            let mut seen = HashSet::new();
            for f in &outcome.findings {
                let Some(c) = &f.commit else { continue };
                if !seen.insert(c.clone()) {
                    continue;
                }
                if tips.contains(c) {
                    let _ = writeln!(
                        out,
                        "       commit {} is the tip: fix the file, git add it, then git commit --amend",
                        short(c)
                    );
                } else {
                    let _ = writeln!(
                        out,
                        "       commit {} is older: git rebase -i {}^ , mark it `edit`, fix the file, git commit --amend, git rebase --continue",
                        short(c),
                        short(c)
                    );
                }
            }
            if matches!(situation, Situation::Pushed { .. }) {
                let _ = writeln!(out, "       then push again; move the value to an environment variable or a secret store.");
            } else {
                let _ = writeln!(out, "       move the value to an environment variable or a secret store before pushing again.");
            }
        }
    }
}

/// The last line: how much was scanned and skipped, so that "scanned nothing" never looks clean.
pub fn summary_line(outcome: &ScanOutcome, situation: &Situation) -> String {
    let unit = match situation {
        Situation::Files => ("file", "files"),
        Situation::CommitMessage => ("message", "messages"),
        _ => ("blob", "blobs"),
    };
    let scanned = if outcome.blobs == 0 {
        "scanned nothing (no added lines)".to_string()
    } else {
        format!(
            "scanned {} ({})",
            plural(outcome.blobs as usize, unit.0, unit.1),
            human_bytes(outcome.bytes)
        )
    };
    let skipped = if outcome.skipped.is_empty() {
        "skipped nothing".to_string()
    } else {
        let mut by_reason: BTreeMap<&str, usize> = BTreeMap::new();
        for s in &outcome.skipped {
            *by_reason.entry(s.reason.code()).or_default() += 1;
        }
        let parts: Vec<String> = by_reason.iter().map(|(r, n)| format!("{n} {r}")).collect();
        format!("skipped {} ({})", outcome.skipped.len(), parts.join(", "))
    };
    let result = if outcome.findings.is_empty() {
        if outcome.is_incomplete() {
            "scan incomplete"
        } else {
            "no secrets found"
        }
    } else {
        "secrets found"
    };
    let warned = match outcome.warnings.len() {
        0 => String::new(),
        n => format!("; {} below block_at", plural(n, "warning", "warnings")),
    };
    let suppressed = match outcome.suppressed.len() {
        0 => String::new(),
        n => format!(
            "; {} by allow markers, .leakgateignore or allow lists",
            plural(n, "secret suppressed", "secrets suppressed")
        ),
    };
    format!("leakgate: {result}; {scanned}; {skipped}{warned}{suppressed}")
}

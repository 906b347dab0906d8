//! The human report: where each secret is, what it is, and what to do now, in this situation.

use std::collections::{BTreeMap, HashSet};
use std::fmt::Write as _;

use owo_colors::{OwoColorize, Style};

use crate::finding::Finding;
use crate::outcome::{human_bytes, ScanOutcome};
use crate::report::sanitize::{sanitize, sanitize_bytes};
use crate::report::wrap;
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
    /// The pre-commit framework's bypass (`SKIP=<id> ...`) when the hook runs under it; never
    /// given on the server.
    pub framework_skip: Option<String>,
    /// Width to wrap to (the terminal's; [`wrap::DEFAULT_WIDTH`] in pipes).
    pub width: usize,
    /// List every finding in full, however many there are.
    pub verbose: bool,
}

impl HumanOptions {
    /// Options for `situation` without colour, wrapped to [`wrap::DEFAULT_WIDTH`].
    pub fn plain(situation: Situation) -> HumanOptions {
        HumanOptions {
            color: false,
            situation,
            quiet: false,
            framework_skip: None,
            width: wrap::DEFAULT_WIDTH,
            verbose: false,
        }
    }
}

/// Past this many findings, a report lists them one line each (`--verbose`: in full).
pub const COMPACT_AFTER: usize = 5;
/// At most this many one-line findings in the compact form; the rest are counted.
pub const COMPACT_LINES: usize = 20;

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
        let compact = !options.verbose && outcome.findings.len() > COMPACT_AFTER;
        let mut listed = 0;
        for (provider, findings) in by_provider(&outcome.findings) {
            let _ = writeln!(
                out,
                "{} {}",
                p.cyan(&sanitize(provider)),
                p.dim(&format!(
                    "({})",
                    plural(findings.len(), "secret", "secrets")
                ))
            );
            for f in findings {
                if !compact {
                    finding(&mut out, f, &p, options.width);
                } else if listed < COMPACT_LINES {
                    finding_line(&mut out, f, &p);
                }
                listed += 1;
            }
        }
        if compact {
            let more = outcome.findings.len().saturating_sub(COMPACT_LINES);
            let text = if more > 0 {
                format!("... and {more} more. --verbose lists every finding in full.")
            } else {
                "--verbose lists each finding in full.".to_string()
            };
            out.push_str(&p.dim(&wrap::hanging("  ", "  ", &text, options.width)));
        }
        what_to_do(&mut out, outcome, options, &p);
    }
    warnings(&mut out, outcome, &p, options.width);
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
fn warnings(out: &mut String, outcome: &ScanOutcome, p: &Palette, width: usize) {
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
    out.push_str(&p.dim(&wrap::hanging(
        "  ",
        "  ",
        "A real secret here must be taken out and rotated like any other. `block_at: low` in .leakgate.yaml makes these block.",
        width,
    )));
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

/// The findings grouped by provider, providers in the order of their first finding.
fn by_provider(findings: &[Finding]) -> Vec<(&str, Vec<&Finding>)> {
    let mut groups: Vec<(&str, Vec<&Finding>)> = Vec::new();
    for f in findings {
        match groups.iter_mut().find(|(name, _)| *name == f.provider.name) {
            Some((_, list)) => list.push(f),
            None => groups.push((&f.provider.name, vec![f])),
        }
    }
    groups
}

/// One finding on one line (the compact form): where, which rule, the redacted value.
fn finding_line(out: &mut String, f: &Finding, p: &Palette) {
    let commit = match &f.commit {
        Some(c) => format!("  commit {}", p.yellow(short(c))),
        None => String::new(),
    };
    let _ = writeln!(
        out,
        "  {}  {}  {}{}",
        p.bold(&format!(
            "{}:{}:{}",
            sanitize_bytes(&f.path),
            f.line,
            f.column
        )),
        sanitize(&f.rule),
        sanitize(&f.secret.redacted()),
        commit
    );
}

fn finding(out: &mut String, f: &Finding, p: &Palette, width: usize) {
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
    let rule = format!(
        "{} — {} ({})",
        sanitize(&f.rule),
        sanitize(&f.description),
        f.severity.as_str()
    );
    let rule = wrap::hanging("    ", "      ", &rule, width);
    out.push_str(&rule.replacen(
        &format!("({})\n", f.severity.as_str()),
        &format!("({severity})\n"),
        1,
    ));
    let _ = writeln!(out, "    value        {}", sanitize(&f.secret.redacted()));
    let _ = writeln!(out, "    fingerprint  {}\n", sanitize(f.fingerprint()));
}

/// The "What to do now" section, in the order of the remediation contract: 1. take it out,
/// 2. revoke and rotate it at the provider, 3. if it is not a secret, mark or ignore it; then how
/// to bypass, where that is possible.
fn what_to_do(out: &mut String, outcome: &ScanOutcome, options: &HumanOptions, p: &Palette) {
    let width = options.width;
    let _ = writeln!(out, "{}", p.bold("What to do now"));
    let _ = writeln!(out, "  1. Take it out of the code:");
    let mut steps = String::new();
    take_it_out(&mut steps, outcome, &options.situation);
    out.push_str(&wrap::wrap(&steps, width));
    revoke_and_rotate(out, outcome, &options.situation, width, p);
    not_a_secret(out, outcome, width);
    bypass(out, options, p);
    out.push('\n');
}

/// Writes `text` wrapped to `width`, its first line after `first`, the others after `rest`.
fn para(out: &mut String, first: &str, rest: &str, text: &str, width: usize) {
    out.push_str(&wrap::hanging(first, rest, text, width));
}

/// Step 2: treat it as compromised; each provider's revoke, rotate and docs.
fn revoke_and_rotate(
    out: &mut String,
    outcome: &ScanOutcome,
    situation: &Situation,
    width: usize,
    p: &Palette,
) {
    let step2 = match situation {
        Situation::Pushed { .. } => "It has left your machine: treat it as compromised. Revoke it at the provider and rotate:",
        _ => "If it ever left this machine (pushed, pasted, shared), treat it as compromised: revoke it at the provider and rotate:",
    };
    para(out, "  2. ", "     ", step2, width);
    let indent = "               ";
    for (name, findings) in by_provider(&outcome.findings) {
        let r = &findings[0].provider.remediation;
        let _ = writeln!(
            out,
            "     {} {}",
            p.cyan(&sanitize(name)),
            p.dim(&format!(
                "({})",
                plural(findings.len(), "secret", "secrets")
            ))
        );
        para(
            out,
            "       revoke  ",
            indent,
            &sanitize(r.revoke.trim()),
            width,
        );
        para(
            out,
            "       rotate  ",
            indent,
            &sanitize(r.rotate.trim()),
            width,
        );
        if !r.docs.trim().is_empty() {
            para(
                out,
                "       docs    ",
                indent,
                &sanitize(r.docs.trim()),
                width,
            );
        }
    }
}

/// Step 3: not a secret? The allow marker, or the `leakgate ignore` command for its
/// fingerprints.
fn not_a_secret(out: &mut String, outcome: &ScanOutcome, width: usize) {
    let mut fingerprints: Vec<String> = outcome
        .findings
        .iter()
        .map(|f| sanitize(f.fingerprint()))
        .collect();
    fingerprints.sort();
    fingerprints.dedup();
    let record = if fingerprints.len() == 1 {
        "record its fingerprint"
    } else {
        "record the fingerprints"
    };
    para(
        out,
        "  3. ",
        "     ",
        &format!("Not a secret? Mark the line with a `leakgate:allow` comment, or {record}, and stage the file:"),
        width,
    );
    let _ = writeln!(out, "       leakgate ignore \\");
    for fp in &fingerprints {
        let _ = writeln!(out, "         {fp} \\");
    }
    let _ = writeln!(out, "         --reason \"why this is not a secret\"");
    let _ = writeln!(out, "       git add .leakgateignore");
}

/// How to bypass in this situation, where that is possible (never on the server without the
/// policy's push option).
fn bypass(out: &mut String, options: &HumanOptions, p: &Palette) {
    let width = options.width;
    let skip = options
        .framework_skip
        .as_deref()
        .map(|s| format!(", or {s}"))
        .unwrap_or_default();
    match &options.situation {
        Situation::Staged | Situation::CommitMessage => {
            out.push_str(&p.dim(&wrap::hanging(
                "  ",
                "  ",
                &format!("Bypass (recorded nowhere, use with care): git commit --no-verify{skip}."),
                width,
            )));
        }
        Situation::LocalCommits { .. } => {
            out.push_str(&p.dim(&wrap::hanging(
                "  ",
                "  ",
                &format!("Bypass (use with care): git push --no-verify{skip}; the server hook may still reject the push."),
                width,
            )));
        }
        // On the server only the push option exists, and only for pushers the policy allows.
        Situation::Pushed {
            bypass: Some(option),
            ..
        } => {
            para(
                out,
                "  ",
                "  ",
                &format!("If this is deliberate: git push -o {option}=\"<reason>\" (the reason is required and recorded)."),
                width,
            );
        }
        Situation::Files | Situation::Pushed { bypass: None, .. } => {}
    }
}

/// A command that wrapping must not split (its spaces are non-breaking until wrapped).
fn nb(command: &str) -> String {
    command.replace(' ', wrap::NO_BREAK)
}

fn take_it_out(out: &mut String, outcome: &ScanOutcome, situation: &Situation) {
    match situation {
        Situation::Files => {
            let _ = writeln!(out, "       move the value to an environment variable or a secret store and read it from there.");
        }
        Situation::Staged => {
            let _ = writeln!(out, "       remove the value from the file, move it to an environment variable or a secret store, then stage the file again ({}); or unstage it: {}", nb("git add <file>"), nb("git restore --staged <file>"));
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
                        "       commit {} is the tip: fix the file, git add it, then {}",
                        short(c),
                        nb("git commit --amend")
                    );
                } else {
                    let _ = writeln!(
                        out,
                        "       commit {} is older: {} , mark it `edit`, fix the file, {}, {}",
                        short(c),
                        nb(&format!("git rebase -i {}^", short(c))),
                        nb("git commit --amend"),
                        nb("git rebase --continue")
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
            "; {} by allow markers, .leakgateignore, allow lists or the baseline",
            plural(n, "secret suppressed", "secrets suppressed")
        ),
    };
    format!("leakgate: {result}; {scanned}; {skipped}{warned}{suppressed}")
}

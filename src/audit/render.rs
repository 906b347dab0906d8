//! Audit reports: human, JSON, SARIF, CSV, Markdown and a self-contained HTML page. Only the
//! redacted value and the fingerprint of a secret appear; untrusted text (paths, author names,
//! ref names) is escaped for where it goes.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use owo_colors::OwoColorize as _;
use serde::Serialize;
use serde_json::{json, Value};

use crate::audit::{AuditReport, AuditSecret, AuditSkip, Occurrence, RepoSummary, TipRef};

/// Version of the audit JSON document (`docs/audit-report.schema.json`).
pub const JSON_VERSION: u32 = 1;

#[derive(Serialize)]
struct JsonAudit<'a> {
    version: u32,
    kind: &'static str,
    tool: JsonTool,
    repositories: &'a [RepoSummary],
    summary: JsonSummary,
    secrets: Vec<JsonSecret<'a>>,
    skipped: &'a [AuditSkip],
}

#[derive(Serialize)]
struct JsonTool {
    name: &'static str,
    version: &'static str,
}

#[derive(Serialize)]
struct JsonSummary {
    secrets: usize,
    still_present: usize,
    baselined: usize,
    suppressed: usize,
    by_provider: std::collections::BTreeMap<String, usize>,
    by_confidence: std::collections::BTreeMap<&'static str, usize>,
    oldest: Option<String>,
    newest: Option<String>,
}

#[derive(Serialize)]
struct JsonSecret<'a> {
    fingerprint: &'a str,
    rule: &'a str,
    description: &'a str,
    provider: &'a str,
    severity: &'static str,
    confidence: &'static str,
    secret: &'a str,
    first_seen: &'a Occurrence,
    last_seen: &'a Occurrence,
    still_present: bool,
    present_at: &'a [TipRef],
    occurrences: &'a [Occurrence],
    remediation: JsonRemediation<'a>,
}

#[derive(Serialize)]
struct JsonRemediation<'a> {
    revoke: &'a str,
    rotate: &'a str,
    docs: &'a str,
}

/// Secrets per provider, per confidence, still present, oldest and newest first seen.
fn summary(report: &AuditReport) -> JsonSummary {
    let mut by_provider = std::collections::BTreeMap::new();
    let mut by_confidence = std::collections::BTreeMap::new();
    for s in &report.secrets {
        *by_provider.entry(s.provider.name.clone()).or_insert(0) += 1;
        *by_confidence.entry(s.confidence.as_str()).or_insert(0) += 1;
    }
    let firsts = report.secrets.iter().map(|s| &s.first_seen().commit);
    JsonSummary {
        secrets: report.secrets.len(),
        still_present: report
            .secrets
            .iter()
            .filter(|s| !s.present_at.is_empty())
            .count(),
        baselined: report.baselined,
        suppressed: report.suppressed,
        by_provider,
        by_confidence,
        oldest: firsts
            .clone()
            .min_by_key(|c| c.time)
            .map(|c| c.date.clone()),
        newest: firsts.max_by_key(|c| c.time).map(|c| c.date.clone()),
    }
}

fn json_secret(s: &AuditSecret) -> JsonSecret<'_> {
    let r = &s.provider.remediation;
    JsonSecret {
        fingerprint: &s.fingerprint,
        rule: &s.rule,
        description: &s.description,
        provider: &s.provider.name,
        severity: s.severity.as_str(),
        confidence: s.confidence.as_str(),
        secret: &s.redacted,
        first_seen: s.first_seen(),
        last_seen: s.last_seen(),
        still_present: !s.present_at.is_empty(),
        present_at: &s.present_at,
        occurrences: &s.occurrences,
        remediation: JsonRemediation {
            revoke: r.revoke.trim(),
            rotate: r.rotate.trim(),
            docs: r.docs.trim(),
        },
    }
}

/// The JSON audit document (version [`JSON_VERSION`], newline-terminated).
pub fn json(report: &AuditReport) -> String {
    let doc = JsonAudit {
        version: JSON_VERSION,
        kind: "leakgate-audit",
        tool: JsonTool {
            name: "leakgate",
            version: env!("CARGO_PKG_VERSION"),
        },
        repositories: &report.repositories,
        summary: summary(report),
        secrets: report.secrets.iter().map(json_secret).collect(),
        skipped: &report.skipped,
    };
    let mut text = serde_json::to_string_pretty(&doc).unwrap_or_else(|e| {
        format!(
            "{{\"version\":{JSON_VERSION},\"error\":{:?}}}",
            e.to_string()
        )
    });
    text.push('\n');
    text
}

fn plural(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

fn short(id: &str) -> &str {
    id.get(..12).unwrap_or(id)
}

fn day(date: &str) -> &str {
    date.get(..10).unwrap_or(date)
}

/// `Name <email>`, escaped for a terminal.
fn who(c: &crate::audit::CommitInfo) -> String {
    sanitize(&format!("{} <{}>", c.author, c.email))
}

use crate::report::sanitize::sanitize;

/// Most occurrences listed per secret in the human and Markdown reports (JSON and HTML list all).
pub const LISTED_OCCURRENCES: usize = 10;

/// The summary's counts per confidence, keyed by name (as [`counts`] takes them).
fn by_confidence(s: &JsonSummary) -> BTreeMap<String, usize> {
    s.by_confidence
        .iter()
        .map(|(k, v)| (k.to_string(), *v))
        .collect()
}

fn counts(map: &std::collections::BTreeMap<String, usize>) -> String {
    let mut v: Vec<(&String, &usize)> = map.iter().collect();
    v.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
    v.iter()
        .map(|(k, n)| format!("{} {n}", sanitize(k)))
        .collect::<Vec<_>>()
        .join(", ")
}

fn scanned_line(report: &AuditReport) -> String {
    let commits: u64 = report.repositories.iter().map(|r| r.commits).sum();
    let bytes: u64 = report.repositories.iter().map(|r| r.bytes).sum();
    let what = match report.repositories.as_slice() {
        [one] => format!("{} ({})", sanitize(&one.name), sanitize(&one.revisions)),
        many => plural(many.len(), "repository", "repositories"),
    };
    format!(
        "{what}: {} read, {} of text scanned",
        plural(commits as usize, "commit", "commits"),
        crate::outcome::human_bytes(bytes)
    )
}

/// How the human report styles text: bold, red or dimmed when colour is on, plain when off.
#[derive(Clone, Copy)]
struct Style {
    color: bool,
}

impl Style {
    /// `t` in bold.
    fn bold(self, t: &str) -> String {
        if self.color {
            t.bold().to_string()
        } else {
            t.to_string()
        }
    }

    /// `t` in bold red.
    fn red(self, t: &str) -> String {
        if self.color {
            t.red().bold().to_string()
        } else {
            t.to_string()
        }
    }

    /// `t` dimmed.
    fn dim(self, t: &str) -> String {
        if self.color {
            t.dimmed().to_string()
        } else {
            t.to_string()
        }
    }
}

/// The human report as it is written: the audit, the style, several repositories, the text.
struct Human<'a> {
    report: &'a AuditReport,
    style: Style,
    multi: bool,
    out: String,
}

/// The human report: a summary first, then each secret (what, where, who, when, what to do), then
/// how to purge history, and what could not be scanned.
pub fn human(report: &AuditReport, color: bool) -> String {
    let mut h = Human {
        report,
        style: Style { color },
        multi: report.repositories.len() > 1,
        out: String::new(),
    };
    h.header();
    h.summary();
    for (i, secret) in report.secrets.iter().enumerate() {
        h.secret(i + 1, secret);
    }
    if !report.secrets.is_empty() {
        h.what_to_do();
    }
    if !report.skipped.is_empty() {
        h.skipped();
    }
    h.out
}

impl Human<'_> {
    /// The title and what was read.
    fn header(&mut self) {
        let out = &mut self.out;
        let _ = writeln!(out, "{}", self.style.bold("leakgate audit"));
        let _ = writeln!(out, "  {}", scanned_line(self.report));
        let _ = writeln!(out);
    }

    /// Counts of secrets (per provider, per confidence), dates, baselined and suppressed.
    fn summary(&mut self) {
        let (report, style, out) = (self.report, self.style, &mut self.out);
        let s = summary(report);
        let _ = writeln!(out, "{}", style.bold("Summary"));
        if report.secrets.is_empty() {
            let _ = writeln!(out, "  No secrets found.");
        } else {
            let _ = writeln!(
                out,
                "  Secrets:        {} ({} still present at a branch tip)",
                style.red(&s.secrets.to_string()),
                s.still_present
            );
            let _ = writeln!(out, "  By provider:    {}", counts(&s.by_provider));
            let _ = writeln!(out, "  By confidence:  {}", counts(&by_confidence(&s)));
            if let (Some(oldest), Some(newest)) = (&s.oldest, &s.newest) {
                let _ = writeln!(
                    out,
                    "  First added:    oldest {}, newest {}",
                    day(oldest),
                    day(newest)
                );
            }
        }
        if report.baselined > 0 {
            let _ = writeln!(
                out,
                "  Baseline:       {} already known, not listed",
                plural(report.baselined, "secret", "secrets")
            );
        }
        if report.suppressed > 0 {
            let _ = writeln!(
                out,
                "  Suppressed:     {} (allow markers, .leakgateignore, allowed values)",
                plural(report.suppressed, "finding", "findings")
            );
        }
    }

    /// Secret number `n`: what, value, where and when added, where it still is, what to do.
    fn secret(&mut self, n: usize, secret: &AuditSecret) {
        let (style, out) = (self.style, &mut self.out);
        let _ = writeln!(out);
        let _ = writeln!(
            out,
            "{} {} ({}) {}",
            style.bold(&format!("{n}.")),
            style.bold(&sanitize(&secret.description)),
            sanitize(&secret.provider.name),
            style.dim(&format!(
                "[{}; {} confidence, {} severity]",
                sanitize(&secret.rule),
                secret.confidence,
                secret.severity.as_str()
            ))
        );
        let _ = writeln!(out, "   Value:        {}", sanitize(&secret.redacted));
        let _ = writeln!(out, "   Fingerprint:  {}", secret.fingerprint);
        self.added("First added:", secret.first_seen());
        if secret.occurrences.len() > 1 {
            self.added("Last added:", secret.last_seen());
        }
        self.places(secret);
        self.now(secret);
        self.remediation(secret);
    }

    /// One `First added:` or `Last added:` line: date, author, commit and place.
    fn added(&mut self, label: &str, o: &Occurrence) {
        let _ = writeln!(
            self.out,
            "   {label:<14}{} by {} in {} at {}:{}",
            day(&o.commit.date),
            who(&o.commit),
            short(&o.commit.id),
            sanitize(&o.path),
            o.line
        );
    }

    /// How many places a secret was added in, and the first [`LISTED_OCCURRENCES`] of them.
    fn places(&mut self, secret: &AuditSecret) {
        let out = &mut self.out;
        let _ = writeln!(
            out,
            "   Added in:     {}",
            plural(secret.occurrences.len(), "place", "places")
        );
        for o in secret.occurrences.iter().take(LISTED_OCCURRENCES) {
            let repo = if self.multi {
                format!("{}: ", sanitize(&o.repository))
            } else {
                String::new()
            };
            let _ = writeln!(
                out,
                "     {repo}{}:{} ({} {} {})",
                sanitize(&o.path),
                o.line,
                short(&o.commit.id),
                day(&o.commit.date),
                sanitize(&o.commit.author)
            );
        }
        if secret.occurrences.len() > LISTED_OCCURRENCES {
            let _ = writeln!(
                out,
                "     ... and {} more (the JSON and HTML reports list all)",
                secret.occurrences.len() - LISTED_OCCURRENCES
            );
        }
    }

    /// The branch tips that still hold a secret, or that only history does.
    fn now(&mut self, secret: &AuditSecret) {
        if secret.present_at.is_empty() {
            let _ = writeln!(
                self.out,
                "   Now:          in history only (no branch tip holds it)"
            );
            return;
        }
        let tips: Vec<String> = secret
            .present_at
            .iter()
            .map(|t| {
                if self.multi {
                    sanitize(&format!("{}:{}", t.repository, t.branch))
                } else {
                    sanitize(&t.branch)
                }
            })
            .collect();
        let _ = writeln!(
            self.out,
            "   Now:          {} {}",
            self.style.red("still present at"),
            tips.join(", ")
        );
    }

    /// The provider's revoke, rotate and docs lines (those it has).
    fn remediation(&mut self, secret: &AuditSecret) {
        let r = &secret.provider.remediation;
        for (label, text) in [
            ("Revoke:", &r.revoke),
            ("Rotate:", &r.rotate),
            ("Docs:", &r.docs),
        ] {
            if !text.trim().is_empty() {
                let _ = writeln!(self.out, "   {label:<14}{}", sanitize(text.trim()));
            }
        }
    }

    /// The steps to take, in order.
    fn what_to_do(&mut self) {
        let _ = writeln!(self.out);
        let _ = writeln!(self.out, "{}", self.style.bold("What to do"));
        for line in advice() {
            let _ = writeln!(self.out, "  {line}");
        }
    }

    /// What could not be scanned whole: the first 20 entries, and how many more.
    fn skipped(&mut self) {
        let (report, out) = (self.report, &mut self.out);
        let _ = writeln!(out);
        let _ = writeln!(
            out,
            "{} {}",
            self.style.bold("Not scanned whole:"),
            plural(report.skipped.len(), "entry", "entries")
        );
        for s in report.skipped.iter().take(20) {
            let at = sanitize(s.commit.as_deref().map_or("", short));
            let _ = writeln!(
                out,
                "  {}{} {}: {}",
                if self.multi {
                    format!("{}: ", sanitize(&s.repository))
                } else {
                    String::new()
                },
                sanitize(&s.path),
                at,
                sanitize(&s.detail)
            );
        }
        if report.skipped.len() > 20 {
            let _ = writeln!(
                out,
                "  ... and {} more (see the JSON report)",
                report.skipped.len() - 20
            );
        }
    }
}

/// What to do with the secrets of an audit, in order.
pub fn advice() -> [&'static str; 4] {
    [
        "1. Revoke and rotate each secret at its provider (the steps above), whether or not a branch still holds it: whoever cloned, forked or mirrored the repository has its history.",
        "2. Where a branch still holds it, replace the value with a read from an environment variable or a secret store, and commit that.",
        "3. Purging history is optional and does not make a leaked key safe (rotation does): clones, forks, caches and CI logs keep the old commits. If wanted, list each value (take it from the commit and line above; leakgate never stores it) in a file as `literal:VALUE==>REMOVED`, run `git filter-repo --replace-text FILE` on a fresh mirror clone, force-push every branch and tag, and ask the host to drop cached views and pull-request refs.",
        "4. To adopt the hooks without fixing history first: `leakgate audit --write-baseline .leakgate-baseline`, commit it, and pass `--baseline .leakgate-baseline` to `leakgate scan` (or set `git config leakgate.baseline .leakgate-baseline` for the hooks); only new secrets are then reported.",
    ]
}

fn sarif_level(s: &AuditSecret) -> &'static str {
    use crate::rules::Severity;
    match s.severity {
        Severity::Critical | Severity::High => "error",
        Severity::Medium => "warning",
        Severity::Low => "note",
    }
}

fn sarif_location(o: &Occurrence) -> serde_json::Value {
    serde_json::json!({
        "physicalLocation": {
            // A URI reference, as in `leakgate scan`'s SARIF: the path percent-encoded.
            "artifactLocation": {"uri": crate::report::sarif::percent_encode_path(o.path.as_bytes())},
            "region": {"startLine": o.line.max(1), "startColumn": o.column.max(1)},
        },
        "message": {"text": format!("added in {} by {} on {} ({})", o.commit.id, o.commit.author, o.commit.date, o.repository)},
    })
}

/// SARIF 2.1.0: one result per secret, located where it was first added; every other place is a
/// related location; first/last seen and presence are result properties.
pub fn sarif(report: &AuditReport) -> String {
    let (rules, index) = sarif_rules(report);
    let results: Vec<Value> = report
        .secrets
        .iter()
        .map(|s| sarif_result(s, &index))
        .collect();
    let notifications: Vec<Value> = report.skipped.iter().map(sarif_notification).collect();
    let log = crate::report::sarif::log(rules, !report.has_errors(), notifications, results);
    let mut text = serde_json::to_string_pretty(&log).unwrap_or_else(|_| "{}".into());
    text.push('\n');
    text
}

/// One SARIF rule per rule id met (in order of first use), and each id's index among them.
fn sarif_rules(report: &AuditReport) -> (Vec<Value>, BTreeMap<&str, usize>) {
    let mut rules: Vec<Value> = Vec::new();
    let mut index: BTreeMap<&str, usize> = BTreeMap::new();
    for s in &report.secrets {
        if index.contains_key(s.rule.as_str()) {
            continue;
        }
        index.insert(&s.rule, rules.len());
        let r = &s.provider.remediation;
        let mut rule = json!({
            "id": s.rule,
            "name": s.rule,
            "shortDescription": {"text": s.description},
            "fullDescription": {"text": format!("{} ({})", s.description, s.provider.name)},
            "help": {"text": format!("Revoke: {}\nRotate: {}\nDocs: {}", r.revoke.trim(), r.rotate.trim(), r.docs.trim())},
            "defaultConfiguration": {"level": sarif_level(s)},
            "properties": {"tags": ["security", "secret", s.provider.name], "provider": s.provider.name},
        });
        if !r.docs.trim().is_empty() {
            rule["helpUri"] = json!(r.docs.trim());
        }
        rules.push(rule);
    }
    (rules, index)
}

/// The SARIF result of one secret: first place, the others related, dates and presence.
fn sarif_result(s: &AuditSecret, index: &BTreeMap<&str, usize>) -> Value {
    let first = s.first_seen();
    let last = s.last_seen();
    let related: Vec<Value> = s
        .occurrences
        .iter()
        .skip(1)
        .enumerate()
        .map(|(i, o)| {
            let mut l = sarif_location(o);
            l["id"] = json!(i + 1);
            l
        })
        .collect();
    let mut result = json!({
        "ruleId": s.rule,
        "ruleIndex": index.get(s.rule.as_str()).copied().unwrap_or(0),
        "level": sarif_level(s),
        "message": {"text": format!(
            "{} ({}) {}: added {} time(s) since {}; {}",
            s.description, s.provider.name, s.redacted, s.occurrences.len(), day(&first.commit.date),
            if s.present_at.is_empty() { "in history only" } else { "still present at a branch tip" }
        )},
        "locations": [sarif_location(first)],
        "partialFingerprints": {"leakgate/v2": s.fingerprint},
        "properties": {
            "confidence": s.confidence.as_str(),
            "secret": s.redacted,
            "firstSeen": first,
            "lastSeen": last,
            "stillPresent": !s.present_at.is_empty(),
            "presentAt": s.present_at,
            "occurrences": s.occurrences.len(),
        },
    });
    if !related.is_empty() {
        result["relatedLocations"] = json!(related);
    }
    result
}

/// A tool execution notification for what could not be scanned whole.
fn sarif_notification(s: &AuditSkip) -> Value {
    json!({
        "level": if s.is_error() { "error" } else { "note" },
        "message": {"text": format!("{}: not scanned whole: {}: {}", s.repository, s.path, s.detail)},
    })
}

/// One CSV field: quoted, quotes doubled, control characters escaped, and a leading character a
/// spreadsheet would run as a formula (`= + - @`, tab, CR) defused with a `'`.
pub fn csv_field(text: &str) -> String {
    let mut clean = sanitize(text);
    if clean.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        clean.insert(0, '\'');
    }
    format!("\"{}\"", clean.replace('"', "\"\""))
}

/// CSV, one row per secret (first and last seen, presence); a header row first.
pub fn csv(report: &AuditReport) -> String {
    let mut out = String::from(
        "fingerprint,provider,rule,description,confidence,severity,secret,first_seen_date,first_seen_commit,first_seen_author,first_seen_email,first_seen_repository,first_seen_path,first_seen_line,last_seen_date,last_seen_commit,last_seen_author,last_seen_path,last_seen_line,occurrences,still_present,present_at\r\n",
    );
    for s in &report.secrets {
        let first = s.first_seen();
        let last = s.last_seen();
        let tips: Vec<String> = s
            .present_at
            .iter()
            .map(|t| format!("{}:{}", t.repository, t.branch))
            .collect();
        let fields = [
            s.fingerprint.clone(),
            s.provider.name.clone(),
            s.rule.clone(),
            s.description.clone(),
            s.confidence.as_str().to_string(),
            s.severity.as_str().to_string(),
            s.redacted.clone(),
            first.commit.date.clone(),
            first.commit.id.clone(),
            first.commit.author.clone(),
            first.commit.email.clone(),
            first.repository.clone(),
            first.path.clone(),
            first.line.to_string(),
            last.commit.date.clone(),
            last.commit.id.clone(),
            last.commit.author.clone(),
            last.path.clone(),
            last.line.to_string(),
            s.occurrences.len().to_string(),
            (!s.present_at.is_empty()).to_string(),
            tips.join(" "),
        ];
        let row: Vec<String> = fields.iter().map(|f| csv_field(f)).collect();
        out.push_str(&row.join(","));
        out.push_str("\r\n");
    }
    out
}

/// Text made inert in Markdown: HTML-escaped, Markdown punctuation backslash-escaped, on one line.
pub fn md_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in sanitize(text).chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '\\' | '`' | '*' | '_' | '{' | '}' | '[' | ']' | '(' | ')' | '#' | '+' | '-' | '.'
            | '!' | '|' | '~' | '"' | '\'' => {
                out.push('\\');
                out.push(c);
            }
            c => out.push(c),
        }
    }
    out
}

/// Markdown: the summary, a table of secrets, then per secret its places and remediation.
pub fn markdown(report: &AuditReport) -> String {
    let mut out = String::from("# leakgate audit\n\n");
    md_summary(&mut out, report);
    if report.secrets.is_empty() {
        out.push_str("\nNo secrets found.\n");
        return out;
    }
    md_table(&mut out, report);
    for (i, sec) in report.secrets.iter().enumerate() {
        md_secret(&mut out, i + 1, sec);
    }
    let _ = writeln!(out, "\n## What to do\n");
    for line in advice() {
        let _ = writeln!(out, "{}\n", md_escape(line));
    }
    out
}

/// What was read, and the summary as a two-column table.
fn md_summary(out: &mut String, report: &AuditReport) {
    let s = summary(report);
    let _ = writeln!(out, "{}\n", md_escape(&scanned_line(report)));
    let _ = writeln!(out, "## Summary\n");
    let _ = writeln!(out, "| | |\n|---|---|");
    let _ = writeln!(out, "| Secrets | {} |", s.secrets);
    let _ = writeln!(
        out,
        "| Still present at a branch tip | {} |",
        s.still_present
    );
    let _ = writeln!(
        out,
        "| By provider | {} |",
        md_escape(&counts(&s.by_provider))
    );
    let _ = writeln!(
        out,
        "| By confidence | {} |",
        md_escape(&counts(&by_confidence(&s)))
    );
    if let (Some(o), Some(n)) = (&s.oldest, &s.newest) {
        let _ = writeln!(
            out,
            "| Oldest / newest first added | {} / {} |",
            md_escape(day(o)),
            md_escape(day(n))
        );
    }
    if report.baselined > 0 {
        let _ = writeln!(
            out,
            "| In the baseline (not listed) | {} |",
            report.baselined
        );
    }
}

/// The table of secrets, one row each.
fn md_table(out: &mut String, report: &AuditReport) {
    let _ = writeln!(out, "\n## Secrets\n");
    let _ = writeln!(out, "| # | Provider | Rule | Confidence | Value | First added | By | Where | Places | Still present |");
    let _ = writeln!(out, "|---|---|---|---|---|---|---|---|---|---|");
    for (i, sec) in report.secrets.iter().enumerate() {
        let f = sec.first_seen();
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {} | {} | {} | {} | {} | {} |",
            i + 1,
            md_escape(&sec.provider.name),
            md_escape(&sec.rule),
            sec.confidence,
            md_escape(&sec.redacted),
            md_escape(day(&f.commit.date)),
            md_escape(&f.commit.author),
            md_escape(&format!("{}:{}", f.path, f.line)),
            sec.occurrences.len(),
            if sec.present_at.is_empty() {
                "no"
            } else {
                "**yes**"
            }
        );
    }
}

/// Secret number `n`: fingerprint, value, presence, places and remediation.
fn md_secret(out: &mut String, n: usize, sec: &AuditSecret) {
    let _ = writeln!(
        out,
        "\n### {}\\. {} ({})\n",
        n,
        md_escape(&sec.description),
        md_escape(&sec.provider.name)
    );
    let _ = writeln!(out, "- Fingerprint: {}", md_escape(&sec.fingerprint));
    let _ = writeln!(out, "- Value (redacted): {}", md_escape(&sec.redacted));
    let now = if sec.present_at.is_empty() {
        "in history only".to_string()
    } else {
        let tips: Vec<String> = sec
            .present_at
            .iter()
            .map(|t| md_escape(&format!("{}:{}", t.repository, t.branch)))
            .collect();
        format!("still present at {}", tips.join(", "))
    };
    let _ = writeln!(out, "- Now: {now}");
    let _ = writeln!(out, "- Added in:");
    for o in sec.occurrences.iter().take(LISTED_OCCURRENCES) {
        let _ = writeln!(
            out,
            "  - {} {} by {} in {}",
            md_escape(&format!("{}:{}", o.path, o.line)),
            md_escape(day(&o.commit.date)),
            md_escape(&format!("{} <{}>", o.commit.author, o.commit.email)),
            md_escape(short(&o.commit.id))
        );
    }
    if sec.occurrences.len() > LISTED_OCCURRENCES {
        let _ = writeln!(
            out,
            "  - and {} more",
            sec.occurrences.len() - LISTED_OCCURRENCES
        );
    }
    let r = &sec.provider.remediation;
    let _ = writeln!(out, "- Revoke: {}", md_escape(r.revoke.trim()));
    let _ = writeln!(out, "- Rotate: {}", md_escape(r.rotate.trim()));
    let _ = writeln!(out, "- Docs: {}", md_escape(r.docs.trim()));
}

pub use crate::audit::html::html;

/// `scanned_line` as plain text (for the HTML page).
pub fn scanned_text(report: &AuditReport) -> String {
    scanned_line(report)
}

/// The summary as label/value pairs (for the HTML page).
pub fn summary_for_html(report: &AuditReport) -> Vec<(String, String)> {
    let s = summary(report);
    let conf = by_confidence(&s);
    let mut out = vec![
        ("Secrets".to_string(), s.secrets.to_string()),
        (
            "Still present at a branch tip".to_string(),
            s.still_present.to_string(),
        ),
        ("By provider".to_string(), counts(&s.by_provider)),
        ("By confidence".to_string(), counts(&conf)),
    ];
    if let (Some(o), Some(n)) = (&s.oldest, &s.newest) {
        out.push(("Oldest first added".to_string(), day(o).to_string()));
        out.push(("Newest first added".to_string(), day(n).to_string()));
    }
    if report.baselined > 0 {
        out.push((
            "In the baseline (not listed)".to_string(),
            report.baselined.to_string(),
        ));
    }
    out
}

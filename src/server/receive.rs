//! pre-receive: scan what a push adds, decide, tell the pusher, record.
//!
//! For every `<old> <new> <ref>` line: a deletion scans nothing; otherwise the commits reachable
//! from the new tips and from no existing ref are scanned against their parents (see
//! [`crate::git::commits`]), with commit messages and annotated tags' messages. Pushed objects
//! are read through [`super::quarantine`]. The policy decides on timeouts, errors and bypasses.

use std::collections::HashSet;
use std::time::{Duration, Instant};

use gix::hash::ObjectId;

use crate::config::{assemble_rules, parse_ignore_file, suppressions, RuleSetOptions, IGNORE_FILE};
use crate::git::changes::ChangeScanner;
use crate::git::commits::{
    new_commits, peel_pushed, ref_tips, scan_commits, scan_pushed_values, PushedValue,
};
use crate::git::objects::entry_at_path;
use crate::git::GitError;
use crate::outcome::{OnUnscanned, ScanOutcome};
use crate::report::human::{self, HumanOptions, Situation};
use crate::report::sanitize::sanitize;
use crate::scanner::Scanner;
use crate::server::audit::{
    self, keyed_fingerprint, AuditFinding, AuditRecord, AuditRef, AuditScanned, AuditSkipped,
};
use crate::server::policy::{OnFailure, Policy};
use crate::server::quarantine;

/// One line of pre-receive input.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefUpdate {
    /// Old id (all zeros: creation).
    pub old: String,
    /// New id (all zeros: deletion).
    pub new: String,
    /// Full ref name.
    pub name: String,
}

/// Parses git's pre-receive input.
pub fn parse_updates(input: &str) -> Vec<RefUpdate> {
    input
        .lines()
        .filter_map(|line| {
            let mut parts = line.splitn(3, ' ');
            Some(RefUpdate {
                old: parts.next()?.to_string(),
                new: parts.next()?.to_string(),
                name: parts.next()?.trim_end().to_string(),
            })
        })
        .collect()
}

fn is_null(hex: &str) -> bool {
    hex.bytes().all(|b| b == b'0')
}

/// Who pushes and what they asked for.
#[derive(Debug, Clone, Default)]
pub struct PushContext {
    /// The pusher, from what the hosting software sets (`GL_USERNAME`, `GITEA_PUSHER_NAME`,
    /// `GITHUB_USER_LOGIN`, `REMOTE_USER`), else the OS user.
    pub pusher: String,
    /// Push options (`git push -o`).
    pub push_options: Vec<String>,
    /// Repository path, for the audit log.
    pub repository: String,
}

impl PushContext {
    /// Reads the context from the environment git and the hosting software set.
    pub fn from_env(repository: String) -> PushContext {
        let var = |k: &str| std::env::var(k).ok().filter(|v| !v.is_empty());
        let pusher = var("GL_USERNAME")
            .or_else(|| var("GITEA_PUSHER_NAME"))
            .or_else(|| var("GITHUB_USER_LOGIN"))
            .or_else(|| var("REMOTE_USER"))
            .or_else(|| var("USER"))
            .or_else(|| var("LOGNAME"))
            .or_else(os_user)
            .unwrap_or_else(|| "unknown".into());
        let count: usize = var("GIT_PUSH_OPTION_COUNT")
            .and_then(|c| c.parse().ok())
            .unwrap_or(0);
        let push_options = (0..count)
            .filter_map(|i| std::env::var(format!("GIT_PUSH_OPTION_{i}")).ok())
            .collect();
        PushContext {
            pusher,
            push_options,
            repository,
        }
    }

    /// The bypass option's value: `None` when absent, `Some("")` when given without a reason.
    pub fn bypass_reason(&self, option: &str) -> Option<String> {
        self.push_options.iter().find_map(|o| {
            if o == option {
                Some(String::new())
            } else {
                o.strip_prefix(option)
                    .and_then(|rest| rest.strip_prefix('='))
                    .map(|r| r.trim().to_string())
            }
        })
    }
}

/// The name of the user this process runs as (from `/proc/self/status` and `/etc/passwd`).
fn os_user() -> Option<String> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let uid = status
        .lines()
        .find_map(|l| l.strip_prefix("Uid:"))?
        .split_whitespace()
        .next()?
        .to_string();
    let passwd = std::fs::read_to_string("/etc/passwd").ok()?;
    passwd
        .lines()
        .map(|l| l.split(':').collect::<Vec<_>>())
        .find(|f| f.len() > 2 && f[2] == uid)
        .map(|f| f[0].to_string())
        .or(Some(format!("uid {uid}")))
}

/// What the hook decided.
#[derive(Debug)]
pub struct ReceiveResult {
    /// Process exit code (0 accepts the push).
    pub exit_code: i32,
    /// What the pusher sees (stderr → `remote:` lines).
    pub message: String,
    /// The audit record.
    pub record: AuditRecord,
}

/// Why the scan did not finish.
enum Failure {
    Timeout(String),
    Error(String),
}

/// Runs the whole pre-receive decision.
pub fn receive(
    repo: &mut gix::Repository,
    policy: &Policy,
    updates: &[RefUpdate],
    ctx: &PushContext,
) -> ReceiveResult {
    let started = Instant::now();
    let deadline = started + Duration::from_millis(policy.time_budget_ms);
    let tips: HashSet<String> = updates
        .iter()
        .filter(|u| !is_null(&u.new))
        .map(|u| u.new.clone())
        .collect();
    let mut commits_scanned = 0;
    let (outcome, failure) = scan_push(repo, policy, updates, deadline, &mut commits_scanned);
    let mut record = AuditRecord {
        time: audit::now_rfc3339(),
        repository: ctx.repository.clone(),
        pusher: ctx.pusher.clone(),
        refs: updates
            .iter()
            .map(|u| AuditRef {
                name: u.name.clone(),
                old: u.old.clone(),
                new: u.new.clone(),
            })
            .collect(),
        decision: String::new(),
        findings: Vec::new(),
        skipped: outcome
            .skipped
            .iter()
            .map(|s| AuditSkipped {
                commit: s.commit.clone(),
                path: String::from_utf8_lossy(&s.path).into_owned(),
                reason: s.reason.code().to_string(),
                detail: s.reason.describe(),
            })
            .collect(),
        bypass_reason: None,
        detail: None,
        scanned: AuditScanned {
            commits: commits_scanned,
            blobs: outcome.blobs,
            bytes: outcome.bytes,
        },
    };
    let key = audit::load_or_create_key(&policy.fingerprint_key_file);
    record.findings = outcome
        .findings
        .iter()
        .map(|f| AuditFinding {
            commit: f.commit.clone(),
            path: String::from_utf8_lossy(&f.path).into_owned(),
            line: f.line,
            rule: f.rule.clone(),
            fingerprint: key
                .as_ref()
                .ok()
                .map(|k| keyed_fingerprint(k, &f.rule, f.secret.expose())),
        })
        .collect();
    if let Err(e) = &key {
        record.detail = Some(format!(
            "fingerprint key {}: {e}",
            policy.fingerprint_key_file.display()
        ));
    }
    let situation = Situation::Pushed {
        tips,
        bypass: policy
            .bypass
            .enabled
            .then(|| policy.bypass.push_option.clone()),
    };
    let report = human::render(
        &outcome,
        &HumanOptions {
            color: policy.color,
            situation,
            quiet: false,
        },
    );
    if !outcome.findings.is_empty() {
        // Found secrets always count, whether or not the scan finished.
        let mut report = report;
        if let Some(failure) = &failure {
            let (Failure::Timeout(d) | Failure::Error(d)) = failure;
            report.push_str(&format!(
                "leakgate: the scan also stopped early: {}\n",
                sanitize(d)
            ));
            record.detail = Some(d.clone());
        }
        return decide_with_findings(policy, ctx, &outcome, report, record);
    }
    if let Some(failure) = failure {
        return failed(policy, failure, record);
    }
    if outcome.has_errors() && policy.on_error == OnFailure::Reject {
        record.decision = "rejected-on-error".into();
        return ReceiveResult {
            exit_code: 2,
            message: format!(
                "{report}push rejected: part of the push could not be scanned (see above)\n"
            ),
            record,
        };
    }
    if outcome.has_unscanned() && policy.on_unscanned == OnUnscanned::Reject {
        return decide_unscanned(policy, ctx, report, record);
    }
    record.decision = if outcome.has_errors() {
        "accepted-on-error"
    } else {
        "accepted"
    }
    .into();
    ReceiveResult {
        exit_code: 0,
        message: report,
        record,
    }
}

/// Content over the size cap was not scanned whole and the policy says `on_unscanned: reject`:
/// rejected, unless a bypass with a reason is allowed.
fn decide_unscanned(
    policy: &Policy,
    ctx: &PushContext,
    report: String,
    mut record: AuditRecord,
) -> ReceiveResult {
    let option = &policy.bypass.push_option;
    let allowed = policy.bypass.enabled
        && (policy.bypass.users.is_empty() || policy.bypass.users.contains(&ctx.pusher));
    if let Some(reason) = ctx
        .bypass_reason(option)
        .filter(|r| allowed && !r.is_empty())
    {
        record.decision = "bypassed".into();
        record.bypass_reason = Some(reason.clone());
        return ReceiveResult {
            exit_code: 0,
            message: format!(
                "{report}leakgate: bypass accepted for {} (reason: {}); the content listed above was not scanned whole, and the bypass is recorded.\n",
                sanitize(&ctx.pusher),
                sanitize(&reason)
            ),
            record,
        };
    }
    record.decision = "rejected-on-unscanned".into();
    let bypass = if allowed {
        format!(
            " If you are sure it holds no secret: git push -o {option}=\"<reason>\" (recorded)."
        )
    } else {
        String::new()
    };
    ReceiveResult {
        exit_code: 2,
        message: format!(
            "{report}push rejected: content over the server's size cap ({} bytes) could not be scanned whole (see above).\n\
             Keep big generated files out of git (Git LFS), or ask the server admin about max_blob_bytes.{bypass}\n",
            policy.max_blob_bytes
        ),
        record,
    }
}

fn decide_with_findings(
    policy: &Policy,
    ctx: &PushContext,
    outcome: &ScanOutcome,
    report: String,
    mut record: AuditRecord,
) -> ReceiveResult {
    let option = &policy.bypass.push_option;
    let reject = |mut record: AuditRecord, note: Option<String>| {
        record.decision = "rejected".into();
        let mut message = report.clone();
        if let Some(note) = note {
            message.push_str(&note);
        }
        ReceiveResult {
            exit_code: 1,
            message,
            record,
        }
    };
    let Some(reason) = ctx.bypass_reason(option) else {
        return reject(record, None);
    };
    if !policy.bypass.enabled {
        return reject(
            record,
            Some("leakgate: bypass refused: the server policy does not allow bypassing.\n".into()),
        );
    }
    if !policy.bypass.users.is_empty() && !policy.bypass.users.contains(&ctx.pusher) {
        return reject(
            record,
            Some(format!(
                "leakgate: bypass refused: {} may not bypass this check.\n",
                sanitize(&ctx.pusher)
            )),
        );
    }
    if reason.is_empty() {
        return reject(
            record,
            Some(format!(
                "leakgate: bypass refused: a reason is required: git push -o {option}=\"<why this is safe>\"\n"
            )),
        );
    }
    record.decision = "bypassed".into();
    record.bypass_reason = Some(reason.clone());
    let mut message = format!(
        "leakgate: bypass accepted for {} (reason: {}); these {} secret(s) were let through and the bypass is recorded:\n",
        sanitize(&ctx.pusher),
        sanitize(&reason),
        outcome.findings.len()
    );
    for f in &outcome.findings {
        message.push_str(&format!(
            "  {} {}:{} {} · {} {}\n",
            f.commit
                .as_deref()
                .map(|c| &c[..c.len().min(12)])
                .unwrap_or("-"),
            crate::report::sanitize::sanitize_bytes(&f.path),
            f.line,
            sanitize(&f.provider.name),
            f.rule,
            sanitize(&f.secret.redacted())
        ));
    }
    message.push_str("leakgate: they have left your machine: revoke and rotate them:\n");
    let mut seen = HashSet::new();
    for f in &outcome.findings {
        if seen.insert(f.provider.name.clone()) {
            let r = &f.provider.remediation;
            message.push_str(&format!(
                "  {}: revoke: {}\n  {}: rotate: {}\n",
                sanitize(&f.provider.name),
                sanitize(r.revoke.trim()),
                sanitize(&f.provider.name),
                sanitize(r.rotate.trim())
            ));
        }
    }
    let _ = report;
    ReceiveResult {
        exit_code: 0,
        message,
        record,
    }
}

/// A scan that did not finish: the policy's `on_timeout` / `on_error` decides.
fn failed(policy: &Policy, failure: Failure, mut record: AuditRecord) -> ReceiveResult {
    let (what, rule, detail) = match failure {
        Failure::Timeout(d) => ("the time budget ran out", policy.on_timeout, d),
        Failure::Error(d) => ("the push could not be scanned", policy.on_error, d),
    };
    let kind = if what.starts_with("the time") {
        "timeout"
    } else {
        "error"
    };
    record.detail = Some(detail.clone());
    let (exit_code, verdict) = match rule {
        OnFailure::Reject => {
            record.decision = format!("rejected-on-{kind}");
            (2, "push rejected")
        }
        OnFailure::Accept => {
            record.decision = format!("accepted-on-{kind}");
            (0, "push accepted without a complete scan (server policy)")
        }
    };
    let advice = if kind == "timeout" {
        "Push fewer commits at a time, or ask the server admin about the time budget."
    } else {
        "Check the named commit and path (git fsck), then push again; the server admin can see the audit log."
    };
    ReceiveResult {
        exit_code,
        message: format!(
            "leakgate: {what}: {}\n{verdict}. {advice} This is recorded.\n",
            sanitize(&detail)
        ),
        record,
    }
}

/// Scans everything the push adds.
fn scan_push(
    repo: &mut gix::Repository,
    policy: &Policy,
    updates: &[RefUpdate],
    deadline: Instant,
    commits_scanned: &mut usize,
) -> (ScanOutcome, Option<Failure>) {
    let mut outcome = ScanOutcome::default();
    let failure = scan_push_into(
        repo,
        policy,
        updates,
        deadline,
        commits_scanned,
        &mut outcome,
    )
    .err();
    (outcome, failure)
}

/// [`scan_push`], filling `outcome` as it goes, so that what was found before a failure counts.
fn scan_push_into(
    repo: &mut gix::Repository,
    policy: &Policy,
    updates: &[RefUpdate],
    deadline: Instant,
    commits_scanned: &mut usize,
    outcome: &mut ScanOutcome,
) -> Result<(), Failure> {
    let error = |e: GitError| match e {
        GitError::Timeout { .. } => Failure::Timeout(e.to_string()),
        other => Failure::Error(other.to_string()),
    };
    let _view = quarantine::attach(repo).map_err(error)?;
    let repo = &*repo;
    // Existing refs are accepted history (pre-receive runs before any ref moves).
    let hidden = ref_tips(repo, "refs/").map_err(error)?;
    let mut tips: Vec<ObjectId> = Vec::new();
    let mut values: Vec<PushedValue> = Vec::new();
    for update in updates
        .iter()
        .filter(|u| !is_null(&u.new) && u.new != u.old)
    {
        let id = ObjectId::from_hex(update.new.as_bytes())
            .map_err(|e| Failure::Error(format!("bad object id {}: {e}", update.new)))?;
        let value = peel_pushed(repo, id, &update.name).map_err(error)?;
        tips.extend(value.commit);
        values.push(value);
    }
    let fingerprints = if policy.repository_files.ignore_file {
        pushed_ignore_fingerprints(repo, &tips)
    } else {
        HashSet::new()
    };
    let config = policy.as_scan_config();
    let config_error = |e: crate::config::ConfigError| Failure::Error(e.to_string());
    let (rules, _) = assemble_rules(&config, "server policy", &RuleSetOptions::default())
        .map_err(config_error)?;
    let mut allowed = suppressions(&config, "server policy", fingerprints).map_err(config_error)?;
    allowed.ignore_markers = !policy.repository_files.allow_markers;
    let scanner = Scanner::new(rules, allowed).map_err(|e| Failure::Error(e.to_string()))?;
    let commits = new_commits(repo, &tips, &hidden).map_err(error)?;
    let mut blobs = ChangeScanner::new(repo, &scanner, policy.max_blob_bytes);
    blobs.deadline = Some((deadline, policy.time_budget_ms));
    let result = scan_pushed_values(&mut blobs, &values)
        .and_then(|()| scan_commits(&mut blobs, &commits, true));
    *commits_scanned = blobs.commits_done();
    *outcome = blobs.outcome;
    result.map_err(error)
}

/// Fingerprints from the `.leakgateignore` of the pushed tips (when the policy honours it).
fn pushed_ignore_fingerprints(repo: &gix::Repository, tips: &[ObjectId]) -> HashSet<String> {
    let mut set = HashSet::new();
    for tip in tips {
        let Ok(commit) = repo.find_commit(*tip) else {
            continue;
        };
        let Ok(tree) = commit.tree_id() else { continue };
        let Ok(Some(entry)) = entry_at_path(repo, tree.detach(), IGNORE_FILE.as_bytes()) else {
            continue;
        };
        let Ok(blob) = repo.find_object(entry.id) else {
            continue;
        };
        if let Ok(parsed) = parse_ignore_file(IGNORE_FILE, &String::from_utf8_lossy(&blob.data)) {
            set.extend(parsed);
        }
    }
    set
}

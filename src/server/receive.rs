//! pre-receive: scan what a push adds, decide, tell the pusher, record.
//!
//! For every `<old> <new> <ref>` line: a deletion scans nothing; otherwise the commits reachable
//! from the new tips and from no existing ref are scanned against their parents (see
//! [`crate::git::commits`]), with commit messages and annotated tags' messages. Pushed objects
//! are read through [`super::quarantine`]. The policy decides on timeouts, errors and bypasses.

use std::collections::{HashMap, HashSet};
use std::time::{Duration, Instant};

use gix::hash::ObjectId;

use crate::added::AddedText;
use crate::config::{parse_ignore_file, suppressions, IGNORE_FILE};
use crate::exit::chain;
use crate::finding::{Finding, Redactor};
use crate::fingerprint::IgnoreSet;
use crate::git::changes::ChangeScanner;
use crate::git::commits::{peel_pushed, scan_commits, scan_pushed_values, PushedValue};
use crate::git::objects::entry_at_path;
use crate::git::walk::Existing;
use crate::git::GitError;
use crate::outcome::{ScanOutcome, SkipReason};
use crate::report::human::{self, HumanOptions, Situation};
use crate::report::sanitize::sanitize;
use crate::scanner::{Scanner, Suppressed, SuppressionKind};
use crate::server::audit::{
    self, keyed_fingerprint, AuditFinding, AuditNotHonoured, AuditRecord, AuditRef, AuditScanned,
    AuditSkipped, AuditSuppressed,
};
use crate::server::decision::{
    after_audit, decide, BypassRefusal, BypassRequest, Decision, Facts, Key, Rules, Stop,
};
use crate::server::policy::Policy;
use crate::server::policy_scanner::PolicyScanner;
use crate::server::quarantine;

pub use crate::git::ref_update::RefUpdate;

/// Parses git's pre-receive input (the shared model of [`crate::git::ref_update`]); a malformed
/// line is an error, and the push is refused.
pub fn parse_updates(input: &str) -> Result<Vec<RefUpdate>, crate::git::ref_update::ParseError> {
    crate::git::ref_update::parse_pre_receive(input)
}

/// An id as the audit line writes it: hex, or git's all-zero id for "no object".
fn id_text(id: Option<ObjectId>) -> String {
    id.map_or_else(|| "0".repeat(40), |id| id.to_string())
}

/// Longest bypass reason kept (characters); longer ones are cut.
pub const MAX_REASON_CHARS: usize = 500;

/// Variables that hosting software sets to the pusher; recorded as the *claimed* pusher when the
/// policy does not name the one to trust (`pusher_variable`).
pub const PUSHER_VARIABLES: [&str; 4] = [
    "GL_USERNAME",
    "GITEA_PUSHER_NAME",
    "GITHUB_USER_LOGIN",
    "REMOTE_USER",
];

/// Who pushes and what they asked for.
#[derive(Debug, Clone, Default)]
pub struct PushContext {
    /// The pusher: the policy's `pusher_variable` when set (the hosting software's authenticated
    /// user), else the OS user the hook runs as.
    pub pusher: String,
    /// What the other hosting variables claim, when they name someone else (recorded, never
    /// trusted).
    pub claimed_pusher: Option<String>,
    /// Push options (`git push -o`).
    pub push_options: Vec<String>,
    /// Repository path, for the audit log.
    pub repository: String,
}

impl PushContext {
    /// Reads the context from the environment git and the hosting software set; only
    /// `pusher_variable` may name the pusher.
    pub fn from_env(repository: String, pusher_variable: Option<&str>) -> PushContext {
        let var = |k: &str| std::env::var(k).ok().filter(|v| !v.is_empty());
        let pusher = pusher_variable
            .and_then(var)
            .or_else(os_user)
            .unwrap_or_else(|| "unknown".into());
        let claimed_pusher = PUSHER_VARIABLES
            .iter()
            .filter(|k| Some(**k) != pusher_variable)
            .find_map(|k| var(k))
            .filter(|c| *c != pusher);
        let count: usize = var("GIT_PUSH_OPTION_COUNT")
            .and_then(|c| c.parse().ok())
            .unwrap_or(0);
        let push_options = (0..count)
            .filter_map(|i| std::env::var(format!("GIT_PUSH_OPTION_{i}")).ok())
            .collect();
        PushContext {
            pusher,
            claimed_pusher,
            push_options,
            repository,
        }
    }

    /// The bypass option's reason: `None` when the option is absent, `Some("")` when it is given
    /// only without a reason. The first option with a reason wins; the reason is trimmed and cut
    /// at [`MAX_REASON_CHARS`]. A reason without a visible letter or digit (spaces, zero-width or
    /// control characters only) is no reason.
    pub fn bypass_reason(&self, option: &str) -> Option<String> {
        self.raw_bypass_reason(option)
            .map(|r| r.chars().take(MAX_REASON_CHARS).collect())
    }

    /// [`PushContext::bypass_reason`] before it is cut (for the scan: a secret that straddles
    /// the cut is found whole).
    pub fn raw_bypass_reason(&self, option: &str) -> Option<String> {
        let mut given = false;
        for o in &self.push_options {
            let Some(rest) = o.strip_prefix(option) else {
                continue;
            };
            let reason = match rest.strip_prefix('=') {
                Some(reason) => reason.trim(),
                None if rest.is_empty() => "",
                None => continue, // another option that starts with the same letters
            };
            given = true;
            if reason.chars().any(char::is_alphanumeric) {
                return Some(reason.to_string());
            }
        }
        given.then(String::new)
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

/// How the policy judges the pusher's bypass request, given its `reason` (as
/// [`PushContext::bypass_reason`] gives it, with any secret in it redacted) and whether the reason
/// holds a secret (a bypass cannot carry one into the log).
pub fn judge_bypass(
    policy: &Policy,
    ctx: &PushContext,
    reason: Option<String>,
    reason_holds_secret: bool,
) -> BypassRequest {
    let Some(reason) = reason else {
        return BypassRequest::None;
    };
    if !policy.bypass.enabled {
        BypassRequest::Refused(BypassRefusal::Disabled)
    } else if !may_bypass(policy, ctx) {
        BypassRequest::Refused(BypassRefusal::NotAllowedForPusher)
    } else if reason_holds_secret {
        BypassRequest::Refused(BypassRefusal::SecretInReason)
    } else if !reason.chars().any(char::is_alphanumeric) {
        BypassRequest::Refused(BypassRefusal::NoReason)
    } else {
        BypassRequest::Granted(reason)
    }
}

/// Whether this pusher may bypass at all under the policy. Pushed suppressions (allow markers and
/// `.leakgateignore` fingerprints) count only for such pushers: silencing a finding is a bypass.
pub fn may_bypass(policy: &Policy, ctx: &PushContext) -> bool {
    policy.bypass.enabled
        && (policy.bypass.users.is_empty() || policy.bypass.users.contains(&ctx.pusher))
}

/// The decision rules of a policy.
pub fn rules_of(policy: &Policy) -> Rules {
    Rules {
        on_timeout: policy.on_timeout,
        on_error: policy.on_error,
        on_unscanned: policy.on_unscanned,
        on_audit_failure: policy.on_audit_failure,
    }
}

/// What the scan and the decision produced, before the audit line is written.
#[derive(Debug)]
pub struct ReceiveResult {
    /// The decision (before the audit write).
    pub decision: Decision,
    /// The audit record (its `decision` is [`ReceiveResult::decision`]).
    pub record: AuditRecord,
    /// What the scan found and skipped.
    pub outcome: ScanOutcome,
    /// The facts the decision was made from.
    pub facts: Facts,
    /// Why the scan stopped early, when it did.
    pub stopped: Option<String>,
    /// Commits scanned, and commits the push brought.
    pub commits: (usize, usize),
    /// Pushed suppressions that were not honoured: their findings count as findings.
    pub not_honoured: Vec<NotHonoured>,
    /// Why the fingerprint key cannot be used, when it cannot (for the server's log, never the
    /// pusher).
    pub key_error: Option<String>,
}

/// Why a pushed suppression was not honoured.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NotHonouredWhy {
    /// The pusher may not bypass under the policy, so their own suppressions do not count.
    PusherMayNotBypass,
    /// The `.leakgateignore` that lists it is not at the tip of every ref that brings the
    /// finding's commit (an ignore file on another branch of the same push, say).
    NotInItsRefsIgnoreFile,
}

impl NotHonouredWhy {
    /// The audit log's name for it.
    pub fn code(self) -> &'static str {
        match self {
            NotHonouredWhy::PusherMayNotBypass => "pusher-may-not-bypass",
            NotHonouredWhy::NotInItsRefsIgnoreFile => "not-in-its-refs-ignore-file",
        }
    }
}

/// A pushed suppression that was not honoured (its finding counts as a finding).
#[derive(Debug, Clone)]
pub struct NotHonoured {
    /// The suppression and its finding.
    pub suppressed: Suppressed,
    /// Why it was not honoured.
    pub why: NotHonouredWhy,
}

/// Why the scan did not finish.
enum Failure {
    /// The time budget ran out.
    Timeout(GitError),
    /// Something could not be read or built.
    Error(Box<dyn std::error::Error + Send + Sync>),
}

/// Scans the push and decides (see [`crate::server::decision`]); the caller writes the audit
/// line, then calls [`conclude`].
///
/// The steps: scan what the pusher wrote besides content (ref names, the bypass reason), scan the
/// pushed content, count the pusher's text's findings, redact every secret out of paths and
/// messages, gather the facts and decide, fill the audit record.
pub fn receive(
    repo: &mut gix::Repository,
    policy: &Policy,
    updates: &[RefUpdate],
    ctx: &PushContext,
) -> ReceiveResult {
    let started = Instant::now();
    let deadline = started + Duration::from_millis(policy.time_budget_ms);
    let mut commits = (0, 0);
    let mut not_honoured = Vec::new();
    let scope = Scope {
        policy,
        updates,
        deadline,
        honour_pushed: may_bypass(policy, ctx),
    };
    let mut scanner = PolicyScanner::start(policy);
    let (mut outcome, failure) =
        scan_push(repo, &scope, &mut scanner, &mut commits, &mut not_honoured);
    let texts = PusherTexts::scan(policy, ctx, updates, scanner.take().ok());
    texts.count_in(&mut outcome, updates, policy.block_at);
    let redactor = Redactor::new(
        outcome
            .findings
            .iter()
            .chain(&outcome.warnings)
            .chain(outcome.suppressed.iter().map(|s| &s.finding))
            .chain(texts.names_found.iter().map(|(_, f)| f))
            .chain(&texts.reason_found)
            .map(|f| f.secret.expose()),
    );
    redact_paths(&redactor, &mut outcome, &mut not_honoured);
    let (stop, stopped) = match failure {
        None => (Stop::Complete, None),
        Some(Failure::Timeout(e)) => (Stop::Timeout, Some(redactor.text(&chain(&e)))),
        Some(Failure::Error(e)) => (Stop::Error, Some(redactor.text(&chain(&*e)))),
    };
    let key = audit::load_or_create_key(&policy.fingerprint_key_file);
    let facts = push_facts(policy, ctx, &outcome, &texts, &redactor, stop, key.is_ok());
    let decision = decide(&facts, &rules_of(policy));
    let mut record = base_record(ctx, &redact_updates(&redactor, updates));
    record.decision = decision.as_str().to_string();
    record.scanned = AuditScanned {
        commits: commits.0,
        blobs: outcome.blobs,
        bytes: outcome.bytes,
    };
    record.detail = stopped.clone();
    if let BypassRequest::Granted(reason) = &facts.bypass {
        if decision == Decision::Bypassed {
            record.bypass_reason = Some(sanitize(reason));
        }
    }
    record_findings(
        &mut record,
        &outcome,
        &not_honoured,
        &redactor,
        key.as_deref().ok(),
    );
    let key_error = key.as_ref().err().map(|e| chain(e));
    if let Some(note) = &key_error {
        record.detail = Some(match record.detail.take() {
            Some(d) => format!("{d}; {note}"),
            None => note.clone(),
        });
    }
    ReceiveResult {
        decision,
        record,
        outcome,
        facts,
        stopped,
        commits,
        not_honoured,
        key_error,
    }
}

/// What the pusher wrote besides content, and what the policy's rules find in it: ref names and
/// the bypass reason are scanned as units of their own.
struct PusherTexts {
    /// The bypass reason as given, when one was.
    raw_reason: Option<String>,
    /// Findings in the bypass reason.
    reason_found: Vec<Finding>,
    /// Findings in ref names, with the index of their update.
    names_found: Vec<(usize, Finding)>,
}

impl PusherTexts {
    /// Scans the ref names of `updates` and the bypass reason with the policy's `scanner` (none
    /// when it could not be built: the content scan has then failed, and the push is refused).
    fn scan(
        policy: &Policy,
        ctx: &PushContext,
        updates: &[RefUpdate],
        scanner: Option<Scanner>,
    ) -> PusherTexts {
        let texts = scanner.and_then(|s| text_scanner(policy, s));
        let raw_reason = ctx.raw_bypass_reason(&policy.bypass.push_option);
        let reason_found = match (&texts, &raw_reason) {
            (Some(scanner), Some(reason)) => scan_text(
                scanner,
                &format!("(push option {})", policy.bypass.push_option),
                reason,
            ),
            _ => Vec::new(),
        };
        let names_found: Vec<(usize, Finding)> = match &texts {
            Some(scanner) => updates
                .iter()
                .enumerate()
                .flat_map(|(i, u)| {
                    scan_text(scanner, REF_NAME_PATH, &u.name)
                        .into_iter()
                        .map(move |f| (i, f))
                })
                .collect(),
            None => Vec::new(),
        };
        PusherTexts {
            raw_reason,
            reason_found,
            names_found,
        }
    }

    /// Adds the findings to `outcome`: a secret in the name of a pushed ref counts even when the
    /// scan stopped before that ref (a deleted ref's name is only redacted); one in the bypass
    /// reason counts as well. Below `block_at` they are warnings.
    fn count_in(
        &self,
        outcome: &mut ScanOutcome,
        updates: &[RefUpdate],
        block_at: crate::rules::Confidence,
    ) {
        let mut late: Vec<Finding> = self
            .names_found
            .iter()
            .filter(|(i, f)| updates[*i].brings_new_value() && !already_found(outcome, f))
            .map(|(_, f)| f.clone())
            .collect();
        late.extend(self.reason_found.iter().cloned());
        for f in late {
            if f.confidence >= block_at {
                outcome.findings.push(f);
            } else {
                outcome.warnings.push(f);
            }
        }
    }
}

/// The facts of the push that [`decide`] judges.
fn push_facts(
    policy: &Policy,
    ctx: &PushContext,
    outcome: &ScanOutcome,
    texts: &PusherTexts,
    redactor: &Redactor,
    stop: Stop,
    key_usable: bool,
) -> Facts {
    let allowed_paths = outcome
        .skipped
        .iter()
        .filter(|s| s.reason == SkipReason::AllowedPath)
        .count();
    let reason = texts.raw_reason.as_ref().map(|r| {
        redactor
            .text(r)
            .chars()
            .take(MAX_REASON_CHARS)
            .collect::<String>()
    });
    let reason_holds_secret = texts
        .reason_found
        .iter()
        .any(|f| f.confidence >= policy.block_at);
    Facts {
        findings: outcome.findings.len(),
        stop,
        unreadable: outcome.has_errors(),
        unscanned: outcome.has_unscanned(),
        suppressed: outcome.suppressed.len() + allowed_paths,
        bypass: judge_bypass(policy, ctx, reason, reason_holds_secret),
        fingerprints: outcome.findings.len() + outcome.warnings.len() + outcome.suppressed.len(),
        key: if key_usable {
            Key::Usable
        } else {
            Key::Unusable
        },
    }
}

/// Fills the findings, warnings, suppressions and skips of the audit record; fingerprints are
/// keyed with `key` (none without a usable key).
fn record_findings(
    record: &mut AuditRecord,
    outcome: &ScanOutcome,
    not_honoured: &[NotHonoured],
    redactor: &Redactor,
    key: Option<&[u8]>,
) {
    let audit_finding = |f: &Finding| AuditFinding {
        commit: f.commit.clone(),
        path: String::from_utf8_lossy(&f.path).into_owned(),
        line: f.line,
        rule: f.rule.clone(),
        fingerprint: key.map(|k| keyed_fingerprint(k, &f.rule, f.secret.expose())),
    };
    record.findings = outcome.findings.iter().map(audit_finding).collect();
    record.warnings = outcome.warnings.iter().map(audit_finding).collect();
    record.suppressed = outcome
        .suppressed
        .iter()
        .map(|s| AuditSuppressed {
            kind: s.kind.code().to_string(),
            finding: audit_finding(&s.finding),
        })
        .collect();
    record.suppressions_not_honoured = not_honoured
        .iter()
        .map(|n| AuditNotHonoured {
            kind: n.suppressed.kind.code().to_string(),
            why: n.why.code().to_string(),
            finding: audit_finding(&n.suppressed.finding),
        })
        .collect();
    record.skipped = outcome
        .skipped
        .iter()
        .map(|s| AuditSkipped {
            commit: s.commit.clone(),
            path: String::from_utf8_lossy(&s.path).into_owned(),
            reason: s.reason.code().to_string(),
            detail: redactor.text(&s.reason.describe()),
        })
        .collect();
}

/// The path shown for a secret in a pushed ref name (as the scan of pushed values shows it).
const REF_NAME_PATH: &str = "(pushed ref name)";

/// The policy's scanner for text the pusher wrote besides content (ref names, the bypass
/// reason): the policy's allowed values; no marker or ignore file can silence it.
fn text_scanner(policy: &Policy, scanner: Scanner) -> Option<Scanner> {
    let config = policy.as_scan_config();
    let mut allowed = suppressions(&config, "server policy", IgnoreSet::default()).ok()?;
    allowed.ignore_markers = true;
    Some(scanner.with_suppressions(allowed))
}

/// The secrets in one piece of text, shown at `label`.
fn scan_text(scanner: &Scanner, label: &str, text: &str) -> Vec<Finding> {
    let unit = AddedText::whole(label.as_bytes().to_vec(), text.as_bytes().to_vec());
    scanner
        .scan_all(&unit)
        .map(|scan| scan.findings)
        .unwrap_or_default()
}

/// Whether the scan already holds this secret outside any commit (a ref name it reached).
fn already_found(outcome: &ScanOutcome, f: &Finding) -> bool {
    outcome
        .findings
        .iter()
        .chain(&outcome.warnings)
        .chain(outcome.suppressed.iter().map(|s| &s.finding))
        .any(|g| g.commit.is_none() && g.rule == f.rule && g.secret == f.secret)
}

/// Redacts known secrets inside the paths of everything the scan produced (a path can name a
/// ref, and a ref name can hold a secret).
fn redact_paths(redactor: &Redactor, outcome: &mut ScanOutcome, not_honoured: &mut [NotHonoured]) {
    if redactor.is_empty() {
        return;
    }
    let findings = outcome
        .findings
        .iter_mut()
        .chain(outcome.warnings.iter_mut())
        .chain(outcome.suppressed.iter_mut().map(|s| &mut s.finding))
        .chain(not_honoured.iter_mut().map(|n| &mut n.suppressed.finding));
    for f in findings {
        f.path = redactor.bytes(&f.path);
    }
    for s in &mut outcome.skipped {
        s.path = redactor.bytes(&s.path);
    }
}

/// The ref updates with known secrets in their names redacted.
fn redact_updates(redactor: &Redactor, updates: &[RefUpdate]) -> Vec<RefUpdate> {
    updates
        .iter()
        .map(|u| RefUpdate {
            name: redactor.text(&u.name),
            ..u.clone()
        })
        .collect()
}

/// The ref updates with any secret in their names redacted, for a push refused before its scan
/// (with `detail` redacted alike).
pub fn redact_before_scan(
    policy: &Policy,
    updates: &[RefUpdate],
    detail: &str,
) -> (Vec<RefUpdate>, String) {
    let built = PolicyScanner::start(policy).take().ok();
    let Some(scanner) = built.and_then(|s| text_scanner(policy, s)) else {
        return (updates.to_vec(), detail.to_string());
    };
    let found: Vec<Finding> = updates
        .iter()
        .flat_map(|u| scan_text(&scanner, REF_NAME_PATH, &u.name))
        .collect();
    let redactor = Redactor::new(found.iter().map(|f| f.secret.expose()));
    (redact_updates(&redactor, updates), redactor.text(detail))
}

/// An audit record for `ctx` and `updates` with nothing decided yet.
pub fn base_record(ctx: &PushContext, updates: &[RefUpdate]) -> AuditRecord {
    AuditRecord {
        time: audit::now_rfc3339(),
        repository: ctx.repository.clone(),
        pusher: ctx.pusher.clone(),
        claimed_pusher: ctx.claimed_pusher.clone(),
        refs: updates
            .iter()
            .map(|u| AuditRef {
                name: u.name.clone(),
                old: id_text(u.old),
                new: id_text(u.new),
            })
            .collect(),
        decision: String::new(),
        findings: Vec::new(),
        warnings: Vec::new(),
        suppressed: Vec::new(),
        suppressions_not_honoured: Vec::new(),
        skipped: Vec::new(),
        bypass_reason: None,
        detail: None,
        scanned: AuditScanned::default(),
    }
}

/// The final decision once the audit line was written or not, and what the pusher is told.
pub fn conclude(
    result: &ReceiveResult,
    policy: &Policy,
    ctx: &PushContext,
    recorded: bool,
) -> (Decision, String) {
    let decision = after_audit(result.decision, recorded, &rules_of(policy));
    (decision, pusher_message(decision, result, policy, ctx))
}

/// What the pusher sees for `decision`: the report of what was found, why the scan stopped early
/// and why a bypass was refused (when so), the decision's own words, and notes on pushed
/// suppressions that were not honoured.
fn pusher_message(
    decision: Decision,
    result: &ReceiveResult,
    policy: &Policy,
    ctx: &PushContext,
) -> String {
    let offer_bypass = may_bypass(policy, ctx);
    let option = &policy.bypass.push_option;
    let report = || pushed_report(result, policy, offer_bypass);
    let left = || stopped_early(result);
    let refusal = bypass_refusal(&result.facts.bypass, ctx, option);
    let bypass_hint = if offer_bypass {
        format!(
            " If you are sure it holds no secret: git push -o {option}=\"<reason>\" (recorded)."
        )
    } else {
        String::new()
    };
    let notes = not_honoured_notes(result, ctx);
    let message = match decision {
        Decision::Accepted | Decision::AcceptedWithUnscanned => report(),
        Decision::AcceptedWithSuppressions => format!(
            "{}leakgate: {} suppressed secret(s) or allowed path(s) were honoured; they are recorded in the audit log.\n",
            report(),
            result.facts.suppressed
        ),
        Decision::Rejected => format!("{}{}{refusal}", report(), left()),
        Decision::Bypassed => bypassed_message(result, ctx),
        Decision::AcceptedOnTimeout | Decision::AcceptedOnError => format!(
            "{}{}leakgate: push accepted without a complete scan (server policy). This is recorded.\n",
            report(),
            left()
        ),
        Decision::RejectedOnTimeout => format!(
            "{}{}{refusal}leakgate: push rejected: the time budget ran out before the push was scanned. Push fewer commits at a time, or ask the server admin about the time budget.{bypass_hint}\n",
            report(),
            left()
        ),
        Decision::RejectedOnError => format!(
            "{}{}{refusal}leakgate: push rejected: part of the push could not be scanned. Check the named commit and path (git fsck), then push again; the server admin can see the audit log.\n",
            report(),
            left()
        ),
        Decision::RejectedOnUnscanned => format!(
            "{}{refusal}leakgate: push rejected: content over the server's size cap ({} bytes) could not be scanned whole (see above).\n\
             Keep big generated files out of git (Git LFS), or ask the server admin about max_blob_bytes.{bypass_hint}\n",
            report(),
            policy.max_blob_bytes
        ),
        Decision::RejectedOnAuditFailure => {
            "leakgate: push rejected: the server could not record this push in its audit log. Nothing is wrong with your push; ask the server admin (the details are in the server's log).\n".to_string()
        }
        Decision::RejectedBeforeScan => "leakgate: push rejected before it could be scanned.\n".to_string(),
        Decision::RejectedOnKeyFailure => format!(
            "{}leakgate: push rejected: the server cannot record what it found in its audit log (a problem with the server's setup). Ask the server admin (the details are in the server's log); any secret listed above must be taken out in any case.\n",
            report()
        ),
    };
    match decision {
        Decision::RejectedOnAuditFailure | Decision::RejectedBeforeScan => message,
        _ => message + &notes,
    }
}

/// The human report of the push's findings, as the pusher sees it through `remote:` lines.
fn pushed_report(result: &ReceiveResult, policy: &Policy, offer_bypass: bool) -> String {
    human::render(
        &result.outcome,
        &HumanOptions {
            color: policy.color,
            situation: Situation::Pushed {
                tips: result
                    .record
                    .refs
                    .iter()
                    .filter(|r| matches!(crate::git::ref_update::parse_id(&r.new), Ok(Some(_))))
                    .map(|r| r.new.clone())
                    .collect(),
                bypass: offer_bypass.then(|| policy.bypass.push_option.clone()),
            },
            quiet: false,
            framework_skip: None,
            // git prefixes each line with "remote: ".
            width: crate::report::wrap::DEFAULT_WIDTH - "remote: ".len(),
            verbose: false,
        },
    )
}

/// How far the scan got when it stopped early, and why; empty when it finished.
fn stopped_early(result: &ReceiveResult) -> String {
    let (done, total) = result.commits;
    match &result.stopped {
        Some(d) => format!(
            "leakgate: the scan stopped early after {done} of {total} commits: {}\n",
            sanitize(d)
        ),
        None => String::new(),
    }
}

/// Why a bypass was refused; empty when none was asked for or it was granted.
fn bypass_refusal(bypass: &BypassRequest, ctx: &PushContext, option: &str) -> String {
    match bypass {
        BypassRequest::Refused(BypassRefusal::Disabled) => {
            "leakgate: bypass refused: the server policy does not allow bypassing.\n".to_string()
        }
        BypassRequest::Refused(BypassRefusal::NotAllowedForPusher) => format!(
            "leakgate: bypass refused: {} may not bypass this check.\n",
            sanitize(&ctx.pusher)
        ),
        BypassRequest::Refused(BypassRefusal::NoReason) => format!(
            "leakgate: bypass refused: a reason is required (in words: spaces, invisible or control characters are none): git push -o {option}=\"<why this is safe>\"\n"
        ),
        BypassRequest::Refused(BypassRefusal::SecretInReason) => format!(
            "leakgate: bypass refused: the reason holds a secret (listed above as the push option {option}); it has left your machine: revoke and rotate it, and give a reason without it.\n"
        ),
        _ => String::new(),
    }
}

/// What the pusher is told about pushed suppressions that were not honoured.
fn not_honoured_notes(result: &ReceiveResult, ctx: &PushContext) -> String {
    let mut notes = String::new();
    for n in &result.not_honoured {
        let f = &n.suppressed.finding;
        let what = match n.suppressed.kind {
            SuppressionKind::AllowMarker => "allow marker",
            _ => ".leakgateignore entry",
        };
        let at = match &f.commit {
            Some(c) => format!(" (commit {})", &c[..c.len().min(12)]),
            None => String::new(),
        };
        let why = match n.why {
            NotHonouredWhy::PusherMayNotBypass => format!(
                "{} may not bypass this check, and a suppression in pushed content is a bypass",
                sanitize(&ctx.pusher)
            ),
            NotHonouredWhy::NotInItsRefsIgnoreFile => "only the .leakgateignore at the tip of the ref the commit is pushed to counts (of every such ref)".to_string(),
        };
        notes.push_str(&format!(
            "leakgate: the {what} for {}:{}{at} was not honoured: {why}.\n",
            crate::report::sanitize::sanitize_bytes(&f.path),
            f.line,
        ));
    }
    notes
}

/// The message of a bypassed push: what was let through, and that it must now be rotated.
fn bypassed_message(result: &ReceiveResult, ctx: &PushContext) -> String {
    let outcome = &result.outcome;
    let reason = match &result.facts.bypass {
        BypassRequest::Granted(r) => r.as_str(),
        _ => "",
    };
    let mut message = format!(
        "leakgate: bypass accepted for {} (reason: {}); it is recorded.\n",
        sanitize(&ctx.pusher),
        sanitize(reason)
    );
    if outcome.findings.is_empty() {
        message.push_str(
            "leakgate: what was let through was not scanned completely (see the audit log).\n",
        );
        return message;
    }
    message.push_str(&format!(
        "leakgate: these {} secret(s) were let through:\n",
        outcome.findings.len()
    ));
    for f in &outcome.findings {
        message.push_str(&format!(
            "  {} {}:{} {} · {} {}\n",
            f.commit.as_deref().map_or("-", |c| &c[..c.len().min(12)]),
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
    message
}

/// What one scan of a push works from.
struct Scope<'a> {
    policy: &'a Policy,
    updates: &'a [RefUpdate],
    deadline: Instant,
    /// Whether pushed suppressions count ([`may_bypass`]).
    honour_pushed: bool,
}

/// One pushed ref value, as far as its `.leakgateignore` is concerned.
struct PushedRef {
    /// The commit its value leads to.
    tip: Option<ObjectId>,
    /// The annotated tags on the way (their headers and messages are this ref's).
    tags: HashSet<String>,
    /// The fingerprints of the `.leakgateignore` at its tip (when the policy honours it).
    ignore: IgnoreSet,
}

/// Scans everything the push adds; pushed suppressions that do not count are turned back into
/// findings (listed in `not_honoured`).
fn scan_push(
    repo: &mut gix::Repository,
    scope: &Scope<'_>,
    scanner: &mut PolicyScanner,
    commits: &mut (usize, usize),
    not_honoured: &mut Vec<NotHonoured>,
) -> (ScanOutcome, Option<Failure>) {
    let mut outcome = ScanOutcome::default();
    let failure = scan_push_into(repo, scope, scanner, commits, &mut outcome, not_honoured).err();
    outcome.apply_block_at(scope.policy.block_at);
    (outcome, failure)
}

/// [`scan_push`], filling `outcome` as it goes, so that what was found before a failure counts.
/// The policy's scanner is taken from `scanner` once the new commits are known, and put back.
fn scan_push_into(
    repo: &mut gix::Repository,
    scope: &Scope<'_>,
    scanner: &mut PolicyScanner,
    progress: &mut (usize, usize),
    outcome: &mut ScanOutcome,
    not_honoured: &mut Vec<NotHonoured>,
) -> Result<(), Failure> {
    let policy = scope.policy;
    let error = |e: GitError| match e {
        GitError::Timeout { .. } => Failure::Timeout(e),
        other => Failure::Error(other.into()),
    };
    let view = quarantine::attach(repo).map_err(error)?;
    let repo = &*repo;
    // Existing refs are accepted history (pre-receive runs before any ref moves).
    let mut existing = Existing::read(repo, "refs/").map_err(error)?;
    if let Some(before) = view.as_ref().and_then(|v| v.store_before(repo)) {
        existing = existing.with_store_before(before);
    }
    let mut tips: Vec<ObjectId> = Vec::new();
    let mut values: Vec<PushedValue> = Vec::new();
    let mut refs: Vec<PushedRef> = Vec::new();
    for update in scope.updates.iter().filter(|u| u.brings_new_value()) {
        let Some(id) = update.new else { continue };
        let value = peel_pushed(repo, id, &update.name).map_err(error)?;
        tips.extend(value.commit);
        refs.push(PushedRef {
            tip: value.commit,
            tags: value
                .units
                .iter()
                .filter_map(|u| u.commit.clone())
                .collect(),
            ignore: match value.commit {
                Some(tip) if policy.repository_files.ignore_file => {
                    pushed_ignore_fingerprints(repo, tip)
                }
                _ => IgnoreSet::default(),
            },
        });
        values.push(value);
    }
    // The scanner sees every pushed ignore file, so that what they silence is known; which of
    // them count is settled per ref afterwards.
    let mut fingerprints = IgnoreSet::default();
    for r in &refs {
        fingerprints.extend(r.ignore.clone());
    }
    let config = policy.as_scan_config();
    let config_error = |e: crate::config::ConfigError| Failure::Error(e.into());
    let mut allowed = suppressions(&config, "server policy", fingerprints).map_err(config_error)?;
    allowed.ignore_markers = !policy.repository_files.allow_markers;
    let mut commits = existing.new_commits(repo, &tips).map_err(error)?;
    let content_scanner = scanner
        .take()
        .map_err(Failure::Error)?
        .with_suppressions(allowed)
        .with_deadline(Some(scope.deadline));
    // Newest first: a budget that runs out is spent on the commits the pusher wrote last.
    commits.reverse();
    progress.1 = commits.len();
    let mut scan = ChangeScanner::new(repo, &content_scanner, policy.max_blob_bytes);
    // Every commit that brings a secret is decided on its own (a suppression counts only at the
    // tips of the refs bringing that commit), even when its blob pair was scanned for another.
    scan.replay_repeats();
    scan.deadline = Some((scope.deadline, policy.time_budget_ms));
    let result =
        scan_pushed_values(&mut scan, &values).and_then(|()| scan_commits(&mut scan, &commits));
    progress.0 = scan.commits_done();
    *outcome = scan.outcome;
    // The pusher's own text (ref names, a bypass reason) is scanned after the budget too.
    scanner.put_back(content_scanner.with_deadline(None));
    *not_honoured =
        settle_pushed_suppressions(repo, &refs, &existing, scope.honour_pushed, outcome);
    result.map_err(error)
}

/// Keeps the suppressions that count and turns the others back into findings: allow values are
/// the admin's and always count; pushed allow markers and `.leakgateignore` fingerprints count
/// only when the pusher may bypass, and a fingerprint only when the `.leakgateignore` at the tip
/// of every pushed ref that brings the finding lists it.
fn settle_pushed_suppressions(
    repo: &gix::Repository,
    refs: &[PushedRef],
    existing: &Existing,
    honour_pushed: bool,
    outcome: &mut ScanOutcome,
) -> Vec<NotHonoured> {
    let mut brought: HashMap<usize, HashSet<String>> = HashMap::new();
    let mut brought_by = |i: usize, commit: &str| -> bool {
        let r = &refs[i];
        if r.tags.contains(commit) {
            return true;
        }
        let Some(tip) = r.tip else { return false };
        brought
            .entry(i)
            .or_insert_with(|| {
                existing
                    .new_commits(repo, &[tip])
                    .map(|ids| ids.into_iter().map(|id| id.to_string()).collect())
                    .unwrap_or_default()
            })
            .contains(commit)
    };
    let mut not_honoured = Vec::new();
    let mut kept = Vec::new();
    for s in std::mem::take(&mut outcome.suppressed) {
        let why = match s.kind {
            SuppressionKind::AllowValue => None,
            _ if !honour_pushed => Some(NotHonouredWhy::PusherMayNotBypass),
            SuppressionKind::AllowMarker => None,
            SuppressionKind::IgnoreFile
            | SuppressionKind::LegacyIgnoreFile
            | SuppressionKind::Baseline => {
                let f = &s.finding;
                let listed_by_every_ref = f.commit.as_deref().is_some_and(|commit| {
                    let bringing: Vec<usize> =
                        (0..refs.len()).filter(|&i| brought_by(i, commit)).collect();
                    !bringing.is_empty()
                        && bringing.iter().all(|&i| {
                            refs[i]
                                .ignore
                                .ignores(&f.rule, f.secret.expose(), || f.fingerprint())
                                .is_some()
                        })
                });
                (!listed_by_every_ref).then_some(NotHonouredWhy::NotInItsRefsIgnoreFile)
            }
        };
        match why {
            None => kept.push(s),
            Some(why) => {
                outcome.findings.push(s.finding.clone());
                not_honoured.push(NotHonoured { suppressed: s, why });
            }
        }
    }
    outcome.suppressed = kept;
    not_honoured
}

/// Fingerprints from the `.leakgateignore` at a pushed tip.
fn pushed_ignore_fingerprints(repo: &gix::Repository, tip: ObjectId) -> IgnoreSet {
    let read = || -> Option<IgnoreSet> {
        let tree = repo.find_commit(tip).ok()?.tree_id().ok()?;
        let entry = entry_at_path(repo, tree.detach(), IGNORE_FILE.as_bytes()).ok()??;
        let blob = repo.find_object(entry.id).ok()?;
        parse_ignore_file(IGNORE_FILE, &String::from_utf8_lossy(&blob.data)).ok()
    };
    read().unwrap_or_default()
}

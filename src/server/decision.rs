//! The push decision as a pure function of what the scan established and what the policy says.
//!
//! Findings made always count: a timeout or an error with findings rejects (unless bypassed).
//! `on_timeout` / `on_error` / `on_unscanned: accept` cover only what is still unscanned. A bypass
//! with a reason, when the policy allows it for this pusher, lets a rejection through and is
//! recorded. A push whose audit line needs fingerprints (any finding, warning or suppressed
//! secret) while the fingerprint key cannot be used is rejected, bypass or not. When the audit
//! line cannot be written, `on_audit_failure` decides whether an accepting decision stands.

use crate::exit::Exit;
use crate::server::policy::OnFailure;

/// How the scan ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stop {
    /// Everything was scanned.
    Complete,
    /// The time budget ran out.
    Timeout,
    /// Reading or scanning failed (missing or corrupt objects, a broken rule).
    Error,
}

/// What the pusher asked for with the bypass push option, as the policy judges it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BypassRequest {
    /// No bypass option.
    None,
    /// A bypass the policy grants, with its reason.
    Granted(String),
    /// A bypass the policy refuses, and why (shown to the pusher).
    Refused(BypassRefusal),
}

/// Why a bypass is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BypassRefusal {
    /// The policy does not allow bypassing.
    Disabled,
    /// This pusher is not in `bypass.users`.
    NotAllowedForPusher,
    /// No reason was given.
    NoReason,
    /// The reason holds a secret (which is a finding of its own).
    SecretInReason,
}

/// What the scan established, as far as the decision is concerned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Facts {
    /// Secrets found (not suppressed).
    pub findings: usize,
    /// How the scan ended.
    pub stop: Stop,
    /// Something could not be read (a skip of kind `unreadable`).
    pub unreadable: bool,
    /// Content over the size cap was not scanned whole.
    pub unscanned: bool,
    /// Secrets silenced by markers, ignore files or allowlists (and allowed paths skipped).
    pub suppressed: usize,
    /// The bypass request.
    pub bypass: BypassRequest,
    /// How many keyed fingerprints the audit line needs (findings, warnings, suppressed secrets).
    pub fingerprints: usize,
    /// Whether the fingerprint key can be used.
    pub key: Key,
}

/// The state of the server's fingerprint key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Key {
    /// Read (or created) and safe to use.
    Usable,
    /// Missing and not creatable, unreadable, empty, or readable by others.
    Unusable,
}

/// The parts of the policy that decide.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rules {
    /// When the budget runs out.
    pub on_timeout: OnFailure,
    /// When the scan fails.
    pub on_error: OnFailure,
    /// When content was not scanned whole.
    pub on_unscanned: OnFailure,
    /// When the audit line cannot be written.
    pub on_audit_failure: OnFailure,
}

/// The decision on a push, as recorded in the audit line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    /// Nothing found, everything scanned.
    Accepted,
    /// Nothing found, but suppressions were honoured (recorded).
    AcceptedWithSuppressions,
    /// Content over the cap was not scanned whole and the policy accepts that.
    AcceptedWithUnscanned,
    /// Secrets found: rejected.
    Rejected,
    /// A rejection let through by a bypass with a reason.
    Bypassed,
    /// The budget ran out with nothing found; the policy accepts.
    AcceptedOnTimeout,
    /// The budget ran out; rejected.
    RejectedOnTimeout,
    /// The scan failed with nothing found; the policy accepts.
    AcceptedOnError,
    /// The scan failed; rejected.
    RejectedOnError,
    /// Content over the cap was not scanned whole; rejected.
    RejectedOnUnscanned,
    /// The audit line could not be written and the policy does not accept unrecorded pushes.
    RejectedOnAuditFailure,
    /// The push was refused before a scan could start (unreadable input, repository or policy).
    RejectedBeforeScan,
    /// The audit line needs fingerprints and the fingerprint key cannot be used.
    RejectedOnKeyFailure,
}

impl Decision {
    /// The audit log's name for it.
    pub fn as_str(self) -> &'static str {
        match self {
            Decision::Accepted => "accepted",
            Decision::AcceptedWithSuppressions => "accepted-with-suppressions",
            Decision::AcceptedWithUnscanned => "accepted-with-unscanned",
            Decision::Rejected => "rejected",
            Decision::Bypassed => "bypassed",
            Decision::AcceptedOnTimeout => "accepted-on-timeout",
            Decision::RejectedOnTimeout => "rejected-on-timeout",
            Decision::AcceptedOnError => "accepted-on-error",
            Decision::RejectedOnError => "rejected-on-error",
            Decision::RejectedOnUnscanned => "rejected-on-unscanned",
            Decision::RejectedOnAuditFailure => "rejected-on-audit-failure",
            Decision::RejectedBeforeScan => "rejected-before-scan",
            Decision::RejectedOnKeyFailure => "rejected-on-key-failure",
        }
    }

    /// Whether git may update the refs.
    pub fn accepts(self) -> bool {
        matches!(
            self,
            Decision::Accepted
                | Decision::AcceptedWithSuppressions
                | Decision::AcceptedWithUnscanned
                | Decision::Bypassed
                | Decision::AcceptedOnTimeout
                | Decision::AcceptedOnError
        )
    }

    /// The exit status of the contract.
    pub fn exit_status(self) -> Exit {
        match self {
            d if d.accepts() => Exit::Clean,
            Decision::Rejected => Exit::Found,
            _ => Exit::Error,
        }
    }
}

/// Decides a push from its facts under the policy's rules (before the audit line is written).
pub fn decide(facts: &Facts, rules: &Rules) -> Decision {
    let granted = matches!(facts.bypass, BypassRequest::Granted(_));
    let reject = |decision: Decision| {
        if granted {
            Decision::Bypassed
        } else {
            decision
        }
    };
    if facts.key == Key::Unusable && facts.fingerprints > 0 {
        return Decision::RejectedOnKeyFailure;
    }
    if facts.findings > 0 {
        return reject(Decision::Rejected);
    }
    match facts.stop {
        Stop::Timeout if rules.on_timeout == OnFailure::Reject => {
            return reject(Decision::RejectedOnTimeout)
        }
        Stop::Timeout => return Decision::AcceptedOnTimeout,
        Stop::Error if rules.on_error == OnFailure::Reject => {
            return reject(Decision::RejectedOnError)
        }
        Stop::Error => return Decision::AcceptedOnError,
        Stop::Complete => {}
    }
    if facts.unreadable {
        return if rules.on_error == OnFailure::Reject {
            reject(Decision::RejectedOnError)
        } else {
            Decision::AcceptedOnError
        };
    }
    if facts.unscanned {
        return if rules.on_unscanned == OnFailure::Reject {
            reject(Decision::RejectedOnUnscanned)
        } else {
            Decision::AcceptedWithUnscanned
        };
    }
    if facts.suppressed > 0 {
        Decision::AcceptedWithSuppressions
    } else {
        Decision::Accepted
    }
}

/// The decision once the audit line was written (`recorded`) or not: an accepting decision that
/// cannot be recorded stands only under `on_audit_failure: accept`.
pub fn after_audit(decision: Decision, recorded: bool, rules: &Rules) -> Decision {
    if !recorded && decision.accepts() && rules.on_audit_failure == OnFailure::Reject {
        Decision::RejectedOnAuditFailure
    } else {
        decision
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use OnFailure::{Accept, Reject};

    fn rules(on: OnFailure) -> Rules {
        Rules {
            on_timeout: on,
            on_error: on,
            on_unscanned: on,
            on_audit_failure: on,
        }
    }

    /// Every combination of findings × stop × unscanned × suppression × bypass × policy ×
    /// audit outcome, against the rules written out longhand.
    #[test]
    fn decision_table() {
        let bypasses = [
            BypassRequest::None,
            BypassRequest::Granted("reason".into()),
            BypassRequest::Refused(BypassRefusal::NoReason),
            BypassRequest::Refused(BypassRefusal::SecretInReason),
        ];
        let mut cases = 0;
        let mut facts_of = Vec::new();
        for findings in [0, 2] {
            for stop in [Stop::Complete, Stop::Timeout, Stop::Error] {
                for unreadable in [false, true] {
                    for unscanned in [false, true] {
                        for suppressed in [0, 1] {
                            for bypass in &bypasses {
                                for warnings in [0, 1] {
                                    for key in [Key::Usable, Key::Unusable] {
                                        facts_of.push(Facts {
                                            findings,
                                            stop,
                                            unreadable,
                                            unscanned,
                                            suppressed,
                                            bypass: bypass.clone(),
                                            fingerprints: findings + suppressed + warnings,
                                            key,
                                        });
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        for facts in &facts_of {
            for on in [Reject, Accept] {
                for recorded in [true, false] {
                    let r = rules(on);
                    let got = after_audit(decide(facts, &r), recorded, &r);
                    let want = expected(facts, on, recorded);
                    assert_eq!(got, want, "{facts:?} on={on:?} recorded={recorded}");
                    cases += 1;
                }
            }
        }
        assert_eq!(cases, 2 * 3 * 2 * 2 * 2 * 4 * 2 * 2 * 2 * 2);
    }

    /// The decision table, longhand.
    fn expected(f: &Facts, on: OnFailure, recorded: bool) -> Decision {
        let granted = matches!(f.bypass, BypassRequest::Granted(_));
        let before_audit = if f.key == Key::Unusable && f.fingerprints > 0 {
            Decision::RejectedOnKeyFailure
        } else if f.findings > 0 {
            if granted {
                Decision::Bypassed
            } else {
                Decision::Rejected
            }
        } else if f.stop == Stop::Timeout {
            match (on, granted) {
                (Accept, _) => Decision::AcceptedOnTimeout,
                (Reject, true) => Decision::Bypassed,
                (Reject, false) => Decision::RejectedOnTimeout,
            }
        } else if f.stop == Stop::Error || f.unreadable {
            match (on, granted) {
                (Accept, _) => Decision::AcceptedOnError,
                (Reject, true) => Decision::Bypassed,
                (Reject, false) => Decision::RejectedOnError,
            }
        } else if f.unscanned {
            match (on, granted) {
                (Accept, _) => Decision::AcceptedWithUnscanned,
                (Reject, true) => Decision::Bypassed,
                (Reject, false) => Decision::RejectedOnUnscanned,
            }
        } else if f.suppressed > 0 {
            Decision::AcceptedWithSuppressions
        } else {
            Decision::Accepted
        };
        if !recorded && before_audit.accepts() && on == Reject {
            Decision::RejectedOnAuditFailure
        } else {
            before_audit
        }
    }

    #[test]
    fn exit_statuses() {
        assert_eq!(Decision::Rejected.exit_status(), Exit::Found);
        assert_eq!(Decision::Bypassed.exit_status(), Exit::Clean);
        assert_eq!(Decision::RejectedOnTimeout.exit_status(), Exit::Error);
        assert_eq!(Decision::RejectedBeforeScan.exit_status().code(), 2);
        assert_eq!(Decision::RejectedOnKeyFailure.exit_status(), Exit::Error);
    }
}

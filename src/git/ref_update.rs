//! Ref updates as git hands them to hooks, in one model for both sides: the server's
//! `pre-receive` lines (`<old> <new> <ref>`) and the client's `pre-push` lines (`<local ref>
//! <local id> <remote ref> <remote id>`). One parser decides what "no object" is, so the two hooks
//! cannot disagree about it.

use gix::hash::ObjectId;

/// One ref update: the ref on the receiving side, its old and new values.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefUpdate {
    /// The ref on the receiving side (`refs/heads/main`).
    pub name: String,
    /// Its value before the update; `None` when it is created.
    pub old: Option<ObjectId>,
    /// Its value after the update; `None` when it is deleted.
    pub new: Option<ObjectId>,
    /// The local ref pushed from (pre-push only).
    pub source: Option<String>,
}

impl RefUpdate {
    /// Whether the update deletes the ref.
    pub fn is_deletion(&self) -> bool {
        self.new.is_none()
    }

    /// Whether the update brings a value the ref did not have (creation or change).
    pub fn brings_new_value(&self) -> bool {
        self.new.is_some() && self.new != self.old
    }
}

/// A malformed hook input line: hooks fail closed on it.
#[derive(Debug, Clone, thiserror::Error)]
#[error("malformed {hook} input line {line}")]
pub struct ParseError {
    /// `pre-receive` or `pre-push`.
    pub hook: &'static str,
    /// 1-based line number.
    pub line: usize,
    /// What is wrong.
    #[source]
    pub problem: LineProblem,
}

/// What is wrong with one hook input line.
#[derive(Debug, Clone, thiserror::Error)]
pub enum LineProblem {
    /// Not `<old> <new> <ref>`.
    #[error("expected `<old> <new> <ref>`")]
    PreReceiveFields,
    /// Not `<local ref> <local id> <remote ref> <remote id>`.
    #[error("expected `<local ref> <local id> <remote ref> <remote id>`")]
    PrePushFields,
    /// A field that should be an id holds something other than hexadecimal digits.
    #[error("`{}` is not an object id", .0.escape_debug())]
    NotHex(String),
    /// A hexadecimal id of the wrong length (an abbreviated one).
    #[error("`{}` is not a full object id", .0.escape_debug())]
    NotFull(String),
    /// A SHA-256 id.
    #[error("a SHA-256 object id: repositories in the sha256 object format are not read yet")]
    Sha256,
    /// gix refused the id.
    #[error("`{}` is not an object id", .text.escape_debug())]
    Decode {
        /// The field.
        text: String,
        /// What gix said.
        #[source]
        source: std::sync::Arc<dyn std::error::Error + Send + Sync>,
    },
}

/// An object id as git writes it to hooks: `None` for the all-zero id ("no object"), an error for
/// anything that is not a full hexadecimal id (an empty field included).
pub fn parse_id(text: &str) -> Result<Option<ObjectId>, LineProblem> {
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(LineProblem::NotHex(text.to_string()));
    }
    let full_length = matches!(text.len(), 40 | 64);
    if !full_length {
        return Err(LineProblem::NotFull(text.to_string()));
    }
    if text.bytes().all(|b| b == b'0') {
        return Ok(None);
    }
    if text.len() == 64 {
        return Err(LineProblem::Sha256);
    }
    ObjectId::from_hex(text.as_bytes())
        .map(Some)
        .map_err(|e| LineProblem::Decode {
            text: text.to_string(),
            source: std::sync::Arc::new(e),
        })
}

/// Parses `pre-receive` input: `<old> <new> <ref>` per line (the ref name may hold any byte but
/// a newline; it is taken whole after the second space). Blank lines are ignored.
pub fn parse_pre_receive(input: &str) -> Result<Vec<RefUpdate>, ParseError> {
    parse_lines(input, "pre-receive", |line| {
        let mut parts = line.splitn(3, ' ');
        let (Some(old), Some(new), Some(name)) = (parts.next(), parts.next(), parts.next()) else {
            return Err(LineProblem::PreReceiveFields);
        };
        Ok(RefUpdate {
            name: name.trim_end_matches('\r').to_string(),
            old: parse_id(old)?,
            new: parse_id(new)?,
            source: None,
        })
    })
}

/// Parses `pre-push` input: `<local ref> <local id> <remote ref> <remote id>` per line. The local
/// id is the new value, the remote id the old one. Blank lines are ignored.
pub fn parse_pre_push(input: &str) -> Result<Vec<RefUpdate>, ParseError> {
    parse_lines(input, "pre-push", |line| {
        let fields: Vec<&str> = line.split_whitespace().collect();
        let [local_ref, local_id, remote_ref, remote_id] = fields.as_slice() else {
            return Err(LineProblem::PrePushFields);
        };
        Ok(RefUpdate {
            name: (*remote_ref).to_string(),
            old: parse_id(remote_id)?,
            new: parse_id(local_id)?,
            source: Some((*local_ref).to_string()),
        })
    })
}

fn parse_lines(
    input: &str,
    hook: &'static str,
    parse: impl Fn(&str) -> Result<RefUpdate, LineProblem>,
) -> Result<Vec<RefUpdate>, ParseError> {
    input
        .lines()
        .enumerate()
        .filter(|(_, line)| !line.trim().is_empty())
        .map(|(i, line)| {
            parse(line).map_err(|problem| ParseError {
                hook,
                line: i + 1,
                problem,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const A: &str = "1111111111111111111111111111111111111111";
    const Z: &str = "0000000000000000000000000000000000000000";

    #[test]
    fn both_hooks_agree_on_what_no_object_is() {
        assert_eq!(parse_id(Z).unwrap(), None);
        assert!(parse_id(A).unwrap().is_some());
        assert!(parse_id("").is_err());
        assert!(parse_id("xyz").is_err());
        assert!(parse_id("0000").is_err(), "a short id is not the null id");
    }

    #[test]
    fn pre_receive_lines() {
        let got = parse_pre_receive(&format!(
            "{Z} {A} refs/heads/new branch\n\n{A} {Z} refs/tags/v1\n"
        ))
        .unwrap();
        assert_eq!(got[0].name, "refs/heads/new branch");
        assert!(got[0].old.is_none() && got[0].brings_new_value());
        assert!(got[1].is_deletion());
        let err = parse_pre_receive(&format!("{A} refs/heads/x\n")).unwrap_err();
        assert_eq!((err.hook, err.line), ("pre-receive", 1));
    }

    #[test]
    fn pre_push_lines() {
        let got = parse_pre_push(&format!("refs/heads/main {A} refs/heads/main {Z}\n")).unwrap();
        assert_eq!(got[0].source.as_deref(), Some("refs/heads/main"));
        assert!(got[0].old.is_none() && got[0].new.is_some());
        assert!(parse_pre_push("refs/heads/main\n").is_err());
    }
}

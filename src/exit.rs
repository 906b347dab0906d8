//! The exit-code contract of both binaries, and how an error is shown once, at the top.
//!
//! `0` nothing found (or the push is accepted), `1` secrets found (the commit or push is
//! blocked), `2` error (bad usage or config, unreadable repository, a scan that could not
//! finish). Never `0` after a failed scan.

use std::process::ExitCode;

/// The exit status of the contract.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Exit {
    /// 0: nothing found; the commit or push may go ahead.
    Clean = 0,
    /// 1: secrets were found; the commit or push is blocked.
    Found = 1,
    /// 2: an error, or content that could not be scanned as required.
    Error = 2,
}

impl Exit {
    /// The numeric code.
    pub fn code(self) -> u8 {
        self as u8
    }
}

impl From<Exit> for ExitCode {
    fn from(exit: Exit) -> ExitCode {
        ExitCode::from(exit.code())
    }
}

/// An error and its causes, outermost first, joined by `": "` (`outer: inner: innermost`).
///
/// Errors keep their cause as a [`std::error::Error::source`] rather than in their message; this
/// is where the chain is put back together for a person to read. Not sanitized: callers that
/// print it sanitize it (see [`crate::report::sanitize`]).
pub fn chain(error: &(dyn std::error::Error + 'static)) -> String {
    let mut text = error.to_string();
    let mut cause = error.source();
    while let Some(e) = cause {
        text.push_str(": ");
        text.push_str(&e.to_string());
        cause = e.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, thiserror::Error)]
    #[error("outer")]
    struct Outer(#[source] std::io::Error);

    #[test]
    fn chain_joins_every_cause() {
        let e = Outer(std::io::Error::other("inner"));
        assert_eq!(chain(&e), "outer: inner");
    }

    #[test]
    fn codes_are_the_contract() {
        assert_eq!(Exit::Clean.code(), 0);
        assert_eq!(Exit::Found.code(), 1);
        assert_eq!(Exit::Error.code(), 2);
    }
}

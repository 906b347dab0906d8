//! What a finished command gives a test: exit code, stdout and stderr as text, the JSON on stdout.

use std::process::Output;

use serde_json::Value;

/// Reading a finished command's outcome ([`std::process::Output`] captures exit code, stdout and
/// stderr; these name what the tests ask of it).
pub trait Ran: Sized {
    /// The exit code (-1 when killed by a signal).
    fn code(&self) -> i32;
    /// Stdout as text.
    fn out_text(&self) -> String;
    /// Stderr as text.
    fn err_text(&self) -> String;
    /// Stdout then stderr, as text.
    fn all_text(&self) -> String;
    /// Stdout parsed as JSON (panics with the whole output when it is not); a scan, audit or
    /// SARIF report is validated against its schema under `docs/` first.
    fn json(&self) -> Value;
    /// Panics with the whole output unless the command exited with `code`; returns it.
    fn expect_code(self, code: i32) -> Self;
    /// Panics with stderr unless stderr contains `needle`.
    fn err_has(&self, needle: &str) -> &Self;
}

impl Ran for Output {
    fn code(&self) -> i32 {
        self.status.code().unwrap_or(-1)
    }

    fn out_text(&self) -> String {
        String::from_utf8_lossy(&self.stdout).into_owned()
    }

    fn err_text(&self) -> String {
        String::from_utf8_lossy(&self.stderr).into_owned()
    }

    fn all_text(&self) -> String {
        format!("{}{}", self.out_text(), self.err_text())
    }

    fn json(&self) -> Value {
        let doc = serde_json::from_slice(&self.stdout)
            .unwrap_or_else(|e| panic!("stdout is not JSON ({e}):\n{}", self.all_text()));
        super::schema::check_report(&doc);
        doc
    }

    fn err_has(&self, needle: &str) -> &Self {
        let err = self.err_text();
        assert!(err.contains(needle), "stderr lacks {needle:?}:\n{err}");
        self
    }

    fn expect_code(self, code: i32) -> Self {
        assert_eq!(
            self.status.code(),
            Some(code),
            "expected exit code {code}:\n{}",
            self.all_text()
        );
        self
    }
}

//! leakgate: a secret scanner that lives in git hooks.
//!
//! The pipeline: a **source** of changes (files on disk, the git index against `HEAD`, a set of
//! commits, a commit message) produces [`added::AddedText`] units — the added lines of one blob with
//! their line numbers. The [`scanner::Scanner`] finds the rule keywords in each unit with a
//! two-stage prefilter ([`keywords`]: a gram filter over byte pairs names the positions where a
//! keyword may start, one Aho-Corasick automaton confirms them), runs only the matching rules'
//! regexes (compiled lazily) on the lines that hold their keywords, scans decoded encoded runs
//! the same way ([`encoded`]), extracts the secret group and filters it (entropy, checksum,
//! placeholders, allow regexes and markers, ignored fingerprints). The [`finding::Finding`]s, with what was skipped,
//! form a [`outcome::ScanOutcome`] that the [`report`] module renders as a human report (with the
//! provider's revoke-and-rotate remediation), JSON or SARIF. Rules come from the embedded pack
//! ([`builtin`], `patterns/*.yaml`) and the repository config ([`config`]).

pub mod added;
pub mod allocator;
pub mod ascii_superset;
pub mod audit;
pub mod base64_runs;
pub mod builtin;
pub mod checksum;
pub mod config;
pub mod decode;
pub mod encoded;
pub mod exit;
pub mod files;
pub mod filters;
pub mod finding;
pub mod fingerprint;
pub mod git;
pub(crate) mod gram_buckets;
pub(crate) mod gram_filter;
pub mod hex;
pub mod install;
pub(crate) mod keyword_confirm;
pub mod keywords;
pub mod newline_bound;
pub mod outcome;
pub mod prebuilt;
pub mod report;
pub mod rule_matches;
pub mod rule_regex;
pub mod rules;
#[cfg(test)]
mod scan_properties;
pub mod scanner;
pub mod schema;
pub mod selftest;
pub mod server;
pub mod stream;
#[cfg(test)]
mod test_support;
pub mod word_boundary;

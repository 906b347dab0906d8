//! The compiled rule set: keyword prefilter → regex → secret group → filters → findings.
//!
//! The keyword prefilter ([`crate::keywords`]) finds every ASCII case-insensitive occurrence of
//! every rule's keywords in an [`AddedText`], in two stages: a gram filter over byte pairs
//! (`gram_filter`, in the style of Hyperscan's FDR) names the few positions where a keyword may
//! start, and a table of the keywords by their first three bytes (`keyword_confirm`) confirms
//! each of them. Each hit turns into a window for the rules of its keyword: the line that holds it
//! (multiline rules: from that line to the end of the hunk, at most [`MULTILINE_WINDOW`] bytes,
//! or only as many lines on as one match of the regex can span: [`crate::newline_bound`]).
//! Only those rules' regexes run, only on their windows, each compiled once, on its first
//! window. Base64, hex and percent-encoded runs on added lines are decoded in place
//! ([`crate::encoded`]) and scanned again the same way, up to [`MAX_DECODE_DEPTH`] levels deep.

use std::borrow::Cow;
use std::sync::{Arc, OnceLock};
use std::time::Instant;

use regex::bytes::{Regex, RegexBuilder};

use crate::added::AddedText;
use crate::filters;
use crate::finding::{Finding, Secret};
use crate::fingerprint::{IgnoreSet, IgnoredBy};
use crate::keywords::{Hit, Keywords};
use crate::rule_matches::{each_candidate, Candidate, Pass};
use crate::rule_regex::RuleRegex;
use crate::rules::{GroupRef, Rule, REGEX_SIZE_LIMIT};

/// How far past its keyword's line a multiline rule may match.
pub const MULTILINE_WINDOW: usize = 64 * 1024;

/// Providers whose rules are catch-alls: when one of their findings covers the same secret as a
/// finding of a specific provider, the specific one is kept.
const CATCH_ALL_PROVIDERS: [&str; 3] = ["generic", "json web token", "url credentials"];

/// Errors while scanning.
#[derive(Debug, thiserror::Error)]
pub enum ScanError {
    /// A rule's regex failed to compile (too big, or invalid in a way the checker missed).
    #[error("rule `{rule}` ({origin}): {message}")]
    Rule {
        /// The rule id.
        rule: String,
        /// Its file.
        origin: String,
        /// The compiler's message.
        message: String,
    },
    /// The keyword automaton could not be built.
    #[error("cannot build the keyword prefilter: {0}")]
    Prefilter(String),
    /// The deadline ([`Scanner::with_deadline`]) passed in the middle of a scan.
    #[error("the time budget ran out in the middle of a scan")]
    Deadline,
}

/// What may suppress a finding besides the rules' own filters.
#[derive(Debug, Default, Clone)]
pub struct Suppressions {
    /// Regexes over the secret value (`allow.values`).
    pub values: Vec<Regex>,
    /// Regexes over the path (`allow.paths`).
    pub paths: Vec<Regex>,
    /// Fingerprints from `.leakgateignore`.
    pub fingerprints: IgnoreSet,
    /// Whether allow markers on the line are honoured (the server policy may say no).
    pub ignore_markers: bool,
}

/// A rule with its lazily compiled regexes.
struct CompiledRule {
    rule: Rule,
    regex: OnceLock<Result<RuleRegex, String>>,
    allow: OnceLock<Result<Vec<Regex>, String>>,
    demote_when: OnceLock<Result<Vec<Regex>, String>>,
    catch_all: bool,
    /// A multiline rule's most line feeds in one match ([`crate::newline_bound`]): its window
    /// ends that many lines after the keyword's line. `None`: the rest of the hunk. Read from
    /// the regex's syntax on the rule's first window (parsing every rule's regex up front would
    /// cost a hook milliseconds).
    newline_bound: OnceLock<Option<usize>>,
    /// The fewest bytes a match of the regex holds ([`crate::newline_bound::min_match_bytes`]):
    /// a shorter window is not searched. Read on the rule's first window, like the bound.
    min_match: OnceLock<usize>,
}

impl CompiledRule {
    fn newline_bound(&self) -> Option<usize> {
        *self.newline_bound.get_or_init(|| {
            if self.rule.raw.multiline {
                crate::newline_bound::max_newlines(&self.rule.raw.regex)
            } else {
                Some(0)
            }
        })
    }
}

impl CompiledRule {
    fn min_match(&self) -> usize {
        *self
            .min_match
            .get_or_init(|| crate::newline_bound::min_match_bytes(&self.rule.raw.regex))
    }
}

impl CompiledRule {
    fn regex(&self) -> Result<&RuleRegex, ScanError> {
        self.regex
            .get_or_init(|| compile_rule_regex(&self.rule))
            .as_ref()
            .map_err(|message| self.error(message))
    }

    /// Whether the rule's regex matches somewhere in `haystack` ([`RuleRegex::is_match`]).
    fn is_match(&self, haystack: &[u8]) -> Result<bool, ScanError> {
        self.regex()?
            .is_match(haystack)
            .map_err(|message| self.error(&message))
    }

    /// The rule's regex for searching `haystack` ([`RuleRegex::for_haystack`]).
    fn regex_for(&self, haystack: &[u8]) -> Result<&Regex, ScanError> {
        self.regex()?
            .for_haystack(haystack)
            .map_err(|message| self.error(&message))
    }

    fn allow(&self) -> Result<&[Regex], ScanError> {
        self.compiled_list(&self.allow, &self.rule.raw.allow, "allow")
    }

    fn demote_when(&self) -> Result<&[Regex], ScanError> {
        self.compiled_list(&self.demote_when, &self.rule.raw.demote_when, "demote_when")
    }

    /// A list of the rule's regexes, compiled on first use.
    fn compiled_list<'a>(
        &self,
        cell: &'a OnceLock<Result<Vec<Regex>, String>>,
        patterns: &[String],
        what: &str,
    ) -> Result<&'a [Regex], ScanError> {
        cell.get_or_init(|| {
            patterns
                .iter()
                .map(|a| compile_unicode(a).map_err(|e| format!("{what} regex {a:?}: {e}")))
                .collect()
        })
        .as_ref()
        .map(Vec::as_slice)
        .map_err(|message| self.error(message))
    }

    fn error(&self, message: &str) -> ScanError {
        ScanError::Rule {
            rule: self.rule.id().to_string(),
            origin: self.rule.provider.origin.clone(),
            message: message.to_string(),
        }
    }
}

/// A regex as written. The `allow` and `demote_when` lists keep Unicode word boundaries: an ASCII
/// one matches more (`%s` right before `é`), and a match there suppresses or demotes a finding.
fn compile_unicode(pattern: &str) -> Result<Regex, regex::Error> {
    RegexBuilder::new(pattern)
        .size_limit(REGEX_SIZE_LIMIT)
        .build()
}

/// Compiles a rule's regex, with ASCII word boundaries ([`crate::word_boundary`]: more
/// matches), and resolves its secret group.
fn compile_rule_regex(rule: &Rule) -> Result<RuleRegex, String> {
    let pattern = crate::word_boundary::ascii_word_boundaries(&rule.raw.regex);
    RuleRegex::new(pattern, |regex| match &rule.raw.secret_group {
        Some(GroupRef::Index(i)) if *i < regex.captures_len() => Ok(*i),
        Some(GroupRef::Index(i)) => Err(format!("secret_group {i} does not exist")),
        Some(GroupRef::Name(name)) => regex
            .capture_names()
            .position(|n| n == Some(name.as_str()))
            .ok_or_else(|| format!("secret_group {name:?} does not exist")),
        None => Ok(regex
            .capture_names()
            .position(|n| n == Some("secret"))
            .unwrap_or(usize::from(regex.captures_len() > 1))),
    })
}

/// What the filters made of one candidate secret.
enum Checked {
    /// The rule's own filters (entropy, placeholder, the rule's allow list) reject it.
    NotASecret,
    /// The value has the rule's exact format but fails its checksum: a malformed or made-up token
    /// of that provider, which a catch-all rule must not report instead.
    BadChecksum,
    /// A secret, silenced by a suppression (allowed value, allow marker, ignored fingerprint).
    Suppressed(Finding, SuppressionKind),
    /// A finding.
    Found(Finding),
}

/// What silenced a secret.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SuppressionKind {
    /// A value regex of `allow.values`.
    AllowValue,
    /// An allow marker on the line (`leakgate:allow` and other tools' markers).
    AllowMarker,
    /// A fingerprint in `.leakgateignore`.
    IgnoreFile,
    /// A version-1 fingerprint in `.leakgateignore` (honoured; the report names its replacement).
    LegacyIgnoreFile,
    /// A fingerprint in the baseline (`--baseline`, `leakgate.baseline`): a known secret.
    Baseline,
}

impl SuppressionKind {
    /// Machine-readable name (audit log, JSON).
    pub fn code(self) -> &'static str {
        match self {
            SuppressionKind::AllowValue => "allow-value",
            SuppressionKind::AllowMarker => "allow-marker",
            SuppressionKind::IgnoreFile => "ignore-file",
            SuppressionKind::LegacyIgnoreFile => "ignore-file-v1",
            SuppressionKind::Baseline => "baseline",
        }
    }
}

/// A secret that a suppression silenced: recorded, not reported.
#[derive(Debug, Clone)]
pub struct Suppressed {
    /// The finding it would have been.
    pub finding: Finding,
    /// What silenced it.
    pub kind: SuppressionKind,
}

/// What scanning one unit produced.
#[derive(Debug, Default)]
pub struct UnitScan {
    /// Findings, in buffer order.
    pub findings: Vec<Finding>,
    /// Suppressed secrets, in buffer order.
    pub suppressed: Vec<Suppressed>,
}

impl UnitScan {
    /// Whether nothing was found or suppressed.
    pub fn is_empty(&self) -> bool {
        self.findings.is_empty() && self.suppressed.is_empty()
    }
}

/// A candidate span with its result, before deduplication.
type Spanned<T> = (usize, usize, T);

/// What the rules produced over one unit, with spans in its buffer, before dedupe.
#[derive(Default)]
struct Collected {
    findings: Vec<Spanned<Finding>>,
    /// Secrets that a suppression silenced (a catch-all must not report them instead).
    suppressed: Vec<Spanned<Suppressed>>,
    /// Spans whose value failed a specific rule's checksum (a catch-all must not report them).
    malformed: Vec<(usize, usize)>,
    /// What the decoded runs hold, deduplicated within their decoded text and placed at their
    /// runs ([`Scanner::scan_decoded`]): a span of the decoded text that silences a catch-all
    /// there has done so already, so at the run only a specific finding of the text as it stands
    /// can silence them.
    decoded: Vec<Spanned<Finding>>,
    /// The decoded runs' suppressed secrets, likewise.
    decoded_suppressed: Vec<Spanned<Suppressed>>,
}

/// How many levels of encoding are undone (base64 of base64, say); deeper ones are not.
pub const MAX_DECODE_DEPTH: usize = 2;

/// The compiled rule set, built once and shared.
pub struct Scanner {
    rules: Vec<CompiledRule>,
    /// The keyword prefilter.
    keywords: Keywords,
    /// For each automaton pattern, the rules that carry it as a keyword.
    keyword_rules: Vec<Vec<u32>>,
    /// The multiline rules' keywords alone, with their rules (built on first use by a
    /// [`RulePart::Multiline`] scan, which then looks for nothing else).
    multiline_keywords: OnceLock<Result<KeywordIndex, String>>,
    suppressions: Suppressions,
    /// Whether encoded runs are decoded and scanned ([`crate::encoded`]).
    decode: bool,
    /// Whether [`RulePart::LineLocal`] is line-local (see
    /// [`Scanner::line_local_part_is_local`]); worked out once, from the rules.
    line_local: bool,
    /// When set, a scan still running at this instant stops with [`ScanError::Deadline`].
    deadline: Option<Instant>,
}

/// Which rules a scan runs. A whole scan is [`RulePart::All`]; the audit's prescan splits it in
/// two: what the single-line rules and the decoded runs find depends on a line and its neighbours
/// only ([`Scanner::line_local_part_is_local`]), what the multiline rules find does not.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RulePart {
    /// Every rule, and the decoded runs.
    All,
    /// The single-line rules and the decoded runs (every rule on a run's decoded text).
    LineLocal,
    /// The multiline rules, without decoding.
    Multiline,
}

impl RulePart {
    /// Whether this part runs a rule that is (or is not) `multiline`.
    fn runs(self, multiline: bool) -> bool {
        match self {
            RulePart::All => true,
            RulePart::LineLocal => !multiline,
            RulePart::Multiline => multiline,
        }
    }
}

/// A window of the buffer a rule's regex runs over.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
struct Window {
    rule: u32,
    start: usize,
    end: usize,
}

/// A keyword prefilter and, for each of its keywords, the rules (indices) that carry it.
type KeywordIndex = (Keywords, Vec<Vec<u32>>);

/// The distinct keywords (lowercased) of the `rules` that `pick` keeps, and for each the
/// indices (into `rules`) of the rules that carry it.
fn keyword_index_of(
    rules: &[&Rule],
    pick: impl Fn(&Rule) -> bool,
) -> (Vec<Vec<u8>>, Vec<Vec<u32>>) {
    let mut keywords: Vec<Vec<u8>> = Vec::new();
    let mut keyword_rules: Vec<Vec<u32>> = Vec::new();
    let mut index = std::collections::HashMap::new();
    for (r, rule) in rules.iter().enumerate() {
        if !pick(rule) {
            continue;
        }
        for k in &rule.raw.keywords {
            let k = k.to_ascii_lowercase().into_bytes();
            let slot = *index.entry(k.clone()).or_insert_with(|| {
                keywords.push(k);
                keyword_rules.push(Vec::new());
                keywords.len() - 1
            });
            let r = r as u32;
            if !keyword_rules[slot].contains(&r) {
                keyword_rules[slot].push(r);
            }
        }
    }
    (keywords, keyword_rules)
}

impl Scanner {
    /// Builds the prefilter over the rules' keywords. Regexes are compiled later, on first use.
    pub fn new(rules: Vec<Rule>, suppressions: Suppressions) -> Result<Self, ScanError> {
        let (keywords, keyword_rules) =
            keyword_index_of(&rules.iter().collect::<Vec<_>>(), |_| true);
        // Only a single-line rule's keyword decides a window of the line-local part, and only a
        // multiline rule's checksum could silence a single-line match (`dedupe`).
        let line_local = rules.iter().all(|r| {
            if r.raw.multiline {
                r.raw.checksum.is_none()
            } else {
                r.raw.keywords.iter().all(|k| !k.contains('\n'))
            }
        });
        let keywords = Keywords::new(keywords).map_err(|e| ScanError::Prefilter(e.to_string()))?;
        let rules = rules
            .into_iter()
            .map(|rule| CompiledRule {
                catch_all: CATCH_ALL_PROVIDERS
                    .contains(&rule.provider.name.to_ascii_lowercase().as_str()),
                newline_bound: OnceLock::new(),
                min_match: OnceLock::new(),
                rule,
                regex: OnceLock::new(),
                allow: OnceLock::new(),
                demote_when: OnceLock::new(),
            })
            .collect::<Vec<CompiledRule>>();
        // A rule of the user's own is compiled now, in both forms (`RuleRegex`): one whose
        // Unicode form does not build fails every scan at once, not only those that meet a
        // non-ASCII window. The embedded pack's rules are checked by the test suite.
        for rule in rules.iter().filter(|r| !r.rule.builtin) {
            rule.regex()?
                .unicode()
                .map_err(|message| rule.error(&message))?;
        }
        Ok(Scanner {
            rules,
            keywords,
            keyword_rules,
            multiline_keywords: OnceLock::new(),
            suppressions,
            decode: true,
            line_local,
            deadline: None,
        })
    }

    /// The same scanner, whose scans stop with [`ScanError::Deadline`] once `deadline` has
    /// passed (checked before each window, so a big blob cannot hold a time budget up).
    #[must_use]
    pub fn with_deadline(mut self, deadline: Option<Instant>) -> Self {
        self.deadline = deadline;
        self
    }

    /// Fails with [`ScanError::Deadline`] when the deadline has passed.
    fn check_deadline(&self) -> Result<(), ScanError> {
        match self.deadline {
            Some(at) if Instant::now() >= at => Err(ScanError::Deadline),
            _ => Ok(()),
        }
    }

    /// The same scanner with other suppressions (a scanner built before the config was read).
    pub fn with_suppressions(mut self, suppressions: Suppressions) -> Self {
        self.suppressions = suppressions;
        self
    }

    /// The same scanner without decoding of encoded runs: the baseline of the throughput
    /// benchmark. Hooks and scans always decode.
    pub fn without_decoding(mut self) -> Self {
        self.decode = false;
        self
    }

    /// The rules, in load order.
    pub fn rules(&self) -> impl Iterator<Item = &Rule> {
        self.rules.iter().map(|r| &r.rule)
    }

    /// Number of rules.
    pub fn len(&self) -> usize {
        self.rules.len()
    }

    /// Whether there are no rules.
    pub fn is_empty(&self) -> bool {
        self.rules.is_empty()
    }

    /// Whether [`RulePart::LineLocal`] is line-local: no single-line rule's keyword holds a line
    /// feed (so a single-line rule's window, and what is kept of its matches, depend only on its
    /// line and the lines next to it) and no multiline rule has a checksum (so no multiline match
    /// can silence a single-line one, see [`Scanner::dedupe`]). The audit's prescan relies on it
    /// to scan only the lines a delta changed (`audit::delta_lines`).
    pub fn line_local_part_is_local(&self) -> bool {
        self.line_local
    }

    /// Whether `path` is allowed by the config (`allow.paths`): such a unit is not scanned.
    pub fn path_allowed(&self, path: &[u8]) -> bool {
        self.suppressions.paths.iter().any(|re| re.is_match(path))
    }

    /// Compiles every rule's regexes now (for `rules check`), reporting the first failure.
    pub fn compile_all(&self) -> Result<(), ScanError> {
        for rule in &self.rules {
            rule.regex()?
                .unicode()
                .map_err(|message| rule.error(&message))?;
            rule.allow()?;
        }
        Ok(())
    }

    /// The multiline rules' keyword search: its hits in a unit's bytes are what
    /// [`Scanner::scan_multiline_with_hits`] takes.
    pub fn multiline_keywords(&self) -> Result<&Keywords, ScanError> {
        Ok(self.keywords_for(RulePart::Multiline)?.0)
    }

    /// [`Scanner::scan_part`] of [`RulePart::Multiline`] with the unit's keyword hits already
    /// known: `hits` must be what [`Scanner::multiline_keywords`] finds in `unit.buf`.
    pub fn scan_multiline_with_hits(
        &self,
        unit: &AddedText,
        hits: &[Hit],
    ) -> Result<UnitScan, ScanError> {
        self.scan_part_with(unit, RulePart::Multiline, Some(hits))
    }

    /// The indexes of the rules whose keyword occurs in `haystack` (the prefilter alone).
    pub fn candidate_rules(&self, haystack: &[u8]) -> Vec<usize> {
        self.candidates_from(&self.keywords.hits(haystack))
    }

    /// [`Scanner::candidate_rules`] through the reference automaton (for the property test).
    pub fn candidate_rules_reference(&self, haystack: &[u8]) -> Vec<usize> {
        self.candidates_from(&self.keywords.nfa_hits(haystack))
    }

    fn candidates_from(&self, hits: &[Hit]) -> Vec<usize> {
        let mut seen = vec![false; self.rules.len()];
        for hit in hits {
            for &r in &self.keyword_rules[hit.keyword as usize] {
                seen[r as usize] = true;
            }
        }
        seen.iter()
            .enumerate()
            .filter_map(|(i, &s)| s.then_some(i))
            .collect()
    }

    /// Scans one unit of added text: its findings.
    pub fn scan(&self, unit: &AddedText) -> Result<Vec<Finding>, ScanError> {
        Ok(self.scan_all(unit)?.findings)
    }

    /// Scans one unit of added text: its findings and the secrets that suppressions silenced.
    pub fn scan_all(&self, unit: &AddedText) -> Result<UnitScan, ScanError> {
        self.scan_part(unit, RulePart::All)
    }

    /// What one part of the rules finds in `unit` (see [`RulePart`]), filtered and deduplicated
    /// within that part.
    pub fn scan_part(&self, unit: &AddedText, part: RulePart) -> Result<UnitScan, ScanError> {
        self.scan_part_with(unit, part, None)
    }

    /// [`Scanner::scan_part`], with `part`'s keyword hits in `unit.buf` when they are known.
    fn scan_part_with(
        &self,
        unit: &AddedText,
        part: RulePart,
        hits: Option<&[Hit]>,
    ) -> Result<UnitScan, ScanError> {
        let (findings, suppressed) = self.dedupe(self.scan_spanned(unit, 0, part, hits)?);
        Ok(UnitScan {
            findings: findings.into_iter().map(|(_, _, f)| f).collect(),
            suppressed: suppressed.into_iter().map(|(_, _, s)| s).collect(),
        })
    }

    /// What the rules find in `unit` and, below [`MAX_DECODE_DEPTH`], in its encoded runs, with
    /// spans in `unit`'s buffer, before dedupe.
    fn scan_spanned(
        &self,
        unit: &AddedText,
        depth: usize,
        part: RulePart,
        hits: Option<&[Hit]>,
    ) -> Result<Collected, ScanError> {
        let windows = self.windows(unit, part, hits)?;
        let mut collected = Collected::default();
        let mut i = 0;
        while i < windows.len() {
            let rule_index = windows[i].rule;
            let compiled = &self.rules[rule_index as usize];
            let group = compiled.regex()?.group();
            while i < windows.len() && windows[i].rule == rule_index {
                self.check_deadline()?;
                let w = windows[i];
                let window = &unit.buf[w.start..w.end];
                // Most windows hold a keyword but no secret: a plain match test is cheaper than
                // setting up capture groups.
                // A single-line rule's value may continue on the next line: joined once here.
                let continued = if compiled.rule.raw.multiline {
                    None
                } else {
                    continued_value(unit, w)
                };
                // A line shorter than the shortest match (a common word holding a token's
                // prefix) is not searched at all.
                let may_match =
                    window.len() >= compiled.min_match() && compiled.is_match(window)?;
                if !may_match && continued.is_none() {
                    i += 1;
                    continue;
                }
                if may_match {
                    let regex = compiled.regex_for(window)?;
                    let multiline = compiled.rule.raw.multiline;
                    each_candidate((regex, group, multiline), window, |whole, m, pass| {
                        // New when the match touches an added line, or when no old version
                        // holds the whole match (an edit outside the secret completed it).
                        let fresh = unit.overlaps_added(w.start + whole.start, w.start + whole.end)
                            || unit.is_new_value(&window[whole]);
                        if !fresh {
                            return Ok(Candidate::NotReported);
                        }
                        let span = (w.start + m.start, w.start + m.end);
                        let found = (&window[m], pass);
                        self.collect(compiled, unit, span, found, &mut collected)
                    })?;
                }
                if let Some(joined) = continued {
                    self.scan_continued(compiled, group, unit, (w, joined), &mut collected)?;
                }
                i += 1;
            }
        }
        // Context lines let a rule see around the added ones; only new matches were collected.
        if self.decode && depth < MAX_DECODE_DEPTH && part != RulePart::Multiline {
            self.scan_decoded(unit, depth, &mut collected)?;
        }
        Ok(collected)
    }

    /// Scans each encoded run of `unit`'s added lines decoded in place ([`crate::encoded`]); what
    /// lies in the decoded text is reported at the run's position.
    fn scan_decoded(
        &self,
        unit: &AddedText,
        depth: usize,
        collected: &mut Collected,
    ) -> Result<(), ScanError> {
        for line in crate::encoded::decoded_lines(unit) {
            let mut inner = AddedText::whole(unit.path.clone(), line.text.clone());
            inner.commit = unit.commit.clone();
            // A decoded run lies in one line: every rule runs on its decoded text, and what it
            // finds is deduplicated there, where a made-up token silences only what it overlaps.
            let inner_found = self.scan_spanned(&inner, depth + 1, RulePart::All, None)?;
            let inner_malformed = inner_found.malformed.clone();
            let (inner_findings, inner_suppressed) = self.dedupe(inner_found);
            // What lies in a decoded run is reported at the run; the rest of the rewritten line
            // was scanned as it stands.
            let relocate = |mut f: Finding, run: &crate::encoded::DecodedRun| {
                let (line_number, column) = unit.position(run.run.0);
                f.line = line_number;
                f.column = column;
                f.description = format!("{} ({}-encoded)", f.description, run.encoding.as_str());
                f
            };
            for (s, e, f) in inner_findings {
                if let Some(run) = line.run_at(s, e) {
                    collected
                        .decoded
                        .push((run.run.0, run.run.1, relocate(f, run)));
                }
            }
            for (s, e, mut x) in inner_suppressed {
                if let Some(run) = line.run_at(s, e) {
                    x.finding = relocate(x.finding, run);
                    collected.decoded_suppressed.push((run.run.0, run.run.1, x));
                }
            }
            // A made-up token in a run still silences a catch-all over the encoded text.
            for (s, e) in inner_malformed {
                if let Some(run) = line.run_at(s, e) {
                    collected.malformed.push(run.run);
                }
            }
        }
        Ok(())
    }

    /// Files one candidate secret at `span` as a finding or a suppressed match; whether it was
    /// reported.
    fn collect(
        &self,
        compiled: &CompiledRule,
        unit: &AddedText,
        span: (usize, usize),
        (secret, pass): (&[u8], Pass),
        collected: &mut Collected,
    ) -> Result<Candidate, ScanError> {
        match self.check(compiled, unit, span.0, secret)? {
            Checked::Found(f) => {
                collected.findings.push((span.0, span.1, f));
                return Ok(Candidate::Reported);
            }
            // A candidate found inside a rejected one, or past it, only adds findings
            // (rule_matches.rs).
            _ if pass != Pass::Primary => {}
            Checked::Suppressed(finding, kind) => {
                collected
                    .suppressed
                    .push((span.0, span.1, Suppressed { finding, kind }));
                return Ok(Candidate::Suppressed);
            }
            Checked::BadChecksum if !compiled.catch_all => collected.malformed.push(span),
            Checked::BadChecksum | Checked::NotASecret => {}
        }
        Ok(Candidate::NotReported)
    }

    /// A single-line rule on a line whose value continues on the next line (`key: >-`, `key:`,
    /// `key = \`): the regex also runs over the line joined with the next one, and what it finds
    /// there maps back to the next line.
    fn scan_continued(
        &self,
        compiled: &CompiledRule,
        group: usize,
        unit: &AddedText,
        (w, joined): (Window, Continued),
        collected: &mut Collected,
    ) -> Result<(), ScanError> {
        // What does not match the joined line at all has no candidate in it.
        if !compiled.is_match(&joined.text)? {
            return Ok(());
        }
        let regex = compiled.regex_for(&joined.text)?;
        each_candidate((regex, group, false), &joined.text, |_, m, pass| {
            if m.start < joined.head_len {
                // Wholly on the first line: its own window reports it.
                return Ok(Candidate::NotReported);
            }
            let start = joined.value_start + (m.start - joined.head_len);
            let span = (start, start + m.len());
            // New when the value or its name's line is added.
            if !unit.overlaps_added(span.0, span.1) && !unit.overlaps_added(w.start, w.end) {
                return Ok(Candidate::NotReported);
            }
            self.collect(compiled, unit, span, (&joined.text[m], pass), collected)
        })
    }

    /// Keyword hits → windows per rule, sorted by rule then offset. A single-line rule's window is
    /// exactly one line (without its `\n` or `\r\n`), so `^`/`$` and `\s` never reach into a
    /// neighbouring line; a multiline rule's window runs from the keyword's line to the end of its
    /// hunk (at most [`MULTILINE_WINDOW`] bytes), and overlapping ones are merged.
    /// `hits`, when given, are the keyword hits of `part`'s keywords in `unit.buf`.
    fn windows(
        &self,
        unit: &AddedText,
        part: RulePart,
        hits: Option<&[Hit]>,
    ) -> Result<Vec<Window>, ScanError> {
        let buf = &unit.buf;
        let mut windows: Vec<Window> = Vec::new();
        let mut line = (usize::MAX, 0usize);
        let mut line_rules: Vec<u32> = Vec::new();
        // Whether a single-line rule can report anything from the current line (see
        // [`single_line_may_report`]); worked out on the line's first single-line rule.
        let mut single_line_ok: Option<bool> = None;
        let (keywords, keyword_rules) = self.keywords_for(part)?;
        let hits = hits.map_or_else(|| Cow::Owned(keywords.hits(buf)), Cow::Borrowed);
        for hit in hits.iter() {
            let pos = hit.start;
            if !(line.0 <= pos && pos < line.1) {
                let start = memchr::memrchr(b'\n', &buf[..pos]).map_or(0, |i| i + 1);
                line = (start, hit.line_end);
                line_rules.clear();
                single_line_ok = None;
            }
            for &r in &keyword_rules[hit.keyword as usize] {
                if line_rules.contains(&r) {
                    continue;
                }
                line_rules.push(r);
                let compiled = &self.rules[r as usize];
                if !part.runs(compiled.rule.raw.multiline) {
                    continue;
                }
                if !compiled.rule.raw.multiline
                    && !*single_line_ok.get_or_insert_with(|| single_line_may_report(unit, line))
                {
                    continue;
                }
                let (start, end) = if compiled.rule.raw.multiline {
                    let hunk_end = unit.hunk_end(unit.hunk_index(line.0));
                    let mut end = hunk_end.min(line.0.saturating_add(MULTILINE_WINDOW));
                    if let Some(lines) = compiled.newline_bound() {
                        end = end.min(lines_after(buf, line.1, lines));
                    }
                    (line.0, end.max(line.1))
                } else {
                    let end = if line.1 > line.0 && buf[line.1 - 1] == b'\r' {
                        line.1 - 1
                    } else {
                        line.1
                    };
                    (line.0, end)
                };
                windows.push(Window {
                    rule: r,
                    start,
                    end,
                });
            }
        }
        windows.sort_unstable();
        let mut merged: Vec<Window> = Vec::with_capacity(windows.len());
        for w in windows {
            match merged.last_mut() {
                Some(last)
                    if last.rule == w.rule
                        && w.start < last.end
                        && self.rules[w.rule as usize].rule.raw.multiline =>
                {
                    last.end = last.end.max(w.end);
                }
                _ => merged.push(w),
            }
        }
        Ok(merged)
    }

    /// The keyword prefilter a scan of `part` uses, with the rules of each keyword: the
    /// multiline rules' own for [`RulePart::Multiline`] (fewer keywords, fewer candidates), all of
    /// them otherwise.
    fn keywords_for(&self, part: RulePart) -> Result<(&Keywords, &[Vec<u32>]), ScanError> {
        if part != RulePart::Multiline {
            return Ok((&self.keywords, &self.keyword_rules));
        }
        let built = self.multiline_keywords.get_or_init(|| {
            let rules: Vec<&Rule> = self.rules.iter().map(|r| &r.rule).collect();
            let (keywords, keyword_rules) = keyword_index_of(&rules, |r| r.raw.multiline);
            Keywords::new(keywords)
                .map(|k| (k, keyword_rules))
                .map_err(|e| e.to_string())
        });
        match built {
            Ok((keywords, rules)) => Ok((keywords, rules)),
            Err(e) => Err(ScanError::Prefilter(e.clone())),
        }
    }

    /// Applies the filters to one candidate secret: not a secret (the rule's own filters), a
    /// secret silenced by a suppression, or a finding.
    fn check(
        &self,
        compiled: &CompiledRule,
        unit: &AddedText,
        start: usize,
        secret: &[u8],
    ) -> Result<Checked, ScanError> {
        let raw = &compiled.rule.raw;
        if let Some(min) = raw.min_entropy {
            if filters::shannon_entropy(secret) < min {
                return Ok(Checked::NotASecret);
            }
        }
        if let Some(checksum) = raw.checksum {
            if !checksum.verify(secret) {
                return Ok(Checked::BadChecksum);
            }
        }
        if filters::is_placeholder(secret) {
            return Ok(Checked::NotASecret);
        }
        if compiled.allow()?.iter().any(|re| re.is_match(secret)) {
            return Ok(Checked::NotASecret);
        }
        let (line, column) = unit.position(start);
        let line_text = unit.line_at(start);
        let confidence = if compiled
            .demote_when()?
            .iter()
            .any(|re| re.is_match(line_text))
        {
            crate::rules::Confidence::Low
        } else {
            raw.confidence
        };
        let finding = Finding {
            rule: raw.id.clone(),
            description: raw.description.clone(),
            provider: Arc::clone(&compiled.rule.provider),
            severity: raw.severity,
            confidence,
            path: unit.path.clone(),
            commit: unit.commit.clone(),
            line,
            column,
            secret: Secret::new(secret.to_vec()),
            fingerprint: OnceLock::new(),
        };
        let kind = if self
            .suppressions
            .values
            .iter()
            .any(|re| re.is_match(secret))
        {
            SuppressionKind::AllowValue
        } else if !self.suppressions.ignore_markers
            && filters::has_allow_marker(unit.line_at(start))
        {
            SuppressionKind::AllowMarker
        } else if let Some(by) =
            self.suppressions
                .fingerprints
                .ignores(&finding.rule, secret, || finding.fingerprint())
        {
            match by {
                IgnoredBy::Current => SuppressionKind::IgnoreFile,
                IgnoredBy::Legacy => SuppressionKind::LegacyIgnoreFile,
                IgnoredBy::Baseline => SuppressionKind::Baseline,
            }
        } else {
            return Ok(Checked::Found(finding));
        };
        Ok(Checked::Suppressed(finding, kind))
    }

    /// Drops a catch-all finding (or suppressed match) whose secret overlaps a specific rule's
    /// finding or suppressed match, and repeats of the same secret span by the same rule; returns
    /// both in buffer order.
    fn dedupe(&self, collected: Collected) -> (Vec<Spanned<Finding>>, Vec<Spanned<Suppressed>>) {
        let Collected {
            findings: mut found,
            mut suppressed,
            malformed,
            mut decoded,
            mut decoded_suppressed,
        } = collected;
        let is_catch_all = |rule: &str| {
            self.rules
                .iter()
                .find(|r| r.rule.id() == rule)
                .is_some_and(|r| r.catch_all)
        };
        let specific = |f: &[Spanned<Finding>]| -> Vec<(usize, usize)> {
            f.iter()
                .filter(|(_, _, f)| !is_catch_all(&f.rule))
                .map(|(s, e, _)| (*s, *e))
                .collect()
        };
        let reported = specific(&found);
        let reported_anywhere = [reported.clone(), specific(&decoded)].concat();
        let silent: Vec<(usize, usize)> = suppressed
            .iter()
            .chain(&decoded_suppressed)
            .filter(|(_, _, s)| !is_catch_all(&s.finding.rule))
            .map(|(s, e, _)| (*s, *e))
            .chain(malformed)
            .collect();
        let overlaps = |spans: &[(usize, usize)], s: usize, e: usize| {
            spans.iter().any(|(ss, se)| *ss < e && s < *se)
        };
        let keep = |s: usize, e: usize, f: &Finding| {
            !is_catch_all(&f.rule)
                || (!overlaps(&reported_anywhere, s, e)
                    && stands_beside(f.secret.expose(), (s, e), &silent))
        };
        let keep_decoded =
            |s: usize, e: usize, f: &Finding| !is_catch_all(&f.rule) || !overlaps(&reported, s, e);
        found.retain(|(s, e, f)| keep(*s, *e, f));
        suppressed.retain(|(s, e, x)| keep(*s, *e, &x.finding));
        decoded.retain(|(s, e, f)| keep_decoded(*s, *e, f));
        decoded_suppressed.retain(|(s, e, x)| keep_decoded(*s, *e, &x.finding));
        found.append(&mut decoded);
        suppressed.append(&mut decoded_suppressed);
        // Repeats are one span, rule and value: the findings of an encoded run all sit at the
        // run, and two tokens of one rule there are two secrets to rotate.
        found.sort_by(|a, b| finding_key(a).cmp(&finding_key(b)));
        found.dedup_by(|a, b| finding_key(a) == finding_key(b));
        suppressed.sort_by(|a, b| suppressed_key(a).cmp(&suppressed_key(b)));
        suppressed.dedup_by(|a, b| suppressed_key(a) == suppressed_key(b));
        (found, suppressed)
    }
}

/// What tells a finding from its repeats (borrowed: no copy of a value per comparison).
fn finding_key((s, e, f): &Spanned<Finding>) -> (usize, usize, &str, &[u8]) {
    finding_key_of(*s, *e, f)
}

/// [`finding_key`] for a suppressed secret.
fn suppressed_key((s, e, x): &Spanned<Suppressed>) -> (usize, usize, &str, &[u8]) {
    finding_key_of(*s, *e, &x.finding)
}

/// The key of `f` at `s..e`.
fn finding_key_of(s: usize, e: usize, f: &Finding) -> (usize, usize, &str, &[u8]) {
    (s, e, f.rule.as_str(), f.secret.expose())
}

/// The shortest part of a catch-all finding's value, outside the suppressed or malformed spans
/// of specific rules overlapping it, that lets it stand.
const UNCOVERED_MIN_BYTES: usize = 8;

/// Whether a catch-all finding of `secret` (at `start`) stands beside the `silent` spans (the
/// suppressed or malformed candidates of specific rules). Such a span silences a catch-all
/// finding of the same value (a made-up `ghp_` token in a generic `API_KEY = "…"`), and of the
/// same value with a plain suffix (`:x-oauth-basic`, `@github.com`, `-staging-only`), but not
/// one that runs on with more key material (`"ghp_<bad checksum>.<40 more characters>"`): a
/// part of at least [`UNCOVERED_MIN_BYTES`] outside every silent span, holding a letter and a
/// digit, was never judged by the specific rule.
///
/// A finding from a decoded run spans the run, not its value: there only the part's length
/// counts.
fn stands_beside(secret: &[u8], (start, end): (usize, usize), silent: &[(usize, usize)]) -> bool {
    let parts = uncovered(start, end, silent);
    if parts.len() == 1 && parts[0] == (start..end) {
        return true;
    }
    parts.iter().any(|p| {
        if p.len() < UNCOVERED_MIN_BYTES {
            return false;
        }
        if secret.len() != end - start {
            return true;
        }
        let part = &secret[p.start - start..p.end - start];
        part.iter().any(u8::is_ascii_alphabetic) && part.iter().any(u8::is_ascii_digit)
    })
}

/// The parts of `s..e` outside every span of `spans`, in order.
fn uncovered(s: usize, e: usize, spans: &[(usize, usize)]) -> Vec<std::ops::Range<usize>> {
    let mut clipped: Vec<(usize, usize)> = spans
        .iter()
        .filter(|(ss, se)| *ss < e && s < *se)
        .map(|(ss, se)| ((*ss).max(s), (*se).min(e)))
        .collect();
    clipped.sort_unstable();
    let mut parts = Vec::new();
    let mut reach = s;
    for (cs, ce) in clipped {
        if cs > reach {
            parts.push(reach..cs);
        }
        reach = reach.max(ce);
    }
    if reach < e {
        parts.push(reach..e);
    }
    parts
}

/// A line joined with the next one, for a value written on the line after its name.
struct Continued {
    /// The first line up to its assignment (block indicators and line-continuation marks cut),
    /// then one space, then the next line without its indentation.
    text: Vec<u8>,
    /// Bytes of `text` before the next line's part.
    head_len: usize,
    /// Buffer offset of the next line's part.
    value_start: usize,
}

/// Whether a single-line rule's window on `line` (its bounds in `unit`'s buffer, without the
/// line feed) can report anything: the line overlaps an added line, or the next line does (a
/// value continued there, see [`continued_value`]). A line kept only as context is a line of an
/// old version as it stands, so a match inside it is neither on an added line nor new
/// ([`AddedText::is_new_value`]): its regex need not run. Multiline rules are not asked: their
/// matches reach into other lines.
fn single_line_may_report(unit: &AddedText, line: (usize, usize)) -> bool {
    if unit.overlaps_added(line.0, line.1) {
        return true;
    }
    let next = line.1 + 1;
    if next >= unit.buf.len() {
        return false;
    }
    let next_end = memchr::memchr(b'\n', &unit.buf[next..]).map_or(unit.buf.len(), |i| next + i);
    unit.overlaps_added(next, next_end)
}

/// When window `w` (one line) ends where a value continues on the next line of the same hunk —
/// a YAML block scalar (`key: >-`, `key: |`), a bare `key:` or `key =`, a trailing `\` or `(` —
/// the line joined with the next one.
/// The end of the `n`-th line after the line that ends at `line_end` (past its line feed, or the
/// end of `buf`): the window of a multiline match that starts on that line and holds at most `n`
/// line feeds.
fn lines_after(buf: &[u8], line_end: usize, n: usize) -> usize {
    let mut end = line_end;
    for _ in 0..n {
        if end >= buf.len() {
            return buf.len();
        }
        end = memchr::memchr(b'\n', &buf[end + 1..]).map_or(buf.len(), |i| end + 1 + i);
    }
    (end + 1).min(buf.len())
}

fn continued_value(unit: &AddedText, w: Window) -> Option<Continued> {
    let line = unit.buf.get(w.start..w.end)?;
    let trimmed = trim_end(line);
    let head: &[u8] = if let Some(h) = trimmed
        .strip_suffix(b"\\")
        .or_else(|| trimmed.strip_suffix(b"("))
    {
        h
    } else if let Some(colon) = yaml_block_indicator(trimmed) {
        &trimmed[..=colon]
    } else if trimmed.ends_with(b":") || trimmed.ends_with(b"=") || trimmed.ends_with(b"=>") {
        trimmed
    } else {
        return None;
    };
    let next_start = w.end + unit.buf[w.end..].iter().position(|&b| b == b'\n')? + 1;
    if unit.hunk_index(next_start) != unit.hunk_index(w.start) || next_start >= unit.buf.len() {
        return None;
    }
    let next_end =
        memchr::memchr(b'\n', &unit.buf[next_start..]).map_or(unit.buf.len(), |i| next_start + i);
    let next = &unit.buf[next_start..next_end];
    let indent = next.iter().take_while(|b| b.is_ascii_whitespace()).count();
    let value = trim_end(&next[indent..]);
    if value.is_empty() {
        return None;
    }
    let mut text = Vec::with_capacity(head.len() + 1 + value.len());
    text.extend_from_slice(trim_end(head));
    text.push(b' ');
    let head_len = text.len();
    text.extend_from_slice(value);
    Some(Continued {
        text,
        head_len,
        value_start: next_start + indent,
    })
}

/// The offset of the `:` of a YAML block scalar header at the end of `line` (`: |`, `: >-`,
/// `: |+2`).
fn yaml_block_indicator(line: &[u8]) -> Option<usize> {
    let modifiers = line
        .iter()
        .rev()
        .take_while(|b| matches!(b, b'-' | b'+' | b'0'..=b'9'))
        .count();
    let rest = &line[..line.len() - modifiers];
    let rest = rest
        .strip_suffix(b"|")
        .or_else(|| rest.strip_suffix(b">"))?;
    let rest = trim_end(rest);
    rest.ends_with(b":").then(|| rest.len() - 1)
}

fn trim_end(bytes: &[u8]) -> &[u8] {
    let n = bytes
        .iter()
        .rev()
        .take_while(|b| b.is_ascii_whitespace())
        .count();
    &bytes[..bytes.len() - n]
}

/// A scanner over one rule file's text, for the library's unit tests.
#[cfg(test)]
pub(crate) fn test_scanner(yaml: &str) -> Scanner {
    let f = crate::rules::parse_rule_file("t.yaml", yaml).unwrap();
    Scanner::new(
        crate::rules::validate_file("t.yaml", f, None, false).unwrap(),
        Suppressions::default(),
    )
    .unwrap()
}

/// The Acme rules of the unit tests: a token and a PEM-like block.
#[cfg(test)]
pub(crate) const TEST_RULES: &str = r"
provider: Acme
remediation: {revoke: r, rotate: o, docs: d}
rules:
  - id: acme-token
    description: Acme token
    regex: '\b(acme_[A-Za-z0-9]{16})\b'
    keywords: [acme_]
  - id: acme-pem
    description: Acme PEM
    regex: '-----BEGIN ACME KEY-----\n(?:[A-Za-z0-9+/=]+\n){2,}-----END ACME KEY-----'
    keywords: ['-----BEGIN ACME']
    multiline: true
";

#[cfg(test)]
mod tests {
    use super::*;

    fn scanner(yaml: &str) -> Scanner {
        test_scanner(yaml)
    }

    const RULES: &str = TEST_RULES;

    /// A single-line rule whose value may sit on the line after its name.
    const PASSWORD_RULE: &str = r"
provider: Acme
remediation: {revoke: r, rotate: o, docs: d}
rules:
  - id: acme-password
    description: Acme password
    regex: 'acme_password: *([A-Za-z0-9]{16})\b'
    keywords: [acme_password]
";

    #[test]
    fn finds_token_with_line_and_column() {
        let s = scanner(RULES);
        let unit = AddedText::whole("f.env", b"x=1\nTOKEN=acme_Q8zR2mLx9VtB4nW7\n".to_vec());
        let f = s.scan(&unit).unwrap();
        assert_eq!(f.len(), 1);
        assert_eq!((f[0].line, f[0].column), (2, 7));
        assert_eq!(f[0].rule, "acme-token");
    }

    #[test]
    fn a_window_exactly_as_long_as_the_shortest_match_is_searched() {
        let s = scanner(RULES);
        // Built from parts: the project scans itself.
        let token = ["acme", "_Q8zR2mLx9VtB4nW7"].concat();
        assert_eq!(
            crate::newline_bound::min_match_bytes(r"\b(acme_[A-Za-z0-9]{16})\b"),
            token.len()
        );
        let pem = "-----BEGIN ACME KEY-----\nQ\nR\n-----END ACME KEY-----";
        for text in [token.clone(), format!("{token}\r\n"), pem.to_string()] {
            let unit = AddedText::whole("f", text.clone().into_bytes());
            assert_eq!(s.scan(&unit).unwrap().len(), 1, "{text:?}");
        }
        // One byte shorter holds no match, and is not searched.
        let unit = AddedText::whole("f", token.as_bytes()[..token.len() - 1].to_vec());
        assert!(s.scan(&unit).unwrap().is_empty());
    }

    #[test]
    fn a_context_line_is_searched_only_for_a_value_continued_on_an_added_line() {
        let s = scanner(PASSWORD_RULE);
        // The name on an unchanged line, the value on the added line after it: found.
        let mut unit = AddedText::new("f.yaml");
        unit.push_context_line(1, b"acme_password:\n");
        unit.push_line(2, b"  Q8zR2mLx9VtB4nW7\n");
        let found = s.scan(&unit).unwrap();
        assert_eq!(found.len(), 1);
        assert_eq!((found[0].line, found[0].column), (2, 3));
        // The whole value on an unchanged line next to an added one: not new, not reported.
        let mut unit = AddedText::new("f.yaml");
        unit.push_context_line(1, b"acme_password: Q8zR2mLx9VtB4nW7\n");
        unit.push_line(2, b"other: 1\n");
        unit.previous = vec![b"acme_password: Q8zR2mLx9VtB4nW7\n".to_vec()];
        assert!(s.scan(&unit).unwrap().is_empty());
    }

    /// Red team: a line of a streamed window that starts in the overlap kept for context and
    /// runs into the window's own share is searched (its keyword lies in context, its secret in
    /// the share).
    #[test]
    fn a_line_from_the_context_overlap_into_the_share_is_searched() {
        let s = scanner(RULES);
        let token = ["acme", "_Q8zR2mLx9VtB4nW7"].concat();
        let text = format!("head\nkey {token} tail\nnext\n");
        // The share ends before the next line: both neighbours are context.
        let share = (text.find(&token).unwrap() + 3, text.find("\nnext").unwrap());
        let mut unit = AddedText::window("big.bin", text.into_bytes(), 10, 1);
        unit.set_added(share.0, share.1);
        let found = s.scan(&unit).unwrap();
        assert_eq!(found.len(), 1);
        assert_eq!((found[0].line, found[0].column), (11, 5));
    }

    /// Red team: a merge whose name line (CRLF) is unchanged in both parents and whose value is on
    /// the next line, added relative to both: found, though the name line is only context and is
    /// shorter than the rule's shortest match. The same value taken from one parent is not new.
    #[test]
    fn a_merged_value_under_an_unchanged_crlf_name_line_is_found() {
        let s = scanner(PASSWORD_RULE);
        let value = ["Q8zR2mLx", "9VtB4nW7"].concat();
        let p1 = b"a: 1\r\nacme_password:\r\n  placeholder\r\n".to_vec();
        let p2 = format!("a: 2\r\nacme_password:\r\n  {value}\r\n").into_bytes();
        let scan = |new: &[u8]| {
            let mut unit = crate::git::diff::added_text(
                b"f.yaml",
                &[p1.as_slice(), p2.as_slice()],
                new.to_vec(),
            );
            unit.previous = vec![p1.clone(), p2.clone()];
            s.scan(&unit).unwrap()
        };
        let evil = ["Zt5", &value[3..]].concat();
        let found = scan(format!("a: 3\r\nacme_password:\r\n  {evil}\r\n").as_bytes());
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!((found[0].line, found[0].column), (3, 3));
        assert!(scan(format!("a: 3\r\nacme_password:\r\n  {value}\r\n").as_bytes()).is_empty());
    }

    #[test]
    fn keyword_is_case_insensitive_but_regex_decides() {
        let s = scanner(RULES);
        let unit = AddedText::whole("f", b"ACME_Q8zR2mLx9VtB4nW7\n".to_vec());
        assert!(s.scan(&unit).unwrap().is_empty());
    }

    #[test]
    fn multiline_rule_spans_lines_but_not_hunks() {
        let s = scanner(RULES);
        let pem = b"-----BEGIN ACME KEY-----\nQUJD\nREVG\n-----END ACME KEY-----\n";
        let unit = AddedText::whole("k", pem.to_vec());
        assert_eq!(s.scan(&unit).unwrap().len(), 1);
        let mut split = AddedText::new("k");
        split.push_line(1, b"-----BEGIN ACME KEY-----\n");
        split.push_line(2, b"QUJD\n");
        split.push_line(9, b"REVG\n");
        split.push_line(10, b"-----END ACME KEY-----\n");
        assert!(s.scan(&split).unwrap().is_empty());
    }

    #[test]
    fn a_bounded_multiline_rule_sees_as_many_lines_as_its_match_can_span() {
        let s = scanner(
            r"
provider: Acme
remediation: {revoke: r, rotate: o, docs: d}
rules:
  - id: acme-pair
    description: Acme user and password
    regex: '(?m)^(?:acme_user|login): \w+\r?\n(?:[^\n]*\n)?acme_pass: (\w+)$'
    keywords: ['acme_user']
    multiline: true
",
        );
        let found = |text: &str| s.scan(&AddedText::whole("c.yaml", text.into())).unwrap();
        // Two line feeds at most: the password one or two lines under the user.
        assert_eq!(found("acme_user: a\nacme_pass: sunflowers\n").len(), 1);
        assert_eq!(
            found("x\nacme_user: a\nhost: h\nacme_pass: crocus\n").len(),
            1
        );
        // A match must start on a keyword's line: one starting three lines further down (on a
        // line without a keyword) lies past the window and is not looked for.
        let far = "acme_user: a\nhost: h\nport: 1\nacme_user: b\nacme_pass: violet\n";
        assert_eq!(
            found(far).len(),
            1,
            "the second user line has its own window"
        );
        let no_keyword = "acme_user: a\nhost: h\nport: 1\nlogin: b\nacme_pass: violet\n";
        assert_eq!(found(no_keyword).len(), 0);
    }

    #[test]
    fn allow_marker_suppresses() {
        let s = scanner(RULES);
        let unit = AddedText::whole(
            "f",
            b"t = acme_Q8zR2mLx9VtB4nW7 # leakgate:allow\n".to_vec(),
        );
        assert!(s.scan(&unit).unwrap().is_empty());
    }

    #[test]
    fn invalid_utf8_and_crlf_are_fine() {
        let s = scanner(RULES);
        let unit = AddedText::whole("f", b"\xff\xfe t=acme_Q8zR2mLx9VtB4nW7\r\n\xc3".to_vec());
        assert_eq!(s.scan(&unit).unwrap().len(), 1);
    }

    #[test]
    fn a_catch_all_does_not_report_a_token_that_fails_its_providers_checksum() {
        let pack = crate::builtin::rules().unwrap();
        let s = Scanner::new(pack, Suppressions::default()).unwrap();
        // `ghp_` + 36 characters whose last 6 are not the CRC32 of the first 30.
        let bad = b"GITHUB_TOKEN = \"ghp_Q8zR2mLx9VtB4nW7Kd3Fh6Jp1Ys5Ua0Ce2Gi\"\n";
        let found = s.scan(&AddedText::whole("f.py", bad.to_vec())).unwrap();
        assert!(found.is_empty(), "{found:?}");
        // The same line with an ordinary value is still reported by the catch-all.
        let plain = b"GITHUB_TOKEN = \"Q8zR2mLx9VtB4nW7Kd3Fh6Jp1Ys5Ua0Ce2Gi\"\n";
        let found = s.scan(&AddedText::whole("f.py", plain.to_vec())).unwrap();
        assert_eq!(found.len(), 1, "{found:?}");
        // A malformed token followed by more secret material: the catch-all value runs well past
        // what the specific rule judged, and is reported.
        let longer =
            b"API_KEY = \"ghp_Q8zR2mLx9VtB4nW7Kd3Fh6Jp1Ys5Ua0Ce2Gi.Zr9tBwQ7pLm2Xv4Nc8Kd\"\n";
        let found = s.scan(&AddedText::whole("f.py", longer.to_vec())).unwrap();
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(found[0].secret.expose().len(), 61, "{found:?}");
    }

    /// A rule of the user's whose Unicode form is over the size limit fails the scanner at
    /// once, whatever the text (its ASCII form alone would build).
    #[test]
    fn a_custom_rule_too_big_in_unicode_fails_at_once() {
        let yaml = r"
provider: Acme
remediation: {revoke: r, rotate: o, docs: d}
rules:
  - id: acme-huge
    description: Acme huge
    regex: 'acmekey=(\w{400}[\w.-]{0,200})'
    keywords: [acmekey]
";
        let f = crate::rules::parse_rule_file("t.yaml", yaml).unwrap();
        let rules = crate::rules::validate_file("t.yaml", f, None, false).unwrap();
        let err = Scanner::new(rules, Suppressions::default())
            .err()
            .expect("refused");
        assert!(err.to_string().contains("acme-huge"), "{err}");
    }

    #[test]
    fn a_scan_past_its_deadline_stops() {
        let unit = AddedText::whole("f.env", b"TOKEN=acme_Q8zR2mLx9VtB4nW7\n".to_vec());
        let s = scanner(RULES).with_deadline(Some(Instant::now()));
        assert!(matches!(s.scan(&unit), Err(ScanError::Deadline)));
        let s = s.with_deadline(None);
        assert_eq!(s.scan(&unit).unwrap().len(), 1);
    }

    /// A made-up token in an encoded run silences only what it overlaps in the decoded text,
    /// not every catch-all finding of the run.
    #[test]
    fn a_made_up_token_in_a_decoded_run_does_not_hide_its_neighbours() {
        let pack = crate::builtin::rules().unwrap();
        let s = Scanner::new(pack, Suppressions::default()).unwrap();
        // A value made at run time (a literal here would be a finding of the self-scan).
        let password = crate::test_support::random_alnum(&mut crate::test_support::Rng(0x71), 24);
        let json = format!(
            "{{\"github_token\": \"ghp_{}\", \"db_password\": \"{password}\"}}",
            "X".repeat(36)
        );
        let line = format!("APP_CONFIG={}\n", crate::test_support::b64(json.as_bytes()));
        let found = s
            .scan(&AddedText::whole("app.env", line.into_bytes()))
            .unwrap();
        assert!(
            found
                .iter()
                .any(|f| f.secret.expose() == password.as_bytes()),
            "{found:?}"
        );
        // The made-up token alone, encoded, is still silent.
        let json = format!("{{\"github_token\": \"ghp_{}\"}}", "X".repeat(36));
        let line = format!("APP_CONFIG={}\n", crate::test_support::b64(json.as_bytes()));
        let found = s
            .scan(&AddedText::whole("app.env", line.into_bytes()))
            .unwrap();
        assert!(found.is_empty(), "{found:?}");
    }

    /// Two tokens of one rule in one encoded run are two findings, both at the run.
    #[test]
    fn two_tokens_of_one_rule_in_an_encoded_run_are_both_reported() {
        let pack = crate::builtin::rules().unwrap();
        let s = Scanner::new(pack, Suppressions::default()).unwrap();
        let token = |seed: u64| {
            let random = crate::test_support::random_alnum(&mut crate::test_support::Rng(seed), 30);
            let check = crate::checksum::base62(u64::from(crc32fast::hash(random.as_bytes())), 6);
            format!("ghp_{random}{}", String::from_utf8(check).unwrap())
        };
        let (a, b) = (token(0x72), token(0x73));
        let text = format!("tokens: {a} {b}");
        let line = format!("CONFIG={}\n", crate::test_support::b64(text.as_bytes()));
        let found = s
            .scan(&AddedText::whole("app.env", line.into_bytes()))
            .unwrap();
        let values: Vec<&[u8]> = found.iter().map(|f| f.secret.expose()).collect();
        assert!(
            values.contains(&a.as_bytes()) && values.contains(&b.as_bytes()),
            "{found:?}"
        );
    }

    #[test]
    fn uncovered_lists_the_parts_outside_every_span() {
        assert_eq!(uncovered(10, 20, &[]), vec![(10..20)]);
        assert_eq!(uncovered(10, 20, &[(0, 12), (18, 30)]), vec![(12..18)]);
        assert_eq!(
            uncovered(10, 20, &[(12, 16), (14, 17), (30, 40)]),
            [10..12, 17..20]
        );
        assert!(uncovered(10, 20, &[(5, 25)]).is_empty());
    }

    #[test]
    fn a_catch_all_stands_beside_a_silent_span_only_with_key_material_past_it() {
        let beside =
            |v: &[u8], silent: &[(usize, usize)]| stands_beside(v, (5, 5 + v.len()), silent);
        let token = [(5, 19)];
        assert!(beside(b"ghp_0123456789.Zr9tBwQ7pLm2", &token));
        assert!(!beside(b"ghp_0123456789:x-oauth-basic", &token));
        assert!(!beside(b"ghp_0123456789-staging-only", &token));
        assert!(!beside(b"ghp_0123456789.Zr9tB", &token));
        assert!(beside(b"ghp_0123456789:x-oauth-basic", &[]));
        // A decoded run's finding: its span is the run's, longer than the value.
        assert!(stands_beside(b"short", (0, 40), &[(0, 20)]));
        assert!(!stands_beside(b"short", (0, 40), &[(0, 36)]));
    }
}

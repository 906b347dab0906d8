//! A rule's candidate matches in one window, searched so that a rejected candidate does not
//! hide a secret inside its value.
//!
//! A regex's matches do not overlap: after a match, the next search starts at its end. When the
//! filters reject the match's value (too little entropy, a placeholder, an allowed value), that
//! rule hides whatever the value covered: in `pagerduty_token=xxxxxxxxxx_pagerduty.token=<token>`
//! the decoy's value runs over the second key name, and the real token after it was never
//! matched.
//!
//! So the matches are found as before (each search from the end of the last match, the
//! *primary* candidates), and, after a primary candidate that was not reported, the part of its
//! match from the start of its value (or from its second byte, when the value starts the match)
//! is searched again for matches that start there (the *inside* candidates). What the primary search finds is what the plain iteration finds, so
//! searching inside can only add findings; inside candidates count only when reported (a
//! rejected or suppressed one leaves no span that could silence another rule's finding).
//!
//! A multiline rule's header may be followed by several values (a Kubernetes Secret's `data:`,
//! a `[security]` section), and its lazy gap takes the first: the values after it could only be
//! reached from the header. So after every multiline candidate, the search also starts again at
//! its match with its value *blanked* (`search_blanked`); these candidates, too, count only when
//! reported. This is done after a reported candidate as well: each value is a secret to rotate,
//! and a first value left out later (by a baseline) must not hide the ones after it. After each
//! value, the part of the first match before its value's line (the header, or a compact stand-in
//! for it with which the rule finds the first value again) is copied to just before the line
//! after that value, and the next search starts there: a section of many values costs in
//! proportion to its length, and its last values are as near the header as its first.
//!
//! Searching inside is bounded: a rule whose value may hold its own key name
//! (`kubectl --token=` followed by any run of token characters), whose match runs on past the
//! value to a distant word, or whose value is an open-ended run would otherwise search most of a
//! long line again from every rejected value, quadratic in the line's length. Each window may
//! spend on inside searches [`INSIDE_BUDGET_FACTOR`] times its length plus
//! [`INSIDE_BUDGET_FLOOR`] bytes of search (the bytes from where a search starts to the end of
//! what it finds), and on blanked searches, which have budgets of their own so that neither
//! can starve the other (one after rejected candidates, one after reported or suppressed ones),
//! [`BLANKED_WINDOW_FACTOR`] times its length plus [`BLANKED_BUDGET_FACTOR`] times the bytes of
//! its primary matches plus [`BLANKED_BUDGET_FLOOR`]; past that, only primary candidates are
//! searched in that window, as before this module.

use std::ops::Range;

use regex::bytes::Regex;

/// How many times a window's length its inside searches may cover.
pub const INSIDE_BUDGET_FACTOR: usize = 4;

/// Bytes of inside search every window may use, whatever its length.
pub const INSIDE_BUDGET_FLOOR: usize = 64 * 1024;

/// How many times the bytes of the plain search's matches a window's blanked searches may
/// cover. Each blanked search captures its whole span from the header, the costliest search
/// there is; a plain search captures only its matches and runs over the rest at the lazy DFA's
/// speed. So the blanked searches' share is counted against those matches, not the window.
pub const BLANKED_BUDGET_FACTOR: usize = 2;

/// Bytes of blanked search every window may use, whatever its matches.
pub const BLANKED_BUDGET_FLOOR: usize = 16 * 1024;

/// How many times its length a window's blanked searches may cover besides: a chain of blanked
/// searches costs about the length of its section (see [`blanked_values`]), so a window of long
/// sections of many values is searched to its end.
pub const BLANKED_WINDOW_FACTOR: usize = 2;

/// The byte a blanked value's bytes become (line feeds and carriage returns stay).
const BLANK: u8 = b' ';

/// What became of one candidate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Candidate {
    /// Reported (as a finding).
    Reported,
    /// A secret a suppression left out (an ignore entry, a baseline's): searched inside as a
    /// rejected one, but its blanked searches spend the budget of reported ones.
    Suppressed,
    /// Rejected or not new.
    NotReported,
}

/// Which search found a candidate (see the module docs).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pass {
    /// The plain, non-overlapping search: every outcome counts.
    Primary,
    /// A search inside a rejected candidate's value: only a finding counts.
    Inside,
    /// A search of a multiline rule from a rejected candidate's start with the rejected values
    /// blanked out: only a finding counts.
    Blanked,
}

/// Calls `visit` with each candidate of `regex` in `haystack`: the whole match's range, its
/// secret group `group`'s range, and the search that found it. Matches without the secret group
/// are skipped. With `multiline`, each candidate's match is also searched again with its value
/// blanked out (see the module docs).
///
/// # Errors
/// What `visit` returns.
pub fn each_candidate<E>(
    (regex, group, multiline): (&Regex, usize, bool),
    haystack: &[u8],
    mut visit: impl FnMut(Range<usize>, Range<usize>, Pass) -> Result<Candidate, E>,
) -> Result<(), E> {
    let mut budget = haystack
        .len()
        .saturating_mul(INSIDE_BUDGET_FACTOR)
        .saturating_add(INSIDE_BUDGET_FLOOR);
    let mut blanker = Blanker::new(haystack.len());
    let mut next = regex.captures_at(haystack, 0);
    while let Some(caps) = next.take() {
        let Some(whole) = caps.get(0) else { break };
        let at = whole.end().max(whole.start() + 1);
        next = (at <= haystack.len())
            .then(|| regex.captures_at(haystack, at))
            .flatten();
        // A chain of moved headers stops at the next plain match's start (see
        // `blanked_values`).
        let limit = next
            .as_ref()
            .and_then(|c| c.get(0))
            .map_or(haystack.len(), |m| m.start());
        blanker.earn(whole.len());
        if let Some(secret) = caps.get(group) {
            let outcome = visit(whole.range(), secret.range(), Pass::Primary)?;
            if outcome != Candidate::Reported {
                let inside = inside_of(whole.range(), secret.start())..whole.end();
                search_inside((regex, group), haystack, inside, &mut budget, &mut visit)?;
            }
            if multiline && whole.start() < secret.start() {
                let first = (whole.range(), secret.range(), limit);
                let blanked = (&mut blanker, outcome);
                search_blanked((regex, group), haystack, first, blanked, &mut visit)?;
            }
        }
    }
    Ok(())
}

/// Where the search inside a rejected match `whole` starts: at its value, or one byte on when
/// the value starts the match (a token whose characters include its own prefix, as in
/// `dbtc_xxxx-dbtc_<token>`, hides the real one inside a decoy of the same rule).
fn inside_of(whole: Range<usize>, secret_start: usize) -> usize {
    secret_start.max(whole.start + 1)
}

/// The bytes a search from `at` covers (to the end of what it found, or of the haystack), taken
/// from `budget`.
fn spend(budget: &mut usize, at: usize, searched_to: usize) {
    *budget = budget.saturating_sub(searched_to.saturating_sub(at));
}

/// Visits the matches that start in `region` (the part of a rejected match from its value on),
/// as inside candidates, while `budget` lasts; a rejected one is searched inside in turn.
fn search_inside<E>(
    (regex, group): (&Regex, usize),
    haystack: &[u8],
    region: Range<usize>,
    budget: &mut usize,
    visit: &mut impl FnMut(Range<usize>, Range<usize>, Pass) -> Result<Candidate, E>,
) -> Result<(), E> {
    let mut at = region.start;
    while at < region.end && *budget > 0 {
        let caps = regex.captures_at(haystack, at);
        let whole = caps.as_ref().and_then(|c| c.get(0));
        spend(budget, at, whole.map_or(haystack.len(), |m| m.end()));
        let (Some(caps), Some(whole)) = (caps.as_ref(), whole) else {
            break;
        };
        if whole.start() >= region.end {
            break;
        }
        let secret = caps.get(group);
        let outcome = match secret {
            Some(secret) => visit(whole.range(), secret.range(), Pass::Inside)?,
            None => Candidate::NotReported,
        };
        at = match (outcome, secret) {
            (Candidate::NotReported | Candidate::Suppressed, Some(secret)) => {
                inside_of(whole.range(), secret.start())
            }
            _ => whole.end().max(whole.start() + 1),
        };
    }
    Ok(())
}

/// The blanked searches' state in one window: their own budgets (so that they never take the
/// inside searches' share), one after rejected candidates and one after reported or suppressed
/// ones (so that the values after known secrets, a baseline's say, never take what the values
/// after a rejected decoy need),
/// and one copy of the window, made on first use, whose blanked bytes are put back after each
/// search.
struct Blanker {
    after_rejected: usize,
    after_reported: usize,
    copy: Option<Vec<u8>>,
}

impl Blanker {
    /// [`BLANKED_BUDGET_FLOOR`] bytes of search, and [`BLANKED_WINDOW_FACTOR`] times the
    /// window's length `len`, to start with, in each budget.
    fn new(len: usize) -> Blanker {
        let start = len
            .saturating_mul(BLANKED_WINDOW_FACTOR)
            .saturating_add(BLANKED_BUDGET_FLOOR);
        Blanker {
            after_rejected: start,
            after_reported: start,
            copy: None,
        }
    }

    /// Adds the share of a plain match of `len` bytes ([`BLANKED_BUDGET_FACTOR`] times it) to
    /// each budget.
    fn earn(&mut self, len: usize) {
        let share = len.saturating_mul(BLANKED_BUDGET_FACTOR);
        self.after_rejected = self.after_rejected.saturating_add(share);
        self.after_reported = self.after_reported.saturating_add(share);
    }
}

/// A multiline rule's header followed by several values (a `[security]` section, a Secret's
/// `data:`) is matched with its first value: the values after it can only be reached from the
/// header. So the search starts again at the match `first`, in a copy of the haystack where its
/// value is blanked (see [`blank`]), and goes on,
/// blanking each value it meets in turn, while the match still starts in `first`, its value
/// holds no blanked byte, and the budget lasts. Positions are the haystack's: the copy has its
/// length.
fn search_blanked<E>(
    (regex, group): (&Regex, usize),
    haystack: &[u8],
    (first, first_secret, limit): (Range<usize>, Range<usize>, usize),
    (blanker, after): (&mut Blanker, Candidate),
    visit: &mut impl FnMut(Range<usize>, Range<usize>, Pass) -> Result<Candidate, E>,
) -> Result<(), E> {
    let Blanker {
        after_rejected,
        after_reported,
        copy,
    } = blanker;
    let budget = match after {
        Candidate::Reported | Candidate::Suppressed => after_reported,
        Candidate::NotReported => after_rejected,
    };
    if *budget == 0 {
        return Ok(());
    }
    let copy = copy.get_or_insert_with(|| haystack.to_vec());
    let header = first.start..line_start(haystack, first_secret.start).max(first.start);
    let mut changed = Changed {
        blanked: vec![first_secret],
        moved: Vec::new(),
    };
    blank(copy, &changed.blanked[0]);
    let texts = (haystack, &mut copy[..]);
    let outcome = blanked_values(
        (regex, group),
        texts,
        (first, header, limit),
        budget,
        &mut changed,
        visit,
    );
    for r in changed.blanked.into_iter().chain(changed.moved) {
        copy[r.clone()].copy_from_slice(&haystack[r]);
    }
    outcome
}

/// What a chain of blanked searches changed in the copy: the values (and rests of lines)
/// blanked, and where the header was copied to.
struct Changed {
    blanked: Vec<Range<usize>>,
    moved: Vec<Range<usize>>,
}

impl Changed {
    /// Puts back what the moved headers covered, and blanks the values again.
    fn unmove(&mut self, haystack: &[u8], copy: &mut [u8]) {
        for r in self.moved.drain(..) {
            copy[r.clone()].copy_from_slice(&haystack[r]);
        }
        for r in &self.blanked {
            blank(copy, r);
        }
    }
}

/// The start of the line that holds `offset`.
fn line_start(text: &[u8], offset: usize) -> usize {
    memchr::memrchr(b'\n', &text[..offset]).map_or(0, |i| i + 1)
}

/// The loop of [`search_blanked`] over `copy`, which holds the `changed.blanked` ranges
/// blanked; each value visited is blanked and added to them.
///
/// `header` is the part of the first match before its value's line (empty when the value is on
/// the match's first line). After each value, a copy of it (or of a compact stand-in, see
/// [`compact_header`]) is put right before the line that follows the value, and the next search
/// starts there: it covers the header and the lines after the value, not every line since the
/// first one, so a section of many values costs in proportion to its length (searching from the
/// first match each time would cost its square), and values far down a long section stay within
/// the rule's reach.
fn blanked_values<E>(
    (regex, group): (&Regex, usize),
    (haystack, copy): (&[u8], &mut [u8]),
    (first, mut header, limit): (Range<usize>, Range<usize>, usize),
    budget: &mut usize,
    changed: &mut Changed,
    visit: &mut impl FnMut(Range<usize>, Range<usize>, Pass) -> Result<Candidate, E>,
) -> Result<(), E> {
    let mut from = first.start;
    // The header copied after each value: a compact one when there is one (see
    // `compact_header`, worked out on the first move), else all of it.
    let first_value = changed.blanked.first().cloned();
    let mut compact: Option<Option<Vec<u8>>> = None;
    while *budget > 0 {
        let moved = from != first.start;
        let found = next_match((regex, group), copy, from, budget);
        // A value the search reached by sliding along a blanked value's line, over blanks and
        // spaces (a comment or a netrc keyword after `password changeme`), is no value: the rest
        // of that line is blanked, and the search goes on below it. (From a moved header, the
        // search starts on the line after every blanked value.)
        if let Some(rest) = found
            .as_ref()
            .filter(|_| !moved)
            .and_then(|(_, secret)| slid_over(copy, &changed.blanked, secret))
        {
            blank(copy, &rest);
            changed.blanked.push(rest);
            continue;
        }
        let value = found.filter(|(whole, secret)| {
            in_chain(changed, (whole, secret), (moved, from), (&first, limit))
        });
        let Some((whole, secret)) = value else {
            if !moved {
                break;
            }
            changed.unmove(haystack, copy);
            // Nothing of this section where the header was moved to (a rule anchored to what
            // comes before its header, a header-like line inside the section that starts the
            // next plain match): go on from the first match as it stands, the values blanked,
            // without moving the header again, as far as the rule reaches from there.
            (from, header) = (first.start, first.start..first.start);
            continue;
        };
        // Reported or not, the value is blanked: the next one may be a secret too. Its match
        // is reported from the first one's start, where its header is.
        let reported = if moved { first.start..whole.end } else { whole };
        visit(reported, secret.clone(), Pass::Blanked)?;
        blank(copy, &secret);
        changed.blanked.push(secret.clone());
        if header.is_empty() {
            continue;
        }
        let compact = compact.get_or_insert_with(|| {
            let value = first_value.as_ref()?;
            compact_header((regex, group), haystack, &header, value)
        });
        let moving = compact.as_deref().unwrap_or(&haystack[header.clone()]);
        if let Some(at) = move_header(copy, moving, header.start, secret.end) {
            from = at.start + 1;
            changed.moved.push(at);
        }
    }
    Ok(())
}

/// The next match of `regex` in `text` from `from` (its range and its group `group`'s, when it
/// has one), its search's bytes taken from `budget`.
fn next_match(
    (regex, group): (&Regex, usize),
    text: &[u8],
    from: usize,
    budget: &mut usize,
) -> Option<(Range<usize>, Range<usize>)> {
    let caps = regex.captures_at(text, from);
    let whole = caps.as_ref().and_then(|c| c.get(0));
    spend(budget, from, whole.map_or(text.len(), |m| m.end()));
    let secret = caps?.get(group)?.range();
    Some((whole?.range(), secret))
}

/// Whether a blanked search's match `whole`, with value `secret`, from `from` (`moved` when a
/// header was moved there) is the chain's next value. A value reaching into a blanked one or
/// the moved header, a match past the first one's start (the plain and inside searches look
/// there), or not at the moved header, ends it; so does, from a moved header, a value past the
/// next plain match's start, `limit` (so that no chain of moved headers runs on through every
/// section after its own).
fn in_chain(
    changed: &Changed,
    (whole, secret): (&Range<usize>, &Range<usize>),
    (moved, from): (bool, usize),
    (first, limit): (&Range<usize>, usize),
) -> bool {
    let reaches_in = if moved {
        // Every blanked value and moved header lies before the last moved header's end.
        changed.moved.last().is_some_and(|r| secret.start < r.end)
    } else {
        let overlaps = |r: &Range<usize>| r.start < secret.end && secret.start < r.end;
        changed.blanked.iter().chain(&changed.moved).any(overlaps)
    };
    let elsewhere = if moved {
        whole.start != from
    } else {
        whole.start >= first.end
    };
    let next_section = moved && secret.start >= limit;
    !secret.is_empty() && !elsewhere && !reaches_in && !next_section
}

/// Longest line of a header that a compact header keeps (besides its first line).
const COMPACT_LINE_MAX: usize = 256;

/// A short stand-in for `header` (whole lines of `haystack`, the first match's before its
/// value's line), moved after each value instead of it so that every step of a chain stays cheap
/// when the header is long (an 8 KB annotation in a Secret's metadata, a long comment after
/// `data:`, trailing blanks; with the whole header, the budget ended the chain after a few
/// values). Its lines are taken without trailing blanks: the header's first line, then its last
/// 0, 1, 2, 4, 8 or 16 lines of at most [`COMPACT_LINE_MAX`] bytes, first with every other line
/// left as an empty line (so that the rule's reach in lines after the header stays what it is
/// with the whole header), then without them. The first candidate that, put right before the
/// line of the first match's `value`, makes the rule find that same value there is taken (so it
/// holds what the rule needs before a value: `data:` and the keys after it, not only `kind:
/// Secret`). `None` when none does or none is shorter than the header.
fn compact_header(
    (regex, group): (&Regex, usize),
    haystack: &[u8],
    header: &Range<usize>,
    value: &Range<usize>,
) -> Option<Vec<u8>> {
    let text = &haystack[header.clone()];
    let mut lines = text.split_inclusive(|&b| b == b'\n');
    let first = without_trailing_blanks(lines.next()?);
    let rest: Vec<Vec<u8>> = lines.map(without_trailing_blanks).collect();
    let line_start = line_start(haystack, value.start);
    let line_end =
        memchr::memchr(b'\n', &haystack[value.end..]).map_or(haystack.len(), |i| value.end + i + 1);
    let value_line = &haystack[line_start..line_end];
    for keep_lines in [true, false] {
        for last in [0, 1, 2, 4, 8, 16] {
            let last = last.min(rest.len());
            let mut candidate = first.clone();
            for (i, line) in rest.iter().enumerate() {
                let short = line.len() <= COMPACT_LINE_MAX;
                if i >= rest.len() - last && short {
                    candidate.extend_from_slice(line);
                } else if keep_lines {
                    candidate.extend_from_slice(line_ending(line));
                }
            }
            if candidate.len() < text.len()
                && finds_value_again(
                    (regex, group),
                    &mut candidate,
                    value_line,
                    value.len(),
                    value.start - line_start,
                )
            {
                return Some(candidate);
            }
            if last == rest.len() {
                break;
            }
        }
    }
    None
}

/// Whether `regex`, over `header` followed by `value_line`, finds a match at the start whose
/// group `group` is the value of `len` bytes at `offset` in that line; `header` is left as it was.
fn finds_value_again(
    (regex, group): (&Regex, usize),
    header: &mut Vec<u8>,
    value_line: &[u8],
    len: usize,
    offset: usize,
) -> bool {
    let header_len = header.len();
    let at = header_len + offset;
    header.extend_from_slice(value_line);
    let found = regex.captures_at(header, 0).is_some_and(|caps| {
        caps.get(0).is_some_and(|whole| whole.start() == 0)
            && caps.get(group).is_some_and(|v| v.range() == (at..at + len))
    });
    header.truncate(header_len);
    found
}

/// The line feed (`\n` or `\r\n`) that ends `line`, or nothing.
fn line_ending(line: &[u8]) -> &[u8] {
    if line.ends_with(b"\r\n") {
        &line[line.len() - 2..]
    } else if line.ends_with(b"\n") {
        &line[line.len() - 1..]
    } else {
        &[]
    }
}

/// `line` (ending in `\n`, `\r\n` or neither) without the spaces and tabs before its end.
fn without_trailing_blanks(line: &[u8]) -> Vec<u8> {
    let body_len = line.strip_suffix(b"\n").map_or(line.len(), <[u8]>::len);
    let body_len = line[..body_len]
        .strip_suffix(b"\r")
        .map_or(body_len, <[u8]>::len);
    let kept = line[..body_len]
        .iter()
        .rposition(|&b| b != b' ' && b != b'\t')
        .map_or(0, |i| i + 1);
    let mut trimmed = line[..kept].to_vec();
    trimmed.extend_from_slice(&line[body_len..]);
    trimmed
}

/// Copies `header` into `copy` so that it ends where the line after a value ending at
/// `value_end` starts, with a line feed before it (so that it starts a line, as a header
/// anchored to a line start needs); the range written. `None` when the header is empty or would
/// not fit after `floor` (where the header starts in the haystack).
fn move_header(
    copy: &mut [u8],
    header: &[u8],
    floor: usize,
    value_end: usize,
) -> Option<Range<usize>> {
    if header.is_empty() {
        return None;
    }
    let next_line = if value_end > 0 && copy[value_end - 1] == b'\n' {
        value_end
    } else {
        memchr::memchr(b'\n', &copy[value_end..]).map(|i| value_end + i + 1)?
    };
    let at = next_line.checked_sub(header.len() + 1)?;
    if at <= floor {
        return None;
    }
    copy[at] = b'\n';
    copy[at + 1..next_line].copy_from_slice(header);
    Some(at..next_line)
}

/// When `secret` starts on the line of a blanked range, after it, with only spaces and tabs
/// between: the rest of that line, from the range's end.
fn slid_over(copy: &[u8], blanked: &[Range<usize>], secret: &Range<usize>) -> Option<Range<usize>> {
    let slid = blanked.iter().find(|r| {
        r.end <= secret.start
            && copy[r.end..secret.start]
                .iter()
                .all(|&b| b == b' ' || b == b'\t')
    })?;
    let line_end = memchr::memchr(b'\n', &copy[slid.end..]).map_or(copy.len(), |i| slid.end + i);
    Some(slid.end..line_end)
}

/// Blanks `range` of `text`: every byte but `\n` and `\r` becomes [`BLANK`], a space, which no
/// value holds and every line-shaped gap (`[^\r\n]*`, `key = [^\n]*`, `[^"]*`) runs over.
fn blank(text: &mut [u8], range: &Range<usize>) {
    for b in &mut text[range.clone()] {
        if *b != b'\n' && *b != b'\r' {
            *b = BLANK;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The secrets visited, with the pass that found them; `report` says which are reported.
    fn visited(pattern: &str, text: &str, report: impl Fn(&[u8]) -> bool) -> Vec<(String, Pass)> {
        visited_as(pattern, false, text, report)
    }

    /// [`visited`], for a multiline rule when `multiline`.
    fn visited_as(
        pattern: &str,
        multiline: bool,
        text: &str,
        report: impl Fn(&[u8]) -> bool,
    ) -> Vec<(String, Pass)> {
        let regex = Regex::new(pattern).unwrap();
        let group = usize::from(regex.captures_len() > 1);
        let mut seen = Vec::new();
        let bytes = text.as_bytes();
        each_candidate::<()>((&regex, group, multiline), bytes, |_, secret, pass| {
            let secret = &bytes[secret];
            seen.push((String::from_utf8_lossy(secret).into_owned(), pass));
            Ok(if report(secret) {
                Candidate::Reported
            } else {
                Candidate::NotReported
            })
        })
        .unwrap();
        seen
    }

    fn secrets(seen: &[(String, Pass)]) -> Vec<&str> {
        seen.iter().map(|(s, _)| s.as_str()).collect()
    }

    const KEYED: &str = r"key[\w.]{0,8}?=([\w.=]{12})";

    #[test]
    fn a_rejected_value_does_not_hide_a_match_that_starts_inside_it() {
        let seen = visited(KEYED, "key=xxxxxxxxkey.=Q7pLm2Zr9tBw", |v| {
            !v.starts_with(b"xxx")
        });
        assert_eq!(
            seen,
            [
                ("xxxxxxxxkey.".to_string(), Pass::Primary),
                ("Q7pLm2Zr9tBw".to_string(), Pass::Inside)
            ]
        );
    }

    #[test]
    fn after_a_reported_value_only_the_plain_search_goes_on() {
        let seen = visited(KEYED, "key=xxxxxxxxkey.=Q7pLm2Zr9tBw", |_| true);
        assert_eq!(secrets(&seen), ["xxxxxxxxkey."]);
    }

    /// The primary candidates are those of the plain iteration, whatever is found inside.
    #[test]
    fn the_primary_candidates_are_the_plain_iterations() {
        let text = "key=xxxxxxxxkey.=Q7pLm2Zr9tBw key=aaaaaaaaaaaa key=xkey=Zr9tBwQ7pLm2";
        let regex = Regex::new(KEYED).unwrap();
        let plain: Vec<String> = regex
            .captures_iter(text.as_bytes())
            .map(|c| String::from_utf8_lossy(&c[1]).into_owned())
            .collect();
        for report in [true, false] {
            let seen = visited(KEYED, text, |_| report);
            let primary: Vec<String> = seen
                .iter()
                .filter(|(_, p)| *p == Pass::Primary)
                .map(|(s, _)| s.clone())
                .collect();
            assert_eq!(primary, plain);
        }
    }

    #[test]
    fn a_token_inside_a_rejected_token_of_its_own_rule_is_found() {
        let pattern = r"tok_[\w-]{12,}";
        let seen = visited(pattern, "tok_xxxx-tok_Q7pLm2Zr9tBw", |v| !v.contains(&b'x'));
        assert_eq!(
            secrets(&seen),
            ["tok_xxxx-tok_Q7pLm2Zr9tBw", "tok_Q7pLm2Zr9tBw"]
        );
    }

    #[test]
    fn an_empty_match_makes_progress() {
        assert_eq!(visited("(x*)", "abc", |_| false).len(), 4);
        assert_eq!(visited("(x*)", "abc", |_| true).len(), 4);
    }

    #[test]
    fn nested_values_are_each_visited_once() {
        let seen = visited(r"k=([\w=]+)", "k=k=k=k=Zz9", |_| false);
        assert_eq!(secrets(&seen), ["k=k=k=Zz9", "k=k=Zz9", "k=Zz9", "Zz9"]);
    }

    const SECTION: &str = r"\[sec\]\n(?:\w+ = [^\n]*\n){0,5}?(?:pw|key) = (\S{8,})\n";

    #[test]
    fn a_multiline_header_reaches_the_values_after_a_rejected_one() {
        let text = "[sec]\npw = xxxxxxxxxx\nname = a\nkey = yyyyyyyyyy\nkey = Q7pLm2Zr9tBw\n";
        let seen = visited_as(SECTION, true, text, |v| {
            !v.starts_with(b"xxx") && v[0] != b'y'
        });
        assert_eq!(
            seen,
            [
                ("xxxxxxxxxx".to_string(), Pass::Primary),
                ("yyyyyyyyyy".to_string(), Pass::Blanked),
                ("Q7pLm2Zr9tBw".to_string(), Pass::Blanked),
            ]
        );
        // A single-line rule: the plain search alone.
        assert_eq!(visited_as(SECTION, false, text, |_| false).len(), 1);
    }

    /// A reported first value does not hide the values after it either: each is a secret to
    /// rotate, and a baseline that leaves out the first must still see the others.
    #[test]
    fn a_multiline_header_reaches_the_values_after_a_reported_one() {
        let text = "[sec]\npw = Zr9tBwQ7pLm2\nname = a\nkey = Q7pLm2Zr9tBw\n";
        let seen = visited_as(SECTION, true, text, |_| true);
        assert_eq!(
            seen,
            [
                ("Zr9tBwQ7pLm2".to_string(), Pass::Primary),
                ("Q7pLm2Zr9tBw".to_string(), Pass::Blanked),
            ]
        );
    }

    /// Values after reported ones spend a budget of their own: a long section of reported values
    /// (a baseline's, say) leaves the next section's values after a rejected decoy reachable.
    #[test]
    fn values_after_reported_ones_leave_the_budget_of_a_rejected_one() {
        // A long header (three long lines before the first value, which the rule needs, so
        // that no compact header stands in for them) makes each search costly.
        let mut text = format!(
            "[sec]\n{}",
            format!("name = {}\n", "n".repeat(2000)).repeat(3)
        );
        for i in 0..400 {
            text.push_str(&format!("key = r{i:015}\n"));
        }
        text.push_str(&format!(
            "[sec]\n{}pw = xxxxxxxxxx\n",
            "name = a\n".repeat(3)
        ));
        text.push_str(&format!("pw = {}\nkey = Q7pLm2Zr9tBw\n", "x".repeat(200)));
        let pattern = r"\[sec\]\n(?:name = [^\n]*\n){3}(?:\w+ = [^\n]*\n)*?(?:pw|key) = (\S{8,})\n";
        let seen = visited_as(pattern, true, &text, |v| v[0] != b'x');
        let reported = seen.iter().filter(|(v, _)| v.starts_with('r')).count();
        assert!(
            reported < 400,
            "the budget for reported chains was not spent"
        );
        assert!(
            seen.contains(&("Q7pLm2Zr9tBw".to_string(), Pass::Blanked)),
            "{:?}",
            &seen[seen.len().saturating_sub(3)..]
        );
    }

    /// A long section: every value is reached (the header moves down with the values, so the
    /// searches cost about the section's length and the rule's reach of 5 lines holds for the
    /// lines after each value), and the same values as the plain search of each value's line
    /// under its own header.
    #[test]
    fn every_value_of_a_long_section_is_reached() {
        let mut text = String::from("[sec]\nname = a\n");
        for i in 0..3000 {
            text.push_str(&format!("key = v{i:010}\n"));
            if i % 7 == 0 {
                text.push_str("name = b\nname = c\n");
            }
        }
        for report in [true, false] {
            let seen = visited_as(SECTION, true, &text, |_| report);
            assert_eq!(seen.len(), 3000, "report {report}");
            assert!(seen[1..].iter().all(|(_, p)| *p == Pass::Blanked));
            assert_eq!(seen[2999].0, "v0000002999");
        }
    }

    /// A long line inside the header (an 8 KB annotation in a Secret's metadata) does not cost
    /// every step of the chain: its first and last lines are moved after each value, so every
    /// value of the section is reached (moving the whole header, the budget ended the chain
    /// after a few values).
    #[test]
    fn a_long_header_line_does_not_end_the_chain() {
        let mut text = format!("[sec]\nnote = {}\nmode = x\n", "n".repeat(8000));
        for i in 0..200 {
            text.push_str(&format!("key = v{i:010}\n"));
        }
        for report in [true, false] {
            let seen = visited_as(SECTION, true, &text, |_| report);
            assert_eq!(seen.len(), 200, "report {report}");
            assert_eq!(seen[199].0, "v0000000199");
        }
    }

    /// The compact header holds what the rule needs before a value (here `data:`, the line
    /// before the short first key): with only the first and last lines, the rule read the
    /// section's values as lines before its header and took a later section's value, skipping
    /// every value between.
    #[test]
    fn a_compact_header_does_not_skip_to_a_later_section() {
        let pattern =
            r"\[sec\]\n(?:[^\n]*\n){0,60}?data:\n(?:  \w+: [^\n]*\n){0,40}?  \w+: (\S{16,})\n";
        let mut text = format!("[sec]\nnote: {}\ndata:\n  user: short\n", "n".repeat(2000));
        let mut values = Vec::new();
        for i in 0..45 {
            values.push(format!("v{i:020}"));
            text.push_str(&format!("  k{i}: {}\n", values[i]));
        }
        values.push(format!("w{:020}", 0));
        text.push_str(&format!("# more\ndata:\n  z: {}\n", values[45]));
        let seen = visited_as(pattern, true, &text, |_| false);
        assert_eq!(secrets(&seen), values);
    }

    /// A compact header keeps the whole header's count of lines (its other lines left empty),
    /// so the rule reaches no further past a value than it does with the whole header: the
    /// next section's value, 20 lines past the last one, stays out of the chain's reach as it
    /// is out of the plain search's.
    #[test]
    fn a_compact_header_reaches_no_further_than_the_whole_one() {
        let pattern = r"\[sec\]\n(?:[^\n]*\n){0,60}?data:\n(?:  \w+: [^\n]*\n)*?  \w+: (\S{16,})\n";
        let mut text = format!("[sec]\nnote: {}\n", "n".repeat(2000));
        text.push_str(&"label: x\n".repeat(40));
        text.push_str("data:\n");
        let values: Vec<String> = (0..3).map(|i| format!("v{i:020}")).collect();
        for (i, value) in values.iter().enumerate() {
            text.push_str(&format!("  k{i}: {value}\n"));
        }
        text.push_str(&"other: x\n".repeat(20));
        text.push_str(&format!("data:\n  z: w{:020}\n", 0));
        let seen = visited_as(pattern, true, &text, |_| false);
        assert_eq!(secrets(&seen), values);
    }

    /// A rule that needs a line between the header's first and last ones gets the whole header
    /// moved after the value instead, and still reaches every value.
    #[test]
    fn a_rule_that_needs_the_middle_of_its_header_reaches_every_value() {
        let pattern = r"\[sec\]\nmode = on\n(?:\w+ = [^\n]*\n){0,5}?(?:pw|key) = (\S{8,})\n";
        let mut text = String::from("[sec]\nmode = on\nname = a\n");
        let values: Vec<String> = (0..12).map(|i| format!("v{i:010}")).collect();
        for value in &values {
            text.push_str(&format!("pw = {value}\n"));
        }
        for report in [true, false] {
            let seen = visited_as(pattern, true, &text, |_| report);
            assert_eq!(secrets(&seen), values);
            assert!(seen[1..].iter().all(|(_, p)| *p == Pass::Blanked));
        }
    }

    /// Rules anchored to a line start reach every value too (the moved header starts a line),
    /// and a rule anchored where the moved header cannot match (`\A`) goes on as before, from
    /// the first match with the values blanked.
    #[test]
    fn anchored_headers_reach_every_value() {
        let text = "[sec]\nname = app\npw = xxxxxxxxxx\npw = yyyyyyyyyy\nkey = Q7pLm2Zr9tBw\n";
        for anchor in ["(?m)^", r"\A"] {
            let pattern =
                format!(r"{anchor}\[sec\]\n(?:\w+ = [^\n]*\n){{0,5}}?(?:pw|key) = (\S{{8,}})\n");
            let seen = visited_as(&pattern, true, text, |v| v[0] == b'Q');
            assert_eq!(
                secrets(&seen),
                ["xxxxxxxxxx", "yyyyyyyyyy", "Q7pLm2Zr9tBw"],
                "{anchor}"
            );
        }
    }

    /// A blanked value's match is given from the first match's start, where its header is
    /// (a hook reports a value as new when its match touches an added line, the header's too).
    #[test]
    fn blanked_matches_start_at_the_header() {
        let text = "[sec]\nname = app\npw = xxxxxxxxxx\npw = yyyyyyyyyy\nkey = Q7pLm2Zr9tBw\n";
        let regex = Regex::new(SECTION).unwrap();
        let mut starts = Vec::new();
        each_candidate::<()>((&regex, 1, true), text.as_bytes(), |whole, _, _| {
            starts.push(whole.start);
            Ok(Candidate::NotReported)
        })
        .unwrap();
        assert_eq!(starts, [0, 0, 0]);
    }

    /// Sections back to back, with a gap that may run over the next section's header: each
    /// chain ends where the next plain match starts, so every value is visited about once (a
    /// chain running on through every later section would visit them a number of times that
    /// grows with the file).
    #[test]
    fn a_chain_ends_where_the_next_section_starts() {
        let pattern = r"\[sec\]\n(?:[^\n]*\n){0,5}?(?:pw|key) = (\S{8,})\n";
        let section = "[sec]\nname = a\npw = xxxxxxxxxx\npw = yyyyyyyyyy\n";
        let text = section.repeat(2000);
        let seen = visited_as(pattern, true, &text, |_| false);
        assert!(seen.len() >= 4000, "{}", seen.len());
        assert!(seen.len() <= 4000 + 2000, "{}", seen.len());
    }

    /// A value that would reach into a blanked one ends the search: here the blanked value is
    /// itself a value of the rule (it may hold spaces), so nothing past it is reached.
    #[test]
    fn blanked_searches_end() {
        let text = "[sec]\npw = aaaaaaaa bbbbbbbb\nkey = cccccccc\n";
        let pattern = r"\[sec\]\n(?:\w+ = [^\n]*\n){0,5}?(?:pw|key) = ([^\n]{8,})\n";
        let seen = visited_as(pattern, true, text, |_| false);
        assert_eq!(secrets(&seen), ["aaaaaaaa bbbbbbbb"]);
    }

    /// Many rejected values under one long header that the rule needs (so that it is moved
    /// whole): the blanked searches stop when the window's budget is spent.
    #[test]
    fn blanked_searches_are_bounded() {
        let header = format!("[sec]\nname = {}\n", "n".repeat(4000));
        let mut text = header.clone();
        for _ in 0..20_000 {
            text.push_str("pw = xxxxxxxxxx\n");
        }
        let pattern = r"\[sec\]\nname = [^\n]*\n(?:\w+ = [^\n]*\n)*?(?:pw|key) = (\S{8,})\n";
        let regex = Regex::new(pattern).unwrap();
        let (mut visits, mut plain) = (0, 0);
        each_candidate::<()>((&regex, 1, true), text.as_bytes(), |whole, _, pass| {
            match pass {
                Pass::Blanked => visits += 1,
                Pass::Primary => plain += whole.len(),
                Pass::Inside => {}
            }
            Ok(Candidate::NotReported)
        })
        .unwrap();
        // Each search covers the moved header (and the line feed before it) and one line; the
        // budget allows this many, and the one search that may run past it.
        let each = 1 + header.len() + "pw = xxxxxxxxxx\n".len();
        let bound = BLANKED_BUDGET_FLOOR
            + BLANKED_WINDOW_FACTOR * text.len()
            + BLANKED_BUDGET_FACTOR * plain;
        assert!(visits * each > BLANKED_BUDGET_FLOOR / 2, "{visits}");
        assert!(visits * each <= bound + each, "{} > {bound}", visits * each);
        assert!(visits < 20_000);
    }

    /// A value that may hold its own key name, on a long line: the searches inside stop when
    /// the window's budget is spent (the last one may run past it by at most the window's
    /// length), so the work stays linear in the line's length.
    #[test]
    fn searching_inside_a_long_nested_value_is_bounded() {
        let text = "k=".repeat(200_000);
        let regex = Regex::new(r"k=([\w=]+)").unwrap();
        let mut inside_bytes = 0;
        each_candidate::<()>((&regex, 1, false), text.as_bytes(), |whole, _, pass| {
            if pass == Pass::Inside {
                inside_bytes += whole.len();
            }
            Ok(Candidate::NotReported)
        })
        .unwrap();
        assert!(
            inside_bytes <= text.len() * (INSIDE_BUDGET_FACTOR + 1) + INSIDE_BUDGET_FLOOR,
            "{inside_bytes}"
        );
    }
}

/// The cases a red team found, through the full scanner and the embedded pack.
#[cfg(test)]
mod pack_tests {
    use crate::test_support::{random_alnum, Rng};

    /// `(rule, line, column)` of each finding in `text`.
    fn found(text: &str) -> Vec<(String, usize, usize)> {
        let scanner = crate::test_support::pack_scanner();
        let unit = crate::added::AddedText::whole("t.txt", text.as_bytes().to_vec());
        let mut found: Vec<_> = scanner
            .scan(&unit)
            .unwrap()
            .into_iter()
            .map(|f| (f.rule, f.line, f.column))
            .collect();
        found.sort();
        found
    }

    /// Two values hidden behind one decoy: the one found inside it and the one the plain search
    /// finds after it are both reported.
    #[test]
    fn a_value_found_inside_a_decoy_does_not_drop_the_one_after_it() {
        let mut rng = Rng(0x51);
        let (a, b) = (random_alnum(&mut rng, 16), random_alnum(&mut rng, 20));
        let line = format!("pagerduty_token=xxxxxxxxxxxxxxxxx_pd.token={a}_pdk.token={b}\n");
        let rule = "pagerduty-api-key".to_string();
        assert_eq!(found(&line), [(rule.clone(), 1, 44), (rule, 1, 71)]);
    }

    /// A header value continued on the next line: what the plain search found before is still
    /// found (an inside search must not move the plain one).
    #[test]
    fn a_key_header_after_a_continued_header_is_still_found() {
        let token = random_alnum(&mut Rng(0x52), 24);
        let text = format!(
            "curl https://api.acme.io/v1/x --header \"X-Trace-Token: \\\n  -H 'X-API-Key: '{token}\n"
        );
        let found = found(&text);
        assert!(
            found.contains(&("http-credentials-api-key-header".into(), 2, 19)),
            "{found:?}"
        );
    }

    /// A section header followed by a rejected value, then by a real one.
    #[test]
    fn a_value_after_a_rejected_one_under_the_same_header_is_reported() {
        let mut rng = Rng(0x54);
        let key = random_alnum(&mut rng, 24);
        let ini = format!("[security]\nadmin_password = changeme\nsecret_key = {key}\n");
        assert_eq!(found(&ini), [("grafana-ini-security-secret".into(), 3, 14)]);
        let value = random_alnum(&mut rng, 32);
        let secret = format!(
            "apiVersion: v1\nkind: Secret\nmetadata:\n  name: db\ndata:\n  user: {}\n  \
             dbkey: {value}\n",
            "A".repeat(20)
        );
        assert_eq!(found(&secret), [("kubernetes-secret-data".into(), 7, 10)]);
    }

    /// The red team's cases against the blanked search: it has a budget of its own, so many
    /// rejected headers before a value found inside a decoy do not take the inside search's;
    /// and many decoy Secrets do not leave the last one's value unsearched.
    #[test]
    fn many_rejected_headers_leave_the_other_searches_their_budget() {
        let mut rng = Rng(0x55);
        let mut netrc = String::new();
        for n in 0..300 {
            netrc.push_str(&format!(
                "machine h{n}.acme.io\nlogin bob\npassword changeme\n"
            ));
        }
        let token = random_alnum(&mut rng, 32);
        netrc.push_str("machine a.acme.io login bob\npassword %s-machine h.acme.io login u\n");
        netrc.push_str(&format!("password {token}\n"));
        assert_eq!(
            found(&netrc),
            [("http-credentials-netrc-block".into(), 903, 10)]
        );

        let mut manifests = String::new();
        for n in 0..60 {
            manifests.push_str(&format!(
                "---\napiVersion: v1\nkind: Secret\nmetadata:\n  name: d{n}\ndata:\n  a: {}\n",
                "A".repeat(20)
            ));
        }
        let value = random_alnum(&mut rng, 32);
        manifests.push_str(&format!(
            "---\napiVersion: v1\nkind: Secret\nmetadata:\n  name: db\ndata:\n  user: {}\n  \
             dbkey: {value}\n",
            "A".repeat(20)
        ));
        assert_eq!(
            found(&manifests),
            [("kubernetes-secret-data".into(), 428, 10)]
        );
    }

    /// A rejected value followed on its line by a comment or a netrc keyword: the blanked search
    /// does not slide on to that word.
    #[test]
    fn the_blanked_search_does_not_take_the_next_word_of_the_line() {
        for text in [
            "[client]\nuser = app\npassword = changeme  #set-by-ansible\n",
            "[mysqld]\npassword = root\t--skip-ssl\n",
            "Driver = /usr/lib/libmyodbc.so\nPWD = root  #TODO\n",
            "machine api.acme.io\n  login deploy\n  password changeme port 8080\n",
            "machine ftp.acme.io\nlogin anonymous\npassword guest account billing macdef\n",
        ] {
            assert_eq!(found(text), [], "{text}");
        }
    }

    /// A token whose characters include its own prefix, behind a rejected one of the same rule.
    #[test]
    fn a_token_inside_a_rejected_token_of_its_own_rule_is_reported() {
        let token = random_alnum(&mut Rng(0x53), 40);
        let line = format!("tok = dbtc_xxxx-dbtc_{token}\n");
        assert_eq!(found(&line), [("dbt-cloud-service-token".into(), 1, 17)]);
    }
}

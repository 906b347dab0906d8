//! A rule's candidate matches in one window, searched so that a rejected candidate cannot hide
//! a secret behind it.
//!
//! A regex's matches do not overlap: after a match, the next search starts at its end. When the
//! filters reject the match's value (too little entropy, a placeholder, an allowed value), that
//! rule hides whatever the value covered: in `pagerduty_token=xxxxxxxxxx_pagerduty.token=<token>`
//! the decoy's value runs over the second key name, and the real token after it was never
//! matched. So after a candidate that was not reported, the search resumes at the start of its
//! value, and finds any match that starts inside the value. After a reported one it resumes at
//! the match's end, as before.
//!
//! Resuming at the value and not just past the match's start keeps the work linear: a rule with
//! an open-ended part before the value (`[a-z0-9-]+\.redis…,[^\n]*?password=`) would otherwise
//! find the same long match again from every byte of that part. A match whose value starts it (no
//! key name before the value) resumes past its value: retrying one byte later would only find the
//! same run of characters, shortened by one.

use regex::bytes::{Match, Regex};

/// What became of one candidate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Candidate {
    /// Reported (as a finding): the search goes on after the match.
    Reported,
    /// Rejected, suppressed or not new: the search goes on inside the match.
    NotReported,
}

/// Calls `visit` with each candidate of `regex` in `haystack`: the whole match and its secret
/// group `group`. Matches that start inside the value of a not-reported candidate are visited
/// too (see the module docs); a match without the secret group is skipped.
///
/// # Errors
/// What `visit` returns.
pub fn each_candidate<E>(
    regex: &Regex,
    group: usize,
    haystack: &[u8],
    mut visit: impl FnMut(Match<'_>, Match<'_>) -> Result<Candidate, E>,
) -> Result<(), E> {
    let mut at = 0;
    while at <= haystack.len() {
        let Some(caps) = regex.captures_at(haystack, at) else {
            break;
        };
        let Some(whole) = caps.get(0) else { break };
        let secret = caps.get(group);
        let outcome = match secret {
            Some(secret) => visit(whole, secret)?,
            None => Candidate::NotReported,
        };
        at = resume_at(whole.range(), secret.map(|m| m.range()), outcome);
    }
    Ok(())
}

/// Where the search resumes after a candidate `whole` with its secret's span (see the module
/// docs). Always past `whole`'s start, so every search makes progress.
fn resume_at(
    whole: std::ops::Range<usize>,
    secret: Option<std::ops::Range<usize>>,
    outcome: Candidate,
) -> usize {
    let past_start = whole.start + 1;
    match (outcome, secret) {
        (Candidate::Reported, _) | (Candidate::NotReported, None) => whole.end.max(past_start),
        (Candidate::NotReported, Some(secret)) if secret.start > whole.start => secret.start,
        (Candidate::NotReported, Some(secret)) => secret.end.max(past_start),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spans(pattern: &str, text: &str, report: impl Fn(&[u8]) -> bool) -> Vec<String> {
        let regex = Regex::new(pattern).unwrap();
        let group = usize::from(regex.captures_len() > 1);
        let mut seen = Vec::new();
        each_candidate::<()>(&regex, group, text.as_bytes(), |_, secret| {
            seen.push(String::from_utf8_lossy(secret.as_bytes()).into_owned());
            Ok(if report(secret.as_bytes()) {
                Candidate::Reported
            } else {
                Candidate::NotReported
            })
        })
        .unwrap();
        seen
    }

    #[test]
    fn a_rejected_value_does_not_hide_a_match_that_starts_inside_it() {
        let pattern = r"key[\w.]{0,8}?=([\w.=]{12})";
        let text = "key=xxxxxxxxkey.=Q7pLm2Zr9tBw";
        let seen = spans(pattern, text, |v| !v.starts_with(b"xxx"));
        assert_eq!(seen, ["xxxxxxxxkey.", "Q7pLm2Zr9tBw"]);
    }

    #[test]
    fn after_a_reported_value_the_search_goes_on_after_its_match() {
        let pattern = r"key[\w.]{0,8}?=([\w.=]{12})";
        let text = "key=xxxxxxxxkey.=Q7pLm2Zr9tBw";
        assert_eq!(spans(pattern, text, |_| true), ["xxxxxxxxkey."]);
    }

    #[test]
    fn a_rejected_value_that_starts_its_match_is_not_retried_shorter() {
        let text = "a".repeat(200);
        let seen = spans("[a-z]{20,}", &text, |_| false);
        assert_eq!(seen.len(), 1, "{seen:?}");
    }

    #[test]
    fn a_long_key_part_is_not_searched_again_from_each_of_its_bytes() {
        let text = format!("{}.host,password=xxxxxxxxxxxx", "a".repeat(500));
        let mut searched = 0;
        let regex = Regex::new(r"[a-z]+\.host,[^\n]*?password=(\w{12})").unwrap();
        each_candidate::<()>(&regex, 1, text.as_bytes(), |_, _| {
            searched += 1;
            Ok(Candidate::NotReported)
        })
        .unwrap();
        assert_eq!(searched, 1);
    }

    #[test]
    fn an_empty_match_makes_progress() {
        let seen = spans("(x*)", "abc", |_| false);
        assert_eq!(seen.len(), 4);
        assert_eq!(spans("(x*)", "abc", |_| true).len(), 4);
    }

    #[test]
    fn nested_values_are_each_visited_once() {
        let text = "k=k=k=k=Zz9";
        let seen = spans(r"k=([\w=]+)", text, |_| false);
        assert_eq!(seen, ["k=k=k=Zz9", "k=k=Zz9", "k=Zz9", "Zz9"]);
    }
}

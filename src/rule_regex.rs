//! A rule's regex, compiled for the haystacks it meets: without Unicode for windows of ASCII
//! bytes alone (nearly all of them), with Unicode, as written, for the others.
//!
//! On a haystack that holds no byte above 0x7F both compile to the same matches. Every Unicode
//! class (`\w`, `\s`, `\d`, `.`, a negated class, a case-insensitive letter) holds the same ASCII
//! characters as its ASCII form; what it holds beyond them is non-ASCII, and so never matches
//! there. The word boundaries are ASCII in both ([`crate::word_boundary`]). Matches, capture
//! groups and their order do not change, only the cost. The ASCII form compiles several times
//! faster: a Unicode `[\w.-]{0,24}` is a large automaton, its ASCII form a small one. A rule
//! compiled for each first window costs a hook most of its start-up. The Unicode form is
//! compiled only when a window holds a non-ASCII byte that a cheaper superset of it matches
//! ([`crate::ascii_superset`]). A pattern that does not compile without
//! Unicode (a `\p{…}` class, say) uses its Unicode form for every haystack.

use std::sync::OnceLock;

use regex::bytes::{Regex, RegexBuilder};

use crate::rules::REGEX_SIZE_LIMIT;

/// A rule's regex (with ASCII word boundaries) in its two forms.
pub struct RuleRegex {
    /// The pattern as compiled (word boundaries already made ASCII).
    pattern: String,
    /// The form without Unicode; `None` when the pattern needs Unicode.
    ascii: Option<Regex>,
    /// The form with Unicode, compiled on first use.
    unicode: OnceLock<Result<Regex, String>>,
    /// A cheaper regex whose matches include the Unicode form's ([`crate::ascii_superset`]),
    /// compiled on first use; `None` when it cannot be built.
    superset: OnceLock<Option<Regex>>,
    /// The index of the capture group holding the secret.
    group: usize,
}

impl RuleRegex {
    /// Compiles `pattern`'s ASCII form, or its Unicode form when the ASCII one does not build;
    /// `group_of` picks the secret's capture group from the compiled regex.
    pub fn new(
        pattern: String,
        group_of: impl FnOnce(&Regex) -> Result<usize, String>,
    ) -> Result<RuleRegex, String> {
        let ascii = build(&pattern, false).ok();
        let unicode = OnceLock::new();
        let group = match &ascii {
            Some(regex) => group_of(regex)?,
            None => {
                let regex = build(&pattern, true).map_err(|e| format!("bad regex: {e}"))?;
                let group = group_of(&regex)?;
                let _ = unicode.set(Ok(regex));
                group
            }
        };
        Ok(RuleRegex {
            pattern,
            ascii,
            unicode,
            superset: OnceLock::new(),
            group,
        })
    }

    /// The capture group holding the secret.
    pub fn group(&self) -> usize {
        self.group
    }

    /// The regex to search `haystack` with: the ASCII form when every byte of it is ASCII.
    pub fn for_haystack(&self, haystack: &[u8]) -> Result<&Regex, String> {
        match &self.ascii {
            Some(regex) if haystack.is_ascii() => Ok(regex),
            _ => self.unicode(),
        }
    }

    /// Whether the regex matches somewhere in `haystack`. A haystack with a non-ASCII byte is
    /// first tried with the superset of the Unicode form ([`crate::ascii_superset`]): when that
    /// does not match, the Unicode form cannot, and is not compiled for it.
    pub fn is_match(&self, haystack: &[u8]) -> Result<bool, String> {
        if let Some(regex) = &self.ascii {
            if haystack.is_ascii() {
                return Ok(regex.is_match(haystack));
            }
        }
        let superset = self
            .superset
            .get_or_init(|| crate::ascii_superset::superset(&self.pattern));
        if superset.as_ref().is_some_and(|s| !s.is_match(haystack)) {
            return Ok(false);
        }
        Ok(self.unicode()?.is_match(haystack))
    }

    /// The Unicode form (the pattern as written), compiled on first use.
    pub fn unicode(&self) -> Result<&Regex, String> {
        self.unicode
            .get_or_init(|| build(&self.pattern, true).map_err(|e| format!("bad regex: {e}")))
            .as_ref()
            .map_err(Clone::clone)
    }
}

/// Compiles `pattern` with or without Unicode, within the size limit.
fn build(pattern: &str, unicode: bool) -> Result<Regex, regex::Error> {
    RegexBuilder::new(pattern)
        .size_limit(REGEX_SIZE_LIMIT)
        .unicode(unicode)
        .build()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule_regex(pattern: &str) -> RuleRegex {
        RuleRegex::new(pattern.to_string(), |r| {
            Ok(usize::from(r.captures_len() > 1))
        })
        .unwrap()
    }

    #[test]
    fn ascii_haystacks_use_the_ascii_form_and_others_the_unicode_form() {
        let re = rule_regex(r"key[\w.-]{0,4}\s*=\s*(\w+)");
        assert!(re.unicode.get().is_none(), "compiled only when needed");
        let ascii = re.for_haystack(b"key_a = abc").unwrap();
        assert!(std::ptr::eq(ascii, re.ascii.as_ref().unwrap()));
        assert!(re.unicode.get().is_none());
        // A non-ASCII letter in the gap, and a non-breaking space before the value: only the
        // Unicode form matches them, and it is the one used.
        let text = "keyé\u{a0}= wert".as_bytes();
        let unicode = re.for_haystack(text).unwrap();
        assert!(unicode.is_match(text));
        assert!(!re.ascii.as_ref().unwrap().is_match(text));
    }

    /// A non-ASCII haystack that the superset rules out is answered without compiling the
    /// Unicode form; one that only the Unicode form can match (`é` as a word character, a
    /// non-breaking space as a space) is answered by it.
    #[test]
    fn the_superset_spares_the_unicode_form_where_it_does_not_match() {
        let re = rule_regex(r"key[\w.-]{0,4}\s*=\s*(\w+)");
        assert_eq!(re.is_match("schlüssel: nichts".as_bytes()), Ok(false));
        assert!(
            re.unicode.get().is_none(),
            "not compiled for a window it cannot match"
        );
        assert_eq!(re.is_match(b"key_a = abc"), Ok(true));
        assert!(
            re.unicode.get().is_none(),
            "ASCII haystacks use the ASCII form"
        );
        let text = "keyé\u{a0}= wert".as_bytes();
        assert_eq!(re.is_match(text), Ok(true));
        assert!(re.unicode.get().is_some());
        assert!(!re.ascii.as_ref().unwrap().is_match(text));
    }

    #[test]
    fn a_pattern_that_needs_unicode_uses_it_everywhere() {
        let re = rule_regex(r"token=(\p{L}+)");
        assert!(re.ascii.is_none());
        assert!(re
            .for_haystack(b"token=abc")
            .unwrap()
            .is_match(b"token=abc"));
        assert!(re
            .for_haystack("token=äbc".as_bytes())
            .unwrap()
            .is_match("token=äbc".as_bytes()));
    }

    #[test]
    fn both_forms_agree_on_ascii_text() {
        // Classes whose Unicode forms hold more than their ASCII ones, case folding (`k` also
        // folds to the Kelvin sign), `.`, and a negated class.
        let patterns = [
            r"(?i)secret[\w.-]{0,8}\s*[:=]\s*([^\s'\x22]{8,})",
            r"(?i:kelvin)\d{2}\W(.{3})",
            r"[^a]{2}\bz",
        ];
        let texts: [&[u8]; 6] = [
            b"SECRET_x = abcdefgh12",
            b"sEcReT.a-b:'zzzzzzzzz'",
            b"KELVIN42-xyz",
            b"kelvin9 abc",
            b"bb z xyz",
            b"\x01\x7f secret=\x7f\x7f\x7f\x7f\x7f\x7f\x7f\x7f",
        ];
        for p in patterns {
            let ascii = build(p, false).unwrap();
            let unicode = build(p, true).unwrap();
            for t in texts {
                let a: Vec<_> = ascii
                    .captures_iter(t)
                    .map(|c| c.get(1).map(|m| m.range()))
                    .collect();
                let u: Vec<_> = unicode
                    .captures_iter(t)
                    .map(|c| c.get(1).map(|m| m.range()))
                    .collect();
                assert_eq!(a, u, "{p} on {t:?}");
            }
        }
    }
}

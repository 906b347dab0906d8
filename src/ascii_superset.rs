//! A cheap test that rules a non-ASCII window out before a rule's Unicode form is compiled.
//!
//! A rule's regex is compiled without Unicode for ASCII windows and with Unicode, as written, for
//! the others ([`crate::rule_regex`]). The Unicode form of a pattern such as `[\w.-]{0,24}` is a
//! large automaton: compiling it takes up to 27 ms for one rule, and an audit of a real history
//! met a non-ASCII window for most rules, about half a second of CPU in all, although almost no
//! such window matches.
//!
//! The *superset* of a pattern is the same syntax tree with each Unicode class `C` that holds a
//! non-ASCII character replaced by "one or more bytes, each an ASCII byte of `C` or one of
//! 0x80–0xFF", and each counted repetition of a part that holds such a class left without its
//! upper bound (`{0,24}` becomes `{0,}`). A character that `C` matches is either ASCII, in the new
//! class, or encoded in UTF-8 as two to four bytes of 0x80–0xFF, matched by as many repeats of
//! it; a part repeated `k` times is still repeated `k` times, each repeat over the same bytes
//! as before. Literals, ASCII classes, anchors and ASCII word boundaries are kept as they are.
//! So every match of the Unicode form is a match of the superset over the same bytes: when the
//! superset does not match a window, the Unicode form does not either, and it need not be
//! compiled. The superset holds no Unicode class and no large counted copy of one: it compiles
//! faster than the ASCII form.

use regex::bytes::{Regex, RegexBuilder};
use regex_syntax::hir::{
    Capture, Class, ClassBytes, ClassBytesRange, Hir, HirKind, Look, Repetition,
};

use crate::rules::REGEX_SIZE_LIMIT;

/// The superset of `pattern` (see the module documentation), compiled; `None` when it cannot be
/// built (the pattern does not parse, or holds a Unicode word boundary): the caller then uses the
/// Unicode form alone.
pub fn superset(pattern: &str) -> Option<Regex> {
    let hir = regex_syntax::ParserBuilder::new()
        .utf8(false)
        .build()
        .parse(pattern)
        .ok()?;
    let (widened, _) = widen(hir)?;
    RegexBuilder::new(&widened.to_string())
        .size_limit(REGEX_SIZE_LIMIT)
        .unicode(false)
        .build()
        .ok()
}

/// `hir` with every Unicode class that holds a non-ASCII character widened, and whether it held
/// one; `None` when it holds a Unicode word boundary, which looks at the characters around it
/// (the scanner's patterns have ASCII ones, [`crate::word_boundary`]).
fn widen(hir: Hir) -> Option<(Hir, bool)> {
    Some(match hir.into_kind() {
        HirKind::Empty => (Hir::empty(), false),
        HirKind::Literal(literal) => (Hir::literal(literal.0), false),
        HirKind::Look(look) if is_unicode_word_look(look) => return None,
        HirKind::Look(look) => (Hir::look(look), false),
        HirKind::Class(Class::Bytes(bytes)) => (Hir::class(Class::Bytes(bytes)), false),
        HirKind::Class(Class::Unicode(unicode)) => {
            let mut bytes: Vec<ClassBytesRange> = unicode
                .iter()
                .filter(|r| r.start().is_ascii())
                .map(|r| {
                    let end = r.end().min('\x7f');
                    // Both ends are ASCII, so they fit in a byte.
                    ClassBytesRange::new(r.start() as u8, end as u8)
                })
                .collect();
            if unicode.iter().all(|r| r.end().is_ascii()) {
                return Some((Hir::class(Class::Bytes(ClassBytes::new(bytes))), false));
            }
            // One character: an ASCII byte of the class, or the two to four bytes of a
            // non-ASCII one (one or more bytes of the widened class).
            bytes.push(ClassBytesRange::new(0x80, 0xFF));
            let widened = Hir::class(Class::Bytes(ClassBytes::new(bytes)));
            (one_or_more(widened), true)
        }
        HirKind::Repetition(repetition) => {
            let (sub, widened) = widen(*repetition.sub)?;
            // A repeat of a widened part may take any number of bytes, so a bound on the repeats
            // rules little out: it is dropped (the automaton stays small), the least kept.
            let max = if widened { None } else { repetition.max };
            let sub = Box::new(sub);
            let repeated = Repetition {
                sub,
                max,
                ..repetition
            };
            (Hir::repetition(repeated), widened)
        }
        HirKind::Capture(capture) => {
            let (sub, widened) = widen(*capture.sub)?;
            let sub = Box::new(sub);
            (Hir::capture(Capture { sub, ..capture }), widened)
        }
        HirKind::Concat(parts) => {
            let (parts, widened) = widen_all(parts)?;
            (Hir::concat(parts), widened)
        }
        HirKind::Alternation(branches) => {
            let (branches, widened) = widen_all(branches)?;
            (Hir::alternation(branches), widened)
        }
    })
}

/// [`widen`] of each of `parts`, and whether any held a widened class.
fn widen_all(parts: Vec<Hir>) -> Option<(Vec<Hir>, bool)> {
    let mut any = false;
    let mut out = Vec::with_capacity(parts.len());
    for part in parts {
        let (hir, widened) = widen(part)?;
        any |= widened;
        out.push(hir);
    }
    Some((out, any))
}

/// `sub` one or more times.
fn one_or_more(sub: Hir) -> Hir {
    Hir::repetition(Repetition {
        min: 1,
        max: None,
        greedy: true,
        sub: Box::new(sub),
    })
}

/// Whether `look` is a word boundary that reads Unicode characters.
fn is_unicode_word_look(look: Look) -> bool {
    matches!(
        look,
        Look::WordUnicode
            | Look::WordUnicodeNegate
            | Look::WordStartUnicode
            | Look::WordEndUnicode
            | Look::WordStartHalfUnicode
            | Look::WordEndHalfUnicode
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every match of the Unicode form is a match of the superset, on the examples of every
    /// embedded rule with non-ASCII characters put in (letters, a non-breaking space, the Kelvin
    /// sign that `(?i)k` matches, an emoji) and on their own.
    #[test]
    fn the_superset_matches_wherever_the_unicode_form_does() {
        let inserts = ["é", "\u{a0}", "\u{212a}", "ß", "😀", "Ω", "\u{2003}"];
        let mut rng = crate::test_support::Rng(7);
        let (mut unicode_matches, mut checked) = (0usize, 0usize);
        for rule in crate::builtin::rules_with_examples().unwrap() {
            let pattern = crate::word_boundary::ascii_word_boundaries(&rule.raw.regex);
            let unicode = RegexBuilder::new(&pattern)
                .size_limit(REGEX_SIZE_LIMIT)
                .build()
                .unwrap();
            let Some(superset) = superset(&pattern) else {
                continue;
            };
            for example in &rule.raw.examples {
                for round in 0..12 {
                    let mut text = example.clone();
                    for _ in 0..=round % 3 {
                        let at = rng.below(text.len() + 1);
                        if text.is_char_boundary(at) {
                            text.insert_str(at, inserts[rng.below(inserts.len())]);
                        }
                    }
                    // Also a character written as its Unicode case-fold partner.
                    if round % 4 == 3 {
                        text = text.replacen('k', "\u{212a}", 1).replacen('s', "ſ", 1);
                    }
                    checked += 1;
                    if unicode.is_match(text.as_bytes()) {
                        unicode_matches += 1;
                        assert!(
                            superset.is_match(text.as_bytes()),
                            "rule {}: the superset misses {text:?}",
                            rule.raw.id
                        );
                    }
                }
            }
        }
        // The check is not vacuous: thousands of altered examples still match (6,102 of 28,620
        // when written).
        assert!(checked > 10_000, "{checked}");
        assert!(unicode_matches > 3_000, "{unicode_matches} of {checked}");
    }

    /// Non-ASCII characters in the classes of a pattern: the superset matches what the Unicode
    /// form matches, may match more (a character outside the class), and rules out a window
    /// where no character can take a class's place.
    #[test]
    fn unicode_classes_become_ascii_or_any_non_ascii_character() {
        let pattern = crate::word_boundary::ascii_word_boundaries(r"(?i)key\s*=\s*(\w{4})");
        let unicode = Regex::new(&pattern).unwrap();
        let sup = superset(&pattern).unwrap();
        for text in ["KEY = wert", "key\u{a0}= äöüß", "\u{212a}ey = abcd"] {
            assert!(unicode.is_match(text.as_bytes()), "{text:?}");
            assert!(sup.is_match(text.as_bytes()), "{text:?}");
        }
        // `€` is no word character: only the superset matches.
        assert!(!unicode.is_match("key = ab€d".as_bytes()));
        assert!(sup.is_match("key = ab€d".as_bytes()));
        for text in ["kéy = abcd", "ключ = wert", "key: abcd"] {
            assert!(!sup.is_match(text.as_bytes()), "{text:?}");
        }
    }

    /// A Unicode word boundary gives no superset; a literal non-ASCII character is kept as is.
    #[test]
    fn unicode_word_boundaries_give_none_and_literals_stay() {
        assert!(superset(r"\btoken\b").is_none());
        let sup = superset("passwort_für=(\\w+)").unwrap();
        assert!(sup.is_match("passwort_für=geheim".as_bytes()));
        assert!(!sup.is_match("passwort_fur=geheim".as_bytes()));
    }
}

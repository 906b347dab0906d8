//! How many line feeds one match of a regex can hold, read from its syntax tree: a multiline rule
//! whose matches span at most `n` line breaks gets a window of its keyword's line and the `n`
//! lines after it, instead of the rest of the hunk (see [`crate::scanner`]).
//!
//! `user: …\n(?:[^\n]*\n)?pass: …` holds at most two; `[\s\S]{0,600}` at most 600; `[\s\S]*` has no
//! bound, and such a rule keeps the whole-hunk window.
//!
//! The same syntax tree also gives the shortest match ([`min_match_bytes`]): a window shorter
//! than that cannot hold a match, and the scanner does not run the regex on it.

use regex_syntax::hir::{Class, Hir, HirKind};

/// The most line feeds (`\n`) one match of `pattern` can hold, or `None` when there is no bound
/// (or the pattern does not parse: the rule checker reports that; the caller keeps the widest
/// window).
pub fn max_newlines(pattern: &str) -> Option<usize> {
    let hir = regex_syntax::ParserBuilder::new()
        .utf8(false)
        .build()
        .parse(pattern)
        .ok()?;
    bound(&hir)
}

/// The fewest bytes one match of `pattern` holds (0 when the pattern does not parse or matches
/// nothing: no window is then ruled out).
pub fn min_match_bytes(pattern: &str) -> usize {
    regex_syntax::ParserBuilder::new()
        .utf8(false)
        .build()
        .parse(pattern)
        .ok()
        .and_then(|hir| hir.properties().minimum_len())
        .unwrap_or(0)
}

fn bound(hir: &Hir) -> Option<usize> {
    match hir.kind() {
        HirKind::Empty | HirKind::Look(_) => Some(0),
        HirKind::Literal(literal) => Some(literal.0.iter().filter(|&&b| b == b'\n').count()),
        HirKind::Class(class) => Some(usize::from(class_has_newline(class))),
        HirKind::Repetition(repetition) => {
            let one = bound(&repetition.sub)?;
            match (one, repetition.max) {
                (0, _) => Some(0),
                (_, None) => None,
                (one, Some(max)) => one.checked_mul(max as usize),
            }
        }
        HirKind::Capture(capture) => bound(&capture.sub),
        HirKind::Concat(parts) => parts
            .iter()
            .try_fold(0usize, |sum, part| sum.checked_add(bound(part)?)),
        HirKind::Alternation(branches) => branches
            .iter()
            .try_fold(0usize, |most, branch| Some(most.max(bound(branch)?))),
    }
}

fn class_has_newline(class: &Class) -> bool {
    match class {
        Class::Unicode(c) => c
            .ranges()
            .iter()
            .any(|r| r.start() <= '\n' && '\n' <= r.end()),
        Class::Bytes(c) => c
            .ranges()
            .iter()
            .any(|r| r.start() <= b'\n' && b'\n' <= r.end()),
    }
}

#[cfg(test)]
mod tests {
    use super::{max_newlines, min_match_bytes};

    #[test]
    fn the_shortest_match_is_counted_in_bytes() {
        assert_eq!(
            min_match_bytes(r"\b(pat[A-Za-z0-9]{14}\.[a-f0-9]{64})\b"),
            82
        );
        assert_eq!(min_match_bytes(r"a|bc"), 1);
        assert_eq!(min_match_bytes(r"x*"), 0);
        assert_eq!(min_match_bytes(r"(?i)key\s*[:=]\s*(\w{8,})"), 12);
        // A non-ASCII literal counts its UTF-8 bytes; `\w` may be one byte.
        assert_eq!(min_match_bytes(r"é\w"), 3);
        assert_eq!(min_match_bytes(r"(unclosed"), 0);
    }

    #[test]
    fn line_feeds_are_counted_through_every_construct() {
        assert_eq!(max_newlines("abc"), Some(0));
        assert_eq!(max_newlines(r"a\nb\r?\nc"), Some(2));
        assert_eq!(
            max_newlines(r"(?m)^user: \S+\n(?:[^\r\n]{0,200}\r?\n)?pass: (\w+)$"),
            Some(2)
        );
        assert_eq!(max_newlines(r"[^\n]*"), Some(0));
        assert_eq!(max_newlines(r"\s{0,3}x"), Some(3));
        assert_eq!(max_newlines(r"[\s\S]{0,600}"), Some(600));
        assert_eq!(max_newlines(r"(?s).{2}"), Some(2));
        assert_eq!(max_newlines(r".{0,9}"), Some(0), "`.` stops at a line feed");
        assert_eq!(max_newlines(r"(?:a\n|b\n\n|c)"), Some(2));
        assert_eq!(max_newlines(r"(?-u:[\x00-\xff]){4}"), Some(4));
    }

    #[test]
    fn an_unbounded_or_broken_pattern_has_no_bound() {
        assert_eq!(max_newlines(r"[\s\S]*"), None);
        assert_eq!(max_newlines(r"(?:x\n)+"), None);
        assert_eq!(max_newlines(r"(unclosed"), None);
    }
}

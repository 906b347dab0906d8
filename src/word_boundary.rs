//! Rule regexes use ASCII word boundaries.
//!
//! A `\b` is Unicode-aware in the regex crate, and its fast engine (the lazy DFA) gives up on the
//! first non-ASCII byte of a haystack with a Unicode word boundary, handing the search to the slow
//! one (the PikeVM): on real source code (a `—` in a comment, a translated string) that was the
//! biggest cost of a scan. Tokens are ASCII, so the rules' `\b` and `\B` are compiled as their
//! ASCII forms (`(?-u:\b)`): the boundary between an ASCII letter, digit or `_` and anything else.
//! Next to a token's ASCII characters the two agree, except that a non-ASCII letter now counts as
//! a boundary too, so a token written right after `é` is found (more matches, never fewer).

/// `pattern` with every `\b` and `\B` outside a character class written as its ASCII form.
pub fn ascii_word_boundaries(pattern: &str) -> String {
    let bytes = pattern.as_bytes();
    let mut out = String::with_capacity(pattern.len() + 16);
    let mut class_depth = 0usize;
    // Where the current class opened (a `]` right after `[` or `[^` is a literal).
    let mut class_start = usize::MAX;
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'\\' if i + 1 < bytes.len() => {
                let next = bytes[i + 1];
                if class_depth == 0 && (next == b'b' || next == b'B') && !boundary_flavour(bytes, i)
                {
                    out.push_str(if next == b'b' {
                        "(?-u:\\b)"
                    } else {
                        "(?-u:\\B)"
                    });
                } else {
                    out.push('\\');
                    push_char(&mut out, pattern, i + 1);
                }
                i += 1 + pattern[i + 1..].chars().next().map_or(1, char::len_utf8);
                continue;
            }
            b'[' => {
                class_depth += 1;
                class_start = i + 1;
                if bytes.get(i + 1) == Some(&b'^') {
                    class_start = i + 2;
                }
            }
            b']' if class_depth > 0 && i != class_start => class_depth -= 1,
            _ => {}
        }
        push_char(&mut out, pattern, i);
        i += pattern[i..].chars().next().map_or(1, char::len_utf8);
    }
    out
}

/// Whether the `\b` at `at` is the start of `\b{start}` and the like (left as written).
fn boundary_flavour(bytes: &[u8], at: usize) -> bool {
    bytes.get(at + 2) == Some(&b'{')
}

fn push_char(out: &mut String, pattern: &str, at: usize) {
    if let Some(c) = pattern[at..].chars().next() {
        out.push(c);
    }
}

#[cfg(test)]
mod tests {
    use super::ascii_word_boundaries as ascii;

    #[test]
    fn boundaries_outside_classes_become_ascii() {
        assert_eq!(ascii(r"\bab\b"), r"(?-u:\b)ab(?-u:\b)");
        assert_eq!(ascii(r"x\By"), r"x(?-u:\B)y");
    }

    #[test]
    fn escapes_classes_and_other_text_are_kept() {
        for kept in [
            r"\\b",
            r"[\b]",
            r"[]\b]",
            r"[^]\b]",
            r"[a[\b]]",
            r"\b{start}x",
            r"é\d+",
            r"\p{L}+",
            r"\x{62}",
        ] {
            assert_eq!(ascii(kept), kept, "{kept}");
        }
        assert_eq!(ascii(r"[ab]\b"), r"[ab](?-u:\b)");
        assert_eq!(ascii(r"[]]\b"), r"[]](?-u:\b)");
        assert_eq!(ascii(r"\\\b"), r"\\(?-u:\b)");
        assert_eq!(ascii("é\\bx"), "é(?-u:\\b)x");
    }

    #[test]
    fn the_ascii_form_matches_tokens_next_to_non_ascii_text() {
        let unicode = regex::bytes::Regex::new(r"\bTOK[0-9]{4}\b").unwrap();
        let ascii = regex::bytes::Regex::new(&ascii(r"\bTOK[0-9]{4}\b")).unwrap();
        for text in ["a TOK1234 b", "(TOK1234)", "—TOK1234—", "éTOK1234é"] {
            assert!(ascii.is_match(text.as_bytes()), "{text}");
        }
        assert!(!unicode.is_match("éTOK1234é".as_bytes()));
        for text in ["aTOK1234", "TOK12345", "_TOK1234"] {
            assert!(!ascii.is_match(text.as_bytes()), "{text}");
        }
    }
}

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

/// The claim, checked on the embedded pack: with ASCII boundaries every rule's regex still finds
/// every secret of its examples that the Unicode form finds, also with non-ASCII text written
/// around them or into them, and no negative example newly matches.
#[cfg(test)]
mod pack_tests {
    use regex::bytes::{Regex, RegexBuilder};

    fn build(pattern: &str) -> Regex {
        RegexBuilder::new(pattern)
            .size_limit(crate::rules::REGEX_SIZE_LIMIT)
            .build()
            .unwrap()
    }

    /// The secret spans of every match (group 1 when there is one, as the scanner's default).
    fn spans(re: &Regex, text: &str) -> Vec<(usize, usize)> {
        let group = usize::from(re.captures_len() > 1);
        re.captures_iter(text.as_bytes())
            .filter_map(|c| c.get(group).or_else(|| c.get(0)))
            .map(|m| (m.start(), m.end()))
            .collect()
    }

    /// `text` as written, between non-ASCII letters or punctuation, and with one of them inserted
    /// before (or written over) each character next to ASCII punctuation or space (where the two
    /// kinds of boundary can differ).
    fn variants(text: &str) -> Vec<String> {
        let mut out = vec![text.to_string()];
        let word = |c: Option<char>| c.is_some_and(|c| c.is_ascii_alphanumeric() || c == '_');
        for w in ["é", "—", "日", "\u{301}", "\u{203f}"] {
            out.push(format!("{w}{text}{w}"));
            for (i, c) in text.char_indices().skip(1) {
                if word(text[..i].chars().next_back()) && word(Some(c)) {
                    continue;
                }
                out.push(format!("{}{w}{}", &text[..i], &text[i..]));
                out.push(format!("{}{w}{}", &text[..i], &text[i + c.len_utf8()..]));
            }
        }
        out
    }

    #[test]
    fn ascii_boundaries_find_whatever_unicode_ones_find_in_the_pack() {
        let mut lost = Vec::new();
        let mut new_negatives = Vec::new();
        for rule in crate::builtin::rules_with_examples().unwrap() {
            let raw = &rule.raw;
            let unicode = build(&raw.regex);
            let ascii = build(&super::ascii_word_boundaries(&raw.regex));
            for text in raw.examples.iter().flat_map(|e| variants(e)) {
                let found = spans(&ascii, &text);
                for (s, e) in spans(&unicode, &text) {
                    if !found.iter().any(|&(fs, fe)| fs <= s && e <= fe) {
                        lost.push(format!("{}: {text:?}", raw.id));
                    }
                }
            }
            for text in &raw.negative_examples {
                if spans(&ascii, text) != spans(&unicode, text) {
                    new_negatives.push(format!("{}: {text:?}", raw.id));
                }
            }
        }
        assert!(lost.is_empty(), "{lost:#?}");
        assert!(new_negatives.is_empty(), "{new_negatives:#?}");
    }

    /// What `scanner` finds in `line`, a whole file at `path`.
    fn scan_line(
        scanner: &crate::scanner::Scanner,
        path: &str,
        line: &str,
    ) -> Vec<crate::finding::Finding> {
        let unit = crate::added::AddedText::whole(path, line.as_bytes().to_vec());
        scanner.scan(&unit).unwrap()
    }

    /// The rewrite keeps every pattern of the pack valid, and `allow`/`demote_when` lists (which
    /// silence findings, so must not match more) are compiled as written.
    #[test]
    fn a_format_specifier_before_a_non_ascii_letter_does_not_allow_a_password() {
        let scanner = crate::test_support::pack_scanner();
        for value in [["Zr8%k", "\u{e4} Wq3!"], ["Zr8%k", "X Wq3!"]] {
            let line = format!("{{\"password\": \"{}\"}}\n", value.concat());
            let found = scan_line(&scanner, "a.json", &line);
            assert!(
                found
                    .iter()
                    .any(|f| f.secret.expose() == value.concat().as_bytes()),
                "{line:?}: {:?}",
                found.iter().map(|f| &f.rule).collect::<Vec<_>>()
            );
        }
    }

    /// The gap between a provider's name and a key's name (`[\w.-]{0,24}?`) takes word
    /// characters only: a wider gap (any non-ASCII character) let a decoy's match start at an
    /// earlier name, run over the real one, and hide the token after it (matches do not overlap).
    #[test]
    fn a_decoy_behind_a_non_word_character_does_not_hide_a_token() {
        let scanner = crate::test_support::pack_scanner();
        let value = ["CD8ZGaum", "wAMB5LnGWzOM"].concat();
        for gap in ["\u{a0}", "\u{2014}", "\u{b7}"] {
            let line = format!("pagerduty{gap}token=xxxxxxxxxx_pagerduty.token={value}\n");
            let found = scan_line(&scanner, "p.txt", &line);
            assert!(
                found.iter().any(|f| f.secret.expose() == value.as_bytes()),
                "{line:?}: {found:?}"
            );
        }
    }

    /// `\b\.basic(`: a boundary before punctuation needs a word character before it, and a
    /// non-ASCII letter is one (a Kotlin or Java identifier may end in one).
    #[test]
    fn a_call_on_an_identifier_ending_in_a_non_ascii_letter_is_found() {
        let rules = crate::builtin::rules_with_examples().unwrap();
        let rule = rules
            .iter()
            .find(|r| r.id() == "http-credentials-basic-auth-call")
            .unwrap();
        let example = rule
            .raw
            .examples
            .iter()
            .find(|e| e.contains("Credentials.basic"))
            .unwrap();
        let text = example.replace("Credentials.basic", "Zugangsdaten\u{fc}.basic");
        let scanner =
            crate::scanner::Scanner::new(rules.clone(), crate::scanner::Suppressions::default())
                .unwrap();
        let unit = crate::added::AddedText::whole("A.kt", text.clone().into_bytes());
        let found = scanner.scan(&unit).unwrap();
        assert!(
            found.iter().any(|f| f.rule == rule.id()),
            "{text:?}: {found:?}"
        );
    }
}

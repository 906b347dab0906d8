//! Wrapping text to a width (the terminal's, 80 in pipes): at spaces, with a hanging indent. A word
//! longer than a whole line (a long URL) is broken after a `/`, `-`, `_`, `?`, `&` or `=` (or, when
//! there is none, at the width), so that no line is wider than the width.

/// Width used when the output is not a terminal.
pub const DEFAULT_WIDTH: usize = 80;

/// Narrowest width wrapped to; a narrower terminal gets lines of this width.
pub const MIN_WIDTH: usize = 40;

/// A space that wrapping does not break at (turned into a plain space in the output): keeps a
/// command such as `git commit --amend` on one line.
pub const NO_BREAK: &str = "\u{a0}";

/// Wraps `text` (after `first`, which starts the first line) into lines of at most `width`
/// characters where the words allow; continuation lines start with `rest`. Ends with a newline.
pub fn hanging(first: &str, rest: &str, text: &str, width: usize) -> String {
    let width = width.max(MIN_WIDTH);
    let mut out = String::new();
    let mut line = String::from(first);
    let mut len = first.chars().count();
    let mut empty = true;
    let room = width
        .saturating_sub(rest.chars().count())
        .max(MIN_WIDTH / 2);
    let words = text
        .split(' ')
        .filter(|w| !w.is_empty())
        .flat_map(|w| split_long(w, room));
    for word in words {
        let n = word.chars().count();
        // (NO_BREAK is one character, like the space it stands for.)
        if !empty && len + 1 + n > width {
            out.push_str(line.trim_end());
            out.push('\n');
            line = String::from(rest);
            len = rest.chars().count();
            empty = true;
        }
        if !empty {
            line.push(' ');
            len += 1;
        }
        line.push_str(word);
        len += n;
        empty = false;
    }
    out.push_str(line.trim_end());
    out.push('\n');
    out.replace(NO_BREAK, " ")
}

/// `word` in pieces of at most `room` characters, broken after URL punctuation where possible.
fn split_long(word: &str, room: usize) -> Vec<&str> {
    let mut pieces = Vec::new();
    let mut rest = word;
    while rest.chars().count() > room {
        let cut = rest
            .char_indices()
            .take(room)
            .filter(|(_, c)| matches!(c, '/' | '-' | '_' | '?' | '&' | '='))
            .map(|(i, c)| i + c.len_utf8())
            .filter(|i| *i > 1)
            .last()
            .unwrap_or_else(|| rest.char_indices().nth(room).map_or(rest.len(), |(i, _)| i));
        pieces.push(&rest[..cut]);
        rest = &rest[cut..];
    }
    pieces.push(rest);
    pieces
}

/// Wraps every line of `text` to `width`, continuing each with its own leading indentation.
pub fn wrap(text: &str, width: usize) -> String {
    let mut out = String::new();
    for line in text.lines() {
        let body = line.trim_start_matches(' ');
        let indent = &line[..line.len() - body.len()];
        if body.is_empty() {
            out.push('\n');
            continue;
        }
        out.push_str(&hanging(indent, indent, body, width));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wraps_at_spaces_with_a_hanging_indent() {
        let text = "one two three four five six seven eight nine ten eleven twelve thirteen";
        let out = hanging("  revoke  ", "          ", text, 40);
        for line in out.lines() {
            assert!(line.chars().count() <= 40, "{line:?}");
        }
        assert!(out.starts_with("  revoke  one two"));
        assert!(out.lines().nth(1).unwrap().starts_with("          "));
        assert_eq!(
            out.split_whitespace()
                .filter(|w| *w != "revoke")
                .collect::<Vec<_>>()
                .join(" "),
            text
        );
    }

    #[test]
    fn breaks_an_overlong_url_after_its_slashes() {
        let url = "https://docs.example.invalid/en/authentication/keeping-your-account-secure/token-expiration";
        let out = hanging("  docs    ", "          ", &format!("see {url} now"), 50);
        for line in out.lines() {
            assert!(line.chars().count() <= 50, "{line:?}");
        }
        let joined: String = out.lines().map(str::trim).collect::<Vec<_>>().join("");
        assert!(joined.contains(url), "{out}");
        assert!(out.lines().next().unwrap().ends_with('/'), "{out}");
    }

    #[test]
    fn wrap_keeps_each_lines_indent_and_blank_lines() {
        let out = wrap(
            "a\n\n    b c d e f g h i j k l m n o p q r s t u v w x y z",
            40,
        );
        assert!(out.starts_with("a\n\n    b c"));
        assert!(out.lines().skip(3).all(|l| l.starts_with("    ")));
    }
}

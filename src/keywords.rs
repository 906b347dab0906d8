//! The keyword prefilter: every (ASCII case-insensitive) occurrence of every rule keyword,
//! kept once per keyword per line.
//!
//! The search is the gram filter ([`crate::gram_filter`]): a shift-or pass over hashed byte
//! pairs that confirms candidates byte by byte. An Aho-Corasick automaton over the lowercased
//! keywords is the reference it is tested against, and the search itself when a (user) keyword is
//! one byte long, which the gram filter cannot index; it is built only when needed.

use std::sync::OnceLock;

use aho_corasick::{AhoCorasick, AhoCorasickBuilder, AhoCorasickKind, MatchKind};

use crate::gram_filter::GramFilter;

/// One keyword occurrence: where it starts and which keyword (index into the keyword list).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Hit {
    /// Offset of the keyword's first byte.
    pub start: usize,
    /// Keyword index.
    pub keyword: u32,
}

/// Keeps one hit per keyword per line: a keyword repeated along a line (a long run of `A`s in
/// base64, a minified file) would otherwise produce a hit per byte, and the scanner only needs the
/// line. A hit is dropped when the previous hit of the same keyword is on the same line.
struct LineDedup {
    /// Per keyword, where its previous hit started; allocated on the first hit (most units have
    /// none).
    last: Vec<usize>,
    keywords: usize,
}

impl LineDedup {
    fn new(keywords: usize) -> Self {
        LineDedup {
            last: Vec::new(),
            keywords,
        }
    }

    fn keep(&mut self, haystack: &[u8], keyword: u32, start: usize) -> bool {
        if self.last.is_empty() {
            self.last = vec![usize::MAX; self.keywords];
        }
        let last = std::mem::replace(&mut self.last[keyword as usize], start);
        // Each check looks only at the gap since the previous hit of this keyword, so a line
        // full of repeats costs linear time.
        !(last != usize::MAX
            && last <= start
            && memchr::memchr(b'\n', &haystack[last..start]).is_none())
    }
}

/// The keyword search: the gram filter, or the automaton when a keyword is too short for it.
pub struct Keywords {
    keywords: Vec<Vec<u8>>,
    grams: Option<GramFilter>,
    nfa: OnceLock<Result<AhoCorasick, aho_corasick::BuildError>>,
}

impl Keywords {
    /// Builds the search over keywords (each non-empty; matched ASCII case-insensitively).
    pub fn new(keywords: Vec<Vec<u8>>) -> Result<Self, aho_corasick::BuildError> {
        let keywords: Vec<Vec<u8>> = keywords.iter().map(|k| k.to_ascii_lowercase()).collect();
        let this = Keywords {
            grams: GramFilter::new(&keywords),
            keywords,
            nfa: OnceLock::new(),
        };
        if this.grams.is_none() {
            // Report a build error now rather than on the first search.
            this.nfa()?;
        }
        Ok(this)
    }

    /// Number of keywords.
    pub fn len(&self) -> usize {
        self.keywords.len()
    }

    /// Whether there are no keywords.
    pub fn is_empty(&self) -> bool {
        self.keywords.is_empty()
    }

    fn nfa(&self) -> Result<&AhoCorasick, aho_corasick::BuildError> {
        self.nfa
            .get_or_init(|| {
                AhoCorasickBuilder::new()
                    .ascii_case_insensitive(false)
                    .match_kind(MatchKind::Standard)
                    .kind(Some(AhoCorasickKind::ContiguousNFA))
                    .build(&self.keywords)
            })
            .as_ref()
            .map_err(Clone::clone)
    }

    /// Every keyword occurrence in `haystack` (one per keyword per line), ordered by start.
    pub fn hits(&self, haystack: &[u8]) -> Vec<Hit> {
        match &self.grams {
            Some(grams) => {
                let mut dedup = LineDedup::new(self.keywords.len());
                let mut hits = Vec::new();
                grams.find(haystack, |h| {
                    if dedup.keep(haystack, h.keyword, h.start) {
                        hits.push(Hit {
                            start: h.start,
                            keyword: h.keyword,
                        });
                    }
                });
                hits.sort_unstable();
                hits
            }
            None => self.nfa_hits(haystack),
        }
    }

    /// [`Keywords::hits`] through the Aho-Corasick automaton (the reference the gram filter is
    /// tested against).
    pub fn nfa_hits(&self, haystack: &[u8]) -> Vec<Hit> {
        let Ok(nfa) = self.nfa() else {
            // Unreachable: `new` built it when there is no gram filter, and the same keywords
            // build the same automaton.
            return Vec::new();
        };
        let mut dedup = LineDedup::new(self.keywords.len());
        let lower = haystack.to_ascii_lowercase();
        let mut hits: Vec<Hit> = nfa
            .find_overlapping_iter(&lower)
            .map(|m| Hit {
                start: m.start(),
                keyword: m.pattern().as_u32(),
            })
            .filter(|h| dedup.keep(haystack, h.keyword, h.start))
            .collect();
        hits.sort_unstable();
        hits
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What the scanner uses hits for: which keyword occurs on which line.
    fn per_line(hay: &[u8], hits: &[Hit]) -> std::collections::BTreeSet<(usize, u32)> {
        hits.iter()
            .map(|h| {
                let line = memchr::memrchr(b'\n', &hay[..h.start]).map_or(0, |i| i + 1);
                (line, h.keyword)
            })
            .collect()
    }

    #[test]
    fn a_keyword_repeated_along_a_line_is_one_hit_per_line() {
        let k = Keywords::new(vec![b"aaaa".to_vec()]).unwrap();
        let mut hay = vec![b'a'; 3_000_000];
        hay[1_000_000] = b'\n';
        for hits in [k.nfa_hits(&hay), k.hits(&hay)] {
            assert_eq!(hits.len(), 2);
            assert!(hits[0].start < 1_000_000);
            assert!(hits[1].start > 1_000_000);
        }
    }

    #[test]
    fn the_gram_filter_finds_what_the_automaton_finds() {
        let k = Keywords::new(vec![b"abc".to_vec(), b"bcd".to_vec(), b"xyzzy".to_vec()]).unwrap();
        assert!(k.grams.is_some());
        let mut hay = Vec::new();
        for i in 0..40_000 {
            hay.extend_from_slice(if i % 7 == 0 { b"xyZZy" } else { b"..aBcd.." });
        }
        let lines: Vec<u8> = hay
            .iter()
            .enumerate()
            .map(|(i, &b)| if i % 97 == 0 { b'\n' } else { b })
            .collect();
        for h in [&hay, &lines] {
            assert_eq!(per_line(h, &k.hits(h)), per_line(h, &k.nfa_hits(h)));
        }
    }

    #[test]
    fn a_one_byte_keyword_falls_back_to_the_automaton() {
        let k = Keywords::new(vec![b"Q".to_vec(), b"abc".to_vec()]).unwrap();
        assert!(k.grams.is_none());
        let hits = k.hits(b"xq ABC\nq");
        assert_eq!(hits.len(), 3);
    }
}

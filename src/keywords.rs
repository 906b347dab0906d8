//! The keyword prefilter: every (ASCII case-insensitive) occurrence of every rule keyword,
//! kept once per keyword per line.
//!
//! One Aho-Corasick automaton (a contiguous NFA over the lowercased keywords, fed lowercased
//! bytes) decides what is a keyword occurrence. Walking it over every byte is a chain of dependent
//! table loads, so in front of it runs the gram filter (`src/gram_filter.rs`), which names the
//! few positions where a keyword may start; the automaton then walks, anchored, from each of them.
//! A keyword shorter than two bytes gives the gram filter nothing to index; then the automaton
//! walks the whole haystack. (Rules require keywords of three bytes or more, so this happens only
//! to callers of this module that pass shorter ones.)

use aho_corasick::automaton::{Automaton, StateID};
use aho_corasick::nfa::contiguous::NFA;
use aho_corasick::{Anchored, MatchKind};

use crate::gram_filter::GramFilter;

/// ASCII lowercase of every byte: the automaton is built over lowercased keywords (half the
/// transitions of its case-insensitive option) and reads folded bytes.
static FOLD: [u8; 256] = {
    let mut table = [0u8; 256];
    let mut i = 0;
    while i < 256 {
        table[i] = (i as u8).to_ascii_lowercase();
        i += 1;
    }
    table
};

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
/// line. Hits arrive in order of start (or of end, which is the same line unless a keyword holds a
/// newline; then a keyword may at worst be kept twice on a line), so a hit is a repeat exactly
/// when it starts before the end of its keyword's last kept line.
struct LineDedup {
    /// Per keyword, the end of the line of its last kept hit (0: none yet); allocated on the
    /// first hit (most units have none).
    kept_until: Vec<usize>,
    keywords: usize,
}

impl LineDedup {
    fn new(keywords: usize) -> Self {
        LineDedup {
            kept_until: Vec::new(),
            keywords,
        }
    }

    fn keep(&mut self, haystack: &[u8], keyword: u32, start: usize) -> bool {
        if self.kept_until.is_empty() {
            self.kept_until = vec![0; self.keywords];
        }
        let until = &mut self.kept_until[keyword as usize];
        if start < *until {
            return false;
        }
        *until =
            memchr::memchr(b'\n', &haystack[start..]).map_or(haystack.len(), |i| start + i + 1);
        true
    }
}

/// The keyword search: the automaton, and the gram filter in front of it when it can be built.
pub struct Keywords {
    nfa: NFA,
    grams: Option<GramFilter>,
}

impl Keywords {
    /// Builds the search over keywords (each non-empty; matched ASCII case-insensitively).
    pub fn new(keywords: Vec<Vec<u8>>) -> Result<Self, aho_corasick::BuildError> {
        let keywords: Vec<Vec<u8>> = keywords.iter().map(|k| k.to_ascii_lowercase()).collect();
        let nfa = NFA::builder()
            .match_kind(MatchKind::Standard)
            .prefilter(false)
            .build(&keywords)?;
        Ok(Keywords {
            grams: GramFilter::new(&keywords),
            nfa,
        })
    }

    /// Number of keywords.
    pub fn len(&self) -> usize {
        self.nfa.patterns_len()
    }

    /// Whether there are no keywords.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The keywords matched in state `sid` after reading the byte before `end`, as hits (a state's
    /// matches include the keywords that end there and are suffixes of a longer one).
    fn matches(&self, sid: StateID, end: usize) -> impl Iterator<Item = Hit> + '_ {
        (0..self.nfa.match_len(sid)).map(move |k| {
            let pattern = self.nfa.match_pattern(sid, k);
            Hit {
                start: end - self.nfa.pattern_len(pattern),
                keyword: pattern.as_u32(),
            }
        })
    }

    /// Every keyword occurrence in `haystack` (one per keyword per line), ordered by start.
    pub fn hits(&self, haystack: &[u8]) -> Vec<Hit> {
        let Some(grams) = &self.grams else {
            return self.nfa_hits(haystack);
        };
        let Ok(anchored) = self.nfa.start_state(Anchored::Yes) else {
            return self.nfa_hits(haystack);
        };
        let mut dedup = LineDedup::new(self.len());
        let mut hits = Vec::new();
        grams.candidates(haystack, |start| {
            // The keywords that start exactly here; the walk ends where no keyword goes on.
            let mut sid = anchored;
            for (end, &b) in haystack.iter().enumerate().skip(start) {
                sid = self
                    .nfa
                    .next_state(Anchored::Yes, sid, FOLD[usize::from(b)]);
                if self.nfa.is_dead(sid) {
                    break;
                }
                if self.nfa.is_match(sid) {
                    hits.extend(
                        self.matches(sid, end + 1).filter(|h| {
                            h.start == start && dedup.keep(haystack, h.keyword, h.start)
                        }),
                    );
                }
            }
        });
        hits
    }

    /// [`Keywords::hits`] by walking the automaton over every byte (the reference the gram filter
    /// is tested against, and the search when there is no gram filter).
    pub fn nfa_hits(&self, haystack: &[u8]) -> Vec<Hit> {
        let Ok(mut sid) = self.nfa.start_state(Anchored::No) else {
            return Vec::new();
        };
        let mut dedup = LineDedup::new(self.len());
        let mut hits = Vec::new();
        for (end, &b) in haystack.iter().enumerate() {
            sid = self.nfa.next_state(Anchored::No, sid, FOLD[usize::from(b)]);
            if self.nfa.is_match(sid) {
                hits.extend(
                    self.matches(sid, end + 1)
                        .filter(|h| dedup.keep(haystack, h.keyword, h.start)),
                );
            }
        }
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

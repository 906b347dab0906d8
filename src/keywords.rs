//! The keyword prefilter: every (ASCII case-insensitive) occurrence of every rule keyword,
//! kept once per keyword per line.
//!
//! Two stages: the gram filter (`src/gram_filter.rs`) names the few positions where a keyword may
//! start, and the prefix index (`src/keyword_confirm.rs`) says which keywords really start at each
//! of them. Both are built in a fraction of a millisecond, which a hook pays on every commit (an
//! Aho-Corasick automaton over the pack's keywords cost 1.7 ms to build and confirmed no faster).
//! The automaton remains the reference the staged search is tested against, and the search when a
//! keyword is shorter than three bytes (rules require three or more, so only callers of this
//! module that pass shorter ones get it): a contiguous NFA over the lowercased keywords, fed
//! lowercased bytes, walked over every byte.

use std::sync::OnceLock;

use aho_corasick::automaton::Automaton;
use aho_corasick::nfa::contiguous::NFA;
use aho_corasick::{Anchored, MatchKind};

use crate::gram_filter::GramFilter;
use crate::keyword_confirm::PrefixIndex;

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
    /// End of the line that holds `start` (its `\n`, or the end of the haystack): found once by
    /// the per-line dedup, so the scanner does not look for it again.
    pub line_end: usize,
}

/// Keeps one hit per keyword per line: a keyword repeated along a line (a long run of `A`s in
/// base64, a minified file) would otherwise produce a hit per byte, and the scanner only needs the
/// line. Hits arrive in order of start (or of end, which is the same line unless a keyword holds a
/// newline; then a keyword may at worst be kept twice on a line), so a hit is a repeat exactly
/// when it starts before the end of its keyword's last kept line.
struct LineDedup {
    /// Per keyword met so far, the end of the line of its last kept hit: a short list while few
    /// keywords occur (most units; a table over every keyword would cost a hook a clear per
    /// unit)...
    few: Vec<(u32, usize)>,
    /// ...and a table indexed by keyword once more than [`LineDedup::FEW`] do (0: none yet).
    many: Vec<usize>,
    keywords: usize,
}

impl LineDedup {
    /// Distinct keywords kept in the short list before it turns into a table.
    const FEW: usize = 32;

    fn new(keywords: usize) -> Self {
        LineDedup {
            few: Vec::new(),
            many: Vec::new(),
            keywords,
        }
    }

    /// Where `keyword`'s last kept line ends (0 the first time).
    fn kept_until(&mut self, keyword: u32) -> &mut usize {
        if self.many.is_empty() {
            let at = match self.few.iter().position(|&(k, _)| k == keyword) {
                Some(at) => at,
                None if self.few.len() < Self::FEW => {
                    self.few.push((keyword, 0));
                    self.few.len() - 1
                }
                None => {
                    self.many = vec![0; self.keywords];
                    for (k, until) in self.few.drain(..) {
                        self.many[k as usize] = until;
                    }
                    return &mut self.many[keyword as usize];
                }
            };
            return &mut self.few[at].1;
        }
        &mut self.many[keyword as usize]
    }

    /// The end of `start`'s line (see [`Hit::line_end`]) when this hit is the first of
    /// `keyword` on its line, `None` for a repeat.
    fn keep(&mut self, haystack: &[u8], keyword: u32, start: usize) -> Option<usize> {
        let until = self.kept_until(keyword);
        if start < *until {
            return None;
        }
        let line_end =
            memchr::memchr(b'\n', &haystack[start..]).map_or(haystack.len(), |i| start + i);
        *until = line_end + 1;
        Some(line_end)
    }
}

/// The keyword search: the gram filter and the prefix index, or the automaton when a keyword is
/// too short for them.
pub struct Keywords {
    /// The keywords, lowercase.
    keywords: Vec<Vec<u8>>,
    /// The gram filter and the prefix index that confirms its candidates; `None` when a keyword
    /// is too short for either.
    staged: Option<(GramFilter, PrefixIndex)>,
    /// The automaton: built at once when there is no staged search, otherwise only for the
    /// reference search ([`Keywords::nfa_hits`]).
    nfa: OnceLock<Result<NFA, aho_corasick::BuildError>>,
}

impl Keywords {
    /// Builds the search over keywords (each non-empty; matched ASCII case-insensitively).
    pub fn new(keywords: Vec<Vec<u8>>) -> Result<Self, aho_corasick::BuildError> {
        let keywords: Vec<Vec<u8>> = keywords.iter().map(|k| k.to_ascii_lowercase()).collect();
        let staged = GramFilter::new(&keywords).zip(PrefixIndex::new(&keywords));
        let search = Keywords {
            keywords,
            staged,
            nfa: OnceLock::new(),
        };
        if search.staged.is_none() {
            search.nfa().map_err(Clone::clone)?;
        }
        Ok(search)
    }

    /// The automaton over the keywords, built on first use.
    fn nfa(&self) -> Result<&NFA, &aho_corasick::BuildError> {
        self.nfa
            .get_or_init(|| {
                NFA::builder()
                    .match_kind(MatchKind::Standard)
                    .prefilter(false)
                    .build(&self.keywords)
            })
            .as_ref()
    }

    /// Number of keywords.
    pub fn len(&self) -> usize {
        self.keywords.len()
    }

    /// Whether there are no keywords.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The longest keyword's length in bytes (0 without keywords).
    pub fn longest(&self) -> usize {
        self.keywords.iter().map(Vec::len).max().unwrap_or(0)
    }

    /// Whether [`Keywords::hits`] keeps exactly each keyword's first occurrence on each line, so
    /// that a line's hits depend on nothing but its own bytes and the [`Keywords::longest`] − 1
    /// bytes after it. True for the staged search, whose hits arrive in order of start; the
    /// automaton's arrive in order of end, where a keyword holding a newline may be kept twice.
    pub fn hits_are_per_line(&self) -> bool {
        self.staged.is_some()
    }

    /// Every keyword occurrence in `haystack` (one per keyword per line), ordered by start.
    pub fn hits(&self, haystack: &[u8]) -> Vec<Hit> {
        let Some((grams, confirm)) = &self.staged else {
            return self.nfa_hits(haystack);
        };
        let mut dedup = LineDedup::new(self.len());
        let mut hits = Vec::new();
        grams.candidates(haystack, |start| {
            confirm.confirm(haystack, start, |keyword| {
                if let Some(line_end) = dedup.keep(haystack, keyword, start) {
                    hits.push(Hit {
                        start,
                        keyword,
                        line_end,
                    });
                }
            });
        });
        hits
    }

    /// [`Keywords::hits`] by walking the automaton over every byte (the reference the staged
    /// search is tested against, and the search when a keyword is too short for it). Should the
    /// automaton not build, every keyword is compared at every position (slow, never wrong).
    pub fn nfa_hits(&self, haystack: &[u8]) -> Vec<Hit> {
        let mut dedup = LineDedup::new(self.len());
        let mut hits = Vec::new();
        let nfa = match self.nfa() {
            Ok(nfa) => nfa,
            Err(_) => {
                for start in 0..haystack.len() {
                    for (keyword, k) in self.keywords.iter().enumerate() {
                        let here = haystack.get(start..start + k.len());
                        if !here.is_some_and(|h| h.eq_ignore_ascii_case(k)) {
                            continue;
                        }
                        if let Some(line_end) = dedup.keep(haystack, keyword as u32, start) {
                            hits.push(Hit {
                                start,
                                keyword: keyword as u32,
                                line_end,
                            });
                        }
                    }
                }
                return hits;
            }
        };
        let Ok(mut sid) = nfa.start_state(Anchored::No) else {
            return hits;
        };
        for (end, &b) in haystack.iter().enumerate() {
            sid = nfa.next_state(Anchored::No, sid, FOLD[usize::from(b)]);
            if nfa.is_match(sid) {
                for k in 0..nfa.match_len(sid) {
                    let pattern = nfa.match_pattern(sid, k);
                    let start = end + 1 - nfa.pattern_len(pattern);
                    if let Some(line_end) = dedup.keep(haystack, pattern.as_u32(), start) {
                        hits.push(Hit {
                            start,
                            keyword: pattern.as_u32(),
                            line_end,
                        });
                    }
                }
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
    fn every_hit_knows_the_end_of_its_line() {
        let k = Keywords::new(vec![b"token".to_vec(), b"pass".to_vec()]).unwrap();
        let hay = b"token=1\r\nx pass token\n\npassword: token";
        for hits in [k.nfa_hits(hay), k.hits(hay)] {
            assert_eq!(hits.len(), 5);
            for h in hits {
                let end = memchr::memchr(b'\n', &hay[h.start..]).map_or(hay.len(), |i| h.start + i);
                assert_eq!(h.line_end, end, "hit at {}", h.start);
            }
        }
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
        assert!(k.staged.is_some());
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
    fn many_distinct_keywords_on_a_line_are_each_kept_once_per_line() {
        // More keywords than the dedup's short list holds: it turns into a table midway.
        let kws: Vec<Vec<u8>> = (0..40).map(|i| format!("kw{i:02}x").into_bytes()).collect();
        let k = Keywords::new(kws.clone()).unwrap();
        let line: Vec<u8> = kws
            .iter()
            .flat_map(|w| [&w[..], b" ", &w[..], b" "].concat())
            .collect();
        let hay = [&line[..], b"\n", &line[..], b"\n"].concat();
        for hits in [k.hits(&hay), k.nfa_hits(&hay)] {
            assert_eq!(hits.len(), 80);
            assert_eq!(per_line(&hay, &hits).len(), 80);
        }
    }

    #[test]
    fn a_one_byte_keyword_falls_back_to_the_automaton() {
        let k = Keywords::new(vec![b"Q".to_vec(), b"abc".to_vec()]).unwrap();
        assert!(k.staged.is_none());
        let hits = k.hits(b"xq ABC\nq");
        assert_eq!(hits.len(), 3);
    }
}

//! The keyword prefilter: one ASCII case-insensitive Aho-Corasick automaton over every rule
//! keyword (built over lowercased keywords, fed ASCII-lowercased bytes), reporting every
//! (overlapping) occurrence.
//!
//! Two forms of the same automaton: a contiguous NFA, built eagerly because it builds fast (hooks
//! scan a few lines and exit), and a DFA, built once the scanner has seen [`DFA_AFTER_BYTES`],
//! because it searches several times faster. A DFA search is a chain of dependent table loads, so
//! a large haystack is split into [`LANES`] slices walked in lock-step: the CPU overlaps the
//! independent loads of the lanes. Each lane starts `longest keyword - 1` bytes early without
//! reporting, so a keyword that straddles two slices is found exactly once.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::OnceLock;

use aho_corasick::automaton::Automaton;
use aho_corasick::dfa::DFA;
use aho_corasick::{AhoCorasick, AhoCorasickBuilder, AhoCorasickKind, Anchored, MatchKind};

/// After this many scanned bytes the DFA is built and used.
pub const DFA_AFTER_BYTES: usize = 1 << 20;
/// Slices walked in lock-step by the DFA.
pub const LANES: usize = 4;
/// Haystacks shorter than this are walked as one lane.
const MIN_LANE_BYTES: usize = 512;

/// ASCII lowercase of every byte. The automata are built over lowercased keywords without their
/// case-insensitive option (half the transitions: faster to build, smaller tables) and read
/// folded bytes.
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

/// The keyword automata.
pub struct Keywords {
    keywords: Vec<Vec<u8>>,
    longest: usize,
    nfa: AhoCorasick,
    dfa: OnceLock<Option<DFA>>,
    seen_bytes: AtomicUsize,
}

impl Keywords {
    /// Builds the NFA over keywords (each non-empty; matched ASCII case-insensitively).
    pub fn new(keywords: Vec<Vec<u8>>) -> Result<Self, aho_corasick::BuildError> {
        let keywords: Vec<Vec<u8>> = keywords.iter().map(|k| k.to_ascii_lowercase()).collect();
        let nfa = AhoCorasickBuilder::new()
            .ascii_case_insensitive(false)
            .match_kind(MatchKind::Standard)
            .kind(Some(AhoCorasickKind::ContiguousNFA))
            .build(&keywords)?;
        Ok(Keywords {
            longest: keywords.iter().map(Vec::len).max().unwrap_or(1),
            keywords,
            nfa,
            dfa: OnceLock::new(),
            seen_bytes: AtomicUsize::new(0),
        })
    }

    /// Number of keywords.
    pub fn len(&self) -> usize {
        self.keywords.len()
    }

    /// Whether there are no keywords.
    pub fn is_empty(&self) -> bool {
        self.keywords.is_empty()
    }

    fn dfa(&self) -> Option<&DFA> {
        self.dfa
            .get_or_init(|| {
                DFA::builder()
                    .ascii_case_insensitive(false)
                    .match_kind(MatchKind::Standard)
                    .prefilter(false)
                    .build(&self.keywords)
                    .ok()
            })
            .as_ref()
    }

    /// Every keyword occurrence in `haystack`, ordered by start.
    pub fn hits(&self, haystack: &[u8]) -> Vec<Hit> {
        let seen = self.seen_bytes.fetch_add(haystack.len(), Ordering::Relaxed);
        match (seen + haystack.len() >= DFA_AFTER_BYTES)
            .then(|| self.dfa())
            .flatten()
        {
            Some(dfa) => self.dfa_hits(dfa, haystack),
            None => self.nfa_hits(haystack),
        }
    }

    /// [`Keywords::hits`] through the NFA only.
    pub fn nfa_hits(&self, haystack: &[u8]) -> Vec<Hit> {
        let mut dedup = LineDedup::new(self.keywords.len());
        let lower = haystack.to_ascii_lowercase();
        let mut hits: Vec<Hit> = self
            .nfa
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

    /// [`Keywords::hits`] through the DFA (built now if needed), lanes and all.
    pub fn dfa_hits_forced(&self, haystack: &[u8]) -> Vec<Hit> {
        match self.dfa() {
            Some(dfa) => self.dfa_hits(dfa, haystack),
            None => self.nfa_hits(haystack),
        }
    }

    fn dfa_hits(&self, dfa: &DFA, haystack: &[u8]) -> Vec<Hit> {
        let mut hits = Vec::new();
        let Ok(start) = dfa.start_state(Anchored::No) else {
            return self.nfa_hits(haystack);
        };
        let n = haystack.len();
        let lane_len = n / LANES;
        let mut dedups: Vec<LineDedup> = (0..LANES)
            .map(|_| LineDedup::new(self.keywords.len()))
            .collect();
        let mut record = |lane: usize, sid, end: usize, hits: &mut Vec<Hit>| {
            for k in 0..dfa.match_len(sid) {
                let pattern = dfa.match_pattern(sid, k);
                let start = end - dfa.pattern_len(pattern);
                if dedups[lane].keep(haystack, pattern.as_u32(), start) {
                    hits.push(Hit {
                        start,
                        keyword: pattern.as_u32(),
                    });
                }
            }
        };
        if lane_len < MIN_LANE_BYTES.max(self.longest) {
            let mut sid = start;
            for (p, &b) in haystack.iter().enumerate() {
                sid = dfa.next_state(Anchored::No, sid, FOLD[usize::from(b)]);
                if dfa.is_special(sid) {
                    record(0, sid, p + 1, &mut hits);
                }
            }
        } else {
            let mut sids = [start; LANES];
            let mut begins = [0usize; LANES];
            for (lane, begin) in begins.iter_mut().enumerate().skip(1) {
                *begin = lane * lane_len;
                // Warm up over the bytes a straddling keyword could start in; matches ending
                // here belong to the previous lane.
                for &b in &haystack[*begin - (self.longest - 1)..*begin] {
                    sids[lane] = dfa.next_state(Anchored::No, sids[lane], FOLD[usize::from(b)]);
                }
            }
            for i in 0..lane_len {
                for lane in 0..LANES {
                    let p = begins[lane] + i;
                    let b = FOLD[usize::from(haystack[p])];
                    let sid = dfa.next_state(Anchored::No, sids[lane], b);
                    sids[lane] = sid;
                    if dfa.is_special(sid) {
                        record(lane, sid, p + 1, &mut hits);
                    }
                }
            }
            let last = LANES - 1;
            let mut sid = sids[last];
            for (p, &b) in haystack.iter().enumerate().skip(begins[last] + lane_len) {
                sid = dfa.next_state(Anchored::No, sid, FOLD[usize::from(b)]);
                if dfa.is_special(sid) {
                    record(last, sid, p + 1, &mut hits);
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
    fn a_keyword_repeated_along_a_line_is_one_hit_per_line() {
        let k = Keywords::new(vec![b"aaaa".to_vec()]).unwrap();
        let mut hay = vec![b'a'; 3_000_000];
        hay[1_000_000] = b'\n';
        for hits in [k.nfa_hits(&hay), k.dfa_hits_forced(&hay)] {
            assert!(hits.len() <= 2 * LANES, "{}", hits.len());
            assert!(hits.iter().any(|h| h.start < 1_000_000));
            assert!(hits.iter().any(|h| h.start > 1_000_000));
        }
    }

    #[test]
    fn lanes_find_what_the_nfa_finds_including_straddling_keywords() {
        let k = Keywords::new(vec![b"abc".to_vec(), b"bcd".to_vec(), b"xyzzy".to_vec()]).unwrap();
        let mut hay = Vec::new();
        for i in 0..40_000 {
            hay.extend_from_slice(if i % 7 == 0 { b"xyZZy" } else { b"..aBcd.." });
        }
        assert_eq!(
            per_line(&hay, &k.dfa_hits_forced(&hay)),
            per_line(&hay, &k.nfa_hits(&hay))
        );
        let lines: Vec<u8> = hay
            .iter()
            .enumerate()
            .map(|(i, &b)| if i % 97 == 0 { b'\n' } else { b })
            .collect();
        assert_eq!(
            per_line(&lines, &k.dfa_hits_forced(&lines)),
            per_line(&lines, &k.nfa_hits(&lines))
        );
        // Keywords straddling every possible lane boundary.
        for shift in 0..6 {
            let mut h = vec![b'.'; 4 * 5000 + shift];
            let n = h.len();
            let lane = n / LANES;
            for l in 1..LANES {
                let at = l * lane - 2;
                h[at..at + 5].copy_from_slice(b"xyzzy");
            }
            let dfa = k.dfa_hits_forced(&h);
            assert_eq!(dfa.len(), LANES - 1, "shift {shift}");
            assert_eq!(
                per_line(&h, &dfa),
                per_line(&h, &k.nfa_hits(&h)),
                "shift {shift}"
            );
        }
    }
}

use aho_corasick::automaton::Automaton;
use aho_corasick::dfa::DFA;
use aho_corasick::{Anchored, MatchKind};
use std::time::Instant;

#[inline(never)]
fn scan_lanes<const L: usize>(dfa: &DFA, text: &[u8], maxlen: usize, out: &mut Vec<(usize, u32)>) {
    let n = text.len();
    let lane_len = n / L;
    if lane_len < maxlen * 4 {
        return scan_one(dfa, text, 0, n, 0, out);
    }
    let start = dfa.start_state(Anchored::No).unwrap();
    let mut sids = [start; L];
    let mut begins = [0usize; L];
    let mut ends = [0usize; L];
    for l in 0..L {
        let s = l * lane_len;
        begins[l] = s.saturating_sub(maxlen - 1);
        ends[l] = if l == L - 1 { n } else { s + lane_len };
    }
    // overlap warm-up for lanes > 0: run the overlap part without reporting
    for l in 1..L {
        for p in begins[l]..l * lane_len {
            sids[l] = dfa.next_state(Anchored::No, sids[l], text[p]);
        }
        begins[l] = l * lane_len;
    }
    let common = lane_len;
    for i in 0..common {
        for l in 0..L {
            let p = begins[l] + i;
            let b = unsafe { *text.get_unchecked(p) };
            let s = dfa.next_state(Anchored::No, sids[l], b);
            sids[l] = s;
            if dfa.is_special(s) {
                for k in 0..dfa.match_len(s) {
                    out.push((p + 1, dfa.match_pattern(s, k).as_u32()));
                }
            }
        }
    }
    // tail of last lane
    let l = L - 1;
    let mut s = sids[l];
    for p in begins[l] + common..ends[l] {
        s = dfa.next_state(Anchored::No, s, text[p]);
        if dfa.is_special(s) {
            for k in 0..dfa.match_len(s) {
                out.push((p + 1, dfa.match_pattern(s, k).as_u32()));
            }
        }
    }
}
fn scan_one(
    dfa: &DFA,
    text: &[u8],
    from: usize,
    to: usize,
    _x: usize,
    out: &mut Vec<(usize, u32)>,
) {
    let mut s = dfa.start_state(Anchored::No).unwrap();
    for p in from..to {
        s = dfa.next_state(Anchored::No, s, text[p]);
        if dfa.is_special(s) {
            for k in 0..dfa.match_len(s) {
                out.push((p + 1, dfa.match_pattern(s, k).as_u32()));
            }
        }
    }
}
fn main() {
    let mut kws: Vec<Vec<u8>> = Vec::new();
    for (n, t) in leakgate::builtin::files() {
        if let Ok(f) = leakgate::rules::parse_rule_file(n, t) {
            for r in f.rules {
                for k in r.keywords {
                    kws.push(k.to_ascii_lowercase().into_bytes());
                }
            }
        }
    }
    kws.sort();
    kws.dedup();
    let maxlen = kws.iter().map(|k| k.len()).max().unwrap();
    let text = std::fs::read("/tmp/corpus.txt").unwrap();
    let dfa = DFA::builder()
        .ascii_case_insensitive(true)
        .match_kind(MatchKind::Standard)
        .prefilter(false)
        .build(&kws)
        .unwrap();
    let ac = aho_corasick::AhoCorasick::builder()
        .ascii_case_insensitive(true)
        .kind(Some(aho_corasick::AhoCorasickKind::DFA))
        .build(&kws)
        .unwrap();
    let t = Instant::now();
    let base = ac.find_overlapping_iter(&text).count();
    let e = t.elapsed();
    println!(
        "{} kws, states? ; ac overlapping {:.1} MB/s hits {base}",
        kws.len(),
        text.len() as f64 / 1e6 / e.as_secs_f64()
    );
    // scan in units of 32KB like files
    for chunk in [16_384usize, 65_536, 1 << 30] {
        let mut out = Vec::new();
        let t = Instant::now();
        for c in text.chunks(chunk) {
            scan_one(&dfa, c, 0, c.len(), 0, &mut out);
        }
        let e = t.elapsed();
        let n1 = out.len();
        println!(
            "chunk {chunk}: 1 lane {:.1} MB/s hits {n1}",
            text.len() as f64 / 1e6 / e.as_secs_f64()
        );
        out.clear();
        let t = Instant::now();
        for c in text.chunks(chunk) {
            scan_lanes::<4>(&dfa, c, maxlen, &mut out);
        }
        let e = t.elapsed();
        println!(
            "chunk {chunk}: 4 lanes {:.1} MB/s hits {}",
            text.len() as f64 / 1e6 / e.as_secs_f64(),
            out.len()
        );
        out.clear();
        let t = Instant::now();
        for c in text.chunks(chunk) {
            scan_lanes::<8>(&dfa, c, maxlen, &mut out);
        }
        let e = t.elapsed();
        println!(
            "chunk {chunk}: 8 lanes {:.1} MB/s hits {}",
            text.len() as f64 / 1e6 / e.as_secs_f64(),
            out.len()
        );
    }
}

use std::time::Instant;
#[inline(never)]
fn stage1(bits: &[u64], t: &[u8], out: &mut Vec<u32>) {
    if t.len() < 2 {
        return;
    }
    let mut prev = (t[0] | 0x20) as usize;
    for i in 1..t.len() {
        let cur = (t[i] | 0x20) as usize;
        let idx = (prev << 8) | cur;
        if (bits[idx >> 6] >> (idx & 63)) & 1 != 0 {
            out.push((i - 1) as u32);
        }
        prev = cur;
    }
}
#[inline(never)]
fn stage1_blocks(bits: &[u64], t: &[u8], out: &mut Vec<u32>) {
    // process 8 positions per iteration, branch only when any hits
    let n = t.len();
    if n < 2 {
        return;
    }
    let mut i = 0;
    while i + 9 <= n {
        let mut m = 0u32;
        for j in 0..8 {
            let idx = (((t[i + j] | 0x20) as usize) << 8) | ((t[i + j + 1] | 0x20) as usize);
            m |= (((bits[idx >> 6] >> (idx & 63)) & 1) as u32) << j;
        }
        while m != 0 {
            let j = m.trailing_zeros() as usize;
            out.push((i + j) as u32);
            m &= m - 1;
        }
        i += 8;
    }
    while i + 1 < n {
        let idx = (((t[i] | 0x20) as usize) << 8) | ((t[i + 1] | 0x20) as usize);
        if (bits[idx >> 6] >> (idx & 63)) & 1 != 0 {
            out.push(i as u32);
        }
        i += 1;
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
    let text = std::fs::read("/tmp/corpus.txt").unwrap();
    let mut bits = vec![0u64; 1024];
    for k in &kws {
        let idx = ((k[0] | 0x20) as usize) << 8 | (k[1] | 0x20) as usize;
        bits[idx >> 6] |= 1 << (idx & 63);
    }
    let mut out = Vec::with_capacity(1 << 20);
    let t = Instant::now();
    stage1(&bits, &text, &mut out);
    let e = t.elapsed();
    println!(
        "{} kws; stage1 {:.1} MB/s, candidates {} ({:.2}% of positions)",
        kws.len(),
        text.len() as f64 / 1e6 / e.as_secs_f64(),
        out.len(),
        out.len() as f64 * 100.0 / text.len() as f64
    );
    out.clear();
    let t = Instant::now();
    stage1_blocks(&bits, &text, &mut out);
    let e = t.elapsed();
    println!(
        "stage1 blocks {:.1} MB/s, candidates {}",
        text.len() as f64 / 1e6 / e.as_secs_f64(),
        out.len()
    );
    // bigram frequency of keyword bigrams
    let mut counts = std::collections::HashMap::new();
    for &p in &out {
        *counts
            .entry((text[p as usize] | 0x20, text[p as usize + 1] | 0x20))
            .or_insert(0usize) += 1;
    }
    let mut v: Vec<_> = counts.into_iter().collect();
    v.sort_by_key(|x| std::cmp::Reverse(x.1));
    for ((a, b), c) in v.iter().take(15) {
        print!("{}{}:{} ", *a as char, *b as char, c);
    }
    println!();
}

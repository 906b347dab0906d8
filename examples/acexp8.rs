use std::time::Instant;
const FOLD4: u32 = 0x2020_2020;
#[inline(always)]
fn h(x: u32) -> usize {
    (x.wrapping_mul(0x9E37_79B1) >> 16) as usize
}
#[inline(never)]
fn stage1(bits4: &[u64], bits3: &[u64], has3: bool, t: &[u8], out: &mut Vec<u32>) {
    let n = t.len();
    if n < 4 {
        return;
    }
    let mut i = 0;
    while i + 8 <= n {
        let w = u64::from_le_bytes(t[i..i + 8].try_into().unwrap()) | 0x2020_2020_2020_2020;
        let mut m = 0u32;
        for j in 0..5 {
            let x = (w >> (8 * j)) as u32;
            let k = h(x);
            m |= (((bits4[k >> 6] >> (k & 63)) & 1) as u32) << j;
            if has3 {
                let k3 = h(x & 0x00FF_FFFF);
                m |= (((bits3[k3 >> 6] >> (k3 & 63)) & 1) as u32) << j;
            }
        }
        while m != 0 {
            out.push((i + m.trailing_zeros() as usize) as u32);
            m &= m - 1;
        }
        i += 5;
    }
    while i + 4 <= n {
        let x = u32::from_le_bytes(t[i..i + 4].try_into().unwrap()) | FOLD4;
        let k = h(x);
        if (bits4[k >> 6] >> (k & 63)) & 1 != 0 {
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
    let mut bits4 = vec![0u64; 1024];
    let mut bits3 = vec![0u64; 1024];
    let mut n3 = 0;
    for k in &kws {
        let f: Vec<u8> = k.iter().map(|b| b | 0x20).collect();
        if f.len() >= 4 {
            let x = u32::from_le_bytes(f[..4].try_into().unwrap());
            let i = h(x);
            bits4[i >> 6] |= 1 << (i & 63);
        } else {
            n3 += 1;
            let x = u32::from_le_bytes([f[0], f[1], f[2], 0]);
            let i = h(x & 0xFFFFFF);
            bits3[i >> 6] |= 1 << (i & 63);
        }
    }
    let mut out = Vec::with_capacity(1 << 22);
    for _ in 0..3 {
        out.clear();
        let t = Instant::now();
        stage1(&bits4, &bits3, n3 > 0, &text, &mut out);
        let e = t.elapsed();
        println!(
            "{} kws ({} of len 3): stage1 {:.1} MB/s, candidates {} ({:.3}% of positions)",
            kws.len(),
            n3,
            text.len() as f64 / 1e6 / e.as_secs_f64(),
            out.len(),
            out.len() as f64 * 100.0 / text.len() as f64
        );
    }
    let mut counts = std::collections::HashMap::new();
    for &p in &out {
        let p = p as usize;
        if p + 4 <= text.len() {
            *counts
                .entry(text[p..p + 4].to_ascii_lowercase())
                .or_insert(0usize) += 1;
        }
    }
    let mut v: Vec<_> = counts.into_iter().collect();
    v.sort_by_key(|x| std::cmp::Reverse(x.1));
    for (a, c) in v.iter().take(25) {
        print!("{}:{} ", String::from_utf8_lossy(a), c);
    }
    println!();
    let three: Vec<String> = kws
        .iter()
        .filter(|k| k.len() < 4)
        .map(|k| String::from_utf8_lossy(k).into_owned())
        .collect();
    println!("3-byte keywords: {:?}", three);
}

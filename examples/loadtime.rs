use std::time::Instant;
fn main() {
    let t = Instant::now();
    let rules = leakgate::builtin::rules().unwrap();
    let a = t.elapsed();
    let n = rules.len();
    let t = Instant::now();
    let s = leakgate::scanner::Scanner::new(rules, Default::default()).unwrap();
    let b = t.elapsed();
    let t = Instant::now();
    let f: Vec<(String, String)> = leakgate::builtin::files()
        .iter()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect();
    let total: usize = f.iter().map(|x| x.1.len()).sum();
    println!(
        "{n} rules, {} bytes yaml: parse {:?}, scanner build {:?} ({} rules) {:?}",
        total,
        a,
        b,
        s.len(),
        t.elapsed()
    );
}

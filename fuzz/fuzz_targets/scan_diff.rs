//! Added lines of a modified blob, as the hooks see them: old versions and a new one (the input
//! split at its first two NUL bytes: `new`, `old\0new`, or `old\0old2\0new` for a merge) diffed
//! line by line into added text with its context, then scanned. Each line of the new blob is in
//! the unit at most once; every finding points at a line of the new blob, its secret redacted.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let mut parts = data.splitn(3, |&b| b == 0).collect::<Vec<_>>();
    let new = parts.pop().unwrap_or_default().to_vec();
    let olds: Vec<&[u8]> = parts;
    let unit = leakgate::git::diff::added_text(b"fuzz/file.txt", &olds, new.clone());
    assert!(
        unit.buf.len() <= new.len() + 1,
        "a line of the new blob twice in the unit"
    );
    let scanned = leakgate_fuzz::builtin_scanner()
        .scan_all(&unit)
        .expect("the embedded pack never fails");
    leakgate_fuzz::check_findings(&scanned.findings, &new);
    leakgate_fuzz::check_findings(scanned.suppressed.iter().map(|s| &s.finding), &new);
});

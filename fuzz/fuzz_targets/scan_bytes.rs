//! The scanner over arbitrary bytes, as `leakgate scan PATH` reads a file: every view of the blob
//! (UTF-16 decoded first), the embedded pack, encoded runs (base64, hex, percent) decoded in place.
//! No panic, no error, and every finding points inside the text with its secret redacted.
#![no_main]

use leakgate::added::AddedText;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let scanner = leakgate_fuzz::builtin_scanner();
    for view in leakgate::decode::views(data.to_vec()) {
        let unit = AddedText::whole("fuzz/input.txt", view);
        let scanned = scanner
            .scan_all(&unit)
            .expect("the embedded pack never fails");
        leakgate_fuzz::check_findings(&scanned.findings, &unit.buf);
        leakgate_fuzz::check_findings(scanned.suppressed.iter().map(|s| &s.finding), &unit.buf);
    }
    let _ = leakgate::decode::archive_kind(data);
});

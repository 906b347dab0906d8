//! `.leakgateignore` and baseline files (`--baseline`): fingerprint lines with `#` comments, or
//! an audit's JSON report. No panic; every fingerprint a file yields is one `fingerprint::parse`
//! accepts, lower-cased, and the set contains it; error messages carry no terminal controls.
#![no_main]

use leakgate::audit::baseline::Baseline;
use leakgate::config::parse_ignore_file;
use leakgate::fingerprint::{parse, IgnoreEntry};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    match parse_ignore_file(".leakgateignore", text) {
        Ok(set) => {
            let mut count = 0;
            for line in text.lines() {
                let entry = line.split('#').next().unwrap_or("").trim();
                if entry.is_empty() {
                    continue;
                }
                let parsed = parse(entry).expect("every line of a parsed ignore file parses");
                match &parsed {
                    IgnoreEntry::Current(fp) | IgnoreEntry::Legacy(fp) => {
                        assert_eq!(fp, &fp.to_ascii_lowercase());
                    }
                }
                assert!(set.contains(&parsed));
                count += 1;
            }
            assert!(set.len() <= count);
        }
        Err(e) => {
            let _ = e.to_string();
        }
    }
    match Baseline::parse("baseline.txt", text) {
        Ok(baseline) => {
            if !text.trim_start().starts_with('{') {
                for line in text.lines() {
                    let line = line.split('#').next().unwrap_or("").trim();
                    if let Some(token) = line.split_whitespace().next() {
                        assert!(baseline.contains(token));
                        assert!(baseline.contains(&token.to_ascii_uppercase()));
                    }
                }
            }
        }
        Err(e) => {
            let message = e.to_string();
            if let leakgate::audit::baseline::BaselineError::Line { text, .. } = &e {
                assert!(!leakgate_fuzz::has_terminal_controls(text), "{message:?}");
            }
        }
    }
});

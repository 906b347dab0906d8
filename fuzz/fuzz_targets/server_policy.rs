//! The server policy (`leakgate-server check-config FILE`, the pre-receive hook's start-up):
//! parsed with its checks (absolute paths, allow entries that cannot match everything, positive
//! budgets), then turned into the scan config and a scanner. No panic; whatever parses keeps the
//! checks the parser promises.
#![no_main]

use leakgate::config::{assemble_rules, suppressions, RuleSetOptions};
use leakgate::scanner::Scanner;
use leakgate::server::policy::Policy;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let policy = match Policy::parse("server.yaml", text) {
        Ok(policy) => policy,
        Err(e) => {
            let _ = e.to_string();
            return;
        }
    };
    assert!(policy.time_budget_ms > 0 && policy.max_blob_bytes > 0);
    assert!(policy.audit_log.is_absolute() && policy.fingerprint_key_file.is_absolute());
    assert!(
        !policy.bypass.push_option.is_empty()
            && !policy.bypass.push_option.contains('=')
            && !policy.bypass.push_option.chars().any(char::is_whitespace)
    );
    for entry in policy.allow.paths.iter().chain(&policy.allow.values) {
        let re = regex::bytes::Regex::new(entry).expect("an allow entry that parsed compiles");
        assert!(
            !re.is_match(b""),
            "allow entry {entry:?} matches everything"
        );
    }
    let config = policy.as_scan_config();
    let options = RuleSetOptions {
        no_builtin: true,
        ..RuleSetOptions::default()
    };
    let Ok((rules, _)) = assemble_rules(&config, "server.yaml", &options) else {
        return;
    };
    let Ok(suppressions) = suppressions(&config, "server.yaml", Default::default()) else {
        return;
    };
    if let Ok(scanner) = Scanner::new(rules, suppressions) {
        let _ = scanner.compile_all();
    }
});

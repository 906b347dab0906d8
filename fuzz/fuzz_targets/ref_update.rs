//! Ref-update lines as git hands them to hooks: `pre-receive` stdin (`<old> <new> <ref>`) and
//! `pre-push` stdin (`<local ref> <local id> <remote ref> <remote id>`). No panic; what parses
//! writes back to lines that parse to the same updates, and ids are full and never the null id.
#![no_main]

use leakgate::git::ref_update::{parse_id, parse_pre_push, parse_pre_receive, RefUpdate};
use libfuzzer_sys::fuzz_target;

const NULL: &str = "0000000000000000000000000000000000000000";

fn id(value: &Option<gix::ObjectId>) -> String {
    value.map_or_else(|| NULL.to_string(), |id| id.to_string())
}

fn check(update: &RefUpdate) {
    assert!(!update.name.contains('\n'));
    assert!(update.old.is_none_or(|i| !i.is_null()));
    assert!(update.new.is_none_or(|i| !i.is_null()));
    assert_eq!(update.is_deletion(), update.new.is_none());
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(updates) = parse_pre_receive(text) {
        let mut again = String::new();
        for u in &updates {
            check(u);
            assert!(u.source.is_none());
            again.push_str(&format!("{} {} {}\n", id(&u.old), id(&u.new), u.name));
        }
        // A name that ends in spaces or `\r` is written back as read (trimmed of `\r` only).
        if updates
            .iter()
            .all(|u| !u.name.trim().is_empty() && !u.name.ends_with('\r'))
        {
            assert_eq!(
                parse_pre_receive(&again).ok().as_ref(),
                Some(&updates),
                "{again:?}"
            );
        }
    }
    if let Ok(updates) = parse_pre_push(text) {
        let mut again = String::new();
        for u in &updates {
            check(u);
            let source = u.source.as_deref().expect("pre-push names its local ref");
            again.push_str(&format!(
                "{source} {} {} {}\n",
                id(&u.new),
                u.name,
                id(&u.old)
            ));
        }
        assert_eq!(
            parse_pre_push(&again).ok().as_ref(),
            Some(&updates),
            "{again:?}"
        );
    }
    for word in text.split_whitespace().take(8) {
        if let Ok(Some(parsed)) = parse_id(word) {
            assert!(word.eq_ignore_ascii_case(&parsed.to_string()));
        }
    }
});

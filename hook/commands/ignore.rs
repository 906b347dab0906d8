//! `leakgate ignore FINGERPRINT... [--reason TEXT]`: appends to `.leakgateignore`.

use leakgate::exit::Exit;
use std::io::Write as _;

use anyhow::Context as _;
use leakgate::config::{parse_ignore_file, IGNORE_FILE};
use leakgate::fingerprint::{self, IgnoreEntry};
use leakgate::report::sanitize::sanitize;

use crate::cli::IgnoreArgs;
use crate::{output, setup};

/// Appends the fingerprints not already present, each with the reason.
pub(super) fn run(args: &IgnoreArgs) -> anyhow::Result<Exit> {
    let path = setup::work_tree_root().join(IGNORE_FILE);
    let existing = match std::fs::read_to_string(&path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
        Err(e) => return Err(e).with_context(|| format!("cannot read {}", path.display())),
    };
    let present = parse_ignore_file(IGNORE_FILE, &existing)?;
    let reason = args
        .reason
        .as_deref()
        .map(|r| r.replace(['\n', '\r'], " "))
        .filter(|r| !r.trim().is_empty());
    let mut lines = String::new();
    let mut added = 0;
    for fp in &args.fingerprints {
        let entry = match fingerprint::parse(fp.trim()) {
            Some(entry @ IgnoreEntry::Current(_)) => entry,
            Some(IgnoreEntry::Legacy(_)) => anyhow::bail!(
                "`{}` is a version-1 fingerprint, which a dictionary attack can reverse; scan \
                 again and record the fingerprint the report prints now",
                sanitize(fp)
            ),
            None => anyhow::bail!(
                "`{}` is not a fingerprint (expected <rule-id>:<20 hex>, as a report prints it)",
                sanitize(fp)
            ),
        };
        if present.contains(&entry) {
            continue;
        }
        match &reason {
            Some(r) => lines.push_str(&format!("{fp}  # {r}\n")),
            None => lines.push_str(&format!("{fp}\n")),
        }
        added += 1;
    }
    if added > 0 {
        let mut file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&path)
            .with_context(|| format!("cannot open {}", path.display()))?;
        if !existing.is_empty() && !existing.ends_with('\n') {
            file.write_all(b"\n")?;
        }
        file.write_all(lines.as_bytes())
            .with_context(|| format!("cannot write {}", path.display()))?;
    }
    output::stderr(&format!(
        "leakgate: {added} fingerprint(s) added to {} ({} already present); the hooks read the \
         committed or staged file: git add {IGNORE_FILE}\n",
        path.display(),
        args.fingerprints.len() - added
    ))?;
    Ok(Exit::Clean)
}

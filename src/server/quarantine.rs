//! Reading pushed objects during pre-receive. git keeps them in a quarantine directory
//! (`GIT_OBJECT_DIRECTORY`, with the real store in `GIT_ALTERNATE_OBJECT_DIRECTORIES`) until the
//! hook accepts the push; gix does not read those variables, so a private objects directory whose
//! `info/alternates` lists them is opened instead. Nothing is ever written into the quarantine.

use std::path::{Path, PathBuf};

use crate::git::GitError;

/// A private objects directory, removed when dropped.
pub struct QuarantineView {
    dir: PathBuf,
}

impl Drop for QuarantineView {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Splits `GIT_ALTERNATE_OBJECT_DIRECTORIES` (`:`-separated; entries may be double-quoted).
pub fn split_alternates(value: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = value;
    while !rest.is_empty() {
        if let Some(quoted) = rest.strip_prefix('"') {
            let mut entry = String::new();
            let mut chars = quoted.char_indices();
            let mut end = quoted.len();
            while let Some((i, c)) = chars.next() {
                match c {
                    '\\' => {
                        if let Some((_, n)) = chars.next() {
                            entry.push(n);
                        }
                    }
                    '"' => {
                        end = i + 1;
                        break;
                    }
                    c => entry.push(c),
                }
            }
            out.push(entry);
            rest = quoted[end..].strip_prefix(':').unwrap_or(&quoted[end..]);
        } else {
            let (entry, tail) = rest.split_once(':').unwrap_or((rest, ""));
            if !entry.is_empty() {
                out.push(entry.to_string());
            }
            rest = tail;
        }
    }
    out
}

/// When git runs the hook with a quarantine, points `repo` at a view of the quarantined and the
/// existing objects. Returns the view (keep it alive while reading), or `None` outside quarantine.
pub fn attach(repo: &mut gix::Repository) -> Result<Option<QuarantineView>, GitError> {
    let Some(objects) = std::env::var_os("GIT_OBJECT_DIRECTORY").filter(|v| !v.is_empty()) else {
        return Ok(None);
    };
    let cwd = std::env::current_dir().unwrap_or_default();
    let absolute = |p: &Path| {
        if p.is_absolute() {
            p.to_path_buf()
        } else {
            cwd.join(p)
        }
    };
    let mut alternates = vec![absolute(Path::new(&objects))];
    if let Some(more) = std::env::var_os("GIT_ALTERNATE_OBJECT_DIRECTORIES") {
        for entry in split_alternates(&more.to_string_lossy()) {
            alternates.push(absolute(Path::new(&entry)));
        }
    }
    // The repository's own store too, in case the variables do not list it.
    alternates.push(repo.common_dir().join("objects"));
    let unique = format!(
        "leakgate-objects-{}-{}",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos())
    );
    let dir = std::env::temp_dir().join(unique);
    let view = QuarantineView { dir: dir.clone() };
    let fail = |e: std::io::Error| GitError::Open {
        path: dir.display().to_string(),
        message: format!("cannot prepare a view of the quarantined objects: {e}"),
    };
    std::fs::create_dir_all(dir.join("info")).map_err(fail)?;
    std::fs::create_dir_all(dir.join("pack")).map_err(fail)?;
    let list: Vec<String> = alternates.iter().map(|p| p.display().to_string()).collect();
    std::fs::write(dir.join("info").join("alternates"), list.join("\n") + "\n").map_err(fail)?;
    let handle = gix::odb::at(&dir, repo.object_hash()).map_err(fail)?;
    repo.objects = gix::odb::memory::Proxy::from(handle);
    crate::git::configure_caches(repo);
    Ok(Some(view))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn alternates_split_and_unquote() {
        assert_eq!(split_alternates("/a:/b"), vec!["/a", "/b"]);
        assert_eq!(
            split_alternates("\"/with:colon\":/c"),
            vec!["/with:colon", "/c"]
        );
        assert_eq!(split_alternates(""), Vec::<String>::new());
    }
}

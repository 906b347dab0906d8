//! Reading pushed objects during pre-receive. git keeps them in a quarantine directory
//! (`GIT_OBJECT_DIRECTORY`, with the real store in `GIT_ALTERNATE_OBJECT_DIRECTORIES`) until the
//! hook accepts the push; gix does not read those variables, so a private objects directory whose
//! `info/alternates` lists them is opened instead. Nothing is ever written into the quarantine.

use std::path::{Path, PathBuf};

use crate::git::GitError;

/// A private objects directory, removed when dropped.
pub struct QuarantineView {
    dir: PathBuf,
    /// Whether git said this is its quarantine (`GIT_QUARANTINE_PATH` names `GIT_OBJECT_DIRECTORY`).
    quarantined: bool,
}

impl QuarantineView {
    /// The object store as it was before the push: the repository's own objects and their
    /// alternates, without the quarantine. `None` unless git said the pushed objects are in a
    /// quarantine (`GIT_QUARANTINE_PATH` names `GIT_OBJECT_DIRECTORY`, a directory other than
    /// the repository's own objects): without that, nothing tells new objects from old ones, and
    /// the caller walks history exactly ([`crate::git::walk`]).
    pub fn store_before(&self, repo: &gix::Repository) -> Option<gix::odb::Handle> {
        if !self.quarantined {
            return None;
        }
        let objects = repo.common_dir().join("objects");
        let quarantine = std::env::var_os("GIT_QUARANTINE_PATH")?;
        let same = |a: &Path, b: &Path| match (a.canonicalize(), b.canonicalize()) {
            (Ok(a), Ok(b)) => a == b,
            _ => true,
        };
        if same(Path::new(&quarantine), &objects) {
            return None;
        }
        gix::odb::at(objects, repo.object_hash()).ok()
    }
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
    let quarantine = std::env::var_os("GIT_QUARANTINE_PATH").filter(|v| !v.is_empty());
    let quarantined = quarantine.is_some_and(|q| {
        match (
            absolute(Path::new(&q)).canonicalize(),
            absolute(Path::new(&objects)).canonicalize(),
        ) {
            (Ok(q), Ok(o)) => q == o,
            _ => false,
        }
    });
    let view = QuarantineView {
        dir: dir.clone(),
        quarantined,
    };
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

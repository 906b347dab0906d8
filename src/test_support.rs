//! Inputs shared by the unit tests of the prefilter and the decoding stage: a deterministic
//! random source, adversarial keyword sets and haystacks, and the slow references that the fast
//! searches are compared with; and a `git` command isolated from the caller's git environment.

/// xorshift64: deterministic input without a dependency.
pub(crate) struct Rng(pub(crate) u64);

impl Rng {
    pub(crate) fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    pub(crate) fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

/// Keyword sets that stress the prefix index and the gram filter: bytes the ASCII fold must keep
/// apart (`@`/`` ` ``, `[`/`{`), keywords of exactly three bytes beside ones whose fourth byte is
/// NUL or a newline, ids that differ only in case, NUL, high and newline bytes.
pub(crate) fn adversarial_keyword_sets() -> Vec<Vec<&'static [u8]>> {
    vec![
        vec![
            b"@bc", b"`bc", b"[x{", b"{x[", b"ab@", b"ab`", b"ab@\0", b"ab`\0",
        ],
        vec![
            b"abc", b"abc\0", b"abc\0\0", b"abc\0d", b"abcd", b"abc\n", b"ab\nc",
        ],
        vec![b"Secret", b"SECRET", b"secret", b"secre", b"sec", b"SEC"],
        vec![
            b"\0\0\0",
            b"\0\0\0\0",
            b"\xff\xff\xff",
            b"\xdf\xdf\xdf",
            b"\xc0\xe0\xc0",
        ],
        vec![b"\n\n\n", b"\n\n\na", b"a\n\n", b"\r\n\r\n", b"key\nkey"],
    ]
}

/// Two hundred keywords of one three-byte group (`key`): the bare group, every fourth byte, and
/// short tails of letters, NUL and newlines.
pub(crate) fn crowded_group(rng: &mut Rng) -> Vec<Vec<u8>> {
    let mut group: Vec<Vec<u8>> = vec![b"key".to_vec()];
    for i in 0..200u32 {
        let mut k = b"key".to_vec();
        k.push(i as u8);
        k.extend((0..rng.below(6)).map(|_| b"aZ\0\n"[rng.below(4)]));
        group.push(k.to_ascii_lowercase());
    }
    group
}

/// `count` random keywords of 3 to 12 bytes over a small alphabet with fold neighbours, NUL,
/// newline and a high byte (lowercase).
pub(crate) fn random_keywords(rng: &mut Rng, count: usize) -> Vec<Vec<u8>> {
    (0..count)
        .map(|_| {
            let len = 3 + rng.below(10);
            (0..len)
                .map(|_| b"abcdeXY_-\0\n\xe9@`"[rng.below(14)])
                .collect::<Vec<u8>>()
                .to_ascii_lowercase()
        })
        .collect()
}

/// Calls `each` with `rounds` haystacks of keyword pieces whose bytes are sometimes upper-cased or
/// have bit `0x20` or `0x80` flipped (neighbours the gram filter folds together and the prefix
/// index must keep apart), mixed with noise bytes; each also once more ending inside the first
/// four bytes of a keyword.
pub(crate) fn flipped_haystacks(
    keywords: &[Vec<u8>],
    rounds: usize,
    seed: u64,
    mut each: impl FnMut(&[u8]),
) {
    let mut rng = Rng(seed);
    for _ in 0..rounds {
        let len = rng.below(120);
        let mut hay = Vec::with_capacity(len + 16);
        while hay.len() < len {
            if rng.below(3) == 0 {
                hay.push(b"\0\n@`[{\xff\xc0aA"[rng.below(10)]);
                continue;
            }
            let k = &keywords[rng.below(keywords.len())];
            let cut = if rng.below(3) == 0 {
                rng.below(k.len() + 1)
            } else {
                k.len()
            };
            for &b in &k[..cut] {
                hay.push(match rng.below(8) {
                    0 => b ^ 0x20,
                    1 => b ^ 0x80,
                    2 => b.to_ascii_uppercase(),
                    _ => b,
                });
            }
        }
        each(&hay);
        for k in keywords.iter().take(8) {
            for cut in 0..k.len().min(5) {
                let mut ends = hay.clone();
                ends.extend_from_slice(&k[..cut]);
                each(&ends);
            }
        }
    }
}

/// Every maximal run of at least `min` base64 bytes, a byte at a time (the reference of
/// [`crate::base64_runs::base64_runs`]).
pub(crate) fn naive_base64_runs(buf: &[u8], min: usize) -> Vec<(usize, usize)> {
    let mut runs = Vec::new();
    let mut i = 0;
    while i < buf.len() {
        let start = i;
        while i < buf.len() && crate::base64_runs::is_base64_byte(buf[i]) {
            i += 1;
        }
        if i - start >= min {
            runs.push((start, i));
        }
        i = i.max(start + 1);
    }
    runs
}

/// `git ARGS` in `dir`, isolated from the environment's git variables and from the system and
/// global config.
pub(crate) fn git_command(dir: &std::path::Path, args: &[&str]) -> std::process::Command {
    let mut cmd = std::process::Command::new("git");
    cmd.args(args).current_dir(dir);
    for (key, _) in std::env::vars_os() {
        if key.to_string_lossy().starts_with("GIT_") {
            cmd.env_remove(key);
        }
    }
    cmd.env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_CONFIG_GLOBAL", "/dev/null");
    cmd
}

/// The ids of the objects of `kind` (`blob`, `tree`, `commit`) in the repository at `dir`, as git
/// lists them.
pub(crate) fn objects_of_type(dir: &std::path::Path, kind: &str) -> Vec<gix::hash::ObjectId> {
    let out = git_command(
        dir,
        &[
            "cat-file",
            "--batch-all-objects",
            "--batch-check=%(objecttype) %(objectname)",
        ],
    )
    .output()
    .expect("git cat-file runs");
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| l.split_once(' '))
        .filter(|(k, _)| *k == kind)
        .filter_map(|(_, id)| gix::hash::ObjectId::from_hex(id.as_bytes()).ok())
        .collect()
}

/// Every keyword of the embedded pack, lowercase (as the keyword search holds them).
pub(crate) fn pack_keywords() -> Vec<Vec<u8>> {
    crate::builtin::rules()
        .unwrap()
        .iter()
        .flat_map(|r| {
            r.raw
                .keywords
                .iter()
                .map(|k| k.to_ascii_lowercase().into_bytes())
        })
        .collect()
}

/// Runs `git` in `dir` (isolated, with a fixed author and committer) and asserts it succeeded.
pub(crate) fn git_ok(dir: &std::path::Path, args: &[&str]) {
    let out = git_command(dir, args)
        .env("GIT_AUTHOR_NAME", "a")
        .env("GIT_AUTHOR_EMAIL", "a@example.invalid")
        .env("GIT_COMMITTER_NAME", "c")
        .env("GIT_COMMITTER_EMAIL", "c@example.invalid")
        .output()
        .unwrap();
    assert!(out.status.success(), "git {args:?} failed");
}

/// A new empty repository (branch `main`) in a fresh temporary directory named after `tag`.
pub(crate) fn fresh_repo(tag: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("leakgate-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    git_ok(&dir, &["init", "-q", "-b", "main"]);
    dir
}

/// The first example of built-in rule `id` (secrets for tests are never written as literals).
pub(crate) fn rule_example(id: &str) -> String {
    crate::builtin::rules_with_examples()
        .unwrap()
        .iter()
        .find(|r| r.id() == id)
        .unwrap()
        .raw
        .examples[0]
        .clone()
}

/// Standard base64 with padding, for building test input.
pub(crate) fn b64(data: &[u8]) -> String {
    const A: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in data.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            out.push(if i <= chunk.len() {
                A[((n >> (18 - 6 * i)) & 63) as usize] as char
            } else {
                '='
            });
        }
    }
    out
}

/// The scanner of the embedded pack, without suppressions.
pub(crate) fn pack_scanner() -> crate::scanner::Scanner {
    crate::scanner::Scanner::new(crate::builtin::rules().unwrap(), Default::default()).unwrap()
}

/// `len` pseudo-random ASCII letters and digits from `rng` (values made at run time, so that no
/// token-like literal is committed).
pub(crate) fn random_alnum(rng: &mut Rng, len: usize) -> String {
    const A: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    (0..len).map(|_| A[rng.below(A.len())] as char).collect()
}

/// Overwrites `path` with `bytes`, though git wrote it read-only (a pack, an index): for tests
/// that craft a repository's files.
pub(crate) fn overwrite(path: &std::path::Path, bytes: &[u8]) {
    let mut permissions = std::fs::metadata(path).unwrap().permissions();
    #[allow(clippy::permissions_set_readonly_false)]
    permissions.set_readonly(false);
    std::fs::set_permissions(path, permissions).unwrap();
    std::fs::write(path, bytes).unwrap();
}

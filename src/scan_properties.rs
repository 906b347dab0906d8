//! Property checks of the prefilter, the base64-run finder and the multiline windows against
//! slow references and adversarial inputs (from a red-team review of the scanner speed-ups).

use crate::keywords::{Hit, Keywords};
use crate::test_support::{
    adversarial_keyword_sets, crowded_group, flipped_haystacks, naive_base64_runs, pack_scanner,
    random_keywords, Rng,
};
use std::collections::BTreeSet;

fn per_line(hay: &[u8], hits: &[Hit]) -> BTreeSet<(usize, u32)> {
    hits.iter()
        .map(|h| {
            let line = memchr::memrchr(b'\n', &hay[..h.start]).map_or(0, |i| i + 1);
            (line, h.keyword)
        })
        .collect()
}

fn mutate_case(rng: &mut Rng, k: &[u8]) -> Vec<u8> {
    k.iter()
        .map(|&b| {
            if rng.below(2) == 0 {
                b.to_ascii_uppercase()
            } else {
                b
            }
        })
        .collect()
}

fn fuzz(keywords: &[Vec<u8>], rounds: usize, seed: u64) {
    let k = Keywords::new(keywords.to_vec()).unwrap();
    let mut rng = Rng(seed);
    let noise: &[u8] = b"\n\r\0 \xff\x80\xc0\xe0\x7f\x1f_-=:\"'aAzZ09";
    for round in 0..rounds {
        let len = if round % 20 == 0 {
            1000 + rng.below(3000)
        } else {
            rng.below(200)
        };
        let mut hay = Vec::with_capacity(len + 64);
        while hay.len() < len {
            match rng.below(6) {
                0 | 1 => {
                    let kw = &keywords[rng.below(keywords.len())];
                    let kw = mutate_case(&mut rng, kw);
                    // Sometimes only a prefix of the keyword (near misses).
                    let cut = if rng.below(4) == 0 {
                        rng.below(kw.len() + 1)
                    } else {
                        kw.len()
                    };
                    hay.extend_from_slice(&kw[..cut]);
                }
                2 => hay.push(rng.next() as u8),
                _ => hay.push(noise[rng.below(noise.len())]),
            }
        }
        let got = per_line(&hay, &k.hits(&hay));
        let want = per_line(&hay, &k.nfa_hits(&hay));
        assert_eq!(
            got,
            want,
            "round {round} hay {:?}",
            String::from_utf8_lossy(&hay)
        );
        // Every suffix and prefix too (partial blocks at both ends).
        if round % 10 == 0 {
            for cut in 0..hay.len().min(40) {
                let h = &hay[cut..];
                assert_eq!(per_line(h, &k.hits(h)), per_line(h, &k.nfa_hits(h)));
                let h = &hay[..hay.len() - cut];
                assert_eq!(per_line(h, &k.hits(h)), per_line(h, &k.nfa_hits(h)));
            }
        }
    }
}

#[test]
fn the_gram_filter_finds_what_the_automaton_finds_for_the_pack() {
    fuzz(
        &crate::test_support::pack_keywords(),
        600,
        0x1234_5678_9abc_def1,
    );
}

#[test]
fn the_gram_filter_finds_what_the_automaton_finds_for_adversarial_sets() {
    let sets: Vec<Vec<&[u8]>> = vec![
        vec![b"ab", b"abc", b"abcdefghijk", b"abcdefghijz", b"ABCDEFGHIJ"],
        vec![b"abcdefghi", b"abcdefghij", b"abcdefghixyz", b"bcdefghij"],
        vec![b"xx", b"XX", b"xy", b"yx", b"\xff\xfe", b"\x00\x01"],
        vec![b"a\nb", b"\nab", b"ab\n", b"\r\n", b"key\r"],
        vec![b"@@", b"``", b"[[", b"{{", b"\xc0\xc0", b"\x40\x60"],
        vec![b"token", b"Token", b"TOKEN", b"tok", b"to"],
        vec![b"aaaaaaaaaaaaaaaaaaaaaaaaaa", b"aa", b"aaa"],
        vec![b"password", b"passwd", b"pass", b"pwd", b"pw"],
    ];
    for (i, set) in sets.iter().enumerate() {
        let owned: Vec<Vec<u8>> = set.iter().map(|k| k.to_vec()).collect();
        fuzz(&owned, 400, 0xdead_beef_0000_0001 + i as u64);
        // Without the keywords under three bytes, the same set takes the staged search (gram
        // filter and prefix index) instead of the automaton.
        let long: Vec<Vec<u8>> = owned.into_iter().filter(|k| k.len() >= 3).collect();
        if !long.is_empty() {
            fuzz(&long, 400, 0xfeed_0000_0001 + i as u64);
        }
    }
    // Many keywords: every bucket in use, runs per length.
    let mut rng = Rng(77);
    let many: Vec<Vec<u8>> = (0..600)
        .map(|_| {
            let len = 3 + rng.below(13);
            (0..len).map(|_| b"abcXY_-\xe9\n"[rng.below(9)]).collect()
        })
        .collect();
    fuzz(&many, 400, 99);
}

#[test]
fn base64_runs_match_a_byte_walk_on_adversarial_buffers() {
    let mut rng = Rng(5);
    for round in 0..4000 {
        let len = if round % 100 == 0 {
            20_000
        } else {
            round % 300
        };
        let mode = round % 4;
        let buf: Vec<u8> = (0..len)
            .map(|i| match mode {
                0 => rng.next() as u8,
                1 => {
                    if rng.below(40) == 0 {
                        rng.next() as u8
                    } else {
                        b'A'
                    }
                }
                2 => {
                    if (i / 13) % 2 == 0 {
                        b'Q'
                    } else {
                        (i * 37) as u8
                    }
                }
                _ => {
                    if rng.below(17) == 0 {
                        b'\xff'
                    } else {
                        b"+/=9zZ"[rng.below(6)]
                    }
                }
            })
            .collect();
        for min in [15, 16, 17, 40, 64, 65] {
            assert_eq!(
                crate::base64_runs::base64_runs(&buf, min),
                naive_base64_runs(&buf, min),
                "round {round} min {min}"
            );
        }
    }
}

/// The lines (sorted) of `rule`'s findings when the embedded pack scans `text` as a new file.
fn finding_lines(
    scanner: &crate::scanner::Scanner,
    path: &str,
    text: &str,
    rule: &str,
) -> Vec<usize> {
    let unit = crate::added::AddedText::whole(path, text.as_bytes().to_vec());
    let mut lines: Vec<usize> = scanner
        .scan(&unit)
        .unwrap()
        .into_iter()
        .filter(|f| f.rule == rule)
        .map(|f| f.line)
        .collect();
    lines.sort_unstable();
    lines
}

/// Bounded multiline windows (f261ee1) end a few lines after the keyword's line, so a match whose
/// first line holds none of its rule's keywords is no longer rescued by a keyword further up the
/// file. These inputs were found before that commit; their first lines now hold a keyword.
#[test]
fn bounded_windows_keep_matches_that_start_on_a_keyword_line() {
    let s = pack_scanner();
    let lines_of = |path: &str, text: &str, rule: &str| finding_lines(&s, path, text, rule);
    let env = "env:\n  - name: DB_PASSWORD\n    value: Hx7kQ2mZ9pLw\n  - name: S3_ACCESSKEY\n    \
               value: Zr8Tq3Nv6Yb1Kc4W\n  - name: signingPrivateKey\n    value: Pq2Wm9Lk4Jh7Gf3D\n";
    assert_eq!(
        lines_of("deploy.yaml", env, "generic-name-value-secret"),
        [3, 5, 7]
    );
    // One line per literal: a whole entry on one line of this file would be a finding itself.
    let netrc = [
        "machine api.github.com",
        "  login bob",
        "  password Gh5tYq2Lp9Xz",
        "",
        "default",
        "  login anonymous",
        "  password Wq8Rt3Yz6Ub1",
        "",
    ]
    .join("\n");
    assert_eq!(
        lines_of("netrc", &netrc, "http-credentials-netrc-block"),
        [3, 7]
    );
    assert_eq!(
        lines_of(
            "netrc",
            &netrc.replace('\n', "\r\n"),
            "http-credentials-netrc-block"
        ),
        [3, 7]
    );
    let pair = "db:\n  username: alice\n  password: sunflowers\n  host: h\n\n\nother:\n  \
                user.id: bob\n  password: marigolds\n";
    assert_eq!(
        lines_of("c.yaml", pair, "generic-credential-pair-weak"),
        [3, 9]
    );
    let aligned = "[db]\nuser    = alice\npassword = sunflowers\n";
    assert_eq!(
        lines_of("db.ini", aligned, "generic-credential-pair-weak"),
        [3]
    );
}

/// Values built at run time, so that this file holds no literal our own scan would flag.
fn token(len: usize, alphabet: &[u8], seed: u64) -> String {
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15 ^ seed.wrapping_mul(0x2545_f491_4f6c_dd1d));
    (0..len)
        .map(|_| alphabet[rng.below(alphabet.len())] as char)
        .collect()
}

/// Every spelling a bounded multiline rule's regex accepts on its first line holds one of the
/// rule's keywords: spacing, tabs and quoting that only an earlier keyword used to rescue.
#[test]
fn first_line_spellings_of_multiline_rules_hold_a_keyword() {
    const B64: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    const ALNUM: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    let hosts = b"abcdefghijklmnop";
    // (path, text, rule, lines of its findings)
    let cases: [(&str, String, &str, &[usize]); 5] = [
        (
            ".edgerc",
            format!(
                "[default]\nclient_secret = {}=\nhost = akab-{}.luna.akamaiapis.net\n\n[other]\n\
                 client_secret  =\t{}=\nhost = akab-{}.luna.akamaiapis.net\n",
                token(43, B64, 1),
                token(16, hosts, 2),
                token(43, B64, 3),
                token(16, hosts, 4)
            ),
            "akamai-edgegrid-client-secret",
            &[2, 6],
        ),
        (
            "kubeconfig",
            format!(
                "apiVersion: v1\nkind: Config\nusers:\n- name: alice\n  user:\n    token: {}\n\
                 -  name: bob\n  user:\n    token: {}\n",
                token(32, ALNUM, 5),
                token(32, ALNUM, 6)
            ),
            "kubernetes-kubeconfig-token",
            &[6, 9],
        ),
        (
            "secret.yaml",
            format!(
                "apiVersion: v1\nkind: 'Secret'\nmetadata:\n  name: db\ndata:\n  password: {}\n",
                token(24, B64, 7)
            ),
            "kubernetes-secret-data",
            &[6],
        ),
        (
            "main.tf",
            format!(
                "variable\t\"db_password\" {{\n  type = string\n  default = \"{}\"\n}}\n",
                token(16, ALNUM, 8)
            ),
            "generic-terraform-variable-default",
            &[3],
        ),
        (
            "main.tf",
            format!(
                "provider  \"cloudflare\" {{\n  api_token = \"{}\"\n}}\n",
                token(40, ALNUM, 9)
            ),
            "cloudflare-terraform-provider",
            &[2],
        ),
    ];
    let s = pack_scanner();
    for (path, text, rule, lines) in &cases {
        assert_eq!(finding_lines(&s, path, text, rule), *lines, "{rule}");
    }
}

/// [`fuzz`] over [`flipped_haystacks`]: keyword bytes with bit `0x20` or `0x80` flipped, and
/// haystacks that end inside a keyword's first four bytes.
fn fuzz_flips(keywords: &[Vec<u8>], rounds: usize, seed: u64) {
    let k = Keywords::new(keywords.to_vec()).unwrap();
    flipped_haystacks(keywords, rounds, seed, |h| {
        assert_eq!(
            per_line(h, &k.hits(h)),
            per_line(h, &k.nfa_hits(h)),
            "hay {h:?}"
        );
    });
}

/// The prefix index (2fa019d) against the automaton: keywords of exactly three bytes, fold
/// neighbours, NUL and newline bytes at the fourth position, ids that differ only in case, one
/// crowded group, thousands of keywords, and the pack.
#[test]
fn the_prefix_index_finds_what_the_automaton_finds() {
    let sets = adversarial_keyword_sets();
    for (i, set) in sets.iter().enumerate() {
        let owned: Vec<Vec<u8>> = set.iter().map(|k| k.to_vec()).collect();
        assert!(Keywords::new(owned.clone()).unwrap().len() == owned.len());
        fuzz_flips(&owned, 300, 0xc0ff_ee00 + i as u64);
        fuzz(&owned, 100, 0xbead_0000 + i as u64);
    }
    let mut rng = Rng(41);
    fuzz_flips(&crowded_group(&mut rng), 200, 3);
    let many = random_keywords(&mut rng, 5000);
    fuzz_flips(&many, 100, 4);
    fuzz_flips(&crate::test_support::pack_keywords(), 300, 5);
}

/// Keywords for [`every_keyword_ending_in_the_last_bytes_of_a_short_haystack`]: eight keywords
/// of one four-byte group (inside the masked word, ending at its last byte, with tails past it),
/// its three-byte prefix, a NUL at every position from the fourth to the tenth, high bytes beside
/// letters, and pairs that differ only in bit `0x20` of a non-letter.
fn word_confirm_keywords() -> Vec<Vec<u8>> {
    let mut keywords: Vec<Vec<u8>> = [
        &b"abc"[..],
        b"abcd",
        b"abcde",
        b"abcdefg",
        b"abcdefgh",
        b"abcdefghi",
        b"abcdefghijklmnopq",
        b"abcdefgh\0",
        b"abcdxxxxy",
        b"@bc`",
        b"`bc@",
        b"[x{]",
        b"{x[}",
        b"\xc1bcd",
        b"\xe1bcd",
        b"a\xc2c\xe3e",
        b"zz\xffz",
    ]
    .iter()
    .map(|k| k.to_vec())
    .collect();
    for nul in 3..10 {
        let mut k = b"qrstuvwxyz"[..=nul].to_vec();
        k[nul] = 0;
        keywords.push(k);
    }
    keywords
}

/// The folded eight-byte confirm (697fa76) reads zeros past the end of the haystack and compares
/// a keyword's first eight bytes at once: every keyword, in three spellings, ending at each of the
/// last ten bytes of haystacks from its length to 24 bytes longer (the gram filter's single
/// blocks, pairs and tail), among NUL, high and fold-neighbour bytes, and each haystack cut
/// inside the keyword. The hits, sorted, must equal the automaton's.
#[test]
fn every_keyword_ending_in_the_last_bytes_of_a_short_haystack() {
    let keywords = word_confirm_keywords();
    let k = Keywords::new(keywords.clone()).unwrap();
    let same = |hay: &[u8]| {
        let mut got = k.hits(hay);
        got.sort_unstable();
        assert_eq!(got, k.nfa_hits(hay), "{hay:?}");
    };
    let fillers: &[u8] = b"\0\xc1\xe1@`[{Aa\xff\x80 ";
    for (i, keyword) in keywords.iter().enumerate() {
        for len in keyword.len()..=keyword.len() + 24 {
            for at in len.saturating_sub(keyword.len() + 9)..=len - keyword.len() {
                let spelling = (i + at + len) % 3;
                let mut hay = vec![fillers[(i + at + len) % fillers.len()]; len];
                for (j, &b) in keyword.iter().enumerate() {
                    hay[at + j] = match spelling {
                        0 => b,
                        1 => b.to_ascii_uppercase(),
                        _ if j % 2 == 0 => b.to_ascii_uppercase(),
                        _ => b,
                    };
                }
                same(&hay);
                for cut in at + 2..at + keyword.len() {
                    same(&hay[..cut]);
                }
            }
        }
    }
}

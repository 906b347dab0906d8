//! Differential test of the prescan's soundness claim: a blob that
//! [`ChangeScanner::scans_clean_changed`] clears (from the lines its delta changed, its base
//! clean whole) scans clean whole too. Random bases from a vocabulary of rule examples split over
//! lines, keyword lines whose value continues on the next, allow markers, PEM and multiline blocks,
//! encoded and wrapped base64 values, CRLF; random edits (inserts, deletes, replaced, joined and
//! split lines, bytes inserted mid-line, unaligned copies from elsewhere in the base).

use crate::added::AddedText;
use crate::audit::delta_hits;
use crate::audit::delta_lines::{self, line_ranges, Copied};
use crate::git::changes::ChangeScanner;
use crate::keywords::Keywords;
use crate::scanner::{Scanner, Suppressions};
use crate::test_support::{b64, fresh_repo, Rng};
use gix::hash::ObjectId;

fn random_value(rng: &mut Rng, n: usize) -> String {
    const CHARS: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789";
    (0..n)
        .map(|_| CHARS[rng.below(CHARS.len())] as char)
        .collect()
}

fn percent(data: &[u8]) -> String {
    data.iter().map(|b| format!("%{b:02X}")).collect()
}

/// Pieces of text ("lines" that may hold several lines).
struct Vocab {
    clean: Vec<String>,
    dirty: Vec<String>,
}

/// Lines made of each rule's examples (whole, halved, encoded, wrapped), negative examples and
/// keywords (bare, and with a value to follow on the next line).
fn rule_lines(clean: &mut Vec<String>, dirty: &mut Vec<String>) {
    for r in &crate::builtin::rules_with_examples().unwrap() {
        for e in r.raw.examples.iter().take(2) {
            dirty.push(e.clone());
            // Split the example in two lines at a random point (each half clean, maybe).
            if e.len() > 4 && e.is_char_boundary(e.len() / 2) {
                let cut = e.len() / 2;
                clean.push(e[..cut].to_string());
                clean.push(e[cut..].to_string());
            }
            dirty.push(b64(e.as_bytes()));
            dirty.push(format!(
                "x = \"{}\"",
                crate::hex::encode_lower(e.as_bytes())
            ));
            dirty.push(format!("u={}", percent(e.as_bytes())));
            // Wrapped base64 of the example, 64 wide.
            let long = format!("{e}\n{e}\n");
            let enc = b64(long.as_bytes());
            let wrapped: Vec<String> = enc
                .as_bytes()
                .chunks(64)
                .map(|c| String::from_utf8(c.to_vec()).unwrap())
                .collect();
            dirty.push(wrapped.join("\n"));
            clean.extend(wrapped);
        }
        for n in r.raw.negative_examples.iter().take(3) {
            clean.push(n.clone());
        }
        for k in r.raw.keywords.iter().take(2) {
            if !k.contains('\n') {
                clean.push(k.clone());
                clean.push(format!("{k}:"));
                clean.push(format!("{k} = \\"));
                clean.push(format!("{k}: |"));
            }
        }
    }
}

fn vocab(rng: &mut Rng) -> Vocab {
    let mut clean: Vec<String> = Vec::new();
    let mut dirty: Vec<String> = Vec::new();
    rule_lines(&mut clean, &mut dirty);
    for i in 0..40 {
        clean.push(format!("setting_{i}: value {i}"));
    }
    for _ in 0..40 {
        clean.push(format!("  {}", random_value(rng, 24)));
        clean.push(format!("  \"{}\"", random_value(rng, 32)));
        clean.push(random_value(rng, 40));
    }
    for s in [
        "",
        "  ",
        "}",
        "password:",
        "db_password:",
        "client_secret:",
        "api_key =",
        "token: |",
        "secret: >-",
        "AWS_SECRET_ACCESS_KEY=\\",
        "password = \\",
        "# leakgate:allow",
        "kind: Secret",
        "data:",
        "stringData:",
        "users:",
        "- name: foo",
        "  user:",
        "[client]",
        "machine example.com",
        "login foo",
        "default",
        "-----BEGIN RSA PRIVATE KEY-----",
        "-----END RSA PRIVATE KEY-----",
        "apiVersion: v1",
    ] {
        clean.push(s.to_string());
    }
    let pem: Vec<String> = crate::test_support::rule_example("private-key-rsa")
        .lines()
        .map(str::to_string)
        .collect();
    clean.extend(pem.iter().cloned());
    dirty.push(pem.join("\n"));
    // CRLF variants.
    let crlf: Vec<String> = clean
        .iter()
        .filter(|_| rng.below(8) == 0)
        .map(|l| format!("{l}\r"))
        .collect();
    clean.extend(crlf);
    Vocab { clean, dirty }
}

#[derive(Debug, Clone)]
enum Piece {
    Copy(usize, usize),
    Insert(Vec<u8>),
}

fn pick<'a>(rng: &mut Rng, v: &'a [String]) -> &'a str {
    &v[rng.below(v.len())]
}

/// One edited line (`start..end` of the base): the pieces that replace it.
fn edit_line(
    rng: &mut Rng,
    base: &[u8],
    (start, end): (usize, usize),
    mut text: impl FnMut(&mut Rng) -> Vec<u8>,
    pieces: &mut Vec<Piece>,
) {
    match rng.below(9) {
        // Inserted before, or several lines inserted before.
        0 => {
            pieces.push(Piece::Insert(text(rng)));
            pieces.push(Piece::Copy(start, end));
        }
        // Deleted.
        1 => {}
        // Replaced.
        2 => pieces.push(Piece::Insert(text(rng))),
        // Bytes inserted inside the line (with or without a line feed).
        3 => {
            let cut = start + rng.below(end - start);
            pieces.push(Piece::Copy(start, cut));
            let mut inserted = text(rng);
            if rng.below(2) == 0 {
                inserted.pop();
            }
            pieces.push(Piece::Insert(inserted));
            pieces.push(Piece::Copy(cut, end));
        }
        // Joined with the next line (its line feed dropped).
        4 if end - start > 1 && base[end - 1] == b'\n' => pieces.push(Piece::Copy(start, end - 1)),
        4 => pieces.push(Piece::Copy(start, end)),
        // Split in two.
        5 => {
            let cut = start + rng.below(end - start);
            pieces.push(Piece::Copy(start, cut));
            pieces.push(Piece::Insert(b"\n".to_vec()));
            pieces.push(Piece::Copy(cut, end));
        }
        // A copy from elsewhere in the base (maybe unaligned), then the line.
        6 => {
            let from = rng.below(base.len());
            let size = 1 + rng.below((base.len() - from).min(200));
            pieces.push(Piece::Copy(from, from + size));
            pieces.push(Piece::Copy(start, end));
        }
        // The same bytes inserted, not copied (git may do that).
        7 => pieces.push(Piece::Insert(base[start..end].to_vec())),
        _ => {
            for _ in 0..=rng.below(4) {
                pieces.push(Piece::Insert(text(rng)));
            }
            pieces.push(Piece::Copy(start, end));
        }
    }
}

/// Pieces rebuilding an edited `base`: each line kept, or now and then edited.
fn edit(rng: &mut Rng, base: &[u8], voc: &Vocab) -> Vec<Piece> {
    let mut pieces = Vec::new();
    let rate = 2 + rng.below(12);
    let text = |rng: &mut Rng| -> Vec<u8> {
        let src = if rng.below(3) == 0 {
            &voc.dirty
        } else {
            &voc.clean
        };
        format!("{}\n", pick(rng, src)).into_bytes()
    };
    for line in line_ranges(base) {
        if rng.below(rate) == 0 {
            edit_line(rng, base, line, text, &mut pieces);
        } else {
            pieces.push(Piece::Copy(line.0, line.1));
        }
    }
    if rng.below(4) == 0 {
        pieces.push(Piece::Insert(text(rng)));
    }
    pieces
}

/// The blob and its copies, joined as `copied_ranges` joins them.
fn build(base: &[u8], pieces: &[Piece]) -> (Vec<u8>, Vec<Copied>) {
    let mut blob = Vec::new();
    let mut copies: Vec<Copied> = Vec::new();
    for p in pieces {
        match p {
            Piece::Copy(s, e) if s < e => {
                let out = blob.len();
                blob.extend_from_slice(&base[*s..*e]);
                match copies.last_mut() {
                    Some(last)
                        if last.end == out && last.source + (last.end - last.start) == *s =>
                    {
                        last.end = blob.len();
                    }
                    _ => copies.push(Copied {
                        start: out,
                        end: blob.len(),
                        source: *s,
                    }),
                }
            }
            Piece::Copy(..) => {}
            Piece::Insert(t) => blob.extend_from_slice(t),
        }
    }
    (blob, copies)
}

fn show(data: &[u8]) -> String {
    String::from_utf8_lossy(data).into_owned()
}

/// Edits `base` (clean whole) `edits` times and checks every edit the changed lines clear, the
/// multiline rules run with the keyword hits moved from the base's ([`delta_hits`]), which must
/// be the hits of the whole blob.
fn check_edits(
    (scan, keywords): (&mut ChangeScanner<'_>, &Keywords),
    rng: &mut Rng,
    base: &[u8],
    voc: &Vocab,
    edits: usize,
    what: &str,
) -> (usize, usize) {
    let (mut tried, mut decided) = (0, 0);
    let base_hits = keywords.hits(base);
    for _ in 0..edits {
        let pieces = edit(rng, base, voc);
        let (blob, copies) = build(base, &pieces);
        let Some(mut unit) = delta_lines::changed_unit(b"", base, &blob, &copies) else {
            continue;
        };
        tried += 1;
        let whole = AddedText::whole("f.yaml", blob.clone());
        unit.path.clone_from(&whole.path);
        let hits = delta_hits::hits_from_base(
            (base, &base_hits),
            &blob,
            &copies,
            keywords.longest(),
            |part| keywords.hits(part),
        );
        assert_eq!(
            hits,
            keywords.hits(&blob),
            "{what}: hits moved from the base"
        );
        let changed = scan
            .scans_clean_changed(&whole, &unit, Some(&hits))
            .unwrap();
        let full = scan.scans_clean_whole(b"f.yaml", ID, blob.clone()).unwrap();
        decided += usize::from(changed);
        assert!(
            !changed || full,
            "{what}: cleared but not clean\nBASE:\n{}\nBLOB:\n{}\nUNIT:\n{}",
            show(base),
            show(&blob),
            show(&unit.buf),
        );
    }
    (tried, decided)
}

/// The object id the checks scan under (the scanner does not look at it).
const ID: ObjectId = ObjectId::Sha1([0; 20]);

/// A narrow vocabulary: few kinds of lines, so that they meet often.
fn narrow_vocab(rng: &mut Rng) -> Vocab {
    let aws = crate::test_support::rule_example("aws-access-key-id");
    let pem: Vec<String> = crate::test_support::rule_example("private-key-rsa")
        .lines()
        .map(str::to_string)
        .collect();
    let mut clean = vec![
        String::new(),
        "password:".into(),
        "password = \\".into(),
        "token: |".into(),
        "api_key =".into(),
        "# leakgate:allow".into(),
        "kind: Secret".into(),
        "data:".into(),
        "-----BEGIN RSA PRIVATE KEY-----".into(),
        "-----END RSA PRIVATE KEY-----".into(),
        "default".into(),
        "machine example.com".into(),
        "[client]".into(),
    ];
    for _ in 0..6 {
        clean.push(random_value(rng, 40));
        clean.push(random_value(rng, 64));
        clean.push(format!("  {}", random_value(rng, 24)));
        clean.push(format!("\"{}\",", random_value(rng, 48)));
    }
    clean.push(aws[..aws.len() / 2].to_string());
    clean.push(aws[aws.len() / 2..].to_string());
    let enc = b64(format!("key {aws} and {aws} again, {aws}\n").as_bytes());
    for c in enc.as_bytes().chunks(40) {
        clean.push(String::from_utf8(c.to_vec()).unwrap());
    }
    for c in enc.as_bytes().chunks(64) {
        clean.push(String::from_utf8(c.to_vec()).unwrap());
    }
    clean.extend(pem.iter().skip(1).take(3).cloned());
    let dirty = vec![
        aws.clone(),
        b64(aws.as_bytes()),
        pem.join("\n"),
        format!("password: \"{}\"", random_value(rng, 20)),
    ];
    Vocab { clean, dirty }
}

/// A base from the full vocabulary: filler settings among its lines, now and then no final line
/// feed.
fn wide_base(rng: &mut Rng, voc: &Vocab) -> Vec<u8> {
    let n = 8 + rng.below(50);
    let mut base = Vec::new();
    let filler = 1 + rng.below(4);
    for _ in 0..n {
        if rng.below(5) < filler {
            let line = format!("setting_{}: value {}", rng.below(100), rng.below(100));
            base.extend_from_slice(line.as_bytes());
        } else {
            base.extend_from_slice(pick(rng, &voc.clean).as_bytes());
        }
        base.push(b'\n');
    }
    if rng.below(10) == 0 {
        base.pop();
    }
    base
}

/// A short base from the narrow vocabulary, now and then a CRLF line.
fn narrow_base(rng: &mut Rng, voc: &Vocab) -> Vec<u8> {
    let n = 4 + rng.below(30);
    let mut base = Vec::new();
    for _ in 0..n {
        if rng.below(3) == 0 {
            let line = format!("setting_{}: {}", rng.below(100), rng.below(100));
            base.extend_from_slice(line.as_bytes());
        } else {
            base.extend_from_slice(pick(rng, &voc.clean).as_bytes());
        }
        if rng.below(10) == 0 {
            base.push(b'\r');
        }
        base.push(b'\n');
    }
    base
}

/// One kind of run: its vocabulary, how it makes a base, how many edits each base gets, and
/// how a seed number becomes the random generator's seed.
struct FuzzKind {
    name: &'static str,
    vocab: fn(&mut Rng) -> Vocab,
    base: fn(&mut Rng, &Vocab) -> Vec<u8>,
    edits: usize,
    seed: fn(u64) -> u64,
}

/// Clean bases of `kind`, each edited at random and every edit checked ([`check_edits`]); a
/// tenth of the edits at least must be cleared, or the check decides nothing.
fn fuzz(scanner: &Scanner, kind: &FuzzKind, seed: u64, rounds: usize) {
    let mut rng = Rng(seed);
    let voc = (kind.vocab)(&mut rng);
    let dir = fresh_repo(&format!("fuzz-changed-{}-{seed}", kind.name));
    let repo = gix::open(&dir).unwrap();
    let mut scan = ChangeScanner::new(&repo, scanner, 1 << 20);
    let (mut tried, mut decided) = (0, 0);
    for round in 0..rounds {
        let base = (kind.base)(&mut rng, &voc);
        if !scan.scans_clean_whole(b"f.yaml", ID, base.clone()).unwrap() {
            continue;
        }
        let what = format!("{} seed {seed} round {round}", kind.name);
        let keywords = scanner.multiline_keywords().unwrap();
        let (t, d) = check_edits(
            (&mut scan, keywords),
            &mut rng,
            &base,
            &voc,
            kind.edits,
            &what,
        );
        tried += t;
        decided += d;
    }
    assert!(
        decided > tried / 10,
        "too few edits cleared: {decided} of {tried}"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

/// Runs `kind` over 2 seeds of 150 rounds, or as many as `LEAKGATE_FUZZ_SEEDS` and
/// `LEAKGATE_FUZZ_ROUNDS` say.
fn run(kind: &FuzzKind) {
    let setting = |name: &str, default: u64| -> u64 {
        std::env::var(name)
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or(default)
    };
    let seeds = setting("LEAKGATE_FUZZ_SEEDS", 2);
    let rounds = usize::try_from(setting("LEAKGATE_FUZZ_ROUNDS", 150)).unwrap();
    let scanner = Scanner::new(crate::builtin::rules().unwrap(), Suppressions::default()).unwrap();
    for seed in 1..=seeds {
        fuzz(&scanner, kind, (kind.seed)(seed), rounds);
    }
}

#[test]
fn lines_a_delta_changed_clear_only_blobs_that_scan_clean_whole() {
    run(&FuzzKind {
        name: "wide",
        vocab,
        base: wide_base,
        edits: 4,
        seed: |s| s * 0x9e37_79b9 + 7,
    });
}

#[test]
fn lines_a_delta_changed_clear_only_blobs_that_scan_clean_whole_narrow() {
    run(&FuzzKind {
        name: "narrow",
        vocab: narrow_vocab,
        base: narrow_base,
        edits: 6,
        seed: |s| s * 0x51ed + 3,
    });
}

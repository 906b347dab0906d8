//! Decoding of encoded runs in place (`src/encoded.rs`) over text built from pieces: plain
//! bytes, base64 (also wrapped over lines, as `base64` and PEM wrap), hex and percent-encoding of
//! fuzzer-chosen bytes, with only part of the text marked as added. Every decoded run must sit
//! inside the unit and inside its rewritten line, in order, no longer than its encoding, and
//! overlap the added bytes; the rewritten lines stay linear in the unit's size; the full scan
//! keeps the finding invariants.
#![no_main]

use arbitrary::Arbitrary;
use leakgate::added::AddedText;
use libfuzzer_sys::fuzz_target;

#[derive(Arbitrary, Debug)]
enum Piece {
    Plain(Vec<u8>),
    Text(String),
    Base64(Vec<u8>),
    Base64Text(String),
    Hex { data: Vec<u8>, upper: bool },
    Percent { data: Vec<u8>, all: bool },
    Wrapped { data: String, width: u8, indent: u8 },
    Newline,
    Space,
}

#[derive(Arbitrary, Debug)]
struct Input {
    pieces: Vec<Piece>,
    added: Option<(u16, u16)>,
}

const B64: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

fn base64(data: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    for chunk in data.chunks(3) {
        let mut n = 0u32;
        for (i, &b) in chunk.iter().enumerate() {
            n |= u32::from(b) << (16 - 8 * i);
        }
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(B64[(n >> (18 - 6 * i) & 63) as usize]);
            } else {
                out.push(b'=');
            }
        }
    }
    out
}

fn render(input: &Input) -> Vec<u8> {
    let mut buf = Vec::new();
    for piece in &input.pieces {
        match piece {
            Piece::Plain(b) => buf.extend_from_slice(b),
            Piece::Text(s) => buf.extend_from_slice(s.as_bytes()),
            Piece::Base64(b) => buf.extend(base64(b)),
            Piece::Base64Text(s) => buf.extend(base64(s.as_bytes())),
            Piece::Hex { data, upper } => {
                for b in data {
                    let pair = if *upper {
                        format!("{b:02X}")
                    } else {
                        format!("{b:02x}")
                    };
                    buf.extend_from_slice(pair.as_bytes());
                }
            }
            Piece::Percent { data, all } => {
                for &b in data {
                    if *all || !b.is_ascii_alphanumeric() {
                        buf.extend_from_slice(format!("%{b:02X}").as_bytes());
                    } else {
                        buf.push(b);
                    }
                }
            }
            Piece::Wrapped {
                data,
                width,
                indent,
            } => {
                let encoded = base64(data.as_bytes());
                let width = usize::from(*width).max(4);
                for line in encoded.chunks(width) {
                    buf.extend(std::iter::repeat_n(b' ', usize::from(*indent % 8)));
                    buf.extend_from_slice(line);
                    buf.push(b'\n');
                }
            }
            Piece::Newline => buf.push(b'\n'),
            Piece::Space => buf.push(b' '),
        }
    }
    buf
}

fuzz_target!(|input: Input| {
    let buf = render(&input);
    let len = buf.len();
    let mut unit = AddedText::whole("fuzz/encoded.txt", buf);
    if let Some((s, e)) = input.added {
        let modulo = len.max(1) + 1;
        unit.set_added(usize::from(s) % modulo, usize::from(e) % modulo);
    }
    let lines = leakgate::encoded::decoded_lines(&unit);
    let mut rewritten = 0;
    for line in &lines {
        rewritten += line.text.len();
        let mut previous: Option<&leakgate::encoded::DecodedRun> = None;
        for run in &line.runs {
            let (rs, re) = run.run;
            let (ds, de) = run.decoded;
            assert!(
                rs < re && re <= len,
                "run {rs}..{re} outside a {len}-byte unit"
            );
            assert!(
                ds <= de && de <= line.text.len(),
                "decoded {ds}..{de} outside its line"
            );
            assert!(de - ds <= re - rs, "decoded text longer than its encoding");
            assert!(unit.overlaps_added(rs, re), "a run outside the added bytes");
            if let Some(p) = previous {
                assert!(
                    p.run.1 <= rs && p.decoded.1 <= ds,
                    "runs out of order: {p:?} {run:?}"
                );
            }
            assert!(ds == de || line.run_at(ds, de).is_some());
            previous = Some(run);
        }
    }
    assert!(
        rewritten <= 2 * len + 1,
        "{rewritten} rewritten bytes from a {len}-byte unit"
    );
    let scanned = leakgate_fuzz::builtin_scanner()
        .scan_all(&unit)
        .expect("the embedded pack never fails");
    leakgate_fuzz::check_findings(&scanned.findings, &unit.buf);
});

//! Offline checksums carried by some token formats.
//!
//! A token whose format carries a checksum and fails it is not a token the provider issued (a typo,
//! a truncated copy, or a made-up look-alike): the finding is dropped. This keeps precision high on
//! formats whose prefix alone would already be enough to report (see `docs/RULES.md`).

pub use crate::schema::Checksum;

impl Checksum {
    /// Whether `secret` carries a valid checksum.
    pub fn verify(self, secret: &[u8]) -> bool {
        match self {
            Checksum::Crc32Base62 => crc32_base62_suffix(secret),
            Checksum::Crc32Base36Suffix7 => crc32_base36_suffix7(secret),
            Checksum::Crc32HexLeSuffix8 => crc32_hex_le_suffix8(secret),
            Checksum::Crc32HexUpperSuffix8 => crc32_hex_upper_suffix8(secret),
            Checksum::Bech32 => bech32_valid(secret),
        }
    }
}

const BASE62: &[u8; 62] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/// Encodes `value` in base62, left-padded with `0` to `width` digits.
pub fn base62(mut value: u64, width: usize) -> Vec<u8> {
    let mut digits = Vec::with_capacity(width);
    while value > 0 {
        digits.push(BASE62[(value % 62) as usize]);
        value /= 62;
    }
    while digits.len() < width {
        digits.push(b'0');
    }
    digits.reverse();
    digits
}

fn crc32_base62_suffix(secret: &[u8]) -> bool {
    let body = match memchr::memrchr(b'_', secret) {
        Some(i) => &secret[i + 1..],
        None => secret,
    };
    if body.len() <= 6 {
        return false;
    }
    let (random, check) = body.split_at(body.len() - 6);
    base62(u64::from(crc32fast::hash(random)), 6) == check
}

fn crc32_base36_suffix7(secret: &[u8]) -> bool {
    if secret.len() <= 7 {
        return false;
    }
    let (body, check) = secret.split_at(secret.len() - 7);
    let Ok(text) = std::str::from_utf8(check) else {
        return false;
    };
    if !text
        .bytes()
        .all(|b| b.is_ascii_digit() || b.is_ascii_lowercase())
    {
        return false;
    }
    u64::from_str_radix(text, 36).is_ok_and(|v| v == u64::from(crc32fast::hash(body)))
}

fn crc32_hex_le_suffix8(secret: &[u8]) -> bool {
    let Some(i) = memchr::memrchr(b'_', secret) else {
        return false;
    };
    let (body, check) = (&secret[..i], &secret[i + 1..]);
    let expected: String = crc32fast::hash(body)
        .to_le_bytes()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    check.eq_ignore_ascii_case(expected.as_bytes())
}

fn crc32_hex_upper_suffix8(secret: &[u8]) -> bool {
    if secret.len() <= 8 {
        return false;
    }
    let (body, check) = secret.split_at(secret.len() - 8);
    format!("{:08X}", crc32fast::hash(body)).as_bytes() == check
}

const BECH32_CHARSET: &[u8; 32] = b"qpzry9x8gf2tvdw0s3jn54khce6mua7l";

fn bech32_polymod(values: impl Iterator<Item = u8>) -> u32 {
    const GEN: [u32; 5] = [
        0x3b6a_57b2,
        0x2650_8e6d,
        0x1ea1_19fa,
        0x3d42_33dd,
        0x2a14_62b3,
    ];
    let mut chk: u32 = 1;
    for v in values {
        let top = chk >> 25;
        chk = ((chk & 0x01ff_ffff) << 5) ^ u32::from(v);
        for (i, g) in GEN.iter().enumerate() {
            if (top >> i) & 1 == 1 {
                chk ^= g;
            }
        }
    }
    chk
}

/// BIP-173: case-insensitive (but not mixed), human-readable part, `1`, data with a 6-character
/// checksum whose polymod is 1.
fn bech32_valid(secret: &[u8]) -> bool {
    let has_lower = secret.iter().any(u8::is_ascii_lowercase);
    let has_upper = secret.iter().any(u8::is_ascii_uppercase);
    if has_lower && has_upper {
        return false;
    }
    let lower = secret.to_ascii_lowercase();
    let Some(sep) = memchr::memrchr(b'1', &lower) else {
        return false;
    };
    let (hrp, data) = (&lower[..sep], &lower[sep + 1..]);
    if hrp.is_empty() || data.len() < 6 {
        return false;
    }
    let mut values = Vec::with_capacity(data.len());
    for c in data {
        match BECH32_CHARSET.iter().position(|x| x == c) {
            Some(v) => values.push(v as u8),
            None => return false,
        }
    }
    let expanded = hrp
        .iter()
        .map(|c| c >> 5)
        .chain(std::iter::once(0))
        .chain(hrp.iter().map(|c| c & 31))
        .chain(values);
    bech32_polymod(expanded) == 1
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Builds a token with a valid checksum from a random part, the way the provider does.
    fn with_checksum(prefix: &str, random: &str) -> String {
        let check = base62(u64::from(crc32fast::hash(random.as_bytes())), 6);
        format!("{prefix}{random}{}", String::from_utf8(check).unwrap())
    }

    #[test]
    fn base62_pads_and_orders_digits() {
        assert_eq!(base62(0, 6), b"000000");
        assert_eq!(base62(61, 2), b"0z");
        assert_eq!(base62(62, 2), b"10");
        assert_eq!(base62(u64::from(u32::MAX), 6), b"4gfFC3");
    }

    #[test]
    fn valid_checksum_verifies_and_a_changed_character_fails() {
        let token = with_checksum("ghp_", "Zq3vN8kLwR2tYb6HcXa9PmJd4sFgE1");
        assert!(Checksum::Crc32Base62.verify(token.as_bytes()));
        let mut broken = token.into_bytes();
        broken[10] = if broken[10] == b'a' { b'b' } else { b'a' };
        assert!(!Checksum::Crc32Base62.verify(&broken));
    }

    #[test]
    fn bech32_accepts_the_bip173_vectors_and_rejects_a_flip() {
        assert!(Checksum::Bech32.verify(b"A12UEL5L"));
        assert!(Checksum::Bech32.verify(b"abcdef1qpzry9x8gf2tvdw0s3jn54khce6mua7lmqqqxw"));
        assert!(!Checksum::Bech32.verify(b"abcdef1qpzry9x8gf2tvdw0s3jn54khce6mua7lmqqqxx"));
        assert!(!Checksum::Bech32.verify(b"A12uEL5L"));
    }

    #[test]
    fn crc32_hex_variants() {
        let body = b"glsa_Zq3vN8kLwR2tYb6HcXa9PmJd4sFgE1ab";
        let le: String = crc32fast::hash(body)
            .to_le_bytes()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        let token = format!("{}_{le}", String::from_utf8_lossy(body));
        assert!(Checksum::Crc32HexLeSuffix8.verify(token.as_bytes()));
        let at = format!(
            "ATATT3xFfGF0abc={:08X}",
            crc32fast::hash(b"ATATT3xFfGF0abc=")
        );
        assert!(Checksum::Crc32HexUpperSuffix8.verify(at.as_bytes()));
        assert!(!Checksum::Crc32HexUpperSuffix8.verify(b"ATATT3xFfGF0abc=00000000"));
        let body = b"glpat-AbCdEf0123456789.01";
        let mut v = crc32fast::hash(body);
        let mut digits = Vec::new();
        while v > 0 {
            digits.push(b"0123456789abcdefghijklmnopqrstuvwxyz"[(v % 36) as usize]);
            v /= 36;
        }
        while digits.len() < 7 {
            digits.push(b'0');
        }
        digits.reverse();
        let gl = [&body[..], &digits].concat();
        assert!(Checksum::Crc32Base36Suffix7.verify(&gl));
    }

    #[test]
    fn too_short_fails() {
        assert!(!Checksum::Crc32Base62.verify(b"ghp_abc"));
    }
}

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
    fn too_short_fails() {
        assert!(!Checksum::Crc32Base62.verify(b"ghp_abc"));
    }
}

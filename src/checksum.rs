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
            Checksum::AzureIdentifiable => azure_identifiable(secret),
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
    let expected: String = crate::hex::encode_lower(&crc32fast::hash(body).to_le_bytes());
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

/// The checksum seeds Microsoft publishes for its identifiable keys (`IdentifiableMetadata.cs` in
/// `microsoft/security-utilities`). Each seed is an 8-character ASCII name read as a big-endian
/// `u64`. A key is accepted under any of them: the rule's regex already pins the key kind by its
/// signature, and a seed filed under the wrong kind upstream must not drop a live key.
const AZURE_IDENTIFIABLE_SEEDS: [&[u8; 8]; 29] = [
    b"Default0", // Storage account (+ASt)
    b"Send0000", // Service Bus / Event Hubs / Relay send rule (+ASb, +AEh, +ARm)
    b"Listen00", // ... listen rule
    b"Manage00", // ... manage rule
    b"System00", // Service Bus / Event Hubs system key; Functions system key (AzFu)
    b"Unknown0", // messaging, unknown rule kind
    b"Master00", // Functions master key (AzFu)
    b"Functi00", // Functions function key (AzFu)
    b"MastRW00", // Cosmos DB master read-write key (ACDb)
    b"MastRO00", // Cosmos DB master read-only key
    b"SystRW00", // Cosmos DB system read-write key
    b"SystRO00", // Cosmos DB system read-only key
    b"SysAll00", // Cosmos DB system-all key
    b"Resour00", // Cosmos DB resource key seed
    b"Encryp00", // Cosmos DB data encryption key
    b"AbAcct00", // Batch account (+ABa)
    b"Access00", // Cache for Redis (AzCa)
    b"Query000", // AI Search query key (AzSe)
    b"PAdmin00", // AI Search admin key (AzSe)
    b"Classic0", // Machine Learning Studio (classic) web service (+AMC)
    b"ACRDflt0", // Container Registry (+ACR)
    b"UsrPwd00", // SQL identifiable password (+SQL)
    b"IoTHub00", // IoT Hub (AIoT); also APIM subscription key (APIM)
    b"DpsKey00", // IoT Device Provisioning (AIoT)
    b"Device00", // IoT device (AIoT)
    b"Tenant00", // APIM direct management key (APIM)
    b"Gatewy00", // APIM gateway key (APIM)
    b"GitKey00", // APIM repository key (APIM)
    b"SendRecv", // Event Grid (AZEG)
];

/// Fewest random bytes Microsoft's generator allows in an identifiable key.
const AZURE_IDENTIFIABLE_MIN_BYTES: usize = 24;

/// The two 32-bit halves of Marvin's state after hashing `data` under `seed` (low half first).
fn marvin_state(data: &[u8], seed: u64) -> (u32, u32) {
    fn mix(mut lo: u32, mut hi: u32) -> (u32, u32) {
        hi ^= lo;
        lo = lo.rotate_left(20).wrapping_add(hi);
        hi = hi.rotate_left(9) ^ lo;
        lo = lo.rotate_left(27).wrapping_add(hi);
        hi = hi.rotate_left(19);
        (lo, hi)
    }
    let (mut lo, mut hi) = (seed as u32, (seed >> 32) as u32);
    let mut words = data.chunks_exact(4);
    for word in &mut words {
        let mut w = [0u8; 4];
        w.copy_from_slice(word);
        lo = lo.wrapping_add(u32::from_le_bytes(w));
        (lo, hi) = mix(lo, hi);
    }
    // The tail (0 to 3 bytes) is closed with a 0x80 byte and zero-filled to one more word.
    let tail = words.remainder();
    let mut last = [0u8; 4];
    last[..tail.len()].copy_from_slice(tail);
    last[tail.len()] = 0x80;
    lo = lo.wrapping_add(u32::from_le_bytes(last));
    (lo, hi) = mix(lo, hi);
    mix(lo, hi)
}

/// Marvin (`SymCrypt`'s keyed hash, the one behind .NET's string hashing), 64-bit result: the high
/// half of the state, then the low half.
pub fn marvin64(data: &[u8], seed: u64) -> u64 {
    let (lo, hi) = marvin_state(data, seed);
    (u64::from(hi) << 32) | u64::from(lo)
}

/// Marvin32: the two halves of [`marvin64`] combined by XOR.
pub fn marvin32(data: &[u8], seed: u64) -> u32 {
    let (lo, hi) = marvin_state(data, seed);
    lo ^ hi
}

/// Decodes base64 in the standard or the URL-safe alphabet, with `=` (or `%3D`) padding or none.
/// Only the canonical text of some bytes decodes: the unused low bits of the last character must be
/// zero, so that changing any character changes the bytes.
fn decode_base64_canonical(text: &[u8]) -> Option<Vec<u8>> {
    let mut body = text;
    for _ in 0..2 {
        if let Some(rest) = body.strip_suffix(b"=") {
            body = rest;
        } else if body.len() >= 3 && body[body.len() - 3..].eq_ignore_ascii_case(b"%3d") {
            body = &body[..body.len() - 3];
        }
    }
    if body.len() % 4 == 1 {
        return None;
    }
    let mut out = Vec::with_capacity(body.len() * 3 / 4);
    let (mut acc, mut bits) = (0u32, 0u32);
    for &c in body {
        let v = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' | b'-' => 62,
            b'/' | b'_' => 63,
            _ => return None,
        };
        acc = (acc << 6) | u32::from(v);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
            acc &= (1 << bits) - 1;
        }
    }
    (acc == 0).then_some(out)
}

/// Microsoft's identifiable keys: base64 whose last 4 bytes are the little-endian Marvin32 of
/// the bytes before them under one of the published seeds.
fn azure_identifiable(secret: &[u8]) -> bool {
    let Some(bytes) = decode_base64_canonical(secret) else {
        return false;
    };
    if bytes.len() < AZURE_IDENTIFIABLE_MIN_BYTES {
        return false;
    }
    let (body, check) = bytes.split_at(bytes.len() - 4);
    let mut stored = [0u8; 4];
    stored.copy_from_slice(check);
    let stored = u32::from_le_bytes(stored);
    AZURE_IDENTIFIABLE_SEEDS
        .iter()
        .any(|name| marvin32(body, u64::from_be_bytes(**name)) == stored)
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
        let le: String = crate::hex::encode_lower(&crc32fast::hash(body).to_le_bytes());
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

    const B64: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

    fn encode_base64(bytes: &[u8], url_safe: bool) -> String {
        let mut out = String::new();
        for chunk in bytes.chunks(3) {
            let mut b = [0u8; 3];
            b[..chunk.len()].copy_from_slice(chunk);
            let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
            for i in 0..=chunk.len() {
                let c = B64[((n >> (18 - 6 * i)) & 63) as usize];
                out.push(match (url_safe, c) {
                    (true, b'+') => '-',
                    (true, b'/') => '_',
                    _ => c as char,
                });
            }
            for _ in chunk.len()..3 {
                out.push('=');
            }
        }
        out
    }

    /// Builds an identifiable key of `len` bytes the way Microsoft lays it out: random base64
    /// characters from `random`, the 4-character `signature`, then 6 characters that carry the
    /// little-endian Marvin32 of the bytes before the last 4 under the seed named `seed`.
    fn identifiable_key(
        len: usize,
        signature: &str,
        seed: [u8; 8],
        url_safe: bool,
        random: &mut impl FnMut() -> u8,
    ) -> String {
        let chars = (len * 8).div_ceil(6);
        let mut text: Vec<u8> = (0..chars - 10)
            .map(|_| B64[usize::from(random() % 64)])
            .collect();
        text.extend_from_slice(signature.as_bytes());
        text.extend_from_slice(b"AAAAAA");
        let mut bytes = decode_base64_canonical(&text).unwrap();
        assert_eq!(bytes.len(), len);
        let check = marvin32(&bytes[..len - 4], u64::from_be_bytes(seed));
        bytes[len - 4..].copy_from_slice(&check.to_le_bytes());
        let key = encode_base64(&bytes, url_safe);
        let sig_at = chars - 10;
        assert_eq!(
            &key[sig_at..sig_at + 4],
            signature,
            "signature stays in place"
        );
        key
    }

    fn xorshift(mut state: u64) -> impl FnMut() -> u8 {
        move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state >> 24) as u8
        }
    }

    #[test]
    fn marvin_matches_the_symcrypt_reference_vectors() {
        // SymCrypt's published Marvin32 self-test values (lib/marvin32.c).
        assert_eq!(
            marvin64(b"abc", 0xd53c_d9ce_cd08_93b7),
            0x22c7_4339_4927_69bf
        );
        assert_eq!(
            marvin64(b"abcdefghijklmnopqrstuvwxyz", 0x0ddd_deee_efff_f000),
            0xa128_eb7e_7260_aca2
        );
        let full = marvin64(b"abc", 0xd53c_d9ce_cd08_93b7);
        assert_eq!(
            marvin32(b"abc", 0xd53c_d9ce_cd08_93b7),
            (full >> 32) as u32 ^ full as u32
        );
    }

    #[test]
    fn azure_identifiable_accepts_keys_of_every_layout_and_rejects_any_changed_character() {
        let mut random = xorshift(0x9e37_79b9_7f4a_7c15);
        let kinds: [(usize, &str, &[u8; 8], bool); 10] = [
            (64, "+ASt", b"Default0", false),
            (64, "ACDb", b"MastRW00", false),
            (64, "APIM", b"Gatewy00", false),
            (64, "+ABa", b"AbAcct00", false),
            (32, "+ASb", b"Send0000", false),
            (32, "+AEh", b"Listen00", false),
            (32, "+ARm", b"Manage00", false),
            (32, "AIoT", b"Device00", false),
            (40, "AzFu", b"Functi00", true),
            (39, "AzSe", b"PAdmin00", true),
        ];
        for (len, signature, seed, url_safe) in kinds {
            for _ in 0..8 {
                let key = identifiable_key(len, signature, *seed, url_safe, &mut random);
                assert!(Checksum::AzureIdentifiable.verify(key.as_bytes()), "{key}");
                let unpadded = key.trim_end_matches('=');
                assert!(Checksum::AzureIdentifiable.verify(unpadded.as_bytes()));
                for i in 0..unpadded.len() {
                    let mut broken = key.clone().into_bytes();
                    broken[i] = if broken[i] == b'B' { b'C' } else { b'B' };
                    assert!(
                        !Checksum::AzureIdentifiable.verify(&broken),
                        "{signature}: changing character {i} must fail"
                    );
                }
            }
        }
    }

    #[test]
    fn azure_identifiable_accepts_microsofts_published_test_keys() {
        // Keys from microsoft/security-utilities' own tests (repeated-character random part):
        // a Functions key from SecretMaskerTests.cs, a Relay key from identifiable_scans.rs.
        let functions = format!("{}AzFu182vhA==", "d".repeat(44));
        assert!(Checksum::AzureIdentifiable.verify(functions.as_bytes()));
        assert!(Checksum::AzureIdentifiable.verify(functions.replace("==", "%3D%3D").as_bytes()));
        let relay = format!("{}+ARmD7h+qo=", "a".repeat(33));
        assert!(Checksum::AzureIdentifiable.verify(relay.as_bytes()));
        assert!(!Checksum::AzureIdentifiable.verify(relay.replace("D7h", "D7i").as_bytes()));
    }

    #[test]
    fn azure_identifiable_rejects_malformed_text() {
        assert!(!Checksum::AzureIdentifiable.verify(b""));
        assert!(!Checksum::AzureIdentifiable.verify(b"AAAA+ASt"));
        // Right shape, no checksum: an all-zero body and a zero check word.
        assert!(!Checksum::AzureIdentifiable.verify("A".repeat(86).as_bytes()));
        // Not base64, and a length no bytes encode to.
        assert!(!Checksum::AzureIdentifiable.verify(format!("{}*", "A".repeat(43)).as_bytes()));
        assert!(!Checksum::AzureIdentifiable.verify("A".repeat(45).as_bytes()));
        // Non-canonical final character (unused low bits set).
        let mut random = xorshift(7);
        let key = identifiable_key(32, "+ASb", *b"Send0000", false, &mut random);
        let last = key.len() - 2;
        let mut bytes = key.into_bytes();
        bytes[last] += 1;
        assert!(!Checksum::AzureIdentifiable.verify(&bytes));
    }

    #[test]
    fn too_short_fails() {
        assert!(!Checksum::Crc32Base62.verify(b"ghp_abc"));
    }
}

//! The second stage of the keyword prefilter: at each position the gram filter names, which
//! keywords really start there. The haystack's next eight bytes are read as one word and folded
//! to ASCII lowercase at once; keywords are grouped by their first four bytes (three for the
//! three-byte keywords, in a table of their own) in small open-addressing tables, each guarded by
//! a bit filter; a position is confirmed by one probe and, per keyword of its group (rarely more
//! than a few share four bytes), one masked compare of that word with the keyword's first eight
//! bytes, then its remaining bytes if it is longer. Building it costs a sort and two table fills:
//! far less than an automaton, which matters to a hook that runs once per commit.

/// Bits of each key filter ([`Groups::present`]): 4 KiB, which stays in the first-level cache
/// beside the gram filter's loads.
const PRESENT_BITS: u32 = 15;

/// The keywords (lowercase, each at least three bytes), grouped by their first four bytes (or
/// three, for keywords of three bytes).
pub(crate) struct PrefixIndex {
    /// Keywords of four bytes or more, by their first four bytes.
    long: Groups,
    /// Keywords of three bytes, by those bytes.
    short: Groups,
    /// Per keyword, in group order: its first (up to) eight bytes as a little-endian word, and the
    /// mask of the bytes it has.
    heads: Vec<(u64, u64)>,
    /// Per keyword, in group order: `(offset in tails, length, id)`.
    entries: Vec<(u32, u32, u32)>,
    /// Each keyword's bytes past the eighth, one after another in group order.
    tails: Vec<u8>,
}

/// One open-addressing table from a key (a keyword's first three or four bytes) to the range of
/// its group in [`PrefixIndex::heads`] and [`PrefixIndex::entries`], with a bit filter in front.
struct Groups {
    /// Linear probing, a power-of-two length at most half full: `(key, first, end)`; `end == 0`
    /// marks an empty slot (a group is never empty).
    slots: Vec<(u32, u32, u32)>,
    /// One bit per hash of a key ([`present_bit`]), set for every key of a group: most of the
    /// gram filter's false candidates start with bytes no keyword starts with, and are turned
    /// away by one load from a small table instead of a probe of `slots`.
    present: Vec<u64>,
}

/// The bit of a key filter for `key`.
#[inline(always)]
fn present_bit(key: u32) -> usize {
    (key.wrapping_mul(0x9E37_79B1) >> (32 - PRESENT_BITS)) as usize
}

#[inline(always)]
fn slot_of(key: u32, mask: usize) -> usize {
    (key.wrapping_mul(0x9E37_79B1) >> 8) as usize & mask
}

/// `word` with every ASCII capital letter byte lowercased (the others unchanged).
#[inline(always)]
fn fold_word(word: u64) -> u64 {
    const HIGH: u64 = 0x8080_8080_8080_8080;
    // Per byte, with its high bit cleared (so no sum carries into the next byte): the high bit of
    // `x + 0x3F` is set from `A` (0x41) on, that of `x + 0x25` from `[` (0x5B) on.
    let low = word & !HIGH;
    let from_a = low.wrapping_add(0x3F3F_3F3F_3F3F_3F3F);
    let past_z = low.wrapping_add(0x2525_2525_2525_2525);
    let capitals = from_a & !past_z & !word & HIGH;
    word | (capitals >> 2)
}

/// The (up to) eight bytes at the start of `bytes`, folded, as a little-endian word (zero past
/// the end).
#[inline(always)]
fn head_word(bytes: &[u8]) -> u64 {
    if let Some(word) = bytes.first_chunk::<8>() {
        return fold_word(u64::from_le_bytes(*word));
    }
    let mut w = [0u8; 8];
    let n = bytes.len().min(8);
    w[..n].copy_from_slice(&bytes[..n]);
    fold_word(u64::from_le_bytes(w))
}

/// The mask of the first `len` (at most eight) bytes of a word.
fn head_mask(len: usize) -> u64 {
    if len >= 8 {
        u64::MAX
    } else {
        (1u64 << (8 * len)) - 1
    }
}

impl Groups {
    /// The table over `groups`: `(key, first, end)` with `end > first`.
    fn new(groups: &[(u32, u32, u32)]) -> Self {
        let size = (groups.len() * 2).next_power_of_two().max(16);
        let mask = size - 1;
        let mut slots = vec![(0, 0, 0); size];
        let mut present = vec![0u64; (1 << PRESENT_BITS) / 64];
        for &(key, first, end) in groups {
            let mut slot = slot_of(key, mask);
            while slots[slot].2 != 0 {
                slot = (slot + 1) & mask;
            }
            slots[slot] = (key, first, end);
            let bit = present_bit(key);
            present[bit / 64] |= 1 << (bit % 64);
        }
        Groups { slots, present }
    }

    /// The range of `key`'s group, if it has one.
    #[inline(always)]
    fn group(&self, key: u32) -> Option<std::ops::Range<usize>> {
        let bit = present_bit(key);
        if self.present[bit / 64] & (1 << (bit % 64)) == 0 {
            return None;
        }
        let mask = self.slots.len() - 1;
        let mut slot = slot_of(key, mask);
        loop {
            let (k, first, end) = self.slots[slot];
            if end == 0 {
                return None;
            }
            if k == key {
                return Some(first as usize..end as usize);
            }
            slot = (slot + 1) & mask;
        }
    }
}

impl PrefixIndex {
    /// The index over `keywords` (lowercase), or `None` when one is shorter than three bytes.
    pub(crate) fn new(keywords: &[Vec<u8>]) -> Option<Self> {
        if keywords.iter().any(|k| k.len() < 3) {
            return None;
        }
        // A keyword's group key: its first four bytes, or three (then in the other table).
        let key_of = |k: &[u8]| -> (bool, u32) {
            let word = head_word(k) as u32;
            if k.len() == 3 {
                (true, word & 0x00FF_FFFF)
            } else {
                (false, word)
            }
        };
        let mut order: Vec<u32> = (0..keywords.len() as u32).collect();
        order.sort_unstable_by_key(|&id| key_of(&keywords[id as usize]));
        let (mut long, mut short) = (Vec::new(), Vec::new());
        let mut first = 0;
        while first < order.len() {
            let group = key_of(&keywords[order[first] as usize]);
            let mut end = first + 1;
            while end < order.len() && key_of(&keywords[order[end] as usize]) == group {
                end += 1;
            }
            let range = (group.1, first as u32, end as u32);
            if group.0 {
                short.push(range);
            } else {
                long.push(range);
            }
            first = end;
        }
        let mut tails = Vec::new();
        let mut heads = Vec::with_capacity(order.len());
        let mut entries = Vec::with_capacity(order.len());
        for &id in &order {
            let k = &keywords[id as usize];
            heads.push((head_word(k) & head_mask(k.len()), head_mask(k.len())));
            let tail = k.get(8..).unwrap_or_default();
            entries.push((tails.len() as u32, k.len() as u32, id));
            tails.extend_from_slice(tail);
        }
        Some(PrefixIndex {
            long: Groups::new(&long),
            short: Groups::new(&short),
            heads,
            entries,
            tails,
        })
    }

    /// Calls `found` with the id of every keyword that starts at `start` of `haystack` (ASCII
    /// case-insensitively).
    #[inline(always)]
    pub(crate) fn confirm(&self, haystack: &[u8], start: usize, mut found: impl FnMut(u32)) {
        let Some(rest) = haystack.get(start..).filter(|r| r.len() >= 3) else {
            return;
        };
        let word = head_word(rest);
        if let Some(group) = self.short.group(word as u32 & 0x00FF_FFFF) {
            for &(_, _, id) in &self.entries[group] {
                found(id);
            }
        }
        if rest.len() < 4 {
            return;
        }
        let Some(group) = self.long.group(word as u32) else {
            return;
        };
        for (&(prefix, mask), &(offset, len, id)) in
            self.heads[group.clone()].iter().zip(&self.entries[group])
        {
            // The word is zero past the end and a keyword may hold a NUL: the length counts too.
            let (offset, len) = (offset as usize, len as usize);
            if word & mask != prefix || rest.len() < len {
                continue;
            }
            if len <= 8 || rest[8..len].eq_ignore_ascii_case(&self.tails[offset..offset + len - 8])
            {
                found(id);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::PrefixIndex;

    fn confirmed(index: &PrefixIndex, hay: &[u8], start: usize) -> Vec<u32> {
        let mut ids = Vec::new();
        index.confirm(hay, start, |id| ids.push(id));
        ids.sort_unstable();
        ids
    }

    #[test]
    fn every_keyword_starting_here_and_no_other() {
        let kws: Vec<Vec<u8>> = ["pat", "path", "password", "pass", "api_key", "ghp_"]
            .iter()
            .map(|k| k.as_bytes().to_vec())
            .collect();
        let index = PrefixIndex::new(&kws).unwrap();
        assert_eq!(confirmed(&index, b"PASSWORD=x", 0), [2, 3]);
        assert_eq!(confirmed(&index, b"x Path", 2), [0, 1]);
        assert_eq!(confirmed(&index, b"pa", 0), Vec::<u32>::new());
        assert_eq!(confirmed(&index, b"patio", 0), [0]);
        assert_eq!(confirmed(&index, b"api_ke", 0), Vec::<u32>::new());
        assert_eq!(confirmed(&index, b"xyz", 0), Vec::<u32>::new());
        assert_eq!(confirmed(&index, b"ghp_", 4), Vec::<u32>::new());
    }

    #[test]
    fn the_word_fold_lowercases_exactly_the_ascii_capitals() {
        let mut rng = crate::test_support::Rng(77);
        for byte in 0..=255u8 {
            for at in 0..8 {
                let mut bytes: [u8; 8] = std::array::from_fn(|_| rng.below(256) as u8);
                bytes[at] = byte;
                let folded = super::fold_word(u64::from_le_bytes(bytes)).to_le_bytes();
                assert_eq!(folded, bytes.map(|b| b.to_ascii_lowercase()), "{bytes:?}");
            }
        }
    }

    #[test]
    fn a_short_keyword_has_no_index() {
        assert!(PrefixIndex::new(&[b"ab".to_vec(), b"abc".to_vec()]).is_none());
    }
}

/// Red-team checks of the prefix index against a direct comparison of every keyword at every
/// position: colliding table slots, full groups, bytes the ASCII fold must keep apart, and the
/// last bytes of the haystack.
#[cfg(test)]
mod adversarial {
    use super::{head_word, slot_of, PrefixIndex};
    use crate::test_support::{
        adversarial_keyword_sets, crowded_group, flipped_haystacks as haystacks, random_keywords,
        Rng,
    };

    /// The ids of the keywords (lowercase) that start at `start`, by direct comparison.
    fn naive(keywords: &[Vec<u8>], hay: &[u8], start: usize) -> Vec<u32> {
        (0..keywords.len() as u32)
            .filter(|&id| {
                let k = &keywords[id as usize];
                hay.get(start..)
                    .and_then(|rest| rest.get(..k.len()))
                    .is_some_and(|h| h.eq_ignore_ascii_case(k))
            })
            .collect()
    }

    /// Every position of `hay` and a few past its end, against [`naive`].
    fn check(keywords: &[Vec<u8>], index: &PrefixIndex, hay: &[u8]) {
        for start in 0..hay.len() + 3 {
            let mut got = Vec::new();
            index.confirm(hay, start, |id| got.push(id));
            got.sort_unstable();
            assert_eq!(got, naive(keywords, hay, start), "at {start} of {hay:?}");
        }
    }

    fn lower(keywords: &[&[u8]]) -> Vec<Vec<u8>> {
        keywords.iter().map(|k| k.to_ascii_lowercase()).collect()
    }

    #[test]
    fn fold_neighbours_nul_fourth_bytes_and_duplicate_ids() {
        let sets = adversarial_keyword_sets();
        for (i, set) in sets.iter().enumerate() {
            let kws = lower(set);
            let index = PrefixIndex::new(&kws).unwrap();
            haystacks(&kws, 300, 0x5eed + i as u64, |h| check(&kws, &index, h));
        }
    }

    #[test]
    fn one_crowded_group_and_colliding_slots() {
        // Two hundred keywords of one group: every fourth byte, none, and long tails.
        let group = crowded_group(&mut Rng(3));
        let index = PrefixIndex::new(&group).unwrap();
        haystacks(&group, 100, 11, |h| check(&group, &index, h));

        // Eight groups of two (a 32-slot table) whose keys all hash to one slot, the last, the
        // one before or the first: probes chain through every group and wrap past the end.
        // Eight three-byte keywords (the short table) and eight groups of two longer ones (the
        // long table: a keyword and the same with a tail), each table's keys hashing to one slot
        // of its 16, the last, the one before or the first: probes chain through every group and
        // wrap past the end.
        for target in [15usize, 14, 0] {
            let short = colliding_keys(3, target);
            let long = colliding_keys(4, target);
            let mut kws = short.clone();
            for k in &long {
                let mut longer = k.clone();
                longer.extend_from_slice(b"tail");
                kws.push(k.clone());
                kws.push(longer);
            }
            let index = PrefixIndex::new(&kws).unwrap();
            for table in [&index.short, &index.long] {
                assert_eq!(table.slots.len(), 16, "eight groups: a 16-slot table");
                for i in 0..8 {
                    assert_ne!(table.slots[(target + i) & 15].2, 0, "one chain");
                }
            }
            haystacks(&kws, 100, 17 + target as u64, |h| check(&kws, &index, h));
            // Absent keys that probe the same chains end at their empty slots.
            let absent: Vec<u8> = (0..=255u8)
                .flat_map(|a| [a, b'q', b'q', a, b'z', b'@', a, b'q'])
                .collect();
            check(&kws, &index, &absent);
        }
    }

    /// Eight distinct keys of `len` (three or four) bytes whose group keys hash to `target` in a
    /// 16-slot table.
    fn colliding_keys(len: usize, target: usize) -> Vec<Vec<u8>> {
        const BYTES: &[u8] = b"abcxyz_-\0\n@`";
        let mut colliding: Vec<Vec<u8>> = Vec::new();
        for a in 0..=255u8 {
            for &b in BYTES {
                for &c in BYTES {
                    for &d in &BYTES[..if len == 4 { BYTES.len() } else { 1 }] {
                        let mut k = vec![a.to_ascii_lowercase(), b, c, d];
                        k.truncate(len);
                        let key = head_word(&k) as u32;
                        if slot_of(key, 15) == target && !colliding.contains(&k) {
                            colliding.push(k);
                            if colliding.len() == 8 {
                                return colliding;
                            }
                        }
                    }
                }
            }
        }
        panic!("eight colliding keys exist");
    }

    #[test]
    fn five_thousand_random_keywords() {
        let kws = random_keywords(&mut Rng(2026), 5000);
        let index = PrefixIndex::new(&kws).unwrap();
        haystacks(&kws, 40, 5, |h| check(&kws, &index, h));
    }
}

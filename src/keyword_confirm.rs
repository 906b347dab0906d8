//! The second stage of the keyword prefilter: at each position the gram filter names, which
//! keywords really start there. Keywords are grouped by their first three bytes (ASCII case
//! folded) in a small open-addressing table; a position is confirmed by one probe and a direct
//! comparison with the few keywords of its group (at most a few dozen share three bytes). Building
//! it costs a sort and a table fill: far less than an automaton, which matters to a hook that runs
//! once per commit.

/// Marks an empty slot (a key holds three bytes and never reaches the top byte).
const EMPTY: u32 = u32::MAX;
/// Bits of the key filter ([`PrefixIndex::present`]): 4 KiB, which stays in the first-level
/// cache beside the gram filter's loads.
const PRESENT_BITS: u32 = 15;

/// The keywords (lowercase, each at least three bytes) grouped by their first three bytes.
pub(crate) struct PrefixIndex {
    /// Open addressing, linear probing: `(key, first, end)` into `entries`; a power-of-two length
    /// at most half full.
    slots: Vec<(u32, u32, u32)>,
    /// Per keyword, sorted by key: `(offset in tails, length of its tail, id)`.
    entries: Vec<(u32, u32, u32)>,
    /// Per entry, the first byte of its tail (the keyword's fourth), 0 for none: most keywords
    /// of a group differ there, so one byte compare turns them away.
    fourth: Vec<u8>,
    /// Each keyword's bytes after the first three, one after another in `entries` order (a
    /// group's keywords sit together in memory).
    tails: Vec<u8>,
    /// One bit per hash of a key ([`present_bit`]), set for every key of a keyword: most of the
    /// gram filter's false candidates start with three bytes no keyword starts with, and are
    /// turned away by one load from a small table instead of a probe of `slots`.
    present: Vec<u64>,
}

/// The bit of [`PrefixIndex::present`] for `key`.
#[inline(always)]
fn present_bit(key: u32) -> usize {
    (key.wrapping_mul(0x9E37_79B1) >> (32 - PRESENT_BITS)) as usize
}

/// The three ASCII-lowercased bytes at the start of `bytes` as a key.
#[inline(always)]
fn key(bytes: &[u8]) -> u32 {
    u32::from(bytes[0].to_ascii_lowercase())
        | u32::from(bytes[1].to_ascii_lowercase()) << 8
        | u32::from(bytes[2].to_ascii_lowercase()) << 16
}

#[inline(always)]
fn slot_of(key: u32, mask: usize) -> usize {
    (key.wrapping_mul(0x9E37_79B1) >> 8) as usize & mask
}

impl PrefixIndex {
    /// The index over `keywords` (lowercase), or `None` when one is shorter than three bytes.
    pub(crate) fn new(keywords: &[Vec<u8>]) -> Option<Self> {
        if keywords.iter().any(|k| k.len() < 3) {
            return None;
        }
        let mut order: Vec<u32> = (0..keywords.len() as u32).collect();
        order.sort_unstable_by_key(|&id| key(&keywords[id as usize]));
        let size = (keywords.len() * 2).next_power_of_two().max(16);
        let mask = size - 1;
        let mut slots = vec![(EMPTY, 0, 0); size];
        let mut first = 0;
        while first < order.len() {
            let group = key(&keywords[order[first] as usize]);
            let mut end = first + 1;
            while end < order.len() && key(&keywords[order[end] as usize]) == group {
                end += 1;
            }
            let mut slot = slot_of(group, mask);
            while slots[slot].0 != EMPTY {
                slot = (slot + 1) & mask;
            }
            slots[slot] = (group, first as u32, end as u32);
            first = end;
        }
        let mut tails = Vec::new();
        let entries = order
            .iter()
            .map(|&id| {
                let tail = &keywords[id as usize][3..];
                let offset = tails.len() as u32;
                tails.extend_from_slice(tail);
                (offset, tail.len() as u32, id)
            })
            .collect();
        let fourth = order
            .iter()
            .map(|&id| keywords[id as usize].get(3).copied().unwrap_or(0))
            .collect();
        let mut present = vec![0u64; (1 << PRESENT_BITS) / 64];
        for k in keywords {
            let bit = present_bit(key(k));
            present[bit / 64] |= 1 << (bit % 64);
        }
        Some(PrefixIndex {
            slots,
            entries,
            fourth,
            tails,
            present,
        })
    }

    /// Calls `found` with the id of every keyword that starts at `start` of `haystack` (ASCII
    /// case-insensitively).
    #[inline(always)]
    pub(crate) fn confirm(&self, haystack: &[u8], start: usize, mut found: impl FnMut(u32)) {
        let Some(rest) = haystack.get(start..).filter(|r| r.len() >= 3) else {
            return;
        };
        let wanted = key(rest);
        let bit = present_bit(wanted);
        if self.present[bit / 64] & (1 << (bit % 64)) == 0 {
            return;
        }
        let mask = self.slots.len() - 1;
        let mut slot = slot_of(wanted, mask);
        let (first, end) = loop {
            let (k, first, end) = self.slots[slot];
            if k == wanted {
                break (first as usize, end as usize);
            }
            if k == EMPTY {
                return;
            }
            slot = (slot + 1) & mask;
        };
        let after = &rest[3..];
        let next = after.first().map_or(0, u8::to_ascii_lowercase);
        for (&(offset, len, id), &fourth) in self.entries[first..end]
            .iter()
            .zip(&self.fourth[first..end])
        {
            if len > 0 && fourth != next {
                continue;
            }
            let (offset, len) = (offset as usize, len as usize);
            if after.len() >= len
                && after[..len].eq_ignore_ascii_case(&self.tails[offset..offset + len])
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
    fn a_short_keyword_has_no_index() {
        assert!(PrefixIndex::new(&[b"ab".to_vec(), b"abc".to_vec()]).is_none());
    }
}

/// Red-team checks of the prefix index against a direct comparison of every keyword at every
/// position: colliding table slots, full groups, bytes the ASCII fold must keep apart, and the
/// last bytes of the haystack.
#[cfg(test)]
mod adversarial {
    use super::{key, slot_of, PrefixIndex};
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
        for target in [31usize, 30, 0] {
            let mut colliding: Vec<Vec<u8>> = Vec::new();
            'search: for a in 0..=255u8 {
                for b in b"abcxyz_-\0\n@`".iter().copied() {
                    for c in b"abcxyz_-\0\n@`".iter().copied() {
                        let k = vec![a.to_ascii_lowercase(), b, c];
                        if slot_of(key(&k), 31) == target && !colliding.contains(&k) {
                            colliding.push(k);
                            if colliding.len() == 8 {
                                break 'search;
                            }
                        }
                    }
                }
            }
            assert_eq!(colliding.len(), 8);
            let mut kws = colliding.clone();
            for k in &colliding {
                let mut longer = k.clone();
                longer.extend_from_slice(b"tail");
                kws.push(longer);
            }
            let index = PrefixIndex::new(&kws).unwrap();
            assert_eq!(index.slots.len(), 32, "sixteen keywords: a 32-slot table");
            for i in 0..8 {
                assert_ne!(index.slots[(target + i) & 31].0, super::EMPTY, "one chain");
            }
            haystacks(&kws, 100, 17 + target as u64, |h| check(&kws, &index, h));
            // Absent keys that probe the same chain end at its empty slot.
            let absent: Vec<u8> = (0..=255u8)
                .flat_map(|a| [a, b'q', b'q', a, b'z', b'@'])
                .collect();
            check(&kws, &index, &absent);
        }
    }

    #[test]
    fn five_thousand_random_keywords() {
        let kws = random_keywords(&mut Rng(2026), 5000);
        let index = PrefixIndex::new(&kws).unwrap();
        haystacks(&kws, 40, 5, |h| check(&kws, &index, h));
    }
}

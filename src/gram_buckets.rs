//! Which bucket of the gram filter ([`crate::gram_filter`]) each keyword goes to.
//!
//! Keywords with the same number of grams share buckets: a short keyword constrains few offsets,
//! and mixing it with long ones would make their bucket as weak as the short one. Keywords of one
//! or two grams (three bytes) get buckets 0–3, three grams 4–6, four 7–8, five 9–10, six 11,
//! seven 12, a full window 13–15.
//!
//! Inside a length, the (sorted) keywords are first cut into equal runs, one per bucket, so that
//! the keywords of a bucket share their first grams. Then keywords move between the buckets of
//! their length to where they add the fewest gram combinations. A bucket passes a position when
//! every offset's gram is one of the bucket's grams at that offset; on text whose grams were
//! independent and uniform, that happens in proportion to the product, over the offsets, of how
//! many distinct grams the bucket has there. A keyword moves when the sum of the two buckets'
//! products falls. The cost sees only the keywords, never any text; on real source code it turns
//! away a fifth of the filter's false candidates (and breaks chance combinations such as
//! `logger`, which passed a bucket holding `loggly`, `smbget` and `hunter`).
//!
//! Any assignment is sound (a bucket's table bits are cleared for every gram of each of its
//! keywords): this only decides how many false candidates the filter lets through.

use crate::gram_filter::{gram, BUCKETS, WINDOW};

/// Per length class: (grams, first bucket, buckets).
const SHARES: [(usize, u8, u8); 7] = [
    (2, 0, 4),
    (3, 4, 3),
    (4, 7, 2),
    (5, 9, 2),
    (6, 11, 1),
    (7, 12, 1),
    (WINDOW, 13, 3),
];

/// Rounds of moves over every keyword. Each move lowers the total cost, but convergence can take
/// many rounds; four take most of the gain and cost ~0.3 ms for the embedded pack (the scanner's
/// whole build is ~3 ms).
const PASSES: usize = 4;

/// The share of `k`: its index in [`SHARES`].
fn class(k: &[u8]) -> usize {
    let grams = (k.len() - 1).clamp(2, WINDOW);
    SHARES
        .iter()
        .position(|&(g, _, _)| g == grams)
        .expect("every gram count from 2 to WINDOW has a share")
}

/// The bucket of each keyword (each at least two bytes), in order; `keywords` sorted.
pub(crate) fn assign_buckets(keywords: &[Vec<u8>]) -> Vec<u8> {
    let mut sizes = [0usize; SHARES.len()];
    for k in keywords {
        sizes[class(k)] += 1;
    }
    let mut seen = [0usize; SHARES.len()];
    // `keywords` is sorted, so each length's keywords come in order.
    let mut bucket: Vec<u8> = keywords
        .iter()
        .map(|k| {
            let c = class(k);
            let (_, first, count) = SHARES[c];
            let run = seen[c] * usize::from(count) / sizes[c];
            seen[c] += 1;
            first + run as u8
        })
        .collect();
    refine(keywords, &mut bucket);
    bucket
}

/// Whether `k` may move: its length has more than one bucket, and it has all the grams of its
/// length (a one-gram keyword among the two-gram ones leaves an offset open, which the cost does
/// not model).
fn movable(k: &[u8]) -> bool {
    let (grams, _, count) = SHARES[class(k)];
    count > 1 && k.len() > grams
}

/// Moves keywords between the buckets of their length while that lowers the cost (see the
/// module documentation), for at most [`PASSES`] rounds.
fn refine(keywords: &[Vec<u8>], bucket: &mut [u8]) {
    let movers: Vec<usize> = (0..keywords.len())
        .filter(|&i| movable(&keywords[i]))
        .collect();
    let mut sets = GramSets::new(keywords, &movers);
    for (m, &i) in movers.iter().enumerate() {
        sets.add(m, bucket[i], 1);
    }
    for _ in 0..PASSES {
        let mut moved = false;
        for (m, &i) in movers.iter().enumerate() {
            let (grams, first, count) = SHARES[class(&keywords[i])];
            let to = sets.best_bucket(m, bucket[i], first..first + count, grams);
            if to != bucket[i] {
                sets.add(m, bucket[i], -1);
                sets.add(m, to, 1);
                bucket[i] = to;
                moved = true;
            }
        }
        if !moved {
            break;
        }
    }
}

/// For the keywords that may move: per (offset, gram) they have, how many keywords of each
/// bucket have that gram at that offset, and per bucket and offset how many distinct grams it
/// has there.
struct GramSets {
    /// Per moving keyword, its number of grams (at most [`WINDOW`]) and per offset its
    /// (offset, gram) pair's index in `counts`.
    pairs: Vec<(usize, [u32; WINDOW])>,
    /// Per distinct (offset, gram) pair, the count per bucket.
    counts: Vec<[u16; BUCKETS]>,
    /// Distinct grams per bucket and offset (those with a count above 0).
    distinct: [[u32; WINDOW]; BUCKETS],
}

impl GramSets {
    /// Empty sets over the grams of `keywords[movers]`; every (offset, gram) pair gets a dense
    /// index, through a hash table used once.
    fn new(keywords: &[Vec<u8>], movers: &[usize]) -> Self {
        // Open addressing, linear probing, at most half full: `(pair + 1, index)`, 0 for empty.
        let mut table = vec![(0u32, 0u32); (movers.len() * WINDOW * 2).next_power_of_two().max(16)];
        let mask = table.len() - 1;
        let mut next = 0u32;
        let pairs = movers
            .iter()
            .map(|&i| {
                let k = &keywords[i];
                let grams = (k.len() - 1).min(WINDOW);
                let mut indexes = [0; WINDOW];
                for (j, index) in indexes.iter_mut().enumerate().take(grams) {
                    let key = ((j as u32) << 16 | gram(k[j], k[j + 1]) as u32) + 1;
                    let mut at = (key.wrapping_mul(0x9E37_79B1) >> 7) as usize & mask;
                    while table[at].0 != key && table[at].0 != 0 {
                        at = (at + 1) & mask;
                    }
                    if table[at].0 == 0 {
                        table[at] = (key, next);
                        next += 1;
                    }
                    *index = table[at].1;
                }
                (grams, indexes)
            })
            .collect();
        GramSets {
            pairs,
            counts: vec![[0; BUCKETS]; next as usize],
            distinct: [[0; WINDOW]; BUCKETS],
        }
    }

    /// Adds moving keyword `m`'s grams to bucket `b` (`delta` 1), or takes them away (-1).
    fn add(&mut self, m: usize, b: u8, delta: i16) {
        let b = usize::from(b);
        let (grams, pairs) = self.pairs[m];
        for (j, &pair) in pairs.iter().enumerate().take(grams) {
            let count = &mut self.counts[pair as usize][b];
            let before = *count;
            *count = before.wrapping_add_signed(delta);
            match (before, *count) {
                (0, _) => self.distinct[b][j] += 1,
                (_, 0) => self.distinct[b][j] -= 1,
                _ => {}
            }
        }
    }

    /// The product over the first `grams` offsets of bucket `b`'s distinct grams, the count at
    /// offset `j` changed by `change(j)` (-1, 0 or 1).
    fn cost(&self, b: u8, grams: usize, change: impl Fn(usize) -> i32) -> f64 {
        let distinct = &self.distinct[usize::from(b)];
        (0..grams)
            .map(|j| f64::from(distinct[j] as i32 + change(j)))
            .product()
    }

    /// The bucket of `buckets` where moving keyword `m` (now in `from`) adds the fewest
    /// combinations, net of those it takes from `from` (at offsets where it is the only keyword
    /// with its gram): `from` unless another is strictly better.
    fn best_bucket(&self, m: usize, from: u8, buckets: std::ops::Range<u8>, grams: usize) -> u8 {
        let (_, pairs) = &self.pairs[m];
        let rows: [[u16; BUCKETS]; WINDOW] = std::array::from_fn(|j| {
            if j < grams {
                self.counts[pairs[j] as usize]
            } else {
                [0; BUCKETS]
            }
        });
        let count = |j: usize, b: u8| rows[j][usize::from(b)];
        let leaving = self.cost(from, grams, |_| 0)
            - self.cost(from, grams, |j| -i32::from(count(j, from) == 1));
        let mut best = (leaving, from);
        for to in buckets.filter(|&to| to != from) {
            let joining = self.cost(to, grams, |j| i32::from(count(j, to) == 0))
                - self.cost(to, grams, |_| 0);
            if joining < best.0 {
                best = (joining, to);
            }
        }
        best.1
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gram_filter::filter_keys;

    #[test]
    fn keywords_stay_in_the_buckets_of_their_length() {
        let keys = filter_keys(&crate::test_support::pack_keywords());
        let bucket = assign_buckets(&keys);
        for (k, &b) in keys.iter().zip(&bucket) {
            let (_, first, count) = SHARES[class(k)];
            assert!((first..first + count).contains(&b), "{k:?} in {b}");
        }
    }

    #[test]
    fn a_keyword_moves_away_from_a_bucket_it_would_widen() {
        let keys: Vec<Vec<u8>> = ["abca", "abcb", "abcc", "wxya", "wxyb", "wxyc"]
            .iter()
            .map(|k| k.as_bytes().to_vec())
            .collect();
        let bucket = assign_buckets(&keys);
        // Six keywords over the three buckets of the four-byte length (4, 5, 6): runs of two,
        // `abca abcb | abcc wxya | wxyb wxyc`. `abcc` rejoins the `ab` keywords or `wxya` the
        // `wx` ones: afterwards no bucket mixes the two prefixes.
        for b in 4..7u8 {
            let members: Vec<&Vec<u8>> = keys
                .iter()
                .zip(&bucket)
                .filter(|(_, &x)| x == b)
                .map(|(k, _)| k)
                .collect();
            let prefixes: std::collections::BTreeSet<&[u8]> =
                members.iter().map(|k| &k[..2]).collect();
            assert!(prefixes.len() <= 1, "bucket {b} mixes {members:?}");
        }
    }

    /// Every key of `keywords` in a bucket of its length, and each of `probes` (keywords, some
    /// bytes flipped in bit `0x20`, which grams fold) a candidate where it starts.
    fn assert_sound(keywords: &[Vec<u8>], probes: &[Vec<u8>], rng: &mut crate::test_support::Rng) {
        let keys = filter_keys(keywords);
        for (k, &b) in keys.iter().zip(&assign_buckets(&keys)) {
            let (_, first, count) = SHARES[class(k)];
            assert!((first..first + count).contains(&b), "{k:?} in {b}");
        }
        let filter = crate::gram_filter::GramFilter::new(keywords).unwrap();
        for k in probes {
            let at = rng.below(20);
            let mut hay: Vec<u8> = (0..at + k.len() + rng.below(20))
                .map(|_| rng.next() as u8)
                .collect();
            for (j, &b) in k.iter().enumerate() {
                hay[at + j] = if b.is_ascii_alphabetic() && rng.below(2) == 0 {
                    b ^ 0x20
                } else {
                    b
                };
            }
            let mut found = false;
            filter.candidates(&hay, |p| found |= p == at);
            assert!(found, "{k:?} at {at} of {hay:?}");
        }
    }

    #[test]
    fn any_keyword_set_stays_in_its_length_buckets_and_keeps_every_start() {
        // Two-byte keywords in the shortest class, duplicates, NUL, high bytes and fold
        // neighbours, one to three hundred keywords (buckets left empty, or crowded).
        let mut rng = crate::test_support::Rng(0x0b0c_4e75);
        let alphabet: &[u8] = b"\0\xff\x80\xc0\xe0@`[{aAzZ_\n";
        for round in 0..120 {
            let count = 1 + rng.below(if round % 4 == 0 { 300 } else { 12 });
            let mut keywords: Vec<Vec<u8>> = (0..count)
                .map(|_| {
                    let len = 2 + rng.below(14);
                    (0..len)
                        .map(|_| match round % 3 {
                            0 => rng.next() as u8,
                            _ => alphabet[rng.below(alphabet.len())],
                        })
                        .collect()
                })
                .collect();
            let twice = keywords[rng.below(count)].to_ascii_uppercase();
            keywords.push(twice);
            assert_sound(&keywords, &keywords, &mut rng);
        }
    }

    #[test]
    fn per_bucket_gram_counts_that_wrap_leave_every_keyword_a_candidate() {
        // 2^17 five-byte keys (distinct when lowercased) that all start with `ab`: the two
        // buckets of their length each take 2^16 of them at first, and that gram's u16 count
        // wraps to zero in both (which only misleads the cost).
        let lower: Vec<u8> = (0..=255u8).filter(|b| !b.is_ascii_uppercase()).collect();
        let n = lower.len();
        let keywords: Vec<Vec<u8>> = (0..1usize << 17)
            .map(|i| vec![b'a', b'b', lower[i / n / n], lower[i / n % n], lower[i % n]])
            .collect();
        let keys = filter_keys(&keywords);
        assert_eq!(keys.len(), 1 << 17);
        let probes: Vec<Vec<u8>> = keywords.iter().step_by(997).cloned().collect();
        assert_sound(&keywords, &probes, &mut crate::test_support::Rng(17));
    }
}

//! The verifiable draw. From a frozen frame (every eligible member's id and group) and a
//! seed announced after the frame was frozen (e.g. a public lottery number, RFC 3797
//! style), anyone can recompute the sample with nothing but SHA-256:
//!
//! 1. **Frame hash**: SHA-256 of the frame as text, one line `id,group\n` per member in
//!    ascending id order; written in hex.
//! 2. **Allocation** (proportional, largest remainder): group g of size N_g out of N gets
//!    ⌊n·N_g/N⌋ places; the places left go one each to the groups with the largest
//!    remainders n·N_g mod N, ties to the group whose name sorts first. If n ≥ N everyone
//!    is drawn.
//! 3. **Selection** within each group: its member ids in ascending order are shuffled by a
//!    partial Fisher–Yates; step i swaps position i with i + u(len − i), where u(m) is
//!    uniform in [0, m): the first 8 bytes (big-endian) of
//!    SHA-256("{frame_hash}:{seed}:{group}:{counter}"), counter counting up from 0 for each
//!    value tried, values ≥ ⌊2^64/m⌋·m rejected. The first k positions are the sample.

use sha2::{Digest, Sha256};
use std::collections::BTreeMap;

/// One eligible member in a frame.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct FrameEntry {
    /// The member's id.
    pub member_id: i64,
    /// The member's group (stratum).
    pub group: String,
}

/// The frozen frame: eligible members in ascending id order, each once.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Frame(Vec<FrameEntry>);

/// Why a frame file cannot be read.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum FrameError {
    /// A line is not `id,group`.
    #[error("line {0} is not `id,group`")]
    Line(usize),
    /// A member appears twice.
    #[error("member {0} appears twice")]
    Duplicate(i64),
}

impl Frame {
    /// Sorts the entries by id; a member listed twice is an error.
    pub fn new(mut entries: Vec<FrameEntry>) -> Result<Self, FrameError> {
        entries.sort();
        if let Some(w) = entries
            .windows(2)
            .find(|w| w[0].member_id == w[1].member_id)
        {
            return Err(FrameError::Duplicate(w[0].member_id));
        }
        Ok(Self(entries))
    }

    /// The frame as published: `id,group` lines in id order.
    pub fn to_text(&self) -> String {
        self.0
            .iter()
            .map(|e| format!("{},{}\n", e.member_id, e.group))
            .collect()
    }

    /// Reads a published frame back.
    pub fn from_text(text: &str) -> Result<Self, FrameError> {
        let entries = text
            .lines()
            .enumerate()
            .filter(|(_, l)| !l.trim().is_empty())
            .map(|(i, l)| {
                let (id, group) = l.split_once(',').ok_or(FrameError::Line(i + 1))?;
                let member_id = id.trim().parse().map_err(|_| FrameError::Line(i + 1))?;
                Ok(FrameEntry {
                    member_id,
                    group: group.trim().to_string(),
                })
            })
            .collect::<Result<Vec<_>, _>>()?;
        Self::new(entries)
    }

    /// SHA-256 of [`Frame::to_text`], in hex.
    pub fn hash(&self) -> String {
        hex::encode(Sha256::digest(self.to_text().as_bytes()))
    }

    /// How many members.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether nobody is eligible.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Member ids per group, ascending.
    fn groups(&self) -> BTreeMap<&str, Vec<i64>> {
        let mut groups: BTreeMap<&str, Vec<i64>> = BTreeMap::new();
        for e in &self.0 {
            groups.entry(&e.group).or_default().push(e.member_id);
        }
        groups
    }

    /// Places per group for a sample of `n` (step 2 above).
    pub fn allocate(&self, n: usize) -> BTreeMap<String, usize> {
        let groups = self.groups();
        let total = self.len();
        if n >= total {
            return groups
                .iter()
                .map(|(g, ids)| (g.to_string(), ids.len()))
                .collect();
        }
        let mut alloc: BTreeMap<String, usize> = BTreeMap::new();
        let mut remainders: Vec<(usize, &str)> = Vec::new();
        for (g, ids) in &groups {
            let exact = n * ids.len();
            alloc.insert(g.to_string(), exact / total);
            remainders.push((exact % total, g));
        }
        let left = n - alloc.values().sum::<usize>();
        remainders.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(b.1)));
        for (_, g) in remainders.into_iter().take(left) {
            *alloc.get_mut(g).expect("allocated above") += 1;
        }
        alloc
    }
}

/// The outcome of a draw.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Draw {
    /// The frame's hash.
    pub frame_hash: String,
    /// The seed used.
    pub seed: String,
    /// Places per group.
    pub allocation: BTreeMap<String, usize>,
    /// The drawn member ids, ascending.
    pub members: Vec<i64>,
}

fn uniform(frame_hash: &str, seed: &str, group: &str, counter: &mut u64, m: u64) -> u64 {
    let zone = (u64::MAX / m) * m;
    loop {
        let digest = Sha256::digest(format!("{frame_hash}:{seed}:{group}:{counter}").as_bytes());
        *counter += 1;
        let v = u64::from_be_bytes(digest[..8].try_into().expect("8 bytes"));
        if v < zone {
            return v % m;
        }
    }
}

/// Draws `n` members from a frame with a seed (steps 1–3 above).
pub fn draw(frame: &Frame, n: usize, seed: &str) -> Draw {
    let frame_hash = frame.hash();
    let allocation = frame.allocate(n);
    let mut members = Vec::with_capacity(n.min(frame.len()));
    for (group, mut ids) in frame.groups() {
        let k = allocation.get(group).copied().unwrap_or(0);
        let mut counter = 0;
        for i in 0..k {
            let j = i + uniform(
                &frame_hash,
                seed,
                group,
                &mut counter,
                (ids.len() - i) as u64,
            ) as usize;
            ids.swap(i, j);
        }
        members.extend_from_slice(&ids[..k]);
    }
    members.sort_unstable();
    Draw {
        frame_hash,
        seed: seed.to_string(),
        allocation,
        members,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn frame(groups: &[(&str, usize)]) -> Frame {
        let mut id = 0;
        let mut entries = Vec::new();
        for (g, size) in groups {
            for _ in 0..*size {
                id += 1;
                entries.push(FrameEntry {
                    member_id: id * 7,
                    group: g.to_string(),
                });
            }
        }
        Frame::new(entries).unwrap()
    }

    #[test]
    fn allocation_is_proportional_with_largest_remainders() {
        let f = frame(&[
            ("enterprise", 500),
            ("individual", 300),
            ("deputy", 150),
            ("community", 50),
        ]);
        let a = f.allocate(100);
        assert_eq!(a["enterprise"], 50);
        assert_eq!(a["individual"], 30);
        assert_eq!(a["deputy"], 15);
        assert_eq!(a["community"], 5);
        let a = f.allocate(7);
        // exact shares 3.5, 2.1, 1.05, 0.35: floors 3+2+1+0 = 6, the one left goes to 3.5.
        assert_eq!(
            (
                a["enterprise"],
                a["individual"],
                a["deputy"],
                a["community"]
            ),
            (4, 2, 1, 0)
        );
    }

    #[test]
    fn a_sample_larger_than_the_frame_takes_everyone() {
        let f = frame(&[("a", 3), ("b", 2)]);
        assert_eq!(draw(&f, 10, "x").members.len(), 5);
    }

    #[test]
    fn the_published_frame_reads_back_with_the_same_hash() {
        let f = frame(&[("企业", 4), ("个人", 3)]);
        let back = Frame::from_text(&f.to_text()).unwrap();
        assert_eq!(back.hash(), f.hash());
        assert_eq!(draw(&back, 3, "20261127"), draw(&f, 3, "20261127"));
        assert_eq!(
            Frame::from_text("1,a\n1,b\n"),
            Err(FrameError::Duplicate(1))
        );
        assert_eq!(Frame::from_text("x,a\n"), Err(FrameError::Line(1)));
    }

    #[test]
    fn a_different_seed_gives_a_different_sample() {
        let f = frame(&[("a", 400), ("b", 600)]);
        assert_ne!(
            draw(&f, 100, "12345").members,
            draw(&f, 100, "12346").members
        );
    }

    proptest! {
        #[test]
        fn the_same_frame_and_seed_always_give_the_same_sample(
            sizes in prop::collection::vec(0usize..60, 1..5),
            n in 0usize..150,
            seed in "[0-9]{1,8}",
        ) {
            let names = ["a", "b", "c", "d"];
            let groups: Vec<(&str, usize)> = names.iter().copied().zip(sizes.iter().copied()).collect();
            let f = frame(&groups);
            let d = draw(&f, n, &seed);
            prop_assert_eq!(&d, &draw(&f, n, &seed));
            // Strata sizes are as allocated and add up to the sample.
            prop_assert_eq!(d.members.len(), n.min(f.len()));
            prop_assert_eq!(d.allocation.values().sum::<usize>(), d.members.len());
            for (g, ids) in f.groups() {
                let drawn = d.members.iter().filter(|m| ids.contains(m)).count();
                prop_assert_eq!(drawn, d.allocation[g]);
                prop_assert!(drawn <= ids.len());
                // Within one place of the exact proportional share.
                let exact = n.min(f.len()) as f64 * ids.len() as f64 / f.len().max(1) as f64;
                prop_assert!((drawn as f64 - exact).abs() < 1.0);
            }
            // Nobody is drawn twice, nobody from outside the frame.
            let mut unique = d.members.clone();
            unique.dedup();
            prop_assert_eq!(unique.len(), d.members.len());
        }
    }
}

//! Receipt codes: what a respondent gets back for an accepted ballot. A receipt proves
//! the ballot was stored and counted, never what it said; it names no person.
//!
//! Each published round publishes the hashes of its counted receipts, sorted, and their
//! Merkle root, printed in the 通报: anyone can check that their receipt is in the list
//! and that the list is the one the notice committed to ([`CountedReceipts`]).

use rand::Rng;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::fmt;

/// Characters without look-alikes (no 0/O, 1/I/L, U).
pub const ALPHABET: &[u8] = b"23456789ABCDEFGHJKMNPQRSTVWXYZ";

/// A ballot receipt such as `K7Q2-M9XP-4RTB`: 12 symbols, about 59 bits of randomness.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Receipt(String);

impl Receipt {
    /// A fresh random receipt.
    pub fn generate(rng: &mut impl Rng) -> Self {
        let mut s = String::with_capacity(14);
        for i in 0..12 {
            if i > 0 && i % 4 == 0 {
                s.push('-');
            }
            s.push(ALPHABET[rng.gen_range(0..ALPHABET.len())] as char);
        }
        Self(s)
    }

    /// Reads a receipt as someone typed it: case, spaces and dashes do not matter. `None`
    /// if it cannot be a receipt.
    pub fn parse(typed: &str) -> Option<Self> {
        let symbols: Vec<u8> = typed
            .chars()
            .filter(|c| !c.is_whitespace() && *c != '-')
            .map(|c| c.to_ascii_uppercase())
            .map(|c| u8::try_from(c).unwrap_or(0))
            .collect();
        if symbols.len() != 12 || !symbols.iter().all(|b| ALPHABET.contains(b)) {
            return None;
        }
        let mut s = String::with_capacity(14);
        for (i, b) in symbols.iter().enumerate() {
            if i > 0 && i % 4 == 0 {
                s.push('-');
            }
            s.push(*b as char);
        }
        Some(Self(s))
    }

    /// Wraps a stored receipt.
    pub fn from_stored(s: String) -> Self {
        Self(s)
    }

    /// The receipt text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Receipt {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The published hash of a receipt: SHA-256 of its text as printed (`K7Q2-M9XP-4RTB`), so
/// `printf %s K7Q2-M9XP-4RTB | sha256sum` gives it too.
pub fn receipt_hash(receipt: &Receipt) -> [u8; 32] {
    Sha256::digest(receipt.as_str().as_bytes()).into()
}

/// The Merkle tree hash of RFC 6962 (§2.1, the one Certificate Transparency logs use) over
/// `leaves`, in their order: a leaf is `SHA-256(0x00 ‖ leaf)`, a node
/// `SHA-256(0x01 ‖ left ‖ right)`, a list of n > 1 split after the largest power of two
/// below n; no leaves hash to `SHA-256("")`.
pub fn merkle_root(leaves: &[[u8; 32]]) -> [u8; 32] {
    match leaves {
        [] => Sha256::digest(b"").into(),
        [leaf] => Sha256::new()
            .chain_update([0u8])
            .chain_update(leaf)
            .finalize()
            .into(),
        _ => {
            let split = 1usize << (leaves.len() - 1).ilog2();
            let (left, right) = leaves.split_at(split);
            Sha256::new()
                .chain_update([1u8])
                .chain_update(merkle_root(left))
                .chain_update(merkle_root(right))
                .finalize()
                .into()
        }
    }
}

/// A round's counted receipts as published: their hashes, sorted (the order tells
/// nothing of when a ballot came), and the Merkle root over them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CountedReceipts {
    hashes: Vec<[u8; 32]>,
}

/// Why a published receipt list does not verify.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReceiptListError {
    /// A hash is not 64 hex digits.
    #[error("entry {0} is not a SHA-256 hash in hex")]
    NotAHash(usize),
    /// The list is not sorted, or names a hash twice.
    #[error("the list is not in strictly ascending order at entry {0}")]
    Unsorted(usize),
}

impl CountedReceipts {
    /// The list for these receipts.
    pub fn of<'a>(receipts: impl IntoIterator<Item = &'a Receipt>) -> Self {
        let mut hashes: Vec<[u8; 32]> = receipts.into_iter().map(receipt_hash).collect();
        hashes.sort_unstable();
        hashes.dedup();
        Self { hashes }
    }

    /// Reads a published list (hex hashes), refusing one that is not sorted and distinct:
    /// the root commits to one order, so a reordered list would not match it anyway.
    pub fn from_hex<S: AsRef<str>>(hashes: &[S]) -> Result<Self, ReceiptListError> {
        let mut out = Vec::with_capacity(hashes.len());
        for (i, h) in hashes.iter().enumerate() {
            let bytes =
                hex::decode(h.as_ref().trim()).map_err(|_| ReceiptListError::NotAHash(i))?;
            let hash: [u8; 32] = bytes
                .try_into()
                .map_err(|_| ReceiptListError::NotAHash(i))?;
            if out.last().is_some_and(|last| *last >= hash) {
                return Err(ReceiptListError::Unsorted(i));
            }
            out.push(hash);
        }
        Ok(Self { hashes: out })
    }

    /// How many receipts were counted.
    pub fn len(&self) -> usize {
        self.hashes.len()
    }

    /// Whether none was.
    pub fn is_empty(&self) -> bool {
        self.hashes.is_empty()
    }

    /// The hashes in hex, in published order.
    pub fn hex(&self) -> Vec<String> {
        self.hashes.iter().map(hex::encode).collect()
    }

    /// The Merkle root, in hex: what the 通报 prints.
    pub fn root(&self) -> String {
        hex::encode(merkle_root(&self.hashes))
    }

    /// Whether this receipt is in the list.
    pub fn contains(&self, receipt: &Receipt) -> bool {
        self.hashes.binary_search(&receipt_hash(receipt)).is_ok()
    }
}

/// A root as printed, in groups of 16 hex digits so it wraps on paper; reading it back
/// ([`normalize_root`]) ignores the spaces.
pub fn printed_root(root: &str) -> String {
    root.as_bytes()
        .chunks(16)
        .map(|c| String::from_utf8_lossy(c).into_owned())
        .collect::<Vec<_>>()
        .join(" ")
}

/// A root as someone typed or pasted it: spaces gone, lower case.
pub fn normalize_root(typed: &str) -> String {
    typed
        .chars()
        .filter(|c| !c.is_whitespace())
        .map(|c| c.to_ascii_lowercase())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 6962's tree hash, written out from the definition for small lists.
    fn by_definition(leaves: &[[u8; 32]]) -> [u8; 32] {
        let leaf = |l: &[u8; 32]| -> [u8; 32] {
            let mut v = vec![0u8];
            v.extend_from_slice(l);
            Sha256::digest(&v).into()
        };
        let node = |a: [u8; 32], b: [u8; 32]| -> [u8; 32] {
            let mut v = vec![1u8];
            v.extend_from_slice(&a);
            v.extend_from_slice(&b);
            Sha256::digest(&v).into()
        };
        match leaves.len() {
            3 => node(node(leaf(&leaves[0]), leaf(&leaves[1])), leaf(&leaves[2])),
            5 => node(
                node(
                    node(leaf(&leaves[0]), leaf(&leaves[1])),
                    node(leaf(&leaves[2]), leaf(&leaves[3])),
                ),
                leaf(&leaves[4]),
            ),
            _ => unreachable!(),
        }
    }

    #[test]
    fn the_root_is_rfc_6962s_tree_hash() {
        let leaves: Vec<[u8; 32]> = (0u8..5).map(|i| [i; 32]).collect();
        assert_eq!(merkle_root(&leaves[..3]), by_definition(&leaves[..3]));
        assert_eq!(merkle_root(&leaves), by_definition(&leaves));
        assert_eq!(
            hex::encode(merkle_root(&[])),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
    }

    #[test]
    fn a_published_list_reads_back_and_any_change_moves_its_root() {
        let mut rng = rand::thread_rng();
        let receipts: Vec<Receipt> = (0..50).map(|_| Receipt::generate(&mut rng)).collect();
        let list = CountedReceipts::of(&receipts);
        assert_eq!(list.len(), 50);
        let again = CountedReceipts::from_hex(&list.hex()).unwrap();
        assert_eq!(again.root(), list.root());
        assert!(receipts.iter().all(|r| again.contains(r)));
        assert!(!again.contains(&Receipt::generate(&mut rng)));
        // One receipt fewer, or one more, is another root.
        assert_ne!(CountedReceipts::of(&receipts[1..]).root(), list.root());
        let mut more = receipts.clone();
        more.push(Receipt::generate(&mut rng));
        assert_ne!(CountedReceipts::of(&more).root(), list.root());
        // A reordered or doubled list is refused, not silently re-sorted.
        let mut hexes = list.hex();
        hexes.swap(3, 4);
        assert_eq!(
            CountedReceipts::from_hex(&hexes),
            Err(ReceiptListError::Unsorted(4))
        );
        let mut doubled = list.hex();
        doubled.insert(1, doubled[0].clone());
        assert!(CountedReceipts::from_hex(&doubled).is_err());
        assert_eq!(
            CountedReceipts::from_hex(&["zz"]),
            Err(ReceiptListError::NotAHash(0))
        );
        assert_eq!(normalize_root(&printed_root(&list.root())), list.root());
        // The published hash is the receipt text's SHA-256, as any tool computes it.
        let r = Receipt::parse("K7Q2-M9XP-4RTB").unwrap();
        assert_eq!(
            hex::encode(receipt_hash(&r)),
            hex::encode(Sha256::digest(b"K7Q2-M9XP-4RTB"))
        );
    }

    #[test]
    fn a_typed_receipt_reads_whatever_its_spacing_and_case() {
        let r = Receipt::parse(" k7q2 m9xp-4rtb ").unwrap();
        assert_eq!(r.as_str(), "K7Q2-M9XP-4RTB");
        assert_eq!(Receipt::parse("K7Q2M9XP4RTB"), Some(r));
        assert_eq!(Receipt::parse("K7Q2-M9XP-4RT"), None, "too short");
        assert_eq!(
            Receipt::parse("K7Q2-M9XP-4RTO"),
            None,
            "O is not a receipt symbol"
        );
        assert_eq!(Receipt::parse("K7Q2-M9XP-4RT好"), None);
    }

    #[test]
    fn receipts_are_three_groups_of_four_unambiguous_symbols() {
        let r = Receipt::generate(&mut rand::thread_rng());
        let groups: Vec<_> = r.as_str().split('-').collect();
        assert_eq!(groups.len(), 3);
        assert!(groups.iter().all(|g| g.len() == 4));
        assert!(
            r.as_str()
                .bytes()
                .all(|b| b == b'-' || ALPHABET.contains(&b))
        );
    }
}

//! Receipt codes: what a respondent gets back for an accepted ballot. A receipt proves
//! the ballot was stored and can be looked up in the open data; it names no person.

use rand::Rng;
use serde::{Deserialize, Serialize};
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

#[cfg(test)]
mod tests {
    use super::*;

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

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

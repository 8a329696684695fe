//! One-time codes (评议码) for the directed panel: typed from paper, so short, with no
//! look-alike characters, case-insensitive, and a check character that catches any single
//! mistyped character. Nine random symbols from an alphabet of 30 give 44 bits.
//!
//! The check character is Luhn mod 30: doubling is a permutation of the alphabet's values
//! when the alphabet's size is even, so every single substitution changes the sum.

use hmac::{Hmac, Mac};
use rand::Rng;
use sha2::Sha256;
use std::fmt;

/// The symbols: digits and capitals without 0/O, 1/I/L and U.
pub const ALPHABET: &[u8; 30] = b"23456789ABCDEFGHJKMNPQRSTVWXYZ";
const N: u32 = ALPHABET.len() as u32;
/// Random symbols in a code.
pub const PAYLOAD: usize = 9;

/// A well-formed code: nine symbols and a correct check symbol.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct OneTimeCode(String);

/// Why a typed code is not a code.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CodeError {
    /// Wrong length after removing spaces and dashes.
    #[error("a code has {} characters", PAYLOAD + 1)]
    Length,
    /// A character that is not in the alphabet.
    #[error("`{0}` cannot appear in a code")]
    Character(char),
    /// The check character does not match: most likely a typo.
    #[error("the code has a typo: the check character does not match")]
    Check,
}

fn value(b: u8) -> Option<u32> {
    ALPHABET.iter().position(|&a| a == b).map(|p| p as u32)
}

fn luhn_sum(values: impl DoubleEndedIterator<Item = u32>, double_first: bool) -> u32 {
    let mut double = double_first;
    values.rev().fold(0, |sum, v| {
        let addend = if double { 2 * v / N + 2 * v % N } else { v };
        double = !double;
        sum + addend
    })
}

impl OneTimeCode {
    /// A fresh random code.
    pub fn generate(rng: &mut impl Rng) -> Self {
        let payload: Vec<u32> = (0..PAYLOAD).map(|_| rng.gen_range(0..N)).collect();
        Self::from_payload(&payload)
    }

    /// The code of a drawn member, derived from the deployment's key so that forms can be
    /// printed again later while the database keeps only digests. Without the key, codes
    /// can neither be derived nor found from a dump.
    pub fn derive(key: &[u8], round: i64, member: i64) -> Self {
        let mut payload = Vec::with_capacity(PAYLOAD);
        let mut counter = 0u32;
        while payload.len() < PAYLOAD {
            let mut mac =
                Hmac::<Sha256>::new_from_slice(key).expect("HMAC takes keys of any length");
            mac.update(format!("minping code {round} {member} {counter}").as_bytes());
            counter += 1;
            for byte in mac.finalize().into_bytes() {
                // 240 = 8 × 30: rejecting bytes at or above it keeps every symbol equally likely.
                if byte < 240 && payload.len() < PAYLOAD {
                    payload.push(u32::from(byte) % N);
                }
            }
        }
        Self::from_payload(&payload)
    }

    fn from_payload(payload: &[u32]) -> Self {
        let check = (N - luhn_sum(payload.iter().copied(), true) % N) % N;
        Self(
            payload
                .iter()
                .chain(std::iter::once(&check))
                .map(|&v| ALPHABET[v as usize] as char)
                .collect(),
        )
    }

    /// Reads a typed code: case, spaces and dashes do not matter.
    pub fn parse(typed: &str) -> Result<Self, CodeError> {
        let cleaned: String = typed
            .chars()
            .filter(|c| !c.is_whitespace() && *c != '-')
            .map(|c| c.to_ascii_uppercase())
            .collect();
        if cleaned.chars().count() != PAYLOAD + 1 {
            return Err(CodeError::Length);
        }
        let values = cleaned
            .chars()
            .map(|c| {
                u8::try_from(c)
                    .ok()
                    .and_then(value)
                    .ok_or(CodeError::Character(c))
            })
            .collect::<Result<Vec<_>, _>>()?;
        if luhn_sum(values.into_iter(), false) % N != 0 {
            return Err(CodeError::Check);
        }
        Ok(Self(cleaned))
    }

    /// The code as printed: `ABCD-EFGH-JK`.
    pub fn printed(&self) -> String {
        format!("{}-{}-{}", &self.0[..4], &self.0[4..8], &self.0[8..])
    }

    /// The code without separators, as it goes in a URL.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// What the database keeps instead of the code: HMAC-SHA256 under a key that lives
    /// outside the database, so a dump alone cannot be searched for codes.
    pub fn digest(&self, key: &[u8]) -> String {
        let mut mac = Hmac::<Sha256>::new_from_slice(key).expect("HMAC takes keys of any length");
        mac.update(self.0.as_bytes());
        hex::encode(mac.finalize().into_bytes())
    }
}

/// A keyed MAC (HMAC-SHA256, hex) of `message` for one `purpose`, under the deployment's
/// key: what the server signs and checks without storing (form tokens, say). The purpose
/// keeps a MAC made for one use from passing for another.
pub fn signed(key: &[u8], purpose: &str, message: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(key).expect("HMAC takes keys of any length");
    mac.update(purpose.as_bytes());
    mac.update(b"\0");
    mac.update(message);
    hex::encode(mac.finalize().into_bytes())
}

/// What a resolved code conflict keeps instead of the code's digest: a keyed tag of it. A
/// later use of the code is recognized (and refused: one conflict per code is decided,
/// never more), but without the key the tag joins no panel member, so the kept ballot's
/// content no longer sits beside anything that names a person.
pub fn resolved_conflict_tag(key: &[u8], digest: &str) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(key).expect("HMAC takes keys of any length");
    mac.update(b"minping resolved conflict ");
    mac.update(digest.as_bytes());
    format!("resolved:{}", hex::encode(mac.finalize().into_bytes()))
}

impl fmt::Display for OneTimeCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.printed())
    }
}

impl fmt::Debug for OneTimeCode {
    // Codes are secrets: keep them out of logs.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("OneTimeCode(…)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use rand::SeedableRng;

    #[test]
    fn a_code_reads_back_whatever_the_case_and_separators() {
        let code = OneTimeCode::generate(&mut rand::thread_rng());
        let printed = code.printed();
        assert_eq!(printed.len(), 12);
        assert_eq!(OneTimeCode::parse(&printed).unwrap(), code);
        assert_eq!(OneTimeCode::parse(&printed.to_lowercase()).unwrap(), code);
        assert_eq!(
            OneTimeCode::parse(&printed.replace('-', " ")).unwrap(),
            code
        );
    }

    #[test]
    fn derived_codes_are_valid_stable_and_depend_on_key_round_and_member() {
        let a = OneTimeCode::derive(b"key", 21, 7);
        assert_eq!(OneTimeCode::parse(a.as_str()).unwrap(), a);
        assert_eq!(a, OneTimeCode::derive(b"key", 21, 7));
        assert_ne!(a, OneTimeCode::derive(b"key", 21, 8));
        assert_ne!(a, OneTimeCode::derive(b"key", 22, 7));
        assert_ne!(a, OneTimeCode::derive(b"other", 21, 7));
    }

    #[test]
    fn codes_carry_at_least_forty_bits() {
        assert!((PAYLOAD as f64) * (N as f64).log2() >= 40.0);
    }

    #[test]
    fn look_alikes_and_wrong_lengths_are_refused() {
        assert_eq!(OneTimeCode::parse("ABCD-EFGH-J"), Err(CodeError::Length));
        assert_eq!(
            OneTimeCode::parse("ABCD-EFGH-J0"),
            Err(CodeError::Character('0'))
        );
        assert_eq!(
            OneTimeCode::parse("OBCD-EFGH-JK"),
            Err(CodeError::Character('O'))
        );
        assert_eq!(
            OneTimeCode::parse("评议码ABCDEFG"),
            Err(CodeError::Character('评'))
        );
    }

    #[test]
    fn the_digest_depends_on_the_key_and_hides_the_code() {
        let code = OneTimeCode::generate(&mut rand::thread_rng());
        let a = code.digest(b"key one");
        assert_ne!(a, code.digest(b"key two"));
        assert!(!a.to_uppercase().contains(code.as_str()));
        assert_eq!(format!("{code:?}"), "OneTimeCode(…)");
    }

    proptest! {
        #[test]
        fn any_single_mistyped_character_is_caught(seed in any::<u64>(), pos in 0usize..10, shift in 1u32..30) {
            let code = OneTimeCode::generate(&mut rand_chacha::ChaCha8Rng::seed_from_u64(seed));
            let mut bytes = code.as_str().as_bytes().to_vec();
            let v = value(bytes[pos]).unwrap();
            bytes[pos] = ALPHABET[((v + shift) % N) as usize];
            let typo = String::from_utf8(bytes).unwrap();
            prop_assert_eq!(OneTimeCode::parse(&typo), Err(CodeError::Check));
        }

        #[test]
        fn every_generated_code_is_valid(seed in any::<u64>()) {
            let code = OneTimeCode::generate(&mut rand_chacha::ChaCha8Rng::seed_from_u64(seed));
            prop_assert_eq!(OneTimeCode::parse(code.as_str()), Ok(code));
        }
    }
}

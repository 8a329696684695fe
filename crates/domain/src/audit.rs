//! The audit log's chain: each staff action is an [`Event`] whose hash covers the hash of
//! the event before it, so editing, removing or reordering any stored event breaks every
//! link after it, and [`verify`] names the first event that no longer fits.
//!
//! The chain is plain SHA-256, with no key: anyone holding a copy of the log can check it.
//! Someone able to rewrite the whole database could recompute a whole new chain; what
//! shows that is the head published outside it (each round's 通报 and its public page):
//! whoever kept a copy of a head finds it missing from the rewritten chain
//! ([`Chain::contains`]).

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// The `prev` of the first event: 64 zeros.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// One stored event of the log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Event {
    /// Its place in the chain: 1, 2, 3, … without gaps.
    pub seq: i64,
    /// When, as stored and hashed (RFC 3339, UTC, microseconds).
    pub at: String,
    /// The account that acted, if any (none for the system itself).
    pub actor_id: Option<i64>,
    /// The name the account had then.
    pub actor: String,
    /// What was done (`round.open`, `unit.retire`, `sanction.confirm`, …).
    pub action: String,
    /// What it was done to (`round:3`, `unit:12`, `report:7`, …).
    pub object: String,
    /// The before and after and any other particulars, as JSON; personal data by reference
    /// (ids), never copied.
    pub detail: String,
    /// The hash of the event before (hex), [`GENESIS`] for the first.
    pub prev: String,
    /// This event's hash (hex): [`hash`] of the fields above.
    pub hash: String,
}

/// The hash of an event from its fields and the hash before it: SHA-256 over the previous
/// hash and the fields as one JSON array, so no two different events serialize alike.
#[allow(clippy::too_many_arguments)]
pub fn hash(
    prev: &str,
    seq: i64,
    at: &str,
    actor_id: Option<i64>,
    actor: &str,
    action: &str,
    object: &str,
    detail: &str,
) -> String {
    let fields = serde_json::json!([seq, at, actor_id, actor, action, object, detail]);
    let mut hasher = Sha256::new();
    hasher.update(prev.as_bytes());
    hasher.update(b"\n");
    hasher.update(fields.to_string().as_bytes());
    hex::encode(hasher.finalize())
}

impl Event {
    /// The hash this event's fields give (what [`Event::hash`] must equal).
    pub fn computed_hash(&self) -> String {
        hash(
            &self.prev,
            self.seq,
            &self.at,
            self.actor_id,
            &self.actor,
            &self.action,
            &self.object,
            &self.detail,
        )
    }
}

/// The head of a chain: how many events it holds and the last one's hash.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Head {
    /// The last event's place (0 for an empty chain).
    pub seq: i64,
    /// The last event's hash ([`GENESIS`] for an empty chain).
    pub hash: String,
}

impl Head {
    /// The head of an empty chain.
    pub fn empty() -> Self {
        Self {
            seq: 0,
            hash: GENESIS.to_string(),
        }
    }

    /// The head as printed: `#seq` and the first 16 hex digits of the hash, enough to tell
    /// two heads apart by eye and short enough to print on a notice.
    pub fn printed(&self) -> String {
        let start: String = self.hash.chars().take(16).collect();
        format!("#{} {start}", self.seq)
    }
}

/// Why a chain does not verify, naming the first event that does not fit.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Broken {
    /// An event's fields do not give its stored hash: it was edited.
    #[error("event #{seq} was altered: its fields no longer give its hash")]
    Altered {
        /// The event.
        seq: i64,
    },
    /// An event does not point at the one before it: an event was removed or reordered
    /// before it.
    #[error(
        "event #{seq} does not follow the event before it: an event before it was removed, altered or moved"
    )]
    Unlinked {
        /// The event.
        seq: i64,
    },
    /// The places jump: the events in between are missing.
    #[error("event #{expected} is missing (the next stored event is #{found})")]
    Missing {
        /// The place expected.
        expected: i64,
        /// The place found there.
        found: i64,
    },
    /// The recorded head is not the last event: events at the end were removed (or the
    /// head was changed).
    #[error(
        "the log ends at event #{last} but its recorded head is #{head}: events after #{last} were removed"
    )]
    Truncated {
        /// The last stored event.
        last: i64,
        /// The recorded head.
        head: i64,
    },
    /// The recorded head names the last event but not its hash.
    #[error("the recorded head does not match event #{seq}")]
    HeadMismatch {
        /// The last stored event.
        seq: i64,
    },
    /// A head published earlier is not in the chain: the chain was rewritten after it.
    #[error("the head published as {printed} is not in the log: the log was rewritten after it")]
    Unpublished {
        /// The published head as printed.
        printed: String,
    },
}

impl Broken {
    /// The event to look at first.
    pub fn seq(&self) -> Option<i64> {
        match self {
            Broken::Altered { seq } | Broken::Unlinked { seq } | Broken::HeadMismatch { seq } => {
                Some(*seq)
            }
            Broken::Missing { expected, .. } => Some(*expected),
            Broken::Truncated { last, .. } => Some(last + 1),
            Broken::Unpublished { .. } => None,
        }
    }
}

/// A verified chain: its head and the hash at each place, to check published heads against.
#[derive(Debug, Clone)]
pub struct Chain {
    hashes: Vec<String>,
}

impl Chain {
    /// The chain's head.
    pub fn head(&self) -> Head {
        self.hashes.last().map_or_else(Head::empty, |h| Head {
            seq: self.hashes.len() as i64,
            hash: h.clone(),
        })
    }

    /// How many events it holds.
    pub fn len(&self) -> usize {
        self.hashes.len()
    }

    /// Whether it holds no event.
    pub fn is_empty(&self) -> bool {
        self.hashes.is_empty()
    }

    /// Whether a head published earlier is part of this chain.
    pub fn contains(&self, head: &Head) -> bool {
        head.seq == 0 && head.hash == GENESIS
            || head
                .seq
                .checked_sub(1)
                .and_then(|i| usize::try_from(i).ok())
                .and_then(|i| self.hashes.get(i))
                .is_some_and(|h| *h == head.hash)
    }
}

/// Walks the events in stored order against the recorded head; the first that does not fit
/// is named. Events must come ordered by `seq`.
pub fn verify(events: impl IntoIterator<Item = Event>, recorded: &Head) -> Result<Chain, Broken> {
    let mut hashes: Vec<String> = Vec::new();
    let mut prev = GENESIS.to_string();
    for event in events {
        let expected = hashes.len() as i64 + 1;
        if event.seq > expected {
            return Err(Broken::Missing {
                expected,
                found: event.seq,
            });
        }
        if event.seq < expected {
            // A duplicate or out-of-order place: the event here was moved.
            return Err(Broken::Unlinked { seq: event.seq });
        }
        if event.computed_hash() != event.hash {
            return Err(Broken::Altered { seq: event.seq });
        }
        if event.prev != prev {
            return Err(Broken::Unlinked { seq: event.seq });
        }
        prev = event.hash.clone();
        hashes.push(event.hash);
    }
    let chain = Chain { hashes };
    let head = chain.head();
    if recorded.seq > head.seq {
        return Err(Broken::Truncated {
            last: head.seq,
            head: recorded.seq,
        });
    }
    if recorded.seq < head.seq {
        // Events after the recorded head: the head was rolled back, or events were added
        // around the log.
        return Err(Broken::Unlinked {
            seq: recorded.seq + 1,
        });
    }
    if recorded.hash != head.hash {
        return Err(Broken::HeadMismatch { seq: head.seq });
    }
    Ok(chain)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chain(n: i64) -> Vec<Event> {
        let mut prev = GENESIS.to_string();
        (1..=n)
            .map(|seq| {
                let mut e = Event {
                    seq,
                    at: format!("2026-10-0{}T08:00:00.000000Z", seq.min(9)),
                    actor_id: Some(1),
                    actor: "organizer".into(),
                    action: "round.open".into(),
                    object: format!("round:{seq}"),
                    detail: "{}".into(),
                    prev: prev.clone(),
                    hash: String::new(),
                };
                e.hash = e.computed_hash();
                prev = e.hash.clone();
                e
            })
            .collect()
    }

    fn head(events: &[Event]) -> Head {
        events.last().map_or_else(Head::empty, |e| Head {
            seq: e.seq,
            hash: e.hash.clone(),
        })
    }

    #[test]
    fn an_intact_chain_verifies_and_reports_its_head() {
        let events = chain(5);
        let recorded = head(&events);
        let verified = verify(events, &recorded).unwrap();
        assert_eq!(verified.len(), 5);
        assert_eq!(verified.head(), recorded);
        assert!(verify(Vec::new(), &Head::empty()).unwrap().is_empty());
    }

    #[test]
    fn an_edited_field_names_its_event() {
        let recorded = head(&chain(5));
        for field in 0..4 {
            let mut events = chain(5);
            match field {
                0 => events[2].detail = r#"{"after":"x"}"#.into(),
                1 => events[2].actor = "someone else".into(),
                2 => events[2].at = "2026-01-01T00:00:00.000000Z".into(),
                _ => events[2].actor_id = None,
            }
            assert_eq!(
                verify(events, &recorded).unwrap_err(),
                Broken::Altered { seq: 3 }
            );
        }
    }

    #[test]
    fn a_rehashed_edit_breaks_the_next_link() {
        let mut events = chain(5);
        let recorded = head(&events);
        events[1].detail = "{}x".into();
        events[1].hash = events[1].computed_hash();
        assert_eq!(
            verify(events, &recorded).unwrap_err(),
            Broken::Unlinked { seq: 3 }
        );
    }

    #[test]
    fn a_removed_event_is_named() {
        let mut events = chain(5);
        let recorded = head(&events);
        events.remove(1);
        assert_eq!(
            verify(events.clone(), &recorded).unwrap_err(),
            Broken::Missing {
                expected: 2,
                found: 3
            }
        );
        events.pop();
        let mut last = chain(5);
        last.pop();
        let err = verify(last, &recorded).unwrap_err();
        assert_eq!(err, Broken::Truncated { last: 4, head: 5 });
        assert_eq!(err.seq(), Some(5));
    }

    #[test]
    fn swapped_events_are_named() {
        // Swapping two rows' places (their seq) and reading in place order.
        let mut events = chain(5);
        let recorded = head(&events);
        events.swap(1, 2);
        events[1].seq = 2;
        events[2].seq = 3;
        assert_eq!(
            verify(events, &recorded).unwrap_err(),
            Broken::Altered { seq: 2 }
        );
        // Swapping whole rows, seq included, reads them out of order.
        let mut events = chain(5);
        events.swap(1, 2);
        assert_eq!(
            verify(events, &recorded).unwrap_err(),
            Broken::Missing {
                expected: 2,
                found: 3
            }
        );
    }

    #[test]
    fn a_published_head_is_found_only_in_the_chain_it_came_from() {
        let events = chain(5);
        let published = Head {
            seq: 3,
            hash: events[2].hash.clone(),
        };
        let verified = verify(events.clone(), &head(&events)).unwrap();
        assert!(verified.contains(&published));
        let mut rewritten = chain(5);
        rewritten[2].detail = "{\"x\":1}".into();
        let mut prev = rewritten[1].hash.clone();
        for e in &mut rewritten[2..] {
            e.prev = prev.clone();
            e.hash = e.computed_hash();
            prev = e.hash.clone();
        }
        let recorded = head(&rewritten);
        let verified = verify(rewritten, &recorded).unwrap();
        assert!(!verified.contains(&published));
        assert_eq!(published.printed(), format!("#3 {}", &published.hash[..16]));
    }
}

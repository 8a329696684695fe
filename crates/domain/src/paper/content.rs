//! What an entry of a paper form says, in canonical order.

use crate::{Ballot, BallotDraft, IndicatorSet, NominationDraft};
use serde::{Deserialize, Serialize};

/// What an entry says, in a canonical order (units by id, indicators in the form's order,
/// trimmed comments, exposure sorted), so two entries are equal exactly when they say the
/// same. It holds no code: entries are stored, codes must not be.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Content {
    /// The named units.
    pub nominations: Vec<KeyedNomination>,
    /// Units the respondent dealt with this quarter.
    pub exposure: Vec<i64>,
}

/// One named unit of an entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeyedNomination {
    /// The unit's id.
    pub unit_id: i64,
    /// Indicator codes, in the form's order.
    pub indicators: Vec<String>,
    /// The comment, trimmed.
    pub comment: Option<String>,
}

impl Content {
    /// The canonical content of a checked ballot.
    pub fn of(ballot: &Ballot, indicators: &IndicatorSet) -> Self {
        let mut nominations: Vec<KeyedNomination> = ballot
            .nominations
            .iter()
            .map(|n| KeyedNomination {
                unit_id: n.unit_id.0,
                indicators: indicators
                    .codes(n.indicators)
                    .into_iter()
                    .map(String::from)
                    .collect(),
                comment: n.comment.clone(),
            })
            .collect();
        nominations.sort_by_key(|n| n.unit_id);
        let mut exposure: Vec<i64> = ballot.exposure.iter().map(|u| u.0).collect();
        exposure.sort_unstable();
        Self {
            nominations,
            exposure,
        }
    }

    /// As stored with an entry.
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).expect("plain data serializes")
    }

    /// As stored with an entry; `None` if it is not an entry's content.
    pub fn from_json(stored: &str) -> Option<Self> {
        serde_json::from_str(stored).ok()
    }

    /// A draft of this content.
    pub fn draft(&self) -> BallotDraft {
        BallotDraft {
            nominations: self
                .nominations
                .iter()
                .map(|n| NominationDraft {
                    unit_id: n.unit_id,
                    indicators: n.indicators.clone(),
                    comment: n.comment.clone(),
                })
                .collect(),
            exposure: self.exposure.clone(),
            ..BallotDraft::default()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::settings::RoundSettings;

    #[test]
    fn two_entries_saying_the_same_in_another_order_have_equal_content() {
        let settings = RoundSettings::default();
        let parse = |noms: Vec<NominationDraft>, exposure: Vec<i64>| {
            BallotDraft {
                channel: "open".into(),
                nominations: noms,
                exposure,
                ..BallotDraft::default()
            }
            .parse(&settings, |_| true)
            .unwrap()
        };
        let nom = |unit_id: i64, indicators: &[&str], comment: Option<&str>| NominationDraft {
            unit_id,
            indicators: indicators.iter().map(|s| s.to_string()).collect(),
            comment: comment.map(String::from),
        };
        let a = parse(
            vec![
                nom(9, &["greedy", "cold"], Some(" 要求请吃饭 ")),
                nom(3, &["lazy"], None),
            ],
            vec![4, 3],
        );
        let b = parse(
            vec![
                nom(3, &["lazy"], Some("  ")),
                nom(9, &["cold", "greedy"], Some("要求请吃饭")),
            ],
            vec![3, 4],
        );
        let (ca, cb) = (
            Content::of(&a, &settings.indicators),
            Content::of(&b, &settings.indicators),
        );
        assert_eq!(ca, cb);
        assert_eq!(ca.nominations[0].unit_id, 3);
        assert_eq!(ca.nominations[1].indicators, ["cold", "greedy"]);
        assert_eq!(Content::from_json(&ca.to_json()), Some(ca.clone()));
        assert_eq!(ca.draft().nominations.len(), 2);
        assert_eq!(Content::from_json("not json"), None);
    }
}

//! The rules file (问责规则): what a round's ranking leads to, as data the organizer can
//! change per deployment. The defaults are Nanchuan's; `rules.default.toml` documents every
//! key and parses to [`Rules::default`].

use serde::{Deserialize, Serialize};

/// The version of the rules format this build writes.
pub const RULES_VERSION: u32 = 1;

/// A deployment's accountability rules, stored (as JSON) with each finalized round.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Rules {
    /// Format version, so a stored copy can be read later.
    pub version: u32,
    /// Circulation (通报) and publication (公示).
    pub publication: PublicationRule,
    /// What every top-N unit's head and supervising leader get.
    pub top_n: TopNRule,
    /// The assessment deduction (年度考核) and bonus review (绩效奖金) per top-N appearance.
    pub deduction: DeductionRule,
    /// The removal ladder (免职) for consecutive top-3 places.
    pub removal: RemovalRule,
    /// The optional Wuhan-style threshold rule.
    pub threshold: ThresholdRule,
}

/// Circulation and publication of a round's results.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PublicationRule {
    /// Results go to every agency (通报).
    pub circulate: bool,
    /// The top N are published with rank and main problems (公示).
    pub publish_top_n: bool,
}

/// Sanctions for the units of the published top N.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TopNRule {
    /// The supervising leader of every listed unit gets a reminder talk (谈话提醒).
    pub reminder_talk: bool,
    /// The head may get an interview (约谈), when one of the two conditions below holds.
    pub interview: bool,
    /// ... when the unit is listed in this many consecutive published rounds (this one
    /// included); 0: never for this reason, 1: every listing.
    pub interview_after_consecutive: u32,
    /// ... or when the unit is placed at this rank or better; 0: never for this reason.
    pub interview_top: u32,
    /// The head may not be promoted for this many months from publication; 0 is off.
    pub promotion_freeze_months: u32,
}

/// What each top-N appearance means for the leadership's annual assessment (年度考核).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DeductionRule {
    /// Points off the annual assessment of the head and the supervising leader; 0 (the
    /// default: the article names no figure) records the appearance for the assessment
    /// without a set deduction.
    pub points: f64,
    /// The year-end bonus (绩效奖金) is marked for review.
    pub bonus_review: bool,
}

/// The removal ladder.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RemovalRule {
    /// Places at or above this rank count ("top 3").
    pub top: u32,
    /// Consecutive counted rounds that remove the head; 0 is off.
    pub head_after: u32,
    /// Consecutive counted rounds that remove the supervising leader; 0 is off.
    pub leader_after: u32,
}

/// Wuhan style, "末位且低于某分数": the worst-placed unit **and** a score past a threshold
/// removes the head. minping ranks the hardest unit first, so the worst place is rank 1 and
/// "worse than the threshold" means a score (weighted nominations) of at least `min_score`:
/// the floor keeps a quiet quarter, where even the worst unit was hardly named, from
/// removing anybody.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ThresholdRule {
    /// Off by default.
    pub enabled: bool,
    /// The score (weighted nominations) the rank-1 unit must reach for the rule to apply.
    pub min_score: f64,
}

/// Why a rules file is not usable.
#[derive(Debug, thiserror::Error)]
pub enum RulesError {
    /// The TOML does not parse or has an unknown key.
    #[error("{0}")]
    Toml(#[from] toml::de::Error),
    /// A value parses but makes no sense.
    #[error("{0}")]
    Invalid(String),
}

impl Default for Rules {
    fn default() -> Self {
        Self {
            version: RULES_VERSION,
            publication: PublicationRule::default(),
            top_n: TopNRule::default(),
            deduction: DeductionRule::default(),
            removal: RemovalRule::default(),
            threshold: ThresholdRule::default(),
        }
    }
}

impl Default for PublicationRule {
    fn default() -> Self {
        Self {
            circulate: true,
            publish_top_n: true,
        }
    }
}

impl Default for TopNRule {
    fn default() -> Self {
        Self {
            reminder_talk: true,
            interview: true,
            interview_after_consecutive: 2,
            interview_top: 3,
            promotion_freeze_months: 3,
        }
    }
}

impl Default for DeductionRule {
    fn default() -> Self {
        Self {
            points: 0.0,
            bonus_review: true,
        }
    }
}

impl Default for RemovalRule {
    fn default() -> Self {
        Self {
            top: 3,
            head_after: 2,
            leader_after: 3,
        }
    }
}

impl Default for ThresholdRule {
    fn default() -> Self {
        Self {
            enabled: false,
            min_score: 100.0,
        }
    }
}

impl Rules {
    /// Parses and checks a rules file.
    pub fn from_toml(text: &str) -> Result<Self, RulesError> {
        let rules: Rules = toml::from_str(text)?;
        rules.validate()?;
        Ok(rules)
    }

    /// The default rules file, with every line explained.
    pub fn default_toml() -> &'static str {
        include_str!("../../rules.default.toml")
    }

    fn validate(&self) -> Result<(), RulesError> {
        let invalid = |m: &str| Err(RulesError::Invalid(m.into()));
        if self.version != RULES_VERSION {
            return Err(RulesError::Invalid(format!(
                "version {} is not supported (expected {RULES_VERSION})",
                self.version
            )));
        }
        if self.top_n.promotion_freeze_months > 120 {
            return invalid("top_n.promotion_freeze_months must be at most 120");
        }
        if !(self.deduction.points.is_finite() && (0.0..=100.0).contains(&self.deduction.points)) {
            return invalid("deduction.points must be between 0 and 100");
        }
        if self.removal.top == 0 {
            return invalid("removal.top must be at least 1");
        }
        if !self.threshold.min_score.is_finite() || self.threshold.min_score < 0.0 {
            return invalid("threshold.min_score must be a number of at least 0");
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_documented_default_file_parses_to_the_default_rules() {
        assert_eq!(
            Rules::from_toml(Rules::default_toml()).unwrap(),
            Rules::default()
        );
    }

    #[test]
    fn every_line_of_the_default_file_that_sets_a_key_is_explained_by_a_comment_above() {
        let lines: Vec<&str> = Rules::default_toml().lines().collect();
        for (i, line) in lines.iter().enumerate() {
            if line.contains(" = ") {
                assert!(
                    lines[..i]
                        .iter()
                        .rev()
                        .take_while(|l| !l.is_empty() && !l.starts_with('['))
                        .any(|l| l.starts_with('#')),
                    "undocumented: {line}"
                );
            }
        }
    }

    #[test]
    fn the_defaults_are_nanchuans_ladder() {
        let r = Rules::default();
        assert!(r.publication.circulate && r.publication.publish_top_n);
        assert!(r.top_n.reminder_talk && r.top_n.interview);
        assert_eq!(
            (r.top_n.interview_after_consecutive, r.top_n.interview_top),
            (2, 3)
        );
        assert_eq!(r.top_n.promotion_freeze_months, 3);
        assert_eq!(
            (r.removal.top, r.removal.head_after, r.removal.leader_after),
            (3, 2, 3)
        );
        assert_eq!(r.deduction.points, 0.0, "the article names no figure");
        assert!(r.deduction.bonus_review);
        assert!(!r.threshold.enabled);
    }

    #[test]
    fn a_rules_file_written_before_the_interview_conditions_still_reads() {
        let old = "[top_n]\nreminder_talk = true\ninterview = true\npromotion_freeze_months = 3\n\n[deduction]\npoints = 2.0\n";
        let r = Rules::from_toml(old).unwrap();
        assert!(r.top_n.interview);
        assert_eq!(r.top_n.interview_after_consecutive, 2);
        assert_eq!(r.deduction.points, 2.0);
    }

    #[test]
    fn an_empty_file_means_all_defaults_and_the_rules_round_trip_through_json() {
        let r = Rules::from_toml("").unwrap();
        assert_eq!(r, Rules::default());
        let json = serde_json::to_string(&r).unwrap();
        assert!(json.contains("\"version\":1"), "{json}");
        assert_eq!(serde_json::from_str::<Rules>(&json).unwrap(), r);
    }

    #[test]
    fn unknown_keys_and_bad_values_are_explained() {
        let err = Rules::from_toml("[removal]\nhead = 2")
            .unwrap_err()
            .to_string();
        assert!(err.contains("head"), "{err}");
        let err = Rules::from_toml("[deduction]\npoints = -1.0")
            .unwrap_err()
            .to_string();
        assert!(err.contains("deduction.points"), "{err}");
        let err = Rules::from_toml("version = 9").unwrap_err().to_string();
        assert!(err.contains("version 9"), "{err}");
    }
}

//! Indicators (指标): the five default ones are 冷 懒 推 乱 贪, each with a concrete
//! description printed on the form so people can "对号入座". The set is configurable per
//! deployment and copied into every round, so a later change never rewrites history.

use serde::{Deserialize, Serialize};

/// The most indicators a set may hold; a nomination's ticks fit in a [`IndicatorMask`].
pub const MAX_INDICATORS: usize = 16;

/// One indicator, with its names and description in both languages.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Indicator {
    /// Stable machine code, e.g. `cold`; used in the API and the open data.
    pub code: String,
    /// Short Chinese name, e.g. 冷.
    pub name_zh: String,
    /// Short English name, e.g. Cold.
    pub name_en: String,
    /// What the indicator means concretely, in Chinese.
    pub description_zh: String,
    /// What the indicator means concretely, in English.
    pub description_en: String,
}

/// An ordered, non-empty set of indicators with unique codes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct IndicatorSet(Vec<Indicator>);

/// Why a list of indicators is not a valid set.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum IndicatorSetError {
    #[error("an indicator set needs at least one indicator")]
    Empty,
    #[error("an indicator set holds at most {MAX_INDICATORS} indicators")]
    TooMany,
    #[error("indicator code `{0}` appears twice")]
    DuplicateCode(String),
    #[error("indicator code `{0}` must be lower-case ASCII letters, digits or `_`")]
    BadCode(String),
}

impl IndicatorSet {
    /// Checks that codes are unique, well-formed, and that there are 1..=16 of them.
    pub fn new(indicators: Vec<Indicator>) -> Result<Self, IndicatorSetError> {
        if indicators.is_empty() {
            return Err(IndicatorSetError::Empty);
        }
        if indicators.len() > MAX_INDICATORS {
            return Err(IndicatorSetError::TooMany);
        }
        for (i, ind) in indicators.iter().enumerate() {
            let well_formed = !ind.code.is_empty()
                && ind
                    .code
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
            if !well_formed {
                return Err(IndicatorSetError::BadCode(ind.code.clone()));
            }
            if indicators[..i].iter().any(|o| o.code == ind.code) {
                return Err(IndicatorSetError::DuplicateCode(ind.code.clone()));
            }
        }
        Ok(Self(indicators))
    }

    /// The five default indicators 冷 懒 推 乱 贪.
    pub fn default_five() -> Self {
        let ind = |code: &str, zh: &str, en: &str, dzh: &str, den: &str| Indicator {
            code: code.into(),
            name_zh: zh.into(),
            name_en: en.into(),
            description_zh: dzh.into(),
            description_en: den.into(),
        };
        Self(vec![
            ind(
                "cold",
                "冷",
                "Cold",
                "对群众感情冷漠，不能站在群众的立场想问题办事情，无视群众疾苦，不想群众所想、急群众所急。",
                "Indifferent to people: does not see things from their side, ignores their hardship, does not care about what they need or how urgent it is.",
            ),
            ind(
                "lazy",
                "懒",
                "Lazy",
                "办事拖拉、效率低下，能办的不及时办，上班迟到早退、空岗脱岗，工作不在状态。",
                "Slow and idle: drags its feet, does not do promptly what it could do, absent from the desk, not in working shape.",
            ),
            ind(
                "shirking",
                "推",
                "Shirking",
                "推诿扯皮、敷衍塞责，该办的不办，把群众推来推去，让群众来回跑。",
                "Passes the buck: stalls and evades, does not do its job, sends people from one office to another and makes them come back again and again.",
            ),
            ind(
                "arbitrary",
                "乱",
                "Arbitrary",
                "乱收费、乱设门槛、乱定程序，办事标准不公开、不统一，工作秩序混乱。",
                "Arbitrary: unlawful fees, invented hurdles and procedures, unpublished or inconsistent standards, disorder at work.",
            ),
            ind(
                "greedy",
                "贪",
                "Greedy",
                "吃拿卡要，索取或收受财物、宴请，借办事之机谋取私利，故意刁难以换取好处。",
                "Asks for meals, gifts or bribes (吃拿卡要), uses its service for private gain, obstructs people to extract favours.",
            ),
        ])
    }

    /// The indicators in their printed order.
    pub fn iter(&self) -> std::slice::Iter<'_, Indicator> {
        self.0.iter()
    }

    /// How many indicators the set holds.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Always false: a set holds at least one indicator.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The position of the indicator with this code.
    pub fn position(&self, code: &str) -> Option<usize> {
        self.0.iter().position(|i| i.code == code)
    }

    /// The indicator at this position.
    pub fn get(&self, index: usize) -> Option<&Indicator> {
        self.0.get(index)
    }

    /// The codes ticked in a mask, in the set's order.
    pub fn codes(&self, mask: IndicatorMask) -> Vec<&str> {
        self.0
            .iter()
            .enumerate()
            .filter(|(i, _)| mask.contains(*i))
            .map(|(_, ind)| ind.code.as_str())
            .collect()
    }
}

impl<'de> Deserialize<'de> for IndicatorSet {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let list = Vec::<Indicator>::deserialize(d)?;
        IndicatorSet::new(list).map_err(serde::de::Error::custom)
    }
}

/// The indicators ticked for one nomination, as bits by position in the round's set.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(transparent)]
pub struct IndicatorMask(pub u16);

impl IndicatorMask {
    /// A mask with the indicator at `index` ticked as well.
    pub fn with(self, index: usize) -> Self {
        Self(self.0 | (1 << index))
    }

    /// Whether the indicator at `index` is ticked.
    pub fn contains(self, index: usize) -> bool {
        index < MAX_INDICATORS && self.0 & (1 << index) != 0
    }

    /// How many indicators are ticked.
    pub fn count(self) -> u32 {
        self.0.count_ones()
    }

    /// Whether nothing is ticked.
    pub fn is_empty(self) -> bool {
        self.0 == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_set_is_cold_lazy_shirking_arbitrary_greedy() {
        let set = IndicatorSet::default_five();
        let codes: Vec<_> = set.iter().map(|i| i.code.as_str()).collect();
        assert_eq!(codes, ["cold", "lazy", "shirking", "arbitrary", "greedy"]);
        let names: String = set.iter().map(|i| i.name_zh.as_str()).collect();
        assert_eq!(names, "冷懒推乱贪");
    }

    #[test]
    fn a_set_with_a_repeated_code_is_refused() {
        let mut list: Vec<_> = IndicatorSet::default_five().iter().cloned().collect();
        list.push(list[0].clone());
        assert_eq!(
            IndicatorSet::new(list),
            Err(IndicatorSetError::DuplicateCode("cold".into()))
        );
    }

    #[test]
    fn a_mask_lists_codes_in_printed_order() {
        let set = IndicatorSet::default_five();
        let mask = IndicatorMask::default().with(4).with(0);
        assert_eq!(set.codes(mask), ["cold", "greedy"]);
        assert_eq!(mask.count(), 2);
    }
}

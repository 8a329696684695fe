//! Deployment settings: a documented TOML file in the data folder whose defaults need no
//! editing, and the per-round snapshot of the parts that shape a ballot and a ranking.

use crate::{Channel, IndicatorSet};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The whole deployment's settings, read from `minping.toml`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Settings {
    /// Shown in page titles, e.g. 南川区.
    pub district: String,
    /// The site's public address, printed on forms and in their QR codes.
    pub public_url: String,
    /// IANA time zone in which dates (a ballot's day, a round's dates) are counted.
    pub time_zone: String,
    /// What an evaluated entity is called, 科室 by default.
    pub unit_kind: String,
    /// What a ballot may hold.
    pub ballot: BallotSettings,
    /// How rounds are ranked.
    pub ranking: RankingSettings,
    /// The directed panel.
    pub panel: PanelSettings,
    /// The indicators new rounds use.
    pub indicators: IndicatorSet,
    /// Reverse proxies whose `X-Forwarded-For` is believed: when a request comes from one
    /// of these blocks, the client is the rightmost address in the header that is not
    /// itself a trusted proxy. Empty: the peer is the client.
    pub trusted_proxies: Vec<ipnet::IpNet>,
    /// How much room reports' evidence files may take.
    pub evidence: EvidenceSettings,
}

/// Limits on reports' evidence files (kept in the data folder's `evidence/`), so that no
/// one can fill the disk that ballots are written to.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct EvidenceSettings {
    /// The most all evidence files may take together, in MiB.
    pub max_total_mib: u64,
    /// The free space the data folder's disk always keeps (for ballots, the database and
    /// its log), in MiB: evidence that would leave less is refused.
    pub free_space_floor_mib: u64,
    /// The most evidence one client address may send in an hour, in MiB.
    pub per_client_mib_per_hour: u64,
}

impl Default for EvidenceSettings {
    fn default() -> Self {
        Self {
            max_total_mib: 10 * 1024,
            free_space_floor_mib: 2 * 1024,
            per_client_mib_per_hour: 60,
        }
    }
}

/// The directed panel's groups (strata) and draw defaults.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PanelSettings {
    /// How many members a round draws.
    pub sample_size: usize,
    /// Members drawn in any of this many previous rounds are not drawn again.
    pub exclude_recent_rounds: usize,
    /// The groups members belong to; a draw is stratified by them.
    pub groups: Vec<PanelGroup>,
}

/// One group (stratum) of the panel.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PanelGroup {
    /// Stable code, e.g. `enterprise`.
    pub code: String,
    /// Chinese name, e.g. 企业和市场主体.
    pub name_zh: String,
    /// English name.
    pub name_en: String,
}

impl Default for PanelSettings {
    fn default() -> Self {
        let group = |code: &str, zh: &str, en: &str| PanelGroup {
            code: code.into(),
            name_zh: zh.into(),
            name_en: en.into(),
        };
        Self {
            sample_size: 1000,
            exclude_recent_rounds: 2,
            groups: vec![
                group(
                    "enterprise",
                    "企业和市场主体",
                    "Enterprises and market entities",
                ),
                group("individual", "办事群众", "Individual service users"),
                group(
                    "deputy",
                    "人大代表和政协委员",
                    "People's congress deputies and CPPCC members",
                ),
                group(
                    "community",
                    "社区和村代表",
                    "Community and village representatives",
                ),
            ],
        }
    }
}

impl PanelSettings {
    /// The group code for a code or a name in either language.
    pub fn group_code(&self, text: &str) -> Option<String> {
        let t = text.trim();
        self.groups
            .iter()
            .find(|g| g.code == t || g.name_zh == t || g.name_en.eq_ignore_ascii_case(t))
            .map(|g| g.code.clone())
    }

    /// A group's name in Chinese (or its code if unknown).
    pub fn group_name_zh(&self, code: &str) -> String {
        self.groups
            .iter()
            .find(|g| g.code == code)
            .map_or_else(|| code.to_string(), |g| g.name_zh.clone())
    }
}

/// Limits of one ballot.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct BallotSettings {
    /// K: how many units a ballot may name.
    pub max_nominations: usize,
    /// The longest comment, in characters.
    pub comment_max_chars: usize,
}

/// Parameters of the default ranking method.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RankingSettings {
    /// N: how many units make the published list of 最难办事科室.
    pub top_n: u32,
    /// What one nomination counts for, per channel.
    pub channel_weights: BTreeMap<Channel, f64>,
}

/// Why a settings file is not usable.
#[derive(Debug, thiserror::Error)]
pub enum SettingsError {
    /// The TOML does not parse or has an unknown key.
    #[error("{0}")]
    Toml(#[from] toml::de::Error),
    /// A value parses but makes no sense.
    #[error("{0}")]
    Invalid(String),
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            district: "南川区".into(),
            public_url: "http://127.0.0.1:8080".into(),
            time_zone: "Asia/Shanghai".into(),
            unit_kind: "科室".into(),
            ballot: BallotSettings::default(),
            ranking: RankingSettings::default(),
            panel: PanelSettings::default(),
            indicators: IndicatorSet::default_five(),
            trusted_proxies: Vec::new(),
            evidence: EvidenceSettings::default(),
        }
    }
}

impl Default for BallotSettings {
    fn default() -> Self {
        Self {
            max_nominations: 10,
            comment_max_chars: 500,
        }
    }
}

impl Default for RankingSettings {
    fn default() -> Self {
        Self {
            top_n: 10,
            // See the settings file's explanation (DEFAULT_HEADER): an open-channel form is
            // self-selected and cannot be tied to one person, a panel form can.
            channel_weights: BTreeMap::from([(Channel::Directed, 1.0), (Channel::Open, 0.5)]),
        }
    }
}

impl Settings {
    /// Parses and checks a settings file.
    pub fn from_toml(text: &str) -> Result<Self, SettingsError> {
        let settings: Settings = toml::from_str(text)?;
        settings.validate()?;
        Ok(settings)
    }

    fn validate(&self) -> Result<(), SettingsError> {
        let invalid = |m: String| Err(SettingsError::Invalid(m));
        if self.time_zone.parse::<chrono_tz::Tz>().is_err() {
            return invalid(format!(
                "time_zone `{}` is not an IANA time zone",
                self.time_zone
            ));
        }
        if !(self.public_url.starts_with("http://") || self.public_url.starts_with("https://")) {
            return invalid("public_url must start with http:// or https://".into());
        }
        if !(1..=100).contains(&self.ballot.max_nominations) {
            return invalid("ballot.max_nominations must be between 1 and 100".into());
        }
        if !(1..=10_000).contains(&self.ballot.comment_max_chars) {
            return invalid("ballot.comment_max_chars must be between 1 and 10000".into());
        }
        if self.panel.groups.is_empty() {
            return invalid("panel.groups needs at least one group".into());
        }
        if self.ranking.top_n == 0 {
            return invalid("ranking.top_n must be at least 1".into());
        }
        for (channel, w) in &self.ranking.channel_weights {
            if !(w.is_finite() && (0.0..=1000.0).contains(w)) {
                return invalid(format!(
                    "ranking.channel_weights.{channel} must be between 0 and 1000"
                ));
            }
        }
        Ok(())
    }

    /// The deployment's time zone (validated on load).
    pub fn tz(&self) -> chrono_tz::Tz {
        self.time_zone.parse().unwrap_or(chrono_tz::Asia::Shanghai)
    }

    /// The parts a new round copies, so later edits never change a past round.
    pub fn round_settings(&self) -> RoundSettings {
        RoundSettings {
            indicators: self.indicators.clone(),
            max_nominations: self.ballot.max_nominations,
            comment_max_chars: self.ballot.comment_max_chars,
            top_n: self.ranking.top_n,
            channel_weights: self.ranking.channel_weights.clone(),
        }
    }

    /// The default settings file, with every line explained.
    pub fn default_toml() -> String {
        let mut out = String::from(DEFAULT_HEADER);
        for ind in IndicatorSet::default_five().iter() {
            out.push_str(&format!(
                "\n[[indicators]]\ncode = {:?}\nname_zh = {:?}\nname_en = {:?}\ndescription_zh = {:?}\ndescription_en = {:?}\n",
                ind.code, ind.name_zh, ind.name_en, ind.description_zh, ind.description_en
            ));
        }
        out
    }
}

const DEFAULT_HEADER: &str = r#"# minping deployment settings. Every key is optional: a missing key takes the default
# shown here. Changes apply to rounds created afterwards; each round keeps a copy of the
# indicators, limits and weights it was created with.

# Name of the district (or city, province) shown on public pages.
district = "南川区"
# The site's public address, printed on paper forms and in their QR codes.
public_url = "http://127.0.0.1:8080"
# IANA time zone in which dates are counted (a ballot's day, a round's dates).
time_zone = "Asia/Shanghai"
# What an evaluated entity is called.
unit_kind = "科室"
# Reverse proxies whose X-Forwarded-For header is believed, as exact addresses (CIDR /32 or
# /128), e.g. ["127.0.0.1/32"]. The client is then the rightmost address in the header that
# is not a trusted proxy; rate limits and stuffing detection count clients by it. Do not
# trust a whole network that clients also sit in: a client inside it could name itself.
# Empty: the connecting address is the client. Also `--trusted-proxy` on serve and demo.
trusted_proxies = []

[ballot]
# K: the most units one ballot may name as hardest to deal with.
max_nominations = 10
# The longest comment per named unit, in characters.
comment_max_chars = 500

[ranking]
# N: how many units are published as the round's 最难办事科室.
top_n = 10

[ranking.channel_weights]
# What one nomination counts for, per channel: `directed` is the mailed panel (定向),
# `open` the form in the newspaper or on the website (抽样).
# A panel form comes from one member drawn at random from the registry, with a code that
# counts once; an open form is self-selected, and nothing ties it to one person (the
# stuffing scan holds what it can see, not everything). So by default an open form counts
# half as much: the drawn panel keeps the ranking representative, while the open channel,
# which the article's district keeps (南川日报, 阳光重庆网), still moves it. Published
# results show each unit's nominations per channel, so anyone can recompute with 1.0.
directed = 1.0
open = 0.5

[evidence]
# Reports' evidence files are kept in the data folder's `evidence/` (not in the database).
# The most they may take together, in MiB.
max_total_mib = 10240
# Free space the data folder's disk always keeps for ballots and the database, in MiB:
# evidence that would leave less is refused (the report can still be sent without it).
free_space_floor_mib = 2048
# The most evidence one client address may send in an hour, in MiB.
per_client_mib_per_hour = 60

[panel]
# How many members of the directed panel (定向评议名单库) each round draws.
sample_size = 1000
# Members drawn in any of this many previous rounds are not drawn again.
exclude_recent_rounds = 2

# The panel's groups (strata); the draw allocates places to them in proportion to size.
# `code` is stable; a member's group may be imported by code or by either name.
[[panel.groups]]
code = "enterprise"
name_zh = "企业和市场主体"
name_en = "Enterprises and market entities"

[[panel.groups]]
code = "individual"
name_zh = "办事群众"
name_en = "Individual service users"

[[panel.groups]]
code = "deputy"
name_zh = "人大代表和政协委员"
name_en = "People's congress deputies and CPPCC members"

[[panel.groups]]
code = "community"
name_zh = "社区和村代表"
name_en = "Community and village representatives"

# The indicators (指标), in printed order. `code` is stable and used in the API and the
# open data; names and descriptions are printed on the form so people can 对号入座.
"#;

/// What a round copies from the settings when it is created.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RoundSettings {
    /// The indicators printed on this round's form.
    pub indicators: IndicatorSet,
    /// K.
    pub max_nominations: usize,
    /// Longest comment in characters.
    pub comment_max_chars: usize,
    /// N.
    pub top_n: u32,
    /// Weight of a nomination per channel.
    pub channel_weights: BTreeMap<Channel, f64>,
}

impl Default for RoundSettings {
    fn default() -> Self {
        Settings::default().round_settings()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_documented_default_file_parses_to_the_defaults() {
        let parsed = Settings::from_toml(&Settings::default_toml()).unwrap();
        assert_eq!(parsed, Settings::default());
    }

    #[test]
    fn an_empty_file_means_all_defaults() {
        assert_eq!(Settings::from_toml("").unwrap(), Settings::default());
    }

    #[test]
    fn unknown_keys_and_bad_values_are_explained() {
        let err = Settings::from_toml("top_n = 3").unwrap_err().to_string();
        assert!(err.contains("top_n"), "{err}");
        let err = Settings::from_toml("time_zone = \"Mars/Base\"")
            .unwrap_err()
            .to_string();
        assert!(err.contains("Mars/Base"), "{err}");
        let err = Settings::from_toml("[ballot]\nmax_nominations = 0")
            .unwrap_err()
            .to_string();
        assert!(err.contains("max_nominations"), "{err}");
    }
}

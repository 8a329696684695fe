//! The ranking method. A pure function from a round's tallies and the method's
//! parameters to a ranking, so that anyone holding the open data can recompute it.
//!
//! Default method, `weighted_nominations`:
//! 1. A unit's **score** is the sum over its nominations of the weight of the ballot's
//!    channel (default 1 each, so the score is the number of ballots naming it).
//! 2. Every unit with a report substantiated for the round takes **rank 1**, whatever the
//!    votes ("直接评为第一名"); several such units all share rank 1. Among themselves they are
//!    listed by number of substantiated reports, then as below, only so the page is stable.
//! 3. The other units follow, by score, highest first, with standard competition ranking
//!    after the units at rank 1 (two units at rank 1: the next is rank 3). Ties are broken,
//!    in order, by
//!    (a) more nominations ticking the most serious indicator (贪 greedy by default),
//!    (b) more nominations in all (each is a distinct respondent: a ballot names a unit once),
//!    (c) more indicator ticks in all.
//! 4. Units still equal on all of these **share a rank** (standard competition ranking:
//!    1, 2, 2, 4); they are listed by unit id only so the order on the page is stable.
//! 5. The top N are the units whose rank is N or better. A tie across the boundary is not
//!    broken by chance: every tied unit is in, so the list may hold more than N.
//!
//! Units nobody named (and with no substantiated report) are not ranked.

use crate::{Channel, UnitId};
use serde::{Deserialize, Serialize};
use std::{cmp::Ordering, collections::BTreeMap};

/// The parameters of a ranking, stored with the finalized round.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Method {
    /// The method's name; `weighted_nominations` is the only one so far.
    pub name: String,
    /// Weight of a nomination per channel; a channel not listed weighs 1.
    pub channel_weights: BTreeMap<Channel, f64>,
    /// N: size of the published list.
    pub top_n: u32,
    /// Indicator codes in the round's order, naming the positions of the tallies' counts.
    pub indicators: Vec<String>,
    /// The indicator whose count breaks ties first (贪 greedy by default).
    pub tie_break_indicator: Option<String>,
    /// The tie-break rules in order, in words, so the stored method documents itself.
    pub tie_breaks: Vec<String>,
}

impl Method {
    /// The default method for a round's settings.
    pub fn weighted_nominations(settings: &crate::settings::RoundSettings) -> Self {
        let indicators: Vec<String> = settings.indicators.iter().map(|i| i.code.clone()).collect();
        let tie_break_indicator = indicators.iter().find(|c| *c == "greedy").cloned();
        Self {
            name: "weighted_nominations".into(),
            channel_weights: settings.channel_weights.clone(),
            top_n: settings.top_n,
            indicators,
            tie_break_indicator,
            tie_breaks: vec![
                "substantiated_report_shares_rank_1".into(),
                "score_desc".into(),
                "tie_break_indicator_desc".into(),
                "nominations_desc".into(),
                "indicator_ticks_desc".into(),
                "shared_rank".into(),
            ],
        }
    }

    /// The weight of one nomination from a channel, in thousandths, so sums are exact.
    fn weight_milli(&self, channel: Channel) -> i64 {
        let w = self.channel_weights.get(&channel).copied().unwrap_or(1.0);
        (w * 1000.0).round() as i64
    }
}

/// What a round's ballots add up to for one unit.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tally {
    /// The unit.
    pub unit_id: UnitId,
    /// Nominations of the unit, per channel.
    pub nominations: BTreeMap<Channel, u64>,
    /// Nominations ticking each indicator, by position in the round's set.
    pub indicator_counts: Vec<u64>,
}

/// The tallies of `a` and `b` together, by unit, in unit order.
pub fn merge_tallies(a: &[Tally], b: &[Tally]) -> Vec<Tally> {
    let mut by: BTreeMap<UnitId, Tally> = BTreeMap::new();
    for t in a.iter().chain(b) {
        by.entry(t.unit_id)
            .or_insert_with(|| Tally::new(t.unit_id, t.indicator_counts.len()))
            .add_tally(t);
    }
    by.into_values().collect()
}

impl Tally {
    /// An empty tally for a unit.
    pub fn new(unit_id: UnitId, indicators: usize) -> Self {
        Self {
            unit_id,
            nominations: BTreeMap::new(),
            indicator_counts: vec![0; indicators],
        }
    }

    /// Adds another tally of the same unit to this one.
    pub fn add_tally(&mut self, other: &Tally) {
        for (channel, n) in &other.nominations {
            *self.nominations.entry(*channel).or_default() += n;
        }
        for (i, n) in other.indicator_counts.iter().enumerate() {
            if let Some(c) = self.indicator_counts.get_mut(i) {
                *c += n;
            }
        }
    }

    /// Takes another tally of the same unit (a part of this one) away from it.
    pub fn subtract(&mut self, other: &Tally) {
        for (channel, n) in &other.nominations {
            if let Some(c) = self.nominations.get_mut(channel) {
                *c = c.saturating_sub(*n);
            }
        }
        self.nominations.retain(|_, n| *n > 0);
        for (i, n) in other.indicator_counts.iter().enumerate() {
            if let Some(c) = self.indicator_counts.get_mut(i) {
                *c = c.saturating_sub(*n);
            }
        }
    }

    /// Adds one nomination.
    pub fn add(&mut self, channel: Channel, indicators: crate::IndicatorMask) {
        *self.nominations.entry(channel).or_default() += 1;
        for (i, count) in self.indicator_counts.iter_mut().enumerate() {
            if indicators.contains(i) {
                *count += 1;
            }
        }
    }

    /// Nominations over every channel.
    pub fn total_nominations(&self) -> u64 {
        self.nominations.values().sum()
    }
}

/// Adds up ballots into one tally per named unit.
pub fn tally<'a>(
    nominations: impl IntoIterator<Item = (Channel, &'a crate::Nomination)>,
    indicators: usize,
) -> Vec<Tally> {
    let mut by_unit: BTreeMap<UnitId, Tally> = BTreeMap::new();
    for (channel, n) in nominations {
        by_unit
            .entry(n.unit_id)
            .or_insert_with(|| Tally::new(n.unit_id, indicators))
            .add(channel, n.indicators);
    }
    by_unit.into_values().collect()
}

/// Why a unit's rank was set by a rule rather than by the votes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Override {
    /// A report against the unit was substantiated for the round (查实举报).
    SubstantiatedReport,
}

/// One line of a ranking.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RankedUnit {
    /// 1 is the hardest unit to deal with; tied units share a rank.
    pub rank: u32,
    /// The unit.
    pub unit_id: UnitId,
    /// Weighted nominations, in thousandths (exact).
    pub score_milli: i64,
    /// Nominations over every channel.
    pub nominations: u64,
    /// Nominations per channel, so anyone can recompute the score with other weights
    /// (empty in rankings frozen before it was recorded).
    #[serde(default)]
    pub by_channel: BTreeMap<Channel, u64>,
    /// Nominations ticking each indicator, by position in the round's set.
    pub indicator_counts: Vec<u64>,
    /// Substantiated reports counted for the round.
    pub substantiated_reports: u32,
    /// Set when a rule, not the votes, placed the unit.
    pub r#override: Option<Override>,
}

impl RankedUnit {
    /// The score as a number, e.g. 12.5.
    pub fn score(&self) -> f64 {
        self.score_milli as f64 / 1000.0
    }
}

/// A round's ranking: every named unit, best-to-worst first.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Ranking {
    /// The lines, in rank order.
    pub entries: Vec<RankedUnit>,
    /// N, as used.
    pub top_n: u32,
}

impl Ranking {
    /// The published list: every unit ranked N or better.
    pub fn top(&self) -> impl Iterator<Item = &RankedUnit> {
        self.entries.iter().filter(move |e| e.rank <= self.top_n)
    }
}

/// Ranks a round. `substantiated` counts the substantiated reports per unit for the round.
pub fn rank(tallies: &[Tally], method: &Method, substantiated: &BTreeMap<UnitId, u32>) -> Ranking {
    let tie_ind = method
        .tie_break_indicator
        .as_ref()
        .and_then(|code| method.indicators.iter().position(|c| c == code));
    let mut entries: Vec<RankedUnit> = tallies
        .iter()
        .map(|t| {
            let score_milli = t
                .nominations
                .iter()
                .map(|(c, n)| method.weight_milli(*c) * *n as i64)
                .sum();
            let reports = substantiated.get(&t.unit_id).copied().unwrap_or(0);
            RankedUnit {
                rank: 0,
                unit_id: t.unit_id,
                score_milli,
                nominations: t.total_nominations(),
                by_channel: t.nominations.clone(),
                indicator_counts: t.indicator_counts.clone(),
                substantiated_reports: reports,
                r#override: (reports > 0).then_some(Override::SubstantiatedReport),
            }
        })
        .collect();
    for (&unit_id, &reports) in substantiated {
        if reports > 0 && !entries.iter().any(|e| e.unit_id == unit_id) {
            entries.push(RankedUnit {
                rank: 0,
                unit_id,
                score_milli: 0,
                nominations: 0,
                by_channel: BTreeMap::new(),
                indicator_counts: vec![0; method.indicators.len()],
                substantiated_reports: reports,
                r#override: Some(Override::SubstantiatedReport),
            });
        }
    }
    entries.retain(|e| e.nominations > 0 || e.substantiated_reports > 0);

    let votes = |a: &RankedUnit, b: &RankedUnit| -> Ordering {
        let tie =
            |e: &RankedUnit| tie_ind.map_or(0, |i| e.indicator_counts.get(i).copied().unwrap_or(0));
        let ticks = |e: &RankedUnit| e.indicator_counts.iter().sum::<u64>();
        b.score_milli
            .cmp(&a.score_milli)
            .then(tie(b).cmp(&tie(a)))
            .then(b.nominations.cmp(&a.nominations))
            .then(ticks(b).cmp(&ticks(a)))
    };
    // What decides the rank: a substantiated report first (all such units share rank 1),
    // then the votes.
    let rank_cmp = |a: &RankedUnit, b: &RankedUnit| -> Ordering {
        let (ra, rb) = (a.substantiated_reports > 0, b.substantiated_reports > 0);
        rb.cmp(&ra)
            .then_with(|| if ra { Ordering::Equal } else { votes(a, b) })
    };
    entries.sort_by(|a, b| {
        rank_cmp(a, b)
            .then(b.substantiated_reports.cmp(&a.substantiated_reports))
            .then(votes(a, b))
            .then(a.unit_id.cmp(&b.unit_id))
    });
    for i in 0..entries.len() {
        entries[i].rank = if i > 0 && rank_cmp(&entries[i - 1], &entries[i]) == Ordering::Equal {
            entries[i - 1].rank
        } else {
            i as u32 + 1
        };
    }
    Ranking {
        entries,
        top_n: method.top_n,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{IndicatorMask, Nomination, settings::RoundSettings};
    use proptest::prelude::*;

    const GREEDY: usize = 4;

    fn method() -> Method {
        Method::weighted_nominations(&RoundSettings::default())
    }

    fn nom(unit: i64, inds: &[usize]) -> Nomination {
        Nomination {
            unit_id: UnitId(unit),
            indicators: inds
                .iter()
                .fold(IndicatorMask::default(), |m, i| m.with(*i)),
            comment: None,
        }
    }

    fn ranked(noms: &[(Channel, Nomination)], m: &Method) -> Ranking {
        let tallies = tally(noms.iter().map(|(c, n)| (*c, n)), 5);
        rank(&tallies, m, &BTreeMap::new())
    }

    fn ranks(r: &Ranking) -> Vec<(i64, u32)> {
        r.entries.iter().map(|e| (e.unit_id.0, e.rank)).collect()
    }

    #[test]
    fn more_nominations_rank_higher() {
        let o = Channel::Open;
        let r = ranked(
            &[(o, nom(1, &[0])), (o, nom(2, &[0])), (o, nom(2, &[1]))],
            &method(),
        );
        assert_eq!(ranks(&r), [(2, 1), (1, 2)]);
        // Two open-channel nominations at the default weight of one half each.
        assert_eq!(r.entries[0].score(), 1.0);
    }

    #[test]
    fn a_tie_in_score_goes_to_the_unit_ticked_greedy_more_often() {
        let o = Channel::Open;
        let r = ranked(
            &[(o, nom(1, &[0, 1, 2])), (o, nom(2, &[GREEDY]))],
            &method(),
        );
        assert_eq!(ranks(&r), [(2, 1), (1, 2)]);
    }

    #[test]
    fn then_to_more_indicator_ticks_and_otherwise_ranks_are_shared() {
        let o = Channel::Open;
        let r = ranked(
            &[
                (o, nom(1, &[0])),
                (o, nom(2, &[0, 1])),
                (o, nom(3, &[1])),
                (o, nom(4, &[3])),
            ],
            &method(),
        );
        assert_eq!(ranks(&r), [(2, 1), (1, 2), (3, 2), (4, 2)]);
    }

    #[test]
    fn channel_weights_change_the_score() {
        let mut m = method();
        m.channel_weights.insert(Channel::Directed, 2.0);
        m.channel_weights.insert(Channel::Open, 0.5);
        let r = ranked(
            &[
                (Channel::Open, nom(1, &[0])),
                (Channel::Open, nom(1, &[0])),
                (Channel::Open, nom(1, &[0])),
                (Channel::Directed, nom(2, &[0])),
            ],
            &m,
        );
        assert_eq!(ranks(&r), [(2, 1), (1, 2)]);
        assert_eq!(r.entries[0].score(), 2.0);
        assert_eq!(r.entries[1].score(), 1.5);
    }

    #[test]
    fn a_substantiated_report_puts_a_unit_first_whatever_the_votes() {
        let o = Channel::Open;
        let noms = [(o, nom(1, &[0])), (o, nom(1, &[0])), (o, nom(2, &[0]))];
        let tallies = tally(noms.iter().map(|(c, n)| (*c, n)), 5);
        let reports = BTreeMap::from([(UnitId(2), 1)]);
        let r = rank(&tallies, &method(), &reports);
        assert_eq!(ranks(&r), [(2, 1), (1, 2)]);
        assert_eq!(r.entries[0].r#override, Some(Override::SubstantiatedReport));
        assert_eq!(r.entries[1].r#override, None);
    }

    #[test]
    fn every_unit_with_a_substantiated_report_shares_rank_1_and_the_rest_follow_competition_ranking()
     {
        let o = Channel::Open;
        // Unit 1 has the most votes; units 2 and 9 have substantiated reports (9 has two and
        // nobody named it).
        let noms = [
            (o, nom(1, &[0])),
            (o, nom(1, &[0])),
            (o, nom(1, &[0])),
            (o, nom(2, &[0])),
            (o, nom(3, &[0])),
            (o, nom(3, &[0])),
        ];
        let tallies = tally(noms.iter().map(|(c, n)| (*c, n)), 5);
        let reports = BTreeMap::from([(UnitId(2), 1), (UnitId(9), 2)]);
        let r = rank(&tallies, &method(), &reports);
        assert_eq!(ranks(&r), [(9, 1), (2, 1), (1, 3), (3, 4)]);
        assert!(
            r.entries[..2]
                .iter()
                .all(|e| e.r#override == Some(Override::SubstantiatedReport))
        );
        assert!(r.entries[2..].iter().all(|e| e.r#override.is_none()));
    }

    #[test]
    fn the_top_n_includes_everyone_tied_at_the_boundary() {
        let o = Channel::Open;
        let mut m = method();
        m.top_n = 2;
        let r = ranked(
            &[
                (o, nom(1, &[0])),
                (o, nom(1, &[0])),
                (o, nom(2, &[0])),
                (o, nom(3, &[0])),
            ],
            &m,
        );
        assert_eq!(r.top().count(), 3);
    }

    fn arb_nominations() -> impl Strategy<Value = Vec<(Channel, Nomination)>> {
        prop::collection::vec(
            (prop::bool::ANY, 1i64..15, 1u16..32).prop_map(|(directed, unit, mask)| {
                let channel = if directed {
                    Channel::Directed
                } else {
                    Channel::Open
                };
                let n = Nomination {
                    unit_id: UnitId(unit),
                    indicators: IndicatorMask(mask),
                    comment: None,
                };
                (channel, n)
            }),
            0..200,
        )
    }

    proptest! {
        #[test]
        fn ranking_is_deterministic_and_ignores_ballot_order(
            noms in arb_nominations(),
            seed in any::<u64>(),
            w in 0u32..3000,
        ) {
            let mut m = method();
            m.channel_weights.insert(Channel::Open, w as f64 / 1000.0);
            let a = ranked(&noms, &m);
            let mut shuffled = noms.clone();
            // A cheap deterministic shuffle driven by the seed.
            let len = shuffled.len();
            for i in (1..len).rev() {
                let j = (seed.wrapping_mul(6364136223846793005).wrapping_add(i as u64) % (i as u64 + 1)) as usize;
                shuffled.swap(i, j);
            }
            prop_assert_eq!(&a, &ranked(&shuffled, &m));
            prop_assert_eq!(&a, &ranked(&noms, &m));
        }

        #[test]
        fn ranks_are_competition_ranks_and_only_equal_keys_share(noms in arb_nominations()) {
            let r = ranked(&noms, &method());
            let named: std::collections::BTreeSet<_> = noms.iter().map(|(_, n)| n.unit_id).collect();
            prop_assert_eq!(r.entries.len(), named.len());
            for (i, e) in r.entries.iter().enumerate() {
                let better = r.entries.iter().filter(|o| o.rank < e.rank).count();
                prop_assert_eq!(e.rank as usize, better + 1);
                if i > 0 {
                    let p = &r.entries[i - 1];
                    prop_assert!(p.score_milli >= e.score_milli);
                    if p.rank == e.rank {
                        prop_assert_eq!(p.score_milli, e.score_milli);
                        prop_assert_eq!(p.nominations, e.nominations);
                        prop_assert_eq!(p.indicator_counts[GREEDY], e.indicator_counts[GREEDY]);
                        prop_assert!(p.unit_id < e.unit_id);
                    }
                }
            }
            let total: u64 = r.entries.iter().map(|e| e.nominations).sum();
            prop_assert_eq!(total as usize, noms.len());
        }

        #[test]
        fn substantiated_units_all_rank_1_and_the_others_keep_their_order_after_them(
            noms in arb_nominations(),
            reported in prop::collection::btree_set(1i64..20, 0..4),
        ) {
            let tallies = tally(noms.iter().map(|(c, n)| (*c, n)), 5);
            let reports: BTreeMap<UnitId, u32> = reported.iter().map(|&u| (UnitId(u), 1)).collect();
            let with = rank(&tallies, &method(), &reports);
            let without = rank(&tallies, &method(), &BTreeMap::new());
            let k = reports.len() as u32;
            for e in &with.entries {
                if reports.contains_key(&e.unit_id) {
                    prop_assert_eq!(e.rank, 1);
                } else {
                    // Its rank among the units without a report, moved down by the k at rank 1.
                    let others: Vec<&RankedUnit> = without
                        .entries
                        .iter()
                        .filter(|o| !reports.contains_key(&o.unit_id))
                        .collect();
                    let better = others
                        .iter()
                        .filter(|o| o.rank < without.entries.iter().find(|w| w.unit_id == e.unit_id).unwrap().rank)
                        .count() as u32;
                    prop_assert_eq!(e.rank, k + better + 1);
                }
            }
        }
    }
}

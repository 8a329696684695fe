//! The ballot model: each unit's latent difficulty, how it moves from quarter to quarter
//! (listed units rectify, some relapse, the rest drift), and the ballots respondents fill in
//! from it. Pure: no I/O, deterministic for a seeded generator.

use super::catalogue::{COMMENTS, UnitSpec};
use chrono::{Duration, NaiveDate};
use minping_domain::{
    Ballot, Channel, IndicatorMask, Method, Nomination, UnitId, ranking, settings::RoundSettings,
};
use minping_storage::FrozenRanking;
use rand::Rng;
use rand_chacha::ChaCha8Rng;
use std::collections::BTreeMap;

/// The model's indicators, in the default set's order.
pub(super) const MODEL_CODES: [&str; 5] = ["cold", "lazy", "shirking", "arbitrary", "greedy"];

/// One unit in the model: its latent difficulty (log scale) and how it moves.
pub(super) struct ModelUnit {
    pub(super) id: UnitId,
    pub(super) spec: &'static UnitSpec,
    /// Long-run log difficulty the unit drifts back towards.
    pub(super) base: f64,
    /// Current log difficulty.
    pub(super) ln_d: f64,
    /// Relative weights of the five model indicators.
    pub(super) profile: [f64; 5],
    pub(super) active: bool,
    /// Index of the last round it was in the top N.
    pub(super) last_top: Option<usize>,
    /// Never relapses nor meets a new problem (the article's units).
    pub(super) steady: bool,
}

pub(super) fn new_model_unit(
    rng: &mut ChaCha8Rng,
    id: UnitId,
    spec: &'static UnitSpec,
) -> ModelUnit {
    // The district-wide mix: 懒 and 冷 and 推 are what people meet most, 贪 is rare.
    let mix = [1.0, 1.1, 1.0, 0.6, 0.06];
    let lean = spec.lean.multipliers();
    let mut profile = [0.0; 5];
    for i in 0..5 {
        profile[i] = mix[i] * lean[i] * (0.35 * normal(rng)).exp();
    }
    let base = 0.4 * normal(rng);
    ModelUnit {
        id,
        spec,
        base,
        ln_d: base + 0.3 * normal(rng),
        profile,
        active: true,
        last_top: None,
        steady: false,
    }
}

/// Where each model indicator sits in the round's set. A deployment with other indicators
/// still gets valid ballots: a missing code falls back to a position by order.
pub(super) fn model_positions(settings: &RoundSettings) -> [usize; 5] {
    let len = settings.indicators.len().max(1);
    let mut out = [0; 5];
    for (i, code) in MODEL_CODES.iter().enumerate() {
        out[i] = settings.indicators.position(code).unwrap_or(i % len);
    }
    out
}

/// Moves every unit's difficulty to the next quarter.
pub(super) fn evolve(
    rng: &mut ChaCha8Rng,
    units: &mut [ModelUnit],
    frozen: &FrozenRanking,
    r: usize,
) {
    let top: BTreeMap<UnitId, u32> = frozen.ranking.top().map(|e| (e.unit_id, e.rank)).collect();
    for unit in units.iter_mut() {
        if let Some(&rank) = top.get(&unit.id) {
            // 约谈, 整改: the listed unit fixes much of what people named, and some of it
            // sticks for good. The top 3 face removal next time, so they try hardest.
            unit.ln_d -= if rank <= 3 {
                rng.gen_range(0.6..1.0)
            } else {
                rng.gen_range(0.35..0.75)
            };
            unit.base -= rng.gen_range(0.1..0.3);
            unit.last_top = Some(r);
        } else if unit.last_top.is_some_and(|t| r - t >= 4) && rng.gen_bool(0.07) && !unit.steady {
            // "服务稍有不到位，民意就会反弹": vigilance fades, the unit relapses.
            unit.ln_d += rng.gen_range(0.5..0.9);
        }
        if rng.gen_bool(0.025) && !unit.steady {
            // A new problem: a staff change, a new procedure, a backlog.
            unit.ln_d += rng.gen_range(0.4..0.8);
        }
        unit.ln_d += 0.15 * (unit.base - unit.ln_d) + 0.12 * normal(rng);
    }
}

/// Sets unit `i`'s difficulty so its expected nominations fall between the other units'
/// `rank - 1`-th and `rank`-th, i.e. it is expected at `rank`.
pub(super) fn aim_at_rank(
    units: &mut [ModelUnit],
    i: usize,
    scripts: &[(usize, u32, u32)],
    rank: u32,
) {
    let mut others: Vec<f64> = units
        .iter()
        .enumerate()
        .filter(|(j, u)| u.active && !scripts.iter().any(|s| s.0 == *j))
        .map(|(_, u)| nomination_weight(u))
        .collect();
    others.sort_by(|a, b| b.total_cmp(a));
    let k = (rank.max(1) as usize).min(others.len());
    let w = if k == 1 {
        others[0] * 1.25
    } else {
        (others[k - 2] * others[k - 1]).sqrt()
    };
    units[i].ln_d = (w / reach(units[i].spec)).ln();
}

/// How likely a respondent is to name a unit: difficulty × how often people deal with it.
pub(super) fn nomination_weight(u: &ModelUnit) -> f64 {
    if u.active {
        u.ln_d.exp() * reach(u.spec)
    } else {
        0.0
    }
}

/// How much a unit's traffic adds to its nominations. Damped: a busy window meets more
/// people but is also more used to crowds, and undamped the three busiest units would hold
/// the top of the list every quarter.
pub(super) fn reach(spec: &UnitSpec) -> f64 {
    spec.traffic.powf(0.8)
}

/// How far a unit's rank in a candidate ballot set is from `lo..=hi`.
pub(super) fn miss(
    ballots: &[(NaiveDate, Ballot)],
    method: &Method,
    unit: UnitId,
    lo: u32,
    hi: u32,
) -> u32 {
    let tallies = ranking::tally(
        ballots
            .iter()
            .flat_map(|(_, b)| b.nominations.iter().map(move |n| (b.channel, n))),
        method.indicators.len(),
    );
    let ranked = ranking::rank(&tallies, method, &BTreeMap::new());
    let rank = ranked
        .entries
        .iter()
        .find(|e| e.unit_id == unit)
        .map_or(u32::MAX / 2, |e| e.rank);
    lo.saturating_sub(rank) + rank.saturating_sub(hi)
}

/// Per-round knobs of the ballot model.
pub(super) struct BallotShape<'a> {
    pub(super) positions: &'a [usize; 5],
    /// 0 in the first round, 1 in the last: people name fewer units as the district improves.
    pub(super) trend: f64,
}

/// One round's ballots, sorted by the day they arrived.
pub(super) fn generate(
    rng: &mut ChaCha8Rng,
    units: &[ModelUnit],
    shape: &BallotShape<'_>,
    directed: usize,
    open: usize,
    start: NaiveDate,
    days: i64,
) -> Vec<(NaiveDate, Ballot)> {
    let nom_w: Vec<f64> = units.iter().map(nomination_weight).collect();
    let exp_w: Vec<f64> = units
        .iter()
        .map(|u| if u.active { u.spec.traffic } else { 0.0 })
        .collect();
    let mut out = Vec::with_capacity(directed + open);
    for k in 0..directed + open {
        let channel = if k < directed {
            Channel::Directed
        } else {
            Channel::Open
        };
        // Open-channel respondents chose to write in: they comment more.
        let comment_p = if channel == Channel::Open { 0.38 } else { 0.27 };
        let ballot = generate_ballot(rng, units, &nom_w, &exp_w, shape, channel, comment_p);
        let day = start + Duration::days(rng.gen_range(0..days.max(1)));
        out.push((day, ballot));
    }
    out.sort_by_key(|(day, _)| *day);
    out
}

pub(super) fn generate_ballot(
    rng: &mut ChaCha8Rng,
    units: &[ModelUnit],
    nom_w: &[f64],
    exp_w: &[f64],
    shape: &BallotShape<'_>,
    channel: Channel,
    comment_p: f64,
) -> Ballot {
    let mut named = match rng.gen_range(0..100) {
        0..=21 => 1,
        22..=48 => 2,
        49..=70 => 3,
        71..=84 => 4,
        85..=93 => 5,
        _ => rng.gen_range(6..=10),
    };
    if named > 1 && rng.gen_bool(0.3 * shape.trend) {
        named -= 1;
    }
    let mut chosen = Vec::with_capacity(10);
    draw_distinct(rng, nom_w, named, &mut chosen);
    let nominations = chosen
        .iter()
        .map(|&i| {
            let unit = &units[i];
            let ticks = match rng.gen_range(0..100) {
                0..=49 => 1,
                50..=84 => 2,
                _ => 3,
            };
            let mut picked = Vec::with_capacity(3);
            draw_distinct(rng, &unit.profile, ticks, &mut picked);
            let indicators = picked
                .iter()
                .fold(IndicatorMask::default(), |m, &p| m.with(shape.positions[p]));
            let comment = rng.gen_bool(comment_p).then(|| {
                let about = picked[rng.gen_range(0..picked.len())];
                let templates = COMMENTS[about];
                templates[rng.gen_range(0..templates.len())].replace("{s}", unit.spec.service)
            });
            Nomination {
                unit_id: unit.id,
                indicators,
                comment,
            }
        })
        .collect();
    // The units dealt with this quarter: the named ones and a few others.
    let dealt = rng.gen_range(2..=6usize).max(chosen.len());
    let extra = dealt - chosen.len();
    draw_distinct(rng, exp_w, extra, &mut chosen);
    Ballot {
        channel,
        code: None,
        nominations,
        exposure: chosen.iter().map(|&i| units[i].id).collect(),
    }
}

/// Draws up to `k` more distinct indices, proportionally to `weights`, skipping those in
/// `taken`; appends them to `taken`.
pub(super) fn draw_distinct(
    rng: &mut ChaCha8Rng,
    weights: &[f64],
    k: usize,
    taken: &mut Vec<usize>,
) {
    let mut w = weights.to_vec();
    for &t in taken.iter() {
        w[t] = 0.0;
    }
    for _ in 0..k {
        let total: f64 = w.iter().sum();
        if total <= 0.0 {
            return;
        }
        let mut x = rng.gen_range(0.0..total);
        let mut pick = None;
        for (i, &wi) in w.iter().enumerate() {
            if wi <= 0.0 {
                continue;
            }
            pick = Some(i);
            if x < wi {
                break;
            }
            x -= wi;
        }
        let Some(i) = pick else { return };
        taken.push(i);
        w[i] = 0.0;
    }
}

/// A standard normal draw (Box–Muller), to keep the dependencies to `rand` alone.
pub(super) fn normal(rng: &mut ChaCha8Rng) -> f64 {
    let u1: f64 = rng.gen_range(f64::EPSILON..1.0);
    let u2: f64 = rng.gen_range(0.0..1.0);
    (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
}

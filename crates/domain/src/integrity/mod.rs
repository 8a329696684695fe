//! Stuffing detection on the open channel: a deterministic scan of the signals intake kept
//! (see [`signals`]) that finds clusters of ballots a genuine public does not produce.
//!
//! The method, which `/method` explains in plain words:
//!
//! 1. Ballots are grouped along six axes: the same client address (an IPv6 /64), the same
//!    network (an IPv4 /24 or IPv6 /48), the same browser signature (User-Agent and
//!    Accept-Language), the same web-form cookie, near-identical comments (SimHash within
//!    [`Params::comment_distance`] bits), and the same shape (as many units named, the same
//!    indicators ticked, the same kind of comment) whatever the units.
//! 2. A group is suspect for a unit when (a) at least `min_count` of its ballots name that
//!    unit (for near-identical comments, from as many different addresses: a household
//!    copying one comment is one voice, and one address sending a template is the address
//!    axis's to find), (b) at least [`Params::min_share`] of the group names it, (c) the odds that a
//!    ballot of the group names the unit are at least [`Params::min_ratio`] times the odds
//!    for the round's other ballots,
//!    (d) the group's value is at least as many times as common among the ballots naming
//!    the unit as among those that don't, and (e) each of (c) and (d) would happen by
//!    chance less than once in a million (Chernoff bound on the binomial tail).
//! 3. The ballots of a suspect group that name the unit are held. For the two weak axes
//!    (browser signature and content bursts, which many honest people share) a ballot whose
//!    comment is in words of its own is not held.
//! 4. Held ballots joined by any shared suspect group form one cluster, which the organizer
//!    reviews and may release as a whole.
//!
//! An office behind one address names many different units, so (b) fails; a unit in the
//! news is named by many people from many places in their own words, so its ballots come
//! from the same addresses, browsers and shapes as everyone else's, and (c) fails.

pub mod signals;

use crate::UnitId;
use sha2::{Digest, Sha256};
use signals::Signals;
use std::collections::{BTreeMap, HashMap};

pub use signals::{ClientFacts, canonical, rate_limit_key};

/// One open-channel ballot as the scan sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Observed {
    /// The ballot's (opaque) id.
    pub ballot: i64,
    /// What intake kept.
    pub signals: Signals,
    /// The units it names.
    pub units: Vec<UnitId>,
}

/// The whole round's ballots, every channel: the background rates are taken from it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Population {
    /// Ballots in the round.
    pub ballots: u64,
    /// Ballots naming each unit.
    pub naming: HashMap<UnitId, u64>,
}

/// A way ballots are grouped.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Axis {
    /// The same client address.
    Address,
    /// The same network.
    Network,
    /// The same web-form cookie.
    Cookie,
    /// Near-identical comments.
    Comment,
    /// The same User-Agent and Accept-Language.
    Agent,
    /// The same shape: as many units, the same ticks, no comment of its own.
    Shape,
}

impl Axis {
    /// Every axis, strongest evidence first.
    pub const ALL: [Axis; 6] = [
        Axis::Address,
        Axis::Network,
        Axis::Cookie,
        Axis::Comment,
        Axis::Agent,
        Axis::Shape,
    ];

    /// Stable code, as stored and in the API.
    pub fn code(self) -> &'static str {
        match self {
            Axis::Address => "address",
            Axis::Network => "network",
            Axis::Cookie => "cookie",
            Axis::Comment => "comment",
            Axis::Agent => "agent",
            Axis::Shape => "shape",
        }
    }

    /// The axis of a code.
    pub fn from_code(code: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|a| a.code() == code)
    }

    /// Whether many honest people share a value of this axis, so that a ballot with a
    /// comment of its own is not held on this evidence alone.
    pub fn is_weak(self) -> bool {
        matches!(self, Axis::Agent | Axis::Shape)
    }

    /// The Chinese description used in reasons.
    pub fn name_zh(self) -> &'static str {
        match self {
            Axis::Address => "同一地址",
            Axis::Network => "同一网段",
            Axis::Cookie => "同一浏览器",
            Axis::Comment => "雷同留言",
            Axis::Agent => "同一客户端特征",
            Axis::Shape => "填写方式完全相同",
        }
    }
}

/// Thresholds of the scan (see the module documentation).
#[derive(Debug, Clone, PartialEq)]
pub struct Params {
    /// The least number of ballots naming one unit that makes a group suspect, per axis.
    pub min_count: BTreeMap<Axis, u64>,
    /// The least share of a group naming the unit.
    pub min_share: f64,
    /// The least ratio of the group's odds of naming the unit to the other ballots' odds,
    /// and of the group's value's rate among the unit's ballots to its rate among the rest.
    pub min_ratio: f64,
    /// `-ln` of the chance bound: 13.8 is one in a million.
    pub min_surprise: f64,
    /// The most bits two comments' SimHashes may differ in to count as one text.
    pub comment_distance: u32,
}

impl Default for Params {
    fn default() -> Self {
        Self {
            min_count: BTreeMap::from([
                (Axis::Address, 8),
                (Axis::Network, 12),
                (Axis::Cookie, 5),
                (Axis::Comment, 5),
                (Axis::Agent, 25),
                (Axis::Shape, 10),
            ]),
            min_share: 0.75,
            min_ratio: 3.0,
            min_surprise: 13.8,
            comment_distance: 12,
        }
    }
}

/// Why a group was found suspect.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Finding {
    /// The axis, as [`Axis::code`].
    pub axis: String,
    /// The unit the group pushes.
    pub unit: UnitId,
    /// Ballots of the group naming the unit.
    pub count: u64,
    /// Ballots in the group.
    pub group: u64,
    /// How many of the group would name the unit at the rest of the round's rate.
    pub expected: f64,
}

impl Finding {
    /// One line for people: what was seen.
    pub fn describe_zh(&self, unit_name: &str) -> String {
        let axis = Axis::from_code(&self.axis).map_or("?", Axis::name_zh);
        format!(
            "{axis}：{} 张选票中 {} 张评{unit_name}，按其余选票的比例应约 {:.1} 张",
            self.group, self.count, self.expected
        )
    }

    /// The same in English.
    pub fn describe_en(&self, unit_name: &str) -> String {
        format!(
            "{}: {} of {} ballots in the group name {unit_name}; at the rest of the round's rate about {:.1} would",
            self.axis, self.count, self.group, self.expected
        )
    }
}

/// Ballots held together, and why.
#[derive(Debug, Clone, PartialEq)]
pub struct Cluster {
    /// Stable id: the same evidence gives the same id in every scan.
    pub id: String,
    /// The unit most of its findings push.
    pub unit: UnitId,
    /// The suspect groups, largest first.
    pub findings: Vec<Finding>,
    /// The held ballots, in ascending order.
    pub ballots: Vec<i64>,
}

/// Runs the scan over the observed open-channel ballots of a round.
pub fn scan(observed: &[Observed], population: &Population, params: &Params) -> Vec<Cluster> {
    let own_words = own_words(observed, params.comment_distance);
    let mut uf = UnionFind::new(observed.len());
    let mut held = vec![false; observed.len()];
    // Per flagged ballot: the findings (by index) that hold it.
    let mut findings: Vec<(Finding, String, Vec<usize>)> = Vec::new();
    // The weak axes look only at what the strong ones left: once a push is found and held,
    // the honest ballots around it (people who really named that unit, in the same shape or
    // browser) are what remains, and they are not tested again against the push.
    let mut active = vec![true; observed.len()];
    let mut population = population.clone();
    for axis in Axis::ALL {
        if axis.is_weak() {
            for (i, o) in observed.iter().enumerate() {
                if held[i] && active[i] {
                    active[i] = false;
                    population.ballots = population.ballots.saturating_sub(1);
                    for u in &o.units {
                        if let Some(n) = population.naming.get_mut(u) {
                            *n = n.saturating_sub(1);
                        }
                    }
                }
            }
        }
        let population = &population;
        let min = params.min_count.get(&axis).copied().unwrap_or(u64::MAX);
        // Candidates: groups where one unit is named by enough of them, and by most.
        let mut candidates: Vec<(u64, UnitId, Vec<usize>, u64)> = Vec::new();
        for (key, members) in groups(observed, &active, axis, params.comment_distance) {
            if (members.len() as u64) < min {
                continue;
            }
            for (unit, naming) in naming_in(observed, &members) {
                let count = naming.len() as u64;
                let voices = if axis == Axis::Comment {
                    addresses(observed, &naming)
                } else {
                    count
                };
                if voices >= min && count as f64 >= params.min_share * members.len() as f64 {
                    candidates.push((key, unit, naming, members.len() as u64));
                }
            }
        }
        // Per unit, the ballots in its candidate groups: the background leaves them out.
        let mut in_candidates: HashMap<UnitId, (u64, u64)> = HashMap::new();
        for (_, unit, naming, group) in &candidates {
            let e = in_candidates.entry(*unit).or_default();
            e.0 += naming.len() as u64;
            e.1 += group;
        }
        for (key, unit, naming, group) in candidates {
            let counts = Counts {
                count: naming.len() as u64,
                group,
                excluded: in_candidates[&unit],
            };
            let Some(finding) = test(axis, unit, counts, population, params) else {
                continue;
            };
            let hold: Vec<usize> = naming
                .into_iter()
                .filter(|&i| !(axis.is_weak() && own_words[i]))
                .collect();
            if (hold.len() as u64) < min {
                continue;
            }
            for w in hold.windows(2) {
                uf.union(w[0], w[1]);
            }
            for &i in &hold {
                held[i] = true;
            }
            let group_key = format!("{}:{key:016x}:{}", axis.code(), unit.0);
            findings.push((finding, group_key, hold));
        }
    }
    // Each connected component of held ballots is one cluster.
    let mut by_root: BTreeMap<usize, Vec<usize>> = BTreeMap::new();
    for (i, h) in held.iter().enumerate() {
        if *h {
            by_root.entry(uf.find(i)).or_default().push(i);
        }
    }
    let mut clusters: Vec<Cluster> = by_root
        .into_values()
        .map(|members| {
            let root = uf.find(members[0]);
            let mut mine: Vec<&(Finding, String, Vec<usize>)> = findings
                .iter()
                .filter(|(_, _, hold)| uf.find(hold[0]) == root)
                .collect();
            mine.sort_by(|a, b| b.0.count.cmp(&a.0.count).then_with(|| a.1.cmp(&b.1)));
            let anchor = mine
                .iter()
                .map(|(_, key, _)| key.as_str())
                .min()
                .unwrap_or_default();
            let mut ballots: Vec<i64> = members.iter().map(|&i| observed[i].ballot).collect();
            ballots.sort_unstable();
            Cluster {
                id: cluster_id(anchor),
                unit: mine.first().map_or(UnitId(0), |f| f.0.unit),
                findings: mine.into_iter().map(|f| f.0.clone()).collect(),
                ballots,
            }
        })
        .collect();
    clusters.sort_by(|a, b| {
        b.ballots
            .len()
            .cmp(&a.ballots.len())
            .then_with(|| a.id.cmp(&b.id))
    });
    clusters
}

fn cluster_id(anchor: &str) -> String {
    let digest = Sha256::digest(anchor.as_bytes());
    hex::encode(&digest[..6])
}

/// The counts one test looks at.
struct Counts {
    /// Ballots of the group naming the unit.
    count: u64,
    /// Ballots in the group.
    group: u64,
    /// Ballots naming the unit, and ballots, in all of this axis's candidate groups for it.
    excluded: (u64, u64),
}

/// Tests one candidate (group, unit) pair both ways; `Some` if the group is suspect.
///
/// - Within the group: does it name the unit far more often than the round's other ballots
///   do? "Other" leaves out every candidate group of the axis for the unit, so an attack
///   split over many groups (many addresses, many wordings) cannot raise its own baseline.
/// - Within the unit: is the group's value far more common among the ballots naming the
///   unit than among those that don't? Those are untouched by a push on the unit.
///
/// Both must be too unlikely to happen by chance; either alone lets chance through (a few
/// similar comments that happen to name a popular unit; a big group naming a rare one).
fn test(
    axis: Axis,
    unit: UnitId,
    counts: Counts,
    population: &Population,
    params: &Params,
) -> Option<Finding> {
    let Counts {
        count,
        group,
        excluded,
    } = counts;
    let naming = population
        .naming
        .get(&unit)
        .copied()
        .unwrap_or(0)
        .max(count);
    let ballots = population.ballots.max(group);
    // Within the group, against the unit's rate among ballots outside its candidate groups.
    let rest_naming = naming.saturating_sub(excluded.0) as f64 + 0.5;
    let rest = ballots.saturating_sub(excluded.1) as f64 + 1.0;
    let p = (rest_naming / rest).clamp(1e-9, 1.0 - 1e-9);
    let expected = p * group as f64;
    let q = count as f64 / group as f64;
    // Odds, not rates: a group naming a unit every time stands out even when the unit is
    // named by half the round (a unit in the news, pushed further).
    let q_smoothed = (count as f64 + 0.5) / (group as f64 + 1.0);
    let odds = |x: f64| x / (1.0 - x);
    if odds(q_smoothed) < params.min_ratio * odds(p)
        || group as f64 * kl(q, p) < params.min_surprise
    {
        return None;
    }
    // Within the unit, against the value's rate among ballots not naming the unit.
    let others = ballots.saturating_sub(naming);
    let b = ((group - count) as f64 + 0.5) / (others as f64 + 1.0);
    let b = b.clamp(1e-9, 1.0 - 1e-9);
    let q = count as f64 / naming as f64;
    if (count as f64) < params.min_ratio * b * naming as f64
        || (naming as f64) * kl(q, b) < params.min_surprise
    {
        return None;
    }
    Some(Finding {
        axis: axis.code().into(),
        unit,
        count,
        group,
        expected,
    })
}

/// Kullback–Leibler divergence of Bernoulli(q) from Bernoulli(p): `n·kl` bounds
/// `-ln P(Bin(n, p) ≥ qn)` for `q > p` (Chernoff).
fn kl(q: f64, p: f64) -> f64 {
    let term = |a: f64, b: f64| if a <= 0.0 { 0.0 } else { a * (a / b).ln() };
    term(q, p) + term(1.0 - q, 1.0 - p)
}

/// The groups of one axis: each value shared by more than one ballot, with its members.
fn groups(
    observed: &[Observed],
    active: &[bool],
    axis: Axis,
    comment_distance: u32,
) -> Vec<(u64, Vec<usize>)> {
    let mut by: HashMap<u64, Vec<usize>> = HashMap::new();
    if axis == Axis::Comment {
        for (root, members) in comment_components(observed, comment_distance) {
            by.insert(root, members);
        }
    } else {
        for (i, o) in observed.iter().enumerate().filter(|(i, _)| active[*i]) {
            let s = &o.signals;
            let key = match axis {
                Axis::Address => s.addr as u64,
                Axis::Network => s.net as u64,
                Axis::Agent => s.agent as u64,
                Axis::Cookie => match s.cookie {
                    Some(c) => c as u64,
                    None => continue,
                },
                Axis::Shape => s.shape as u64,
                Axis::Comment => unreachable!(),
            };
            by.entry(key).or_default().push(i);
        }
    }
    let mut out: Vec<(u64, Vec<usize>)> = by.into_iter().filter(|(_, m)| m.len() > 1).collect();
    out.sort_unstable_by_key(|(k, _)| *k);
    out
}

/// How many different client addresses these ballots came from.
fn addresses(observed: &[Observed], members: &[usize]) -> u64 {
    let mut seen: Vec<i64> = members.iter().map(|&i| observed[i].signals.addr).collect();
    seen.sort_unstable();
    seen.dedup();
    seen.len() as u64
}

/// The units named within a group, each with the group's members naming it.
fn naming_in(observed: &[Observed], members: &[usize]) -> BTreeMap<UnitId, Vec<usize>> {
    let mut by: BTreeMap<UnitId, Vec<usize>> = BTreeMap::new();
    for &i in members {
        for u in &observed[i].units {
            by.entry(*u).or_default().push(i);
        }
    }
    by
}

/// Connected components of near-identical comments, keyed by their smallest SimHash.
fn comment_components(observed: &[Observed], max_distance: u32) -> Vec<(u64, Vec<usize>)> {
    // Identical fingerprints first, then near ones among the distinct values, found by
    // locality-sensitive hashing: two values within `max_distance` bits very likely agree
    // on one of eight bytes.
    let mut by_value: BTreeMap<i64, Vec<usize>> = BTreeMap::new();
    for (i, o) in observed.iter().enumerate() {
        if let Some(c) = o.signals.comment {
            by_value.entry(c).or_default().push(i);
        }
    }
    let values: Vec<i64> = by_value.keys().copied().collect();
    let mut uf = UnionFind::new(values.len());
    for band in 0..8 {
        let mut buckets: HashMap<u8, Vec<usize>> = HashMap::new();
        for (vi, v) in values.iter().enumerate() {
            buckets
                .entry((*v as u64 >> (band * 8)) as u8)
                .or_default()
                .push(vi);
        }
        for bucket in buckets.values() {
            for (a_pos, &a) in bucket.iter().enumerate() {
                for &b in &bucket[a_pos + 1..] {
                    if signals::distance(values[a], values[b]) <= max_distance {
                        uf.union(a, b);
                    }
                }
            }
        }
    }
    let mut comps: BTreeMap<usize, (u64, Vec<usize>)> = BTreeMap::new();
    for (vi, v) in values.iter().enumerate() {
        let entry = comps
            .entry(uf.find(vi))
            .or_insert_with(|| (*v as u64, Vec::new()));
        entry.0 = entry.0.min(*v as u64);
        entry.1.extend(&by_value[v]);
    }
    comps
        .into_values()
        .map(|(k, mut m)| {
            m.sort_unstable();
            (k, m)
        })
        .collect()
}

/// Whether each ballot's comment is its own: long enough, and near no other ballot's.
fn own_words(observed: &[Observed], max_distance: u32) -> Vec<bool> {
    let mut own = vec![false; observed.len()];
    for (_, members) in comment_components(observed, max_distance) {
        if members.len() == 1 {
            own[members[0]] = true;
        }
    }
    own
}

struct UnionFind {
    parent: Vec<usize>,
}

impl UnionFind {
    fn new(n: usize) -> Self {
        Self {
            parent: (0..n).collect(),
        }
    }

    fn find(&mut self, mut x: usize) -> usize {
        while self.parent[x] != x {
            self.parent[x] = self.parent[self.parent[x]];
            x = self.parent[x];
        }
        x
    }

    fn union(&mut self, a: usize, b: usize) {
        let (ra, rb) = (self.find(a), self.find(b));
        if ra != rb {
            let (lo, hi) = if ra < rb { (ra, rb) } else { (rb, ra) };
            self.parent[hi] = lo;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Ballot, Channel, IndicatorMask, Nomination};
    use rand::{Rng, SeedableRng, rngs::StdRng};

    fn ballot(units: &[i64], mask: u16, comment: Option<String>) -> Ballot {
        Ballot {
            channel: Channel::Open,
            code: None,
            nominations: units
                .iter()
                .map(|&u| Nomination {
                    unit_id: UnitId(u),
                    indicators: IndicatorMask(mask),
                    comment: comment.clone(),
                })
                .collect(),
            exposure: vec![],
        }
    }

    fn client(addr: String, agent: &str) -> ClientFacts {
        ClientFacts {
            addr: Some(addr.parse().unwrap()),
            user_agent: Some(agent.into()),
            accept_language: Some("zh-CN".into()),
            cookie: None,
        }
    }

    /// Honest ballots from distinct addresses, each naming one to three units by
    /// popularity (unit 1 most popular), with its own ticks.
    fn honest(rng: &mut StdRng, n: usize) -> Vec<(ClientFacts, Ballot)> {
        (0..n)
            .map(|_| {
                let k = rng.gen_range(1..=3);
                let mut units: Vec<i64> = Vec::new();
                while units.len() < k {
                    let u = (rng.gen_range(1.0f64..60.0).powi(2) / 60.0).ceil() as i64;
                    if !units.contains(&u) {
                        units.push(u);
                    }
                }
                let addr = format!(
                    "10.{}.{}.{}",
                    rng.gen_range(0..200),
                    rng.gen_range(0..250),
                    rng.gen_range(1..250)
                );
                let agent = ["A", "B", "C", "D"][rng.gen_range(0..4)];
                (
                    client(addr, agent),
                    ballot(&units, rng.gen_range(1..32), None),
                )
            })
            .collect()
    }

    fn run(sent: &[(ClientFacts, Ballot)]) -> Vec<Cluster> {
        let observed: Vec<Observed> = sent
            .iter()
            .enumerate()
            .map(|(i, (c, b))| Observed {
                ballot: i as i64,
                signals: Signals::of(b"test key", c, b, 0),
                units: b.nominations.iter().map(|n| n.unit_id).collect(),
            })
            .collect();
        let mut population = Population {
            ballots: observed.len() as u64,
            ..Default::default()
        };
        for o in &observed {
            for u in &o.units {
                *population.naming.entry(*u).or_default() += 1;
            }
        }
        scan(&observed, &population, &Params::default())
    }

    #[test]
    fn a_flood_from_one_address_is_held_as_one_cluster_and_nothing_else_is() {
        let mut rng = StdRng::seed_from_u64(1);
        let mut sent = honest(&mut rng, 1000);
        for _ in 0..300 {
            sent.push((client("192.0.2.9".into(), "bot"), ballot(&[77], 16, None)));
        }
        let clusters = run(&sent);
        assert_eq!(clusters.len(), 1, "{clusters:?}");
        let c = &clusters[0];
        assert_eq!(c.unit, UnitId(77));
        assert_eq!(c.ballots, (1000..1300).collect::<Vec<i64>>());
        assert!(c.findings.iter().any(|f| f.axis == "address"));
        // The same evidence, the same id.
        assert_eq!(run(&sent)[0].id, c.id);
    }

    #[test]
    fn an_office_behind_one_address_naming_many_units_is_not_held() {
        let mut rng = StdRng::seed_from_u64(2);
        let mut sent = honest(&mut rng, 1000);
        for (c, _) in sent.iter_mut().take(80) {
            *c = client("192.0.2.10".into(), "office browser");
        }
        assert!(run(&sent).is_empty());
    }

    #[test]
    fn a_unit_in_the_news_named_by_many_in_their_own_words_is_not_held() {
        const WORDS: &[&str] = &[
            "窗口",
            "材料",
            "不全",
            "跑了三趟",
            "排队",
            "一上午",
            "态度",
            "冷淡",
            "推给",
            "社保局",
            "收费",
            "没有公示",
            "电话",
            "没人接",
            "审批",
            "拖了一个月",
            "科长",
            "不在",
            "系统",
            "坏了",
            "让我",
            "下周再来",
            "证明",
            "没有依据",
            "网上",
            "办不了",
            "营业执照",
            "变更",
        ];
        let mut rng = StdRng::seed_from_u64(3);
        let mut sent = honest(&mut rng, 1000);
        for (i, (_, b)) in sent.iter_mut().enumerate() {
            if i % 5 < 2 {
                b.nominations[0].unit_id = UnitId(90);
            }
            if rng.gen_bool(0.6) {
                let words: String = (0..rng.gen_range(4..9))
                    .map(|_| WORDS[rng.gen_range(0..WORDS.len())])
                    .collect();
                b.nominations[0].comment = Some(words);
            }
        }
        let clusters = run(&sent);
        assert!(clusters.is_empty(), "{clusters:?}");
    }

    #[test]
    fn rotation_inside_one_network_is_held() {
        let mut rng = StdRng::seed_from_u64(4);
        let mut sent = honest(&mut rng, 1000);
        for i in 0..200 {
            let mask = rng.gen_range(1..32);
            sent.push((
                client(format!("198.51.100.{}", i % 250 + 1), "A"),
                ballot(&[50], mask, None),
            ));
        }
        let clusters = run(&sent);
        let held: usize = clusters.iter().map(|c| c.ballots.len()).sum();
        assert!((200..=203).contains(&held), "{held}: {clusters:?}");
        assert!(clusters[0].findings.iter().any(|f| f.axis == "network"));
    }

    #[test]
    fn near_identical_comments_count_by_the_addresses_they_come_from() {
        let comment = |n: usize| {
            Some(format!(
                "窗口工作人员态度冷淡不理人，{n}月3号去的，希望改进作风。"
            ))
        };
        let mut rng = StdRng::seed_from_u64(5);
        let honest_round = honest(&mut rng, 1000);
        // Two households, three people each, copy one comment about a rare unit: two voices.
        let mut sent = honest_round.clone();
        for (h, n) in [(1, 4), (2, 5)] {
            for k in 0..3 {
                sent.push((
                    client(format!("203.0.113.{h}"), ["A", "B", "C"][k]),
                    ballot(&[58], 2, comment(n)),
                ));
            }
        }
        assert!(run(&sent).is_empty(), "{:?}", run(&sent));
        // Twelve addresses sending the template for the same unit are a campaign.
        let mut sent = honest_round;
        for i in 0..12 {
            sent.push((
                client(format!("198.18.{i}.7"), ["A", "B", "C", "D"][i % 4]),
                ballot(&[58], 2, comment(i % 2 + 4)),
            ));
        }
        let clusters = run(&sent);
        assert_eq!(clusters.len(), 1, "{clusters:?}");
        assert_eq!(clusters[0].ballots.len(), 12);
        assert!(clusters[0].findings.iter().any(|f| f.axis == "comment"));
    }
}

//! The stuffing simulator: honest publics of many kinds beside attackers of many kinds, run
//! through the same scan the server runs, reporting the share of attack ballots held and of
//! honest ballots held. `scripts/simulate-stuffing` runs it in process (thousands of rounds
//! in seconds) or against a running `minping demo --trusted-proxy 127.0.0.1/32`, posting every
//! ballot over HTTP with its own `X-Forwarded-For`, User-Agent and language.

mod http;
mod population;

use minping_domain::{
    UnitId,
    integrity::{self, Observed, Params, Population, signals::Signals},
};
use population::*;
use rand::{Rng, SeedableRng, rngs::StdRng, seq::SliceRandom};
use std::collections::BTreeMap;

pub use http::{HttpArgs, run_http};

/// The honest publics.
pub const PUBLICS: &[&str] = &[
    "residential",
    "mobile-cgnat",
    "ipv6",
    "offices",
    "surge",
    "households",
    "one-campus",
];

/// The attacks; `hard` is the one the scan is not expected to catch (see `/method`).
pub const ATTACKS: &[&str] = &[
    "one-address",
    "one-address-varied",
    "rotate-24",
    "rotate-v6",
    "botnet-fixed-agent",
    "botnet-template",
    "botnet-burst",
    "cookie-hopping",
    "small-cells",
    "mixed-networks",
    "hard",
];

/// One simulated round: who sent what, in the order it arrived.
pub struct Round {
    pub sent: Vec<Sent>,
    pub target: UnitId,
}

/// Builds a round of `public` with `attack` (or none) mixed in, from `seed`.
pub fn round(public: &str, attack: Option<&str>, seed: u64) -> Round {
    let mut rng = StdRng::seed_from_u64(seed);
    let pop = Popularity::zipf(&mut rng, 0.9);
    let burst = rng.gen_bool(0.5);
    // In burst mode everything arrives within an hour, as in a test harness.
    let span = if burst { 60 } else { 90 * 24 * 60 };
    let minute = |rng: &mut StdRng| rng.gen_range(0..span);
    let honest_n = rng.gen_range(800..2500);
    let comment_rate = rng.gen_range(0.2..0.6);
    let mut sent = Vec::new();
    let surge = (public == "surge").then(|| {
        let ranked = pop.ranked();
        (ranked[rng.gen_range(10..60)], rng.gen_range(0.25..0.5))
    });
    let news_day = rng.gen_range(0..span.max(1));
    let cgnat: Vec<std::net::IpAddr> = (0..rng.gen_range(8..40))
        .map(|_| home_addr(&mut rng))
        .collect();
    let campus = home_addr(&mut rng);
    let mut offices: Vec<(std::net::IpAddr, usize, UnitId)> = Vec::new();
    if public == "offices" {
        for _ in 0..rng.gen_range(2..7) {
            offices.push((
                home_addr(&mut rng),
                rng.gen_range(20..90),
                pop.pick(&mut rng),
            ));
        }
    }
    let mut i = 0;
    while i < honest_n {
        let cookie = rng.gen_bool(0.5);
        let (addr, count) = match public {
            "mobile-cgnat" => (*cgnat.choose(&mut rng).expect("cgnat"), 1),
            "ipv6" => (mobile_v6(&mut rng), 1),
            "households" => (home_addr(&mut rng), rng.gen_range(1..5)),
            "one-campus" if rng.gen_bool(0.3) => (campus, 1),
            _ => (home_addr(&mut rng), 1),
        };
        let client = browser(&mut rng, addr, cookie);
        let first = honest_ballot(&mut rng, &pop, surge, comment_rate);
        for k in 0..count {
            // A household talks it over: the second and later ballots often copy the first.
            let ballot = if k == 0 || rng.gen_bool(0.6) {
                first.clone()
            } else {
                honest_ballot(&mut rng, &pop, surge, comment_rate)
            };
            let at = match surge {
                Some((u, _))
                    if ballot.nominations.iter().any(|n| n.unit_id == u) && rng.gen_bool(0.7) =>
                {
                    (news_day + rng.gen_range(0..(span / 20).max(30))).min(span)
                }
                _ => minute(&mut rng),
            };
            let client = if k == 0 {
                client.clone()
            } else {
                browser(&mut rng, addr, cookie)
            };
            sent.push(Sent {
                client,
                ballot,
                minute: at,
                attack: false,
            });
            i += 1;
        }
    }
    for (addr, n, favourite) in &offices {
        // One company, one standard browser, diverse complaints with a favourite unit.
        let client = browser(&mut rng, *addr, false);
        for _ in 0..*n {
            let mut ballot = honest_ballot(&mut rng, &pop, None, comment_rate);
            if rng.gen_bool(0.3) && ballot.nominations.iter().all(|x| x.unit_id != *favourite) {
                ballot.nominations[0].unit_id = *favourite;
            }
            sent.push(Sent {
                client: client.clone(),
                ballot,
                minute: minute(&mut rng),
                attack: false,
            });
        }
    }
    let ranked = pop.ranked();
    let target = ranked[rng.gen_range(15..100)];
    if let Some(attack) = attack {
        let volume = rng.gen_range(150..2000);
        add_attack(&mut rng, &mut sent, attack, target, volume, span, &pop);
    }
    sent.sort_by_key(|s| s.minute);
    Round { sent, target }
}

#[allow(clippy::too_many_arguments)]
fn add_attack(
    rng: &mut StdRng,
    sent: &mut Vec<Sent>,
    attack: &str,
    target: UnitId,
    volume: usize,
    span: i64,
    pop: &Popularity,
) {
    use minping_domain::integrity::ClientFacts;
    let script = |addr| ClientFacts {
        addr: Some(addr),
        user_agent: Some("python-requests/2.31.0".into()),
        accept_language: None,
        cookie: None,
    };
    let fixed = AttackContent {
        random_indicators: false,
        decoys: 0,
        comment: CommentStyle::None,
    };
    let varied = AttackContent {
        random_indicators: true,
        decoys: rng.gen_range(0..3),
        comment: CommentStyle::None,
    };
    let start = rng.gen_range(0..span.max(1));
    let burst_len = rng.gen_range(10..120).min(span.max(1));
    let one = home_addr(rng);
    let net = home_addr(rng);
    let net_of = |rng: &mut StdRng, base: std::net::IpAddr| match base {
        std::net::IpAddr::V4(v4) => {
            let o = v4.octets();
            std::net::IpAddr::V4(std::net::Ipv4Addr::new(
                o[0],
                o[1],
                o[2],
                rng.gen_range(1..255),
            ))
        }
        v6 => v6,
    };
    let v6base = mobile_v6(rng);
    let nets: Vec<std::net::IpAddr> = (0..rng.gen_range(3..8)).map(|_| home_addr(rng)).collect();
    let mut cell_addrs: Vec<std::net::IpAddr> = Vec::new();
    for _ in 0..volume / 5 + 1 {
        let base = *nets.choose(rng).expect("nets");
        cell_addrs.push(net_of(rng, base));
    }
    let constant_browser = browser(rng, one, true);
    for k in 0..volume {
        let home = home_addr(rng);
        let base = *nets.choose(rng).expect("nets");
        let in_nets = net_of(rng, base);
        let in_net = net_of(rng, net);
        let t = rng.gen_range(0..span);
        let coin = rng.gen_bool(0.5);
        let decoys = rng.gen_range(0..3);
        let suffix: [u16; 5] = rng.r#gen();
        let (client, content, at) = match attack {
            "one-address" => (script(one), fixed.clone(), start + (k as i64) / 50),
            "one-address-varied" => (browser(rng, one, false), varied.clone(), t),
            "rotate-24" => (
                script(in_net),
                AttackContent {
                    comment: CommentStyle::Fixed("该科室办事必须送礼，吃拿卡要严重".into()),
                    ..fixed.clone()
                },
                start + (k as i64) / 30,
            ),
            "rotate-v6" => {
                let std::net::IpAddr::V6(b) = v6base else {
                    unreachable!()
                };
                let s = b.segments();
                let addr = std::net::IpAddr::V6(std::net::Ipv6Addr::new(
                    s[0], s[1], s[2], suffix[0], suffix[1], suffix[2], suffix[3], suffix[4],
                ));
                (browser(rng, addr, false), varied.clone(), t)
            }
            "botnet-fixed-agent" => {
                let mut c = browser(rng, home, false);
                c.user_agent = Some("Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:109.0) Gecko/20100101 Firefox/115.0".into());
                c.accept_language = Some("en-US,en;q=0.5".into());
                (c, varied.clone(), t)
            }
            "botnet-template" => (
                browser(rng, home, false),
                AttackContent {
                    random_indicators: true,
                    decoys: 0,
                    comment: CommentStyle::Template,
                },
                t,
            ),
            "botnet-burst" => (
                browser(rng, home, false),
                fixed.clone(),
                start + rng.gen_range(0..burst_len),
            ),
            "cookie-hopping" => {
                let mut c = constant_browser.clone();
                c.addr = Some(home);
                (c, varied.clone(), t)
            }
            "small-cells" => (browser(rng, cell_addrs[k / 5], false), varied.clone(), t),
            "mixed-networks" => (
                browser(rng, in_nets, false),
                AttackContent {
                    random_indicators: true,
                    decoys,
                    comment: CommentStyle::None,
                },
                t,
            ),
            _ => (
                browser(rng, home, coin),
                AttackContent {
                    random_indicators: true,
                    decoys,
                    comment: CommentStyle::Generated,
                },
                t,
            ),
        };
        sent.push(Sent {
            client,
            ballot: attack_ballot(rng, target, &content, pop),
            minute: at.min(span),
            attack: true,
        });
    }
}

/// Held shares of one simulated round.
#[derive(Debug, Clone, Copy, Default)]
pub struct Outcome {
    pub attack: usize,
    pub attack_held: usize,
    pub honest: usize,
    pub honest_held: usize,
}

/// Runs the scan in process over a simulated round.
pub fn scan_in_process(round: &Round, params: &Params) -> Outcome {
    let key = b"simulator key, not a secret....";
    let observed: Vec<Observed> = round
        .sent
        .iter()
        .enumerate()
        .map(|(i, s)| Observed {
            ballot: i as i64,
            signals: Signals::of(key, &s.client, &s.ballot, s.minute),
            units: s.ballot.nominations.iter().map(|n| n.unit_id).collect(),
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
    let clusters = integrity::scan(&observed, &population, params);
    let mut held = vec![false; observed.len()];
    let debug = std::env::var_os("MINPING_SIM_DEBUG").is_some();
    for c in &clusters {
        let honest = c
            .ballots
            .iter()
            .filter(|b| !round.sent[**b as usize].attack)
            .count();
        if debug && honest > 0 {
            eprintln!(
                "cluster {} unit {} (target {}) holds {} honest of {}: {:?}",
                c.id,
                c.unit.0,
                round.target.0,
                honest,
                c.ballots.len(),
                c.findings
            );
        }
        for b in &c.ballots {
            held[*b as usize] = true;
        }
    }
    let mut out = Outcome::default();
    for (s, h) in round.sent.iter().zip(held) {
        if s.attack {
            out.attack += 1;
            out.attack_held += usize::from(h);
        } else {
            out.honest += 1;
            out.honest_held += usize::from(h);
        }
    }
    out
}

/// Runs `trials` rounds of every public with every attack (and with none) and prints the
/// held shares; returns whether the targets (≥ 95 % of attack ballots held, ≤ 1 % of honest
/// ones, the `hard` attack apart) were met.
pub fn run_in_process(trials: u64, seed: u64) -> bool {
    let params = Params::default();
    if let Ok(one) = std::env::var("MINPING_SIM_ONE") {
        // public,attack,seed: one trial, with every cluster printed.
        let parts: Vec<&str> = one.split(',').collect();
        let r = round(parts[0], Some(parts[1]), parts[2].parse().unwrap_or(0));
        let o = scan_in_process(&r, &params);
        let attack_units: BTreeMap<i64, usize> = r
            .sent
            .iter()
            .filter(|s| s.attack)
            .flat_map(|s| s.ballot.nominations.iter().map(|n| n.unit_id.0))
            .fold(BTreeMap::new(), |mut m, u| {
                *m.entry(u).or_default() += 1;
                m
            });
        let honest_target = r
            .sent
            .iter()
            .filter(|s| !s.attack && s.ballot.nominations.iter().any(|n| n.unit_id == r.target))
            .count();
        eprintln!(
            "target {} honest naming it {honest_target}; attack units {attack_units:?}; {o:?}",
            r.target.0
        );
        return true;
    }
    let mut rows: BTreeMap<(String, String), Vec<Outcome>> = BTreeMap::new();
    let mut n = 0u64;
    for public in PUBLICS {
        for attack in std::iter::once(None).chain(ATTACKS.iter().map(|a| Some(*a))) {
            for t in 0..trials {
                n += 1;
                let trial_seed = seed.wrapping_add(n * 7919 + t);
                let r = round(public, attack, trial_seed);
                let o = scan_in_process(&r, &params);
                if std::env::var_os("MINPING_SIM_DEBUG").is_some()
                    && (o.attack_held * 20 < o.attack * 19 || o.honest_held * 100 > o.honest)
                {
                    eprintln!(
                        "trial {public} {attack:?} seed {trial_seed}: attack {}/{} honest {}/{}",
                        o.attack_held, o.attack, o.honest_held, o.honest
                    );
                }
                rows.entry((public.to_string(), attack.unwrap_or("none").to_string()))
                    .or_default()
                    .push(o);
            }
        }
    }
    println!(
        "{:<14} {:<20} {:>9} {:>9} {:>10} {:>10}",
        "public", "attack", "attack", "held", "honest", "held"
    );
    let mut ok = true;
    let mut totals: BTreeMap<bool, Outcome> = BTreeMap::new();
    for ((public, attack), outs) in &rows {
        let sum = outs.iter().fold(Outcome::default(), |a, o| Outcome {
            attack: a.attack + o.attack,
            attack_held: a.attack_held + o.attack_held,
            honest: a.honest + o.honest,
            honest_held: a.honest_held + o.honest_held,
        });
        let worst_honest = outs
            .iter()
            .map(|o| o.honest_held as f64 / o.honest.max(1) as f64)
            .fold(0.0, f64::max);
        let worst_attack = outs
            .iter()
            .filter(|o| o.attack > 0)
            .map(|o| o.attack_held as f64 / o.attack as f64)
            .fold(1.0, f64::min);
        let hard = attack == "hard";
        let t = totals.entry(hard).or_default();
        t.attack += sum.attack;
        t.attack_held += sum.attack_held;
        t.honest += sum.honest;
        t.honest_held += sum.honest_held;
        let attack_share = sum.attack_held as f64 / sum.attack.max(1) as f64;
        let honest_share = sum.honest_held as f64 / sum.honest.max(1) as f64;
        let fail = !hard && ((sum.attack > 0 && attack_share < 0.95) || honest_share > 0.01);
        ok &= !fail;
        println!(
            "{public:<14} {attack:<20} {:>9} {:>8.1}% {:>10} {:>9.2}%   worst: attack {:>5.1}% honest {:>5.2}%{}",
            sum.attack,
            100.0 * attack_share,
            sum.honest,
            100.0 * honest_share,
            100.0 * worst_attack,
            100.0 * worst_honest,
            if fail { "  <-- misses the target" } else { "" }
        );
    }
    for (hard, t) in totals {
        println!(
            "{}: attack held {:.1}% of {}, honest held {:.2}% of {}",
            if hard {
                "hard attack (not a target)"
            } else {
                "all targeted attacks"
            },
            100.0 * t.attack_held as f64 / t.attack.max(1) as f64,
            t.attack,
            100.0 * t.honest_held as f64 / t.honest.max(1) as f64,
            t.honest
        );
    }
    ok
}

//! The ranking on a round of `n` ballots: the in-memory floor, serving the stored ranking,
//! and recomputing it from storage for audit.

use crate::{
    RunArgs,
    report::{self, Report},
};
use anyhow::{Context, bail};
use minping_domain::{
    Ballot, Channel, IndicatorMask, Method, Nomination, Period, Receipt, RoundId, RoundState,
    UnitId,
    ranking::{self, rank},
    settings::RoundSettings,
};
use minping_storage::{Actor, Finalization, FrozenRanking, NewBallot, Storage};
use rand::{Rng, SeedableRng, rngs::StdRng, seq::SliceRandom};
use std::{collections::BTreeMap, sync::Arc, time::Instant};

/// `n` ballots over 106 units in one round: the in-memory floor, serving the stored ranking,
/// and recomputing it from storage.
pub async fn ranking_bench(
    store: Arc<dyn Storage>,
    n: usize,
    backend: &str,
    args: &RunArgs,
    report: &mut Report,
) -> anyhow::Result<()> {
    let settings = RoundSettings::default();
    let organizer = Actor {
        user_id: None,
        name: "bench".into(),
    };
    let agency = store
        .create_agency(
            "基准局",
            &minping_storage::Actor::system(),
            chrono::Utc::now(),
        )
        .await?;
    let mut units = Vec::new();
    for i in 0..106 {
        units.push(
            store
                .create_unit(
                    agency.id,
                    &format!("科室{i}"),
                    "科室",
                    &minping_storage::Actor::system(),
                    chrono::Utc::now(),
                )
                .await?
                .id,
        );
    }
    let label: Period = "2026Q3".parse().map_err(|e| anyhow::anyhow!("{e:?}"))?;
    let now = chrono::Utc::now();
    let round = store
        .create_round(label, &settings, &organizer, now)
        .await?;
    store
        .transition_round(
            round.id,
            RoundState::Draft,
            RoundState::Open,
            &organizer,
            now,
        )
        .await?;

    let mut rng = StdRng::seed_from_u64(n as u64);
    let ballots: Vec<NewBallot> = (0..n)
        .map(|_| random_ballot(&mut rng, round.id, &units))
        .collect();
    let t = Instant::now();
    for chunk in ballots.chunks(5_000) {
        store.insert_ballots(chunk).await?;
    }
    let load_secs = t.elapsed().as_secs_f64();
    store
        .transition_round(
            round.id,
            RoundState::Open,
            RoundState::Closed,
            &organizer,
            now,
        )
        .await?;
    let method = Method::weighted_nominations(&settings);
    let none = BTreeMap::new();

    let mut floor = Vec::new();
    let mut ranking = None;
    for _ in 0..args.runs.max(5) {
        let t = Instant::now();
        let tallies = ranking::tally(
            ballots
                .iter()
                .flat_map(|b| b.ballot.nominations.iter().map(|x| (b.ballot.channel, x))),
            settings.indicators.len(),
        );
        let r = rank(&tallies, &method, &none);
        floor.push(t.elapsed().as_secs_f64() * 1000.0);
        ranking = Some(r);
    }
    let ranking = ranking.context("ranked")?;

    let mut audit = Vec::new();
    for _ in 0..args.runs {
        let t = Instant::now();
        let tallies = store.tallies(round.id, settings.indicators.len()).await?;
        let r = rank(&tallies, &method, &none);
        audit.push(t.elapsed().as_secs_f64() * 1000.0);
        if r != ranking {
            bail!("{backend}: the ranking recomputed from storage differs from the in-memory one");
        }
    }

    store
        .finalize_round(
            round.id,
            &Finalization {
                frozen: FrozenRanking {
                    method: method.clone(),
                    ranking: ranking.clone(),
                },
                rules: serde_json::to_string(&minping_domain::rules::Rules::default())?,
                proposals: Vec::new(),
                counted_reports: Vec::new(),
            },
            &organizer,
            now,
        )
        .await?;
    let mut serve = Vec::new();
    for _ in 0..args.runs.max(20) {
        let t = Instant::now();
        let frozen = store
            .frozen_ranking(round.id)
            .await?
            .context("frozen ranking")?;
        let body = serde_json::to_vec(&frozen.ranking)?;
        std::hint::black_box(body);
        serve.push(t.elapsed().as_secs_f64() * 1000.0);
    }
    let floor_ms = report::median(&floor);
    report.ranking(backend, n, load_secs, &floor, &serve, &audit, floor_ms);
    Ok(())
}

fn random_ballot(rng: &mut StdRng, round: RoundId, units: &[UnitId]) -> NewBallot {
    let k = rng.gen_range(1..=10);
    let mut named: Vec<UnitId> = units.choose_multiple(rng, k).copied().collect();
    named.sort();
    let nominations = named
        .into_iter()
        .map(|unit_id| Nomination {
            unit_id,
            indicators: IndicatorMask(rng.gen_range(1..32)),
            comment: rng
                .gen_bool(0.1)
                .then(|| "材料要求一次说不清，来回跑了四趟才办成。".to_string()),
        })
        .collect();
    NewBallot::new(
        round,
        Ballot {
            channel: Channel::Open,
            code: None,
            nominations,
            exposure: vec![],
        },
        Receipt::generate(rng),
        chrono::NaiveDate::from_ymd_opt(2026, 8, 1).unwrap_or_default(),
        None,
    )
}

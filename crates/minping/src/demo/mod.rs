//! The demo district (`minping demo`): a realistic 南川区 with five years of quarterly
//! rounds, so every page has something true-to-life to show on first start.
//!
//! The history is made through the same workflows a district uses, each step on its own
//! day: the demo moves the application's clock and calls them as the organizer, the clerks,
//! the investigators and the citizens would. Units are added and retired through the
//! organization's workflow, people take and leave posts on their dates, the panel is
//! imported, drawn and mailed each round, citizens answer with their codes or through the
//! open channel, reports are filed and investigated, rounds are opened, closed, finalized
//! (the rules engine proposes the sanctions) and published, the organizer confirms the
//! sanctions (a removal ends the post, and a new head is appointed), and the organization
//! department checks people up for promotion.
//!
//! The ballots come from a small seeded model ([`model`]) rather than from fixed numbers, so
//! rankings move the way the article (`reference/seed-workers-daily-page.txt`) describes: a
//! unit that lands in the top 10 is talked to and rectifies, so its difficulty drops in the
//! following quarters; some relapse ("民意就会反弹"); the rest drift. The units named in the
//! article are biased so they show their story (殡仪馆 twice in the top 10, 不动产登记中心 at
//! ranks 1 and 4, 基础教育科 at 7) without hard-coding any rank: the ranking is always computed
//! from the stored ballots. The same seed gives the same district.

mod catalogue;
mod model;
mod panel;
mod people;
mod reports;

pub use catalogue::ARTICLE_UNITS;
pub use panel::DEMO_PANEL;

use anyhow::{Context, Result, ensure};
use catalogue::{DISTRICT, RETIREMENTS, SCRIPTS};
use chrono::{DateTime, Duration, NaiveDate, TimeZone, Utc};
use chrono_tz::Tz;
use indicatif::ProgressBar;
use minping_app::{
    App, Config, accountability, accounts,
    clock::ManualClock,
    intake, org,
    rounds::{self, advance},
};
use minping_domain::{
    Ballot, Channel, Method, Period, PostRole, Role, RoundId, RoundState, integrity::ClientFacts,
    paper::Content, rules::SanctionKind,
};
use minping_storage::{Actor, Storage};
use model::{
    BallotShape, ModelUnit, aim_at_rank, evolve, generate, miss, model_positions, new_model_unit,
    normal,
};
use people::{Posts, plan_posts};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::{collections::BTreeMap, path::Path, sync::Arc};

/// The demo accounts' password.
pub const DEMO_PASSWORD: &str = "minping-demo";

/// How many published quarters precede today's.
const PAST_ROUNDS: usize = 20;
/// Candidate ballot sets tried for a round whose article unit is biased towards a rank.
const ATTEMPTS: usize = 64;
/// The share of heads the organization department considers for promotion in a quarter.
const UP_FOR_PROMOTION: f64 = 0.04;

/// What [`seed`] created.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Summary {
    /// Agencies (局/部门).
    pub agencies: usize,
    /// Units (科室), retired ones included.
    pub units: usize,
    /// People holding or having held a post.
    pub people: usize,
    /// Panel members registered.
    pub members: usize,
    /// Past rounds taken through the whole lifecycle to `published`.
    pub rounds_published: usize,
    /// Ballots stored, over every round (the open one included).
    pub ballots: u64,
    /// Sanctions confirmed over the history.
    pub sanctions: usize,
    /// Reports filed, over the history and the open quarter.
    pub reports: usize,
    /// The round of `today`'s quarter, left open with a few ballots in it.
    pub open_round: RoundId,
}

/// The demo district in the data folder `data`: seeded with `seed` unless it is there already,
/// then opened to serve (on the system's clock). Returns what was seeded, if anything was.
pub async fn open(
    data: &Path,
    database_url: Option<&str>,
    seed_number: u64,
) -> Result<(App, Option<Summary>)> {
    let config = Config::load(data, database_url)?;
    let store = minping_storage::open(&config.data, database_url)
        .await
        .context("cannot open the database")?;
    let seeded = store.user_by_name("organizer").await?.is_some();
    let summary = if seeded {
        None
    } else {
        ensure!(
            store.units().await?.is_empty(),
            "this database holds data but no demo organizer: it is not a demo, or its seeding was interrupted; use an empty data folder"
        );
        let bar = ProgressBar::new(0).with_style(
            indicatif::ProgressStyle::with_template("{msg:>8} [{bar:30}] {pos}/{len} rounds")
                .expect("valid template")
                .progress_chars("=> "),
        );
        let summary = seed(store.clone(), &config, seed_number, Utc::now(), &bar).await?;
        bar.finish_and_clear();
        Some(summary)
    };
    Ok((App::new(store, config), summary))
}

/// The demo's clock: set to a wall-clock time on a day in the deployment's time zone, never
/// past the moment the demo is seeded.
pub(crate) struct Timeline {
    clock: Arc<ManualClock>,
    tz: Tz,
    cap: DateTime<Utc>,
}

impl Timeline {
    /// A time on a day, in the deployment's zone, no later than the cap.
    fn at(&self, day: NaiveDate, hour: u32, minute: u32) -> DateTime<Utc> {
        let naive = day
            .and_hms_opt(hour, minute, 0)
            .expect("a valid time of day");
        let t = self
            .tz
            .from_local_datetime(&naive)
            .earliest()
            .map_or_else(|| Utc.from_utc_datetime(&naive), |t| t.with_timezone(&Utc));
        t.min(self.cap)
    }

    /// Sets the clock to a time on a day.
    fn set(&self, day: NaiveDate, hour: u32, minute: u32) {
        self.clock.set(self.at(day, hour, minute));
    }

    /// Sets the clock.
    fn set_at(&self, t: DateTime<Utc>) {
        self.clock.set(t.min(self.cap));
    }

    /// The day of a moment, in the deployment's zone.
    fn day(&self, t: DateTime<Utc>) -> NaiveDate {
        t.with_timezone(&self.tz).date_naive()
    }
}

/// Keeps a round's step times in order and never after `cap`: the last round may have
/// closed later than a real calendar would allow, but never in the future.
fn clamp_steps<const N: usize>(
    steps: [DateTime<Utc>; N],
    cap: DateTime<Utc>,
) -> [DateTime<Utc>; N] {
    let mut out = steps;
    for (k, t) in out.iter_mut().enumerate() {
        let latest = cap - Duration::minutes(10 * (N - 1 - k) as i64);
        *t = (*t).min(latest);
    }
    out
}

/// The people the demo acts as, each through their own account.
struct Cast {
    organizer: Actor,
    /// Two investigators: the one who substantiates a report is never the one who took it
    /// in or opened it.
    investigators: [Actor; 2],
}

/// Creates the demo's accounts, one per role (the unit account for 不动产登记中心).
async fn accounts(app: &App) -> Result<Cast> {
    let unit_account = app
        .store()
        .units()
        .await?
        .into_iter()
        .find(|u| u.name == "不动产登记中心")
        .map(|u| u.id);
    for role in Role::ALL.into_iter().rev() {
        let unit = (role == Role::Unit).then_some(unit_account).flatten();
        if role == Role::Unit && unit.is_none() {
            continue;
        }
        accounts::add_user(
            app,
            role.as_str(),
            role,
            DEMO_PASSWORD,
            unit,
            &Actor::system(),
        )
        .await?;
    }
    accounts::add_user(
        app,
        "investigator2",
        Role::Investigator,
        DEMO_PASSWORD,
        None,
        &Actor::system(),
    )
    .await?;
    let mut cast = Vec::new();
    for name in ["organizer", "investigator", "investigator2"] {
        let user = app
            .store()
            .user_by_name(name)
            .await?
            .with_context(|| format!("the demo account {name}"))?;
        cast.push(Actor {
            user_id: Some(user.id),
            name: user.name,
        });
    }
    let second = cast.pop().context("three accounts")?;
    let first = cast.pop().context("three accounts")?;
    let organizer = cast.pop().context("three accounts")?;
    Ok(Cast {
        organizer,
        investigators: [first, second],
    })
}

/// Seeds an EMPTY store with a realistic district, as of `now`; deterministic for a seed.
///
/// Creates the agencies and units of 南川区, people with dated head and supervising-leader
/// posts, a panel registry, published rounds for the 20 quarters before `now`'s quarter,
/// and an open round for `now`'s quarter holding a few dozen ballots and four reports.
/// Every step is dated on or before `now`. `progress` advances once per round.
pub async fn seed(
    store: Arc<dyn Storage>,
    config: &Config,
    seed: u64,
    now: DateTime<Utc>,
    progress: &ProgressBar,
) -> Result<Summary> {
    ensure!(
        store.agencies().await?.is_empty() && store.rounds().await?.is_empty(),
        "the demo district can only be seeded into an empty database"
    );
    let tz = config.settings.tz();
    let today = now.with_timezone(&tz).date_naive();
    let current = Period::containing(today);
    let mut labels = vec![current];
    for _ in 0..PAST_ROUNDS {
        let earlier = Period::containing(labels[0].start() - Duration::days(1));
        labels.insert(0, earlier);
    }
    let first_start = labels[0].start();
    let clock = Arc::new(ManualClock::new(now));
    let time = Timeline {
        clock: clock.clone(),
        tz,
        cap: now,
    };
    let app = Arc::new(App::new(store.clone(), config.clone()).with_clock(clock));
    let mut rng = ChaCha8Rng::seed_from_u64(seed);

    // The organisation, a year before the first round.
    let founded = first_start - Duration::days(400);
    time.set(founded, 9, 0);
    let mut units: Vec<ModelUnit> = Vec::new();
    let mut by_name: BTreeMap<(String, String), usize> = BTreeMap::new();
    let mut agency_units: Vec<Vec<usize>> = Vec::new();
    for (agency_name, specs) in DISTRICT {
        let agency = org::create_agency(&app, agency_name, &Actor::system())
            .await
            .with_context(|| format!("creating {agency_name}"))?;
        let mut members = Vec::new();
        for spec in specs.iter() {
            let unit = org::create_unit(&app, agency.id, spec.name, None, &Actor::system())
                .await
                .with_context(|| format!("creating {agency_name} {}", spec.name))?;
            by_name.insert(
                (agency_name.to_string(), spec.name.to_string()),
                units.len(),
            );
            members.push(units.len());
            units.push(new_model_unit(&mut rng, unit.id, spec));
        }
        agency_units.push(members);
    }
    let index = |agency: &str, unit: &str| -> Result<usize> {
        by_name
            .get(&(agency.to_string(), unit.to_string()))
            .copied()
            .with_context(|| format!("{agency} {unit} is missing from the catalogue"))
    };
    // The article units rectified for good after their time in the list ("最差"变"最优"):
    // a low long-run difficulty and no relapses, so they stay off the list once their
    // biased rounds are over.
    for (agency, unit) in ARTICLE_UNITS {
        let i = index(agency, unit)?;
        units[i].base = -1.0 + 0.1 * normal(&mut rng);
        units[i].ln_d = units[i].base;
        units[i].steady = true;
    }
    let cast = accounts(&app).await?;
    let plan = plan_posts(&mut rng, &units, &agency_units, first_start, today, &index)?;
    let mut posts = Posts::new(plan);
    posts.give_until(&app, &units, founded).await?;
    let members = panel::register(&app, seed).await?;

    progress.set_length(labels.len() as u64);
    let positions = model_positions(&config.settings.round_settings());
    let mut ballots_total = 0u64;
    let mut sanctions = 0;
    let mut reports_filed = 0;
    let mut last_close = None;
    for (r, &period) in labels[..PAST_ROUNDS].iter().enumerate() {
        progress.set_message(period.to_string());
        let next = labels[r + 1];
        let opened_day = last_close.map_or(period.start(), |d: NaiveDate| {
            (d + Duration::days(1)).max(period.start())
        });
        let [created, opened, closed, finalized, published, decided] = clamp_steps(
            [
                time.at(period.start() - Duration::days(10), 10, 0),
                time.at(opened_day, 9, 0),
                time.at(next.start() + Duration::days(13), 17, 30),
                time.at(next.start() + Duration::days(16), 10, 0),
                time.at(next.start() + Duration::days(18), 9, 0),
                time.at(next.start() + Duration::days(21), 10, 0),
            ],
            now,
        );
        posts.give_until(&app, &units, time.day(created)).await?;
        time.set_at(created);
        let round = rounds::create(&app, &period.to_string(), &cast.organizer).await?;
        posts.give_until(&app, &units, time.day(opened)).await?;
        time.set_at(opened);
        advance(&app, round.id, RoundState::Open, &cast.organizer).await?;
        let mut codes = panel::draw_and_mail(
            &app,
            round.id,
            &format!("{seed}-{period}"),
            &cast.organizer,
            &mut rng,
        )
        .await?;
        let close_day = time.day(closed);
        for (_, report) in reports::HISTORY.iter().filter(|(at, _)| *at == r) {
            let received = time.day(opened) + Duration::days(rng.gen_range(5..40));
            let concluded = (received + Duration::days(rng.gen_range(15..30))).min(close_day);
            reports::file(
                &app,
                &time,
                report,
                received,
                concluded,
                &cast.investigators,
            )
            .await?;
            reports_filed += 1;
        }

        let scripts: Vec<(usize, u32, u32)> = SCRIPTS
            .iter()
            .filter(|s| s.round == r)
            .map(|s| Ok((index(s.agency, s.unit)?, s.best, s.worst)))
            .collect::<Result<_>>()?;
        // The bias is for this round only: afterwards the unit carries on from where it was.
        let unbiased: Vec<(usize, f64)> = scripts.iter().map(|s| (s.0, units[s.0].ln_d)).collect();
        for &(i, best, worst) in &scripts {
            aim_at_rank(&mut units, i, &scripts, (best + worst) / 2);
        }
        let directed = ((codes.len() as f64) * rng.gen_range(0.70..0.90)).round() as usize;
        let open = rng.gen_range(200..=400);
        let shape = BallotShape {
            positions: &positions,
            trend: r as f64 / PAST_ROUNDS as f64,
        };
        let days = (close_day - time.day(opened)).num_days().max(1);
        let method = Method::weighted_nominations(&round.settings);
        // A round that should show an article unit at some rank keeps the closest of a
        // few candidate ballot sets: every candidate is an honest sample of the model.
        let mut best: Option<(u32, Vec<(NaiveDate, Ballot)>)> = None;
        for _ in 0..if scripts.is_empty() { 1 } else { ATTEMPTS } {
            let ballots = generate(
                &mut rng,
                &units,
                &shape,
                directed,
                open,
                time.day(opened),
                days,
            );
            let off = scripts
                .iter()
                .map(|&(i, lo, hi)| miss(&ballots, &method, units[i].id, lo, hi))
                .sum::<u32>();
            if best.as_ref().is_none_or(|(m, _)| off < *m) {
                best = Some((off, ballots));
            }
            if off == 0 {
                break;
            }
        }
        let (_, ballots) = best.context("no ballots generated")?;
        ballots_total += answer(&app, &time, &round, ballots, &mut codes).await?;

        time.set_at(closed);
        advance(&app, round.id, RoundState::Closed, &cast.organizer).await?;
        posts.give_until(&app, &units, time.day(finalized)).await?;
        time.set_at(finalized);
        advance(&app, round.id, RoundState::Finalized, &cast.organizer).await?;
        posts.give_until(&app, &units, time.day(published)).await?;
        time.set_at(published);
        advance(&app, round.id, RoundState::Published, &cast.organizer).await?;

        // The organizer confirms what the rules proposed; a removal ends the post, and the
        // unit gets a new head (or its units a new leader) that day.
        posts.give_until(&app, &units, time.day(decided)).await?;
        time.set_at(decided);
        for s in app.store().sanctions(round.id).await? {
            accountability::decide(
                &app,
                s.id,
                true,
                "按评议规则确认（演示数据）",
                Some("区委常委会会议纪要（演示数据）"),
                &cast.organizer,
            )
            .await?;
            sanctions += 1;
            let Some(i) = units.iter().position(|u| u.id == s.proposal.unit_id) else {
                continue;
            };
            match s.proposal.kind {
                SanctionKind::HeadRemoved => posts.replace_head(&mut rng, i, time.day(decided)),
                SanctionKind::LeaderRemoved => posts.replace_leader(&mut rng, i, time.day(decided)),
                _ => continue,
            }
            // A new head or leader starts by fixing what got the predecessor removed.
            units[i].ln_d = units[i].ln_d.min(units[i].base);
        }
        posts.give_until(&app, &units, time.day(decided)).await?;
        check_promotions(
            &app,
            &time,
            &mut rng,
            &units,
            &mut posts,
            time.day(published),
            &cast,
        )
        .await?;

        let frozen = app
            .store()
            .frozen_ranking(round.id)
            .await?
            .context("a finalized round has a ranking")?;
        for (i, ln_d) in unbiased {
            units[i].ln_d = units[i].ln_d.min(ln_d);
        }
        evolve(&mut rng, &mut units, &frozen, r);
        for &(agency, unit, after) in RETIREMENTS {
            if after == r {
                let i = index(agency, unit)?;
                time.set(time.day(decided) + Duration::days(20), 10, 0);
                org::set_unit_active(&app, units[i].id, false, &Actor::system()).await?;
                units[i].active = false;
            }
        }
        last_close = Some(close_day);
        progress.inc(1);
    }

    // Today's quarter: open, with a third of the drawn panel and a few dozen newspaper and
    // website forms in, and four reports.
    let period = labels[PAST_ROUNDS];
    progress.set_message(period.to_string());
    let opened_day = last_close.map_or(period.start(), |d| {
        (d + Duration::days(1)).max(period.start())
    });
    let [created, opened] = clamp_steps(
        [
            time.at(period.start() - Duration::days(10), 10, 0),
            time.at(opened_day, 9, 0),
        ],
        now,
    );
    posts.give_until(&app, &units, time.day(created)).await?;
    time.set_at(created);
    let round = rounds::create(&app, &period.to_string(), &cast.organizer).await?;
    time.set_at(opened);
    advance(&app, round.id, RoundState::Open, &cast.organizer).await?;
    let mut codes = panel::draw_and_mail(
        &app,
        round.id,
        &format!("{seed}-{period}"),
        &cast.organizer,
        &mut rng,
    )
    .await?;
    let shape = BallotShape {
        positions: &positions,
        trend: 1.0,
    };
    let days = (today - time.day(opened)).num_days() + 1;
    let directed = codes.len() / 3;
    let open = rng.gen_range(30..=60usize);
    let ballots = generate(
        &mut rng,
        &units,
        &shape,
        directed,
        open,
        time.day(opened),
        days.max(1),
    );
    ballots_total += answer(&app, &time, &round, ballots, &mut codes).await?;
    for (k, report) in reports::OPEN_QUARTER.iter().enumerate() {
        let span = days.max(1);
        let received = time.day(opened) + Duration::days(span * k as i64 / 5);
        reports::file(&app, &time, report, received, today, &cast.investigators).await?;
        reports_filed += 1;
    }
    posts.give_until(&app, &units, today).await?;
    time.set_at(now);
    progress.inc(1);

    let summary = Summary {
        agencies: DISTRICT.len(),
        units: units.len(),
        people: posts.people(),
        members,
        rounds_published: PAST_ROUNDS,
        ballots: ballots_total,
        sanctions,
        reports: reports_filed,
        open_round: round.id,
    };
    tracing::info!(?summary, "demo district seeded");
    Ok(summary)
}

/// Citizens answer: each ballot on its day, a directed one with the next drawn member's
/// code, an open-channel one as a newspaper or website form. The ballots of a day are sent
/// together, as they would arrive. Returns how many were stored.
async fn answer(
    app: &Arc<App>,
    time: &Timeline,
    round: &minping_domain::Round,
    ballots: Vec<(NaiveDate, Ballot)>,
    codes: &mut Vec<String>,
) -> Result<u64> {
    let mut by_day: BTreeMap<NaiveDate, Vec<Ballot>> = BTreeMap::new();
    for (day, ballot) in ballots {
        by_day.entry(day).or_default().push(ballot);
    }
    let mut stored = 0;
    for (day, ballots) in by_day {
        time.set(day, 12, 0);
        let mut sending = tokio::task::JoinSet::new();
        for ballot in ballots {
            let mut draft = Content::of(&ballot, &round.settings.indicators).draft();
            draft.channel = ballot.channel.as_str().into();
            if ballot.channel == Channel::Directed {
                draft.code = Some(codes.pop().context("more answers than drawn members")?);
            }
            let (app, id) = (app.clone(), round.id);
            sending.spawn(
                async move { intake::submit(&app, id, draft, &ClientFacts::default()).await },
            );
        }
        while let Some(sent) = sending.join_next().await {
            sent?.map_err(|e| anyhow::anyhow!("a demo ballot was refused: {e}"))?;
            stored += 1;
        }
    }
    Ok(stored)
}

/// The organization department considers a few heads for promotion in the quarter after a
/// round is published, and checks each against the promotion calendar: a head whose unit
/// was just listed is still frozen, and the promotion is deferred (暂缓提拔).
async fn check_promotions(
    app: &App,
    time: &Timeline,
    rng: &mut ChaCha8Rng,
    units: &[ModelUnit],
    posts: &mut Posts,
    published: NaiveDate,
    cast: &Cast,
) -> Result<()> {
    let mut considered: Vec<(&ModelUnit, NaiveDate)> = Vec::new();
    for unit in units.iter().filter(|u| u.active) {
        if rng.gen_bool(UP_FOR_PROMOTION) {
            considered.push((unit, published + Duration::days(rng.gen_range(7..80))));
        }
    }
    if let Some(last) = considered.iter().map(|(_, day)| *day).max() {
        posts.give_until(app, units, last).await?;
    }
    let held = app.store().posts().await?;
    let unit_names = accountability::unit_labels(app).await?;
    for (unit, day) in considered {
        let Some(head) = held
            .iter()
            .find(|p| p.unit_id == unit.id && p.role == PostRole::Head && p.held_on(day))
        else {
            continue;
        };
        if time.at(day, 15, 0) >= time.cap {
            continue;
        }
        time.set(day, 15, 0);
        let agency = unit_names
            .get(&unit.id.0)
            .and_then(|l| l.split(" · ").next())
            .unwrap_or_default();
        let note = format!("拟提拔为{agency}副局长");
        accountability::check_promotion(app, head.person_id, day, &note, &cast.organizer).await?;
    }
    Ok(())
}

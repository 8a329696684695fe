//! The command line: `serve`, `demo`, `user add`, `user token`.

use anyhow::{Context, bail};
use clap::{Args, Parser, Subcommand};
use minping_app::{App, Config, accounts, draws};
use minping_domain::{Role, UnitId};
use minping_web::{AppState, Application};
use std::path::{Path, PathBuf};

/// minping (民评): public evaluation of government service units — citizens name the
/// hardest units to deal with, the results are published, and accountability follows.
#[derive(Parser, Debug)]
#[command(name = "minping", version, about, long_about = None)]
pub struct Cli {
    #[command(flatten)]
    pub global: Global,
    #[command(subcommand)]
    pub command: Command,
}

/// Where the data lives; every command takes these.
#[derive(Args, Debug, Clone)]
pub struct Global {
    /// The data folder: settings (minping.toml) and, without --database-url, the SQLite database.
    #[arg(
        long,
        global = true,
        default_value = "./minping-data",
        env = "MINPING_DATA"
    )]
    pub data: PathBuf,
    /// A postgres:// URL to use PostgreSQL instead of the embedded SQLite file.
    #[arg(long, global = true, env = "MINPING_DATABASE_URL")]
    pub database_url: Option<String>,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Serve the public site, the console and the API.
    Serve(ServeArgs),
    /// Seed a demo district into an empty data folder (or reuse it), print a sign-in, and serve.
    Demo(DemoArgs),
    /// Manage staff accounts (works while the server runs on the same data).
    #[command(subcommand)]
    User(UserCommand),
    /// Write the personalised PDF forms of a round's drawn sample (post office order), the
    /// mailing list (CSV, XLSX) and the open-channel newspaper form. Works while the server
    /// runs on the same data.
    Forms {
        /// The round's id.
        #[arg(long)]
        round: i64,
        /// The folder to write into.
        #[arg(long)]
        out: PathBuf,
    },
    /// The directed panel (定向评议名单库): registry, verifiable draw.
    #[command(subcommand)]
    Panel(PanelCommand),
}

#[derive(Subcommand, Debug)]
pub enum PanelCommand {
    /// Import members from a CSV (UTF-8 or GBK) or XLSX file, row by row: valid rows are
    /// imported, refused rows are listed with their reasons and written to FILE.rejected.csv.
    Import {
        /// The file, with a header row (姓名, 类别, 地址, 邮编, 电话, 办理过业务的科室, 来源).
        file: PathBuf,
        /// Check everything and import nothing.
        #[arg(long)]
        dry_run: bool,
    },
    /// Export every member (inactive ones too) to a CSV file, or XLSX if FILE ends in .xlsx.
    Export {
        /// Where to write.
        file: PathBuf,
    },
    /// Freeze a round's frame of eligible members and print its SHA-256: publish the hash
    /// before the seed is known (e.g. before the lottery draw whose number will be the seed).
    Freeze {
        /// The round's id.
        #[arg(long)]
        round: i64,
        /// Members to draw (default from minping.toml, 1,000).
        #[arg(long)]
        size: Option<usize>,
    },
    /// Draw a round's sample with the announced seed; freezes the frame first if needed.
    Draw {
        /// The round's id.
        #[arg(long)]
        round: i64,
        /// The seed announced after the frame was frozen.
        #[arg(long)]
        seed: String,
        /// Members to draw if the frame is frozen now (default from minping.toml).
        #[arg(long)]
        size: Option<usize>,
    },
    /// Re-run a round's draw from its frame and seed and confirm it gives the recorded members.
    VerifyDraw {
        /// The round's id.
        #[arg(long)]
        round: i64,
        /// A frame file as published (`id,group` lines); the stored frame if absent.
        #[arg(long)]
        frame: Option<PathBuf>,
        /// The seed; the recorded one if absent.
        #[arg(long)]
        seed: Option<String>,
    },
    /// Write a round's frozen frame (`id,group` lines) to a file, for publication.
    Frame {
        /// The round's id.
        #[arg(long)]
        round: i64,
        /// Where to write it.
        #[arg(long)]
        out: PathBuf,
    },
}

#[derive(Args, Debug)]
pub struct ServeArgs {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:8080")]
    pub listen: String,
    /// Rate limits on public submissions and sign-in; `off` only for load tests on loopback.
    #[arg(long, value_enum, default_value_t = Switch::On)]
    pub rate_limit: Switch,
}

/// On or off.
#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum Switch {
    On,
    Off,
}

#[derive(Args, Debug)]
pub struct DemoArgs {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:8080")]
    pub listen: String,
    /// Seed of the demo's random model; the same seed gives the same district.
    #[arg(long, default_value_t = 2014)]
    pub seed: u64,
    /// Seed and exit without serving.
    #[arg(long)]
    pub no_serve: bool,
    /// Rate limits on public submissions and sign-in; `off` only for load tests on loopback.
    #[arg(long, value_enum, default_value_t = Switch::On)]
    pub rate_limit: Switch,
}

#[derive(Subcommand, Debug)]
pub enum UserCommand {
    /// Create a staff account.
    Add {
        /// Sign-in name.
        #[arg(long)]
        name: String,
        /// organizer, clerk, investigator, inspector, unit or leader.
        #[arg(long)]
        role: Role,
        /// Password (at least 8 characters).
        #[arg(long)]
        password: String,
        /// For a unit account: the id of the unit it speaks for.
        #[arg(long)]
        unit: Option<i64>,
    },
    /// Print a new API token for an account (use as `Authorization: Bearer <token>`).
    Token {
        /// Sign-in name.
        #[arg(long)]
        name: String,
    },
}

/// Reads the data folder's configuration and opens its database.
async fn open(global: &Global) -> anyhow::Result<App> {
    let config = Config::load(&global.data, global.database_url.as_deref())?;
    App::open(config).await.context("cannot open the database")
}

/// The demo district in the data folder `data`: seeded with `seed` unless it is there
/// already, and opened to serve.
pub async fn demo(data: &Path, database_url: Option<&str>, seed: u64) -> anyhow::Result<App> {
    let config = Config::load(data, database_url)?;
    let app = App::open(config)
        .await
        .context("cannot open the database")?;
    seed_demo(&app, seed).await?;
    Ok(app)
}

/// Runs a parsed command line.
pub async fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Serve(args) => {
            let app = open(&cli.global).await?;
            serve(app, &args.listen, args.rate_limit).await
        }
        Command::Demo(args) => {
            let app = demo(
                &cli.global.data,
                cli.global.database_url.as_deref(),
                args.seed,
            )
            .await?;
            let password = DEMO_PASSWORD;
            println!("Demo organizer sign-in: name `organizer`, password `{password}`");
            println!(
                "(also clerk, investigator, inspector, leader and unit accounts with the same password)"
            );
            if args.no_serve {
                return Ok(());
            }
            serve(app, &args.listen, args.rate_limit).await
        }
        Command::User(UserCommand::Add {
            name,
            role,
            password,
            unit,
        }) => {
            let app = open(&cli.global).await?;
            accounts::add_user(&app, &name, role, &password, unit.map(UnitId)).await?;
            println!("created {role} account `{name}`");
            Ok(())
        }
        Command::User(UserCommand::Token { name }) => {
            let app = open(&cli.global).await?;
            println!("{}", accounts::issue_token(&app, &name).await?);
            Ok(())
        }
        Command::Forms { round, out } => {
            let app = open(&cli.global).await?;
            let bar = indicatif::ProgressBar::new(0).with_style(
                indicatif::ProgressStyle::with_template("forms [{bar:30}] {pos}/{len} {elapsed}")
                    .expect("valid template")
                    .progress_chars("=> "),
            );
            let progress = bar.clone();
            let written = crate::forms::write(
                &app,
                minping_domain::RoundId(round),
                &out,
                move |done, total| {
                    progress.set_length(total as u64);
                    progress.set_position(done as u64);
                },
            )
            .await?;
            bar.finish_and_clear();
            println!("{} personalised forms written:", written.forms);
            for f in &written.files {
                println!("  {}", f.display());
            }
            Ok(())
        }
        Command::Panel(command) => {
            let app = open(&cli.global).await?;
            panel_command(&app, command).await
        }
    }
}

async fn panel_command(app: &App, command: PanelCommand) -> anyhow::Result<()> {
    use minping_domain::RoundId;
    let actor = minping_storage::Actor {
        user_id: None,
        name: "minping panel (command line)".into(),
    };
    match command {
        PanelCommand::Import { file, dry_run } => {
            let report = crate::panel::import(app, &file, dry_run).await?;
            crate::panel::print_report(&report, &file);
        }
        PanelCommand::Export { file } => {
            let n = crate::panel::export(app, &file).await?;
            println!("wrote {} members to {}", n, file.display());
        }
        PanelCommand::Freeze { round, size } => {
            let frozen = draws::freeze(app, RoundId(round), size).await?;
            println!(
                "frozen: {} eligible members, sample of {}",
                frozen.frame.lines().count(),
                frozen.sample_size
            );
            println!("frame SHA-256: {}", frozen.frame_hash);
            println!("publish this hash now; draw once the seed has been announced");
        }
        PanelCommand::Draw { round, seed, size } => {
            let round = RoundId(round);
            if app.store().frame(round).await?.is_none() {
                let frozen = draws::freeze(app, round, size).await?;
                println!(
                    "frame frozen now (SHA-256 {}); a seed announced after this moment makes the draw verifiable",
                    frozen.frame_hash
                );
            }
            let drawn = draws::draw_sample(app, round, &seed, &actor).await?;
            println!(
                "drawn {} members with seed {:?}",
                drawn.members.len(),
                drawn.seed
            );
            for (group, n) in &drawn.allocation {
                println!("  {group}: {n}");
            }
            println!("frame SHA-256: {}", drawn.frame_hash);
        }
        PanelCommand::VerifyDraw { round, frame, seed } => {
            let text = frame
                .map(|f| {
                    std::fs::read_to_string(&f)
                        .with_context(|| format!("cannot read {}", f.display()))
                })
                .transpose()?;
            let v = draws::verify(app, RoundId(round), text.as_deref(), seed.as_deref()).await?;
            println!(
                "frame SHA-256: {} ({})",
                v.frame_hash,
                if v.frame_hash_matches {
                    "matches the frozen frame"
                } else {
                    "DIFFERS from the frozen frame"
                }
            );
            println!("seed: {:?}; {} members drawn", v.seed, v.drawn);
            if !(v.frame_hash_matches && v.sample_matches) {
                bail!("the draw does NOT reproduce the recorded sample");
            }
            println!("verified: the re-run draws exactly the recorded members");
        }
        PanelCommand::Frame { round, out } => {
            let frozen = app
                .store()
                .frame(RoundId(round))
                .await?
                .with_context(|| format!("round {round} has no frozen frame"))?;
            std::fs::write(&out, &frozen.frame)
                .with_context(|| format!("cannot write {}", out.display()))?;
            println!(
                "wrote {} ({} members, SHA-256 {})",
                out.display(),
                frozen.frame.lines().count(),
                frozen.frame_hash
            );
        }
    }
    Ok(())
}

async fn serve(app: App, listen: &str, limits: Switch) -> anyhow::Result<()> {
    let mut state = AppState::new(app, format!("http://{listen}"));
    if limits == Switch::Off {
        state = state.without_rate_limit();
    }
    let server = Application::build(std::sync::Arc::new(state), listen)
        .await
        .with_context(|| format!("cannot listen on {listen}"))?;
    println!("minping is serving on http://{}/", server.local_addr());
    server.run().await?;
    Ok(())
}

/// Runs the default accountability rules over the demo's published rounds in order, as the
/// organizer would have at each finalization, and records the proposals as confirmed, so
/// the history carries sanctions consistent with its rankings. Returns how many.
async fn seed_demo_sanctions(
    store: &dyn minping_storage::Storage,
    settings: &minping_domain::Settings,
) -> anyhow::Result<usize> {
    use minping_domain::{
        RoundState,
        rules::{EngineInput, PastRound, RoundToFinalize, Rules, propose},
    };
    let rules = Rules::default();
    let rules_json = serde_json::to_string(&rules)?;
    let tz = settings.tz();
    let mut rounds = store.rounds().await?;
    rounds.retain(|r| r.state == RoundState::Published);
    rounds.sort_by_key(|r| r.label);
    let posts = store.posts().await?;
    let retired = store
        .units()
        .await?
        .into_iter()
        .filter(|u| !u.active)
        .map(|u| u.id)
        .collect();
    let mut history: Vec<PastRound> = Vec::new();
    let mut count = 0;
    let organizer = minping_storage::Actor {
        user_id: None,
        name: "organizer".into(),
    };
    for r in rounds {
        let frozen = store
            .frozen_ranking(r.id)
            .await?
            .context("a published round has a frozen ranking")?;
        let published_on = store
            .transitions(r.id)
            .await?
            .iter()
            .find(|t| t.to == RoundState::Published)
            .map(|t| t.at.with_timezone(&tz).date_naive())
            .context("a published round records its publication")?;
        let this = RoundToFinalize::from_ranking(r.label, published_on, &frozen.ranking);
        let proposals = propose(
            &rules,
            &EngineInput {
                round: &this,
                history: &history,
                posts: &posts,
                retired: &retired,
            },
        );
        store
            .record_proposals(r.id, &rules_json, &proposals)
            .await?;
        let decided_at = chrono::Utc::now();
        for s in store.sanctions(r.id).await? {
            store
                .decide_sanction(
                    s.id,
                    true,
                    &organizer,
                    "区委常委会研究决定（演示数据）",
                    decided_at,
                )
                .await?;
            count += 1;
        }
        history.push(PastRound::from_ranking(
            r.label,
            published_on,
            &frozen.ranking,
        ));
    }
    Ok(count)
}

/// Files three reports in the open quarter, as citizens and the hotline would: one just
/// received, one under investigation, one substantiated (which puts its unit at rank 1 of
/// the open round). Returns how many.
async fn seed_demo_reports(app: &App, today: chrono::NaiveDate) -> anyhow::Result<usize> {
    let store = app.store();
    use minping_domain::report::{ReportDraft, ReportSource, ReportState};
    let units = store.units().await?;
    let unit = |name: &str| {
        units
            .iter()
            .find(|u| u.name == name && u.active)
            .map(|u| u.id)
            .with_context(|| format!("the demo has {name}"))
    };
    let investigator = minping_storage::Actor {
        user_id: None,
        name: "investigator".into(),
    };
    let quarter = minping_domain::RoundLabel::containing(today);
    let quarter_start = chrono::NaiveDate::from_ymd_opt(
        i32::from(quarter.year()),
        u32::from(quarter.quarter()) * 3 - 2,
        1,
    )
    .context("a quarter starts on a real day")?;
    let reports = [
        (
            "企业注册科",
            ReportSource::Web,
            "办理营业执照变更时，窗口工作人员要求提供法律没有规定的证明材料，来回跑了四趟。",
            None,
        ),
        (
            "不动产登记中心",
            ReportSource::Hotline,
            "来电反映：办理不动产登记时，有工作人员暗示“打点一下”可以加快办理。",
            Some((
                ReportState::Investigating,
                "转区纪委监委第三纪检组核查",
                None,
            )),
        ),
        (
            "食品经营许可科",
            ReportSource::Letter,
            "来信反映：申请食品经营许可证时，经办人员收受申请人购物卡后才予受理。",
            Some((
                ReportState::Substantiated,
                "经核查，反映问题属实",
                Some("给予经办人员政务记过处分，收受的购物卡已上缴"),
            )),
        ),
    ];
    let at = |d: chrono::NaiveDate| {
        d.and_hms_opt(10, 0, 0)
            .map(|t| t.and_utc())
            .unwrap_or_else(chrono::Utc::now)
    };
    for (name, source, description, outcome) in &reports {
        let report = ReportDraft {
            unit_id: unit(name)?.0,
            description: (*description).into(),
            staff: None,
            contact: None,
            occurred_on: None,
        };
        let id = minping_app::reports::file(app, report, &[], *source)
            .await?
            .id;
        if let Some((to, reason, action)) = outcome {
            store
                .transition_report(
                    id,
                    ReportState::Received,
                    ReportState::Investigating,
                    &investigator,
                    "受理，开展调查",
                    None,
                    at(quarter_start),
                    quarter_start,
                )
                .await?;
            if *to == ReportState::Substantiated {
                store
                    .transition_report(
                        id,
                        ReportState::Investigating,
                        *to,
                        &investigator,
                        reason,
                        *action,
                        at(today),
                        today,
                    )
                    .await?;
            }
        }
    }
    Ok(reports.len())
}

/// Draws the open round's panel sample, marks the forms mailed, and has about a third of
/// the drawn members answer online with their codes. Returns how many answered.
async fn draw_demo_panel(
    app: &App,
    round: minping_domain::RoundId,
    seed: u64,
) -> anyhow::Result<usize> {
    use minping_domain::{BallotDraft, NominationDraft};
    use rand::{Rng, SeedableRng};
    let actor = minping_storage::Actor::system();
    draws::freeze(app, round, None).await?;
    let drawn = draws::draw_sample(app, round, &format!("demo-{seed}"), &actor).await?;
    draws::record_mailing(app, round, &[], true, "mailed").await?;
    let units: Vec<_> = app
        .store()
        .units()
        .await?
        .into_iter()
        .filter(|u| u.active)
        .map(|u| u.id.0)
        .collect();
    let codes: Vec<String> = app
        .settings()
        .indicators
        .iter()
        .map(|i| i.code.clone())
        .collect();
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed ^ 0xd1ec);
    let mut answered = 0;
    for m in drawn
        .members
        .iter()
        .filter(|_| rng.gen_bool(0.33))
        .copied()
        .collect::<Vec<_>>()
    {
        let mut nominations: Vec<NominationDraft> = Vec::new();
        for _ in 0..rng.gen_range(1..4) {
            let unit_id = units[rng.gen_range(0..units.len())];
            if nominations.iter().any(|n| n.unit_id == unit_id) {
                continue;
            }
            let mut indicators: Vec<String> = (0..rng.gen_range(1..3))
                .map(|_| codes[rng.gen_range(0..codes.len())].clone())
                .collect();
            indicators.sort();
            indicators.dedup();
            nominations.push(NominationDraft {
                unit_id,
                indicators,
                comment: None,
            });
        }
        let draft = BallotDraft {
            channel: "directed".into(),
            code: Some(draws::member_code(app, round, m).as_str().to_string()),
            nominations,
            exposure: vec![],
        };
        minping_app::intake::submit(app, round, draft)
            .await
            .map_err(|e| anyhow::anyhow!("demo panel ballot: {e}"))?;
        answered += 1;
    }
    Ok(answered)
}

/// The demo accounts' password.
pub const DEMO_PASSWORD: &str = "minping-demo";

/// Seeds the demo district unless it is already there; returns the demo password.
async fn seed_demo(app: &App, seed: u64) -> anyhow::Result<&'static str> {
    let store = app.store();
    let settings = app.settings();
    let seeded = store.user_by_name("organizer").await?.is_some();
    if seeded {
        println!("Reusing the demo district already in this data folder.");
        return Ok(DEMO_PASSWORD);
    }
    if !store.units().await?.is_empty() {
        bail!(
            "this database holds data but no demo organizer: it is not a demo, or its seeding was interrupted; use an empty data folder"
        );
    }
    let today = chrono::Utc::now()
        .with_timezone(&settings.tz())
        .date_naive();
    let bar = indicatif::ProgressBar::new(0).with_style(
        indicatif::ProgressStyle::with_template("{msg:>8} [{bar:30}] {pos}/{len} rounds")
            .expect("valid template")
            .progress_chars("=> "),
    );
    let summary = crate::demo::seed_district(store, settings, today, seed, &bar).await?;
    bar.finish_and_clear();
    let sanctions = seed_demo_sanctions(store, settings).await?;
    println!("Recorded {sanctions} sanctions from the rules over the published history.");
    let reports = seed_demo_reports(app, today).await?;
    println!("Filed {reports} reports in the open quarter, one of them substantiated.");
    let members = crate::demo::seed_panel(store, settings, today, seed).await?;
    let answered = draw_demo_panel(app, summary.open_round, seed).await?;
    println!(
        "Registered a panel of {members} members; drew {} for {} and {answered} have answered online.",
        settings.panel.sample_size, summary.open_round
    );
    let unit_account = store
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
        accounts::add_user(app, role.as_str(), role, DEMO_PASSWORD, unit).await?;
    }
    println!(
        "Seeded a demo district: {} agencies, {} units, {} people, {} published rounds, {} ballots.",
        summary.agencies, summary.units, summary.people, summary.rounds_published, summary.ballots
    );
    Ok(DEMO_PASSWORD)
}

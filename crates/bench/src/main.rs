//! minping's benchmark harness. One run measures the hot paths beside the machine's own
//! ceiling, so the figures are ratios that survive a noisy, shared machine:
//!
//! - **ceiling**: a bare axum endpoint in this binary that parses the same ballot body as
//!   `POST /api/v1/rounds/{id}/ballots` and does nothing else;
//! - **intake**: that route of a real `minping serve` (release build, rate limits off) on
//!   SQLite with full durability and on PostgreSQL, at 64 connections with `wrk`;
//! - **ranking**: a round of 10^5 and 10^6 ballots — serving its published ranking, and
//!   recomputing it from storage for audit — beside an in-memory pass over the same ballots;
//! - **PDF**: `minping forms` writing the 1,000 personalised forms of the demo's sample;
//! - **memory**: the server's resident set idle and under the intake load.
//!
//! `scripts/bench` builds everything and runs `minping-bench run`, which prints a table and
//! rewrites `BENCHMARKS.md`. Every figure is the median of `--runs` runs with min–max.

mod ranking;
mod report;
mod stuffing;
mod wrk;

use anyhow::{Context, bail};
use clap::{Parser, Subcommand};
use minping_storage::Storage;
use rand::{Rng, SeedableRng, rngs::StdRng, seq::SliceRandom};
use report::{Figure, Report};
use std::{
    net::TcpListener,
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    sync::Arc,
    time::{Duration, Instant},
};

#[derive(Parser)]
#[command(
    name = "minping-bench",
    about = "minping's hot paths beside the machine's ceiling"
)]
struct Cli {
    #[command(subcommand)]
    command: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    /// Serve the ceiling: parse the ballot body, answer 201, nothing else.
    Ceiling {
        #[arg(long, default_value = "127.0.0.1:18080")]
        listen: String,
    },
    /// Run every benchmark and write the report.
    Run(RunArgs),
    /// Simulate stuffing attacks beside honest publics and report what the scan holds.
    Stuffing {
        /// Rounds per public and attack.
        #[arg(long, default_value_t = 5)]
        trials: u64,
        /// Seed of the first round.
        #[arg(long, default_value_t = 1)]
        seed: u64,
    },
    /// The same against a running server: post an honest public and attacks over HTTP,
    /// scan, and read the quarantine back.
    StuffingHttp(stuffing::HttpArgs),
}

#[derive(clap::Args)]
struct RunArgs {
    /// The release `minping` binary to measure.
    #[arg(long)]
    minping: PathBuf,
    /// PostgreSQL server URL (a database `minping_bench` is created and dropped on it).
    #[arg(long, default_value = "postgres://postgres@127.0.0.1:5432/postgres")]
    postgres: String,
    /// Runs per figure (the median is reported, with min–max).
    #[arg(long, default_value_t = 3)]
    runs: usize,
    /// Seconds of load per intake run.
    #[arg(long, default_value_t = 10)]
    seconds: u64,
    /// Concurrent connections for the intake load.
    #[arg(long, default_value_t = 64)]
    connections: u32,
    /// Largest ranking round (10^5 always; 10^6 unless this is lower).
    #[arg(long, default_value_t = 1_000_000)]
    max_ballots: usize,
    /// Where to write the report.
    #[arg(long, default_value = "BENCHMARKS.md")]
    out: PathBuf,
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    match cli.command {
        Cmd::Ceiling { listen } => rt.block_on(ceiling(&listen)),
        Cmd::Run(args) => rt.block_on(run(args)),
        Cmd::StuffingHttp(args) => {
            if rt.block_on(stuffing::run_http(&args))? {
                Ok(())
            } else {
                bail!("the scan misses its targets")
            }
        }
        Cmd::Stuffing { trials, seed } => {
            if stuffing::run_in_process(trials, seed) {
                Ok(())
            } else {
                bail!("the scan misses its targets")
            }
        }
    }
}

/// The ceiling: the same body type, parsed the same way, then a receipt-shaped answer.
async fn ceiling(listen: &str) -> anyhow::Result<()> {
    use axum::{Json, Router, extract::Path, http::StatusCode, routing::post};
    use minping_domain::BallotDraft as BallotBody;
    async fn parse(
        Path(_round): Path<i64>,
        Json(body): Json<BallotBody>,
    ) -> (StatusCode, Json<serde_json::Value>) {
        let named = body.nominations.len();
        (
            StatusCode::CREATED,
            Json(serde_json::json!({"receipt": format!("CEILING-{named}")})),
        )
    }
    let app = Router::new().route("/api/v1/rounds/{id}/ballots", post(parse));
    let listener = tokio::net::TcpListener::bind(listen).await?;
    axum::serve(listener, app).await?;
    Ok(())
}

/// A free loopback port.
fn free_port() -> anyhow::Result<u16> {
    Ok(TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

/// A child process killed (with its group) when dropped.
struct Server {
    child: Child,
    base: String,
}

impl Server {
    fn pid(&self) -> u32 {
        self.child.id()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

async fn wait_ready(base: &str) -> anyhow::Result<()> {
    let client = reqwest::Client::new();
    let deadline = Instant::now() + Duration::from_secs(60);
    while Instant::now() < deadline {
        if let Ok(r) = client.get(format!("{base}/healthz")).send().await
            && r.status().is_success()
        {
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    bail!("{base} did not come up")
}

fn spawn(cmd: &mut Command, port: u16) -> anyhow::Result<Server> {
    spawn_logging(cmd, port, Stdio::null())
}

/// Like [`spawn`], with the server's log (its standard error) going to `log`.
fn spawn_logging(cmd: &mut Command, port: u16, log: Stdio) -> anyhow::Result<Server> {
    let child = cmd
        .stdout(Stdio::null())
        .stderr(log)
        .spawn()
        .with_context(|| format!("starting {cmd:?}"))?;
    Ok(Server {
        child,
        base: format!("http://127.0.0.1:{port}"),
    })
}

/// Resident set of a process, in MB.
fn rss_mb(pid: u32) -> Option<f64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    let kb: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb / 1024.0)
}

/// Realistic ballots as JSON bodies: 1–10 nominations of the given units, each with 1–3
/// indicators, a Chinese comment on about a third of them.
fn ballot_bodies(units: &[i64], n: usize, seed: u64) -> Vec<String> {
    const CODES: [&str; 5] = ["cold", "lazy", "shirking", "arbitrary", "greedy"];
    const COMMENTS: [&str; 6] = [
        "窗口工作人员态度生硬，问三句答一句。",
        "材料要求一次说不清，来回跑了四趟才办成。",
        "科室之间互相推诿，谁都说不归自己管。",
        "办理时限一拖再拖，打电话催也没人回。",
        "收费标准不公开，同样的业务两次收费不一样。",
        "暗示要请吃饭才能加快办理，群众反映强烈。",
    ];
    let mut rng = StdRng::seed_from_u64(seed);
    (0..n)
        .map(|_| {
            let k = rng.gen_range(1..=10.min(units.len()));
            let named: Vec<i64> = units.choose_multiple(&mut rng, k).copied().collect();
            let nominations: Vec<serde_json::Value> = named
                .into_iter()
                .map(|unit_id| {
                    let m = rng.gen_range(1..=3);
                    let indicators: Vec<&str> =
                        CODES.choose_multiple(&mut rng, m).copied().collect();
                    let comment = rng
                        .gen_bool(0.33)
                        .then(|| COMMENTS[rng.gen_range(0..COMMENTS.len())]);
                    serde_json::json!({"unit_id": unit_id, "indicators": indicators, "comment": comment})
                })
                .collect();
            serde_json::json!({"channel": "open", "nominations": nominations}).to_string()
        })
        .collect()
}

/// `minping` on the data folder `data` (SQLite, or PostgreSQL with `url`).
fn minping_on(minping: &Path, data: &Path, url: Option<&str>) -> Command {
    let mut cmd = Command::new(minping);
    cmd.arg("--data").arg(data);
    if let Some(url) = url {
        cmd.arg("--database-url").arg(url);
    }
    cmd
}

/// Seeds the demo into `data` without serving.
fn seed_demo(minping: &Path, data: &Path, url: Option<&str>) -> anyhow::Result<()> {
    let out = minping_on(minping, data, url)
        .args(["demo", "--no-serve"])
        .stdout(Stdio::null())
        .output()?;
    if !out.status.success() {
        bail!(
            "seeding the demo failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    Ok(())
}

/// Serves `data` with the ballot writer's trace (one line per commit) going to `log`.
fn serve_minping(
    minping: &Path,
    data: &Path,
    url: Option<&str>,
    log: &Path,
) -> anyhow::Result<Server> {
    let port = free_port()?;
    let mut cmd = minping_on(minping, data, url);
    cmd.env("RUST_LOG", "minping_storage::writer=trace")
        .env("NO_COLOR", "1")
        .args([
            "serve",
            "--demo",
            "--secure-cookies",
            "off",
            "--listen",
            &format!("127.0.0.1:{port}"),
            "--rate-limit",
            "off",
        ]);
    spawn_logging(&mut cmd, port, std::fs::File::create(log)?.into())
}

/// What the ballot writer's trace says about its commits.
struct WriterStats {
    commits: usize,
    ballots: usize,
    busy_ms: f64,
}

impl WriterStats {
    /// Reads the `batch` trace lines (`ballots=N ms=T`) of a server log.
    fn read(log: &Path) -> anyhow::Result<Self> {
        let text = std::fs::read_to_string(log)?;
        let mut stats = WriterStats {
            commits: 0,
            ballots: 0,
            busy_ms: 0.0,
        };
        for line in text.lines().filter(|l| l.contains(" batch ")) {
            let field = |name: &str| {
                line.split_whitespace()
                    .find_map(|w| w.strip_prefix(name))
                    .and_then(|v| v.parse::<f64>().ok())
            };
            if let (Some(n), Some(ms)) = (field("ballots="), field("ms=")) {
                stats.commits += 1;
                stats.ballots += n as usize;
                stats.busy_ms += ms;
            }
        }
        Ok(stats)
    }

    /// A note on the writer over `wall` of load.
    fn note(&self, backend: &str, wall: Duration) -> String {
        if self.commits == 0 {
            return format!("{backend}: the server logged no commits (writer trace missing)");
        }
        format!(
            "{backend} intake, from the writer's own trace over the whole load ({:.0} s with \
             warm-up): {} transactions of {:.1} ballots on average, {:.2} ms each; on average \
             {:.2} transactions were in flight (SQLite writes one at a time, PostgreSQL is \
             given up to 4)",
            wall.as_secs_f64(),
            self.commits,
            self.ballots as f64 / self.commits as f64,
            self.busy_ms / self.commits as f64,
            self.busy_ms / 1e3 / wall.as_secs_f64(),
        )
    }
}

/// The open round and the active units of a running server.
/// Approves a reprint of `round`'s forms, for one printing: asked by the demo's organizer,
/// approved by a second organizer made for it.
async fn approve_reprint(data: &Path, round: i64) -> anyhow::Result<()> {
    use minping_app::{App, Config, accounts, forms};
    let app = App::open(Config::load(data, None)?).await?;
    let as_actor = |u: &minping_storage::User| minping_storage::Actor {
        user_id: Some(u.id),
        name: u.name.clone(),
    };
    let first = app
        .store()
        .user_by_name("organizer")
        .await?
        .ok_or_else(|| anyhow::anyhow!("the demo has an organizer"))?;
    let second = match app.store().user_by_name("bench-organizer").await? {
        Some(u) => u,
        None => {
            accounts::add_user(
                &app,
                "bench-organizer",
                minping_domain::Role::Organizer,
                "a bench-only password",
                None,
                &as_actor(&first),
            )
            .await?
        }
    };
    let round = minping_domain::RoundId(round);
    let id =
        forms::ask_reprint(&app, round, "bench: forms printed again", &as_actor(&first)).await?;
    forms::decide_reprint(&app, id, true, &as_actor(&second)).await?;
    Ok(())
}

/// A ballot form of 2 MiB: one distinct `u<id>` key after another, as a hostile client
/// would send to make the server sort them out.
fn oversize_form(units: &[i64]) -> String {
    let mut form = String::with_capacity(2 << 20);
    let mut i = 0usize;
    while form.len() < 2 << 20 {
        let id = units[i % units.len()] + (i / units.len()) as i64 * 1000;
        form.push_str(&format!("u{id}=cold&"));
        i += 1;
    }
    form
}

/// Status and seconds of answering 2 MiB ballots, one at a time: the page's form and the
/// API's JSON.
async fn oversize_answers(
    base: &str,
    round: i64,
    units: &[i64],
) -> anyhow::Result<Vec<(String, u16, f64)>> {
    let client = reqwest::Client::new();
    let form = oversize_form(units);
    let nominations: Vec<serde_json::Value> = (0..60_000)
        .map(|i| serde_json::json!({"unit_id": units[i % units.len()], "indicators": ["cold"]}))
        .collect();
    let json = serde_json::json!({"channel": "open", "nominations": nominations}).to_string();
    let mut out = Vec::new();
    for _ in 0..5 {
        for (kind, url, content_type, body) in [
            (
                format!("form of {} KiB", form.len() / 1024),
                format!("{base}/rounds/{round}/ballot"),
                "application/x-www-form-urlencoded",
                form.clone(),
            ),
            (
                format!("JSON of {} KiB", json.len() / 1024),
                format!("{base}/api/v1/rounds/{round}/ballots"),
                "application/json",
                json.clone(),
            ),
        ] {
            let t = Instant::now();
            // A server that refuses by the declared length may answer and close before the
            // body is all sent: the client then sees the connection closed (status 0 here).
            let status = match client
                .post(url)
                .header("content-type", content_type)
                .body(body)
                .send()
                .await
            {
                Ok(r) => {
                    let status = r.status().as_u16();
                    let _ = r.bytes().await;
                    status
                }
                Err(_) => 0,
            };
            out.push((kind, status, t.elapsed().as_secs_f64()));
        }
    }
    Ok(out)
}

async fn open_round_and_units(base: &str) -> anyhow::Result<(i64, Vec<i64>)> {
    let client = reqwest::Client::new();
    let rounds: serde_json::Value = client
        .get(format!("{base}/api/v1/rounds"))
        .send()
        .await?
        .json()
        .await?;
    let open = rounds
        .as_array()
        .and_then(|rs| rs.iter().find(|r| r["state"] == "open"))
        .and_then(|r| r["id"].as_i64())
        .context("the demo has an open round")?;
    let units: serde_json::Value = client
        .get(format!("{base}/api/v1/units"))
        .send()
        .await?
        .json()
        .await?;
    let units = units
        .as_array()
        .context("units")?
        .iter()
        .filter(|u| u["active"] != false)
        .filter_map(|u| u["id"].as_i64())
        .collect();
    Ok((open, units))
}

/// What one intake measurement gives.
struct Intake {
    rps: Vec<f64>,
    p50_ms: Vec<f64>,
    p99_ms: Vec<f64>,
    rss_idle: f64,
    rss_load: f64,
    errors: u64,
    /// How long the load lasted, warm-up included.
    wall: Duration,
}

/// Runs `runs` wrk loads against `base` posting `bodies`, sampling the server's memory.
async fn load(
    server: &Server,
    round: i64,
    bodies: &[String],
    args: &RunArgs,
    script_dir: &Path,
) -> anyhow::Result<Intake> {
    let script = wrk::script(script_dir, round, bodies)?;
    let rss_idle = rss_mb(server.pid()).unwrap_or(f64::NAN);
    let started = Instant::now();
    let mut out = Intake {
        rps: vec![],
        p50_ms: vec![],
        p99_ms: vec![],
        rss_idle,
        rss_load: rss_idle,
        errors: 0,
        wall: Duration::ZERO,
    };
    // A short warm-up, not counted.
    wrk::run(&server.base, &script, args.connections, 2)?;
    for _ in 0..args.runs {
        let (peak, sampler) = with_peak_rss(server.pid());
        let base = server.base.clone();
        let script = script.clone();
        let (connections, seconds) = (args.connections, args.seconds);
        let result =
            tokio::task::spawn_blocking(move || wrk::run(&base, &script, connections, seconds))
                .await??;
        sampler.abort();
        let peak = peak.load(std::sync::atomic::Ordering::Relaxed) as f64 / 1024.0;
        out.rss_load = out.rss_load.max(peak);
        out.rps.push(result.requests_per_sec);
        out.p50_ms.push(result.p50_ms);
        out.p99_ms.push(result.p99_ms);
        out.errors += result.errors;
    }
    out.wall = started.elapsed();
    Ok(out)
}

/// The peak resident set of a process (KB), sampled every 100 ms until the task is aborted.
fn with_peak_rss(
    pid: u32,
) -> (
    Arc<std::sync::atomic::AtomicU64>,
    tokio::task::JoinHandle<()>,
) {
    let peak = Arc::new(std::sync::atomic::AtomicU64::new(0));
    let p = peak.clone();
    let handle = tokio::spawn(async move {
        loop {
            if let Some(m) = rss_mb(pid) {
                p.fetch_max((m * 1024.0) as u64, std::sync::atomic::Ordering::Relaxed);
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    });
    (peak, handle)
}

async fn run(args: RunArgs) -> anyhow::Result<()> {
    let started = Instant::now();
    let work = tempfile::tempdir()?;
    let mut report = Report::new(&args);
    wrk::check_installed()?;

    // Ceiling.
    eprintln!("==> ceiling: bare axum parsing the ballot body");
    let port = free_port()?;
    let me = std::env::current_exe()?;
    let ceiling_server = spawn(
        Command::new(&me).args(["ceiling", "--listen", &format!("127.0.0.1:{port}")]),
        port,
    )?;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let units: Vec<i64> = (1..=106).collect();
    let bodies = ballot_bodies(&units, 500, 7);
    let ceiling = load(&ceiling_server, 1, &bodies, &args, work.path()).await?;
    drop(ceiling_server);
    let ceiling_rps = report::median(&ceiling.rps);
    report.intake("ceiling (bare axum, same body)", &ceiling, ceiling_rps);

    // Intake on SQLite, with the demo district.
    eprintln!("==> intake on SQLite (WAL, synchronous=FULL, group commit)");
    let sqlite_data = work.path().join("sqlite");
    seed_demo(&args.minping, &sqlite_data, None)?;
    let log = work.path().join("sqlite-serve.log");
    let server = serve_minping(&args.minping, &sqlite_data, None, &log)?;
    wait_ready(&server.base).await?;
    let (round, units) = open_round_and_units(&server.base).await?;
    let bodies = ballot_bodies(&units, 500, 11);
    let sqlite = load(&server, round, &bodies, &args, work.path()).await?;
    report.intake("minping on SQLite", &sqlite, ceiling_rps);
    // Hostile bodies: how fast a 2 MiB ballot is refused, and what eight of them sent over
    // and over do to everyone else's intake (measured against the run just made).
    eprintln!("==> 2 MiB ballots beside the intake load");
    let refused = oversize_answers(&server.base, round, &units).await?;
    report.oversize(&refused);
    let flooded = {
        let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let senders: Vec<_> = (0..8)
            .map(|_| {
                let (base, units, stop) = (server.base.clone(), units.clone(), stop.clone());
                tokio::spawn(async move {
                    let client = reqwest::Client::new();
                    let form = oversize_form(&units);
                    while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                        let _ = client
                            .post(format!("{base}/rounds/{round}/ballot"))
                            .header("content-type", "application/x-www-form-urlencoded")
                            .body(form.clone())
                            .send()
                            .await;
                    }
                })
            })
            .collect();
        let flooded = load(&server, round, &bodies, &args, work.path()).await;
        stop.store(true, std::sync::atomic::Ordering::Relaxed);
        for s in senders {
            let _ = s.await;
        }
        flooded?
    };
    report.intake_beside(
        "minping on SQLite, eight 2 MiB ballots sent over and over",
        &flooded,
        &sqlite,
    );
    drop(server);
    report.note(WriterStats::read(&log)?.note("SQLite", sqlite.wall));

    // PDF: the demo sample's 1,000 forms.
    eprintln!("==> 1,000 personalised forms");
    // The demo's forms are mailed: each printing is a reprint, asked by the organizer and
    // approved by a second one, as the product requires.
    let mut pdf_secs = Vec::new();
    let mut pdf_rss = 0.0_f64;
    for i in 0..args.runs {
        approve_reprint(&sqlite_data, round).await?;
        let out = work.path().join(format!("forms-{i}"));
        let t = Instant::now();
        let mut child = Command::new(&args.minping)
            .arg("--data")
            .arg(&sqlite_data)
            .args(["forms", "--round", &round.to_string(), "--out"])
            .arg(&out)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()?;
        let (peak, sampler) = with_peak_rss(child.id());
        let status = tokio::task::spawn_blocking(move || child.wait()).await??;
        sampler.abort();
        if !status.success() {
            bail!("minping forms failed");
        }
        pdf_secs.push(t.elapsed().as_secs_f64());
        pdf_rss = pdf_rss.max(peak.load(std::sync::atomic::Ordering::Relaxed) as f64 / 1024.0);
    }
    report.push(Figure::seconds(
        "1,000 personalised forms (`minping forms`, one PDF + mailing lists)",
        &pdf_secs,
        "≤ 10 s",
        report::median(&pdf_secs) <= 10.0,
    ));
    report.note(format!("`minping forms` peak RSS: {pdf_rss:.0} MB"));

    // Intake on PostgreSQL.
    eprintln!("==> intake on PostgreSQL");
    let db = "minping_bench";
    let admin = args.postgres.clone();
    recreate_database(&admin, db).await?;
    let pg_url = with_database(&admin, db);
    let pg_data = work.path().join("pg");
    seed_demo(&args.minping, &pg_data, Some(&pg_url))?;
    let log = work.path().join("pg-serve.log");
    let server = serve_minping(&args.minping, &pg_data, Some(&pg_url), &log)?;
    wait_ready(&server.base).await?;
    let (round, units) = open_round_and_units(&server.base).await?;
    let bodies = ballot_bodies(&units, 500, 13);
    let pg = load(&server, round, &bodies, &args, work.path()).await?;
    report.intake("minping on PostgreSQL", &pg, ceiling_rps);
    drop(server);
    report.note(WriterStats::read(&log)?.note("PostgreSQL", pg.wall));

    report.memory(&ceiling, &sqlite, &pg);

    // Ranking.
    let mut sizes = vec![100_000];
    if args.max_ballots >= 1_000_000 {
        sizes.push(1_000_000);
    }
    for &n in &sizes {
        eprintln!("==> ranking {n} ballots on SQLite");
        let store: Arc<dyn Storage> = Arc::new(
            minping_storage::SqliteStore::open(&work.path().join(format!("rank-{n}.db"))).await?,
        );
        ranking::ranking_bench(store, n, "SQLite", &args, &mut report).await?;
        eprintln!("==> ranking {n} ballots on PostgreSQL");
        let schema = format!("bench_rank_{n}");
        let store = minping_storage::PgStore::connect(&pg_url, Some(&schema)).await?;
        ranking::ranking_bench(Arc::new(store), n, "PostgreSQL", &args, &mut report).await?;
        minping_storage::PgStore::drop_schema(&pg_url, &schema).await?;
    }
    drop_database(&admin, db).await?;

    report.finish(started.elapsed());
    println!("{}", report.table());
    std::fs::write(&args.out, report.markdown())?;
    eprintln!("wrote {}", args.out.display());
    Ok(())
}

fn with_database(url: &str, db: &str) -> String {
    match url.rfind('/') {
        Some(i) if url[..i].contains("://") && i > url.find("://").unwrap_or(0) + 2 => {
            format!("{}/{db}", &url[..i])
        }
        _ => format!("{url}/{db}"),
    }
}

async fn recreate_database(admin: &str, db: &str) -> anyhow::Result<()> {
    drop_database(admin, db).await?;
    psql(admin, &format!("CREATE DATABASE {db}"))
}

async fn drop_database(admin: &str, db: &str) -> anyhow::Result<()> {
    psql(admin, &format!("DROP DATABASE IF EXISTS {db} WITH (FORCE)"))
}

/// Runs one statement with `psql` (from postgresql-client).
fn psql(url: &str, sql: &str) -> anyhow::Result<()> {
    let out = Command::new("psql")
        .args([url, "-qXc", sql])
        .output()
        .context("psql (postgresql-client) is needed")?;
    if !out.status.success() {
        bail!("psql: {}", String::from_utf8_lossy(&out.stderr));
    }
    Ok(())
}

//! The command line: `serve`, `demo`, `user`, `token`, `audit`, `forms`, `panel`,
//! `receipts`.

use crate::demo;
use anyhow::{Context, bail};
use clap::{Args, Parser, Subcommand};
use minping_app::{App, Config, accounts, draws};
use minping_domain::{Role, UnitId};
use minping_web::{AppState, Application};
use std::path::PathBuf;

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
    /// List and revoke API tokens (works while the server runs on the same data).
    #[command(subcommand)]
    Token(TokenCommand),
    /// The audit log of staff actions.
    #[command(subcommand)]
    Audit(AuditCommand),
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
    /// Published receipt lists (needs no data folder).
    #[command(subcommand)]
    Receipts(ReceiptsCommand),
}

#[derive(Subcommand, Debug)]
pub enum ReceiptsCommand {
    /// Checks a round's published receipt list: that its hashes give the Merkle root it
    /// states and the root printed in the 通报; with `--receipt`, that your receipt was
    /// counted. Exits non-zero if any check fails.
    ///
    /// Get the list with `curl -o receipts.json https://SITE/api/v1/rounds/ID/receipts`.
    Verify {
        /// The list as the site serves it (JSON), or `-` for standard input.
        list: PathBuf,
        /// The root printed in the 通报 (spaces and case do not matter): a list checked only
        /// against itself proves nothing, anyone can make one.
        #[arg(long)]
        root: String,
        /// A receipt to look for, as printed (e.g. `K7Q2-M9XP-4RTB`).
        #[arg(long)]
        receipt: Option<String>,
    },
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
    /// A reverse proxy (CIDR block, e.g. 127.0.0.1/32) whose X-Forwarded-For is believed;
    /// repeatable, and added to `trusted_proxies` in minping.toml.
    #[arg(long = "trusted-proxy", value_name = "CIDR")]
    pub trusted_proxies: Vec<ipnet::IpNet>,
    /// `Secure` cookies and HSTS: the site is reached over HTTPS (behind a reverse proxy
    /// that ends TLS). `off` only to try it out on plain HTTP.
    #[arg(long, value_enum, default_value_t = Switch::On)]
    pub secure_cookies: Switch,
    /// Declares this data folder a demo: its accounts may keep the demo password. Without
    /// it, `serve` refuses to start while any account has it.
    #[arg(long)]
    pub demo: bool,
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
    /// A reverse proxy (CIDR block, e.g. 127.0.0.1/32) whose X-Forwarded-For is believed;
    /// repeatable, and added to `trusted_proxies` in minping.toml.
    #[arg(long = "trusted-proxy", value_name = "CIDR")]
    pub trusted_proxies: Vec<ipnet::IpNet>,
}

#[derive(Subcommand, Debug)]
pub enum UserCommand {
    /// Create a staff account. The password is read from standard input (one line) when it
    /// is not a terminal, else asked for twice without echo; never an argument, which the
    /// process list and the shell history would keep.
    Add {
        /// Sign-in name.
        #[arg(long)]
        name: String,
        /// organizer, clerk, investigator, inspector, unit or leader.
        #[arg(long)]
        role: Role,
        /// For a unit account: the id of the unit it speaks for.
        #[arg(long)]
        unit: Option<i64>,
    },
    /// Set a new password for an account (read as for `user add`).
    Passwd {
        /// Sign-in name.
        #[arg(long)]
        name: String,
    },
    /// Disable an account: its sessions and API tokens stop working at once.
    Disable {
        /// Sign-in name.
        #[arg(long)]
        name: String,
    },
    /// Enable a disabled account again.
    Enable {
        /// Sign-in name.
        #[arg(long)]
        name: String,
    },
    /// Print a new API token for an account (use as `Authorization: Bearer <token>`); it
    /// works for 90 days.
    Token {
        /// Sign-in name.
        #[arg(long)]
        name: String,
    },
}

#[derive(Subcommand, Debug)]
pub enum TokenCommand {
    /// List API tokens (never the tokens themselves: the start of their hash, the account,
    /// when issued and when they expire).
    List {
        /// Only this account's.
        #[arg(long)]
        name: Option<String>,
    },
    /// Revoke an account's API tokens (all of them, or the one `--id` names): they answer
    /// 401 at once.
    Revoke {
        /// Sign-in name.
        #[arg(long)]
        name: String,
        /// The token's id as `token list` shows it.
        #[arg(long)]
        id: Option<String>,
    },
}

#[derive(Subcommand, Debug)]
pub enum AuditCommand {
    /// Walk the audit log's hash chain and check every round's published head against it.
    /// Exits 0 printing the chain's length and head when intact; otherwise non-zero,
    /// naming the first event that was edited, removed or reordered.
    Verify,
}

/// Reads the data folder's configuration and opens its database.
async fn open(global: &Global) -> anyhow::Result<App> {
    let config = Config::load(&global.data, global.database_url.as_deref())?;
    App::open(config).await.context("cannot open the database")
}

/// A receipt list as `GET /api/v1/rounds/{id}/receipts` serves it.
#[derive(serde::Deserialize)]
struct PublishedList {
    round_id: i64,
    count: usize,
    root: String,
    hashes: Vec<String>,
}

/// `minping receipts verify`: each check printed as it passes; the first that fails ends it
/// with an error.
fn verify_receipts(
    list: &std::path::Path,
    printed: &str,
    receipt: Option<&str>,
) -> anyhow::Result<()> {
    use minping_domain::{
        Receipt,
        receipt::{CountedReceipts, normalize_root},
    };
    let text = if list == std::path::Path::new("-") {
        std::io::read_to_string(std::io::stdin())?
    } else {
        std::fs::read_to_string(list).with_context(|| format!("cannot read {}", list.display()))?
    };
    let published: PublishedList = serde_json::from_str(&text)
        .with_context(|| format!("{} is not a receipt list", list.display()))?;
    let counted = CountedReceipts::from_hex(&published.hashes)?;
    anyhow::ensure!(
        counted.len() == published.count,
        "the list states {} receipts but holds {}",
        published.count,
        counted.len()
    );
    let computed = counted.root();
    anyhow::ensure!(
        computed == normalize_root(&published.root),
        "the {} hashes give the root {computed}, not the {} the list states",
        counted.len(),
        published.root
    );
    println!(
        "round {}: {} counted receipts; their hashes give the stated root {computed}",
        published.round_id,
        counted.len()
    );
    anyhow::ensure!(
        computed == normalize_root(printed),
        "the list's root {computed} is not the root printed in the notice ({printed})"
    );
    println!("the root matches the one printed in the notice");
    if let Some(typed) = receipt {
        let r = Receipt::parse(typed).with_context(|| {
            format!("`{typed}` is not a receipt (12 symbols, e.g. K7Q2-M9XP-4RTB)")
        })?;
        anyhow::ensure!(
            counted.contains(&r),
            "receipt {r} is not in the list: it was not counted in round {}",
            published.round_id
        );
        println!("receipt {r} is in the list: it was counted");
    }
    Ok(())
}

/// Runs a parsed command line.
pub async fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Receipts(ReceiptsCommand::Verify {
            list,
            root,
            receipt,
        }) => verify_receipts(&list, &root, receipt.as_deref()),
        Command::Serve(args) => {
            let app = open(&cli.global).await?;
            if !args.demo {
                let demo_accounts = accounts::with_password(&app, demo::DEMO_PASSWORD).await?;
                if !demo_accounts.is_empty() {
                    bail!(
                        "these accounts still have the demo password: {}. Give each a new one \
                         (`minping user passwd --name NAME`) or disable it (`minping user disable \
                         --name NAME`); to serve a demo, pass --demo",
                        demo_accounts.join(", ")
                    );
                }
            }
            serve(
                app,
                &args.listen,
                args.rate_limit,
                &args.trusted_proxies,
                args.secure_cookies == Switch::On,
            )
            .await
        }
        Command::Demo(args) => {
            let (app, seeded) = demo::open(
                &cli.global.data,
                cli.global.database_url.as_deref(),
                args.seed,
            )
            .await?;
            match seeded {
                None => println!("Reusing the demo district already in this data folder."),
                Some(s) => println!(
                    "Seeded a demo district: {} agencies, {} units, {} people, a panel of {} members, \
                     {} published rounds, {} ballots, {} sanctions confirmed, {} reports; round {} is open.",
                    s.agencies,
                    s.units,
                    s.people,
                    s.members,
                    s.rounds_published,
                    s.ballots,
                    s.sanctions,
                    s.reports,
                    s.open_round
                ),
            }
            let password = demo::DEMO_PASSWORD;
            println!("Demo organizer sign-in: name `organizer`, password `{password}`");
            println!(
                "(also clerk, investigator, investigator2, inspector, leader and unit accounts with the same password)"
            );
            if args.no_serve {
                return Ok(());
            }
            // The demo runs on plain HTTP on this machine.
            serve(
                app,
                &args.listen,
                args.rate_limit,
                &args.trusted_proxies,
                false,
            )
            .await
        }
        Command::User(command) => {
            let app = open(&cli.global).await?;
            user_command(&app, command).await
        }
        Command::Token(command) => {
            let app = open(&cli.global).await?;
            token_command(&app, command).await
        }
        Command::Audit(AuditCommand::Verify) => {
            let app = open(&cli.global).await?;
            audit_verify(&app).await
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
                &command_line_actor(),
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

/// Who acts from the command line, for the audit log: the operating-system account.
fn command_line_actor() -> minping_storage::Actor {
    let os_user = std::env::var("USER")
        .or_else(|_| std::env::var("USERNAME"))
        .unwrap_or_else(|_| "unknown".into());
    minping_storage::Actor {
        user_id: None,
        name: format!("command line ({os_user})"),
    }
}

/// A password from standard input (its first line) when that is not a terminal, else asked
/// for twice on the terminal without echo.
fn read_password() -> anyhow::Result<String> {
    use std::io::{BufRead, IsTerminal};
    let stdin = std::io::stdin();
    if !stdin.is_terminal() {
        let mut line = String::new();
        stdin.lock().read_line(&mut line)?;
        let password = line.trim_end_matches(['\r', '\n']).to_string();
        anyhow::ensure!(!password.is_empty(), "no password on standard input");
        return Ok(password);
    }
    let first = rpassword::prompt_password("Password: ")?;
    let again = rpassword::prompt_password("Password again: ")?;
    anyhow::ensure!(first == again, "the two passwords differ");
    Ok(first)
}

async fn user_command(app: &App, command: UserCommand) -> anyhow::Result<()> {
    let actor = command_line_actor();
    match command {
        UserCommand::Add { name, role, unit } => {
            let password = read_password()?;
            accounts::add_user(app, &name, role, &password, unit.map(UnitId), &actor).await?;
            println!("created {role} account `{name}`");
        }
        UserCommand::Passwd { name } => {
            let password = read_password()?;
            accounts::set_password(app, &name, &password, &actor).await?;
            println!("password of `{name}` changed");
        }
        UserCommand::Disable { name } => {
            accounts::set_disabled(app, &name, true, &actor).await?;
            println!("`{name}` disabled: its sessions and tokens no longer work");
        }
        UserCommand::Enable { name } => {
            accounts::set_disabled(app, &name, false, &actor).await?;
            println!("`{name}` enabled");
        }
        UserCommand::Token { name } => {
            let issued = accounts::issue_token(app, &name, &actor).await?;
            eprintln!(
                "token for `{name}`, valid until {} (shown this once):",
                issued.expires_at.format("%Y-%m-%d %H:%M UTC")
            );
            println!("{}", issued.token);
        }
    }
    Ok(())
}

async fn token_command(app: &App, command: TokenCommand) -> anyhow::Result<()> {
    match command {
        TokenCommand::List { name } => {
            let tokens = accounts::tokens(app, name.as_deref()).await?;
            if tokens.is_empty() {
                println!("no tokens");
            }
            let now = app.now();
            for t in tokens {
                println!(
                    "{}  {:<20}  issued {}  {} {}",
                    t.id,
                    t.user,
                    t.created_at.format("%Y-%m-%d"),
                    if t.expires_at > now {
                        "expires"
                    } else {
                        "expired"
                    },
                    t.expires_at.format("%Y-%m-%d"),
                );
            }
        }
        TokenCommand::Revoke { name, id } => {
            let n =
                accounts::revoke_tokens(app, &name, id.as_deref(), &command_line_actor()).await?;
            println!("revoked {n} token(s) of `{name}`");
        }
    }
    Ok(())
}

async fn audit_verify(app: &App) -> anyhow::Result<()> {
    match minping_app::audit::verify(app).await? {
        Ok(verified) => {
            println!(
                "audit log intact: {} events, head {}",
                verified.len,
                verified.head.printed()
            );
            println!("head hash: {}", verified.head.hash);
            for (round, head) in &verified.published {
                println!(
                    "round {round}: published head {} found in the log",
                    head.printed()
                );
            }
            Ok(())
        }
        Err(broken) => bail!("audit log broken: {broken}"),
    }
}

async fn panel_command(app: &App, command: PanelCommand) -> anyhow::Result<()> {
    use minping_domain::RoundId;
    let actor = command_line_actor();
    match command {
        PanelCommand::Import { file, dry_run } => {
            let report = crate::panel::import(app, &file, dry_run, &actor).await?;
            crate::panel::print_report(&report, &file);
        }
        PanelCommand::Export { file } => {
            let n = crate::panel::export(app, &file).await?;
            println!("wrote {} members to {}", n, file.display());
        }
        PanelCommand::Freeze { round, size } => {
            let frozen = draws::freeze(app, RoundId(round), size, &actor).await?;
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
                let frozen = draws::freeze(app, round, size, &actor).await?;
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

async fn serve(
    app: App,
    listen: &str,
    limits: Switch,
    trusted_proxies: &[ipnet::IpNet],
    secure_cookies: bool,
) -> anyhow::Result<()> {
    let mut state = AppState::new(app, format!("http://{listen}"))
        .trusting(trusted_proxies.iter().copied())
        .with_secure_cookies(secure_cookies);
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

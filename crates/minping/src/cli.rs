//! The command line: `serve`, `demo`, `user add`, `user token`.

use anyhow::{Context, bail};
use clap::{Args, Parser, Subcommand};
use minping_domain::{Role, Settings, UnitId};
use minping_storage::Storage;
use minping_web::{AppState, Application, auth};
use std::{
    path::{Path, PathBuf},
    sync::Arc,
};

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

/// Reads `minping.toml` from the data folder, writing the documented defaults first if absent.
pub fn load_settings(data: &Path) -> anyhow::Result<Settings> {
    std::fs::create_dir_all(data).with_context(|| format!("cannot create {}", data.display()))?;
    let path = data.join("minping.toml");
    if !path.exists() {
        std::fs::write(&path, Settings::default_toml())
            .with_context(|| format!("cannot write {}", path.display()))?;
    }
    let text = std::fs::read_to_string(&path)
        .with_context(|| format!("cannot read {}", path.display()))?;
    Settings::from_toml(&text).with_context(|| format!("{} is not valid", path.display()))
}

/// The key one-time codes are digested with, from `code.key` in the data folder (created
/// on first use, readable by its owner only). It is kept out of the database so that a
/// dump alone cannot be searched for codes; every node serving the same database needs
/// the same file.
pub fn load_code_key(data: &Path) -> anyhow::Result<Vec<u8>> {
    let path = data.join("code.key");
    if !path.exists() {
        std::fs::create_dir_all(data)
            .with_context(|| format!("cannot create {}", data.display()))?;
        let key: [u8; 32] = rand::random();
        write_private(&path, hex::encode(key).as_bytes())?;
    }
    let text = std::fs::read_to_string(&path)
        .with_context(|| format!("cannot read {}", path.display()))?;
    let key = hex::decode(text.trim())
        .ok()
        .with_context(|| format!("{} is not a hex key", path.display()))?;
    if key.len() < 16 {
        bail!("{} holds a key shorter than 16 bytes", path.display());
    }
    Ok(key)
}

fn write_private(path: &Path, content: &[u8]) -> anyhow::Result<()> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options
        .open(path)
        .with_context(|| format!("cannot create {}", path.display()))?;
    file.write_all(content)?;
    file.sync_all()?;
    Ok(())
}

async fn open(global: &Global) -> anyhow::Result<(Arc<dyn Storage>, Settings)> {
    let settings = load_settings(&global.data)?;
    let store = minping_storage::open(&global.data, global.database_url.as_deref())
        .await
        .context("cannot open the database")?;
    Ok((store, settings))
}

/// Runs a parsed command line.
pub async fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Serve(args) => {
            let (store, settings) = open(&cli.global).await?;
            let key = load_code_key(&cli.global.data)?;
            serve(store, settings, key, &args.listen, args.rate_limit).await
        }
        Command::Demo(args) => {
            let (store, settings) = open(&cli.global).await?;
            let password = seed_demo(store.as_ref(), &settings, args.seed).await?;
            println!("Demo organizer sign-in: name `organizer`, password `{password}`");
            println!(
                "(also clerk, investigator, inspector, leader and unit accounts with the same password)"
            );
            if args.no_serve {
                return Ok(());
            }
            let key = load_code_key(&cli.global.data)?;
            serve(store, settings, key, &args.listen, args.rate_limit).await
        }
        Command::User(UserCommand::Add {
            name,
            role,
            password,
            unit,
        }) => {
            let (store, _) = open(&cli.global).await?;
            add_user(store.as_ref(), &name, role, &password, unit.map(UnitId)).await?;
            println!("created {role} account `{name}`");
            Ok(())
        }
        Command::User(UserCommand::Token { name }) => {
            let (store, _) = open(&cli.global).await?;
            let user = store
                .user_by_name(&name)
                .await?
                .with_context(|| format!("no account named `{name}`"))?;
            let (token, hash) = auth::new_token();
            store.add_token(user.id, &hash, chrono::Utc::now()).await?;
            println!("{token}");
            Ok(())
        }
    }
}

async fn serve(
    store: Arc<dyn Storage>,
    settings: Settings,
    code_key: Vec<u8>,
    listen: &str,
    limits: Switch,
) -> anyhow::Result<()> {
    let mut state =
        AppState::new(store, settings, format!("http://{listen}")).with_code_key(code_key);
    if limits == Switch::Off {
        state = state.without_rate_limit();
    }
    let app = Application::build(state, listen)
        .await
        .with_context(|| format!("cannot listen on {listen}"))?;
    println!("minping is serving on http://{}/", app.local_addr());
    app.run().await?;
    Ok(())
}

/// Creates an account after checking the password and, for a unit account, the unit.
pub async fn add_user(
    store: &dyn Storage,
    name: &str,
    role: Role,
    password: &str,
    unit: Option<UnitId>,
) -> anyhow::Result<()> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 64 {
        bail!("the name must have 1 to 64 characters");
    }
    if password.chars().count() < 8 {
        bail!("the password must have at least 8 characters");
    }
    match (role, unit) {
        (Role::Unit, None) => bail!("a unit account needs --unit <id>"),
        (Role::Unit, Some(u)) if !store.units().await?.iter().any(|x| x.id == u) => {
            bail!("no unit with id {u}")
        }
        (r, Some(_)) if r != Role::Unit => bail!("only unit accounts are bound to a unit"),
        _ => {}
    }
    store
        .create_user(name, role, unit, &auth::hash_password(password))
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    Ok(())
}

/// The demo accounts' password.
pub const DEMO_PASSWORD: &str = "minping-demo";

/// Seeds the demo district unless it is already there; returns the demo password.
pub async fn seed_demo(
    store: &dyn Storage,
    settings: &Settings,
    seed: u64,
) -> anyhow::Result<&'static str> {
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
        add_user(store, role.as_str(), role, DEMO_PASSWORD, unit).await?;
    }
    println!(
        "Seeded a demo district: {} agencies, {} units, {} people, {} published rounds, {} ballots.",
        summary.agencies, summary.units, summary.people, summary.rounds_published, summary.ballots
    );
    Ok(DEMO_PASSWORD)
}

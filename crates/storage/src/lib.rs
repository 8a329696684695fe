//! The storage seam: everything minping needs from a database, in one trait,
//! fulfilled by SQLite (embedded, the default) and PostgreSQL from the same SQL.
//!
//! Each backend has its own migrations under `migrations/<backend>/`. The query code is
//! shared: one [`Store`] generic over the driver, its SQL written once in the SQL both
//! understand, one module per aggregate (`org`, `rounds`, `ballots`, `accounts`, `panel`,
//! `reports`, `sanctions`). What differs between the backends is named once, in each
//! driver's [`Dialect`].

mod accounts;
mod audit;
mod ballots;
mod dialect;
mod integrity;
mod org;
mod panel;
mod postgres;
mod reports;
mod rounds;
mod sanctions;
mod sql;
mod sqlite;
mod store;
mod writer;

use async_trait::async_trait;
use chrono::{DateTime, NaiveDate, Utc};
use minping_domain::integrity::signals::Signals;
use minping_domain::{
    Agency, AgencyId, Ballot, Method, OrgSnapshot, Period, Person, PersonId, Post, PostRole,
    Ranking, Receipt, Role, Round, RoundId, RoundState, Tally, Transition, Unit, UnitId, UserId,
    settings::RoundSettings,
};
use std::{path::Path, sync::Arc};

pub use accounts::TokenInfo;
pub use audit::{AuditFilter, AuditLog, AuditStore, Change, stored_time};
pub use dialect::Dialect;
pub use integrity::{
    Decision, DecisionRecord, HeldBallot, IntegrityStore, ReceiptState, StoredCluster,
};
pub use panel::{
    Conflict, FrozenFrame, MailStatus, Member, MemberFilter, PanelStore, PaperEntry, Reprint,
    SampleRow, StratumCounts,
};
pub use reports::{EvidenceMeta, Report, ReportEvent, ReportStore};
pub use sanctions::{PromotionCheck, Sanction, SanctionStore};
pub use store::{PgStore, SqliteStore, Store};
pub use writer::{BallotWriter, WriteError};

/// What went wrong in storage.
#[derive(Debug, thiserror::Error)]
pub enum StorageError {
    /// The thing asked for does not exist.
    #[error("not found")]
    NotFound,
    /// The change conflicts with what is stored (a duplicate name, a stale state).
    #[error("{0}")]
    Conflict(String),
    /// The database failed or could not be reached.
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    /// Migrations could not be applied.
    #[error("migration error: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    /// Stored data could not be read back.
    #[error("stored data is unreadable: {0}")]
    Corrupt(String),
}

/// Storage results.
pub type Result<T, E = StorageError> = std::result::Result<T, E>;

/// Which database a store talks to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// Embedded SQLite file.
    Sqlite,
    /// PostgreSQL server.
    Postgres,
}

/// Who did something, for the record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Actor {
    /// The signed-in user, if any.
    pub user_id: Option<UserId>,
    /// The name recorded.
    pub name: String,
}

impl Actor {
    /// The system itself (seeding, migrations).
    pub fn system() -> Self {
        Self {
            user_id: None,
            name: "system".into(),
        }
    }
}

/// A ballot ready to be stored: checked, with its receipt and the day it arrived.
#[derive(Debug, Clone)]
pub struct NewBallot {
    /// The round it is for.
    pub round_id: RoundId,
    /// The checked ballot.
    pub ballot: Ballot,
    /// Its receipt.
    pub receipt: Receipt,
    /// The day it arrived, in the deployment's time zone. No finer time is kept, and none
    /// at all for a directed ballot (see [`NewBallot::new`]).
    pub received_on: Option<NaiveDate>,
    /// For a directed ballot, the code to spend in the same transaction.
    pub spend: Option<Spend>,
    /// For a ballot keyed from paper, the form it counts, decided in the same transaction
    /// (so a form never counts twice) and whose entries are then deleted.
    pub paper_form: Option<PaperForm>,
    /// For a kept ballot an organizer counts, the conflict it resolves, marked counted in
    /// the same transaction (so two organizers counting it at once count it once).
    pub resolves: Option<Resolution>,
    /// For an open-channel ballot sent online, what stuffing detection keeps beside it.
    pub signals: Option<Signals>,
}

/// The code conflict a counted ballot resolves, and who counted it, when and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resolution {
    /// The conflict's id.
    pub conflict_id: i64,
    /// Who counted it.
    pub by: Actor,
    /// Why.
    pub reason: String,
    /// When.
    pub at: DateTime<Utc>,
    /// What the conflict keeps instead of the code's digest once counted.
    pub tag: String,
}

/// The paper form a ballot was keyed from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PaperForm {
    /// The code's digest, or the open form's number.
    pub key: String,
    /// Who decided it (the second clerk, or the adjudicating organizer).
    pub decided_by: Actor,
    /// When.
    pub at: DateTime<Utc>,
    /// Whether an organizer decided it between two entries that disagreed (logged), rather
    /// than two clerks agreeing.
    pub adjudicated: bool,
}

impl NewBallot {
    /// A ballot arriving on `day`. A directed ballot must bring the code it spends, and
    /// keeps no date: the spent code records the day, so a date on the ballot would link
    /// the two.
    pub fn new(
        round_id: RoundId,
        ballot: Ballot,
        receipt: Receipt,
        day: NaiveDate,
        spend: Option<Spend>,
    ) -> Self {
        let directed = ballot.channel == minping_domain::Channel::Directed;
        Self {
            round_id,
            ballot,
            receipt,
            received_on: (!directed).then_some(day),
            spend,
            paper_form: None,
            resolves: None,
            signals: None,
        }
    }

    /// The same ballot, with the signals stuffing detection keeps (open channel only: a
    /// directed ballot never carries any).
    pub fn with_signals(mut self, signals: Signals) -> Self {
        if self.ballot.channel == minping_domain::Channel::Open {
            self.signals = Some(signals);
        }
        self
    }

    /// The same ballot, resolving a code conflict by counting it.
    pub fn resolving(mut self, resolution: Resolution) -> Self {
        self.resolves = Some(resolution);
        self
    }

    /// The same ballot, counting a paper form.
    pub fn from_paper(mut self, form: PaperForm) -> Self {
        self.paper_form = Some(form);
        self
    }
}

/// Spending a one-time code: its digest, how the ballot came, and the day.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Spend {
    /// The code's keyed digest.
    pub digest: String,
    /// Paper (keyed by clerks) or online.
    pub response: Response,
    /// The day it arrived: kept only if the ballot goes to the conflict queue (a spent code
    /// records no day, so nothing dates a member's answer).
    pub on: NaiveDate,
    /// What a resolved conflict of this code keeps instead of its digest
    /// ([`minping_domain::code::resolved_conflict_tag`]): once one is found, further uses
    /// are refused without being kept.
    pub resolved_tag: String,
}

/// How a panel member answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Response {
    /// The mailed form, keyed in by clerks.
    Paper,
    /// The website, with the code.
    Online,
}

impl Response {
    /// The stored code.
    pub fn as_str(self) -> &'static str {
        match self {
            Response::Paper => "paper",
            Response::Online => "online",
        }
    }
}

/// Why one ballot of a batch was not stored.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BallotRejected {
    /// The round is not open (or does not exist).
    #[error("the round is not open")]
    RoundNotOpen,
    /// No drawn member of this round has this code.
    #[error("the one-time code is not valid for this round")]
    CodeInvalid,
    /// The code was spent before; the ballot went to the conflict queue.
    #[error("the one-time code has already been used")]
    CodeAlreadyUsed,
    /// The paper form was already counted or dismissed.
    #[error("this paper form has already been decided")]
    FormAlreadyDecided,
    /// The code conflict this ballot would resolve is no longer pending.
    #[error("this conflict is already resolved")]
    ConflictAlreadyResolved,
}

/// A ballot read back, as the open data shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredBallot {
    /// The round.
    pub round_id: RoundId,
    /// The receipt.
    pub receipt: String,
    /// The day it arrived (none for a directed ballot).
    pub received_on: Option<NaiveDate>,
    /// Its contents.
    pub ballot: Ballot,
}

/// A user account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    /// Its id.
    pub id: UserId,
    /// Sign-in name.
    pub name: String,
    /// What it may do.
    pub role: Role,
    /// For a unit user, the unit it speaks for.
    pub unit_id: Option<UnitId>,
    /// The argon2 hash of the password (PHC string).
    pub password_hash: String,
    /// When the account was disabled; a disabled account signs in to nothing.
    pub disabled_at: Option<DateTime<Utc>>,
    /// When its password last changed: sessions signed in before it end.
    pub credentials_changed_at: Option<DateTime<Utc>>,
}

/// What finalizing a round stores, all at once.
#[derive(Debug, Clone, PartialEq)]
pub struct Finalization {
    /// The ranking and its method.
    pub frozen: FrozenRanking,
    /// The rules in force (JSON), stored with the round.
    pub rules: String,
    /// The sanctions the rules propose.
    pub proposals: Vec<minping_domain::rules::ProposedSanction>,
    /// The substantiated reports the ranking counted, by id.
    pub counted_reports: Vec<i64>,
}

/// A finalized round's frozen ranking with the method that produced it.
#[derive(Debug, Clone, PartialEq)]
pub struct FrozenRanking {
    /// The method and parameters.
    pub method: Method,
    /// The ranking.
    pub ranking: Ranking,
}

/// Everything minping needs from a database.
#[async_trait]
pub trait Storage:
    PanelStore + ReportStore + SanctionStore + IntegrityStore + AuditStore + Send + Sync + 'static
{
    /// Which database this is.
    fn backend(&self) -> Backend;

    /// Adds an agency; names are unique.
    async fn create_agency(&self, name: &str, actor: &Actor, at: DateTime<Utc>) -> Result<Agency>;
    /// All agencies by name.
    async fn agencies(&self) -> Result<Vec<Agency>>;
    /// Adds a unit to an agency; names are unique within an agency.
    async fn create_unit(
        &self,
        agency: AgencyId,
        name: &str,
        kind: &str,
        actor: &Actor,
        at: DateTime<Utc>,
    ) -> Result<Unit>;
    /// All units, retired ones too, by agency then name.
    async fn units(&self) -> Result<Vec<Unit>>;
    /// Retires a unit on `on` (or brings it back); its history stays.
    async fn set_unit_active(
        &self,
        unit: UnitId,
        active: bool,
        on: NaiveDate,
        actor: &Actor,
        at: DateTime<Utc>,
    ) -> Result<()>;

    /// Adds a person.
    async fn create_person(&self, name: &str, actor: &Actor, at: DateTime<Utc>) -> Result<Person>;
    /// All people by name.
    async fn people(&self) -> Result<Vec<Person>>;
    /// Gives a person a post from `start`, ending on that day whoever held it before.
    async fn assign_post(
        &self,
        person: PersonId,
        unit: UnitId,
        role: PostRole,
        start: NaiveDate,
        actor: &Actor,
        at: DateTime<Utc>,
    ) -> Result<Post>;
    /// Every post, current and past, by unit, role and start.
    async fn posts(&self) -> Result<Vec<Post>>;

    /// Creates a draft round for a period. Periods of rounds never overlap: a clash is a
    /// [`StorageError::Conflict`], also when another node created one at the same moment.
    async fn create_round(
        &self,
        period: Period,
        settings: &RoundSettings,
        actor: &Actor,
        at: DateTime<Utc>,
    ) -> Result<Round>;
    /// All rounds, latest period first.
    async fn rounds(&self) -> Result<Vec<Round>>;
    /// One round.
    async fn round(&self, id: RoundId) -> Result<Option<Round>>;
    /// Opens or closes a round (from `from`, if it is still there) and records who and when.
    /// At most one round is open: opening a second is a [`StorageError::Conflict`].
    /// Finalizing and publishing go through [`Storage::finalize_round`] and
    /// [`Storage::publish_round`], which do more in the same transaction.
    async fn transition_round(
        &self,
        id: RoundId,
        from: RoundState,
        to: RoundState,
        actor: &Actor,
        at: DateTime<Utc>,
    ) -> Result<()>;
    /// Moves a closed round to finalized in one transaction: its frozen ranking, the rules in
    /// force, the sanctions they propose, and the reports it counted (marked so no other
    /// round counts them; a report counted meanwhile is a [`StorageError::Conflict`] and
    /// nothing is stored).
    async fn finalize_round(
        &self,
        id: RoundId,
        finalization: &Finalization,
        actor: &Actor,
        at: DateTime<Utc>,
    ) -> Result<()>;
    /// Publishes a finalized round in one transaction: its sanctions take effect on `on`
    /// (freezes keep their length), and a confirmed removal ends the person's post that day.
    async fn publish_round(
        &self,
        id: RoundId,
        on: NaiveDate,
        actor: &Actor,
        at: DateTime<Utc>,
    ) -> Result<()>;
    /// The rules (JSON) in force when the round was finalized.
    async fn round_rules(&self, id: RoundId) -> Result<Option<String>>;
    /// A round's recorded transitions, oldest first.
    async fn transitions(&self, id: RoundId) -> Result<Vec<Transition>>;
    /// The frozen ranking of a finalized or published round.
    async fn frozen_ranking(&self, id: RoundId) -> Result<Option<FrozenRanking>>;
    /// The organisation as it stood when the round closed; `None` before it closes.
    async fn org_snapshot(&self, id: RoundId) -> Result<Option<OrgSnapshot>>;
    /// The audit log's head recorded when the round was published.
    async fn published_head(&self, id: RoundId) -> Result<Option<minping_domain::audit::Head>>;

    /// Stores a batch of ballots in one transaction; a ballot for a round that is not open
    /// is rejected, the others stored. Returns one outcome per ballot, in order.
    async fn insert_ballots(
        &self,
        batch: &[NewBallot],
    ) -> Result<Vec<std::result::Result<(), BallotRejected>>>;
    /// A ballot by its receipt.
    async fn ballot_by_receipt(&self, receipt: &str) -> Result<Option<StoredBallot>>;
    /// How many ballots a round holds.
    async fn ballot_count(&self, round: RoundId) -> Result<u64>;
    /// The receipts of a round's counted ballots (all but those the stuffing scan holds),
    /// in text order.
    async fn counted_receipts(&self, round: RoundId) -> Result<Vec<String>>;
    /// A round's tallies, added up from its stored ballots (the audit path).
    async fn tallies(&self, round: RoundId, indicators: usize) -> Result<Vec<Tally>>;
    /// The comments on a round's counted nominations of one unit (ballots the stuffing scan
    /// holds are left out), in text order (arrival order is not kept).
    async fn comments(&self, round: RoundId, unit: UnitId) -> Result<Vec<String>>;

    /// Adds a user; names are unique.
    async fn create_user(
        &self,
        name: &str,
        role: Role,
        unit: Option<UnitId>,
        password_hash: &str,
        actor: &Actor,
        at: DateTime<Utc>,
    ) -> Result<User>;
    /// A user by sign-in name.
    async fn user_by_name(&self, name: &str) -> Result<Option<User>>;
    /// A user by id.
    async fn user(&self, id: UserId) -> Result<Option<User>>;
    /// Every account, by name.
    async fn users(&self) -> Result<Vec<User>>;
    /// Disables an account (or enables it again).
    async fn set_user_disabled(
        &self,
        user: UserId,
        disabled: bool,
        actor: &Actor,
        at: DateTime<Utc>,
    ) -> Result<()>;
    /// Replaces an account's password hash.
    async fn set_password(
        &self,
        user: UserId,
        password_hash: &str,
        actor: &Actor,
        at: DateTime<Utc>,
    ) -> Result<()>;
    /// Stores the hash of a new API token for a user, working until `expires`.
    async fn add_token(
        &self,
        user: UserId,
        token_hash: &str,
        expires: DateTime<Utc>,
        actor: &Actor,
        at: DateTime<Utc>,
    ) -> Result<()>;
    /// The tokens of one user, or of everyone, by user name and age.
    async fn tokens(&self, user: Option<UserId>) -> Result<Vec<TokenInfo>>;
    /// Revokes one of a user's tokens (by the id listed) or all of them; returns how many.
    async fn revoke_tokens(
        &self,
        user: UserId,
        token: Option<&str>,
        actor: &Actor,
        at: DateTime<Utc>,
    ) -> Result<u64>;
    /// The user an API token (by hash) belongs to, unless the token has expired at `now`.
    async fn user_by_token(&self, token_hash: &str, now: DateTime<Utc>) -> Result<Option<User>>;

    /// Loads a session record unless it has expired.
    async fn load_session(&self, id: &str, now: DateTime<Utc>) -> Result<Option<String>>;
    /// Creates or replaces a session record.
    async fn save_session(&self, id: &str, data: &str, expires: DateTime<Utc>) -> Result<()>;
    /// Deletes a session record.
    async fn delete_session(&self, id: &str) -> Result<()>;
}

/// Opens the database: a `postgres://` URL, or else the SQLite file `minping.db` in `data`.
/// Migrations are applied before it returns.
pub async fn open(data: &Path, database_url: Option<&str>) -> Result<Arc<dyn Storage>> {
    match database_url {
        Some(url) if url.starts_with("postgres://") || url.starts_with("postgresql://") => {
            Ok(Arc::new(PgStore::connect(url, None).await?))
        }
        Some(url) => Err(StorageError::Conflict(format!(
            "unsupported database URL `{url}`: give a postgres:// URL, or none for SQLite"
        ))),
        None => Ok(Arc::new(SqliteStore::open(&data.join("minping.db")).await?)),
    }
}

/// A ballot's contents as JSON, for the conflict queue and paper entries.
pub fn ballot_json(ballot: &Ballot) -> String {
    serde_json::json!({
        "channel": ballot.channel,
        "nominations": ballot.nominations.iter().map(|n| serde_json::json!({
            "unit_id": n.unit_id,
            "indicators": n.indicators,
            "comment": n.comment,
        })).collect::<Vec<_>>(),
        "exposure": ballot.exposure,
    })
    .to_string()
}

//! The store: one type over either driver, and [`Storage`] fulfilled by handing each method
//! to its aggregate's SQL ([`crate::org`], [`crate::rounds`], [`crate::ballots`],
//! [`crate::accounts`]).

use crate::{
    Actor, Backend, BallotRejected, Finalization, FrozenRanking, NewBallot, Result, Storage,
    StoredBallot, TokenInfo, User, accounts, ballots, dialect::Dialect, org, rounds,
};
use async_trait::async_trait;
use chrono::{DateTime, NaiveDate, Utc};
use minping_domain::{
    Agency, AgencyId, OrgSnapshot, Period, Person, PersonId, Post, PostRole, Role, Round, RoundId,
    RoundState, Tally, Transition, Unit, UnitId, UserId, settings::RoundSettings,
};
use sqlx::{Pool, Postgres, Sqlite};

/// A store on SQLite or PostgreSQL; opened by [`SqliteStore::open`] or [`PgStore::connect`].
pub struct Store<DB: Dialect> {
    /// The pool everything but ballot intake goes through.
    pub(crate) pool: Pool<DB>,
    /// The pool ballot intake writes through. On SQLite, one connection of its own (see
    /// [`SqliteStore::open`]); on PostgreSQL, the shared pool itself: PostgreSQL keeps one
    /// buffer cache for every connection.
    pub(crate) intake: Pool<DB>,
    /// SQLite's background checkpoints, stopped with the store.
    pub(crate) checkpointer: Option<tokio::task::AbortHandle>,
}

/// The SQLite store.
pub type SqliteStore = Store<Sqlite>;

/// The PostgreSQL store.
pub type PgStore = Store<Postgres>;

impl<DB: Dialect> Drop for Store<DB> {
    fn drop(&mut self) {
        if let Some(task) = &self.checkpointer {
            task.abort();
        }
    }
}

#[async_trait]
impl<DB: Dialect> Storage for Store<DB> {
    fn backend(&self) -> Backend {
        DB::BACKEND
    }

    async fn create_agency(&self, name: &str, actor: &Actor, at: DateTime<Utc>) -> Result<Agency> {
        org::create_agency(&self.pool, name, actor, at).await
    }

    async fn agencies(&self) -> Result<Vec<Agency>> {
        org::agencies(&self.pool).await
    }

    async fn create_unit(
        &self,
        agency: AgencyId,
        name: &str,
        kind: &str,
        actor: &Actor,
        at: DateTime<Utc>,
    ) -> Result<Unit> {
        org::create_unit(&self.pool, agency, name, kind, actor, at).await
    }

    async fn units(&self) -> Result<Vec<Unit>> {
        org::units(&self.pool).await
    }

    async fn set_unit_active(
        &self,
        unit: UnitId,
        active: bool,
        on: NaiveDate,
        actor: &Actor,
        at: DateTime<Utc>,
    ) -> Result<()> {
        org::set_unit_active(&self.pool, unit, active, on, actor, at).await
    }

    async fn create_person(&self, name: &str, actor: &Actor, at: DateTime<Utc>) -> Result<Person> {
        org::create_person(&self.pool, name, actor, at).await
    }

    async fn people(&self) -> Result<Vec<Person>> {
        org::people(&self.pool).await
    }

    async fn assign_post(
        &self,
        person: PersonId,
        unit: UnitId,
        role: PostRole,
        start: NaiveDate,
        actor: &Actor,
        at: DateTime<Utc>,
    ) -> Result<Post> {
        org::assign_post(&self.pool, person, unit, role, start, actor, at).await
    }

    async fn posts(&self) -> Result<Vec<Post>> {
        org::posts(&self.pool).await
    }

    async fn create_round(
        &self,
        period: Period,
        settings: &RoundSettings,
        actor: &Actor,
        at: DateTime<Utc>,
    ) -> Result<Round> {
        rounds::create_round(&self.pool, period, settings, actor, at).await
    }

    async fn rounds(&self) -> Result<Vec<Round>> {
        rounds::rounds(&self.pool).await
    }

    async fn round(&self, id: RoundId) -> Result<Option<Round>> {
        rounds::round(&self.pool, id).await
    }

    async fn transition_round(
        &self,
        id: RoundId,
        from: RoundState,
        to: RoundState,
        actor: &Actor,
        at: DateTime<Utc>,
    ) -> Result<()> {
        rounds::transition_round(&self.pool, id, from, to, actor, at).await
    }

    async fn finalize_round(
        &self,
        id: RoundId,
        finalization: &Finalization,
        actor: &Actor,
        at: DateTime<Utc>,
    ) -> Result<()> {
        rounds::finalize_round(&self.pool, id, finalization, actor, at).await
    }

    async fn publish_round(
        &self,
        id: RoundId,
        on: NaiveDate,
        actor: &Actor,
        at: DateTime<Utc>,
    ) -> Result<()> {
        rounds::publish_round(&self.pool, id, on, actor, at).await
    }

    async fn round_rules(&self, id: RoundId) -> Result<Option<String>> {
        rounds::round_rules(&self.pool, id).await
    }

    async fn transitions(&self, id: RoundId) -> Result<Vec<Transition>> {
        rounds::transitions(&self.pool, id).await
    }

    async fn frozen_ranking(&self, id: RoundId) -> Result<Option<FrozenRanking>> {
        rounds::frozen_ranking(&self.pool, id).await
    }

    async fn org_snapshot(&self, id: RoundId) -> Result<Option<OrgSnapshot>> {
        rounds::org_snapshot(&self.pool, id).await
    }

    async fn published_head(&self, id: RoundId) -> Result<Option<minping_domain::audit::Head>> {
        rounds::published_head(&self.pool, id).await
    }

    async fn insert_ballots(
        &self,
        batch: &[NewBallot],
    ) -> Result<Vec<std::result::Result<(), BallotRejected>>> {
        ballots::insert_ballots(&self.intake, batch).await
    }

    async fn ballot_by_receipt(&self, receipt: &str) -> Result<Option<StoredBallot>> {
        ballots::ballot_by_receipt(&self.pool, receipt).await
    }

    async fn ballot_count(&self, round: RoundId) -> Result<u64> {
        ballots::ballot_count(&self.pool, round).await
    }

    async fn counted_receipts(&self, round: RoundId) -> Result<Vec<String>> {
        ballots::counted_receipts(&self.pool, round).await
    }

    async fn tallies(&self, round: RoundId, indicators: usize) -> Result<Vec<Tally>> {
        ballots::tallies(&self.pool, round, indicators).await
    }

    async fn comments(&self, round: RoundId, unit: UnitId) -> Result<Vec<String>> {
        ballots::comments(&self.pool, round, unit).await
    }

    async fn create_user(
        &self,
        name: &str,
        role: Role,
        unit: Option<UnitId>,
        password_hash: &str,
        actor: &Actor,
        at: DateTime<Utc>,
    ) -> Result<User> {
        accounts::create_user(&self.pool, name, role, unit, password_hash, actor, at).await
    }

    async fn user_by_name(&self, name: &str) -> Result<Option<User>> {
        accounts::user_by_name(&self.pool, name).await
    }

    async fn user(&self, id: UserId) -> Result<Option<User>> {
        accounts::user(&self.pool, id).await
    }

    async fn users(&self) -> Result<Vec<User>> {
        accounts::users(&self.pool).await
    }

    async fn set_user_disabled(
        &self,
        user: UserId,
        disabled: bool,
        actor: &Actor,
        at: DateTime<Utc>,
    ) -> Result<()> {
        accounts::set_user_disabled(&self.pool, user, disabled, actor, at).await
    }

    async fn set_password(
        &self,
        user: UserId,
        password_hash: &str,
        actor: &Actor,
        at: DateTime<Utc>,
    ) -> Result<()> {
        accounts::set_password(&self.pool, user, password_hash, actor, at).await
    }

    async fn add_token(
        &self,
        user: UserId,
        token_hash: &str,
        expires: DateTime<Utc>,
        actor: &Actor,
        at: DateTime<Utc>,
    ) -> Result<()> {
        accounts::add_token(&self.pool, user, token_hash, expires, actor, at).await
    }

    async fn tokens(&self, user: Option<UserId>) -> Result<Vec<TokenInfo>> {
        accounts::tokens(&self.pool, user).await
    }

    async fn revoke_tokens(
        &self,
        user: UserId,
        token: Option<&str>,
        actor: &Actor,
        at: DateTime<Utc>,
    ) -> Result<u64> {
        accounts::revoke_tokens(&self.pool, user, token, actor, at).await
    }

    async fn user_by_token(&self, token_hash: &str, now: DateTime<Utc>) -> Result<Option<User>> {
        accounts::user_by_token(&self.pool, token_hash, now).await
    }

    async fn load_session(&self, id: &str, now: DateTime<Utc>) -> Result<Option<String>> {
        accounts::load_session(&self.pool, id, now).await
    }

    async fn save_session(&self, id: &str, data: &str, expires: DateTime<Utc>) -> Result<()> {
        accounts::save_session(&self.pool, id, data, expires).await
    }

    async fn delete_session(&self, id: &str) -> Result<()> {
        accounts::delete_session(&self.pool, id).await
    }
}

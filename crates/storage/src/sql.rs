//! The queries, written once in the SQL that SQLite and PostgreSQL share (`$n` parameters,
//! `RETURNING`, `CAST(.. AS BIGINT)`), and expanded for each backend's driver by
//! [`impl_storage!`]. Column types are chosen per backend in the migrations so that the
//! same Rust types decode from both. What differs per backend is named once, in
//! [`crate::dialect::Dialect`].

/// Bind parameters a single multi-row INSERT may carry on both backends.
pub(crate) const MAX_BINDS: usize = 30_000;

/// Stored data that does not read back as what it should be.
pub(crate) fn corrupt(what: impl std::fmt::Display) -> crate::StorageError {
    crate::StorageError::Corrupt(what.to_string())
}

/// Unique-constraint violations become conflicts the caller can explain, and a foreign key
/// pointing nowhere a thing not found.
pub(crate) fn conflict_or(e: sqlx::Error, message: &str) -> crate::StorageError {
    match &e {
        sqlx::Error::Database(db) if db.is_unique_violation() => {
            crate::StorageError::Conflict(message.to_string())
        }
        sqlx::Error::Database(db) if db.is_foreign_key_violation() => crate::StorageError::NotFound,
        _ => crate::StorageError::Database(e),
    }
}

/// Implements [`crate::Storage`] for `$store` (a struct with a `pool: sqlx::Pool<$db>`).
macro_rules! impl_storage {
    ($store:ty, $db:ty) => {
        use crate::{
            Actor, Backend, BallotRejected, FrozenRanking, NewBallot, Result, Storage,
            StorageError, StoredBallot, User, dialect::Dialect,
        };
        use async_trait::async_trait;
        use chrono::{DateTime, NaiveDate, Utc};
        use minping_domain::{
            Agency, AgencyId, Person,
            PersonId, Post, PostRole, Role, Round, RoundId, RoundLabel,
            RoundState, Tally, Transition, Unit, UnitId, UserId, settings::RoundSettings,
        };
        use sqlx::Row;

        type DbRow = <$db as sqlx::Database>::Row;

        fn corrupt(what: impl std::fmt::Display) -> StorageError {
            StorageError::Corrupt(what.to_string())
        }

        /// Unique-constraint violations become conflicts the caller can explain.
        fn conflict_or(e: sqlx::Error, message: &str) -> StorageError {
            match &e {
                sqlx::Error::Database(db) if db.is_unique_violation() => {
                    StorageError::Conflict(message.to_string())
                }
                sqlx::Error::Database(db) if db.is_foreign_key_violation() => {
                    StorageError::NotFound
                }
                _ => StorageError::Database(e),
            }
        }

        fn user_from(row: &DbRow) -> Result<User> {
            let role: String = row.try_get("role")?;
            Ok(User {
                id: UserId(row.try_get("id")?),
                name: row.try_get("name")?,
                role: role.parse::<Role>().map_err(corrupt)?,
                unit_id: row.try_get::<Option<i64>, _>("unit_id")?.map(UnitId),
                password_hash: row.try_get("password_hash")?,
            })
        }

        const USER_SELECT: &str = "SELECT id, name, role, unit_id, password_hash FROM users";

        #[async_trait]
        impl Storage for $store {
            fn backend(&self) -> Backend {
                <$db as Dialect>::BACKEND
            }

            async fn create_agency(&self, name: &str) -> Result<Agency> {
                crate::org::create_agency(&self.pool, name).await
            }

            async fn agencies(&self) -> Result<Vec<Agency>> {
                crate::org::agencies(&self.pool).await
            }

            async fn create_unit(&self, agency: AgencyId, name: &str, kind: &str) -> Result<Unit> {
                crate::org::create_unit(&self.pool, agency, name, kind).await
            }

            async fn units(&self) -> Result<Vec<Unit>> {
                crate::org::units(&self.pool).await
            }

            async fn set_unit_active(&self, unit: UnitId, active: bool) -> Result<()> {
                crate::org::set_unit_active(&self.pool, unit, active).await
            }

            async fn create_person(&self, name: &str) -> Result<Person> {
                crate::org::create_person(&self.pool, name).await
            }

            async fn people(&self) -> Result<Vec<Person>> {
                crate::org::people(&self.pool).await
            }

            async fn assign_post(
                &self,
                person: PersonId,
                unit: UnitId,
                role: PostRole,
                start: NaiveDate,
            ) -> Result<Post> {
                crate::org::assign_post(&self.pool, person, unit, role, start).await
            }

            async fn posts(&self) -> Result<Vec<Post>> {
                crate::org::posts(&self.pool).await
            }

            async fn create_round(
                &self,
                label: RoundLabel,
                settings: &RoundSettings,
                actor: &Actor,
                at: DateTime<Utc>,
            ) -> Result<Round> {
                crate::rounds::create_round(&self.pool, label, settings, actor, at).await
            }

            async fn rounds(&self) -> Result<Vec<Round>> {
                crate::rounds::rounds(&self.pool).await
            }

            async fn round(&self, id: RoundId) -> Result<Option<Round>> {
                crate::rounds::round(&self.pool, id).await
            }

            async fn transition_round(
                &self,
                id: RoundId,
                from: RoundState,
                to: RoundState,
                actor: &Actor,
                at: DateTime<Utc>,
            ) -> Result<()> {
                crate::rounds::transition_round(&self.pool, id, from, to, actor, at).await
            }

            async fn finalize_round(
                &self,
                id: RoundId,
                frozen: &FrozenRanking,
                actor: &Actor,
                at: DateTime<Utc>,
            ) -> Result<()> {
                crate::rounds::finalize_round(&self.pool, id, frozen, actor, at).await
            }

            async fn transitions(&self, id: RoundId) -> Result<Vec<Transition>> {
                crate::rounds::transitions(&self.pool, id).await
            }

            async fn frozen_ranking(&self, id: RoundId) -> Result<Option<FrozenRanking>> {
                crate::rounds::frozen_ranking(&self.pool, id).await
            }

            async fn insert_ballots(
                &self,
                batch: &[NewBallot],
            ) -> Result<Vec<std::result::Result<(), BallotRejected>>> {
                crate::ballots::insert_ballots(&self.intake, batch).await
            }

            async fn ballot_by_receipt(&self, receipt: &str) -> Result<Option<StoredBallot>> {
                crate::ballots::ballot_by_receipt(&self.pool, receipt).await
            }

            async fn ballot_count(&self, round: RoundId) -> Result<u64> {
                crate::ballots::ballot_count(&self.pool, round).await
            }

            async fn tallies(&self, round: RoundId, indicators: usize) -> Result<Vec<Tally>> {
                crate::ballots::tallies(&self.pool, round, indicators).await
            }

            async fn comments(&self, round: RoundId, unit: UnitId) -> Result<Vec<String>> {
                crate::ballots::comments(&self.pool, round, unit).await
            }

            async fn create_user(
                &self,
                name: &str,
                role: Role,
                unit: Option<UnitId>,
                password_hash: &str,
            ) -> Result<User> {
                let id: i64 = sqlx::query_scalar(
                    "INSERT INTO users (name, role, unit_id, password_hash) VALUES ($1, $2, $3, $4) RETURNING id",
                )
                .bind(name)
                .bind(role.as_str())
                .bind(unit.map(|u| u.0))
                .bind(password_hash)
                .fetch_one(&self.pool)
                .await
                .map_err(|e| conflict_or(e, "a user of that name exists"))?;
                Ok(User {
                    id: UserId(id),
                    name: name.to_string(),
                    role,
                    unit_id: unit,
                    password_hash: password_hash.to_string(),
                })
            }

            async fn user_by_name(&self, name: &str) -> Result<Option<User>> {
                let row = sqlx::query(sqlx::AssertSqlSafe(format!("{USER_SELECT} WHERE name = $1")))
                    .bind(name)
                    .fetch_optional(&self.pool)
                    .await?;
                row.as_ref().map(user_from).transpose()
            }

            async fn user(&self, id: UserId) -> Result<Option<User>> {
                let row = sqlx::query(sqlx::AssertSqlSafe(format!("{USER_SELECT} WHERE id = $1")))
                    .bind(id.0)
                    .fetch_optional(&self.pool)
                    .await?;
                row.as_ref().map(user_from).transpose()
            }

            async fn add_token(&self, user: UserId, token_hash: &str, at: DateTime<Utc>) -> Result<()> {
                sqlx::query("INSERT INTO api_tokens (token_hash, user_id, created_at) VALUES ($1, $2, $3)")
                    .bind(token_hash)
                    .bind(user.0)
                    .bind(at)
                    .execute(&self.pool)
                    .await
                    .map_err(|e| conflict_or(e, "token exists"))?;
                Ok(())
            }

            async fn user_by_token(&self, token_hash: &str) -> Result<Option<User>> {
                let row = sqlx::query(
                    "SELECT u.id, u.name, u.role, u.unit_id, u.password_hash FROM api_tokens t \
                     JOIN users u ON u.id = t.user_id WHERE t.token_hash = $1",
                )
                .bind(token_hash)
                .fetch_optional(&self.pool)
                .await?;
                row.as_ref().map(user_from).transpose()
            }

            async fn load_session(&self, id: &str, now: DateTime<Utc>) -> Result<Option<String>> {
                Ok(sqlx::query_scalar("SELECT data FROM sessions WHERE id = $1 AND expires_at > $2")
                    .bind(id)
                    .bind(now)
                    .fetch_optional(&self.pool)
                    .await?)
            }

            async fn save_session(&self, id: &str, data: &str, expires: DateTime<Utc>) -> Result<()> {
                sqlx::query(
                    "INSERT INTO sessions (id, data, expires_at) VALUES ($1, $2, $3) \
                     ON CONFLICT (id) DO UPDATE SET data = excluded.data, expires_at = excluded.expires_at",
                )
                .bind(id)
                .bind(data)
                .bind(expires)
                .execute(&self.pool)
                .await?;
                Ok(())
            }

            async fn delete_session(&self, id: &str) -> Result<()> {
                sqlx::query("DELETE FROM sessions WHERE id = $1")
                    .bind(id)
                    .execute(&self.pool)
                    .await?;
                Ok(())
            }
        }



    };
}

pub(crate) use impl_storage;

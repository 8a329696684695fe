//! The application: storage, the ballot writer, the configuration and the clock, with the
//! few caches ballot intake needs. Every workflow takes it as `&App`.

use crate::{
    clock::{Clock, SystemClock},
    config::{CodeKey, Config},
};
use chrono::{DateTime, NaiveDate, Utc};
use minping_domain::{Round, RoundId, RoundState, Settings, UnitId, rules::Rules};
use minping_storage::{BallotWriter, Storage, StorageError};
use std::{
    collections::HashSet,
    sync::{Arc, RwLock},
    time::{Duration, Instant},
};

/// How long an open round may be served from memory to ballot intake. Only its settings
/// are used from the copy: whether it is still open is checked again inside the ballot's
/// own transaction, and a round's settings never change once it is open.
const OPEN_ROUND_TTL: Duration = Duration::from_secs(5);

/// How long the set of evaluated units may be served from memory. Changes made through
/// this node clear it at once; the limit bounds staleness across nodes.
const EVALUATED_TTL: Duration = Duration::from_secs(10);

/// A running minping: what every workflow needs.
pub struct App {
    store: Arc<dyn Storage>,
    writer: BallotWriter,
    settings: Settings,
    rules: Rules,
    code_key: CodeKey,
    clock: Arc<dyn Clock>,
    evaluated: RwLock<Option<(Instant, Arc<HashSet<UnitId>>)>>,
    open_rounds: RwLock<Option<(Instant, Arc<Round>)>>,
    backoff: crate::accounts::Backoff,
    evidence: crate::evidence::EvidenceFiles,
}

impl App {
    /// Opens the configured database (applying its migrations) and starts the ballot writer
    /// on the current runtime.
    pub async fn open(config: Config) -> Result<Self, StorageError> {
        let store = minping_storage::open(&config.data, config.database_url.as_deref()).await?;
        Ok(Self::new(store, config))
    }

    /// The application over a store that is already open; starts the ballot writer on the
    /// current runtime. The clock is the system's.
    pub fn new(store: Arc<dyn Storage>, config: Config) -> Self {
        Self {
            evidence: crate::evidence::EvidenceFiles::new(
                &config.data,
                config.settings.evidence.clone(),
            ),
            writer: BallotWriter::spawn(store.clone()),
            store,
            settings: config.settings,
            rules: config.rules,
            code_key: config.code_key,
            clock: Arc::new(SystemClock),
            evaluated: RwLock::new(None),
            open_rounds: RwLock::new(None),
            backoff: Default::default(),
        }
    }

    /// The same application reading the time from `clock`.
    pub fn with_clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// The database, for reads. Changes go through the workflows.
    pub fn store(&self) -> &dyn Storage {
        self.store.as_ref()
    }

    /// The deployment's settings.
    pub fn settings(&self) -> &Settings {
        &self.settings
    }

    /// The accountability rules in force.
    pub fn rules(&self) -> &Rules {
        &self.rules
    }

    pub(crate) fn code_key(&self) -> &[u8] {
        self.code_key.as_bytes()
    }

    /// A MAC of `message` for `purpose` under the deployment's key (see
    /// [`minping_domain::code::signed`]): the same on every node sharing the data folder's
    /// key, unknown to anyone without it.
    pub fn sign(&self, purpose: &str, message: &[u8]) -> String {
        minping_domain::code::signed(self.code_key(), purpose, message)
    }

    /// Where reports' evidence files are kept.
    pub fn evidence(&self) -> &crate::evidence::EvidenceFiles {
        &self.evidence
    }

    pub(crate) fn backoff(&self) -> &crate::accounts::Backoff {
        &self.backoff
    }

    pub(crate) fn writer(&self) -> &BallotWriter {
        &self.writer
    }

    /// Now, by the application's clock.
    pub fn now(&self) -> DateTime<Utc> {
        self.clock.now()
    }

    /// Today in the deployment's time zone.
    pub fn today(&self) -> NaiveDate {
        self.now().with_timezone(&self.settings.tz()).date_naive()
    }

    /// A day, in the deployment's time zone, of a recorded moment.
    pub fn day_of(&self, at: DateTime<Utc>) -> NaiveDate {
        at.with_timezone(&self.settings.tz()).date_naive()
    }

    /// A round, or `NotFound`.
    pub async fn round(&self, id: RoundId) -> Result<Round, StorageError> {
        self.store.round(id).await?.ok_or(StorageError::NotFound)
    }

    /// The rules a round was finalized under (stored with it); the rules in force for a
    /// round not finalized yet. Stored rules that no longer read are an error, never
    /// replaced by today's: editing `rules.toml` does not change an earlier round.
    pub async fn rules_of(&self, id: RoundId) -> Result<Rules, StorageError> {
        match self.store.round_rules(id).await? {
            Some(json) => serde_json::from_str(&json).map_err(|e| {
                StorageError::Corrupt(format!("the rules stored with round {}: {e}", id.0))
            }),
            None => Ok(self.rules.clone()),
        }
    }

    /// The units currently evaluated (active), cached briefly for ballot intake.
    pub async fn evaluated_units(&self) -> Result<Arc<HashSet<UnitId>>, StorageError> {
        if let Some((at, set)) = self.evaluated.read().expect("lock").as_ref()
            && at.elapsed() < EVALUATED_TTL
        {
            return Ok(set.clone());
        }
        let set: Arc<HashSet<UnitId>> = Arc::new(
            self.store
                .units()
                .await?
                .into_iter()
                .filter(|u| u.active)
                .map(|u| u.id)
                .collect(),
        );
        *self.evaluated.write().expect("lock") = Some((Instant::now(), set.clone()));
        Ok(set)
    }

    /// Forgets the cached unit set after a unit is added or retired.
    pub(crate) fn units_changed(&self) {
        *self.evaluated.write().expect("lock") = None;
    }

    /// A round for ballot intake: an open round is served from memory for a few seconds
    /// (one read per ballot was the intake's only per-request query besides the write).
    /// The writer re-checks that the round is open in the same transaction as the ballot,
    /// so a round closed meanwhile still refuses it.
    pub(crate) async fn round_for_intake(&self, id: RoundId) -> Result<Arc<Round>, StorageError> {
        if let Some((at, round)) = self.open_rounds.read().expect("lock").as_ref()
            && round.id == id
            && at.elapsed() < OPEN_ROUND_TTL
        {
            return Ok(round.clone());
        }
        let round = Arc::new(self.round(id).await?);
        if round.state == RoundState::Open {
            *self.open_rounds.write().expect("lock") = Some((Instant::now(), round.clone()));
        }
        Ok(round)
    }

    /// Forgets the cached open round after a round changes state on this node.
    pub(crate) fn rounds_changed(&self) {
        *self.open_rounds.write().expect("lock") = None;
    }
}

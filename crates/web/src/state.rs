//! What every request handler can reach.

use chrono::{NaiveDate, Utc};
use minping_domain::{Round, RoundId, Settings, UnitId};
use minping_storage::{BallotWriter, Storage, StorageError};
use std::{
    collections::HashSet,
    sync::{Arc, RwLock},
    time::{Duration, Instant},
};

/// Shared application state.
pub struct AppState {
    /// The database.
    pub store: Arc<dyn Storage>,
    /// Ballot intake's group-commit writer.
    pub writer: BallotWriter,
    /// Deployment settings.
    pub settings: Settings,
    /// The public base URL, for links printed elsewhere.
    pub base_url: String,
    /// Whether public submissions and sign-ins are rate-limited (on unless turned off).
    pub rate_limit: bool,
    /// The key one-time codes are digested with; it lives outside the database.
    pub code_key: Vec<u8>,
    /// The accountability rules in force (`rules.toml` in the data folder).
    pub rules: minping_domain::rules::Rules,
    evaluated: RwLock<Option<(Instant, Arc<HashSet<UnitId>>)>>,
    open_rounds: RwLock<Option<(Instant, Arc<Round>)>>,
}

/// The shared state as handlers receive it.
pub type Shared = Arc<AppState>;

/// How long an open round may be served from memory to ballot intake. Only its settings
/// are used from the copy: whether it is still open is checked again inside the ballot's
/// own transaction, and a round's settings never change once it is open.
const OPEN_ROUND_TTL: Duration = Duration::from_secs(5);

/// How long the set of evaluated units may be served from memory. Changes made through
/// this node clear it at once; the limit bounds staleness across nodes.
const EVALUATED_TTL: Duration = Duration::from_secs(10);

impl AppState {
    /// State over a store; starts the ballot writer on the current runtime.
    pub fn new(store: Arc<dyn Storage>, settings: Settings, base_url: String) -> Self {
        Self {
            writer: BallotWriter::spawn(store.clone()),
            store,
            settings,
            base_url,
            rate_limit: true,
            code_key: rand::random::<[u8; 32]>().to_vec(),
            rules: Default::default(),
            evaluated: RwLock::new(None),
            open_rounds: RwLock::new(None),
        }
    }

    /// The same state without rate limits, for load tests on loopback.
    pub fn without_rate_limit(mut self) -> Self {
        self.rate_limit = false;
        self
    }

    /// The same state digesting codes with `key` (the deployment's, from its data folder).
    pub fn with_code_key(mut self, key: Vec<u8>) -> Self {
        self.code_key = key;
        self
    }

    /// The same state with the deployment's accountability rules.
    pub fn with_rules(mut self, rules: minping_domain::rules::Rules) -> Self {
        self.rules = rules;
        self
    }

    /// Today in the deployment's time zone.
    pub fn today(&self) -> NaiveDate {
        Utc::now().with_timezone(&self.settings.tz()).date_naive()
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
    pub fn units_changed(&self) {
        *self.evaluated.write().expect("lock") = None;
    }

    /// A round for ballot intake: an open round is served from memory for a few seconds
    /// (one read per ballot was the intake's only per-request query besides the write).
    /// The writer re-checks that the round is open in the same transaction as the ballot,
    /// so a round closed meanwhile still refuses it.
    pub async fn round_for_intake(&self, id: RoundId) -> Result<Arc<Round>, StorageError> {
        if let Some((at, round)) = self.open_rounds.read().expect("lock").as_ref()
            && round.id == id
            && at.elapsed() < OPEN_ROUND_TTL
        {
            return Ok(round.clone());
        }
        let round = Arc::new(self.round(id).await?);
        if round.state == minping_domain::RoundState::Open {
            *self.open_rounds.write().expect("lock") = Some((Instant::now(), round.clone()));
        }
        Ok(round)
    }

    /// Forgets the cached open round after a round changes state on this node.
    pub fn rounds_changed(&self) {
        *self.open_rounds.write().expect("lock") = None;
    }

    /// A round, or `NotFound`.
    pub async fn round(&self, id: RoundId) -> Result<Round, StorageError> {
        self.store.round(id).await?.ok_or(StorageError::NotFound)
    }
}

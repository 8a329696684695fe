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
}

/// The shared state as handlers receive it.
pub type Shared = Arc<AppState>;

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

    /// A round, or `NotFound`.
    pub async fn round(&self, id: RoundId) -> Result<Round, StorageError> {
        self.store.round(id).await?.ok_or(StorageError::NotFound)
    }
}

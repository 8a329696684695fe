//! What the API and the console both compute from the accountability records: the
//! statistics since the first round and the list of everyone whose promotion is frozen.

use crate::{error::ApiError, state::AppState};
use chrono::NaiveDate;
use minping_domain::{
    RoundState,
    report::ReportState,
    rules::{RecordedSanction, SanctionKind, SanctionState},
    statistics::{self, Statistics},
};
use minping_storage::StorageError;
use serde::Serialize;
use std::collections::HashMap;
use utoipa::ToSchema;

/// Counts rounds held, executed sanctions and substantiated reports, per year and in total.
pub async fn statistics(state: &AppState) -> Result<Statistics, ApiError> {
    let published: Vec<_> = state
        .store
        .rounds()
        .await?
        .into_iter()
        .filter(|r| r.state == RoundState::Published)
        .map(|r| r.label)
        .collect();
    let sanctions: Vec<RecordedSanction> = state
        .store
        .all_sanctions()
        .await?
        .into_iter()
        .map(|s| RecordedSanction {
            sanction: s.proposal,
            state: s.state,
        })
        .collect();
    let substantiated: Vec<NaiveDate> = state
        .store
        .reports(Some(ReportState::Substantiated))
        .await?
        .into_iter()
        .filter_map(|r| r.concluded_on)
        .collect();
    Ok(statistics::count(&published, &sanctions, &substantiated))
}

/// Every unit's label, "agency · unit", by id.
pub(crate) async fn unit_labels(state: &AppState) -> Result<HashMap<i64, String>, StorageError> {
    Ok(state
        .store
        .units()
        .await?
        .into_iter()
        .map(|u| (u.id.0, format!("{} · {}", u.agency, u.name)))
        .collect())
}

/// Every person's name, by id.
pub(crate) async fn person_names(state: &AppState) -> Result<HashMap<i64, String>, StorageError> {
    Ok(state
        .store
        .people()
        .await?
        .into_iter()
        .map(|p| (p.id.0, p.name))
        .collect())
}

/// A person whose promotion is frozen on a day.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Frozen {
    /// Who.
    pub person_id: i64,
    /// Their name.
    pub person: String,
    /// The unit whose results froze them.
    pub unit_id: i64,
    /// "agency · unit".
    pub unit: String,
    /// The round, e.g. `2026Q3`.
    pub round: String,
    /// The first day of the freeze (the publication day).
    pub from: NaiveDate,
    /// The last day of the freeze.
    pub until: NaiveDate,
    /// Why, in Chinese.
    pub reason: String,
}

/// Everyone with a confirmed promotion freeze covering `day`, the longest-running first.
pub async fn frozen_on(state: &AppState, day: NaiveDate) -> Result<Vec<Frozen>, ApiError> {
    let people = person_names(state).await?;
    let units = unit_labels(state).await?;
    let mut frozen: Vec<Frozen> = state
        .store
        .all_sanctions()
        .await?
        .into_iter()
        .filter(|s| s.state == SanctionState::Confirmed)
        .map(|s| s.proposal)
        .filter(|p| p.kind == SanctionKind::PromotionFreeze && p.from <= day)
        .filter_map(|p| {
            let until = p.until.filter(|&until| day <= until)?;
            Some(Frozen {
                person_id: p.person_id.0,
                person: people.get(&p.person_id.0).cloned().unwrap_or_default(),
                unit_id: p.unit_id.0,
                unit: units.get(&p.unit_id.0).cloned().unwrap_or_default(),
                round: p.rounds.last().map(|r| r.to_string()).unwrap_or_default(),
                from: p.from,
                until,
                reason: p.reason_zh,
            })
        })
        .collect();
    frozen.sort_by(|a, b| (b.until, &a.person).cmp(&(a.until, &b.person)));
    Ok(frozen)
}

//! Accountability (问责): the sanctions the rules propose when a round is finalized, their
//! review, the promotion calendar, and the statistics counted from the records.

use crate::{
    App,
    error::{ErrorKind, NameError, WorkflowError, checked_name},
};
use chrono::NaiveDate;
use minping_domain::{
    PersonId, Ranking, Round, RoundState,
    report::ReportState,
    rules::{
        EngineInput, PastRound, PromotionAnswer, ProposedSanction, RecordedSanction,
        RoundToFinalize, SanctionKind, SanctionState, may_promote, propose as engine,
    },
    statistics::{self, Deferral, Statistics},
};
use minping_storage::{Actor, PromotionCheck, Sanction, StorageError};
use serde::Serialize;
use std::collections::HashMap;
use utoipa::ToSchema;

/// Why a sanction decision or a promotion question was refused.
#[derive(Debug, thiserror::Error)]
pub enum SanctionError {
    /// No such sanction or person.
    #[error("not found")]
    NotFound,
    /// A decision that is neither confirm nor reject.
    #[error("confirm or reject")]
    UnknownDecision,
    /// The reason is missing or too long.
    #[error(transparent)]
    Reason(#[from] NameError),
    /// The sanction was decided already.
    #[error("this sanction has been decided already")]
    AlreadyDecided,
    /// Storage failed.
    #[error(transparent)]
    Storage(StorageError),
}

impl From<StorageError> for SanctionError {
    fn from(e: StorageError) -> Self {
        match e {
            StorageError::NotFound => SanctionError::NotFound,
            StorageError::Conflict(_) => SanctionError::AlreadyDecided,
            e => SanctionError::Storage(e),
        }
    }
}

impl WorkflowError for SanctionError {
    fn code(&self) -> &'static str {
        match self {
            SanctionError::NotFound => "not_found",
            SanctionError::UnknownDecision => "unknown_decision",
            SanctionError::Reason(e) => e.code(),
            SanctionError::AlreadyDecided => "already_decided",
            SanctionError::Storage(e) => e.code(),
        }
    }

    fn kind(&self) -> ErrorKind {
        match self {
            SanctionError::NotFound => ErrorKind::NotFound,
            SanctionError::UnknownDecision | SanctionError::Reason(_) => ErrorKind::Invalid,
            SanctionError::AlreadyDecided => ErrorKind::Conflict,
            SanctionError::Storage(e) => e.kind(),
        }
    }

    fn field(&self) -> Option<String> {
        match self {
            SanctionError::UnknownDecision => Some("decision".into()),
            SanctionError::Reason(e) => e.field(),
            _ => None,
        }
    }
}

/// Runs the rules engine for a round about to be finalized, over the published rounds before
/// it. Sanctions are dated from the finalization day here and moved to the publication day
/// when the round is published.
pub(crate) async fn propose(
    app: &App,
    round: &Round,
    ranking: &Ranking,
) -> Result<Vec<ProposedSanction>, StorageError> {
    let store = app.store();
    let mut history = Vec::new();
    for r in store.rounds().await? {
        if r.state != RoundState::Published || r.period >= round.period {
            continue;
        }
        let Some(frozen) = store.frozen_ranking(r.id).await? else {
            continue;
        };
        let published_on = store
            .transitions(r.id)
            .await?
            .iter()
            .find(|t| t.to == RoundState::Published)
            .map_or_else(|| app.today(), |t| app.day_of(t.at));
        history.push(PastRound::from_ranking(
            r.period,
            published_on,
            &frozen.ranking,
        ));
    }
    // The organisation as the round closed (later edits cannot move a proposal onto someone
    // else); as it stands for a round closed before snapshots were kept.
    let (units, posts) = match store.org_snapshot(round.id).await? {
        Some(snapshot) => (snapshot.units, snapshot.posts),
        None => (store.units().await?, store.posts().await?),
    };
    let retired = units
        .into_iter()
        .filter_map(|u| Some((u.id, u.retired_on.filter(|_| !u.active)?)))
        .collect();
    let this = RoundToFinalize::from_ranking(round.period, app.today(), ranking);
    Ok(engine(
        app.rules(),
        &EngineInput {
            round: &this,
            history: &history,
            posts: &posts,
            retired: &retired,
        },
    ))
}

/// Confirms (and records as executed) or rejects a proposed sanction, with who, when, why.
/// A confirmation names the decision document it rests on (`decision_ref`, e.g. the
/// 区委常委会 meeting). A confirmed removal (免职) ends the person's post: on the later of
/// the publication day and today, or at publication if the round is not published yet.
pub async fn decide(
    app: &App,
    id: i64,
    confirm: bool,
    reason: &str,
    decision_ref: Option<&str>,
    actor: &Actor,
) -> Result<Sanction, SanctionError> {
    let reason = checked_name("reason", reason)?;
    let decision_ref = match decision_ref.map(str::trim).filter(|d| !d.is_empty()) {
        Some(d) => Some(checked_name("decision_ref", d)?),
        None if confirm => {
            return Err(NameError {
                field: "decision_ref",
            }
            .into());
        }
        None => None,
    };
    Ok(app
        .store()
        .decide_sanction(
            id,
            confirm,
            actor,
            &reason,
            decision_ref.as_deref(),
            app.now(),
            app.today(),
        )
        .await?)
}

/// [`decide`] with the decision as typed: `confirm` or `reject`.
pub async fn decide_as_typed(
    app: &App,
    id: i64,
    decision: &str,
    reason: &str,
    decision_ref: Option<&str>,
    actor: &Actor,
) -> Result<Sanction, SanctionError> {
    let confirm = match decision {
        "confirm" => true,
        "reject" => false,
        _ => return Err(SanctionError::UnknownDecision),
    };
    decide(app, id, confirm, reason, decision_ref, actor).await
}

/// A person up for promotion (拟提拔) checked against the promotion calendar, and the check
/// recorded with its answer: the statistics count the promotions a freeze deferred from these.
pub async fn check_promotion(
    app: &App,
    person: PersonId,
    day: NaiveDate,
    note: &str,
    actor: &Actor,
) -> Result<PromotionCheck, SanctionError> {
    let note = checked_name("note", note)?;
    let answer = promotion(app, person, day).await?;
    let id = app
        .store()
        .record_promotion_check(person, day, &answer, &note, actor, app.now())
        .await?;
    app.store()
        .promotion_checks()
        .await?
        .into_iter()
        .find(|c| c.id == id)
        .ok_or(SanctionError::NotFound)
}

/// "May this person be promoted on that day?", with every reason.
pub async fn promotion(
    app: &App,
    person: PersonId,
    day: NaiveDate,
) -> Result<PromotionAnswer, SanctionError> {
    let store = app.store();
    if !store.people().await?.iter().any(|p| p.id == person) {
        return Err(SanctionError::NotFound);
    }
    let recorded: Vec<RecordedSanction> = store
        .sanctions_of(person)
        .await?
        .into_iter()
        .map(RecordedSanction::from)
        .collect();
    Ok(may_promote(person, day, &recorded))
}

/// Counts rounds held, executed sanctions and substantiated reports, per year and in total.
pub async fn statistics(app: &App) -> Result<Statistics, StorageError> {
    let store = app.store();
    let published: Vec<_> = store
        .rounds()
        .await?
        .into_iter()
        .filter(|r| r.state == RoundState::Published)
        .map(|r| r.period)
        .collect();
    let sanctions: Vec<RecordedSanction> = store
        .all_sanctions()
        .await?
        .into_iter()
        .map(RecordedSanction::from)
        .collect();
    let substantiated: Vec<NaiveDate> = store
        .reports(Some(ReportState::Substantiated))
        .await?
        .into_iter()
        .filter_map(|r| r.concluded_on)
        .collect();
    let deferred: Vec<Deferral> = store
        .promotion_checks()
        .await?
        .into_iter()
        .filter(|c| !c.answer.eligible)
        .filter_map(|c| {
            Some(Deferral {
                person: c.person_id,
                freeze: c.answer.reasons.first()?.round,
                on: app.day_of(c.checked_at),
            })
        })
        .collect();
    Ok(statistics::count(
        &published,
        &sanctions,
        &substantiated,
        &deferred,
    ))
}

/// Every unit's label, "agency · unit", by id.
pub async fn unit_labels(app: &App) -> Result<HashMap<i64, String>, StorageError> {
    Ok(app
        .store()
        .units()
        .await?
        .into_iter()
        .map(|u| (u.id.0, format!("{} · {}", u.agency, u.name)))
        .collect())
}

/// Every person's name, by id.
pub async fn person_names(app: &App) -> Result<HashMap<i64, String>, StorageError> {
    Ok(app
        .store()
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
pub async fn frozen_on(app: &App, day: NaiveDate) -> Result<Vec<Frozen>, StorageError> {
    let people = person_names(app).await?;
    let units = unit_labels(app).await?;
    let mut frozen: Vec<Frozen> = app
        .store()
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

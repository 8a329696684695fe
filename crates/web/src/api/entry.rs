//! Blind double entry of returned paper forms (录入): two clerks key each form without
//! seeing each other's entry; the ballot counts only when both entries say the same, and
//! otherwise waits for the organizer to adjudicate. The keying screen and these routes share
//! the workflow below.

use super::{ApiJson, ApiPath, ballots::NominationBody};
use crate::{
    auth::{Authorized, ORGANIZER, role_bit},
    error::ApiError,
    intake::{self, IntakeError},
    state::{AppState, Shared},
};
use axum::{Json, extract::State, http::StatusCode};
use chrono::{DateTime, Utc};
use minping_domain::{
    Ballot, BallotDraft, Channel, IndicatorSet, NominationDraft, Receipt, Role, Round, RoundId,
    RoundState, code::OneTimeCode,
};
use minping_storage::{Actor, PaperEntry, PaperForm, Response, StorageError, User};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use utoipa::ToSchema;

/// Who may key paper forms: clerks, and the organizer.
pub const KEYERS: u8 = role_bit(Role::Clerk) | role_bit(Role::Organizer);

/// The prefix of an open-channel form's key, before the number written on it.
const OPEN_PREFIX: &str = "open:";

/// Which paper form an entry is for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FormRef {
    /// The key its entries are stored under: the code's digest, or `open:` and the number.
    pub key: String,
    /// Directed (with a code) or open (a newspaper form).
    pub channel: Channel,
    /// A directed form's code, never stored: the ballot spends it.
    pub code: Option<String>,
}

impl FormRef {
    /// A directed form by the code printed on it after 评议码：.
    pub fn directed(state: &AppState, typed: &str) -> Result<Self, EntryError> {
        if typed.trim().is_empty() {
            return Err(EntryError::FormRequired);
        }
        let code = OneTimeCode::parse(typed).map_err(|e| IntakeError::CodeInvalid(Some(e)))?;
        Ok(Self {
            key: intake::code_digest(state, code.as_str())?,
            channel: Channel::Directed,
            code: Some(code.as_str().to_string()),
        })
    }

    /// An open-channel form by the number the clerks wrote on it on receipt (`N-0001`).
    pub fn open(number: &str) -> Result<Self, EntryError> {
        let number: String = half_width(number).trim().to_uppercase();
        if number.is_empty() {
            return Err(EntryError::FormRequired);
        }
        if number.chars().count() > 40 {
            return Err(EntryError::FormNumberTooLong);
        }
        Ok(Self {
            key: format!("{OPEN_PREFIX}{number}"),
            channel: Channel::Open,
            code: None,
        })
    }
}

/// The number of an open-channel form, from its key.
pub fn form_number(key: &str) -> Option<&str> {
    key.strip_prefix(OPEN_PREFIX)
}

/// A full-width ASCII character (as a Chinese input method types it) as plain ASCII.
pub fn half_width_char(c: char) -> char {
    match c {
        '\u{3000}' => ' ',
        '\u{FF01}'..='\u{FF5E}' => char::from_u32(c as u32 - 0xFEE0).unwrap_or(c),
        c => c,
    }
}

/// Full-width ASCII as plain ASCII.
pub fn half_width(s: &str) -> String {
    s.chars().map(half_width_char).collect()
}

/// What an entry says, in a canonical order (units by id, indicators in the form's order,
/// trimmed comments, exposure sorted), so two entries are equal exactly when they say the
/// same. It holds no code: entries are stored, codes must not be.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Content {
    /// The named units.
    pub nominations: Vec<KeyedNomination>,
    /// Units the respondent dealt with this quarter.
    pub exposure: Vec<i64>,
}

/// One named unit of an entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct KeyedNomination {
    /// The unit's id.
    pub unit_id: i64,
    /// Indicator codes, in the form's order.
    pub indicators: Vec<String>,
    /// The comment, trimmed.
    pub comment: Option<String>,
}

impl Content {
    /// The canonical content of a checked ballot.
    pub fn of(ballot: &Ballot, indicators: &IndicatorSet) -> Self {
        let mut nominations: Vec<KeyedNomination> = ballot
            .nominations
            .iter()
            .map(|n| KeyedNomination {
                unit_id: n.unit_id.0,
                indicators: indicators
                    .codes(n.indicators)
                    .into_iter()
                    .map(String::from)
                    .collect(),
                comment: n.comment.clone(),
            })
            .collect();
        nominations.sort_by_key(|n| n.unit_id);
        let mut exposure: Vec<i64> = ballot.exposure.iter().map(|u| u.0).collect();
        exposure.sort_unstable();
        Self {
            nominations,
            exposure,
        }
    }

    /// As stored with an entry.
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).expect("plain data serializes")
    }

    /// As stored with an entry; `None` if it is not an entry's content.
    pub fn from_json(stored: &str) -> Option<Self> {
        serde_json::from_str(stored).ok()
    }

    /// A draft of this content.
    pub fn draft(&self) -> BallotDraft {
        BallotDraft {
            nominations: self
                .nominations
                .iter()
                .map(|n| NominationDraft {
                    unit_id: n.unit_id,
                    indicators: n.indicators.clone(),
                    comment: n.comment.clone(),
                })
                .collect(),
            exposure: self.exposure.clone(),
            ..BallotDraft::default()
        }
    }
}

/// What became of an entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// The form's first entry: a different clerk must key it again.
    FirstEntry,
    /// Both entries agree (or the organizer decided): the ballot counts.
    Counted(Receipt),
    /// The entries differ: the organizer adjudicates.
    Disputed,
    /// The entries agree but the code had been spent (online): the ballot went to the
    /// conflict queue, and the form counts nothing.
    Conflict,
}

impl Outcome {
    /// The status the API reports.
    pub fn as_str(&self) -> &'static str {
        match self {
            Outcome::FirstEntry => "first_entry",
            Outcome::Counted(_) => "counted",
            Outcome::Disputed => "disputed",
            Outcome::Conflict => "conflict",
        }
    }
}

/// Why an entry or a decision was refused.
#[derive(Debug, thiserror::Error)]
pub enum EntryError {
    /// The round, the code or the ballot is wrong, or nothing could be stored.
    #[error("{0}")]
    Intake(#[from] IntakeError),
    /// Neither a code nor a form number (or both).
    #[error("give either the form's code or its open-channel form number")]
    FormRequired,
    /// An implausible form number.
    #[error("a form number has at most 40 characters")]
    FormNumberTooLong,
    /// This clerk keyed the form already.
    #[error("you keyed this form already: a different clerk must key it the second time")]
    AlreadyKeyedByYou,
    /// Two entries are in and disagree.
    #[error("this form has been keyed twice and awaits adjudication")]
    AwaitingAdjudication,
    /// No disputed form has this key.
    #[error("no disputed form with this key")]
    NotDisputed,
    /// The code of a directed form to adjudicate could not be recovered: type it.
    #[error("type the code printed on the form")]
    CodeNeeded,
    /// The typed code is not this form's.
    #[error("this code is not the disputed form's code")]
    CodeMismatch,
}

impl From<StorageError> for EntryError {
    fn from(e: StorageError) -> Self {
        EntryError::Intake(e.into())
    }
}

impl EntryError {
    /// The stable machine code.
    pub fn code(&self) -> &'static str {
        match self {
            EntryError::Intake(_) => "intake",
            EntryError::FormRequired => "form_required",
            EntryError::FormNumberTooLong => "form_number_too_long",
            EntryError::AlreadyKeyedByYou => "already_keyed_by_you",
            EntryError::AwaitingAdjudication => "awaiting_adjudication",
            EntryError::NotDisputed => "not_disputed",
            EntryError::CodeNeeded => "code_required",
            EntryError::CodeMismatch => "code_mismatch",
        }
    }
}

impl EntryError {
    /// The HTTP status it is answered with.
    pub fn status(&self) -> StatusCode {
        match self {
            EntryError::Intake(IntakeError::RoundNotFound) | EntryError::NotDisputed => {
                StatusCode::NOT_FOUND
            }
            EntryError::Intake(
                IntakeError::RoundNotOpen
                | IntakeError::CodeAlreadyUsed
                | IntakeError::FormAlreadyDecided,
            )
            | EntryError::AlreadyKeyedByYou
            | EntryError::AwaitingAdjudication => StatusCode::CONFLICT,
            EntryError::Intake(IntakeError::Unavailable(_)) => StatusCode::SERVICE_UNAVAILABLE,
            EntryError::Intake(IntakeError::Invalid(_) | IntakeError::CodeInvalid(_))
            | EntryError::FormRequired
            | EntryError::FormNumberTooLong
            | EntryError::CodeNeeded
            | EntryError::CodeMismatch => StatusCode::UNPROCESSABLE_ENTITY,
        }
    }
}

impl From<EntryError> for ApiError {
    fn from(e: EntryError) -> Self {
        let field = match &e {
            EntryError::Intake(_) => None,
            EntryError::FormRequired | EntryError::CodeNeeded | EntryError::CodeMismatch => {
                Some("code")
            }
            EntryError::FormNumberTooLong => Some("form_number"),
            _ => None,
        };
        let error = match e {
            EntryError::Intake(e) => return e.into(),
            e => ApiError::new(e.status(), e.code(), e.to_string()),
        };
        match field {
            Some(f) => error.with_field(f),
            None => error,
        }
    }
}

async fn open_round(state: &AppState, id: RoundId) -> Result<Round, EntryError> {
    let round = state.round(id).await.map_err(IntakeError::from)?;
    if round.state != RoundState::Open {
        return Err(IntakeError::RoundNotOpen.into());
    }
    Ok(round)
}

/// Checks what was keyed against the round, as the form's ballot.
async fn checked(
    state: &AppState,
    round: &Round,
    form: &FormRef,
    mut draft: BallotDraft,
) -> Result<Ballot, EntryError> {
    draft.channel = form.channel.as_str().to_string();
    draft.code = form.code.clone();
    let evaluated = state.evaluated_units().await.map_err(IntakeError::from)?;
    Ok(draft
        .parse(&round.settings, |u| evaluated.contains(&u))
        .map_err(IntakeError::from)?)
}

/// Why `clerk` may not key the form now, if they may not.
async fn refusal(
    state: &AppState,
    round: RoundId,
    key: &str,
    clerk: &User,
) -> Result<Option<EntryError>, StorageError> {
    if state.store.paper_outcome(round, key).await?.is_some() {
        return Ok(Some(IntakeError::FormAlreadyDecided.into()));
    }
    let entries = state.store.paper_entries(round, key).await?;
    Ok(if entries.iter().any(|e| e.clerk_id == clerk.id) {
        Some(EntryError::AlreadyKeyedByYou)
    } else if entries.len() >= 2 {
        Some(EntryError::AwaitingAdjudication)
    } else {
        None
    })
}

/// Counts a form's ballot, deciding the form in the same transaction.
async fn count(
    state: &AppState,
    round: RoundId,
    ballot: Ballot,
    key: &str,
    decided_by: &str,
) -> Result<Outcome, EntryError> {
    let form = PaperForm {
        key: key.to_string(),
        decided_by: decided_by.to_string(),
    };
    match intake::store(state, round, ballot, Response::Paper, Some(form)).await {
        Ok(receipt) => Ok(Outcome::Counted(receipt)),
        Err(IntakeError::CodeAlreadyUsed) => Ok(Outcome::Conflict),
        Err(e) => Err(e.into()),
    }
}

/// Stores one clerk's entry of a form; with the second entry, counts the ballot if both
/// agree and otherwise leaves the form to adjudication. A disagreement never counts.
pub async fn key(
    state: &AppState,
    round_id: RoundId,
    clerk: &User,
    form: &FormRef,
    draft: BallotDraft,
) -> Result<Outcome, EntryError> {
    let round = open_round(state, round_id).await?;
    if form.channel == Channel::Directed
        && state.store.code_state(round_id, &form.key).await?.is_none()
    {
        return Err(IntakeError::CodeInvalid(None).into());
    }
    let ballot = checked(state, &round, form, draft).await?;
    let content = Content::of(&ballot, &round.settings.indicators);
    if let Some(refused) = refusal(state, round_id, &form.key, clerk).await? {
        return Err(refused);
    }
    let added = state
        .store
        .add_paper_entry(
            round_id,
            &form.key,
            form.channel.as_str(),
            clerk.id,
            &content.to_json(),
            Utc::now(),
        )
        .await;
    match added {
        Ok(()) => {}
        Err(StorageError::Conflict(_)) => {
            // Another entry or a decision came in between: say which.
            let refused = refusal(state, round_id, &form.key, clerk).await?;
            return Err(refused.unwrap_or(EntryError::AwaitingAdjudication));
        }
        Err(e) => return Err(e.into()),
    }
    let entries = state.store.paper_entries(round_id, &form.key).await?;
    if entries.len() < 2 {
        return Ok(Outcome::FirstEntry);
    }
    let agree = entries
        .iter()
        .all(|e| Content::from_json(&e.content).as_ref() == Some(&content));
    if !agree {
        return Ok(Outcome::Disputed);
    }
    count(state, round_id, ballot, &form.key, &clerk.name).await
}

/// A form whose entries disagree, for the organizer.
pub struct Disputed {
    /// Its key.
    pub key: String,
    /// Directed or open.
    pub channel: Channel,
    /// Its entries, oldest first, with what each says.
    pub entries: Vec<(PaperEntry, Content)>,
    /// Whether the entries in fact agree (counting them failed earlier, e.g. the database
    /// was unavailable): the organizer can count them as they are.
    pub agree: bool,
}

/// A round's disputed forms.
pub async fn disputed(state: &AppState, round: RoundId) -> Result<Vec<Disputed>, StorageError> {
    Ok(state
        .store
        .disputed_forms(round)
        .await?
        .into_iter()
        .filter_map(|entries| {
            let first = entries.first()?;
            let key = first.form_key.clone();
            let channel = first.channel.parse().unwrap_or(Channel::Directed);
            let parsed: Vec<Option<Content>> = entries
                .iter()
                .map(|e| Content::from_json(&e.content))
                .collect();
            let agree = parsed.iter().all(|c| c.is_some() && *c == parsed[0]);
            let entries = entries
                .into_iter()
                .zip(parsed)
                .map(|(e, c)| (e, c.unwrap_or_default()))
                .collect();
            Some(Disputed {
                key,
                channel,
                entries,
                agree,
            })
        })
        .collect())
}

/// The printed codes of a round's drawn sample by digest, derived with the deployment's
/// key (as the forms were printed), so the organizer can find a disputed form and count it.
pub async fn sample_codes(
    state: &AppState,
    round: RoundId,
) -> Result<HashMap<String, OneTimeCode>, StorageError> {
    Ok(state
        .store
        .sample(round)
        .await?
        .into_iter()
        .map(|row| {
            let code = crate::sampling::member_code(state, round, row.member.id);
            (code.digest(&state.code_key), code)
        })
        .collect())
}

/// The organizer decides a disputed form: its ballot is `draft` (what the paper says). A
/// directed form's code is recovered from the sample, or taken from `typed_code`.
pub async fn adjudicate(
    state: &AppState,
    round_id: RoundId,
    organizer: &User,
    key: &str,
    typed_code: Option<&str>,
    draft: BallotDraft,
) -> Result<Outcome, EntryError> {
    let round = open_round(state, round_id).await?;
    let entries = state.store.paper_entries(round_id, key).await?;
    if entries.len() < 2 {
        return Err(match state.store.paper_outcome(round_id, key).await? {
            Some(_) => IntakeError::FormAlreadyDecided.into(),
            None => EntryError::NotDisputed,
        });
    }
    let form = if entries[0].channel == Channel::Open.as_str() {
        FormRef {
            key: key.to_string(),
            channel: Channel::Open,
            code: None,
        }
    } else {
        let code = match typed_code.filter(|c| !c.trim().is_empty()) {
            Some(typed) => {
                let typed = FormRef::directed(state, typed)?;
                if typed.key != key {
                    return Err(EntryError::CodeMismatch);
                }
                typed.code
            }
            None => sample_codes(state, round_id)
                .await?
                .remove(key)
                .map(|c| c.as_str().to_string()),
        };
        FormRef {
            key: key.to_string(),
            channel: Channel::Directed,
            code: Some(code.ok_or(EntryError::CodeNeeded)?),
        }
    };
    let ballot = checked(state, &round, &form, draft).await?;
    count(state, round_id, ballot, key, &organizer.name).await
}

/// The organizer sets a disputed form aside (unreadable, or not a valid form): it counts
/// nothing and takes no more entries.
pub async fn dismiss(
    state: &AppState,
    round: RoundId,
    actor: &Actor,
    key: &str,
) -> Result<(), EntryError> {
    state.round(round).await.map_err(IntakeError::from)?;
    if state.store.paper_entries(round, key).await?.len() < 2 {
        return Err(match state.store.paper_outcome(round, key).await? {
            Some(_) => IntakeError::FormAlreadyDecided.into(),
            None => EntryError::NotDisputed,
        });
    }
    match state
        .store
        .close_paper_form(round, key, "dismissed", actor, Utc::now())
        .await
    {
        Err(StorageError::Conflict(_)) => Err(IntakeError::FormAlreadyDecided.into()),
        other => Ok(other?),
    }
}

/// One clerk's entry of a paper form: the form's code, or for an open-channel form the
/// number written on it on receipt; and what the form says, as in a ballot.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PaperEntryBody {
    /// A directed form's code, as printed after 评议码： (case, spaces, dashes ignored).
    #[serde(default)]
    pub code: Option<String>,
    /// An open-channel form's number, e.g. `N-0001`.
    #[serde(default)]
    pub form_number: Option<String>,
    /// The named units.
    pub nominations: Vec<NominationBody>,
    /// Units the respondent dealt with this quarter (optional).
    #[serde(default)]
    pub exposure: Vec<i64>,
}

/// What became of an entry.
#[derive(Serialize, ToSchema)]
pub struct EntryOutcomeBody {
    /// `first_entry` (a different clerk must key the form again), `counted` (both entries
    /// agree), `disputed` (they differ: sent to adjudication) or `conflict` (they agree but
    /// the code had been used: the ballot is in the conflict queue, not counted).
    pub status: String,
    /// The counted ballot's receipt.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub receipt: Option<String>,
}

impl From<Outcome> for EntryOutcomeBody {
    fn from(o: Outcome) -> Self {
        Self {
            status: o.as_str().to_string(),
            receipt: match o {
                Outcome::Counted(r) => Some(r.to_string()),
                _ => None,
            },
        }
    }
}

/// Keys a returned paper form (clerk or organizer). Each form is keyed by two different
/// clerks; the ballot counts only when both entries agree.
#[utoipa::path(post, path = "/api/v1/rounds/{id}/paper-entries", security(("token" = [])),
    request_body = PaperEntryBody,
    params(("id" = i64, Path, description = "round id")),
    responses(
        (status = 201, body = EntryOutcomeBody),
        (status = 404, body = crate::error::ErrorBody),
        (status = 409, description = "round not open, already_keyed_by_you, awaiting_adjudication or form_already_decided", body = crate::error::ErrorBody),
        (status = 422, description = "code_invalid, form_required or an invalid ballot", body = crate::error::ErrorBody),
    ))]
pub async fn post_paper_entry(
    State(state): State<Shared>,
    who: Authorized<KEYERS>,
    ApiPath(id): ApiPath<i64>,
    ApiJson(body): ApiJson<PaperEntryBody>,
) -> Result<(StatusCode, Json<EntryOutcomeBody>), ApiError> {
    let form = match (body.code.as_deref(), body.form_number.as_deref()) {
        (Some(code), None) => FormRef::directed(&state, code),
        (None, Some(number)) => FormRef::open(number),
        _ => Err(EntryError::FormRequired),
    }
    .map_err(ApiError::from)?;
    let draft = BallotDraft {
        nominations: body
            .nominations
            .into_iter()
            .map(|n| NominationDraft {
                unit_id: n.unit_id,
                indicators: n.indicators,
                comment: n.comment,
            })
            .collect(),
        exposure: body.exposure,
        ..BallotDraft::default()
    };
    let outcome = key(&state, RoundId(id), &who.0, &form, draft)
        .await
        .map_err(ApiError::from)?;
    Ok((StatusCode::CREATED, Json(outcome.into())))
}

/// One entry of a disputed form.
#[derive(Serialize, ToSchema)]
pub struct EntryBody {
    /// The clerk who keyed it.
    pub clerk: String,
    /// When.
    pub keyed_at: DateTime<Utc>,
    /// What they keyed.
    #[serde(flatten)]
    pub content: Content,
}

/// A form whose entries disagree.
#[derive(Serialize, ToSchema)]
pub struct DisputedBody {
    /// The form's key: the code's digest, or `open:` and the form number.
    pub form_key: String,
    /// `directed` or `open`.
    pub channel: String,
    /// An open-channel form's number.
    pub form_number: Option<String>,
    /// True when the entries in fact agree (counting them failed earlier).
    pub agree: bool,
    /// The entries, oldest first.
    pub entries: Vec<EntryBody>,
}

/// The organizer's adjudication queue.
#[derive(Serialize, ToSchema)]
pub struct AdjudicationBody {
    /// Forms keyed once, waiting for a second clerk.
    pub awaiting_second_entry: usize,
    /// Forms whose entries disagree.
    pub forms: Vec<DisputedBody>,
}

/// The paper forms waiting for the organizer: disputed forms with both entries (organizer).
#[utoipa::path(get, path = "/api/v1/rounds/{id}/adjudication", security(("token" = [])),
    params(("id" = i64, Path, description = "round id")),
    responses((status = 200, body = AdjudicationBody), (status = 404, body = crate::error::ErrorBody)))]
pub async fn get_adjudication(
    State(state): State<Shared>,
    _: Authorized<ORGANIZER>,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<AdjudicationBody>, ApiError> {
    let round = state.round(RoundId(id)).await?;
    let awaiting = state
        .store
        .forms_awaiting_second_entry(round.id)
        .await?
        .len();
    let forms = disputed(&state, round.id)
        .await?
        .into_iter()
        .map(|d| DisputedBody {
            form_number: form_number(&d.key).map(String::from),
            form_key: d.key,
            channel: d.channel.to_string(),
            agree: d.agree,
            entries: d
                .entries
                .into_iter()
                .map(|(e, content)| EntryBody {
                    clerk: e.clerk,
                    keyed_at: e.created_at,
                    content,
                })
                .collect(),
        })
        .collect();
    Ok(Json(AdjudicationBody {
        awaiting_second_entry: awaiting,
        forms,
    }))
}

//! Blind double entry of returned paper forms (录入) in the API: clerks key forms, the
//! organizer sees the disputed ones and decides them. The workflow is
//! [`minping_app::entry`]'s.

use super::{ApiJson, ApiPath, ballots::NominationBody};
use crate::{
    auth::{Authorized, KEYERS, ORGANIZER},
    error::ApiError,
    state::Shared,
};
use axum::{Json, extract::State, http::StatusCode};
use chrono::{DateTime, Utc};
use minping_app::entry::{self, FormRef, Outcome, form_number};
use minping_domain::{BallotDraft, RoundId, paper::Content};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

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
    /// agree, or the organizer counted it), `disputed` (they differ: sent to adjudication),
    /// `conflict` (the code had been used: the ballot is in the conflict queue, not counted)
    /// or `dismissed` (the organizer set the form aside).
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
    let form = FormRef::either(&state, body.code.as_deref(), body.form_number.as_deref())?;
    let draft = BallotDraft {
        nominations: body.nominations.into_iter().map(Into::into).collect(),
        exposure: body.exposure,
        ..BallotDraft::default()
    };
    let outcome = entry::key(&state, RoundId(id), &who.0, &form, draft).await?;
    Ok((StatusCode::CREATED, Json(outcome.into())))
}

/// One entry of a disputed form.
#[derive(Serialize, ToSchema)]
pub struct EntryBody {
    /// The clerk who keyed it.
    pub clerk: String,
    /// When.
    pub keyed_at: DateTime<Utc>,
    /// The named units, by unit id.
    pub nominations: Vec<NominationBody>,
    /// Units the respondent dealt with this quarter, ascending.
    pub exposure: Vec<i64>,
}

impl EntryBody {
    fn new(clerk: String, keyed_at: DateTime<Utc>, content: Content) -> Self {
        Self {
            clerk,
            keyed_at,
            nominations: content
                .nominations
                .into_iter()
                .map(|n| NominationBody {
                    unit_id: n.unit_id,
                    indicators: n.indicators,
                    comment: n.comment,
                })
                .collect(),
            exposure: content.exposure,
        }
    }
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
        .store()
        .forms_awaiting_second_entry(round.id)
        .await?
        .len();
    let forms = entry::disputed(&state, round.id)
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
                .map(|(e, content)| EntryBody::new(e.clerk, e.created_at, content))
                .collect(),
        })
        .collect();
    Ok(Json(AdjudicationBody {
        awaiting_second_entry: awaiting,
        forms,
    }))
}

/// The organizer's decision on a disputed form: count it as the paper says (the named units
/// as read from the form), or dismiss it (unreadable, or not a valid form).
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AdjudicationDecision {
    /// The form's key, as the adjudication queue lists it.
    pub form_key: String,
    /// `count` or `dismiss`.
    pub decision: String,
    /// A directed form's code, if it cannot be recovered from the sample.
    #[serde(default)]
    pub code: Option<String>,
    /// For `count`: the named units as the form says.
    #[serde(default)]
    pub nominations: Vec<NominationBody>,
    /// For `count`: the units dealt with.
    #[serde(default)]
    pub exposure: Vec<i64>,
}

/// Decides a disputed paper form (organizer): `counted` (its ballot counts, with a receipt),
/// `conflict` (its code had been used: the ballot went to the conflict queue) or
/// `dismissed`.
#[utoipa::path(post, path = "/api/v1/rounds/{id}/adjudication", security(("token" = [])),
    request_body = AdjudicationDecision,
    params(("id" = i64, Path, description = "round id")),
    responses(
        (status = 200, body = EntryOutcomeBody),
        (status = 404, body = crate::error::ErrorBody),
        (status = 409, body = crate::error::ErrorBody),
        (status = 422, body = crate::error::ErrorBody),
    ))]
pub async fn decide_disputed(
    State(state): State<Shared>,
    who: Authorized<ORGANIZER>,
    ApiPath(id): ApiPath<i64>,
    ApiJson(body): ApiJson<AdjudicationDecision>,
) -> Result<Json<EntryOutcomeBody>, ApiError> {
    let draft = BallotDraft {
        nominations: body.nominations.into_iter().map(Into::into).collect(),
        exposure: body.exposure,
        ..BallotDraft::default()
    };
    let outcome = entry::decide(
        &state,
        RoundId(id),
        &who.0,
        &body.form_key,
        &body.decision,
        body.code.as_deref(),
        draft,
    )
    .await?;
    Ok(Json(match outcome {
        Some(o) => o.into(),
        None => EntryOutcomeBody {
            status: "dismissed".into(),
            receipt: None,
        },
    }))
}

//! The panel sample of a round: frame, draw, verification, mailing, response tracking and
//! the conflict queue. Frame, draw and verification are public, so anyone can re-check
//! the draw (they hold opaque member ids and groups only); the rest is organizer-only.

use super::{ApiJson, ApiPath};
use crate::download;
use crate::{
    auth::{Authorized, ORGANIZER},
    error::ApiError,
    state::Shared,
};
use axum::{Json, extract::State, http::StatusCode, response::IntoResponse};
use minping_app::{
    conflicts,
    draws::{self, RecordedDraw, Verification},
    forms,
};
use minping_domain::RoundId;
use minping_storage::StratumCounts;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// A frozen frame.
#[derive(Serialize, ToSchema)]
pub struct FrameBody {
    /// SHA-256 of the frame text: publish it before the seed is known.
    pub frame_hash: String,
    /// Eligible members in the frame.
    pub eligible: usize,
    /// Members to draw.
    pub sample_size: i64,
}

/// How many to draw.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FreezeRequest {
    /// Members to draw; the deployment's default (1,000) when absent.
    #[serde(default)]
    pub sample_size: Option<usize>,
}

/// Freezes the round's frame of eligible members (organizer).
#[utoipa::path(post, path = "/api/v1/rounds/{id}/panel/frame", security(("token" = [])), request_body = FreezeRequest,
    params(("id" = i64, Path, description = "round id")),
    responses((status = 201, body = FrameBody), (status = 409, body = crate::error::ErrorBody)))]
pub async fn freeze_frame(
    State(state): State<Shared>,
    user: Authorized<ORGANIZER>,
    ApiPath(id): ApiPath<i64>,
    ApiJson(body): ApiJson<FreezeRequest>,
) -> Result<(StatusCode, Json<FrameBody>), ApiError> {
    let frozen = draws::freeze(&state, RoundId(id), body.sample_size, &user.actor()).await?;
    Ok((
        StatusCode::CREATED,
        Json(FrameBody {
            frame_hash: frozen.frame_hash,
            eligible: frozen.frame.lines().count(),
            sample_size: frozen.sample_size,
        }),
    ))
}

/// The frozen frame as published: `id,group` lines in id order (public).
#[utoipa::path(get, path = "/api/v1/rounds/{id}/panel/frame", params(("id" = i64, Path, description = "round id")),
    responses((status = 200, description = "text/plain frame", body = String), (status = 404, body = crate::error::ErrorBody)))]
pub async fn get_frame(
    State(state): State<Shared>,
    ApiPath(id): ApiPath<i64>,
) -> Result<impl IntoResponse, ApiError> {
    let frozen = state
        .store()
        .frame(RoundId(id))
        .await?
        .ok_or_else(ApiError::not_found)?;
    Ok((
        [(
            axum::http::header::CONTENT_TYPE,
            "text/plain; charset=utf-8",
        )],
        frozen.frame,
    ))
}

/// The announced seed.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DrawRequest {
    /// The seed announced after the frame was frozen (e.g. a public lottery number).
    pub seed: String,
}

/// Draws the round's sample with the announced seed (organizer).
#[utoipa::path(post, path = "/api/v1/rounds/{id}/panel/draw", security(("token" = [])), request_body = DrawRequest,
    params(("id" = i64, Path, description = "round id")),
    responses((status = 201, body = RecordedDraw), (status = 409, body = crate::error::ErrorBody)))]
pub async fn draw(
    State(state): State<Shared>,
    who: Authorized<ORGANIZER>,
    ApiPath(id): ApiPath<i64>,
    ApiJson(body): ApiJson<DrawRequest>,
) -> Result<(StatusCode, Json<RecordedDraw>), ApiError> {
    let d = draws::draw_sample(&state, RoundId(id), &body.seed, &who.actor()).await?;
    let mut members = d.members;
    members.sort_unstable();
    Ok((
        StatusCode::CREATED,
        Json(RecordedDraw {
            frame_hash: d.frame_hash,
            seed: d.seed,
            allocation: d.allocation,
            members,
        }),
    ))
}

/// The recorded draw: hash, seed, allocation and the drawn (opaque) member ids (public).
#[utoipa::path(get, path = "/api/v1/rounds/{id}/panel/draw", params(("id" = i64, Path, description = "round id")),
    responses((status = 200, body = RecordedDraw), (status = 404, body = crate::error::ErrorBody)))]
pub async fn get_draw(
    State(state): State<Shared>,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<RecordedDraw>, ApiError> {
    Ok(Json(draws::recorded(&state, RoundId(id)).await?))
}

/// Re-runs the round's draw from its published frame and seed and compares (public).
#[utoipa::path(get, path = "/api/v1/rounds/{id}/panel/verify", params(("id" = i64, Path, description = "round id")),
    responses((status = 200, body = Verification), (status = 409, body = crate::error::ErrorBody)))]
pub async fn verify(
    State(state): State<Shared>,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<Verification>, ApiError> {
    Ok(Json(draws::verify(&state, RoundId(id), None, None).await?))
}

/// Response figures of a round's sample.
#[derive(Serialize, ToSchema)]
pub struct ResponseBody {
    /// Per group.
    #[schema(value_type = Vec<Object>)]
    pub strata: Vec<StratumCounts>,
    /// All groups together.
    #[schema(value_type = Object)]
    pub total: StratumCounts,
    /// Answered (paper + online) over drawn minus undeliverable: AAPOR RR1 counting
    /// undeliverable forms as ineligible.
    pub response_rate: Option<f64>,
}

/// Drawn, mailed, returned on paper, answered online, undeliverable and refused per group,
/// and the response rate (organizer). Says who answered, never what.
#[utoipa::path(get, path = "/api/v1/rounds/{id}/panel/response", security(("token" = [])),
    params(("id" = i64, Path, description = "round id")), responses((status = 200, body = ResponseBody)))]
pub async fn response(
    State(state): State<Shared>,
    _: Authorized<ORGANIZER>,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<ResponseBody>, ApiError> {
    let r = draws::response(&state, RoundId(id)).await?;
    Ok(Json(ResponseBody {
        response_rate: r.response_rate,
        strata: r.strata,
        total: r.total,
    }))
}

/// A drawn member who has not answered, for a reminder mailing.
#[derive(Serialize, ToSchema)]
pub struct Nonrespondent {
    /// Member id.
    pub member_id: i64,
    /// Name.
    pub name: String,
    /// Address.
    pub address: String,
    /// Postcode.
    pub postcode: String,
    /// Group.
    pub group: String,
}

/// Drawn members who have not answered and whose form was not returned undeliverable or
/// refused, in the post office's order (organizer). Refused (409) while a reprint of the
/// codes is pending; every reading is logged.
#[utoipa::path(get, path = "/api/v1/rounds/{id}/panel/nonrespondents", security(("token" = [])),
    params(("id" = i64, Path, description = "round id")),
    responses((status = 200, body = Vec<Nonrespondent>), (status = 409, body = crate::error::ErrorBody)))]
pub async fn nonrespondents(
    State(state): State<Shared>,
    user: Authorized<ORGANIZER>,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<Vec<Nonrespondent>>, ApiError> {
    Ok(Json(
        draws::nonrespondents(&state, RoundId(id), &user.actor())
            .await?
            .into_iter()
            .map(|s| Nonrespondent {
                member_id: s.member.id,
                name: s.member.details.name,
                address: s.member.details.address,
                postcode: s.member.details.postcode,
                group: s.member.details.group,
            })
            .collect(),
    ))
}

/// What became of some mailings.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MailUpdate {
    /// The members concerned; empty with `all_drawn` for the whole first mailing.
    #[serde(default)]
    pub member_ids: Vec<i64>,
    /// Marks every member still `drawn` (the whole mailing went out).
    #[serde(default)]
    pub all_drawn: bool,
    /// `mailed`, `undeliverable` or `refused`.
    pub status: String,
}

/// Records mailings: sent, returned undeliverable, refused (organizer).
#[utoipa::path(post, path = "/api/v1/rounds/{id}/panel/mail-status", security(("token" = [])), request_body = MailUpdate,
    params(("id" = i64, Path, description = "round id")), responses((status = 204), (status = 422, body = crate::error::ErrorBody)))]
pub async fn mail_status(
    State(state): State<Shared>,
    user: Authorized<ORGANIZER>,
    ApiPath(id): ApiPath<i64>,
    ApiJson(body): ApiJson<MailUpdate>,
) -> Result<StatusCode, ApiError> {
    draws::record_mailing(
        &state,
        RoundId(id),
        &body.member_ids,
        body.all_drawn,
        &body.status,
        &user.actor(),
    )
    .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// A ballot refused because its code was already used.
#[derive(Serialize, ToSchema)]
pub struct ConflictBody {
    /// Id.
    pub id: i64,
    /// `paper` or `online`.
    pub response: String,
    /// The refused ballot.
    #[schema(value_type = Object)]
    pub ballot: serde_json::Value,
    /// When it came.
    pub received_on: chrono::NaiveDate,
    /// `pending`, `counted` or `dismissed`.
    pub state: String,
    /// Who resolved it.
    pub resolved_by: Option<String>,
    /// Why.
    pub reason: Option<String>,
}

impl From<minping_storage::Conflict> for ConflictBody {
    fn from(c: minping_storage::Conflict) -> Self {
        Self {
            id: c.id,
            response: c.response.as_str().into(),
            ballot: serde_json::from_str(&c.content).unwrap_or_default(),
            received_on: c.received_on,
            state: c.state,
            resolved_by: c.resolved_by,
            reason: c.reason,
        }
    }
}

/// The conflict queue of a round, pending first (organizer).
#[utoipa::path(get, path = "/api/v1/rounds/{id}/conflicts", security(("token" = [])),
    params(("id" = i64, Path, description = "round id")), responses((status = 200, body = Vec<ConflictBody>)))]
pub async fn conflicts(
    State(state): State<Shared>,
    _: Authorized<ORGANIZER>,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<Vec<ConflictBody>>, ApiError> {
    state.round(RoundId(id)).await?;
    let list = state.store().conflicts(RoundId(id)).await?;
    Ok(Json(list.into_iter().map(ConflictBody::from).collect()))
}

/// How a conflict is resolved.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Resolution {
    /// True counts the ballot as well (e.g. the first use was a keying error); false sets it aside.
    pub count: bool,
    /// Why.
    pub reason: String,
}

/// Resolves a conflict (organizer). Counting stores the ballot as a directed ballot; the
/// code stays spent once.
#[utoipa::path(post, path = "/api/v1/conflicts/{id}/resolve", security(("token" = [])), request_body = Resolution,
    params(("id" = i64, Path, description = "conflict id")),
    responses((status = 200, body = ConflictBody), (status = 409, body = crate::error::ErrorBody), (status = 422, body = crate::error::ErrorBody)))]
pub async fn resolve(
    State(state): State<Shared>,
    who: Authorized<ORGANIZER>,
    ApiPath(id): ApiPath<i64>,
    ApiJson(body): ApiJson<Resolution>,
) -> Result<Json<ConflictBody>, ApiError> {
    let c = conflicts::resolve(&state, id, body.count, &body.reason, &who.actor()).await?;
    Ok(Json(c.into()))
}

/// Whether a mailing list holds only those still to remind.
#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct MailingQuery {
    /// `true`: only drawn members who have not answered and whose form was not returned
    /// undeliverable or refused, for a reminder mailing.
    #[serde(default)]
    pub pending: bool,
}

/// The mailing list as CSV, in the post office's order (organizer): 序号, 邮编, 地址, 姓名,
/// 类别, 成员编号.
#[utoipa::path(get, path = "/api/v1/rounds/{id}/panel/mailing.csv", security(("token" = [])),
    params(("id" = i64, Path, description = "round id"), MailingQuery),
    responses((status = 200, content_type = "text/csv", body = String), (status = 409, body = crate::error::ErrorBody)))]
pub async fn mailing_csv(
    State(state): State<Shared>,
    user: Authorized<ORGANIZER>,
    ApiPath(id): ApiPath<i64>,
    super::panel::ApiQuery(q): super::panel::ApiQuery<MailingQuery>,
) -> Result<axum::response::Response, ApiError> {
    let table = forms::mailing_list(&state, RoundId(id), q.pending, &user.actor()).await?;
    let name = if q.pending { "reminders" } else { "mailing" };
    Ok(download::attachment(
        download::CSV,
        &format!("round-{id}-{name}.csv"),
        table.to_csv(),
    ))
}

/// The round's personalised forms, one merged PDF in the post office's order, each with its
/// member's code (organizer).
#[utoipa::path(get, path = "/api/v1/rounds/{id}/panel/forms.pdf", security(("token" = [])),
    params(("id" = i64, Path, description = "round id")),
    responses((status = 200, content_type = "application/pdf", body = Vec<u8>), (status = 409, body = crate::error::ErrorBody)))]
pub async fn forms_pdf(
    State(state): State<Shared>,
    user: Authorized<ORGANIZER>,
    ApiPath(id): ApiPath<i64>,
) -> Result<axum::response::Response, ApiError> {
    let pdf = forms::personalised(&state, RoundId(id), &user.actor(), |_, _| {}).await?;
    Ok(download::attachment(
        download::PDF,
        &format!("round-{id}-forms.pdf"),
        pdf,
    ))
}

/// The round's open-channel form, sized for half a newspaper page, with no code or personal
/// data (organizer).
#[utoipa::path(get, path = "/api/v1/rounds/{id}/open-form.pdf", security(("token" = [])),
    params(("id" = i64, Path, description = "round id")),
    responses((status = 200, content_type = "application/pdf", body = Vec<u8>), (status = 404, body = crate::error::ErrorBody)))]
pub async fn open_form_pdf(
    State(state): State<Shared>,
    _: Authorized<ORGANIZER>,
    ApiPath(id): ApiPath<i64>,
) -> Result<axum::response::Response, ApiError> {
    let pdf = forms::open_channel(&state, RoundId(id)).await?;
    Ok(download::attachment(
        download::PDF,
        &format!("round-{id}-open-channel.pdf"),
        pdf,
    ))
}

/// A request to reprint a round's codes after mailing.
#[derive(Serialize, ToSchema)]
pub struct ReprintBody {
    /// Its id.
    pub id: i64,
    /// Why.
    pub reason: String,
    /// `pending`, `approved`, `refused` or `used`.
    pub state: String,
    /// Who asked.
    pub asked_by: Option<String>,
    /// When.
    pub asked_at: chrono::DateTime<chrono::Utc>,
    /// Who approved or refused it.
    pub decided_by: Option<String>,
}

impl From<minping_storage::Reprint> for ReprintBody {
    fn from(r: minping_storage::Reprint) -> Self {
        Self {
            id: r.id,
            reason: r.reason,
            state: r.state,
            asked_by: r.asked_by,
            asked_at: r.asked_at,
            decided_by: r.decided_by,
        }
    }
}

/// Why a reprint is asked for.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReprintRequest {
    /// Forms lost in the post, a misprint…
    pub reason: String,
}

/// A round's reprint requests, newest first (organizer).
#[utoipa::path(get, path = "/api/v1/rounds/{id}/reprints", security(("token" = [])),
    params(("id" = i64, Path, description = "round id")), responses((status = 200, body = Vec<ReprintBody>)))]
pub async fn reprints(
    State(state): State<Shared>,
    _: Authorized<ORGANIZER>,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<Vec<ReprintBody>>, ApiError> {
    Ok(Json(
        forms::reprints(&state, RoundId(id))
            .await?
            .into_iter()
            .map(ReprintBody::from)
            .collect(),
    ))
}

/// Asks to reprint a round's codes after mailing; a second organizer approves (organizer).
/// While it is pending the list of members who have not answered is refused.
#[utoipa::path(post, path = "/api/v1/rounds/{id}/reprints", security(("token" = [])), request_body = ReprintRequest,
    params(("id" = i64, Path, description = "round id")),
    responses((status = 201, body = ReprintBody), (status = 409, body = crate::error::ErrorBody), (status = 422, body = crate::error::ErrorBody)))]
pub async fn ask_reprint(
    State(state): State<Shared>,
    user: Authorized<ORGANIZER>,
    ApiPath(id): ApiPath<i64>,
    ApiJson(body): ApiJson<ReprintRequest>,
) -> Result<(StatusCode, Json<ReprintBody>), ApiError> {
    let reprint = forms::ask_reprint(&state, RoundId(id), &body.reason, &user.actor()).await?;
    let asked = forms::reprints(&state, RoundId(id))
        .await?
        .into_iter()
        .find(|r| r.id == reprint)
        .ok_or_else(ApiError::not_found)?;
    Ok((StatusCode::CREATED, Json(asked.into())))
}

/// A decision on a reprint.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReprintDecision {
    /// True approves, false refuses.
    pub approve: bool,
}

/// Approves or refuses a reprint: an organizer other than the one who asked (organizer).
#[utoipa::path(post, path = "/api/v1/reprints/{id}/decision", security(("token" = [])), request_body = ReprintDecision,
    params(("id" = i64, Path, description = "reprint id")),
    responses((status = 204), (status = 404, body = crate::error::ErrorBody), (status = 409, body = crate::error::ErrorBody)))]
pub async fn decide_reprint(
    State(state): State<Shared>,
    user: Authorized<ORGANIZER>,
    ApiPath(id): ApiPath<i64>,
    ApiJson(body): ApiJson<ReprintDecision>,
) -> Result<StatusCode, ApiError> {
    forms::decide_reprint(&state, id, body.approve, &user.actor()).await?;
    Ok(StatusCode::NO_CONTENT)
}

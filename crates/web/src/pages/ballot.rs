//! The public ballot form (评议表) for the open round, and the receipt page.

use super::{Page, public::IndicatorView, public::round_title, render};
use crate::{client::Client, csrf::CsrfForm, error::PageError, state::Shared};
use askama::Template;
use axum::{
    extract::{Path, State},
    http::StatusCode,
    response::{IntoResponse, Redirect, Response},
};
use minping_app::intake;
use minping_domain::{BallotDraft, NominationDraft, Round, RoundId, RoundState};
use std::collections::HashMap;

struct IndicatorBox {
    code: String,
    name: String,
    checked: bool,
}

struct UnitRow {
    id: i64,
    name: String,
    boxes: Vec<IndicatorBox>,
    exposure: bool,
    comment: String,
    error: Option<String>,
}

impl UnitRow {
    fn named(&self) -> bool {
        self.boxes.iter().any(|b| b.checked)
    }
}

struct AgencyGroup {
    name: String,
    units: Vec<UnitRow>,
}

impl AgencyGroup {
    fn open(&self) -> bool {
        self.units
            .iter()
            .any(|u| u.named() || u.error.is_some() || !u.comment.is_empty())
    }
}

#[derive(Template)]
#[template(path = "ballot.html")]
struct BallotForm {
    page: Page,
    round_id: i64,
    title: String,
    indicators: Vec<IndicatorView>,
    agencies: Vec<AgencyGroup>,
    max_nominations: usize,
    comment_max: usize,
    error: Option<String>,
    code: String,
    code_error: Option<String>,
}

impl BallotForm {
    fn instructions(&self) -> String {
        self.page
            .t("ballot.instructions")
            .replace("%{k}", &self.max_nominations.to_string())
    }
}

/// The largest ballot form taken, in bytes. With the default settings (ten units named,
/// comments of 500 characters) a form with every one of two thousand units ticked as dealt
/// with and every comment at its longest, percent-encoded, is under 80 KiB; anything bigger
/// than this is refused (413) before it is read.
pub const BODY_LIMIT: usize = 256 * 1024;

/// What was typed, so a refused form comes back exactly as it was sent.
#[derive(Default)]
struct Typed {
    code: String,
    indicators: HashMap<i64, Vec<String>>,
    comments: HashMap<i64, String>,
    exposure: Vec<i64>,
    order: Vec<i64>,
}

impl Typed {
    /// One pass over the fields, each looked up in a set (a form of many distinct units
    /// must not cost the square of its size).
    fn from_pairs(pairs: Vec<(String, String)>) -> Self {
        let mut t = Typed::default();
        let mut named = std::collections::HashSet::new();
        for (k, v) in pairs {
            if let Some(id) = k.strip_prefix('u').and_then(|s| s.parse::<i64>().ok()) {
                if named.insert(id) {
                    t.order.push(id);
                }
                t.indicators.entry(id).or_default().push(v);
            } else if let Some(id) = k.strip_prefix('c').and_then(|s| s.parse::<i64>().ok()) {
                if !v.trim().is_empty() && named.insert(id) {
                    t.order.push(id);
                }
                t.comments.insert(id, v);
            } else if k == "code" {
                t.code = v.trim().to_string();
            } else if k == "exposure"
                && let Ok(id) = v.parse()
            {
                t.exposure.push(id);
            }
        }
        t
    }

    /// A unit is named when an indicator is ticked or a comment typed; a comment without an
    /// indicator is an error to show, not text to drop.
    fn draft(&self) -> BallotDraft {
        // A code makes it a directed (panel) ballot; without one it is the open form.
        let directed = !self.code.is_empty();
        BallotDraft {
            channel: if directed { "directed" } else { "open" }.into(),
            code: directed.then(|| self.code.clone()),
            nominations: self
                .order
                .iter()
                .map(|id| NominationDraft {
                    unit_id: *id,
                    indicators: self.indicators.get(id).cloned().unwrap_or_default(),
                    comment: self.comments.get(id).cloned(),
                })
                .collect(),
            exposure: self.exposure.clone(),
        }
    }
}

async fn open_round(state: &Shared, id: i64) -> Result<Round, PageError> {
    let round = state
        .store()
        .round(RoundId(id))
        .await?
        .ok_or_else(PageError::not_found)?;
    if round.state != RoundState::Open {
        return Err(PageError::new(
            StatusCode::CONFLICT,
            "本轮评议未开放 · This round is not open for ballots",
        ));
    }
    Ok(round)
}

/// What went wrong with a sent form, and where to show it.
enum FormError {
    /// About the ballot, at a unit if it concerns one.
    Ballot(String, Option<i64>),
    /// About the one-time code.
    Code(String),
}

async fn form_page(
    state: &Shared,
    page: Page,
    round: &Round,
    typed: &Typed,
    error: Option<FormError>,
) -> Result<BallotForm, PageError> {
    let (error, code_error) = match error {
        Some(FormError::Ballot(m, unit)) => (Some((m, unit)), None),
        Some(FormError::Code(m)) => (None, Some(m)),
        None => (None, None),
    };
    let en = page.en();
    let units = state.store().units().await?;
    let mut agencies: Vec<AgencyGroup> = Vec::new();
    for u in units.into_iter().filter(|u| u.active) {
        let ticked = typed.indicators.get(&u.id.0);
        let row = UnitRow {
            id: u.id.0,
            name: u.name,
            boxes: round
                .settings
                .indicators
                .iter()
                .map(|i| IndicatorBox {
                    code: i.code.clone(),
                    name: if en {
                        i.name_en.clone()
                    } else {
                        i.name_zh.clone()
                    },
                    checked: ticked.is_some_and(|t| t.contains(&i.code)),
                })
                .collect(),
            exposure: typed.exposure.contains(&u.id.0),
            comment: typed.comments.get(&u.id.0).cloned().unwrap_or_default(),
            error: error
                .as_ref()
                .filter(|(_, unit)| *unit == Some(u.id.0))
                .map(|(m, _)| m.clone()),
        };
        match agencies.last_mut() {
            Some(g) if g.name == u.agency => g.units.push(row),
            _ => agencies.push(AgencyGroup {
                name: u.agency,
                units: vec![row],
            }),
        }
    }
    Ok(BallotForm {
        round_id: round.id.0,
        title: round_title(round, en),
        indicators: round
            .settings
            .indicators
            .iter()
            .map(|i| IndicatorView::new(i, en))
            .collect(),
        agencies,
        max_nominations: round.settings.max_nominations,
        comment_max: round.settings.comment_max_chars,
        error: error.map(|(m, _)| m).or_else(|| code_error.clone()),
        code: typed.code.clone(),
        code_error,
        page,
    })
}

/// The form. A mailed form's QR code carries the code in the URL's fragment (`#code=`),
/// which browsers never send: the page's script moves it into the field. `?code=` (older
/// printed forms) is moved the same way in the browser and ignored here, so the code
/// is never echoed into a page a proxy or cache could keep.
pub async fn form(
    State(state): State<Shared>,
    page: Page,
    Path(id): Path<i64>,
) -> Result<Response, PageError> {
    let round = open_round(&state, id).await?;
    render(form_page(&state, page, &round, &Typed::default(), None).await?)
}

pub async fn submit(
    State(state): State<Shared>,
    page: Page,
    Path(id): Path<i64>,
    Client(client): Client,
    CsrfForm(pairs): CsrfForm<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    let round = open_round(&state, id).await?;
    let typed = Typed::from_pairs(pairs);
    let draft = typed.draft();
    match intake::submit(&state, round.id, draft.clone(), &client).await {
        Ok(receipt) => Ok(to_fresh_receipt(&receipt)),
        Err(intake::IntakeError::Invalid(e)) => {
            let unit = e.unit_id().or_else(|| {
                e.index()
                    .and_then(|i| draft.nominations.get(i))
                    .map(|n| n.unit_id)
            });
            let message = if page.en() {
                e.to_string()
            } else {
                e.message_zh()
            };
            let form = form_page(
                &state,
                page,
                &round,
                &typed,
                Some(FormError::Ballot(message, unit)),
            )
            .await?;
            let mut response = render(form)?;
            *response.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
            Ok(response)
        }
        Err(e @ (intake::IntakeError::CodeInvalid(_) | intake::IntakeError::CodeAlreadyUsed)) => {
            let used = matches!(e, intake::IntakeError::CodeAlreadyUsed);
            let message = match (used, page.en()) {
                (true, false) => "此评议码已经使用过。本次提交的评议表已保留，交由组织者核查，不会被丢弃。".to_string(),
                (true, true) => "This code has already been used. The form you sent is kept for the organizer to review; it is not thrown away.".to_string(),
                (false, false) => "评议码不正确，请核对评议表上“评议码：”后面的字符（不区分大小写）。".to_string(),
                (false, true) => "The code is not valid: check the characters after 评议码： on your form (case does not matter).".to_string(),
            };
            let form =
                form_page(&state, page, &round, &typed, Some(FormError::Code(message))).await?;
            let mut response = render(form)?;
            *response.status_mut() = if used {
                StatusCode::CONFLICT
            } else {
                StatusCode::UNPROCESSABLE_ENTITY
            };
            Ok(response)
        }
        Err(e) => Err(e.into()),
    }
}

#[derive(Template)]
#[template(path = "receipt.html")]
struct ReceiptPage {
    page: Page,
    found: Option<FoundReceipt>,
    not_found: bool,
    typed: String,
}

struct FoundReceipt {
    receipt: String,
    title: String,
    status: &'static str,
    status_key: String,
}

async fn receipt_page(state: &Shared, page: Page, typed: &str) -> Result<Response, PageError> {
    let found = match intake::receipt_status(state, typed).await? {
        Some((receipt, round, status)) => {
            let status = match status {
                intake::ReceiptStatus::Stored => "stored",
                intake::ReceiptStatus::Counted => "counted",
                intake::ReceiptStatus::Held => "held",
            };
            Some(FoundReceipt {
                receipt: receipt.to_string(),
                title: round_title(&round, page.en()),
                status,
                status_key: format!("receipt.status.{status}"),
            })
        }
        None => None,
    };
    let not_found = found.is_none() && !typed.trim().is_empty();
    let status = if not_found {
        StatusCode::NOT_FOUND
    } else {
        StatusCode::OK
    };
    let mut response = render(ReceiptPage {
        page,
        found,
        not_found,
        typed: typed.chars().take(40).collect(),
    })?;
    *response.status_mut() = status;
    Ok(response)
}

/// The cookie carrying a new receipt to `/receipts/new`, the page after a ballot.
const FRESH_RECEIPT: &str = "minping_receipt";

/// After a ballot: to the page showing its receipt, which travels in a short-lived cookie
/// scoped to that page, never in an address. An address with the receipt would be written
/// in access logs next to the sender's address and the time, and the receipt finds the
/// ballot.
fn to_fresh_receipt(receipt: &minping_domain::Receipt) -> Response {
    let mut response = Redirect::to("/receipts/new").into_response();
    if let Ok(v) = axum::http::HeaderValue::from_str(&format!(
        "{FRESH_RECEIPT}={receipt}; Path=/receipts/new; HttpOnly; SameSite=Strict; Max-Age=900"
    )) {
        response
            .headers_mut()
            .append(axum::http::header::SET_COOKIE, v);
    }
    response
}

/// The page after a ballot: its receipt, from the cookie [`to_fresh_receipt`] set (an empty
/// lookup box once it has expired).
pub async fn fresh_receipt(
    State(state): State<Shared>,
    page: Page,
    headers: axum::http::HeaderMap,
) -> Result<Response, PageError> {
    let typed = crate::csrf::cookie(&headers, FRESH_RECEIPT)
        .unwrap_or_default()
        .to_string();
    receipt_page(&state, page, &typed).await
}

/// A receipt's status: stored, counted or held; never the ballot's content.
pub async fn receipt(
    State(state): State<Shared>,
    page: Page,
    Path(receipt): Path<String>,
) -> Result<Response, PageError> {
    receipt_page(&state, page, &receipt).await
}

/// The lookup box: `/receipts?r=…`, or an empty box.
#[derive(serde::Deserialize)]
pub struct Lookup {
    #[serde(default)]
    r: String,
}

/// The receipt lookup page (`?r=` for links made before lookups were posted).
pub async fn lookup(
    State(state): State<Shared>,
    page: Page,
    axum::extract::Query(q): axum::extract::Query<Lookup>,
) -> Result<Response, PageError> {
    receipt_page(&state, page, &q.r).await
}

/// A lookup from the box: posted, so the receipt is in no address (and no access log).
pub async fn lookup_posted(
    State(state): State<Shared>,
    page: Page,
    CsrfForm(q): CsrfForm<Lookup>,
) -> Result<Response, PageError> {
    receipt_page(&state, page, &q.r).await
}

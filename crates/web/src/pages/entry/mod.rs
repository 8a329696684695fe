//! Paper entry (录入): the keyboard-driven screen where clerks key returned forms, each form
//! twice by different clerks who never see each other's entry, and the organizer's
//! adjudication of forms whose entries differ. One line per named unit:
//! `<unit id> <indicators> [comment]`, e.g. `12 冷贪 要求请吃饭` or `37 ls`, and optionally
//! `办过事: 12 37 40` (or `E: 12 37 40`) for the units dealt with.

use super::{Access, Page, public::round_title, render};
use crate::{
    auth::{Authorized, KEYERS},
    csrf::CsrfForm,
    error::PageError,
    state::Shared,
};
use askama::Template;
use axum::{
    extract::{Path, Query, State},
    http::StatusCode,
    response::{IntoResponse, Redirect, Response},
};
use minping_app::{
    entry::{self as workflow, EntryError, FormRef},
    intake::IntakeError,
};
use minping_domain::{
    BallotError, Channel, Role, Round, RoundId, RoundState,
    code::CodeError,
    paper::{Keyed, LineError, indicator_for, read_lines},
};
use serde::Deserialize;
mod adjudication;

pub use adjudication::{adjudication, decide};

/// Who may open the keying screen: clerks, and the organizer.
pub const ACCESS: Access = Access::Roles(&[Role::Clerk, Role::Organizer]);

fn line_message(page: &Page, line: usize, message: &str) -> String {
    format!(
        "{}{message}",
        page.t("entry.line").replace("%{n}", &line.to_string())
    )
}

fn line_error_message(page: &Page, e: &LineError) -> String {
    match e {
        LineError::NoUnitId { line } => line_message(page, *line, &page.t("entry.err.no_unit")),
        LineError::BadIndicator { line, token } => line_message(
            page,
            *line,
            &page.t("entry.err.indicator").replace("%{token}", token),
        ),
        LineError::BadExposure { line, token } => line_message(
            page,
            *line,
            &page.t("entry.err.exposure").replace("%{token}", token),
        ),
    }
}

fn ballot_error_message(page: &Page, e: &BallotError, keyed: &Keyed) -> String {
    let line = match e {
        BallotError::UnknownExposureUnit { index, .. } => keyed.exposure_lines.get(*index),
        _ => e.index().and_then(|i| keyed.nomination_lines.get(i)),
    };
    let message = match e {
        BallotError::NoIndicator { .. } => page.t("entry.err.no_indicator"),
        e if page.en() => e.to_string(),
        e => e.message_zh(),
    };
    match line {
        Some(n) => line_message(page, *n, &message),
        None => message,
    }
}

/// Where an error belongs on the screen.
enum Place {
    /// Next to the form's code or number.
    Key,
    /// Above the lines.
    Text,
}

fn entry_error_message(page: &Page, e: &EntryError, keyed: &Keyed) -> (Place, String) {
    match e {
        EntryError::Intake(IntakeError::Invalid(b)) => {
            (Place::Text, ballot_error_message(page, b, keyed))
        }
        EntryError::Intake(IntakeError::CodeInvalid(why)) => (
            Place::Key,
            match why {
                Some(CodeError::Length) => page.t("entry.err.code_length"),
                Some(CodeError::Character(c)) => page
                    .t("entry.err.code_char")
                    .replace("%{c}", &c.to_string()),
                Some(CodeError::Check) => page.t("entry.err.code_check"),
                None => page.t("entry.err.code_unknown"),
            },
        ),
        EntryError::Intake(IntakeError::FormAlreadyDecided) => {
            (Place::Key, page.t("entry.err.decided"))
        }
        EntryError::Intake(IntakeError::RoundNotOpen) => (Place::Text, page.t("entry.not_open")),
        EntryError::Intake(_) => (Place::Text, page.t("entry.err.unavailable")),
        EntryError::FormRequired => (Place::Key, page.t("entry.err.form_required")),
        EntryError::FormNumberTooLong => (Place::Key, page.t("entry.err.number_too_long")),
        EntryError::AlreadyKeyedByYou => (Place::Key, page.t("entry.err.already_keyed")),
        EntryError::AwaitingAdjudication => (Place::Key, page.t("entry.err.awaiting")),
        EntryError::NotDisputed => (Place::Key, page.t("adjudication.not_disputed")),
        EntryError::CodeNeeded => (Place::Key, page.t("adjudication.code_needed")),
        EntryError::CodeMismatch => (Place::Key, page.t("adjudication.code_mismatch")),
        EntryError::UnknownDecision => (Place::Text, crate::error::in_words(e, page.lang)),
    }
}

/// How an indicator may be typed, for the legend.
struct SymbolView {
    keys: String,
    name: String,
}

fn symbols(round: &Round, en: bool) -> Vec<SymbolView> {
    let set = &round.settings.indicators;
    set.iter()
        .map(|i| {
            let mut keys = Vec::new();
            if let Some(c) = i.code.chars().next()
                && indicator_for(c, set) == Some(i.code.as_str())
            {
                keys.push(c.to_string());
            }
            if i.name_zh.chars().count() == 1 {
                keys.push(i.name_zh.clone());
            }
            if keys.is_empty() {
                keys.push(i.code.clone());
            }
            let name = if en { &i.name_en } else { &i.name_zh };
            SymbolView {
                // 冷 needs no gloss next to the key 冷.
                name: if keys.contains(name) {
                    String::new()
                } else {
                    name.clone()
                },
                keys: keys.join(" / "),
            }
        })
        .collect()
}

struct AgencyUnits {
    name: String,
    units: Vec<(i64, String)>,
}

async fn unit_reference(state: &Shared) -> Result<Vec<AgencyUnits>, PageError> {
    let mut agencies: Vec<AgencyUnits> = Vec::new();
    for u in state
        .store()
        .units()
        .await?
        .into_iter()
        .filter(|u| u.active)
    {
        match agencies.last_mut() {
            Some(a) if a.name == u.agency => a.units.push((u.id.0, u.name)),
            _ => agencies.push(AgencyUnits {
                name: u.agency,
                units: vec![(u.id.0, u.name)],
            }),
        }
    }
    Ok(agencies)
}

async fn round_of(state: &Shared, id: i64) -> Result<Round, PageError> {
    state
        .store()
        .round(RoundId(id))
        .await?
        .ok_or_else(PageError::not_found)
}

async fn open_round(state: &Shared, id: i64) -> Result<Round, PageError> {
    let round = round_of(state, id).await?;
    if round.state != RoundState::Open {
        return Err(PageError::new(
            StatusCode::CONFLICT,
            "本轮评议未开放，不能录入 · This round is not open: no forms can be keyed",
        ));
    }
    Ok(round)
}

struct RoundLink {
    id: i64,
    title: String,
}

#[derive(Template)]
#[template(path = "entry/index.html")]
struct Index {
    page: Page,
    rounds: Vec<RoundLink>,
}

/// The way in: straight to the open round's screen, or a choice when several are open.
pub async fn index(
    State(state): State<Shared>,
    _: Authorized<KEYERS>,
    page: Page,
) -> Result<Response, PageError> {
    let open: Vec<Round> = state
        .store()
        .rounds()
        .await?
        .into_iter()
        .filter(|r| r.state == RoundState::Open)
        .collect();
    if let [round] = open.as_slice() {
        return Ok(Redirect::to(&format!("/entry/{}", round.id)).into_response());
    }
    let en = page.en();
    render(Index {
        rounds: open
            .iter()
            .map(|r| RoundLink {
                id: r.id.0,
                title: round_title(r, en),
            })
            .collect(),
        page,
    })
}

/// The line shown after a save.
struct Saved {
    text: String,
    warn: bool,
}

#[derive(Template)]
#[template(path = "entry/form.html")]
struct EntryScreen {
    page: Page,
    round_id: i64,
    title: String,
    open_kind: bool,
    key: String,
    key_error: Option<String>,
    text: String,
    errors: Vec<String>,
    saved: Option<Saved>,
    symbols: Vec<SymbolView>,
    agencies: Vec<AgencyUnits>,
    unit_count: usize,
    max_nominations: usize,
    disputed: Option<usize>,
}

impl EntryScreen {
    /// The lines go first when only they are wrong, so the clerk can fix them at once.
    fn focus_text(&self) -> bool {
        self.key_error.is_none() && !self.errors.is_empty()
    }
}

/// What the screen shows besides what was typed.
#[derive(Default)]
struct Typed {
    open_kind: bool,
    key: String,
    key_error: Option<String>,
    text: String,
    errors: Vec<String>,
    saved: Option<Saved>,
}

async fn screen(
    state: &Shared,
    page: Page,
    round: &Round,
    organizer: bool,
    typed: Typed,
) -> Result<EntryScreen, PageError> {
    let en = page.en();
    let agencies = unit_reference(state).await?;
    let disputed = if organizer {
        Some(state.store().disputed_forms(round.id).await?.len())
    } else {
        None
    };
    Ok(EntryScreen {
        round_id: round.id.0,
        title: round_title(round, en),
        open_kind: typed.open_kind,
        key: typed.key,
        key_error: typed.key_error,
        text: typed.text,
        errors: typed.errors,
        saved: typed.saved,
        symbols: symbols(round, en),
        unit_count: agencies.iter().map(|a| a.units.len()).sum(),
        agencies,
        max_nominations: round.settings.max_nominations,
        disputed,
        page,
    })
}

/// The query a save redirects with, so a reload saves nothing twice.
#[derive(Deserialize, Default)]
pub struct AfterSave {
    #[serde(default)]
    saved: Option<String>,
    #[serde(default)]
    kind: Option<String>,
    #[serde(default)]
    form: Option<String>,
}

/// The keying screen, empty; after a save, with the line saying what became of the form.
pub async fn form(
    State(state): State<Shared>,
    who: Authorized<KEYERS>,
    page: Page,
    Path(id): Path<i64>,
    Query(after): Query<AfterSave>,
) -> Result<Response, PageError> {
    let round = open_round(&state, id).await?;
    let saved = after.saved.as_deref().and_then(|s| {
        let (key, warn) = match s {
            "first_entry" => ("entry.saved.first_entry", false),
            "counted" => ("entry.saved.counted", false),
            "disputed" => ("entry.saved.disputed", true),
            "conflict" => ("entry.saved.conflict", true),
            _ => return None,
        };
        let text = page.t(key);
        Some(Saved {
            text: match after.form.as_deref().filter(|f| !f.is_empty()) {
                Some(f) => format!("{f} · {text}"),
                None => text,
            },
            warn,
        })
    });
    let typed = Typed {
        open_kind: after.kind.as_deref() == Some("open"),
        saved,
        ..Typed::default()
    };
    let organizer = who.0.role == Role::Organizer;
    render(screen(&state, page, &round, organizer, typed).await?)
}

/// A keyed form as posted.
#[derive(Deserialize)]
pub struct EntryForm {
    #[serde(default)]
    kind: String,
    #[serde(default)]
    key: String,
    #[serde(default)]
    text: String,
}

/// Saves one entry; errors come back in place with everything typed.
pub async fn submit(
    State(state): State<Shared>,
    who: Authorized<KEYERS>,
    page: Page,
    Path(id): Path<i64>,
    CsrfForm(posted): CsrfForm<EntryForm>,
) -> Result<Response, PageError> {
    let round = open_round(&state, id).await?;
    let open_kind = posted.kind == Channel::Open.as_str();
    let organizer = who.0.role == Role::Organizer;
    let mut typed = Typed {
        open_kind,
        key: posted.key.clone(),
        text: posted.text.clone(),
        ..Typed::default()
    };
    let form = if open_kind {
        FormRef::open(&posted.key)
    } else {
        FormRef::directed(&state, &posted.key)
    };
    let (refused, keyed) = match (form, read_lines(&posted.text, &round.settings.indicators)) {
        (Ok(form), Ok(keyed)) => {
            match workflow::key(&state, round.id, &who.0, &form, keyed.draft()).await {
                Ok(outcome) => {
                    let number = workflow::form_number(&form.key).unwrap_or_default();
                    let query = serde_urlencoded::to_string([
                        ("saved", outcome.as_str()),
                        ("kind", form.channel.as_str()),
                        ("form", number),
                    ])
                    .unwrap_or_default();
                    return Ok(
                        Redirect::to(&format!("/entry/{}?{query}", round.id)).into_response()
                    );
                }
                Err(e) => (Some(e), keyed),
            }
        }
        (form, Err(errors)) => {
            typed.errors = errors
                .iter()
                .map(|e| line_error_message(&page, e))
                .collect();
            (form.err(), Keyed::default())
        }
        (Err(e), Ok(keyed)) => (Some(e), keyed),
    };
    let mut status = StatusCode::UNPROCESSABLE_ENTITY;
    if let Some(e) = refused {
        if typed.errors.is_empty() {
            status = crate::error::status_of(minping_app::WorkflowError::kind(&e));
        }
        match entry_error_message(&page, &e, &keyed) {
            (Place::Key, message) => typed.key_error = Some(message),
            (Place::Text, message) => typed.errors.push(message),
        }
    }
    let mut response = render(screen(&state, page, &round, organizer, typed).await?)?;
    *response.status_mut() = status;
    Ok(response)
}

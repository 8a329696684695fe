//! Paper entry (录入): the keyboard-driven screen where clerks key returned forms, each form
//! twice by different clerks who never see each other's entry, and the organizer's
//! adjudication of forms whose entries differ. One line per named unit:
//! `<unit id> <indicators> [comment]`, e.g. `12 冷贪 要求请吃饭` or `37 ls`, and optionally
//! `办过事: 12 37 40` (or `E: 12 37 40`) for the units dealt with.

use super::{Access, Page, public::round_title, render};
use crate::{
    api::entry::KEYERS,
    auth::{Authorized, ORGANIZER},
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
    entry::{self as workflow, EntryError, FormRef, Outcome},
    intake::IntakeError,
};
use minping_domain::{
    BallotError, Channel, Role, Round, RoundId, RoundState,
    code::CodeError,
    paper::{Content, Keyed, LineError, indicator_for, lines_of, read_lines},
};
use serde::Deserialize;
use std::collections::{HashMap, HashSet};

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

/// A notice carried back to the adjudication page.
#[derive(Deserialize, Default)]
pub struct Flash {
    #[serde(default)]
    error: Option<String>,
    #[serde(default)]
    done: Option<String>,
}

struct RowView {
    unit: String,
    indicators: String,
    comment: String,
    missing: bool,
    indicators_differ: bool,
    comment_differs: bool,
}

struct EntryView {
    clerk: String,
    at: String,
    rows: Vec<RowView>,
    exposure: Vec<(String, bool)>,
}

struct DisputeView {
    key: String,
    label: String,
    agree: bool,
    needs_code: bool,
    entries: Vec<EntryView>,
    text: String,
    code: String,
    error: Option<String>,
}

struct AwaitingView {
    label: String,
    clerk: String,
    at: String,
}

#[derive(Template)]
#[template(path = "entry/adjudication.html")]
struct Adjudication {
    page: Page,
    flash: Flash,
    round_id: i64,
    title: String,
    open: bool,
    disputes: Vec<DisputeView>,
    awaiting: Vec<AwaitingView>,
    symbols: Vec<SymbolView>,
}

/// What the organizer typed into one form, kept when it is refused.
struct Retained {
    key: String,
    text: String,
    code: String,
    error: String,
}

/// Entries side by side: each nomination marked where any other entry differs.
fn entry_views(
    entries: &[(minping_storage::PaperEntry, Content)],
    round: &Round,
    units: &HashMap<i64, String>,
    en: bool,
    tz: chrono_tz::Tz,
) -> Vec<EntryView> {
    let set = &round.settings.indicators;
    let names = |codes: &[String]| {
        codes
            .iter()
            .map(|c| {
                set.iter().find(|i| &i.code == c).map_or(c.clone(), |i| {
                    if en {
                        i.name_en.clone()
                    } else {
                        i.name_zh.clone()
                    }
                })
            })
            .collect::<Vec<_>>()
            .join(if en { ", " } else { "、" })
    };
    let unit = |id: i64| match units.get(&id) {
        Some(name) => format!("{id} {name}"),
        None => id.to_string(),
    };
    entries
        .iter()
        .enumerate()
        .map(|(i, (entry, content))| {
            let others: Vec<&Content> = entries
                .iter()
                .enumerate()
                .filter(|(j, _)| *j != i)
                .map(|(_, (_, c))| c)
                .collect();
            let rows = content
                .nominations
                .iter()
                .map(|n| {
                    let theirs: Vec<_> = others
                        .iter()
                        .map(|o| o.nominations.iter().find(|m| m.unit_id == n.unit_id))
                        .collect();
                    RowView {
                        unit: unit(n.unit_id),
                        indicators: names(&n.indicators),
                        comment: n.comment.clone().unwrap_or_default(),
                        missing: theirs.iter().any(Option::is_none),
                        indicators_differ: theirs
                            .iter()
                            .flatten()
                            .any(|m| m.indicators != n.indicators),
                        comment_differs: theirs.iter().flatten().any(|m| m.comment != n.comment),
                    }
                })
                .collect();
            let exposure = content
                .exposure
                .iter()
                .map(|u| (unit(*u), others.iter().any(|o| !o.exposure.contains(u))))
                .collect();
            EntryView {
                clerk: entry.clerk.clone(),
                at: entry
                    .created_at
                    .with_timezone(&tz)
                    .format("%Y-%m-%d %H:%M")
                    .to_string(),
                rows,
                exposure,
            }
        })
        .collect()
}

async fn adjudication_page(
    state: &Shared,
    page: Page,
    round: &Round,
    mut flash: Flash,
    retained: Option<Retained>,
) -> Result<Adjudication, PageError> {
    let en = page.en();
    let tz = state.settings().tz();
    let disputed = workflow::disputed(state, round.id).await?;
    let awaiting = state.store().forms_awaiting_second_entry(round.id).await?;
    let any_directed = disputed.iter().any(|d| d.channel == Channel::Directed)
        || awaiting
            .iter()
            .any(|e| e.channel == Channel::Directed.as_str());
    let codes = if any_directed {
        workflow::sample_codes(state, round.id).await?
    } else {
        HashMap::new()
    };
    let label = |key: &str| match workflow::form_number(key) {
        Some(n) => format!("{} {n}", page.t("entry.number")),
        None => match codes.get(key) {
            Some(code) => format!("{} {}", page.t("entry.code"), code.printed()),
            None => format!(
                "{} {}…",
                page.t("adjudication.digest"),
                key.chars().take(10).collect::<String>()
            ),
        },
    };
    let units: HashMap<i64, String> = state
        .store()
        .units()
        .await?
        .into_iter()
        .map(|u| (u.id.0, u.name))
        .collect();
    let set = &round.settings.indicators;
    let disputes = disputed
        .iter()
        .map(|d| {
            let mine = retained.as_ref().filter(|r| r.key == d.key);
            DisputeView {
                key: d.key.clone(),
                label: label(&d.key),
                agree: d.agree,
                needs_code: d.channel == Channel::Directed && !codes.contains_key(&d.key),
                entries: entry_views(&d.entries, round, &units, en, tz),
                text: match mine {
                    Some(r) => r.text.clone(),
                    None => d
                        .entries
                        .first()
                        .map(|(_, c)| lines_of(c, set))
                        .unwrap_or_default(),
                },
                code: mine.map(|r| r.code.clone()).unwrap_or_default(),
                error: mine.map(|r| r.error.clone()),
            }
        })
        .collect();
    if let Some(r) = retained.filter(|r| !disputed.iter().any(|d| d.key == r.key)) {
        // The form is no longer disputed (decided meanwhile): say so at the top.
        flash.error = Some(r.error);
    }
    let mut seen = HashSet::new();
    let awaiting = awaiting
        .into_iter()
        .filter(|e| seen.insert(e.form_key.clone()))
        .map(|e| AwaitingView {
            label: label(&e.form_key),
            clerk: e.clerk,
            at: e
                .created_at
                .with_timezone(&tz)
                .format("%Y-%m-%d %H:%M")
                .to_string(),
        })
        .collect();
    Ok(Adjudication {
        flash,
        round_id: round.id.0,
        title: round_title(round, en),
        open: round.state == RoundState::Open,
        disputes,
        awaiting,
        symbols: symbols(round, en),
        page,
    })
}

/// The organizer's adjudication of disputed forms, with both entries side by side.
pub async fn adjudication(
    State(state): State<Shared>,
    _: Authorized<ORGANIZER>,
    page: Page,
    Path(id): Path<i64>,
    Query(flash): Query<Flash>,
) -> Result<Response, PageError> {
    let round = round_of(&state, id).await?;
    render(adjudication_page(&state, page, &round, flash, None).await?)
}

/// A decision on a disputed form.
#[derive(Deserialize)]
pub struct Decision {
    #[serde(default)]
    key: String,
    #[serde(default)]
    action: String,
    #[serde(default)]
    text: String,
    #[serde(default)]
    code: String,
}

/// Counts a disputed form as the organizer reads it, or dismisses it.
pub async fn decide(
    State(state): State<Shared>,
    who: Authorized<ORGANIZER>,
    page: Page,
    Path(id): Path<i64>,
    CsrfForm(decision): CsrfForm<Decision>,
) -> Result<Response, PageError> {
    let round = round_of(&state, id).await?;
    let back = |key: &str, text: String| {
        let query = serde_urlencoded::to_string([(key, text)]).unwrap_or_default();
        Redirect::to(&format!("/console/rounds/{id}/adjudication?{query}")).into_response()
    };
    let refused = match decision.action.as_str() {
        "dismiss" => {
            return Ok(
                match workflow::dismiss(&state, round.id, &who.actor(), &decision.key).await {
                    Ok(()) => back("done", page.t("adjudication.dismissed")),
                    Err(e) => back("error", entry_error_message(&page, &e, &Keyed::default()).1),
                },
            );
        }
        "count" => match read_lines(&decision.text, &round.settings.indicators) {
            Err(errors) => errors
                .iter()
                .map(|e| line_error_message(&page, e))
                .collect::<Vec<_>>()
                .join(" "),
            Ok(keyed) => {
                let outcome = workflow::adjudicate(
                    &state,
                    round.id,
                    &who.0,
                    &decision.key,
                    Some(&decision.code),
                    keyed.draft(),
                )
                .await;
                match outcome {
                    Ok(Outcome::Conflict) => {
                        return Ok(back("error", page.t("adjudication.conflict")));
                    }
                    Ok(_) => return Ok(back("done", page.t("adjudication.counted"))),
                    Err(e) => entry_error_message(&page, &e, &keyed).1,
                }
            }
        },
        _ => {
            return Err(PageError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "未知的操作 · Unknown action",
            ));
        }
    };
    let retained = Retained {
        key: decision.key,
        text: decision.text,
        code: decision.code,
        error: refused,
    };
    let mut response =
        render(adjudication_page(&state, page, &round, Flash::default(), Some(retained)).await?)?;
    *response.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
    Ok(response)
}

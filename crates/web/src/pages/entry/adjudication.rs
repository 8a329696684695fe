//! The organizer's adjudication of forms whose two entries differ: the entries side by side,
//! each difference marked, and the form counted as the organizer reads it or dismissed.

use super::{SymbolView, entry_error_message, line_error_message, round_of, symbols};
use crate::{
    auth::{Authorized, ORGANIZER},
    csrf::CsrfForm,
    error::PageError,
    pages::{Page, public::round_title, render},
    state::Shared,
};
use askama::Template;
use axum::{
    extract::{Path, State},
    http::StatusCode,
    response::Response,
};
use minping_app::entry::{self as workflow, Outcome};
use minping_domain::{
    Channel, Round, RoundState,
    paper::{Content, Keyed, lines_of, read_lines},
};
use serde::Deserialize;
use std::collections::{HashMap, HashSet};

use crate::pages::flash::Flash;

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
    flash: Flash,
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
        let outcome = if key == "error" { Err(text) } else { Ok(text) };
        Flash::of(outcome).redirect(&format!("/console/rounds/{id}/adjudication"))
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

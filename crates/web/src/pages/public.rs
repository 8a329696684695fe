//! Public pages: home, method, published results.

use super::{Page, render};
use crate::{error::PageError, state::Shared};
use askama::Template;
use axum::{
    extract::{Path, State},
    response::Response,
};
use minping_app::results::{self, Reader, Results};
use minping_domain::{Indicator, Round, RoundId, RoundState};

/// An indicator as a page shows it, in the page's language.
pub struct IndicatorView {
    pub code: String,
    pub name: String,
    pub description: String,
}

impl IndicatorView {
    /// The indicator in a language.
    pub fn new(i: &Indicator, en: bool) -> Self {
        Self {
            code: i.code.clone(),
            name: if en {
                i.name_en.clone()
            } else {
                i.name_zh.clone()
            },
            description: if en {
                i.description_en.clone()
            } else {
                i.description_zh.clone()
            },
        }
    }
}

/// A round's label in the page's language.
pub fn round_title(round: &Round, en: bool) -> String {
    if en {
        round.period.to_string()
    } else {
        round.period.display_zh()
    }
}

/// A published round's top list as the home page shows it: (rank, unit, agency).
type TopList = (i64, String, Vec<(u32, String, String)>);

#[derive(Template)]
#[template(path = "home.html")]
struct Home {
    page: Page,
    district: String,
    open: Option<(i64, String)>,
    latest: Option<TopList>,
}

pub async fn home(State(state): State<Shared>, page: Page) -> Result<Response, PageError> {
    let rounds = state.store().rounds().await?;
    let en = page.en();
    let open = rounds
        .iter()
        .find(|r| r.state == RoundState::Open)
        .map(|r| (r.id.0, round_title(r, en)));
    // The latest round whose list was published (a round whose rules keep the list
    // internal is passed over).
    let mut latest = None;
    if let Some(r) = results::public_rounds(&state).await?.first() {
        let b = results::visible(&state, r.id, Reader::Public).await?;
        let top = b
            .ranking
            .iter()
            .filter(|row| row.top)
            .map(|row| (row.rank, row.unit.clone(), row.agency.clone()))
            .collect();
        latest = Some((r.id.0, round_title(r, en), top));
    }
    render(Home {
        page,
        district: state.settings().district.clone(),
        open,
        latest,
    })
}

/// What one nomination of `channel` counts for in rounds created now.
fn weight(state: &Shared, channel: minping_domain::Channel) -> f64 {
    state
        .settings()
        .ranking
        .channel_weights
        .get(&channel)
        .copied()
        .unwrap_or(1.0)
}

#[derive(Template)]
#[template(path = "method.html")]
struct Method {
    page: Page,
    indicators: Vec<IndicatorView>,
    top_n: u32,
    max_nominations: usize,
    directed_weight: f64,
    open_weight: f64,
}

pub async fn method(State(state): State<Shared>, page: Page) -> Result<Response, PageError> {
    let en = page.en();
    render(Method {
        indicators: state
            .settings()
            .indicators
            .iter()
            .map(|i| IndicatorView::new(i, en))
            .collect(),
        top_n: state.settings().ranking.top_n,
        max_nominations: state.settings().ballot.max_nominations,
        directed_weight: weight(&state, minping_domain::Channel::Directed),
        open_weight: weight(&state, minping_domain::Channel::Open),
        page,
    })
}

#[derive(Template)]
#[template(path = "results_list.html")]
struct ResultsList {
    page: Page,
    rounds: Vec<(i64, String, u64)>,
}

pub async fn results_list(State(state): State<Shared>, page: Page) -> Result<Response, PageError> {
    let en = page.en();
    let mut rounds = Vec::new();
    for r in results::public_rounds(&state).await? {
        rounds.push((
            r.id.0,
            round_title(&r, en),
            state.store().ballot_count(r.id).await?,
        ));
    }
    render(ResultsList { page, rounds })
}

#[derive(Template)]
#[template(path = "results.html")]
struct RoundResults {
    page: Page,
    title: String,
    body: Results,
    indicators: Vec<IndicatorView>,
    show_all: bool,
    others: Vec<(i64, String)>,
    /// The audit log's head when the round was published, as its 通报 prints it.
    audit_head: Option<minping_domain::audit::Head>,
}

impl RoundResults {
    fn count(&self, row: &minping_app::results::ResultRow, code: &str) -> u64 {
        row.count(code)
    }
}

#[derive(serde::Deserialize)]
pub struct ResultsQuery {
    #[serde(default)]
    all: Option<String>,
}

pub async fn round_results(
    State(state): State<Shared>,
    page: Page,
    Path(id): Path<i64>,
    axum::extract::Query(q): axum::extract::Query<ResultsQuery>,
) -> Result<Response, PageError> {
    let body = results::visible(&state, RoundId(id), Reader::Public).await?;
    let round = body.round.clone();
    let en = page.en();
    let others = results::public_rounds(&state)
        .await?
        .iter()
        .filter(|r| r.id != round.id)
        .map(|r| (r.id.0, round_title(r, en)))
        .collect();
    let audit_head = state.store().published_head(round.id).await?;
    render(RoundResults {
        audit_head,
        title: round_title(&round, en),
        indicators: round
            .settings
            .indicators
            .iter()
            .map(|i| IndicatorView::new(i, en))
            .collect(),
        body,
        show_all: q.all.is_some(),
        others,
        page,
    })
}

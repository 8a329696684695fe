//! The printed forms of a round: the content every form shares, each drawn member's
//! personalised form with their code, the mailing list in the post office's order, and the
//! open-channel form for the newspaper.

use crate::{
    App,
    error::{ErrorKind, WorkflowError},
};
use minping_domain::{RoundId, code::OneTimeCode, panel::import::Table};
use minping_pdf::{AgencyUnits, FormContent, IndicatorText, Recipient, Renderer};
use minping_storage::{MailStatus, SampleRow, StorageError};

/// Why forms could not be made.
#[derive(Debug, thiserror::Error)]
pub enum FormsError {
    /// No such round.
    #[error("not found")]
    NotFound,
    /// The round has no drawn sample.
    #[error("this round has no drawn sample")]
    NotDrawn,
    /// Some members' details hold characters the form font cannot print.
    #[error("the form font cannot print these members' details; correct them in the registry: {0}")]
    Unprintable(String),
    /// Typesetting failed.
    #[error("typesetting failed: {0}")]
    Typesetting(String),
    /// Storage failed.
    #[error(transparent)]
    Storage(StorageError),
}

impl From<StorageError> for FormsError {
    fn from(e: StorageError) -> Self {
        match e {
            StorageError::NotFound => FormsError::NotFound,
            e => FormsError::Storage(e),
        }
    }
}

impl WorkflowError for FormsError {
    fn code(&self) -> &'static str {
        match self {
            FormsError::NotFound => "not_found",
            FormsError::NotDrawn => "not_drawn",
            FormsError::Unprintable(_) => "unprintable",
            FormsError::Typesetting(_) => "internal",
            FormsError::Storage(e) => e.code(),
        }
    }

    fn kind(&self) -> ErrorKind {
        match self {
            FormsError::NotFound => ErrorKind::NotFound,
            FormsError::NotDrawn => ErrorKind::Conflict,
            FormsError::Unprintable(_) => ErrorKind::Invalid,
            FormsError::Typesetting(_) => ErrorKind::Internal,
            FormsError::Storage(e) => e.kind(),
        }
    }

    fn params(&self) -> Vec<(&'static str, String)> {
        match self {
            FormsError::Unprintable(m) => vec![("detail", m.clone())],
            _ => Vec::new(),
        }
    }
}

/// The printed content shared by every form of a round.
pub async fn content(app: &App, round: RoundId) -> Result<FormContent, FormsError> {
    let settings = app.settings();
    let r = app.round(round).await?;
    let mut agencies: Vec<AgencyUnits> = Vec::new();
    for u in app.store().units().await?.into_iter().filter(|u| u.active) {
        let number = u32::try_from(u.id.0)
            .map_err(|_| StorageError::Corrupt("unit id too large to print".into()))?;
        match agencies.last_mut() {
            Some(a) if a.agency == u.agency => a.units.push((number, u.name)),
            _ => agencies.push(AgencyUnits {
                agency: u.agency,
                units: vec![(number, u.name)],
            }),
        }
    }
    Ok(FormContent {
        district: settings.district.clone(),
        round_label: r.period.display_zh(),
        layout_id: format!("MP-{}-A", r.period),
        max_nominations: r.settings.max_nominations,
        indicators: r
            .settings
            .indicators
            .iter()
            .map(|i| IndicatorText {
                name: i.name_zh.clone(),
                description: i.description_zh.clone(),
            })
            .collect(),
        agencies,
        instructions: Vec::new(),
        return_address: format!("{}作风办（最难办事科室群众评）收", settings.district),
    })
}

/// Each drawn member's name, address and code, in the sample's (post office) order.
fn recipients(app: &App, round: RoundId, sample: &[SampleRow]) -> Vec<Recipient> {
    let base = app.settings().public_url.trim_end_matches('/');
    sample
        .iter()
        .map(|s| {
            let code = OneTimeCode::derive(app.code_key(), round.0, s.member.id);
            Recipient {
                name: s.member.details.name.clone(),
                address: s.member.details.address.clone(),
                postcode: s.member.details.postcode.clone(),
                code: code.printed(),
                // In the fragment: a browser never sends it, so no request line, proxy log or
                // Referer carries the code (the form's script moves it into the field).
                url: format!("{base}/rounds/{round}/ballot#code={}", code.as_str()),
            }
        })
        .collect()
}

/// A round's drawn sample, refused if nothing was drawn.
async fn drawn(app: &App, round: RoundId) -> Result<Vec<SampleRow>, FormsError> {
    app.round(round).await?;
    let sample = app.store().sample(round).await?;
    if sample.is_empty() {
        return Err(FormsError::NotDrawn);
    }
    Ok(sample)
}

/// The merged PDF of a round's personalised forms, in the post office's order, typeset off
/// the async threads; `progress(done, total)` follows it. Members whose details the form
/// font cannot print are named, and nothing is typeset.
pub async fn personalised(
    app: &App,
    round: RoundId,
    progress: impl Fn(usize, usize) + Send + 'static,
) -> Result<Vec<u8>, FormsError> {
    let sample = drawn(app, round).await?;
    let content = content(app, round).await?;
    let people = recipients(app, round, &sample);
    let ids: Vec<i64> = sample.iter().map(|s| s.member.id).collect();
    tokio::task::spawn_blocking(move || {
        let renderer = Renderer::new();
        let unprintable: Vec<String> = people
            .iter()
            .zip(&ids)
            .filter_map(|(r, id)| {
                let chars = renderer.unsupported_chars(&format!("{}{}", r.name, r.address));
                (!chars.is_empty()).then(|| format!("member {id} ({}): {chars:?}", r.name))
            })
            .collect();
        if !unprintable.is_empty() {
            return Err(FormsError::Unprintable(unprintable.join("; ")));
        }
        let total = people.len();
        renderer
            .personalised_batch(&content, &people, &|done| progress(done, total))
            .map_err(|e| FormsError::Typesetting(e.to_string()))
    })
    .await
    .map_err(|e| FormsError::Typesetting(e.to_string()))?
}

/// The open-channel form of a round, sized for half a newspaper page.
pub async fn open_channel(app: &App, round: RoundId) -> Result<Vec<u8>, FormsError> {
    let content = content(app, round).await?;
    tokio::task::spawn_blocking(move || Renderer::new().open_channel(&content))
        .await
        .map_err(|e| FormsError::Typesetting(e.to_string()))?
        .map_err(|e| FormsError::Typesetting(e.to_string()))
}

/// The mailing list in the same (post office) order as the forms: postcode, then address.
/// With `pending_only`, only the members who have not answered and whose form was not
/// returned undeliverable or refused, for a reminder mailing.
pub async fn mailing_list(
    app: &App,
    round: RoundId,
    pending_only: bool,
) -> Result<Table, FormsError> {
    let settings = app.settings();
    let sample = drawn(app, round).await?;
    let rows = sample
        .iter()
        .filter(|s| {
            !pending_only
                || (s.response.is_none()
                    && matches!(s.mail_status, MailStatus::Drawn | MailStatus::Mailed))
        })
        .enumerate()
        .map(|(i, s)| {
            let d = &s.member.details;
            vec![
                (i + 1).to_string(),
                d.postcode.clone(),
                d.address.clone(),
                d.name.clone(),
                settings.panel.group_name_zh(&d.group),
                s.member.id.to_string(),
            ]
        })
        .collect();
    Ok(Table {
        header: ["序号", "邮编", "地址", "姓名", "类别", "成员编号"]
            .into_iter()
            .map(String::from)
            .collect(),
        rows,
    })
}

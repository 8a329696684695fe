//! The printed forms of a round: the content every form shares, each drawn member's
//! personalised form with their code, the mailing list in the post office's order, and the
//! open-channel form for the newspaper.

use crate::{
    App,
    error::{ErrorKind, WorkflowError},
};
use minping_domain::{RoundId, code::OneTimeCode, panel::import::Table};
use minping_pdf::{AgencyUnits, FormContent, IndicatorText, Recipient, Renderer};
use minping_storage::{Actor, Change, MailStatus, Reprint, SampleRow, StorageError};
use serde_json::json;

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
    /// The forms were mailed: printing the codes again needs a reprint a second organizer
    /// approved.
    #[error(
        "the forms were mailed: reprinting them needs a reprint approved by a second organizer"
    )]
    ReprintNotApproved,
    /// A reprint is asked for or approved and not printed yet: lists of who has not
    /// answered wait until it is.
    #[error(
        "a reprint of this round's codes is pending: the list of members who have not answered waits until it is printed or refused"
    )]
    ReprintPending,
    /// The reprint was asked by the organizer deciding it, decided already, or another is
    /// open.
    #[error("{0}")]
    Reprint(String),
    /// A reason that is empty or too long.
    #[error(transparent)]
    Reason(#[from] crate::error::NameError),
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
            FormsError::ReprintNotApproved => "reprint_not_approved",
            FormsError::ReprintPending => "reprint_pending",
            FormsError::Reprint(_) => "reprint_refused",
            FormsError::Reason(e) => e.code(),
            FormsError::Storage(e) => e.code(),
        }
    }

    fn kind(&self) -> ErrorKind {
        match self {
            FormsError::NotFound => ErrorKind::NotFound,
            FormsError::NotDrawn => ErrorKind::Conflict,
            FormsError::Unprintable(_) => ErrorKind::Invalid,
            FormsError::Typesetting(_) => ErrorKind::Internal,
            FormsError::ReprintNotApproved
            | FormsError::ReprintPending
            | FormsError::Reprint(_) => ErrorKind::Conflict,
            FormsError::Reason(_) => ErrorKind::Invalid,
            FormsError::Storage(e) => e.kind(),
        }
    }

    fn params(&self) -> Vec<(&'static str, String)> {
        match self {
            FormsError::Unprintable(m) | FormsError::Reprint(m) => vec![("detail", m.clone())],
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

/// Whether any of a round's forms has been mailed: from then on its codes are out, and
/// printing them again is a reprint.
fn mailed(sample: &[SampleRow]) -> bool {
    sample.iter().any(|s| s.mail_status != MailStatus::Drawn)
}

/// The merged PDF of a round's personalised forms, in the post office's order, typeset off
/// the async threads; `progress(done, total)` follows it. Members whose details the form
/// font cannot print are named, and nothing is typeset.
///
/// Every printing is logged. Once the forms are mailed, printing them again (the same codes,
/// derived from the deployment's key, on new paper) needs a reprint approved by a second
/// organizer ([`ask_reprint`],
/// [`decide_reprint`]), which this printing uses up.
pub async fn personalised(
    app: &App,
    round: RoundId,
    actor: &Actor,
    progress: impl Fn(usize, usize) + Send + 'static,
) -> Result<Vec<u8>, FormsError> {
    let sample = drawn(app, round).await?;
    let reprint = mailed(&sample);
    if reprint
        && !app
            .store()
            .reprints(round)
            .await?
            .iter()
            .any(|r| r.state == "approved")
    {
        return Err(FormsError::ReprintNotApproved);
    }
    let content = content(app, round).await?;
    let people = recipients(app, round, &sample);
    let ids: Vec<i64> = sample.iter().map(|s| s.member.id).collect();
    let pdf = tokio::task::spawn_blocking(move || {
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
    .map_err(|e| FormsError::Typesetting(e.to_string()))??;
    // Logged once typeset, and only then handed out: of two printings racing for one
    // approval, one gets the forms.
    if reprint {
        app.store()
            .use_reprint(round, actor, app.now())
            .await
            .map_err(|e| match e {
                StorageError::Conflict(_) => FormsError::ReprintNotApproved,
                e => e.into(),
            })?;
    } else {
        let change = Change::new(
            "forms.print",
            format!("round:{round}"),
            json!({ "forms": sample.len() }),
        );
        app.store().record_action(actor, app.now(), &change).await?;
    }
    Ok(pdf)
}

/// Refuses a list of who has not answered while a reprint is asked for or approved and not
/// printed: with fresh codes in hand, that list says whose ballots nobody would miss.
pub(crate) async fn no_pending_reprint(app: &App, round: RoundId) -> Result<(), FormsError> {
    let pending = app
        .store()
        .reprints(round)
        .await?
        .iter()
        .any(|r| r.state == "pending" || r.state == "approved");
    if pending {
        return Err(FormsError::ReprintPending);
    }
    Ok(())
}

/// Asks to reprint a round's codes after mailing (forms lost in the post, a misprint); a
/// second organizer approves.
pub async fn ask_reprint(
    app: &App,
    round: RoundId,
    reason: &str,
    actor: &Actor,
) -> Result<i64, FormsError> {
    let reason = crate::error::checked_name("reason", reason)?;
    drawn(app, round).await?;
    app.store()
        .ask_reprint(round, &reason, actor, app.now())
        .await
        .map_err(|e| match e {
            StorageError::Conflict(m) => FormsError::Reprint(m),
            e => e.into(),
        })
}

/// Approves or refuses a reprint: only an organizer other than the one who asked.
pub async fn decide_reprint(
    app: &App,
    id: i64,
    approve: bool,
    actor: &Actor,
) -> Result<(), FormsError> {
    app.store()
        .decide_reprint(id, approve, actor, app.now())
        .await
        .map_err(|e| match e {
            StorageError::Conflict(m) => FormsError::Reprint(m),
            e => e.into(),
        })
}

/// A round's reprint requests, newest first.
pub async fn reprints(app: &App, round: RoundId) -> Result<Vec<Reprint>, FormsError> {
    app.round(round).await?;
    Ok(app.store().reprints(round).await?)
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
    actor: &Actor,
) -> Result<Table, FormsError> {
    let settings = app.settings();
    let sample = drawn(app, round).await?;
    if pending_only {
        no_pending_reprint(app, round).await?;
    }
    let change = Change::new(
        "mailing.list",
        format!("round:{round}"),
        json!({ "pending_only": pending_only }),
    );
    app.store().record_action(actor, app.now(), &change).await?;
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

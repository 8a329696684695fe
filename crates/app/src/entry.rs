//! Blind double entry of returned paper forms (录入): two clerks key each form without
//! seeing each other's entry; the ballot counts only when both entries say the same, and
//! otherwise waits for the organizer to adjudicate.

use crate::{
    App,
    error::{ErrorKind, WorkflowError},
    intake::{self, IntakeError},
};
use minping_domain::{
    Ballot, BallotDraft, Channel, Receipt, Round, RoundId, RoundState,
    code::OneTimeCode,
    paper::{Content, half_width},
};
use minping_storage::{Actor, PaperEntry, PaperForm, Response, StorageError, User};
use std::collections::HashMap;

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
    pub fn directed(app: &App, typed: &str) -> Result<Self, EntryError> {
        if typed.trim().is_empty() {
            return Err(EntryError::FormRequired);
        }
        let code = OneTimeCode::parse(typed).map_err(|e| IntakeError::CodeInvalid(Some(e)))?;
        Ok(Self {
            key: intake::code_digest(app, code.as_str())?,
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

    /// The form named by exactly one of a code or an open-channel form number.
    pub fn either(
        app: &App,
        code: Option<&str>,
        form_number: Option<&str>,
    ) -> Result<Self, EntryError> {
        match (code, form_number) {
            (Some(code), None) => Self::directed(app, code),
            (None, Some(number)) => Self::open(number),
            _ => Err(EntryError::FormRequired),
        }
    }
}

/// The number of an open-channel form, from its key.
pub fn form_number(key: &str) -> Option<&str> {
    key.strip_prefix(OPEN_PREFIX)
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
    /// A decision that is neither `count` nor `dismiss`.
    #[error("decide `count` or `dismiss`")]
    UnknownDecision,
}

impl From<StorageError> for EntryError {
    fn from(e: StorageError) -> Self {
        EntryError::Intake(e.into())
    }
}

impl WorkflowError for EntryError {
    fn code(&self) -> &'static str {
        match self {
            EntryError::Intake(e) => e.code(),
            EntryError::FormRequired => "form_required",
            EntryError::FormNumberTooLong => "form_number_too_long",
            EntryError::AlreadyKeyedByYou => "already_keyed_by_you",
            EntryError::AwaitingAdjudication => "awaiting_adjudication",
            EntryError::NotDisputed => "not_disputed",
            EntryError::CodeNeeded => "code_required",
            EntryError::CodeMismatch => "code_mismatch",
            EntryError::UnknownDecision => "unknown_decision",
        }
    }

    fn kind(&self) -> ErrorKind {
        match self {
            EntryError::Intake(e) => e.kind(),
            EntryError::NotDisputed => ErrorKind::NotFound,
            EntryError::AlreadyKeyedByYou | EntryError::AwaitingAdjudication => ErrorKind::Conflict,
            EntryError::FormRequired
            | EntryError::FormNumberTooLong
            | EntryError::CodeNeeded
            | EntryError::CodeMismatch
            | EntryError::UnknownDecision => ErrorKind::Invalid,
        }
    }

    fn field(&self) -> Option<String> {
        match self {
            EntryError::Intake(e) => e.field(),
            EntryError::FormRequired | EntryError::CodeNeeded | EntryError::CodeMismatch => {
                Some("code".into())
            }
            EntryError::FormNumberTooLong => Some("form_number".into()),
            EntryError::UnknownDecision => Some("decision".into()),
            _ => None,
        }
    }

    fn message_zh(&self) -> Option<String> {
        match self {
            EntryError::Intake(e) => e.message_zh(),
            _ => None,
        }
    }
}

/// The round, if it is open for entry.
pub async fn open_round(app: &App, id: RoundId) -> Result<Round, EntryError> {
    let round = app.round(id).await.map_err(IntakeError::from)?;
    if round.state != RoundState::Open {
        return Err(IntakeError::RoundNotOpen.into());
    }
    Ok(round)
}

/// Checks what was keyed against the round, as the form's ballot.
async fn checked(
    app: &App,
    round: &Round,
    form: &FormRef,
    mut draft: BallotDraft,
) -> Result<Ballot, EntryError> {
    draft.channel = form.channel.as_str().to_string();
    draft.code = form.code.clone();
    let evaluated = app.evaluated_units().await.map_err(IntakeError::from)?;
    Ok(draft
        .parse(&round.settings, |u| evaluated.contains(&u))
        .map_err(IntakeError::from)?)
}

/// Why `clerk` may not key the form now, if they may not.
async fn refusal(
    app: &App,
    round: RoundId,
    key: &str,
    clerk: &User,
) -> Result<Option<EntryError>, StorageError> {
    if app.store().paper_outcome(round, key).await?.is_some() {
        return Ok(Some(IntakeError::FormAlreadyDecided.into()));
    }
    let entries = app.store().paper_entries(round, key).await?;
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
    app: &App,
    round: RoundId,
    ballot: Ballot,
    key: &str,
    decided_by: &User,
    adjudicated: bool,
) -> Result<Outcome, EntryError> {
    let form = PaperForm {
        key: key.to_string(),
        decided_by: Actor {
            user_id: Some(decided_by.id),
            name: decided_by.name.clone(),
        },
        at: app.now(),
        adjudicated,
    };
    match intake::store(app, round, ballot, Response::Paper, Some(form), None).await {
        Ok(receipt) => Ok(Outcome::Counted(receipt)),
        Err(IntakeError::CodeAlreadyUsed) => Ok(Outcome::Conflict),
        Err(e) => Err(e.into()),
    }
}

/// Stores one clerk's entry of a form; with the second entry, counts the ballot if both
/// agree and otherwise leaves the form to adjudication. A disagreement never counts.
pub async fn key(
    app: &App,
    round_id: RoundId,
    clerk: &User,
    form: &FormRef,
    draft: BallotDraft,
) -> Result<Outcome, EntryError> {
    let round = open_round(app, round_id).await?;
    if form.channel == Channel::Directed
        && app.store().code_state(round_id, &form.key).await?.is_none()
    {
        return Err(IntakeError::CodeInvalid(None).into());
    }
    let ballot = checked(app, &round, form, draft).await?;
    let content = Content::of(&ballot, &round.settings.indicators);
    if let Some(refused) = refusal(app, round_id, &form.key, clerk).await? {
        return Err(refused);
    }
    let added = app
        .store()
        .add_paper_entry(
            round_id,
            &form.key,
            form.channel.as_str(),
            clerk.id,
            &content.to_json(),
            app.now(),
        )
        .await;
    match added {
        Ok(()) => {}
        Err(StorageError::Conflict(_)) => {
            // The round closed, or another entry or a decision came in between: say which.
            open_round(app, round_id).await?;
            let refused = refusal(app, round_id, &form.key, clerk).await?;
            return Err(refused.unwrap_or(EntryError::AwaitingAdjudication));
        }
        Err(e) => return Err(e.into()),
    }
    let entries = app.store().paper_entries(round_id, &form.key).await?;
    if entries.len() < 2 {
        return Ok(Outcome::FirstEntry);
    }
    let agree = entries
        .iter()
        .all(|e| Content::from_json(&e.content).as_ref() == Some(&content));
    if !agree {
        return Ok(Outcome::Disputed);
    }
    count(app, round_id, ballot, &form.key, clerk, false).await
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
pub async fn disputed(app: &App, round: RoundId) -> Result<Vec<Disputed>, StorageError> {
    Ok(app
        .store()
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
    app: &App,
    round: RoundId,
) -> Result<HashMap<String, OneTimeCode>, StorageError> {
    Ok(app
        .store()
        .sample(round)
        .await?
        .into_iter()
        .map(|row| {
            let code = crate::draws::member_code(app, round, row.member.id);
            (code.digest(app.code_key()), code)
        })
        .collect())
}

/// The organizer decides a disputed form: its ballot is `draft` (what the paper says). A
/// directed form's code is recovered from the sample, or taken from `typed_code`.
pub async fn adjudicate(
    app: &App,
    round_id: RoundId,
    organizer: &User,
    key: &str,
    typed_code: Option<&str>,
    draft: BallotDraft,
) -> Result<Outcome, EntryError> {
    let round = open_round(app, round_id).await?;
    let entries = app.store().paper_entries(round_id, key).await?;
    if entries.len() < 2 {
        return Err(match app.store().paper_outcome(round_id, key).await? {
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
                let typed = FormRef::directed(app, typed)?;
                if typed.key != key {
                    return Err(EntryError::CodeMismatch);
                }
                typed.code
            }
            None => sample_codes(app, round_id)
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
    let ballot = checked(app, &round, &form, draft).await?;
    count(app, round_id, ballot, key, organizer, true).await
}

/// The organizer's decision on a disputed form: `count` it as `draft` says (see
/// [`adjudicate`]) or `dismiss` it (see [`dismiss`]); `None` when it was dismissed.
pub async fn decide(
    app: &App,
    round: RoundId,
    organizer: &User,
    key: &str,
    decision: &str,
    typed_code: Option<&str>,
    draft: BallotDraft,
) -> Result<Option<Outcome>, EntryError> {
    match decision {
        "count" => Ok(Some(
            adjudicate(app, round, organizer, key, typed_code, draft).await?,
        )),
        "dismiss" => {
            let actor = Actor {
                user_id: Some(organizer.id),
                name: organizer.name.clone(),
            };
            dismiss(app, round, &actor, key).await.map(|()| None)
        }
        _ => Err(EntryError::UnknownDecision),
    }
}

/// The organizer sets a disputed form aside (unreadable, or not a valid form): it counts
/// nothing and takes no more entries.
pub async fn dismiss(
    app: &App,
    round: RoundId,
    actor: &Actor,
    key: &str,
) -> Result<(), EntryError> {
    app.round(round).await.map_err(IntakeError::from)?;
    if app.store().paper_entries(round, key).await?.len() < 2 {
        return Err(match app.store().paper_outcome(round, key).await? {
            Some(_) => IntakeError::FormAlreadyDecided.into(),
            None => EntryError::NotDisputed,
        });
    }
    match app
        .store()
        .close_paper_form(round, key, "dismissed", actor, app.now())
        .await
    {
        Err(StorageError::Conflict(_)) => Err(IntakeError::FormAlreadyDecided.into()),
        other => Ok(other?),
    }
}

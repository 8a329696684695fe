//! A round's panel sample: freeze the frame (publish its hash), draw with a seed announced
//! afterwards, let anyone verify the draw from the published frame and seed, and follow the
//! mailing and who answered. Drawn members get one-time codes derived from the deployment's
//! key; only digests are stored.

use crate::{
    App,
    error::{ErrorKind, WorkflowError},
};
use minping_domain::{
    RoundId, RoundState,
    code::OneTimeCode,
    panel::{Draw, Frame, FrameEntry, draw::draw},
};
use minping_storage::{Actor, FrozenFrame, MailStatus, SampleRow, StorageError, StratumCounts};
use serde::Serialize;
use std::collections::BTreeMap;
use utoipa::ToSchema;

/// Why a panel step was refused.
#[derive(Debug, thiserror::Error)]
pub enum DrawError {
    /// No such round, or nothing drawn or frozen to show.
    #[error("not found")]
    NotFound,
    /// The round is closed: its panel can no longer be drawn.
    #[error("a panel is drawn before a round closes")]
    RoundNotDrawable,
    /// A sample of no one.
    #[error("the sample needs at least one member")]
    InvalidSampleSize,
    /// No active member is eligible.
    #[error("no active panel member is eligible: import the registry first")]
    EmptyFrame,
    /// A seed that is empty or too long.
    #[error("give the seed announced after the frame was frozen (1–200 characters)")]
    InvalidSeed,
    /// Drawing before the frame's hash could be published.
    #[error("freeze the frame and publish its hash before drawing")]
    FrameNotFrozen,
    /// The round was drawn already.
    #[error("this round's panel has been drawn")]
    AlreadyDrawn,
    /// Nothing drawn yet.
    #[error("this round has not been drawn")]
    NotDrawn,
    /// A frame file that is not `id,group` lines.
    #[error("{0}")]
    InvalidFrame(String),
    /// A mailing status that is not one.
    #[error("status must be mailed, undeliverable or refused")]
    UnknownMailStatus,
    /// A reprint of the codes is pending (see [`crate::forms::FormsError::ReprintPending`]).
    #[error(
        "a reprint of this round's codes is pending: the list of members who have not answered waits until it is printed or refused"
    )]
    ReprintPending,
    /// Storage failed, or the stored frame is unreadable.
    #[error(transparent)]
    Storage(StorageError),
}

impl From<StorageError> for DrawError {
    fn from(e: StorageError) -> Self {
        match e {
            StorageError::NotFound => DrawError::NotFound,
            e => DrawError::Storage(e),
        }
    }
}

impl WorkflowError for DrawError {
    fn code(&self) -> &'static str {
        match self {
            DrawError::NotFound => "not_found",
            DrawError::RoundNotDrawable => "round_not_drawable",
            DrawError::InvalidSampleSize => "invalid_sample_size",
            DrawError::EmptyFrame => "empty_frame",
            DrawError::InvalidSeed => "invalid_seed",
            DrawError::FrameNotFrozen => "frame_not_frozen",
            DrawError::AlreadyDrawn => "already_drawn",
            DrawError::NotDrawn => "not_drawn",
            DrawError::InvalidFrame(_) => "invalid_frame",
            DrawError::UnknownMailStatus => "unknown_status",
            DrawError::ReprintPending => "reprint_pending",
            DrawError::Storage(e) => e.code(),
        }
    }

    fn kind(&self) -> ErrorKind {
        match self {
            DrawError::NotFound => ErrorKind::NotFound,
            DrawError::InvalidSampleSize
            | DrawError::InvalidSeed
            | DrawError::InvalidFrame(_)
            | DrawError::UnknownMailStatus => ErrorKind::Invalid,
            DrawError::RoundNotDrawable
            | DrawError::EmptyFrame
            | DrawError::FrameNotFrozen
            | DrawError::AlreadyDrawn
            | DrawError::NotDrawn
            | DrawError::ReprintPending => ErrorKind::Conflict,
            DrawError::Storage(e) => e.kind(),
        }
    }

    fn field(&self) -> Option<String> {
        match self {
            DrawError::InvalidSampleSize => Some("sample_size".into()),
            DrawError::InvalidSeed => Some("seed".into()),
            DrawError::UnknownMailStatus => Some("status".into()),
            _ => None,
        }
    }

    fn params(&self) -> Vec<(&'static str, String)> {
        match self {
            DrawError::InvalidFrame(m) => vec![("detail", m.clone())],
            _ => Vec::new(),
        }
    }
}

/// Freezes the frame of eligible members (active, not drawn in the last M rounds) for a
/// draft or open round, to draw `sample_size` from later; the deployment's size if `None`.
pub async fn freeze(
    app: &App,
    round: RoundId,
    sample_size: Option<usize>,
    actor: &Actor,
) -> Result<FrozenFrame, DrawError> {
    let sample_size = sample_size.unwrap_or(app.settings().panel.sample_size);
    let r = app.round(round).await?;
    if !matches!(r.state, RoundState::Draft | RoundState::Open) {
        return Err(DrawError::RoundNotDrawable);
    }
    if sample_size == 0 {
        return Err(DrawError::InvalidSampleSize);
    }
    let eligible = app
        .store()
        .eligible(round, app.settings().panel.exclude_recent_rounds)
        .await?;
    if eligible.is_empty() {
        return Err(DrawError::EmptyFrame);
    }
    let frame = Frame::new(
        eligible
            .into_iter()
            .map(|(member_id, group)| FrameEntry { member_id, group })
            .collect(),
    )
    .map_err(|e| DrawError::Storage(StorageError::Corrupt(e.to_string())))?;
    app.store()
        .freeze_frame(
            round,
            &frame.to_text(),
            &frame.hash(),
            sample_size as i64,
            actor,
            app.now(),
        )
        .await?;
    app.store().frame(round).await?.ok_or(DrawError::NotFound)
}

/// Draws the sample of a frozen round with the announced seed and records it with the
/// members' code digests.
pub async fn draw_sample(
    app: &App,
    round: RoundId,
    seed: &str,
    actor: &Actor,
) -> Result<Draw, DrawError> {
    let seed = seed.trim();
    if seed.is_empty() || seed.chars().count() > 200 {
        return Err(DrawError::InvalidSeed);
    }
    let frozen = app
        .store()
        .frame(round)
        .await?
        .ok_or(DrawError::FrameNotFrozen)?;
    if frozen.seed.is_some() {
        return Err(DrawError::AlreadyDrawn);
    }
    let frame = Frame::from_text(&frozen.frame)
        .map_err(|e| DrawError::Storage(StorageError::Corrupt(e.to_string())))?;
    let drawn = draw(&frame, frozen.sample_size as usize, seed);
    let groups: BTreeMap<i64, String> = frame_groups(&frozen.frame);
    let key = app.code_key();
    let sample: Vec<(i64, String, String)> = drawn
        .members
        .iter()
        .map(|m| {
            let code = OneTimeCode::derive(key, round.0, *m);
            (
                *m,
                groups.get(m).cloned().unwrap_or_default(),
                code.digest(key),
            )
        })
        .collect();
    let allocation = serde_json::to_string(&drawn.allocation).unwrap_or_default();
    app.store()
        .record_draw(round, seed, &allocation, &sample, actor, app.now())
        .await?;
    Ok(drawn)
}

/// Each member's group, read from the frame's `id,group` lines.
fn frame_groups(frame: &str) -> BTreeMap<i64, String> {
    frame
        .lines()
        .filter_map(|l| l.split_once(','))
        .filter_map(|(id, g)| Some((id.trim().parse().ok()?, g.trim().to_string())))
        .collect()
}

/// A recorded draw, as published.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct RecordedDraw {
    /// SHA-256 of the frame.
    pub frame_hash: String,
    /// The seed.
    pub seed: String,
    /// Places per group.
    pub allocation: BTreeMap<String, usize>,
    /// Drawn member ids, ascending.
    pub members: Vec<i64>,
}

/// A round's recorded draw: hash, seed, allocation and the drawn (opaque) member ids.
pub async fn recorded(app: &App, round: RoundId) -> Result<RecordedDraw, DrawError> {
    let frozen = app.store().frame(round).await?.ok_or(DrawError::NotFound)?;
    let seed = frozen.seed.ok_or(DrawError::NotFound)?;
    let members = drawn_members(app, round).await?;
    Ok(RecordedDraw {
        frame_hash: frozen.frame_hash,
        seed,
        allocation: frozen
            .allocation
            .and_then(|a| serde_json::from_str(&a).ok())
            .unwrap_or_default(),
        members,
    })
}

/// The recorded sample's member ids, ascending.
async fn drawn_members(app: &App, round: RoundId) -> Result<Vec<i64>, DrawError> {
    let mut members: Vec<i64> = app
        .store()
        .sample(round)
        .await?
        .iter()
        .map(|s| s.member.id)
        .collect();
    members.sort_unstable();
    Ok(members)
}

/// The outcome of re-running a draw.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct Verification {
    /// SHA-256 of the frame used.
    pub frame_hash: String,
    /// Whether it equals the hash recorded when the frame was frozen.
    pub frame_hash_matches: bool,
    /// The seed used.
    pub seed: String,
    /// Members the re-run draws.
    pub drawn: usize,
    /// Whether the re-run draws exactly the recorded sample.
    pub sample_matches: bool,
}

/// Re-runs a round's draw from a frame (the stored one, or one given as published) and a
/// seed (the stored one unless given), and compares with the recorded sample.
pub async fn verify(
    app: &App,
    round: RoundId,
    frame_text: Option<&str>,
    seed: Option<&str>,
) -> Result<Verification, DrawError> {
    let frozen = app
        .store()
        .frame(round)
        .await?
        .ok_or(DrawError::FrameNotFrozen)?;
    let stored_seed = frozen.seed.clone().ok_or(DrawError::NotDrawn)?;
    let frame = Frame::from_text(frame_text.unwrap_or(&frozen.frame))
        .map_err(|e| DrawError::InvalidFrame(e.to_string()))?;
    let seed = seed.unwrap_or(&stored_seed);
    let rerun = draw(&frame, frozen.sample_size as usize, seed);
    let recorded = drawn_members(app, round).await?;
    Ok(Verification {
        frame_hash_matches: rerun.frame_hash == frozen.frame_hash,
        frame_hash: rerun.frame_hash,
        seed: seed.to_string(),
        drawn: rerun.members.len(),
        sample_matches: rerun.members == recorded,
    })
}

/// A drawn member's code, as printed on their form (derived again from the key).
pub fn member_code(app: &App, round: RoundId, member: i64) -> OneTimeCode {
    OneTimeCode::derive(app.code_key(), round.0, member)
}

/// Response figures of a round's sample: per group, in total, and the response rate.
#[derive(Debug, Clone)]
pub struct Response {
    /// Per group.
    pub strata: Vec<StratumCounts>,
    /// All groups together.
    pub total: StratumCounts,
    /// Answered (paper + online) over drawn minus undeliverable: AAPOR RR1 counting
    /// undeliverable forms as ineligible.
    pub response_rate: Option<f64>,
}

/// Drawn, mailed, returned on paper, answered online, undeliverable and refused per group.
/// Says who answered, never what.
pub async fn response(app: &App, round: RoundId) -> Result<Response, DrawError> {
    app.round(round).await?;
    let strata = app.store().response_counts(round).await?;
    let total = strata.iter().fold(
        StratumCounts {
            group: "total".into(),
            ..Default::default()
        },
        |mut t, c| {
            t.drawn += c.drawn;
            t.mailed += c.mailed;
            t.undeliverable += c.undeliverable;
            t.refused += c.refused;
            t.paper += c.paper;
            t.online += c.online;
            t
        },
    );
    Ok(Response {
        response_rate: response_rate(&total),
        strata,
        total,
    })
}

/// Answered (paper + online) over drawn minus undeliverable (AAPOR RR1, counting undeliverable
/// forms as ineligible); `None` when nobody eligible was drawn.
pub fn response_rate(c: &StratumCounts) -> Option<f64> {
    let eligible = c.drawn - c.undeliverable;
    (eligible > 0).then(|| (c.paper + c.online) as f64 / eligible as f64)
}

/// Drawn members who have not answered and whose form was not returned undeliverable or
/// refused, in the post office's order: the list for a reminder mailing. Refused while a
/// reprint of the codes is pending; every reading is logged.
pub async fn nonrespondents(
    app: &App,
    round: RoundId,
    actor: &Actor,
) -> Result<Vec<SampleRow>, DrawError> {
    app.round(round).await?;
    crate::forms::no_pending_reprint(app, round)
        .await
        .map_err(|e| match e {
            crate::forms::FormsError::Storage(e) => DrawError::Storage(e),
            _ => DrawError::ReprintPending,
        })?;
    let rows: Vec<SampleRow> = app
        .store()
        .sample(round)
        .await?
        .into_iter()
        .filter(|s| {
            s.response.is_none() && matches!(s.mail_status, MailStatus::Drawn | MailStatus::Mailed)
        })
        .collect();
    let change = minping_storage::Change::new(
        "panel.nonrespondents",
        format!("round:{round}"),
        serde_json::json!({ "members": rows.len() }),
    );
    app.store().record_action(actor, app.now(), &change).await?;
    Ok(rows)
}

/// Records what became of some mailings (`mailed`, `undeliverable` or `refused`): for the
/// members listed, and with `all_drawn` for every member not yet mailed. Returns how many.
pub async fn record_mailing(
    app: &App,
    round: RoundId,
    members: &[i64],
    all_drawn: bool,
    status: &str,
    actor: &Actor,
) -> Result<usize, DrawError> {
    let status = MailStatus::parse(status)
        .filter(|s| *s != MailStatus::Drawn)
        .ok_or(DrawError::UnknownMailStatus)?;
    let mut members = members.to_vec();
    if all_drawn {
        members.extend(
            app.store()
                .sample(round)
                .await?
                .iter()
                .filter(|s| s.mail_status == MailStatus::Drawn)
                .map(|s| s.member.id),
        );
    }
    app.store()
        .set_mail_status(round, &members, status, actor, app.now())
        .await?;
    Ok(members.len())
}

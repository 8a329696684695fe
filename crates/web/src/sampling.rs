//! A round's panel sample: freeze the frame (publish its hash), draw with a seed announced
//! afterwards, and let anyone verify the draw from the published frame and seed. Drawn
//! members get one-time codes derived from the deployment's key; only digests are stored.

use crate::{error::ApiError, state::AppState};
use axum::http::StatusCode;
use chrono::Utc;
use minping_domain::{
    RoundId, RoundState,
    code::OneTimeCode,
    panel::{Draw, Frame, FrameEntry, draw::draw},
};
use minping_storage::{Actor, FrozenFrame};
use std::collections::BTreeMap;

fn conflict(code: &str, message: impl Into<String>) -> ApiError {
    ApiError::new(StatusCode::CONFLICT, code, message)
}

/// Freezes the frame of eligible members (active, not drawn in the last M rounds) for a
/// draft or open round, to draw `sample_size` from later.
pub async fn freeze(
    state: &AppState,
    round: RoundId,
    sample_size: usize,
) -> Result<FrozenFrame, ApiError> {
    let r = state.round(round).await?;
    if !matches!(r.state, RoundState::Draft | RoundState::Open) {
        return Err(conflict(
            "round_not_drawable",
            "a panel is drawn before a round closes",
        ));
    }
    if sample_size == 0 {
        return Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_sample_size",
            "the sample needs at least one member",
        )
        .with_field("sample_size"));
    }
    let eligible = state
        .store
        .eligible(round, state.settings.panel.exclude_recent_rounds)
        .await?;
    if eligible.is_empty() {
        return Err(conflict(
            "empty_frame",
            "no active panel member is eligible: import the registry first",
        ));
    }
    let frame = Frame::new(
        eligible
            .into_iter()
            .map(|(member_id, group)| FrameEntry { member_id, group })
            .collect(),
    )
    .map_err(|e| ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", e.to_string()))?;
    state
        .store
        .freeze_frame(
            round,
            &frame.to_text(),
            &frame.hash(),
            sample_size as i64,
            Utc::now(),
        )
        .await?;
    state
        .store
        .frame(round)
        .await?
        .ok_or_else(ApiError::not_found)
}

/// Draws the sample of a frozen round with the announced seed and records it with the
/// members' code digests.
pub async fn draw_sample(
    state: &AppState,
    round: RoundId,
    seed: &str,
    actor: &Actor,
) -> Result<Draw, ApiError> {
    let seed = seed.trim();
    if seed.is_empty() || seed.chars().count() > 200 {
        return Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_seed",
            "give the seed announced after the frame was frozen (1–200 characters)",
        )
        .with_field("seed"));
    }
    let frozen = state.store.frame(round).await?.ok_or_else(|| {
        conflict(
            "frame_not_frozen",
            "freeze the frame and publish its hash before drawing",
        )
    })?;
    if frozen.seed.is_some() {
        return Err(conflict(
            "already_drawn",
            "this round's panel has been drawn",
        ));
    }
    let frame = Frame::from_text(&frozen.frame)
        .map_err(|e| ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", e.to_string()))?;
    let drawn = draw(&frame, frozen.sample_size as usize, seed);
    let groups: BTreeMap<i64, String> = frame_groups(&frozen.frame);
    let key = &state.code_key;
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
    state
        .store
        .record_draw(round, seed, &allocation, &sample, actor, Utc::now())
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

/// The outcome of re-running a draw.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
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
    state: &AppState,
    round: RoundId,
    frame_text: Option<&str>,
    seed: Option<&str>,
) -> Result<Verification, ApiError> {
    let frozen = state
        .store
        .frame(round)
        .await?
        .ok_or_else(|| conflict("frame_not_frozen", "this round has no frozen frame"))?;
    let stored_seed = frozen
        .seed
        .clone()
        .ok_or_else(|| conflict("not_drawn", "this round has not been drawn"))?;
    let frame = Frame::from_text(frame_text.unwrap_or(&frozen.frame)).map_err(|e| {
        ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_frame",
            e.to_string(),
        )
    })?;
    let seed = seed.unwrap_or(&stored_seed);
    let rerun = draw(&frame, frozen.sample_size as usize, seed);
    let mut recorded: Vec<i64> = state
        .store
        .sample(round)
        .await?
        .iter()
        .map(|s| s.member.id)
        .collect();
    recorded.sort_unstable();
    Ok(Verification {
        frame_hash_matches: rerun.frame_hash == frozen.frame_hash,
        frame_hash: rerun.frame_hash,
        seed: seed.to_string(),
        drawn: rerun.members.len(),
        sample_matches: rerun.members == recorded,
    })
}

/// A drawn member's code, as printed on their form (derived again from the key).
pub fn member_code(state: &AppState, round: RoundId, member: i64) -> OneTimeCode {
    OneTimeCode::derive(&state.code_key, round.0, member)
}

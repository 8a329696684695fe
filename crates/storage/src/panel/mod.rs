//! What the directed panel needs from storage: the registry (personal data, organizer
//! only), frozen frames and draws, the drawn sample with its code digests and response
//! tracking, the conflict queue, and blind double entry of paper forms.
//!
//! [`PanelStore`] is fulfilled by handing each method to its part's SQL: [`registry`],
//! [`draw`] (frames, draws and the sample), [`conflicts`] and [`paper`].

mod conflicts;
mod draw;
mod paper;
pub(crate) use paper::PAPER_OUTCOME;
mod registry;
mod reprints;

use crate::{Actor, Response, Result, Store, dialect::Dialect, sql::corrupt};
use async_trait::async_trait;
use chrono::{DateTime, NaiveDate, Utc};
use minping_domain::{RoundId, UserId, panel::NewMember};
use serde::Serialize;

/// A registry member as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Member {
    /// Id.
    pub id: i64,
    /// The member's details as imported.
    #[serde(flatten)]
    pub details: NewMember,
    /// False once they moved away or asked to be removed.
    pub active: bool,
    /// When they left the panel.
    pub left_on: Option<NaiveDate>,
    /// Why.
    pub left_reason: Option<String>,
}

/// Which members to list.
#[derive(Debug, Clone, Default)]
pub struct MemberFilter {
    /// Only active members.
    pub active_only: bool,
    /// Only this group.
    pub group: Option<String>,
    /// Name, phone or address containing this text.
    pub search: Option<String>,
    /// At most this many (all when `None`).
    pub limit: Option<i64>,
    /// Skip this many.
    pub offset: i64,
}

/// A round's frozen frame and, once drawn, its seed and allocation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FrozenFrame {
    /// The frame as published (`id,group` lines).
    pub frame: String,
    /// Its SHA-256.
    pub frame_hash: String,
    /// The sample size asked for.
    pub sample_size: i64,
    /// When it was frozen.
    pub frozen_at: DateTime<Utc>,
    /// The seed, once drawn.
    pub seed: Option<String>,
    /// Places per group (JSON), once drawn.
    pub allocation: Option<String>,
}

/// What became of a mailed form.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MailStatus {
    /// Drawn, not yet mailed.
    Drawn,
    /// Mailed.
    Mailed,
    /// Returned by the post office.
    Undeliverable,
    /// The member declined.
    Refused,
}

impl MailStatus {
    /// The stored code.
    pub fn as_str(self) -> &'static str {
        match self {
            MailStatus::Drawn => "drawn",
            MailStatus::Mailed => "mailed",
            MailStatus::Undeliverable => "undeliverable",
            MailStatus::Refused => "refused",
        }
    }

    /// Parses a stored code.
    pub fn parse(s: &str) -> Option<Self> {
        [
            MailStatus::Drawn,
            MailStatus::Mailed,
            MailStatus::Undeliverable,
            MailStatus::Refused,
        ]
        .into_iter()
        .find(|m| m.as_str() == s)
    }
}

/// One drawn member: who (for the mailing), what became of the mailing, and whether they
/// answered — never what.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SampleRow {
    /// The member.
    pub member: Member,
    /// The mailing.
    pub mail_status: MailStatus,
    /// How they answered (`paper` or `online`), if they have; never when.
    pub response: Option<crate::Response>,
}

/// Response figures for one group of a round's sample.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct StratumCounts {
    /// The group.
    pub group: String,
    /// Drawn.
    pub drawn: i64,
    /// Mailed (including those later returned or refused).
    pub mailed: i64,
    /// Returned undeliverable.
    pub undeliverable: i64,
    /// Declined.
    pub refused: i64,
    /// Answered on paper.
    pub paper: i64,
    /// Answered online.
    pub online: i64,
}

/// A ballot refused because its code had been spent, waiting for the organizer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Conflict {
    /// Id.
    pub id: i64,
    /// Round.
    pub round_id: RoundId,
    /// The code's digest (identifies the drawn member to the organizer, who may ask them).
    pub code_digest: String,
    /// `paper` or `online`.
    pub response: crate::Response,
    /// The refused ballot (JSON).
    pub content: String,
    /// When it came.
    pub received_on: NaiveDate,
    /// `pending`, `counted` or `dismissed`.
    pub state: String,
    /// Who resolved it, and why.
    pub resolved_by: Option<String>,
    /// The reason given.
    pub reason: Option<String>,
}

/// One clerk's keying of a paper form.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PaperEntry {
    /// Id.
    pub id: i64,
    /// Which form: the code's digest, or the open form's number.
    pub form_key: String,
    /// `directed` or `open`.
    pub channel: String,
    /// The clerk.
    pub clerk_id: UserId,
    /// The clerk's name.
    pub clerk: String,
    /// What they keyed (canonical JSON).
    pub content: String,
    /// When.
    pub created_at: DateTime<Utc>,
}

/// A request to reprint a round's codes after mailing.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Reprint {
    /// Its id.
    pub id: i64,
    /// The round.
    pub round_id: RoundId,
    /// Why (forms lost in the post, a misprint).
    pub reason: String,
    /// `pending`, `approved`, `refused` or `used`.
    pub state: String,
    /// Who asked.
    pub asked_by: Option<String>,
    /// When.
    pub asked_at: DateTime<Utc>,
    /// Who approved or refused it.
    pub decided_by: Option<String>,
    /// When.
    pub decided_at: Option<DateTime<Utc>>,
}

/// What the panel needs from a database.
#[async_trait]
pub trait PanelStore: Send + Sync {
    /// Adds members in one transaction; returns each one's new id, or `None` if a member
    /// with the same name and phone is already registered (or earlier in the same list).
    async fn add_members(
        &self,
        members: &[NewMember],
        actor: &Actor,
        at: DateTime<Utc>,
    ) -> Result<Vec<Option<i64>>>;
    /// Lists members.
    async fn members(&self, filter: &MemberFilter) -> Result<Vec<Member>>;
    /// Counts members matching a filter (limit and offset ignored).
    async fn member_count(&self, filter: &MemberFilter) -> Result<i64>;
    /// Takes an active member off the panel from a day, with a reason; history stays, and
    /// a member who already left keeps the first record (Conflict).
    async fn deactivate_member(
        &self,
        id: i64,
        on: NaiveDate,
        reason: &str,
        actor: &Actor,
        at: DateTime<Utc>,
    ) -> Result<()>;
    /// Active members not drawn in any of the `exclude_last` rounds before `round`
    /// (by quarter), as (id, group).
    async fn eligible(&self, round: RoundId, exclude_last: usize) -> Result<Vec<(i64, String)>>;
    /// Freezes a round's frame before its seed is known; once only.
    async fn freeze_frame(
        &self,
        round: RoundId,
        frame: &str,
        frame_hash: &str,
        sample_size: i64,
        actor: &Actor,
        at: DateTime<Utc>,
    ) -> Result<()>;
    /// A round's frozen frame.
    async fn frame(&self, round: RoundId) -> Result<Option<FrozenFrame>>;
    /// Records a round's draw: the seed, the allocation and the drawn members with their
    /// groups and code digests; once only.
    async fn record_draw(
        &self,
        round: RoundId,
        seed: &str,
        allocation: &str,
        sample: &[(i64, String, String)],
        actor: &Actor,
        at: DateTime<Utc>,
    ) -> Result<()>;
    /// The drawn members of a round with their mailing and response state, by postcode
    /// then address (the post office's order).
    async fn sample(&self, round: RoundId) -> Result<Vec<SampleRow>>;
    /// Records what became of some members' mailings, all or none (`NotFound` if one of them
    /// was not drawn for the round).
    async fn set_mail_status(
        &self,
        round: RoundId,
        members: &[i64],
        status: MailStatus,
        actor: &Actor,
        at: DateTime<Utc>,
    ) -> Result<()>;
    /// Response figures per group.
    async fn response_counts(&self, round: RoundId) -> Result<Vec<StratumCounts>>;
    /// Whether a code digest belongs to a round's sample: `None` if not, else whether spent.
    async fn code_state(&self, round: RoundId, digest: &str) -> Result<Option<bool>>;
    /// The conflict queue of a round, pending first.
    async fn conflicts(&self, round: RoundId) -> Result<Vec<Conflict>>;
    /// One conflict by id.
    async fn conflict(&self, id: i64) -> Result<Option<Conflict>>;
    /// Marks a pending conflict counted or dismissed, with who and why; its code's digest
    /// is replaced by `tag` ([`crate::Spend::resolved_tag`]). This stores no ballot: to
    /// count a kept ballot, store it with [`crate::NewBallot::resolving`], which marks the
    /// conflict in the ballot's own transaction.
    async fn resolve_conflict(
        &self,
        id: i64,
        counted: bool,
        actor: &Actor,
        reason: &str,
        at: DateTime<Utc>,
        tag: &str,
    ) -> Result<Conflict>;
    /// Stores one clerk's keying of a paper form. A clerk keys a form once; a form already
    /// decided takes no more entries (Conflict).
    async fn add_paper_entry(
        &self,
        round: RoundId,
        form_key: &str,
        channel: &str,
        clerk: UserId,
        content: &str,
        at: DateTime<Utc>,
    ) -> Result<()>;
    /// The entries of one form, oldest first.
    async fn paper_entries(&self, round: RoundId, form_key: &str) -> Result<Vec<PaperEntry>>;
    /// Forms whose two entries disagree, each with its entries.
    async fn disputed_forms(&self, round: RoundId) -> Result<Vec<Vec<PaperEntry>>>;
    /// Forms keyed once and waiting for a second clerk.
    async fn forms_awaiting_second_entry(&self, round: RoundId) -> Result<Vec<PaperEntry>>;
    /// What became of a form, if decided.
    async fn paper_outcome(&self, round: RoundId, form_key: &str) -> Result<Option<String>>;
    /// Asks to reprint a round's codes after mailing; one request is open at a time
    /// (Conflict). Returns its id.
    async fn ask_reprint(
        &self,
        round: RoundId,
        reason: &str,
        actor: &Actor,
        at: DateTime<Utc>,
    ) -> Result<i64>;
    /// Approves or refuses a pending reprint; the organizer who asked cannot (Conflict).
    async fn decide_reprint(
        &self,
        id: i64,
        approve: bool,
        actor: &Actor,
        at: DateTime<Utc>,
    ) -> Result<()>;
    /// Uses a round's approved reprint for one printing, recording it; none approved is a
    /// Conflict. Returns its id.
    async fn use_reprint(&self, round: RoundId, actor: &Actor, at: DateTime<Utc>) -> Result<i64>;
    /// A round's reprint requests, newest first.
    async fn reprints(&self, round: RoundId) -> Result<Vec<Reprint>>;
    /// Decides a disputed form without a ballot (dismissed as unreadable), taking its two
    /// entries; a form whose entries are gone (counted or dismissed meanwhile) is a Conflict.
    async fn close_paper_form(
        &self,
        round: RoundId,
        form_key: &str,
        outcome: &str,
        actor: &Actor,
        at: DateTime<Utc>,
    ) -> Result<()>;
}

/// A stored `response` code read back.
fn response_from(s: Option<String>) -> Result<Option<Response>> {
    s.map(|s| match s.as_str() {
        "paper" => Ok(Response::Paper),
        "online" => Ok(Response::Online),
        _ => Err(corrupt(s)),
    })
    .transpose()
}

#[async_trait]
impl<DB: Dialect> PanelStore for Store<DB> {
    async fn add_members(
        &self,
        members: &[NewMember],
        actor: &Actor,
        at: DateTime<Utc>,
    ) -> Result<Vec<Option<i64>>> {
        registry::add_members(&self.pool, members, actor, at).await
    }

    async fn members(&self, filter: &MemberFilter) -> Result<Vec<Member>> {
        registry::members(&self.pool, filter).await
    }

    async fn member_count(&self, filter: &MemberFilter) -> Result<i64> {
        registry::member_count(&self.pool, filter).await
    }

    async fn deactivate_member(
        &self,
        id: i64,
        on: NaiveDate,
        reason: &str,
        actor: &Actor,
        at: DateTime<Utc>,
    ) -> Result<()> {
        registry::deactivate_member(&self.pool, id, on, reason, actor, at).await
    }

    async fn eligible(&self, round: RoundId, exclude_last: usize) -> Result<Vec<(i64, String)>> {
        registry::eligible(&self.pool, round, exclude_last).await
    }

    async fn freeze_frame(
        &self,
        round: RoundId,
        frame: &str,
        frame_hash: &str,
        sample_size: i64,
        actor: &Actor,
        at: DateTime<Utc>,
    ) -> Result<()> {
        draw::freeze_frame(&self.pool, round, frame, frame_hash, sample_size, actor, at).await
    }

    async fn frame(&self, round: RoundId) -> Result<Option<FrozenFrame>> {
        draw::frame(&self.pool, round).await
    }

    async fn record_draw(
        &self,
        round: RoundId,
        seed: &str,
        allocation: &str,
        sample: &[(i64, String, String)],
        actor: &Actor,
        at: DateTime<Utc>,
    ) -> Result<()> {
        draw::record_draw(&self.pool, round, seed, allocation, sample, actor, at).await
    }

    async fn sample(&self, round: RoundId) -> Result<Vec<SampleRow>> {
        draw::sample(&self.pool, round).await
    }

    async fn set_mail_status(
        &self,
        round: RoundId,
        members: &[i64],
        status: MailStatus,
        actor: &Actor,
        at: DateTime<Utc>,
    ) -> Result<()> {
        draw::set_mail_status(&self.pool, round, members, status, actor, at).await
    }

    async fn response_counts(&self, round: RoundId) -> Result<Vec<StratumCounts>> {
        draw::response_counts(&self.pool, round).await
    }

    async fn code_state(&self, round: RoundId, digest: &str) -> Result<Option<bool>> {
        draw::code_state(&self.pool, round, digest).await
    }

    async fn conflicts(&self, round: RoundId) -> Result<Vec<Conflict>> {
        conflicts::conflicts(&self.pool, round).await
    }

    async fn conflict(&self, id: i64) -> Result<Option<Conflict>> {
        conflicts::conflict(&self.pool, id).await
    }

    async fn resolve_conflict(
        &self,
        id: i64,
        counted: bool,
        actor: &Actor,
        reason: &str,
        at: DateTime<Utc>,
        tag: &str,
    ) -> Result<Conflict> {
        conflicts::resolve_conflict(&self.pool, id, counted, actor, reason, at, tag).await
    }

    async fn add_paper_entry(
        &self,
        round: RoundId,
        form_key: &str,
        channel: &str,
        clerk: UserId,
        content: &str,
        at: DateTime<Utc>,
    ) -> Result<()> {
        paper::add_paper_entry(&self.pool, round, form_key, channel, clerk, content, at).await
    }

    async fn paper_entries(&self, round: RoundId, form_key: &str) -> Result<Vec<PaperEntry>> {
        paper::paper_entries(&self.pool, round, form_key).await
    }

    async fn disputed_forms(&self, round: RoundId) -> Result<Vec<Vec<PaperEntry>>> {
        paper::disputed_forms(&self.pool, round).await
    }

    async fn forms_awaiting_second_entry(&self, round: RoundId) -> Result<Vec<PaperEntry>> {
        paper::forms_awaiting_second_entry(&self.pool, round).await
    }

    async fn paper_outcome(&self, round: RoundId, form_key: &str) -> Result<Option<String>> {
        paper::paper_outcome(&self.pool, round, form_key).await
    }

    async fn ask_reprint(
        &self,
        round: RoundId,
        reason: &str,
        actor: &Actor,
        at: DateTime<Utc>,
    ) -> Result<i64> {
        reprints::ask_reprint(&self.pool, round, reason, actor, at).await
    }

    async fn decide_reprint(
        &self,
        id: i64,
        approve: bool,
        actor: &Actor,
        at: DateTime<Utc>,
    ) -> Result<()> {
        reprints::decide_reprint(&self.pool, id, approve, actor, at).await
    }

    async fn use_reprint(&self, round: RoundId, actor: &Actor, at: DateTime<Utc>) -> Result<i64> {
        reprints::use_reprint(&self.pool, round, actor, at).await
    }

    async fn reprints(&self, round: RoundId) -> Result<Vec<Reprint>> {
        reprints::reprints(&self.pool, round).await
    }

    async fn close_paper_form(
        &self,
        round: RoundId,
        form_key: &str,
        outcome: &str,
        actor: &Actor,
        at: DateTime<Utc>,
    ) -> Result<()> {
        paper::close_paper_form(&self.pool, round, form_key, outcome, actor, at).await
    }
}

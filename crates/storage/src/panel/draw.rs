//! A round's draw: the frame frozen before the seed is known, the draw itself, and the drawn
//! sample with its mailings and responses.
//!
//! Each `pub(super)` function is the SQL of the [`super::PanelStore`] method of the
//! same name.

use super::{
    FrozenFrame, MailStatus, SampleRow, StratumCounts,
    registry::{MEMBER_COLUMNS, member_from},
    response_from,
};
use crate::{
    Actor, Result, StorageError,
    audit::{Change, record},
    dialect::{Dialect, RowsAffected},
    sql::{MAX_BINDS, corrupt},
};
use chrono::{DateTime, Utc};
use minping_domain::RoundId;
use serde_json::json;
use sqlx::{Pool, Row};
use std::collections::BTreeMap;

pub(super) async fn freeze_frame<DB: Dialect>(
    pool: &Pool<DB>,
    round: RoundId,
    frame: &str,
    frame_hash: &str,
    sample_size: i64,
    actor: &Actor,
    at: DateTime<Utc>,
) -> Result<()> {
    let mut tx = pool.begin_with(DB::BEGIN_WRITE).await?;
    sqlx::query(
        "INSERT INTO panel_frames (round_id, frame, frame_hash, sample_size, frozen_at) VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(round.0)
    .bind(frame)
    .bind(frame_hash)
    .bind(sample_size)
    .bind(at)
    .execute(&mut *tx)
    .await
    .map_err(|e| match &e {
        sqlx::Error::Database(db) if db.is_unique_violation() => {
            StorageError::Conflict("this round's frame is already frozen".into())
        }
        sqlx::Error::Database(db) if db.is_foreign_key_violation() => StorageError::NotFound,
        _ => StorageError::Database(e),
    })?;
    let change = Change::new(
        "draw.freeze",
        format!("round:{round}"),
        json!({ "frame_hash": frame_hash, "sample_size": sample_size }),
    );
    record::<DB>(&mut tx, actor, at, &change).await?;
    tx.commit().await?;
    Ok(())
}

pub(super) async fn frame<DB: Dialect>(
    pool: &Pool<DB>,
    round: RoundId,
) -> Result<Option<FrozenFrame>> {
    let row = sqlx::query(
        "SELECT frame, frame_hash, sample_size, frozen_at, seed, allocation FROM panel_frames WHERE round_id = $1",
    )
    .bind(round.0)
    .fetch_optional(pool)
    .await?;
    row.map(|r| {
        Ok(FrozenFrame {
            frame: r.try_get("frame")?,
            frame_hash: r.try_get("frame_hash")?,
            sample_size: r.try_get("sample_size")?,
            frozen_at: r.try_get("frozen_at")?,
            seed: r.try_get("seed")?,
            allocation: r.try_get("allocation")?,
        })
    })
    .transpose()
}

pub(super) async fn record_draw<DB: Dialect>(
    pool: &Pool<DB>,
    round: RoundId,
    seed: &str,
    allocation: &str,
    sample: &[(i64, String, String)],
    actor: &Actor,
    at: DateTime<Utc>,
) -> Result<()> {
    let mut tx = pool.begin_with(DB::BEGIN_WRITE).await?;
    let done = sqlx::query(
        "UPDATE panel_frames SET seed = $1, allocation = $2, drawn_at = $3 WHERE round_id = $4 AND seed IS NULL",
    )
    .bind(seed)
    .bind(allocation)
    .bind(at)
    .bind(round.0)
    .execute(&mut *tx)
    .await?;
    if done.rows_affected() == 0 {
        return Err(StorageError::Conflict(
            "freeze the frame first; a round is drawn only once".into(),
        ));
    }
    for chunk in sample.chunks(MAX_BINDS / 4) {
        let mut q = sqlx::QueryBuilder::<DB>::new(
            "INSERT INTO panel_sample (round_id, member_id, grp, code_digest) ",
        );
        q.push_values(chunk, |mut b, (member, grp, digest)| {
            b.push_bind(round.0)
                .push_bind(*member)
                .push_bind(grp.as_str())
                .push_bind(digest.as_str());
        });
        q.build().execute(&mut *tx).await?;
    }
    let change = Change::new(
        "draw.record",
        format!("round:{round}"),
        json!({ "seed": seed, "drawn": sample.len() }),
    );
    record::<DB>(&mut tx, actor, at, &change).await?;
    tx.commit().await?;
    Ok(())
}

pub(super) async fn sample<DB: Dialect>(pool: &Pool<DB>, round: RoundId) -> Result<Vec<SampleRow>> {
    let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT {MEMBER_COLUMNS}, s.mail_status, c.response \
         FROM panel_sample s JOIN panel_members m ON m.id = s.member_id \
         LEFT JOIN spent_codes c ON c.round_id = s.round_id AND c.code_digest = s.code_digest \
         WHERE s.round_id = $1 ORDER BY m.postcode, m.address, m.id"
    )))
    .bind(round.0)
    .fetch_all(pool)
    .await?;
    rows.iter()
        .map(|r| {
            let status: String = r.try_get("mail_status")?;
            Ok(SampleRow {
                member: member_from::<DB>(r)?,
                mail_status: MailStatus::parse(&status).ok_or_else(|| corrupt(status))?,
                response: response_from(r.try_get("response")?)?,
            })
        })
        .collect()
}

pub(super) async fn set_mail_status<DB: Dialect>(
    pool: &Pool<DB>,
    round: RoundId,
    members: &[i64],
    status: MailStatus,
    actor: &Actor,
    at: DateTime<Utc>,
) -> Result<()> {
    let mut tx = pool.begin_with(DB::BEGIN_WRITE).await?;
    for &member in members {
        let done = sqlx::query(
            "UPDATE panel_sample SET mail_status = $1 WHERE round_id = $2 AND member_id = $3",
        )
        .bind(status.as_str())
        .bind(round.0)
        .bind(member)
        .execute(&mut *tx)
        .await?;
        if done.rows_affected() == 0 {
            return Err(StorageError::NotFound);
        }
    }
    let change = Change::new(
        "mailing.record",
        format!("round:{round}"),
        json!({ "status": status.as_str(), "members": members }),
    );
    record::<DB>(&mut tx, actor, at, &change).await?;
    tx.commit().await?;
    Ok(())
}

pub(super) async fn response_counts<DB: Dialect>(
    pool: &Pool<DB>,
    round: RoundId,
) -> Result<Vec<StratumCounts>> {
    let rows = sqlx::query(
        "SELECT s.grp, s.mail_status, c.response, COUNT(*) AS n FROM panel_sample s \
         LEFT JOIN spent_codes c ON c.round_id = s.round_id AND c.code_digest = s.code_digest \
         WHERE s.round_id = $1 GROUP BY s.grp, s.mail_status, c.response ORDER BY s.grp",
    )
    .bind(round.0)
    .fetch_all(pool)
    .await?;
    let mut by_group: BTreeMap<String, StratumCounts> = BTreeMap::new();
    for r in &rows {
        let group: String = r.try_get("grp")?;
        let status: String = r.try_get("mail_status")?;
        let response: Option<String> = r.try_get("response")?;
        let n: i64 = r.try_get("n")?;
        let c = by_group
            .entry(group.clone())
            .or_insert_with(|| StratumCounts {
                group,
                ..Default::default()
            });
        c.drawn += n;
        if status != "drawn" {
            c.mailed += n;
        }
        match status.as_str() {
            "undeliverable" => c.undeliverable += n,
            "refused" => c.refused += n,
            _ => {}
        }
        match response.as_deref() {
            Some("paper") => c.paper += n,
            Some("online") => c.online += n,
            _ => {}
        }
    }
    Ok(by_group.into_values().collect())
}

pub(super) async fn code_state<DB: Dialect>(
    pool: &Pool<DB>,
    round: RoundId,
    digest: &str,
) -> Result<Option<bool>> {
    let spent: Option<Option<String>> = sqlx::query_scalar(
        "SELECT c.code_digest FROM panel_sample s LEFT JOIN spent_codes c \
         ON c.round_id = s.round_id AND c.code_digest = s.code_digest \
         WHERE s.round_id = $1 AND s.code_digest = $2",
    )
    .bind(round.0)
    .bind(digest)
    .fetch_optional(pool)
    .await?;
    Ok(spent.map(|d| d.is_some()))
}

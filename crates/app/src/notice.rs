//! The circulation notice (通报) of a finalized round: the top N with their main problems
//! and what follows for them under the rules in force, as an official-style PDF.

use crate::{
    App,
    error::{ErrorKind, WorkflowError},
    results,
};
use chrono::{Datelike, NaiveDate};
use minping_domain::{Round, RoundId, RoundState, rules::Rules, settings::RoundSettings};
use minping_pdf::{Notice, NoticeEntry, Renderer};
use minping_storage::StorageError;

/// How many indicators a unit's "main problems" name, most ticked first.
const MAIN_PROBLEMS: usize = 2;

/// Why there is no notice.
#[derive(Debug, thiserror::Error)]
pub enum NoticeError {
    /// No such round.
    #[error("not found")]
    NotFound,
    /// The round is not finalized yet.
    #[error("a round's notice exists once it is finalized")]
    NotFinalized,
    /// The text cannot be typeset (a character the font lacks, say).
    #[error("{0}")]
    Unprintable(String),
    /// Storage failed.
    #[error(transparent)]
    Storage(StorageError),
}

impl From<StorageError> for NoticeError {
    fn from(e: StorageError) -> Self {
        match e {
            StorageError::NotFound => NoticeError::NotFound,
            e => NoticeError::Storage(e),
        }
    }
}

impl WorkflowError for NoticeError {
    fn code(&self) -> &'static str {
        match self {
            NoticeError::NotFound => "not_found",
            NoticeError::NotFinalized => "not_finalized",
            NoticeError::Unprintable(_) => "unprintable",
            NoticeError::Storage(e) => e.code(),
        }
    }

    fn kind(&self) -> ErrorKind {
        match self {
            NoticeError::NotFound => ErrorKind::NotFound,
            NoticeError::NotFinalized => ErrorKind::Conflict,
            NoticeError::Unprintable(_) => ErrorKind::Invalid,
            NoticeError::Storage(e) => e.kind(),
        }
    }

    fn params(&self) -> Vec<(&'static str, String)> {
        match self {
            NoticeError::Unprintable(m) => vec![("detail", m.clone())],
            _ => Vec::new(),
        }
    }
}

/// The notice's text for a finalized or published round.
pub async fn notice(app: &App, id: RoundId) -> Result<Notice, NoticeError> {
    let round = app.round(id).await?;
    if !matches!(round.state, RoundState::Finalized | RoundState::Published) {
        return Err(NoticeError::NotFinalized);
    }
    let frozen = app
        .store()
        .frozen_ranking(id)
        .await?
        .ok_or(NoticeError::NotFound)?;
    let ballots = app.store().ballot_count(id).await?;
    let transitions = app.store().transitions(id).await?;
    let dated = |to: RoundState| {
        transitions
            .iter()
            .find(|t| t.to == to)
            .map(|t| app.day_of(t.at))
    };
    let date = dated(RoundState::Published)
        .or_else(|| dated(RoundState::Finalized))
        .unwrap_or_else(|| app.today());
    let entries = results::rows(app, &round, &frozen.ranking)
        .await?
        .into_iter()
        .filter(|r| r.top)
        .map(|r| NoticeEntry {
            rank: r.rank,
            main_problems: main_problems(&round.settings, &r.indicators),
            agency: r.agency,
            unit: r.unit,
            override_note: r
                .r#override
                .map(|_| "经查实存在吃拿卡要等问题，直接列第1名".to_string()),
        })
        .collect();
    Ok(compose(
        &app.settings().district,
        &round,
        ballots,
        entries,
        app.rules(),
        date,
    ))
}

/// The notice as a PDF.
pub async fn pdf(app: &App, id: RoundId) -> Result<Vec<u8>, NoticeError> {
    let notice = notice(app, id).await?;
    tokio::task::spawn_blocking(move || Renderer::new().notice(&notice))
        .await
        .map_err(|e| NoticeError::Storage(StorageError::Corrupt(e.to_string())))?
        .map_err(|e| NoticeError::Unprintable(e.to_string()))
}

/// The indicators ticked most for a unit, e.g. `推（41人次）、冷（17人次）`.
fn main_problems(
    settings: &RoundSettings,
    counts: &std::collections::BTreeMap<String, u64>,
) -> String {
    let mut ticked: Vec<(&str, u64)> = settings
        .indicators
        .iter()
        .filter_map(|i| {
            let n = counts.get(&i.code).copied().unwrap_or(0);
            (n > 0).then_some((i.name_zh.as_str(), n))
        })
        .collect();
    ticked.sort_by_key(|t| std::cmp::Reverse(t.1));
    if ticked.is_empty() {
        return "—".into();
    }
    ticked
        .iter()
        .take(MAIN_PROBLEMS)
        .map(|(name, n)| format!("{name}（{n}人次）"))
        .collect::<Vec<_>>()
        .join("、")
}

fn date_zh(d: NaiveDate) -> String {
    format!("{}年{}月{}日", d.year(), d.month(), d.day())
}

/// The notice's wording around the list, following the rules in force.
fn compose(
    district: &str,
    round: &Round,
    ballots: u64,
    entries: Vec<NoticeEntry>,
    rules: &Rules,
    date: NaiveDate,
) -> Notice {
    let label = round.label.display_zh();
    let top = round.settings.top_n;
    let mut opening = vec![format!(
        "按照{district}“最难办事科室”群众评议工作安排，{label}群众评议已经结束，共收回有效评议表{ballots}份。\
         经统计，群众评出的最难办事科室前{top}名如下（第1名为最难办事）。现予通报。"
    )];
    if entries.iter().any(|e| e.override_note.is_some()) {
        opening.push(
            "对经查实存在吃拿卡要问题的科室，不论群众评议得票多少，直接列为最难办事科室第1名。"
                .into(),
        );
    }
    let mut closing = Vec::new();
    let mut follow = Vec::new();
    if rules.top_n.reminder_talk {
        follow.push("对其分管领导进行谈话提醒".to_string());
    }
    if rules.top_n.interview {
        follow.push("对科室负责人进行约谈".to_string());
    }
    if rules.top_n.promotion_freeze_months > 0 {
        follow.push(format!(
            "科室负责人自公示之日起{}个月内不得提拔",
            rules.top_n.promotion_freeze_months
        ));
    }
    if !follow.is_empty() {
        closing.push(format!(
            "对列入最难办事科室前{top}名的科室，{}。",
            follow.join("；")
        ));
    }
    let removal = &rules.removal;
    let mut ladder = Vec::new();
    if removal.head_after > 0 {
        ladder.push(format!(
            "连续{}次列入前{}名的，科室负责人予以免职",
            removal.head_after, removal.top
        ));
    }
    if removal.leader_after > 0 {
        ladder.push(format!(
            "连续{}次列入前{}名的，分管领导予以免职",
            removal.leader_after, removal.top
        ));
    }
    if !ladder.is_empty() {
        closing.push(format!("{}。", ladder.join("；")));
    }
    let mut assessment = format!(
        "评议结果纳入单位领导班子和领导干部年度考核，每列入前{top}名一次，扣{}分",
        rules.deduction.points
    );
    if rules.deduction.bonus_review {
        assessment.push_str("，并作为年终绩效奖金发放的依据");
    }
    assessment.push('。');
    closing.push(assessment);
    closing.push(
        "各单位要对照群众反映的问题，逐条制定整改措施，限期整改到位，并接受群众和暗访监督。".into(),
    );
    Notice {
        issuer: format!("{district}最难办事科室群众评议活动领导小组办公室"),
        number: format!(
            "{district}评通〔{}〕{}号",
            round.label.year(),
            round.label.quarter()
        ),
        title: format!("关于{label}“最难办事科室”群众评议结果的通报"),
        addressee: "各乡镇（街道），区级各部门、各单位：".into(),
        opening,
        entries,
        closing,
        signature: format!("{district}最难办事科室群众评议活动领导小组办公室"),
        date: date_zh(date),
    }
}

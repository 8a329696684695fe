//! The circulation notice (通报) of a finalized round: the top N with their main problems
//! and what follows for them under the rules in force, as an official-style PDF.

use crate::{
    App, accountability,
    error::{ErrorKind, WorkflowError},
    results,
};
use chrono::{Datelike, NaiveDate};
use minping_domain::{
    Round, RoundId, RoundState,
    receipt::printed_root,
    rules::{Rules, SanctionKind, SanctionState},
    settings::RoundSettings,
};
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
    /// The rules the round was finalized under do not circulate results.
    #[error("the rules this round was finalized under do not circulate its results")]
    NotCirculated,
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
            NoticeError::NotCirculated => "not_circulated",
            NoticeError::Unprintable(_) => "unprintable",
            NoticeError::Storage(e) => e.code(),
        }
    }

    fn kind(&self) -> ErrorKind {
        match self {
            NoticeError::NotFound => ErrorKind::NotFound,
            NoticeError::NotFinalized | NoticeError::NotCirculated => ErrorKind::Conflict,
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
    let rules = app.rules_of(id).await?;
    if !rules.publication.circulate {
        return Err(NoticeError::NotCirculated);
    }
    let frozen = app
        .store()
        .frozen_ranking(id)
        .await?
        .ok_or(NoticeError::NotFound)?;
    // Counted ballots: those the stuffing scan holds out are not.
    let (_, receipts) = results::counted_receipts(app, id, results::Reader::Insider)
        .await
        .map_err(|e| match e {
            results::ResultsError::Storage(e) => NoticeError::from(e),
            _ => NoticeError::NotFound,
        })?;
    let ballots = receipts.len() as u64;
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
    // The round's number among the year's rounds that were evaluated (finalized or
    // published), in the order of the periods.
    let number = app
        .store()
        .rounds()
        .await?
        .iter()
        .filter(|r| matches!(r.state, RoundState::Finalized | RoundState::Published))
        .filter(|r| r.period.year() == round.period.year() && r.period <= round.period)
        .count();
    let removals = removals(app, id).await?;
    // The log's head as the round was published (the current head before that).
    let audit_head = match app.store().published_head(id).await? {
        Some(head) => head,
        None => app.store().audit_head().await?,
    };
    Ok(compose(
        &app.settings().district,
        &Circulated {
            round: &round,
            number,
            ballots,
            receipts_root: receipts.root(),
            audit_head,
            date,
        },
        entries,
        &rules,
        removals,
    ))
}

/// The removals confirmed for a round, as the notice announces them.
async fn removals(app: &App, id: RoundId) -> Result<Vec<String>, StorageError> {
    let people = accountability::person_names(app).await?;
    let units = accountability::unit_labels(app).await?;
    Ok(app
        .store()
        .sanctions(id)
        .await?
        .into_iter()
        .filter(|s| s.state == SanctionState::Confirmed)
        .filter_map(|s| {
            let post = match s.proposal.kind {
                SanctionKind::HeadRemoved => "科室负责人",
                SanctionKind::LeaderRemoved => "分管领导",
                _ => return None,
            };
            let unit = units
                .get(&s.proposal.unit_id.0)
                .cloned()
                .unwrap_or_default();
            let person = people
                .get(&s.proposal.person_id.0)
                .cloned()
                .unwrap_or_default();
            Some(format!(
                "{unit}：{}，免去{person}{post}职务。",
                s.proposal.reason_zh
            ))
        })
        .collect())
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

/// What the notice says of its round.
struct Circulated<'a> {
    round: &'a Round,
    /// Its number in its year.
    number: usize,
    /// Ballots counted.
    ballots: u64,
    /// The Merkle root of the counted receipts' hashes ([`CountedReceipts`]).
    receipts_root: String,
    /// The audit log's head when the round was published.
    audit_head: minping_domain::audit::Head,
    /// The notice's date.
    date: NaiveDate,
}

/// The notice's wording around the list, following the rules the round was finalized under.
fn compose(
    district: &str,
    c: &Circulated<'_>,
    entries: Vec<NoticeEntry>,
    rules: &Rules,
    removals: Vec<String>,
) -> Notice {
    let label = c.round.period.display_zh();
    let top = c.round.settings.top_n;
    let ballots = c.ballots;
    let mut opening = vec![format!(
        "按照{district}“最难办事科室”群众评议工作安排，{label}群众评议已经结束，共收回有效评议表{ballots}份。\
         经统计，群众评出的最难办事科室前{top}名如下（第1名为最难办事）。现予通报。"
    )];
    let overrides = entries.iter().filter(|e| e.override_note.is_some()).count();
    if overrides > 0 {
        let shared = if overrides > 1 { "（并列）" } else { "" };
        opening.push(format!(
            "对经查实存在吃拿卡要问题的科室，不论群众评议得票多少，直接列为最难办事科室第1名{shared}。"
        ));
    }
    let mut closing = Vec::new();
    let listed = &rules.top_n;
    if listed.reminder_talk {
        closing.push(format!(
            "对列入最难办事科室前{top}名的科室，对其分管领导进行谈话提醒。"
        ));
    }
    if listed.interview {
        let mut when = Vec::new();
        if listed.interview_after_consecutive == 1 {
            when.push(format!("列入前{top}名的"));
        } else if listed.interview_after_consecutive > 1 {
            when.push(format!(
                "连续{}次列入前{top}名的",
                listed.interview_after_consecutive
            ));
        }
        if listed.interview_top > 0 {
            when.push(format!("列入前{}名的", listed.interview_top));
        }
        if !when.is_empty() {
            closing.push(format!("{}，对科室负责人进行约谈。", when.join("或")));
        }
    }
    if listed.promotion_freeze_months > 0 {
        closing.push(format!(
            "列入前{top}名的科室，其负责人自公示之日起{}个月内不得提拔。",
            listed.promotion_freeze_months
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
    closing.extend(removals);
    // The article: "评议结果纳入领导班子和领导干部年度考核，考核结果直接与年终绩效奖金挂钩". A
    // deduction in points is printed only when the rules set one.
    let mut assessment = "评议结果纳入单位领导班子和领导干部年度考核".to_string();
    if rules.deduction.points > 0.0 {
        assessment.push_str(&format!(
            "，每列入前{top}名一次，扣{}分",
            rules.deduction.points
        ));
    }
    if rules.deduction.bonus_review {
        assessment.push_str("，考核结果与年终绩效奖金挂钩");
    }
    assessment.push('。');
    closing.push(assessment);
    closing.push(
        "各单位要对照群众反映的问题，逐条制定整改措施，限期整改到位，并接受群众和暗访监督。".into(),
    );
    // The commitment anyone can check a receipt against (`minping receipts verify`).
    closing.push(format!(
        "本轮计入统计的{ballots}份评议表的回执哈希清单随评议结果在评议网站公布，其默克尔根为：{}。参评群众可凭回执核验本人评议表已计入统计。",
        printed_root(&c.receipts_root)
    ));
    // The commitment to the log of staff actions (`minping audit verify`): a later rewrite
    // of the log no longer contains this head.
    closing.push(format!(
        "本轮评议结果公布时，评议系统审计日志共记录工作人员操作{}项，链头哈希为：{}。保存此值者可据以发现日志此后的任何改写。",
        c.audit_head.seq,
        printed_root(&c.audit_head.hash)
    ));
    Notice {
        issuer: format!("{district}最难办事科室群众评议活动领导小组办公室"),
        number: format!("{district}评通〔{}〕{}号", c.round.period.year(), c.number),
        title: format!("关于{label}“最难办事科室”群众评议结果的通报"),
        addressee: "各乡镇（街道），区级各部门、各单位：".into(),
        opening,
        entries,
        closing,
        signature: format!("{district}最难办事科室群众评议活动领导小组办公室"),
        date: date_zh(c.date),
    }
}

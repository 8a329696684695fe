//! Reports (举报) in the demo: what citizens, the hotline and letters brought, and what the
//! investigators found, filed and moved through the reports workflow on their days.

use super::Timeline;
use anyhow::{Context, Result};
use chrono::{Duration, NaiveDate};
use minping_app::{App, reports};
use minping_domain::report::{ReportDraft, ReportSource};
use minping_storage::Actor;

/// A demo report: against which unit, from where, what was said, and how far it went.
pub(super) struct DemoReport {
    /// The unit's name (unique among active units in the catalogue).
    pub unit: &'static str,
    /// Where it came from.
    pub source: ReportSource,
    /// What the reporter said.
    pub description: &'static str,
    /// How far the investigation went, if it began: (why it was opened, and for a
    /// substantiated report, the finding and the disciplinary action).
    pub outcome: Outcome,
}

/// Where a demo report ends up.
pub(super) enum Outcome {
    /// Just received.
    Received,
    /// Under investigation.
    Investigating(&'static str),
    /// Found true, with the finding and the disciplinary action.
    Substantiated(&'static str, &'static str, &'static str),
}

/// The open quarter's reports: one just received, one under investigation, two substantiated
/// (which put their units at rank 1 of the open round, both of them).
pub(super) const OPEN_QUARTER: &[DemoReport] = &[
    DemoReport {
        unit: "企业注册科",
        source: ReportSource::Web,
        description: "办理营业执照变更时，窗口工作人员要求提供法律没有规定的证明材料，来回跑了四趟。",
        outcome: Outcome::Received,
    },
    DemoReport {
        unit: "不动产登记中心",
        source: ReportSource::Hotline,
        description: "来电反映：办理不动产登记时，有工作人员暗示“打点一下”可以加快办理。",
        outcome: Outcome::Investigating("转区纪委监委第三纪检组核查"),
    },
    DemoReport {
        unit: "食品经营许可科",
        source: ReportSource::Letter,
        description: "来信反映：申请食品经营许可证时，经办人员收受申请人购物卡后才予受理。",
        outcome: Outcome::Substantiated(
            "受理，开展调查",
            "经核查，反映问题属实",
            "给予经办人员政务记过处分，收受的购物卡已上缴",
        ),
    },
    DemoReport {
        unit: "建设工程质量安全监督站",
        source: ReportSource::Visit,
        description: "来访反映：办理质量监督登记时，监督员要求施工单位安排吃请后才到现场。",
        outcome: Outcome::Substantiated(
            "受理，开展调查",
            "经核查，监督员多次接受施工单位宴请，反映问题属实",
            "给予监督员政务警告处分，调离监督岗位",
        ),
    },
];

/// Files `report` on `received`, takes it up a few days later and concludes it by
/// `concluded`, each step at its own time on the demo's clock.
pub(super) async fn file(
    app: &App,
    time: &Timeline,
    report: &DemoReport,
    received: NaiveDate,
    concluded: NaiveDate,
    investigators: &[Actor; 2],
) -> Result<()> {
    let [investigator, second] = investigators;
    let unit = app
        .store()
        .units()
        .await?
        .into_iter()
        .find(|u| u.name == report.unit && u.active)
        .with_context(|| format!("the demo has {}", report.unit))?;
    time.set(received, 10, 0);
    let draft = ReportDraft {
        unit_id: unit.id.0,
        description: report.description.into(),
        staff: None,
        contact: None,
        occurred_on: Some(received - Duration::days(7)),
    };
    let taken_by = (report.source != ReportSource::Web).then_some(investigator);
    let filed = reports::file(app, draft, &[], report.source, taken_by).await?;
    let (opened, finding) = match report.outcome {
        Outcome::Received => return Ok(()),
        Outcome::Investigating(why) => (why, None),
        Outcome::Substantiated(why, found, action) => (why, Some((found, action))),
    };
    let taken_up = (received + Duration::days(2)).min(concluded);
    time.set(taken_up, 9, 30);
    reports::step(app, filed.id, "investigating", opened, None, investigator).await?;
    if let Some((found, action)) = finding {
        time.set(concluded, 16, 0);
        reports::step(app, filed.id, "substantiated", found, Some(action), second).await?;
    }
    Ok(())
}

/// Reports substantiated in the history, by the index of the round they came in: a unit
/// found taking bribes goes straight to rank 1 of that round, and in round 14 two units share
/// it.
pub(super) const HISTORY: &[(usize, DemoReport)] = &[
    (
        6,
        DemoReport {
            unit: "车辆管理所",
            source: ReportSource::Hotline,
            description: "来电反映：机动车检测时，工作人员收取“好处费”后为不合格车辆出具合格报告。",
            outcome: Outcome::Substantiated(
                "受理，开展调查",
                "经核查，反映问题属实",
                "给予涉事工作人员政务记过处分，退缴违纪所得",
            ),
        },
    ),
    (
        14,
        DemoReport {
            unit: "林政资源管理科",
            source: ReportSource::Letter,
            description: "来信反映：办理林木采伐许可时，经办人员要求申请人送礼后才予审批。",
            outcome: Outcome::Substantiated(
                "受理，开展调查",
                "经核查，反映问题属实",
                "给予经办人员政务记大过处分",
            ),
        },
    ),
    (
        14,
        DemoReport {
            unit: "特种设备安全监察科",
            source: ReportSource::Web,
            description: "网上举报：办理特种设备使用登记时，检验人员吃拿卡要，不请吃饭就拖着不办。",
            outcome: Outcome::Substantiated(
                "受理，开展调查",
                "经核查，检验人员多次接受企业宴请，反映问题属实",
                "给予检验人员政务警告处分",
            ),
        },
    ),
];

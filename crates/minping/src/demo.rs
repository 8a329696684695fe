//! The demo district (`minping demo`): a realistic 南川区 with five years of quarterly
//! rounds, so every page has something true-to-life to show on first start.
//!
//! Everything goes through the public [`Storage`] API and the real round lifecycle, so the
//! demo data is exactly what a district that ran the evaluation would hold: rounds created,
//! opened, closed, finalized with the ranking recomputed from stored ballots, published.
//!
//! The ballots come from a small seeded model rather than from fixed numbers, so rankings
//! move the way the article (`reference/seed-workers-daily-page.txt`) describes: a unit that
//! lands in the top 10 is talked to and rectifies, so its difficulty drops in the following
//! quarters; some relapse ("民意就会反弹"); the rest drift. The units named in the article
//! are biased so they show their story (殡仪馆 twice in the top 10, 不动产登记中心 at ranks 1
//! and 4, 基础教育科 at 7) without hard-coding any rank: the ranking is always computed from
//! the ballots. The same seed gives the same district.

use anyhow::{Context, Result, bail, ensure};
use chrono::{DateTime, Duration, NaiveDate, TimeZone, Utc};
use indicatif::ProgressBar;
use minping_domain::panel::NewMember;
use minping_domain::{
    Ballot, Channel, IndicatorMask, Method, Nomination, PersonId, PostRole, Receipt, RoundId,
    RoundLabel, RoundState, Settings, UnitId, ranking, settings::RoundSettings,
};
use minping_storage::{Actor, FrozenRanking, NewBallot, Storage};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::collections::{BTreeMap, BTreeSet};

/// What [`seed_district`] created.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DemoSummary {
    /// Agencies (局/部门).
    pub agencies: usize,
    /// Units (科室), retired ones included.
    pub units: usize,
    /// People holding or having held a post.
    pub people: usize,
    /// Past rounds taken through the whole lifecycle to `published`.
    pub rounds_published: usize,
    /// Ballots stored, over every round (the open one included).
    pub ballots: u64,
    /// The round of `today`'s quarter, left open with a few ballots in it.
    pub open_round: RoundId,
}

/// The units the article names, as (agency, unit); the demo always holds them.
pub const ARTICLE_UNITS: [(&str, &str); 5] = [
    ("区规划和自然资源局", "不动产登记中心"),
    ("区市场监管局", "企业注册科"),
    ("区民政局", "殡仪馆"),
    ("区人力社保局", "城乡居民养老保险科"),
    ("区教委", "基础教育科"),
];

/// How many published quarters precede today's.
const PAST_ROUNDS: usize = 20;
/// The mailed panel per round (定向评议: 1,000 forms).
const PANEL_SIZE: f64 = 1000.0;
/// Ballots per `insert_ballots` call: one transaction each, small enough to stay well below
/// the bind limits of both backends.
const BATCH: usize = 500;
/// Candidate ballot sets tried for a round whose article unit is biased towards a rank.
const ATTEMPTS: usize = 16;
/// The model's indicators, in the default set's order.
const MODEL_CODES: [&str; 5] = ["cold", "lazy", "shirking", "arbitrary", "greedy"];

/// How a unit's complaints lean across 冷 懒 推 乱 贪.
#[derive(Debug, Clone, Copy)]
enum Lean {
    Plain,
    Cold,
    Slow,
    Push,
    Fees,
    Greedy,
    MildGreedy,
    ColdFees,
    ColdPush,
    PushFees,
    SlowPush,
}

impl Lean {
    /// Multipliers of the district-wide indicator mix.
    fn multipliers(self) -> [f64; 5] {
        match self {
            Lean::Plain => [1.0, 1.0, 1.0, 1.0, 1.0],
            Lean::Cold => [2.0, 1.0, 1.0, 0.8, 1.0],
            Lean::Slow => [1.0, 2.2, 1.2, 0.8, 1.0],
            Lean::Push => [1.0, 1.1, 2.2, 1.0, 1.0],
            Lean::Fees => [1.0, 0.9, 1.0, 2.5, 2.0],
            // 吃拿卡要: a noticeable share of nominations tick 贪.
            Lean::Greedy => [0.9, 1.0, 1.0, 1.6, 10.0],
            Lean::MildGreedy => [1.0, 1.0, 1.0, 1.3, 5.0],
            Lean::ColdFees => [2.0, 0.9, 1.0, 2.5, 1.5],
            Lean::ColdPush => [1.9, 1.0, 1.8, 0.8, 1.0],
            Lean::PushFees => [1.0, 1.0, 1.9, 1.8, 1.0],
            Lean::SlowPush => [1.0, 2.0, 1.6, 0.8, 1.0],
        }
    }
}

/// A unit of the catalogue: its name, the service people come for (quoted in comments), how
/// often people deal with it (relative), and how its problems lean.
struct UnitSpec {
    name: &'static str,
    service: &'static str,
    traffic: f64,
    lean: Lean,
}

const fn u(name: &'static str, service: &'static str, traffic: f64, lean: Lean) -> UnitSpec {
    UnitSpec {
        name,
        service,
        traffic,
        lean,
    }
}

use Lean::*;

/// The district: agencies with approval or service functions and their units.
const DISTRICT: &[(&str, &[UnitSpec])] = &[
    (
        "区规划和自然资源局",
        &[
            u("不动产登记中心", "办不动产权证", 3.0, SlowPush),
            u("城乡规划审批科", "办规划许可", 1.0, Push),
            u("建设用地审批科", "办建设用地审批", 0.8, Plain),
            u("测绘地理信息科", "申请测绘成果", 0.4, Plain),
            u("矿产资源管理科", "办采矿许可", 0.4, MildGreedy),
        ],
    ),
    (
        "区市场监管局",
        &[
            u("企业注册科", "注册公司", 2.5, Push),
            u("食品经营许可科", "办食品经营许可证", 1.8, Plain),
            u("特种设备安全监察科", "办特种设备使用登记", 0.7, Greedy),
            u("价格监督检查科", "投诉乱收费", 0.8, Cold),
            u("知识产权科", "申请商标专利", 0.5, Plain),
        ],
    ),
    (
        "区民政局",
        &[
            u("殡仪馆", "办理后事", 1.5, ColdFees),
            u("婚姻登记处", "办婚姻登记", 1.8, Plain),
            u("社会救助科", "申请低保", 1.5, Cold),
            u("养老服务科", "申请高龄津贴", 1.0, Slow),
            u("社会组织管理科", "登记社会组织", 0.4, Plain),
        ],
    ),
    (
        "区人力社保局",
        &[
            u("城乡居民养老保险科", "办养老保险", 2.0, ColdPush),
            u("就业创业科", "申请创业担保贷款", 1.2, Slow),
            u("劳动保障监察支队", "投诉欠薪", 1.0, Push),
            u("工伤保险科", "认定工伤", 0.8, Push),
            u("职业能力建设科", "申领技能补贴", 0.7, Plain),
        ],
    ),
    (
        "区教委",
        &[
            u("基础教育科", "办孩子入学", 2.2, PushFees),
            u("学生资助管理中心", "申请助学金", 0.9, Slow),
            u("招生考试中心", "报名考试", 1.0, Plain),
            u("民办教育管理科", "办民办学校许可", 0.4, MildGreedy),
        ],
    ),
    (
        "区公安分局",
        &[
            u("户籍科", "迁户口", 2.8, Push),
            u("出入境管理科", "办护照", 1.5, Slow),
            u("车辆管理所", "办车辆年检", 2.5, Greedy),
            u("治安管理科", "办特种行业许可", 0.6, Plain),
            u("交通事故处理科", "处理交通事故", 1.0, Cold),
        ],
    ),
    (
        "区住房城乡建委",
        &[
            u("建筑管理科", "办施工许可", 1.0, Greedy),
            u("房地产市场监管科", "办商品房预售许可", 0.8, Plain),
            u("住房保障科", "申请公租房", 1.5, Slow),
            u("物业管理科", "投诉物业", 1.2, Push),
            u("建设工程质量安全监督站", "办工程质量监督", 0.6, MildGreedy),
        ],
    ),
    (
        "区卫生健康委",
        &[
            u("医政医管科", "办医疗机构执业许可", 0.6, Plain),
            u("卫生监督执法支队", "办公共场所卫生许可证", 0.9, Fees),
            u("人口监测与家庭发展科", "办生育登记", 1.2, Slow),
            u("疾病预防控制科", "办预防接种证", 1.0, Plain),
        ],
    ),
    (
        "区税务局",
        &[
            u("办税服务厅", "办税", 3.0, Slow),
            u("纳税服务科", "咨询税收政策", 1.2, Cold),
            u("社会保险费征收科", "缴社保费", 1.8, Push),
            u("发票管理科", "领发票", 1.5, Plain),
        ],
    ),
    (
        "区城市管理局",
        &[
            u("城市管理审批科", "办户外广告审批", 0.6, Plain),
            u("市容环境卫生管理科", "处理占道经营", 1.0, Cold),
            u("市政设施管理科", "办道路开挖许可", 0.5, Slow),
            u("城市管理综合执法支队", "处理违章搭建", 1.2, Fees),
        ],
    ),
    (
        "区交通局",
        &[
            u("道路运输管理科", "办道路运输证", 1.2, Greedy),
            u("出租汽车管理科", "办出租车营运证", 0.8, Fees),
            u("公路养护管理科", "办涉路施工许可", 0.4, Plain),
            u("交通运输综合执法支队", "处理营运车辆违章", 1.0, Fees),
        ],
    ),
    (
        "区生态环境局",
        &[
            u("环境影响评价科", "办环评审批", 0.8, Slow),
            u("生态环境执法支队", "投诉噪声污染", 1.0, Push),
            u("排污许可科", "办排污许可证", 0.6, Plain),
            u("固体废物与化学品管理科", "办危险废物转移", 0.3, Plain),
        ],
    ),
    (
        "区农业农村委",
        &[
            u("农村经营管理科", "办土地流转", 1.0, Plain),
            u("农村宅基地管理科", "办宅基地审批", 1.2, Push),
            u("农产品质量安全科", "办农产品认证", 0.5, Plain),
            u("畜牧兽医科", "办动物检疫证明", 0.8, MildGreedy),
            u("种植业科", "领农资补贴", 1.0, Slow),
        ],
    ),
    (
        "区水利局",
        &[
            u("水资源管理科", "办取水许可", 0.5, Plain),
            u("河长制工作科", "投诉河道污染", 0.5, Push),
            u("农村供水管理科", "解决饮水问题", 0.9, Slow),
            u("水土保持科", "办水土保持方案审批", 0.4, Plain),
        ],
    ),
    (
        "区商务委",
        &[
            u("酒类流通管理科", "办酒类流通备案", 0.6, Fees),
            u("市场运行科", "办成品油零售许可", 0.4, Plain),
            u("对外贸易科", "办对外贸易备案", 0.4, Plain),
        ],
    ),
    (
        "区医保局",
        &[
            u("医保经办中心", "报销医药费", 2.8, Slow),
            u("待遇保障科", "办慢特病认定", 1.4, Push),
            u("医药价格和招标采购科", "反映药品价格", 0.4, Plain),
            u("基金监管科", "举报骗保", 0.3, Plain),
        ],
    ),
    (
        "区退役军人事务局",
        &[
            u("优抚科", "领优抚金", 0.9, Cold),
            u("移交安置科", "办安置手续", 0.5, Push),
            u("退役军人服务中心", "办优待证", 0.8, Slow),
        ],
    ),
    (
        "区应急管理局",
        &[
            u("安全生产许可科", "办安全生产许可证", 0.6, MildGreedy),
            u("危险化学品安全监督管理科", "办危化品经营许可", 0.4, Greedy),
            u("非煤矿山安全监督管理科", "办非煤矿山安全许可", 0.3, Plain),
        ],
    ),
    (
        "区司法局",
        &[
            u("公证处", "办公证", 1.5, Fees),
            u("法律援助中心", "申请法律援助", 0.8, Cold),
            u("公共法律服务管理科", "咨询法律问题", 0.7, Plain),
            u("人民调解科", "调解纠纷", 0.7, Push),
        ],
    ),
    (
        "区财政局",
        &[
            u("国库支付科", "拨付工程款", 0.8, Slow),
            u("政府采购监督管理科", "投诉政府采购", 0.5, MildGreedy),
            u("会计管理科", "办会计人员信息采集", 0.4, Plain),
            u("农业农村科", "领惠农补贴", 1.2, Slow),
        ],
    ),
    (
        "区发展改革委",
        &[
            u("固定资产投资科", "办项目立项", 0.7, Slow),
            u("价格认证中心", "做价格认定", 0.3, Fees),
            u("能源管理科", "办能源项目核准", 0.3, Plain),
        ],
    ),
    (
        "区经济信息委",
        &[
            u("中小企业服务科", "申请中小企业扶持资金", 0.7, Push),
            u("工业投资科", "报技改项目", 0.4, Plain),
            u("电力管理科", "协调用电报装", 0.8, Slow),
        ],
    ),
    (
        "区文化旅游委",
        &[
            u("文化市场管理科", "办网吧演出许可", 0.5, Fees),
            u("旅游市场管理科", "办旅行社许可", 0.5, Plain),
            u("文化遗产科", "办文物保护审批", 0.2, Plain),
            u("文化旅游综合执法支队", "投诉景区问题", 0.6, Cold),
        ],
    ),
    (
        "区林业局",
        &[
            u("林政资源管理科", "办林木采伐许可", 0.9, Greedy),
            u("森林防火科", "办野外用火审批", 0.3, Plain),
            u("野生动植物保护科", "办野生动物驯养许可", 0.3, Plain),
        ],
    ),
    (
        "区行政审批服务局",
        &[
            u("综合窗口科", "在政务服务中心办事", 2.5, Cold),
            u("投资项目审批科", "办投资项目审批", 0.7, Slow),
            u("社会事务审批科", "办社会事务审批", 0.8, Push),
            u("市场准入审批科", "办营业执照变更", 1.5, Plain),
            u("工程建设项目审批科", "办工程建设审批", 0.7, SlowPush),
        ],
    ),
    (
        "区住房公积金管理中心",
        &[
            u("归集管理科", "提取公积金", 1.5, Push),
            u("贷款管理科", "办公积金贷款", 1.2, Slow),
        ],
    ),
    (
        "区残联",
        &[
            u("组织联络科", "办残疾人证", 0.9, Cold),
            u("康复科", "申请残疾人康复救助", 0.6, Slow),
        ],
    ),
];

/// Units retired (merged or their function abolished) after the round of that index, so the
/// demo shows that history outlives a unit.
const RETIREMENTS: &[(&str, &str, usize)] = &[
    // 酒类流通备案 was abolished: the unit closes.
    ("区商务委", "酒类流通管理科", 7),
    // Taxi licensing merges into 道路运输管理科.
    ("区交通局", "出租汽车管理科", 12),
];

/// An article unit biased towards ranks `best..=worst` in the round of index `round`.
struct Script {
    agency: &'static str,
    unit: &'static str,
    round: usize,
    best: u32,
    worst: u32,
}

const SCRIPTS: &[Script] = &[
    // "2015年，南川区民政局殡仪馆两次评议均进入前10位": two consecutive early rounds.
    Script {
        agency: "区民政局",
        unit: "殡仪馆",
        round: 0,
        best: 4,
        worst: 8,
    },
    Script {
        agency: "区民政局",
        unit: "殡仪馆",
        round: 1,
        best: 5,
        worst: 9,
    },
    // "曾甩掉'最难办事科室'帽子的…城乡居民养老保险科".
    Script {
        agency: "区人力社保局",
        unit: "城乡居民养老保险科",
        round: 0,
        best: 3,
        worst: 9,
    },
    // "曾经两次'上榜'，位列第一和第四" (吴小琴), not consecutively: no removal.
    Script {
        agency: "区规划和自然资源局",
        unit: "不动产登记中心",
        round: 1,
        best: 1,
        worst: 1,
    },
    Script {
        agency: "区规划和自然资源局",
        unit: "不动产登记中心",
        round: 3,
        best: 4,
        worst: 4,
    },
    // "曾经，南川区教委基础教育科被评为'最难办事科室'第七名".
    Script {
        agency: "区教委",
        unit: "基础教育科",
        round: 2,
        best: 7,
        worst: 7,
    },
];

/// Heads named in the article: (agency, unit, name, still head today).
const ARTICLE_HEADS: &[(&str, &str, &str, bool)] = &[
    ("区规划和自然资源局", "不动产登记中心", "吴小琴", true),
    // "原…企业注册科科长周萍": she has since moved on.
    ("区市场监管局", "企业注册科", "周萍", false),
    ("区人力社保局", "城乡居民养老保险科", "刘高勇", true),
];

/// Comment templates per model indicator; `{s}` is the unit's service.
const COMMENTS: [&[&str]; 5] = [
    &[
        "态度生硬，问两句就不耐烦",
        "工作人员只顾玩手机，叫了几声才抬头",
        "老人不会用手机预约，窗口直接让回去自己想办法",
        "{s}时工作人员说话冷冰冰的，一点不体谅群众的难处",
        "咨询{s}的流程，回答就一句“自己看公告”",
        "排了两个小时队，到窗口被一句“下班了”打发走",
        "对农村来的群众爱理不理",
        "打电话咨询，没说完就被挂断",
    ],
    &[
        "窗口经常无人，等了一上午",
        "{s}拖了一个多月还没有结果",
        "上班时间过了半小时窗口还没人",
        "材料交了就石沉大海，催了几次都说在走流程",
        "承诺时限早就过了，一问就说领导还没签字",
        "中午提前半小时就不收件了",
        "网上申请提交后一直显示待审核",
        "为了{s}请了三天假，每次都说系统故障",
    ],
    &[
        "让我去别的部门开证明，来回跑了三趟",
        "为了{s}被推到街道，街道又推回来",
        "每次去都说缺一样材料，一次性告知做不到",
        "说不归他们管，也不说归谁管",
        "让先找村里盖章，村里说要等他们先出意见",
        "几个窗口互相推，谁都不愿意受理",
        "经办人换了就说之前的不算，要重新交材料",
        "{s}明明可以网上办，非要本人回来一趟",
    ],
    &[
        "收费标准不公开",
        "{s}要的材料每次都不一样",
        "同样的事，不同窗口说法不一样",
        "额外要求提供证明，文件上根本没有这一条",
        "指定要到某家中介办，不然不给受理",
        "排队秩序混乱，熟人可以插队",
        "{s}收了费不给正规票据",
        "办事指南和实际要求对不上",
    ],
    &[
        "办事人员暗示要请吃饭",
        "{s}要“意思意思”才能快点办",
        "不送点东西就一直卡着不办",
        "暗示找某人“打招呼”就好办",
        "要求买指定的产品才给通过验收",
        "检查时让我们报销吃住费用",
        "逢年过节暗示要“表示表示”",
        "不找关系就说材料不合格",
    ],
];

/// Surnames, the frequent ones repeated so they come up more often (冉、谭、向 are common in
/// Chongqing).
const SURNAMES: &[&str] = &[
    "王", "王", "李", "李", "张", "张", "刘", "刘", "陈", "陈", "杨", "杨", "黄", "赵", "吴", "周",
    "周", "徐", "孙", "马", "朱", "胡", "郭", "何", "何", "高", "林", "罗", "罗", "郑", "梁", "谢",
    "宋", "唐", "唐", "许", "韩", "冯", "邓", "邓", "曹", "彭", "曾", "肖", "田", "董", "袁", "潘",
    "蒋", "蔡", "余", "杜", "叶", "程", "苏", "魏", "吕", "丁", "任", "沈", "姚", "卢", "钟", "谭",
    "谭", "冉", "冉", "向", "向", "陆", "汪", "石", "廖", "贾", "夏", "付", "方", "邹", "熊", "秦",
    "江", "雷", "龙", "陶", "贺", "毛", "龚", "万", "严", "牟", "韦", "庞", "蒲", "傅",
];
const GIVEN_FIRST: [&[&str]; 2] = [
    &[
        "建", "志", "国", "永", "德", "明", "文", "海", "俊", "家", "小", "晓", "宏", "春", "世",
        "光", "天", "思", "子", "长",
    ],
    &[
        "小", "晓", "丽", "玉", "秀", "红", "雪", "思", "佳", "春", "海", "亚", "金", "美", "新",
        "梦", "欣", "翠", "桂", "文",
    ],
];
const GIVEN_LAST: [&[&str]; 2] = [
    &[
        "伟", "强", "军", "勇", "杰", "涛", "斌", "波", "辉", "刚", "明", "峰", "林", "华", "平",
        "国", "鹏", "成", "超", "亮", "宇", "浩", "飞", "兵", "东", "川", "江", "渝", "松", "林",
    ],
    &[
        "芳", "丽", "娟", "敏", "静", "燕", "艳", "霞", "玲", "萍", "红", "琴", "梅", "莉", "英",
        "兰", "琳", "婷", "倩", "雪", "慧", "颖", "丹", "月", "蓉", "群", "容", "洁", "菊", "媛",
    ],
];

/// One unit in the model: its latent difficulty (log scale) and how it moves.
struct ModelUnit {
    id: UnitId,
    spec: &'static UnitSpec,
    /// Long-run log difficulty the unit drifts back towards.
    base: f64,
    /// Current log difficulty.
    ln_d: f64,
    /// Relative weights of the five model indicators.
    profile: [f64; 5],
    active: bool,
    /// Index of the last round it was in the top N.
    last_top: Option<usize>,
    /// Consecutive rounds in the top 3, for the 免职 rules.
    top3_streak: u32,
    /// Never relapses nor meets a new problem (the article's units).
    steady: bool,
}

/// Planned post assignments; written once history is known, in date order, because
/// `assign_post` refuses a start earlier than a recorded later holder.
#[derive(Default)]
struct PostPlan {
    names: Vec<String>,
    used: BTreeSet<String>,
    /// (unit index, is head) → start date → person index.
    events: BTreeMap<(usize, bool), BTreeMap<NaiveDate, usize>>,
    /// Units supervised together by one leader.
    leader_groups: Vec<Vec<usize>>,
}

impl PostPlan {
    fn person(&mut self, name: String) -> usize {
        self.used.insert(name.clone());
        self.names.push(name);
        self.names.len() - 1
    }

    fn new_person(&mut self, rng: &mut ChaCha8Rng) -> usize {
        loop {
            let name = chinese_name(rng);
            if !self.used.contains(&name) {
                return self.person(name);
            }
        }
    }

    /// Records that `person` takes the post on `date` (the next free day if one is taken).
    fn assign(&mut self, unit: usize, head: bool, mut date: NaiveDate, person: usize) {
        let dates = self.events.entry((unit, head)).or_default();
        while dates.contains_key(&date) {
            date += Duration::days(1);
        }
        dates.insert(date, person);
    }

    /// A new head for a unit from `date`.
    fn replace_head(&mut self, rng: &mut ChaCha8Rng, unit: usize, date: NaiveDate) {
        let p = self.new_person(rng);
        self.assign(unit, true, date, p);
    }

    /// A new supervising leader from `date` for every unit the unit's leader supervises.
    fn replace_leader(&mut self, rng: &mut ChaCha8Rng, unit: usize, date: NaiveDate) {
        let p = self.new_person(rng);
        let group = self
            .leader_groups
            .iter()
            .find(|g| g.contains(&unit))
            .cloned()
            .unwrap_or_else(|| vec![unit]);
        for u in group {
            self.assign(u, false, date, p);
        }
    }
}

/// Seeds an EMPTY store with a realistic district; deterministic for a given seed.
///
/// Creates the agencies and units of 南川区, people with dated head and supervising-leader
/// posts, published rounds for the 20 quarters before `today`'s quarter, and an open round
/// for `today`'s quarter holding a few dozen ballots. Every timestamp is on or before
/// `today`. `progress` advances once per round.
pub async fn seed_district(
    store: &dyn Storage,
    settings: &Settings,
    today: NaiveDate,
    seed: u64,
    progress: &ProgressBar,
) -> Result<DemoSummary> {
    ensure!(
        store.agencies().await?.is_empty() && store.rounds().await?.is_empty(),
        "the demo district can only be seeded into an empty database"
    );
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let actor = Actor::system();
    let round_settings = settings.round_settings();
    let positions = model_positions(&round_settings);

    // The organisation.
    let mut units: Vec<ModelUnit> = Vec::new();
    let mut by_name: BTreeMap<(String, String), usize> = BTreeMap::new();
    let mut agency_units: Vec<Vec<usize>> = Vec::new();
    for (agency_name, specs) in DISTRICT {
        let agency = store
            .create_agency(agency_name)
            .await
            .with_context(|| format!("creating {agency_name}"))?;
        let mut members = Vec::new();
        for spec in specs.iter() {
            let unit = store
                .create_unit(agency.id, spec.name, &settings.unit_kind)
                .await
                .with_context(|| format!("creating {agency_name} {}", spec.name))?;
            by_name.insert(
                (agency_name.to_string(), spec.name.to_string()),
                units.len(),
            );
            members.push(units.len());
            units.push(new_model_unit(&mut rng, unit.id, spec));
        }
        agency_units.push(members);
    }
    let index = |agency: &str, unit: &str| -> Result<usize> {
        by_name
            .get(&(agency.to_string(), unit.to_string()))
            .copied()
            .with_context(|| format!("{agency} {unit} is missing from the catalogue"))
    };
    // The article units rectified for good after their time in the list ("最差"变"最优"):
    // a low long-run difficulty and no relapses, so they stay off the list once their
    // biased rounds are over.
    for (agency, unit) in ARTICLE_UNITS {
        let i = index(agency, unit)?;
        units[i].base = -1.0 + 0.1 * normal(&mut rng);
        units[i].ln_d = units[i].base;
        units[i].steady = true;
    }
    let by_id: BTreeMap<UnitId, usize> = units.iter().enumerate().map(|(i, u)| (u.id, i)).collect();

    // The calendar: PAST_ROUNDS quarters before today's, then today's.
    let current = RoundLabel::containing(today);
    let quarter_index = current.year() as i64 * 4 + current.quarter() as i64 - 1;
    let labels = (0..=PAST_ROUNDS as i64)
        .map(|k| {
            let q = quarter_index - PAST_ROUNDS as i64 + k;
            RoundLabel::new((q / 4) as u16, (q % 4 + 1) as u8)
                .with_context(|| format!("no quarter {PAST_ROUNDS} quarters before {current}"))
        })
        .collect::<Result<Vec<_>>>()?;
    let first_start = quarter_start(labels[0]);

    let mut plan = plan_posts(&mut rng, &units, &agency_units, first_start, today, &index)?;

    progress.set_length(labels.len() as u64);
    let mut ballots_total = 0u64;
    let cap = at_local(settings, today, 12, 0);
    for (r, &label) in labels[..PAST_ROUNDS].iter().enumerate() {
        progress.set_message(label.to_string());
        let start = quarter_start(label);
        let next = quarter_start(label.next());
        let [created, opened, closed, finalized, published] = clamp_steps(
            [
                at_local(settings, start - Duration::days(10), 10, 0),
                at_local(settings, start, 9, 0),
                at_local(settings, next + Duration::days(13), 17, 30),
                at_local(settings, next + Duration::days(16), 10, 0),
                at_local(settings, next + Duration::days(18), 9, 0),
            ],
            cap,
        );
        let round = store
            .create_round(label, &round_settings, &actor, created)
            .await
            .with_context(|| format!("creating round {label}"))?;
        store
            .transition_round(
                round.id,
                RoundState::Draft,
                RoundState::Open,
                &actor,
                opened,
            )
            .await?;

        let scripts: Vec<(usize, u32, u32)> = SCRIPTS
            .iter()
            .filter(|s| s.round == r)
            .map(|s| Ok((index(s.agency, s.unit)?, s.best, s.worst)))
            .collect::<Result<_>>()?;
        // The bias is for this round only: afterwards the unit carries on from where it was.
        let unbiased: Vec<(usize, f64)> = scripts.iter().map(|s| (s.0, units[s.0].ln_d)).collect();
        for &(i, best, worst) in &scripts {
            aim_at_rank(&mut units, i, &scripts, (best + worst) / 2);
        }
        let directed = (PANEL_SIZE * rng.gen_range(0.70..0.90)).round() as usize;
        let open = rng.gen_range(200..=400);
        let trend = r as f64 / PAST_ROUNDS as f64;
        let shape = BallotShape {
            positions: &positions,
            trend,
        };
        let days = (next - start).num_days();
        let method = Method::weighted_nominations(&round.settings);
        // A round that should show an article unit at some rank keeps the closest of a
        // few candidate ballot sets: every candidate is an honest sample of the model.
        let mut best: Option<(u32, Vec<(NaiveDate, Ballot)>)> = None;
        for _ in 0..if scripts.is_empty() { 1 } else { ATTEMPTS } {
            let ballots = generate(&mut rng, &units, &shape, directed, open, start, days);
            let off = scripts
                .iter()
                .map(|&(i, lo, hi)| miss(&ballots, &method, units[i].id, lo, hi))
                .sum::<u32>();
            if best.as_ref().is_none_or(|(m, _)| off < *m) {
                best = Some((off, ballots));
            }
            if off == 0 {
                break;
            }
        }
        let (_, ballots) = best.context("no ballots generated")?;
        ballots_total += insert(store, &mut rng, round.id, ballots).await?;

        store
            .transition_round(
                round.id,
                RoundState::Open,
                RoundState::Closed,
                &actor,
                closed,
            )
            .await?;
        let n = round.settings.indicators.len();
        let ranking = ranking::rank(
            &store.tallies(round.id, n).await?,
            &method,
            &BTreeMap::new(),
        );
        let frozen = FrozenRanking { method, ranking };
        store
            .finalize_round(round.id, &frozen, &actor, finalized)
            .await?;
        store
            .transition_round(
                round.id,
                RoundState::Finalized,
                RoundState::Published,
                &actor,
                published,
            )
            .await?;
        let top: Vec<i64> = frozen.ranking.top().map(|e| e.unit_id.0).collect();
        tracing::debug!(round = %label, ?top, "demo round published");

        let publication = published.with_timezone(&settings.tz()).date_naive();
        apply_accountability(
            &mut rng,
            &mut units,
            &by_id,
            &mut plan,
            &frozen,
            publication,
            today,
        );
        for (i, ln_d) in unbiased {
            units[i].ln_d = units[i].ln_d.min(ln_d);
        }
        evolve(&mut rng, &mut units, &frozen, r);
        for &(agency, unit, after) in RETIREMENTS {
            if after == r {
                let i = index(agency, unit)?;
                store.set_unit_active(units[i].id, false).await?;
                units[i].active = false;
            }
        }
        progress.inc(1);
    }

    // Today's quarter: open, with the first few dozen ballots in.
    let label = labels[PAST_ROUNDS];
    progress.set_message(label.to_string());
    let start = quarter_start(label);
    let [created, opened] = clamp_steps(
        [
            at_local(settings, start - Duration::days(10), 10, 0),
            at_local(settings, start, 9, 0),
        ],
        cap,
    );
    let round = store
        .create_round(label, &round_settings, &actor, created)
        .await
        .with_context(|| format!("creating round {label}"))?;
    store
        .transition_round(
            round.id,
            RoundState::Draft,
            RoundState::Open,
            &actor,
            opened,
        )
        .await?;
    let count = rng.gen_range(30..=60usize);
    let directed = count * 3 / 5;
    let shape = BallotShape {
        positions: &positions,
        trend: 1.0,
    };
    let days = (today - start).num_days() + 1;
    let ballots = generate(
        &mut rng,
        &units,
        &shape,
        directed,
        count - directed,
        start,
        days,
    );
    ballots_total += insert(store, &mut rng, round.id, ballots).await?;
    progress.inc(1);

    let people = write_posts(store, &plan, &units).await?;
    let summary = DemoSummary {
        agencies: DISTRICT.len(),
        units: units.len(),
        people,
        rounds_published: PAST_ROUNDS,
        ballots: ballots_total,
        open_round: round.id,
    };
    tracing::info!(?summary, "demo district seeded");
    Ok(summary)
}

fn new_model_unit(rng: &mut ChaCha8Rng, id: UnitId, spec: &'static UnitSpec) -> ModelUnit {
    // The district-wide mix: 懒 and 冷 and 推 are what people meet most, 贪 is rare.
    let mix = [1.0, 1.1, 1.0, 0.6, 0.06];
    let lean = spec.lean.multipliers();
    let mut profile = [0.0; 5];
    for i in 0..5 {
        profile[i] = mix[i] * lean[i] * (0.35 * normal(rng)).exp();
    }
    let base = 0.4 * normal(rng);
    ModelUnit {
        id,
        spec,
        base,
        ln_d: base + 0.3 * normal(rng),
        profile,
        active: true,
        last_top: None,
        top3_streak: 0,
        steady: false,
    }
}

/// Where each model indicator sits in the round's set. A deployment with other indicators
/// still gets valid ballots: a missing code falls back to a position by order.
fn model_positions(settings: &RoundSettings) -> [usize; 5] {
    let len = settings.indicators.len().max(1);
    let mut out = [0; 5];
    for (i, code) in MODEL_CODES.iter().enumerate() {
        out[i] = settings.indicators.position(code).unwrap_or(i % len);
    }
    out
}

/// Initial heads and leaders, later rotations, and the article's heads.
fn plan_posts(
    rng: &mut ChaCha8Rng,
    units: &[ModelUnit],
    agency_units: &[Vec<usize>],
    first_start: NaiveDate,
    today: NaiveDate,
    index: &dyn Fn(&str, &str) -> Result<usize>,
) -> Result<PostPlan> {
    let mut plan = PostPlan::default();
    for (_, _, name, _) in ARTICLE_HEADS {
        plan.used.insert((*name).to_string());
    }
    let mut pinned = BTreeMap::new();
    for &(agency, unit, name, stays) in ARTICLE_HEADS {
        pinned.insert(index(agency, unit)?, (name, stays));
    }
    // Rotations fall strictly inside the history, never after today.
    let span = (today - first_start).num_days().max(60);
    let within = |rng: &mut ChaCha8Rng| first_start + Duration::days(rng.gen_range(30..span - 20));

    for (i, _) in units.iter().enumerate() {
        let since = first_start - Duration::days(rng.gen_range(90..2200));
        match pinned.get(&i) {
            Some(&(name, stays)) => {
                let p = plan.person(name.to_string());
                plan.assign(i, true, since, p);
                if !stays {
                    // A successor about two years into the history.
                    let date = first_start + Duration::days(span.min(800) - rng.gen_range(0..60));
                    plan.replace_head(rng, i, date);
                }
            }
            None => {
                let p = plan.new_person(rng);
                plan.assign(i, true, since, p);
                let changes = match rng.gen_range(0..100) {
                    0..=5 => 2,
                    6..=32 => 1,
                    _ => 0,
                };
                for _ in 0..changes {
                    let date = within(rng);
                    plan.replace_head(rng, i, date);
                }
            }
        }
    }
    // Each deputy (副局长) supervises a few units of the agency.
    for members in agency_units {
        let leaders = members.len().div_ceil(2).clamp(1, 3);
        for l in 0..leaders {
            let group: Vec<usize> = members.iter().copied().skip(l).step_by(leaders).collect();
            plan.leader_groups.push(group.clone());
            let p = plan.new_person(rng);
            let since = first_start - Duration::days(rng.gen_range(180..1800));
            for &u in &group {
                plan.assign(u, false, since, p);
            }
            if rng.gen_bool(0.3) {
                let date = within(rng);
                plan.replace_leader(rng, group[0], date);
            }
        }
    }
    Ok(plan)
}

/// The accountability rules' effect on posts: top 3 in two consecutive rounds removes the
/// head (免职), three consecutive the supervising leader, a few weeks after publication.
fn apply_accountability(
    rng: &mut ChaCha8Rng,
    units: &mut [ModelUnit],
    by_id: &BTreeMap<UnitId, usize>,
    plan: &mut PostPlan,
    frozen: &FrozenRanking,
    published: NaiveDate,
    today: NaiveDate,
) {
    let top3: BTreeSet<usize> = frozen
        .ranking
        .entries
        .iter()
        .filter(|e| e.rank <= 3)
        .filter_map(|e| by_id.get(&e.unit_id).copied())
        .collect();
    for (i, unit) in units.iter_mut().enumerate() {
        unit.top3_streak = if top3.contains(&i) {
            unit.top3_streak + 1
        } else {
            0
        };
        let date = published + Duration::days(rng.gen_range(10..40));
        if date > today {
            continue;
        }
        match unit.top3_streak {
            2 => plan.replace_head(rng, i, date),
            3 => plan.replace_leader(rng, i, date),
            _ => continue,
        }
        // A new head or leader starts by fixing what got the predecessor removed.
        unit.ln_d = unit.ln_d.min(unit.base);
    }
}

/// Moves every unit's difficulty to the next quarter.
fn evolve(rng: &mut ChaCha8Rng, units: &mut [ModelUnit], frozen: &FrozenRanking, r: usize) {
    let top: BTreeMap<UnitId, u32> = frozen.ranking.top().map(|e| (e.unit_id, e.rank)).collect();
    for unit in units.iter_mut() {
        if let Some(&rank) = top.get(&unit.id) {
            // 约谈, 整改: the listed unit fixes much of what people named, and some of it
            // sticks for good. The top 3 face removal next time, so they try hardest.
            unit.ln_d -= if rank <= 3 {
                rng.gen_range(0.6..1.0)
            } else {
                rng.gen_range(0.35..0.75)
            };
            unit.base -= rng.gen_range(0.1..0.3);
            unit.last_top = Some(r);
        } else if unit.last_top.is_some_and(|t| r - t >= 4) && rng.gen_bool(0.07) && !unit.steady {
            // "服务稍有不到位，民意就会反弹": vigilance fades, the unit relapses.
            unit.ln_d += rng.gen_range(0.5..0.9);
        }
        if rng.gen_bool(0.025) && !unit.steady {
            // A new problem: a staff change, a new procedure, a backlog.
            unit.ln_d += rng.gen_range(0.4..0.8);
        }
        unit.ln_d += 0.15 * (unit.base - unit.ln_d) + 0.12 * normal(rng);
    }
}

/// Sets unit `i`'s difficulty so its expected nominations fall between the other units'
/// `rank - 1`-th and `rank`-th, i.e. it is expected at `rank`.
fn aim_at_rank(units: &mut [ModelUnit], i: usize, scripts: &[(usize, u32, u32)], rank: u32) {
    let mut others: Vec<f64> = units
        .iter()
        .enumerate()
        .filter(|(j, u)| u.active && !scripts.iter().any(|s| s.0 == *j))
        .map(|(_, u)| nomination_weight(u))
        .collect();
    others.sort_by(|a, b| b.total_cmp(a));
    let k = (rank.max(1) as usize).min(others.len());
    let w = if k == 1 {
        others[0] * 1.25
    } else {
        (others[k - 2] * others[k - 1]).sqrt()
    };
    units[i].ln_d = (w / reach(units[i].spec)).ln();
}

/// How likely a respondent is to name a unit: difficulty × how often people deal with it.
fn nomination_weight(u: &ModelUnit) -> f64 {
    if u.active {
        u.ln_d.exp() * reach(u.spec)
    } else {
        0.0
    }
}

/// How much a unit's traffic adds to its nominations. Damped: a busy window meets more
/// people but is also more used to crowds, and undamped the three busiest units would hold
/// the top of the list every quarter.
fn reach(spec: &UnitSpec) -> f64 {
    spec.traffic.powf(0.8)
}

/// How far a unit's rank in a candidate ballot set is from `lo..=hi`.
fn miss(ballots: &[(NaiveDate, Ballot)], method: &Method, unit: UnitId, lo: u32, hi: u32) -> u32 {
    let tallies = ranking::tally(
        ballots
            .iter()
            .flat_map(|(_, b)| b.nominations.iter().map(move |n| (b.channel, n))),
        method.indicators.len(),
    );
    let ranked = ranking::rank(&tallies, method, &BTreeMap::new());
    let rank = ranked
        .entries
        .iter()
        .find(|e| e.unit_id == unit)
        .map_or(u32::MAX / 2, |e| e.rank);
    lo.saturating_sub(rank) + rank.saturating_sub(hi)
}

/// Per-round knobs of the ballot model.
struct BallotShape<'a> {
    positions: &'a [usize; 5],
    /// 0 in the first round, 1 in the last: people name fewer units as the district improves.
    trend: f64,
}

/// One round's ballots, sorted by the day they arrived.
fn generate(
    rng: &mut ChaCha8Rng,
    units: &[ModelUnit],
    shape: &BallotShape<'_>,
    directed: usize,
    open: usize,
    start: NaiveDate,
    days: i64,
) -> Vec<(NaiveDate, Ballot)> {
    let nom_w: Vec<f64> = units.iter().map(nomination_weight).collect();
    let exp_w: Vec<f64> = units
        .iter()
        .map(|u| if u.active { u.spec.traffic } else { 0.0 })
        .collect();
    let mut out = Vec::with_capacity(directed + open);
    for k in 0..directed + open {
        let channel = if k < directed {
            Channel::Directed
        } else {
            Channel::Open
        };
        // Open-channel respondents chose to write in: they comment more.
        let comment_p = if channel == Channel::Open { 0.38 } else { 0.27 };
        let ballot = generate_ballot(rng, units, &nom_w, &exp_w, shape, channel, comment_p);
        let day = start + Duration::days(rng.gen_range(0..days.max(1)));
        out.push((day, ballot));
    }
    out.sort_by_key(|(day, _)| *day);
    out
}

fn generate_ballot(
    rng: &mut ChaCha8Rng,
    units: &[ModelUnit],
    nom_w: &[f64],
    exp_w: &[f64],
    shape: &BallotShape<'_>,
    channel: Channel,
    comment_p: f64,
) -> Ballot {
    let mut named = match rng.gen_range(0..100) {
        0..=21 => 1,
        22..=48 => 2,
        49..=70 => 3,
        71..=84 => 4,
        85..=93 => 5,
        _ => rng.gen_range(6..=10),
    };
    if named > 1 && rng.gen_bool(0.3 * shape.trend) {
        named -= 1;
    }
    let mut chosen = Vec::with_capacity(10);
    draw_distinct(rng, nom_w, named, &mut chosen);
    let nominations = chosen
        .iter()
        .map(|&i| {
            let unit = &units[i];
            let ticks = match rng.gen_range(0..100) {
                0..=49 => 1,
                50..=84 => 2,
                _ => 3,
            };
            let mut picked = Vec::with_capacity(3);
            draw_distinct(rng, &unit.profile, ticks, &mut picked);
            let indicators = picked
                .iter()
                .fold(IndicatorMask::default(), |m, &p| m.with(shape.positions[p]));
            let comment = rng.gen_bool(comment_p).then(|| {
                let about = picked[rng.gen_range(0..picked.len())];
                let templates = COMMENTS[about];
                templates[rng.gen_range(0..templates.len())].replace("{s}", unit.spec.service)
            });
            Nomination {
                unit_id: unit.id,
                indicators,
                comment,
            }
        })
        .collect();
    // The units dealt with this quarter: the named ones and a few others.
    let dealt = rng.gen_range(2..=6usize).max(chosen.len());
    let extra = dealt - chosen.len();
    draw_distinct(rng, exp_w, extra, &mut chosen);
    Ballot {
        channel,
        code: None,
        nominations,
        exposure: chosen.iter().map(|&i| units[i].id).collect(),
    }
}

/// Draws up to `k` more distinct indices, proportionally to `weights`, skipping those in
/// `taken`; appends them to `taken`.
fn draw_distinct(rng: &mut ChaCha8Rng, weights: &[f64], k: usize, taken: &mut Vec<usize>) {
    let mut w = weights.to_vec();
    for &t in taken.iter() {
        w[t] = 0.0;
    }
    for _ in 0..k {
        let total: f64 = w.iter().sum();
        if total <= 0.0 {
            return;
        }
        let mut x = rng.gen_range(0.0..total);
        let mut pick = None;
        for (i, &wi) in w.iter().enumerate() {
            if wi <= 0.0 {
                continue;
            }
            pick = Some(i);
            if x < wi {
                break;
            }
            x -= wi;
        }
        let Some(i) = pick else { return };
        taken.push(i);
        w[i] = 0.0;
    }
}

/// Stores a round's ballots in batches; returns how many were stored.
async fn insert(
    store: &dyn Storage,
    rng: &mut ChaCha8Rng,
    round: RoundId,
    ballots: Vec<(NaiveDate, Ballot)>,
) -> Result<u64> {
    let mut stored = 0u64;
    let mut batch = Vec::with_capacity(BATCH);
    let mut ballots = ballots.into_iter().peekable();
    while let Some((received_on, ballot)) = ballots.next() {
        // Historical directed ballots predate this round's codes: no code is spent.
        let receipt = Receipt::generate(rng);
        batch.push(NewBallot::new(round, ballot, receipt, received_on, None));
        if batch.len() == BATCH || ballots.peek().is_none() {
            for outcome in store.insert_ballots(&batch).await? {
                if let Err(e) = outcome {
                    bail!("a demo ballot was refused: {e}");
                }
            }
            stored += batch.len() as u64;
            batch.clear();
        }
    }
    Ok(stored)
}

/// Creates the people and their posts, in date order; returns how many people.
async fn write_posts(store: &dyn Storage, plan: &PostPlan, units: &[ModelUnit]) -> Result<usize> {
    let mut events: Vec<(NaiveDate, usize, bool, usize)> = plan
        .events
        .iter()
        .flat_map(|(&(unit, head), dates)| {
            dates
                .iter()
                .map(move |(&date, &person)| (date, unit, !head, person))
        })
        .collect();
    events.sort();
    let mut ids: Vec<Option<PersonId>> = vec![None; plan.names.len()];
    let mut people = 0;
    for (date, unit, leader, person) in events {
        let id = match ids[person] {
            Some(id) => id,
            None => {
                let created = store.create_person(&plan.names[person]).await?;
                people += 1;
                ids[person] = Some(created.id);
                created.id
            }
        };
        let role = if leader {
            PostRole::SupervisingLeader
        } else {
            PostRole::Head
        };
        store
            .assign_post(id, units[unit].id, role, date)
            .await
            .with_context(|| format!("assigning {} on {date}", plan.names[person]))?;
    }
    Ok(people)
}

/// A plausible Chinese name: a surname and one or two given-name characters.
fn chinese_name(rng: &mut ChaCha8Rng) -> String {
    let g = rng.gen_range(0..2);
    let mut name = SURNAMES[rng.gen_range(0..SURNAMES.len())].to_string();
    if rng.gen_bool(0.7) {
        name.push_str(GIVEN_FIRST[g][rng.gen_range(0..GIVEN_FIRST[g].len())]);
    }
    name.push_str(GIVEN_LAST[g][rng.gen_range(0..GIVEN_LAST[g].len())]);
    name
}

/// A standard normal draw (Box–Muller), to keep the dependencies to `rand` alone.
fn normal(rng: &mut ChaCha8Rng) -> f64 {
    let u1: f64 = rng.gen_range(f64::EPSILON..1.0);
    let u2: f64 = rng.gen_range(0.0..1.0);
    (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
}

/// The first day of a quarter.
fn quarter_start(label: RoundLabel) -> NaiveDate {
    NaiveDate::from_ymd_opt(label.year() as i32, 3 * (label.quarter() as u32 - 1) + 1, 1)
        .expect("a quarter's first day exists")
}

/// A wall-clock time on a day in the deployment's time zone.
fn at_local(settings: &Settings, date: NaiveDate, hour: u32, minute: u32) -> DateTime<Utc> {
    let naive = date
        .and_hms_opt(hour, minute, 0)
        .expect("valid time of day");
    settings
        .tz()
        .from_local_datetime(&naive)
        .earliest()
        .map_or_else(|| Utc.from_utc_datetime(&naive), |t| t.with_timezone(&Utc))
}

/// Keeps a round's step times in order and never after `cap` (midday of `today`): the last
/// round may have closed later than a real calendar would allow, but never in the future.
fn clamp_steps<const N: usize>(
    steps: [DateTime<Utc>; N],
    cap: DateTime<Utc>,
) -> [DateTime<Utc>; N] {
    let mut out = steps;
    for (k, t) in out.iter_mut().enumerate() {
        let latest = cap - Duration::minutes(10 * (N - 1 - k) as i64);
        *t = (*t).min(latest);
    }
    out
}

/// Towns of the district with their postcodes, for panel members' addresses.
const TOWNS: &[(&str, &str)] = &[
    ("东城街道", "408400"),
    ("南城街道", "408400"),
    ("西城街道", "408400"),
    ("南平镇", "408421"),
    ("神童镇", "408422"),
    ("鸣玉镇", "408423"),
    ("大观镇", "408424"),
    ("兴隆镇", "408425"),
    ("太平场镇", "408426"),
    ("白沙镇", "408427"),
    ("水江镇", "408428"),
    ("石墙镇", "408429"),
    ("金山镇", "408431"),
    ("头渡镇", "408432"),
    ("大有镇", "408433"),
    ("合溪镇", "408434"),
    ("德隆镇", "408435"),
    ("庆元镇", "408436"),
    ("古花镇", "408437"),
    ("三泉镇", "408438"),
    ("山王坪镇", "408439"),
];

const STREETS: &[&str] = &[
    "金佛大道",
    "渝南大道",
    "南湖路",
    "东街",
    "西街",
    "隆化路",
    "滨江路",
    "建设路",
    "新华路",
    "文化路",
];

const COMPANIES: &[&str] = &[
    "建材",
    "物流",
    "食品",
    "旅游开发",
    "农业科技",
    "茶业",
    "汽配",
    "商贸",
    "餐饮管理",
    "建筑工程",
];

/// How many members the demo panel registers.
pub const DEMO_PANEL: usize = 5_200;

/// Registers a demo panel (定向评议名单库) of [`DEMO_PANEL`] people who dealt with the
/// district's units: businesses, individual service users, deputies, community
/// representatives, with plausible addresses and phones. Deterministic for a seed.
pub async fn seed_panel(
    store: &dyn Storage,
    settings: &Settings,
    today: NaiveDate,
    seed: u64,
) -> Result<usize> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed ^ 0x5eed_9a9e);
    let units: Vec<String> = store
        .units()
        .await?
        .into_iter()
        .filter(|u| u.active)
        .map(|u| u.name)
        .collect();
    let groups: Vec<&str> = settings
        .panel
        .groups
        .iter()
        .map(|g| g.code.as_str())
        .collect();
    // Shares of the registry per group, in the settings' order (default four groups).
    let weights = [0.45, 0.40, 0.08, 0.07];
    let mut members = Vec::with_capacity(DEMO_PANEL);
    for i in 0..DEMO_PANEL {
        let roll: f64 = rng.gen_range(0.0..1.0);
        let mut acc = 0.0;
        let mut g = groups.len() - 1;
        for (k, w) in weights.iter().enumerate().take(groups.len()) {
            acc += w;
            if roll < acc {
                g = k;
                break;
            }
        }
        let (town, postcode) = TOWNS[rng.gen_range(0..TOWNS.len())];
        let street = STREETS[rng.gen_range(0..STREETS.len())];
        let person = chinese_name(&mut rng);
        let name = if groups[g] == "enterprise" && rng.gen_bool(0.5) {
            let surname: String = person.chars().take(1).collect();
            let trade = COMPANIES[rng.gen_range(0..COMPANIES.len())];
            format!("{person}（南川区{surname}氏{trade}有限公司）")
        } else {
            person
        };
        let dealt: Vec<String> = (0..rng.gen_range(1..4))
            .map(|_| units[rng.gen_range(0..units.len())].clone())
            .collect();
        members.push(NewMember {
            name,
            group: groups[g].to_string(),
            address: format!("重庆市南川区{town}{street}{}号", rng.gen_range(1..400)),
            postcode: postcode.to_string(),
            phone: format!(
                "1{}{:09}",
                [3, 5, 7, 8, 9][rng.gen_range(0..5)],
                100_000_000 + i as u64 * 7919 % 900_000_000
            ),
            units: dealt,
            source: [
                "政务服务大厅登记",
                "企业服务台账",
                "人大政协名册",
                "社区推荐",
            ][g.min(3)]
            .to_string(),
            added_on: today - chrono::Days::new(rng.gen_range(30..1500)),
        });
    }
    let added = store.add_members(&members).await?;
    Ok(added.iter().filter(|id| id.is_some()).count())
}

#[cfg(test)]
mod tests {
    use super::*;
    use minping_storage::SqliteStore;

    fn today() -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 11, 27).unwrap()
    }

    async fn seeded(seed: u64) -> (tempfile::TempDir, SqliteStore, DemoSummary) {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open(&dir.path().join("t.db")).await.unwrap();
        let started = std::time::Instant::now();
        let summary = seed_district(
            &store,
            &Settings::default(),
            today(),
            seed,
            &ProgressBar::hidden(),
        )
        .await
        .unwrap();
        eprintln!("seeded in {:?}: {summary:?}", started.elapsed());
        (dir, store, summary)
    }

    /// Each published round's ranking as (unit, rank, score), oldest round first.
    async fn rankings(store: &SqliteStore) -> Vec<(String, Vec<(i64, u32, i64)>)> {
        let mut out = Vec::new();
        for round in store.rounds().await.unwrap().into_iter().rev() {
            if let Some(frozen) = store.frozen_ranking(round.id).await.unwrap() {
                let lines = frozen
                    .ranking
                    .entries
                    .iter()
                    .map(|e| (e.unit_id.0, e.rank, e.score_milli))
                    .collect();
                out.push((round.label.to_string(), lines));
            }
        }
        out
    }

    #[tokio::test]
    async fn the_demo_district_has_years_of_realistic_history_and_is_reproducible() {
        let (_dir, store, summary) = seeded(2014).await;

        let agencies = store.agencies().await.unwrap();
        let units = store.units().await.unwrap();
        assert!(agencies.len() >= 25, "{} agencies", agencies.len());
        assert!(units.len() >= 90, "{} units", units.len());
        assert_eq!(
            (summary.agencies, summary.units),
            (agencies.len(), units.len())
        );
        for (agency, name) in ARTICLE_UNITS {
            assert!(
                units
                    .iter()
                    .any(|u| u.agency == agency && u.name == name && u.kind == "科室"),
                "{agency} {name} is missing"
            );
        }
        assert!(units.iter().any(|u| !u.active), "a unit was retired");

        let rounds = store.rounds().await.unwrap();
        let published: Vec<_> = rounds
            .iter()
            .filter(|r| r.state == RoundState::Published)
            .collect();
        let open: Vec<_> = rounds
            .iter()
            .filter(|r| r.state == RoundState::Open)
            .collect();
        assert!(published.len() >= 16, "{} published", published.len());
        assert_eq!(open.len(), 1);
        assert_eq!(open[0].label.to_string(), "2026Q4");
        assert_eq!(open[0].id, summary.open_round);
        assert_eq!(
            rounds.len(),
            published.len() + 1,
            "no round in another state"
        );
        let in_open = store.ballot_count(open[0].id).await.unwrap();
        assert!(
            (20..=100).contains(&in_open),
            "{in_open} ballots in the open round"
        );

        // Every published round has a frozen ranking of at least 10 units; the top 10
        // changes, and units listed once leave the list later.
        let mut tops: Vec<BTreeSet<UnitId>> = Vec::new();
        let mut ranks: Vec<BTreeMap<UnitId, u32>> = Vec::new();
        for round in published.iter().rev() {
            let frozen = store
                .frozen_ranking(round.id)
                .await
                .unwrap()
                .expect("frozen");
            assert!(frozen.ranking.entries.len() >= 10, "{}", round.label);
            tops.push(frozen.ranking.top().map(|e| e.unit_id).collect());
            ranks.push(
                frozen
                    .ranking
                    .entries
                    .iter()
                    .map(|e| (e.unit_id, e.rank))
                    .collect(),
            );
            let t = store.transitions(round.id).await.unwrap();
            assert!(
                t.windows(2).all(|w| w[0].at <= w[1].at),
                "{} steps in order",
                round.label
            );
            assert!(
                t.iter().all(|s| s.at.date_naive() <= today()),
                "{} not in the future",
                round.label
            );
        }
        assert!(
            tops.windows(2).any(|w| w[0] != w[1]),
            "the top 10 never changes"
        );
        // For this seed the article's story shows: 殡仪馆 listed in two consecutive early
        // rounds and not in the last two years, 不动产登记中心 at ranks 1 and 4, 基础教育科 at 7.
        let id_of = |agency: &str, name: &str| {
            units
                .iter()
                .find(|u| u.agency == agency && u.name == name)
                .unwrap()
                .id
        };
        let funeral = id_of("区民政局", "殡仪馆");
        assert!(tops[0].contains(&funeral) && tops[1].contains(&funeral));
        assert!(tops[tops.len() - 8..].iter().all(|t| !t.contains(&funeral)));
        let ranks_of = |unit: UnitId| -> Vec<u32> {
            ranks.iter().filter_map(|r| r.get(&unit).copied()).collect()
        };
        let registry = ranks_of(id_of("区规划和自然资源局", "不动产登记中心"));
        assert!(
            registry.contains(&1) && registry.contains(&4),
            "{registry:?}"
        );
        let education = ranks_of(id_of("区教委", "基础教育科"));
        assert!(education.contains(&7), "{education:?}");
        let ever: BTreeSet<UnitId> = tops.iter().flatten().copied().collect();
        assert!(ever.len() > 20, "only {} units ever listed", ever.len());
        let dropped_out = tops.iter().enumerate().any(|(i, top)| {
            top.iter()
                .any(|u| tops[i + 1..].iter().any(|later| !later.contains(u)))
        });
        assert!(dropped_out, "no listed unit ever left the list");

        // Every unit has a head; heads change over the years; the article's people are there.
        let posts = store.posts().await.unwrap();
        for unit in &units {
            assert!(
                posts
                    .iter()
                    .any(|p| p.unit_id == unit.id && p.role == PostRole::Head),
                "{} {} has no head",
                unit.agency,
                unit.name
            );
            assert!(
                posts
                    .iter()
                    .any(|p| p.unit_id == unit.id && p.role == PostRole::SupervisingLeader),
                "{} {} has no supervising leader",
                unit.agency,
                unit.name
            );
        }
        assert!(
            posts
                .iter()
                .any(|p| p.role == PostRole::Head && p.end.is_some()),
            "no head ever changed"
        );
        let people = store.people().await.unwrap();
        assert_eq!(people.len(), summary.people);
        for name in ["吴小琴", "周萍", "刘高勇"] {
            assert!(people.iter().any(|p| p.name == name), "{name}");
        }
        let total: u64 = {
            let mut n = 0;
            for r in &rounds {
                n += store.ballot_count(r.id).await.unwrap();
            }
            n
        };
        assert_eq!(total, summary.ballots);

        // A second store with the same seed holds the same history.
        let (_dir2, again, summary2) = seeded(2014).await;
        assert_eq!(summary, summary2);
        assert_eq!(rankings(&store).await, rankings(&again).await);

        // Seeding is only for an empty store.
        let err = seed_district(
            &store,
            &Settings::default(),
            today(),
            1,
            &ProgressBar::hidden(),
        )
        .await;
        assert!(err.is_err());
    }
}

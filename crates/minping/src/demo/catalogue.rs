//! What the demo district is made of: the agencies and units of 南川区 with how people deal
//! with them, the article's units, heads and story, comment templates, and the places panel
//! members live. Data only.

use Lean::*;

/// The units the article names, as (agency, unit); the demo always holds them.
pub const ARTICLE_UNITS: [(&str, &str); 5] = [
    ("区规划和自然资源局", "不动产登记中心"),
    ("区市场监管局", "企业注册科"),
    ("区民政局", "殡仪馆"),
    ("区人力社保局", "城乡居民养老保险科"),
    ("区教委", "基础教育科"),
];

/// How a unit's complaints lean across 冷 懒 推 乱 贪.
#[derive(Debug, Clone, Copy)]
pub(super) enum Lean {
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
    pub(super) fn multipliers(self) -> [f64; 5] {
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
pub(super) struct UnitSpec {
    pub(super) name: &'static str,
    pub(super) service: &'static str,
    pub(super) traffic: f64,
    pub(super) lean: Lean,
}

pub(super) const fn u(
    name: &'static str,
    service: &'static str,
    traffic: f64,
    lean: Lean,
) -> UnitSpec {
    UnitSpec {
        name,
        service,
        traffic,
        lean,
    }
}

/// The district: agencies with approval or service functions and their units.
pub(super) const DISTRICT: &[(&str, &[UnitSpec])] = &[
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
pub(super) const RETIREMENTS: &[(&str, &str, usize)] = &[
    // 酒类流通备案 was abolished: the unit closes.
    ("区商务委", "酒类流通管理科", 7),
    // Taxi licensing merges into 道路运输管理科.
    ("区交通局", "出租汽车管理科", 12),
];

/// An article unit biased towards ranks `best..=worst` in the round of index `round`.
pub(super) struct Script {
    pub(super) agency: &'static str,
    pub(super) unit: &'static str,
    pub(super) round: usize,
    pub(super) best: u32,
    pub(super) worst: u32,
}

pub(super) const SCRIPTS: &[Script] = &[
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
pub(super) const ARTICLE_HEADS: &[(&str, &str, &str, bool)] = &[
    ("区规划和自然资源局", "不动产登记中心", "吴小琴", true),
    // "原…企业注册科科长周萍": she has since moved on.
    ("区市场监管局", "企业注册科", "周萍", false),
    ("区人力社保局", "城乡居民养老保险科", "刘高勇", true),
];

/// Comment templates per model indicator; `{s}` is the unit's service.
pub(super) const COMMENTS: [&[&str]; 5] = [
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

/// Towns of the district with their postcodes, for panel members' addresses.
pub(super) const TOWNS: &[(&str, &str)] = &[
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

pub(super) const STREETS: &[&str] = &[
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

pub(super) const COMPANIES: &[&str] = &[
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

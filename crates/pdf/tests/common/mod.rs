//! A realistic district form (100 units in 27 agencies, like Nanchuan's), recipients and a
//! circulation notice of results, shared by the tests and the examples.
#![allow(dead_code)] // each test binary uses a different part

use minping_pdf::{AgencyUnits, FormContent, IndicatorText, Notice, NoticeEntry, Recipient};

const AGENCIES: &[(&str, &[&str])] = &[
    ("区发展和改革委员会", &["投资科", "价格科", "项目服务科"]),
    (
        "区教育委员会",
        &["学生资助中心", "招生考试科", "民办教育科", "教师管理科"],
    ),
    ("区科学技术局", &["科技服务科", "知识产权科"]),
    (
        "区经济和信息化委员会",
        &["企业服务科", "中小企业科", "电力协调科"],
    ),
    (
        "区公安分局",
        &[
            "户政科",
            "出入境管理科",
            "交通巡逻警察支队车辆管理所",
            "治安管理支队",
            "网络安全保卫大队",
        ],
    ),
    (
        "区民政局",
        &[
            "社会救助科",
            "婚姻登记处",
            "养老服务科",
            "殡葬管理所",
            "社会组织管理科",
        ],
    ),
    ("区司法局", &["公共法律服务科", "公证处", "人民调解科"]),
    ("区财政局", &["国库支付中心", "政府采购科", "农业农村科"]),
    (
        "区人力资源和社会保障局",
        &[
            "社会保险事务中心",
            "就业和人才中心",
            "劳动保障监察支队",
            "职业能力建设科",
            "工伤保险科",
        ],
    ),
    (
        "区规划和自然资源局",
        &[
            "不动产登记中心",
            "用地审批科",
            "规划许可科",
            "测绘管理科",
            "耕地保护科",
        ],
    ),
    (
        "区生态环境局",
        &[
            "环评审批科",
            "生态环境保护综合行政执法支队",
            "固体废物管理科",
        ],
    ),
    (
        "区住房和城乡建设委员会",
        &[
            "建设工程质量监督站",
            "房屋管理科",
            "物业管理科",
            "施工许可科",
            "住房保障中心",
        ],
    ),
    (
        "区城市管理局",
        &[
            "市容环卫科",
            "户外广告管理科",
            "城市管理综合行政执法支队",
            "市政设施科",
            "燃气管理科",
        ],
    ),
    ("区交通局", &["运输管理所", "道路运输科", "公路养护中心"]),
    ("区水利局", &["水资源管理科", "河长制工作科", "农村供水科"]),
    (
        "区农业农村委员会",
        &["农村经营管理科", "农机管理站", "动物卫生监督所", "种植业科"],
    ),
    ("区商务委员会", &["市场运行科", "外资外经科", "电子商务科"]),
    (
        "区文化和旅游发展委员会",
        &["文化市场综合执法支队", "旅游服务科", "文物管理所"],
    ),
    (
        "区卫生健康委员会",
        &[
            "医政科",
            "卫生监督所",
            "疾病预防控制中心",
            "人口家庭科",
            "中医药科",
        ],
    ),
    (
        "区退役军人事务局",
        &["优抚科", "移交安置科", "退役军人服务中心"],
    ),
    (
        "区应急管理局",
        &["危险化学品监管科", "安全生产执法支队", "防灾减灾科"],
    ),
    (
        "区市场监督管理局",
        &[
            "登记注册科",
            "食品生产监管科",
            "药品医疗器械科",
            "特种设备安全科",
            "价格监督检查科",
            "知识产权科",
        ],
    ),
    (
        "国家税务总局南川区税务局",
        &[
            "第一税务所",
            "第二税务所",
            "纳税服务科",
            "社会保险费科",
            "征收管理科",
        ],
    ),
    (
        "区医疗保障局",
        &["医保事务中心", "待遇保障科", "基金监管科"],
    ),
    (
        "区政务服务管理办公室",
        &["政务服务中心综合窗口", "投资项目审批科", "社会事务审批科"],
    ),
    ("区林业局", &["林政资源管理科", "森林防火科", "林木种苗站"]),
    ("区公共资源交易中心", &["工程交易科", "政府采购交易科"]),
];

/// The form of a demo district's fourth quarter of 2026.
pub fn content() -> FormContent {
    let mut number = 0;
    let agencies = AGENCIES
        .iter()
        .map(|(agency, units)| AgencyUnits {
            agency: (*agency).to_owned(),
            units: units
                .iter()
                .map(|u| {
                    number += 1;
                    (number, (*u).to_owned())
                })
                .collect(),
        })
        .collect();
    let indicators = [
        (
            "冷",
            "对群众冷漠，态度生硬，门难进、脸难看、话难听，不设身处地为办事人着想",
        ),
        (
            "懒",
            "工作拖拉、效率低下，该办的事拖着不办，上班时间做与工作无关的事",
        ),
        (
            "推",
            "推诿扯皮、敷衍塞责，把办事人推来推去，该一次告知的不一次告知",
        ),
        ("乱", "乱收费、乱设门槛、乱立规矩，办事程序混乱、标准不一"),
        ("贪", "吃拿卡要，索要宴请、礼品或好处，故意刁难以谋取私利"),
    ]
    .into_iter()
    .map(|(name, description)| IndicatorText {
        name: name.into(),
        description: description.into(),
    })
    .collect();
    FormContent {
        district: "重庆市南川区".into(),
        round_label: "2026年第4季度".into(),
        layout_id: "MP-2026Q4-A".into(),
        max_nominations: 10,
        indicators,
        agencies,
        instructions: Vec::new(),
        return_address: "408400 重庆市南川区东城街道金佛大道8号 区委作风办（民评）收".into(),
    }
}

/// All unit names of [`content`], in print order.
pub fn unit_names() -> Vec<&'static str> {
    AGENCIES
        .iter()
        .flat_map(|(_, units)| units.iter().copied())
        .collect()
}

const SURNAMES: &[char] = &[
    '王', '李', '张', '刘', '陈', '杨', '黄', '赵', '周', '吴', '徐', '孙', '马', '胡', '朱', '郭',
    '何', '罗', '高', '林',
];
const GIVEN: &[&str] = &[
    "伟", "秀英", "敏", "静", "丽", "强", "磊", "军", "洋", "勇", "艳", "杰", "娟", "涛", "明",
    "超", "秀兰", "霞", "平", "刚", "桂英", "建华", "玉兰", "志强",
];
const STREETS: &[&str] = &[
    "东城街道金佛大道",
    "西城街道隆化路",
    "南城街道南湖路",
    "大观镇大观大道",
    "水江镇水江路",
];
// The code alphabet of minping: no 0/O, 1/I/L.
const ALPHABET: &[u8] = b"ABCDEFGHJKMNPQRSTUVWXYZ2345679";

/// The `i`-th demo recipient, with a distinct, deterministic code.
pub fn recipient(i: usize) -> Recipient {
    let mut x = (i as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ 0x5555_AAAA_1234;
    let mut raw = String::new();
    for _ in 0..10 {
        raw.push(ALPHABET[(x % 30) as usize] as char);
        x /= 30;
        x ^= x << 13;
        x = x.wrapping_add(0x2545_F491_4F6C_DD1D);
    }
    let code = format!("{}-{}-{}", &raw[..4], &raw[4..8], &raw[8..]);
    Recipient {
        name: format!(
            "{}{}",
            SURNAMES[i % SURNAMES.len()],
            GIVEN[(i / 3) % GIVEN.len()]
        ),
        address: format!(
            "重庆市南川区{}{}号{}单元{}-{}",
            STREETS[i % STREETS.len()],
            1 + i % 97,
            1 + i % 4,
            1 + i % 18,
            1 + i % 4
        ),
        postcode: "408400".into(),
        url: format!("https://minping.example.cn/ballot#code={raw}"),
        code,
    }
}

/// The recipient the single-form tests use, with the code the examples show.
pub fn zhang() -> Recipient {
    Recipient {
        name: "张晓燕".into(),
        address: "重庆市南川区东城街道金佛大道38号2单元5-1".into(),
        postcode: "408400".into(),
        code: "ABCD-EFGH-JK".into(),
        url: "https://minping.example.cn/ballot#code=ABCDEFGHJK".into(),
    }
}

/// The circulation notice of a demo round: 12 ranked units (the first moved up by an
/// override), sanctions after the list.
pub fn notice() -> Notice {
    let entries = [
        (
            "区市场监管局",
            "食品经营许可科",
            "贪（吃拿卡要）、推（推诿扯皮）",
            Some("经查实存在吃拿卡要问题，直接列第1名"),
        ),
        (
            "",
            "区不动产登记中心",
            "懒（办事拖拉）、推（推诿扯皮）",
            None,
        ),
        (
            "区规划和自然资源局",
            "规划许可科",
            "推（推诿扯皮）、乱（标准不一）",
            None,
        ),
        (
            "区市场监管局",
            "企业注册科",
            "冷（态度生硬）、推（推诿扯皮）",
            None,
        ),
        (
            "区住房和城乡建设委员会",
            "施工许可科",
            "懒（效率低下）",
            None,
        ),
        (
            "区人力资源和社会保障局",
            "社会保险事务中心",
            "冷（态度生硬）、懒（效率低下）",
            None,
        ),
        (
            "区公安分局",
            "交通巡逻警察支队车辆管理所",
            "推（该一次告知的不一次告知）",
            None,
        ),
        (
            "区生态环境局",
            "生态环境保护综合行政执法支队",
            "乱（执法标准不一）",
            None,
        ),
        ("区城市管理局", "户外广告管理科", "乱（乱设门槛）", None),
        (
            "国家税务总局重庆市南川区税务局",
            "第一税务所",
            "冷（态度生硬）",
            None,
        ),
        ("区医疗保障局", "医保事务中心", "推（推诿扯皮）", None),
        (
            "区民政局",
            "婚姻登记处",
            "懒（上班时间做与工作无关的事）",
            None,
        ),
    ];
    Notice {
        issuer: "南川区最难办事科室群众评议活动领导小组办公室".into(),
        number: "南川评通〔2026〕3号".into(),
        title: "关于2026年第三季度“最难办事科室”群众评议结果的通报".into(),
        addressee: "各乡镇（街道）党（工）委、政府（办事处），区级各部门：".into(),
        opening: vec![
            "为深入推进作风建设，切实解决群众办事难问题，根据《南川区“最难办事科室”群众评议\
             活动实施方案》，区评议办于2026年7月至9月组织开展了第三季度“最难办事科室”群众评议。\
             本次评议采取定向评议与抽样评议相结合的方式，共发放评议表3000份，收回有效评议表\
             2716份，并结合12345热线投诉、明察暗访和纪检监察机关查处情况综合排名。"
                .into(),
            "现将评议结果通报如下：".into(),
        ],
        entries: entries
            .into_iter()
            .zip(1..)
            .map(|((agency, unit, problems, note), rank)| NoticeEntry {
                rank,
                agency: agency.into(),
                unit: unit.into(),
                main_problems: problems.into(),
                override_note: note.map(Into::into),
            })
            .collect(),
        closing: vec![
            "一、对排名前3位的科室，由区纪委监委约谈科室负责人，所在部门主要负责人向区委作出\
             书面检查；科室负责人年度考核不得评为优秀，一年内暂缓提拔。"
                .into(),
            "二、对排名第4至10位的科室，由所在部门主要负责人对科室负责人进行谈话提醒，\
             限30日内完成整改，整改情况报区评议办。"
                .into(),
            "三、连续两次排名前3位的科室，对科室负责人予以免职；经查实存在吃拿卡要问题的，\
             移送纪检监察机关依纪依法处理。"
                .into(),
            "各单位要以此为鉴，举一反三，切实转变作风、提升服务效能。整改情况将在下一季度评议\
             中接受群众检验。"
                .into(),
        ],
        signature: "南川区最难办事科室群众评议活动领导小组办公室".into(),
        date: "2026年10月15日".into(),
    }
}

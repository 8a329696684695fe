//! Who sends open-channel ballots in the simulator: many kinds of honest public, and many
//! kinds of attacker, each a generator of (client, ballot, minute) triples.

use minping_domain::{Ballot, Channel, IndicatorMask, Nomination, UnitId, integrity::ClientFacts};
use rand::{Rng, seq::SliceRandom};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// One ballot as sent.
#[derive(Debug, Clone)]
pub struct Sent {
    pub client: ClientFacts,
    pub ballot: Ballot,
    pub minute: i64,
    pub attack: bool,
}

pub const UNITS: i64 = 106;

/// Browsers honest people use, weighted by how common they are.
const AGENTS: &[(&str, u32)] = &[
    (
        "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148 MicroMessenger/8.0.47",
        30,
    ),
    (
        "Mozilla/5.0 (Linux; Android 13; V2203A) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/116.0 Mobile Safari/537.36 MicroMessenger/8.0.45",
        25,
    ),
    (
        "Mozilla/5.0 (Linux; Android 12; HarmonyOS; NOH-AN00) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/99.0 Mobile Safari/537.36",
        12,
    ),
    (
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0 Safari/537.36",
        10,
    ),
    (
        "Mozilla/5.0 (Windows NT 10.0; WOW64; Trident/7.0; rv:11.0) like Gecko",
        3,
    ),
    (
        "Mozilla/5.0 (iPhone; CPU iPhone OS 16_6 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/16.6 Mobile/15E148 Safari/604.1",
        8,
    ),
    (
        "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.3 Safari/605.1.15",
        3,
    ),
    (
        "Mozilla/5.0 (Linux; Android 10; PCAM00) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/83.0 Mobile Safari/537.36 UCBrowser/13.4",
        5,
    ),
    (
        "Mozilla/5.0 (Windows NT 6.1; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/109.0 Safari/537.36 QIHU 360SE",
        4,
    ),
];
const LANGUAGES: &[(&str, u32)] = &[
    ("zh-CN,zh;q=0.9", 60),
    ("zh-CN", 20),
    ("zh-CN,zh;q=0.9,en;q=0.8", 15),
    ("zh-TW,zh;q=0.9", 2),
    ("en-US,en;q=0.9", 3),
];

fn weighted<'a>(rng: &mut impl Rng, items: &'a [(&'a str, u32)]) -> &'a str {
    items
        .choose_weighted(rng, |i| i.1)
        .map(|i| i.0)
        .unwrap_or("")
}

/// An honest browser.
pub fn browser(rng: &mut impl Rng, addr: IpAddr, cookie: bool) -> ClientFacts {
    ClientFacts {
        addr: Some(addr),
        user_agent: Some(weighted(rng, AGENTS).into()),
        accept_language: Some(weighted(rng, LANGUAGES).into()),
        cookie: cookie.then(|| format!("{:032x}", rng.r#gen::<u128>())),
    }
}

/// Residential broadband addresses from a handful of provincial ISP blocks.
pub fn home_addr(rng: &mut impl Rng) -> IpAddr {
    const BLOCKS: &[[u8; 2]] = &[
        [14, 104],
        [222, 178],
        [113, 250],
        [106, 80],
        [27, 11],
        [183, 66],
    ];
    let b = BLOCKS.choose(rng).expect("blocks");
    IpAddr::V4(Ipv4Addr::new(
        b[0],
        b[1],
        rng.r#gen(),
        rng.gen_range(1..255),
    ))
}

/// A mobile subscriber's IPv6 /64 under a carrier's /32.
pub fn mobile_v6(rng: &mut impl Rng) -> IpAddr {
    let carrier: u16 = *[0x2409u16, 0x240e, 0x2408].choose(rng).expect("carriers");
    IpAddr::V6(Ipv6Addr::new(
        carrier,
        rng.gen_range(0x8000..0x8fff),
        rng.r#gen(),
        rng.r#gen(),
        rng.r#gen(),
        rng.r#gen(),
        rng.r#gen(),
        rng.r#gen(),
    ))
}

/// How popular each unit is with the honest public: a few are hard to deal with.
pub struct Popularity {
    weights: Vec<f64>,
}

impl Popularity {
    pub fn zipf(rng: &mut impl Rng, s: f64) -> Self {
        let mut ranks: Vec<usize> = (1..=UNITS as usize).collect();
        ranks.shuffle(rng);
        Self {
            weights: ranks.iter().map(|r| 1.0 / (*r as f64).powf(s)).collect(),
        }
    }

    pub fn pick(&self, rng: &mut impl Rng) -> UnitId {
        let total: f64 = self.weights.iter().sum();
        let mut x = rng.r#gen::<f64>() * total;
        for (i, w) in self.weights.iter().enumerate() {
            x -= w;
            if x <= 0.0 {
                return UnitId(i as i64 + 1);
            }
        }
        UnitId(UNITS)
    }

    /// Units ranked by popularity, least popular last.
    pub fn ranked(&self) -> Vec<UnitId> {
        let mut ids: Vec<usize> = (0..self.weights.len()).collect();
        ids.sort_by(|a, b| self.weights[*b].total_cmp(&self.weights[*a]));
        ids.into_iter().map(|i| UnitId(i as i64 + 1)).collect()
    }
}

const SUBJECTS: &[&str] = &[
    "窗口工作人员",
    "这个科室",
    "办事大厅",
    "经办人员",
    "科长",
    "值班人员",
    "负责审批的同志",
    "前台",
];
const COMPLAINTS: &[&str] = &[
    "态度冷淡不理人",
    "一件事让我跑了四五趟",
    "材料要求前后说法不一",
    "推给别的部门",
    "收费没有公示",
    "中午提前下班",
    "电话打了十几次没人接",
    "说系统坏了让下周再来",
    "要求提供没有依据的证明",
    "排队两个多小时",
    "审批拖了一个多月",
    "让找熟人才好办",
    "答复含糊其辞",
    "上班时间玩手机",
    "办个营业执照变更卡了很久",
    "社保转移手续办不下来",
    "不动产登记一直说在审核",
    "低保申请没有下文",
    "医保报销材料被退回三次",
    "建房审批迟迟不批",
    "在窗口被呵斥",
    "网上办理根本办不了",
];
const WISHES: &[&str] = &[
    "希望能一次性告知",
    "希望改进作风",
    "请领导重视",
    "希望公开办事流程",
    "建议设立投诉电话",
    "希望按时上下班",
    "请给个明确答复",
    "希望多为群众着想",
    "",
    "",
    "",
];

/// A comment in words of its own: a subject, one or two complaints, a wish, and details.
pub fn own_words(rng: &mut impl Rng) -> String {
    let mut s = String::new();
    s.push_str(SUBJECTS.choose(rng).expect("subjects"));
    s.push_str(COMPLAINTS.choose(rng).expect("complaints"));
    if rng.gen_bool(0.5) {
        s.push('，');
        s.push_str(COMPLAINTS.choose(rng).expect("complaints"));
    }
    s.push_str(&format!(
        "，{}月{}号去的",
        rng.gen_range(1..13),
        rng.gen_range(1..29)
    ));
    let wish = WISHES.choose(rng).expect("wishes");
    if !wish.is_empty() {
        s.push('，');
        s.push_str(wish);
    }
    s.push('。');
    s
}

/// Short remarks everyone writes.
const SHORT: &[&str] = &["态度差", "办事慢", "推诿", "乱收费", "太难办了", "效率低"];

fn indicators(rng: &mut impl Rng, greedy_bias: f64) -> IndicatorMask {
    let mut m = 0u16;
    while m == 0 {
        for i in 0..5 {
            let p = if i == 4 { greedy_bias } else { 0.35 };
            if rng.gen_bool(p) {
                m |= 1 << i;
            }
        }
    }
    IndicatorMask(m)
}

/// An honest ballot: one to four units, indicators of one's own, sometimes a comment.
pub fn honest_ballot(
    rng: &mut impl Rng,
    pop: &Popularity,
    surge: Option<(UnitId, f64)>,
    comment_rate: f64,
) -> Ballot {
    let n = [1usize, 1, 1, 2, 2, 3, 4].choose(rng).copied().unwrap_or(1);
    let mut units: Vec<UnitId> = Vec::new();
    if let Some((u, p)) = surge
        && rng.gen_bool(p)
    {
        units.push(u);
    }
    while units.len() < n {
        let u = pop.pick(rng);
        if !units.contains(&u) {
            units.push(u);
        }
    }
    Ballot {
        channel: Channel::Open,
        code: None,
        nominations: units
            .into_iter()
            .map(|u| Nomination {
                unit_id: u,
                indicators: indicators(rng, 0.12),
                comment: if rng.gen_bool(comment_rate) {
                    Some(if rng.gen_bool(0.2) {
                        SHORT.choose(rng).expect("short").to_string()
                    } else {
                        own_words(rng)
                    })
                } else {
                    None
                },
            })
            .collect(),
        exposure: vec![],
    }
}

/// A ballot naming `target` (and maybe decoys), as an attacker writes it.
pub fn attack_ballot(
    rng: &mut impl Rng,
    target: UnitId,
    style: &AttackContent,
    pop: &Popularity,
) -> Ballot {
    let mut noms = vec![Nomination {
        unit_id: target,
        indicators: if style.random_indicators {
            indicators(rng, 0.6)
        } else {
            IndicatorMask(1 << 4)
        },
        comment: match &style.comment {
            CommentStyle::None => None,
            CommentStyle::Fixed(t) => Some(t.clone()),
            CommentStyle::Template => Some(format!(
                "{}{}，{}，大家都知道",
                ["这个科室", "该科室", "这里的人"].choose(rng).expect("x"),
                ["吃拿卡要", "办事要送礼", "收红包才办事", "索要好处费"]
                    .choose(rng)
                    .expect("x"),
                ["强烈要求查处", "必须严肃处理", "请纪委调查"]
                    .choose(rng)
                    .expect("x"),
            )),
            CommentStyle::Generated => Some(own_words(rng)),
        },
    }];
    for _ in 0..style.decoys {
        let u = pop.pick(rng);
        if noms.iter().all(|n| n.unit_id != u) {
            noms.push(Nomination {
                unit_id: u,
                indicators: indicators(rng, 0.1),
                comment: None,
            });
        }
    }
    noms.shuffle(rng);
    Ballot {
        channel: Channel::Open,
        code: None,
        nominations: noms,
        exposure: vec![],
    }
}

/// How an attacker writes ballots.
#[derive(Debug, Clone)]
pub struct AttackContent {
    pub random_indicators: bool,
    pub decoys: usize,
    pub comment: CommentStyle,
}

/// What comment an attacker adds.
#[derive(Debug, Clone)]
pub enum CommentStyle {
    None,
    Fixed(String),
    Template,
    /// Comments that read like an honest citizen's (e.g. from a text generator).
    Generated,
}

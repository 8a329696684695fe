//! The district's people and their posts: heads (科室负责人) and supervising leaders
//! (分管领导), planned with rotations over the years, and the article's named heads, given
//! through the organization's workflow as the demo's history reaches each day.

use super::{catalogue::ARTICLE_HEADS, model::ModelUnit};
use anyhow::{Context, Result};
use chrono::{Duration, NaiveDate};
use minping_app::{App, org};
use minping_domain::{PersonId, PostRole};
use minping_storage::Actor;
use rand::Rng;
use rand_chacha::ChaCha8Rng;
use std::collections::{BTreeMap, BTreeSet};

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

/// Planned post assignments: initial holders, later rotations and the article's heads.
#[derive(Default)]
pub(super) struct PostPlan {
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

    /// The units supervised together with `unit`, itself included.
    fn leader_group(&self, unit: usize) -> Vec<usize> {
        self.leader_groups
            .iter()
            .find(|g| g.contains(&unit))
            .cloned()
            .unwrap_or_else(|| vec![unit])
    }

    /// A new supervising leader from `date` for every unit the unit's leader supervises.
    fn replace_leader(&mut self, rng: &mut ChaCha8Rng, unit: usize, date: NaiveDate) {
        let p = self.new_person(rng);
        for u in self.leader_group(unit) {
            self.assign(u, false, date, p);
        }
    }
}

/// Initial heads and leaders, later rotations, and the article's heads.
pub(super) fn plan_posts(
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

/// A plausible Chinese name: a surname and one or two given-name characters.
pub(super) fn chinese_name(rng: &mut ChaCha8Rng) -> String {
    let g = rng.gen_range(0..2);
    let mut name = SURNAMES[rng.gen_range(0..SURNAMES.len())].to_string();
    if rng.gen_bool(0.7) {
        name.push_str(GIVEN_FIRST[g][rng.gen_range(0..GIVEN_FIRST[g].len())]);
    }
    name.push_str(GIVEN_LAST[g][rng.gen_range(0..GIVEN_LAST[g].len())]);
    name
}

/// The posts as they come to be held: planned assignments given, in date order, through the
/// organization's workflow as the demo's clock reaches their day, and the replacements the
/// confirmed removals call for.
pub(super) struct Posts {
    plan: PostPlan,
    /// Assignments not yet given: (day, unit, is head, person).
    queue: BTreeSet<(NaiveDate, usize, bool, usize)>,
    /// Each person's id once created.
    ids: Vec<Option<PersonId>>,
    /// The day of the last assignment given for each (unit, is head).
    given: BTreeMap<(usize, bool), NaiveDate>,
}

impl Posts {
    /// The plan, nothing given yet.
    pub(super) fn new(plan: PostPlan) -> Self {
        let queue = plan
            .events
            .iter()
            .flat_map(|(&(unit, head), dates)| {
                dates
                    .iter()
                    .map(move |(&date, &person)| (date, unit, head, person))
            })
            .collect();
        Self {
            ids: vec![None; plan.names.len()],
            plan,
            queue,
            given: BTreeMap::new(),
        }
    }

    /// People created so far.
    pub(super) fn people(&self) -> usize {
        self.ids.iter().filter(|id| id.is_some()).count()
    }

    /// Gives every planned assignment dated `day` or earlier, in date order.
    pub(super) async fn give_until(
        &mut self,
        app: &App,
        units: &[ModelUnit],
        day: NaiveDate,
    ) -> Result<()> {
        while let Some(&next) = self.queue.first() {
            let (date, unit, head, person) = next;
            if date > day {
                break;
            }
            self.queue.remove(&next);
            let id = match self.ids[person] {
                Some(id) => id,
                None => {
                    let created =
                        org::create_person(app, &self.plan.names[person], &Actor::system()).await?;
                    self.ids[person] = Some(created.id);
                    created.id
                }
            };
            let role = if head {
                PostRole::Head
            } else {
                PostRole::SupervisingLeader
            };
            org::assign_post_from(app, id, units[unit].id, role, date, &Actor::system())
                .await
                .with_context(|| format!("assigning {} on {date}", self.plan.names[person]))?;
            self.given.insert((unit, head), date);
        }
        Ok(())
    }

    /// The first day after everything given or queued for these posts up to `from`, from
    /// `from` on: a new assignment on it comes after every earlier one.
    fn free_day(&self, posts: &[(usize, bool)], from: NaiveDate) -> NaiveDate {
        let mut day = from;
        for key in posts {
            if let Some(&given) = self.given.get(key) {
                day = day.max(given + Duration::days(1));
            }
        }
        while self
            .queue
            .iter()
            .any(|&(d, u, h, _)| d == day && posts.contains(&(u, h)))
        {
            day += Duration::days(1);
        }
        day
    }

    /// A new head for a unit whose head was removed, from `from` (or the first free day).
    pub(super) fn replace_head(&mut self, rng: &mut ChaCha8Rng, unit: usize, from: NaiveDate) {
        let day = self.free_day(&[(unit, true)], from);
        let person = self.plan.new_person(rng);
        self.ids.push(None);
        self.queue.insert((day, unit, true, person));
    }

    /// A new supervising leader for the units a removed leader supervised, from `from`.
    pub(super) fn replace_leader(&mut self, rng: &mut ChaCha8Rng, unit: usize, from: NaiveDate) {
        let group = self.plan.leader_group(unit);
        let keys: Vec<(usize, bool)> = group.iter().map(|&u| (u, false)).collect();
        let day = self.free_day(&keys, from);
        let person = self.plan.new_person(rng);
        self.ids.push(None);
        for u in group {
            self.queue.insert((day, u, false, person));
        }
    }
}

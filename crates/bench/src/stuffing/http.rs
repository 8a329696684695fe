//! The simulator against a running minping (`minping demo --trusted-proxy 127.0.0.1/32`):
//! an honest public and several attacks are posted to the open round over HTTP, each ballot
//! with its own `X-Forwarded-For`, User-Agent and Accept-Language (and cookie, for browser
//! clients), in arrival order; then the organizer's scan runs and the quarantine is read
//! back, and each side's held share is reported.

use super::{Round, round};
use anyhow::{Context, bail};
use reqwest::header::{ACCEPT_LANGUAGE, COOKIE, USER_AGENT};
use serde_json::{Value, json};
use std::collections::{BTreeMap, HashSet};

/// Where to send, and what.
#[derive(clap::Args, Debug)]
pub struct HttpArgs {
    /// The running server, e.g. http://127.0.0.1:8080.
    #[arg(long)]
    pub url: String,
    /// An organizer's API token (`minping user token --name organizer`).
    #[arg(long)]
    pub token: String,
    /// The honest public.
    #[arg(long, default_value = "residential")]
    pub public: String,
    /// The attacks, each on a unit of its own (comma-separated).
    #[arg(
        long,
        value_delimiter = ',',
        default_value = "one-address,rotate-24,botnet-template,cookie-hopping,botnet-burst"
    )]
    pub attacks: Vec<String>,
    /// Seed.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Ballots sent at once.
    #[arg(long, default_value_t = 16)]
    pub concurrency: usize,
}

/// One ballot to send, with who it is from.
struct Outgoing {
    attack: Option<String>,
    headers: Vec<(&'static str, String)>,
    body: Value,
}

/// Runs the simulation over HTTP; returns whether the targets were met.
pub async fn run_http(args: &HttpArgs) -> anyhow::Result<bool> {
    let http = reqwest::Client::new();
    let base = args.url.trim_end_matches('/');
    let rounds: Value = http
        .get(format!("{base}/api/v1/rounds"))
        .send()
        .await?
        .error_for_status()?
        .json()
        .await?;
    let round_id = rounds
        .as_array()
        .and_then(|r| r.iter().find(|r| r["state"] == "open"))
        .and_then(|r| r["id"].as_i64())
        .context("no open round")?;
    let units: Value = http
        .get(format!("{base}/api/v1/units"))
        .send()
        .await?
        .error_for_status()?
        .json()
        .await?;
    let unit_ids: Vec<i64> = units
        .as_array()
        .context("units")?
        .iter()
        .filter(|u| u["active"] != false)
        .filter_map(|u| u["id"].as_i64())
        .collect();
    if unit_ids.is_empty() {
        bail!("no units");
    }
    let indicators = ["cold", "lazy", "shirking", "arbitrary", "greedy"];

    // The honest public, then each attack on a unit of its own, merged in arrival order.
    let mut outgoing: Vec<(i64, Outgoing)> = Vec::new();
    let honest = round(&args.public, None, args.seed);
    push_round(&mut outgoing, &honest, None, &unit_ids, &indicators);
    for (i, attack) in args.attacks.iter().enumerate() {
        let r: Round = round(&args.public, Some(attack), args.seed + 1 + i as u64);
        let only_attack = Round {
            sent: r.sent.into_iter().filter(|s| s.attack).collect(),
            target: r.target,
        };
        // Each attack pushes a different unit: shift its ids.
        let shifted: Vec<i64> = unit_ids
            .iter()
            .cycle()
            .skip(7 * (i + 1))
            .take(unit_ids.len())
            .copied()
            .collect();
        push_round(
            &mut outgoing,
            &only_attack,
            Some(attack.as_str()),
            &shifted,
            &indicators,
        );
    }
    outgoing.sort_by_key(|(minute, _)| *minute);
    println!(
        "sending {} ballots ({} honest) to round {round_id} at {base}",
        outgoing.len(),
        outgoing.iter().filter(|(_, o)| o.attack.is_none()).count()
    );

    // Send, `concurrency` at a time, keeping each receipt with who sent it.
    let url = format!("{base}/api/v1/rounds/{round_id}/ballots");
    let mut sent: Vec<(Option<String>, String)> = Vec::new();
    let mut refused: BTreeMap<String, usize> = BTreeMap::new();
    for chunk in outgoing.chunks(args.concurrency.max(1)) {
        let mut set = tokio::task::JoinSet::new();
        for (_, o) in chunk {
            let mut req = http.post(&url).json(&o.body);
            for (name, value) in &o.headers {
                req = req.header(*name, value);
            }
            let attack = o.attack.clone();
            set.spawn(async move {
                let r = req.send().await?;
                let status = r.status();
                let body: Value = r.json().await.unwrap_or_default();
                anyhow::Ok((attack, status, body))
            });
        }
        for done in set.join_all().await {
            let (attack, status, body) = done?;
            if status.as_u16() == 201 {
                let receipt = body["receipt"].as_str().context("receipt")?.to_string();
                sent.push((attack, receipt));
            } else {
                let who = attack.unwrap_or_else(|| "honest".into());
                *refused.entry(format!("{who} ({status})")).or_default() += 1;
            }
        }
    }

    let summary: Value = http
        .post(format!("{base}/api/v1/rounds/{round_id}/integrity/scan"))
        .bearer_auth(&args.token)
        .send()
        .await?
        .error_for_status()?
        .json()
        .await?;
    println!("scan: {summary}");
    let held: Value = http
        .get(format!("{base}/api/v1/rounds/{round_id}/quarantine"))
        .bearer_auth(&args.token)
        .send()
        .await?
        .error_for_status()?
        .json()
        .await?;
    let held: HashSet<String> = held
        .as_array()
        .context("quarantine")?
        .iter()
        .filter_map(|h| h["receipt"].as_str().map(String::from))
        .collect();

    let mut rows: BTreeMap<String, (usize, usize)> = BTreeMap::new();
    for (attack, receipt) in &sent {
        let e = rows
            .entry(attack.clone().unwrap_or_else(|| "honest".into()))
            .or_default();
        e.0 += 1;
        e.1 += usize::from(held.contains(receipt));
    }
    let mut ok = true;
    println!(
        "{:<22} {:>8} {:>8} {:>8}",
        "sender", "stored", "held", "share"
    );
    let (mut attack_n, mut attack_held) = (0, 0);
    for (who, (n, h)) in &rows {
        println!(
            "{who:<22} {n:>8} {h:>8} {:>7.2}%",
            100.0 * *h as f64 / (*n).max(1) as f64
        );
        if who == "honest" {
            ok &= *h as f64 <= 0.01 * *n as f64;
        } else if who != "hard" {
            attack_n += n;
            attack_held += h;
        }
    }
    if attack_n > 0 {
        ok &= attack_held as f64 >= 0.95 * attack_n as f64;
        println!(
            "attack ballots held: {:.1}% of {attack_n}",
            100.0 * attack_held as f64 / attack_n as f64
        );
    }
    for (who, n) in &refused {
        println!("refused: {who}: {n}");
    }
    Ok(ok)
}

fn push_round(
    out: &mut Vec<(i64, Outgoing)>,
    r: &Round,
    attack: Option<&str>,
    unit_ids: &[i64],
    indicators: &[&str; 5],
) {
    for s in &r.sent {
        let mut headers = Vec::new();
        if let Some(addr) = s.client.addr {
            headers.push(("x-forwarded-for", addr.to_string()));
        }
        if let Some(ua) = &s.client.user_agent {
            headers.push((USER_AGENT.as_str(), ua.clone()));
        }
        if let Some(lang) = &s.client.accept_language {
            headers.push((ACCEPT_LANGUAGE.as_str(), lang.clone()));
        }
        if let Some(cookie) = &s.client.cookie {
            // The site's own cookie is 32 hex digits.
            let hex: String = cookie
                .chars()
                .filter(char::is_ascii_hexdigit)
                .take(32)
                .collect();
            headers.push((COOKIE.as_str(), format!("minping_csrf={hex:0>32}")));
        }
        let nominations: Vec<Value> = s
            .ballot
            .nominations
            .iter()
            .map(|n| {
                let ticks: Vec<&str> = (0..5)
                    .filter(|i| n.indicators.contains(*i))
                    .map(|i| indicators[i])
                    .collect();
                let unit = unit_ids[(n.unit_id.0 as usize - 1) % unit_ids.len()];
                json!({"unit_id": unit, "indicators": ticks, "comment": n.comment})
            })
            .collect();
        // Two simulated units may map to one real one: keep the first.
        let mut seen = HashSet::new();
        let nominations: Vec<Value> = nominations
            .into_iter()
            .filter(|n| seen.insert(n["unit_id"].as_i64()))
            .collect();
        out.push((
            s.minute,
            Outgoing {
                attack: attack.map(String::from),
                headers,
                body: json!({"channel": "open", "nominations": nominations}),
            },
        ));
    }
}

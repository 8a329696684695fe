//! The demo district's accountability record: the sanctions its history carries follow from
//! its rankings, the statistics page shows them, and the open quarter has reports, one of
//! them substantiated, which puts its unit at rank 1 of the open round.

use minping_domain::{
    RoundState,
    rules::{SanctionKind, SanctionState},
};
use minping_web::{AppState, Application};
use serde_json::Value;
use std::sync::Arc;

#[tokio::test]
async fn the_demo_statistics_page_shows_the_sanctions_its_history_carries() {
    let dir = tempfile::tempdir().unwrap();
    let app = minping::cli::demo(dir.path(), None, 2014).await.unwrap();
    let store = app.store();

    // Every top-10 appearance of a published round led to the ladder's first steps.
    let mut top_appearances = 0;
    let mut confirmed: Vec<(SanctionKind, String)> = Vec::new();
    for round in store.rounds().await.unwrap() {
        if round.state != RoundState::Published {
            continue;
        }
        let frozen = store.frozen_ranking(round.id).await.unwrap().unwrap();
        top_appearances += frozen.ranking.top().count();
        for s in store.sanctions(round.id).await.unwrap() {
            assert_eq!(s.state, SanctionState::Confirmed);
            assert_eq!(s.proposal.rounds.last(), Some(&round.label));
            let ranked = frozen
                .ranking
                .entries
                .iter()
                .find(|e| e.unit_id == s.proposal.unit_id)
                .expect("a sanctioned unit is in its round's ranking");
            assert!(ranked.rank <= 10, "{}: rank {}", round.label, ranked.rank);
            confirmed.push((s.proposal.kind, round.label.to_string()));
        }
    }
    let count = |kind: SanctionKind| confirmed.iter().filter(|(k, _)| *k == kind).count();
    assert!(count(SanctionKind::Interview) > 0);
    assert!(count(SanctionKind::Interview) <= top_appearances);
    let removals = count(SanctionKind::HeadRemoved) + count(SanctionKind::LeaderRemoved);
    assert!(removals > 0, "the demo history removes somebody");

    let token = minping_app::accounts::issue_token(&app, "organizer")
        .await
        .unwrap();
    let state = Arc::new(AppState::new(app, "http://127.0.0.1".into()));
    let store = state.store();
    let server = Application::build(state.clone(), "127.0.0.1:0")
        .await
        .unwrap();
    let base = format!("http://{}", server.local_addr());
    tokio::spawn(server.run());
    let client = reqwest::Client::new();

    let stats: Value = client
        .get(format!("{base}/api/v1/statistics"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let total = &stats["total"];
    assert_eq!(total["interviews"], count(SanctionKind::Interview));
    assert_eq!(total["reminder_talks"], count(SanctionKind::ReminderTalk));
    assert_eq!(
        total["deferred_promotions"],
        count(SanctionKind::PromotionFreeze)
    );
    assert_eq!(total["removals"], removals);
    assert_eq!(total["substantiated_reports"], 1);
    let published = store
        .rounds()
        .await
        .unwrap()
        .iter()
        .filter(|r| r.state == RoundState::Published)
        .count();
    assert_eq!(total["rounds"], published);
    let years = stats["years"].as_array().unwrap();
    assert!(years.len() >= 5, "{} years", years.len());
    let sum: u64 = years
        .iter()
        .map(|y| y[1]["interviews"].as_u64().unwrap())
        .sum();
    assert_eq!(sum, count(SanctionKind::Interview) as u64);

    let page = client
        .get(format!("{base}/statistics?lang=zh"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let total_row = &page[page.find("id=\"total\"").expect("a total row")..];
    let total_row = &total_row[..total_row.find("</tr>").unwrap()];
    for figure in [
        count(SanctionKind::ReminderTalk),
        count(SanctionKind::Interview),
        removals,
    ] {
        assert!(
            total_row.contains(&format!("<td>{figure}</td>")),
            "{figure} in {total_row}"
        );
    }

    // The substantiated report puts its unit first once the open round is closed.
    let open = store
        .rounds()
        .await
        .unwrap()
        .into_iter()
        .find(|r| r.state == RoundState::Open)
        .unwrap();
    let closed = client
        .post(format!("{base}/api/v1/rounds/{}/transition", open.id))
        .bearer_auth(&token)
        .json(&serde_json::json!({"to": "closed"}))
        .send()
        .await
        .unwrap();
    assert_eq!(closed.status(), 200);
    let preview: Value = client
        .get(format!("{base}/api/v1/rounds/{}/preview", open.id))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let first = &preview[0];
    assert_eq!(first["unit"], "食品经营许可科", "{first}");
    assert_eq!(first["override"], "substantiated_report");
}

//! The demo's directed panel (定向评议名单库): a registry imported as a district would import
//! its spreadsheet, and each round's draw, mailing and coded answers, through the panel's
//! workflows.

use super::{
    catalogue::{COMPANIES, STREETS, TOWNS},
    people::chinese_name,
};
use anyhow::{Result, ensure};
use minping_app::{App, draws, panel};
use minping_domain::{
    RoundId,
    panel::{MemberDraft, import::SheetRow},
};
use minping_storage::Actor;
use rand::{Rng, SeedableRng, seq::SliceRandom};
use rand_chacha::ChaCha8Rng;

/// How many members the demo panel registers.
pub const DEMO_PANEL: usize = 5_200;

/// Imports a registry of [`DEMO_PANEL`] people who dealt with the district's units:
/// businesses, individual service users, deputies, community representatives, with plausible
/// addresses and phones. Deterministic for a seed. Returns how many were registered.
pub(super) async fn register(app: &App, seed: u64) -> Result<usize> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed ^ 0x5eed_9a9e);
    let units: Vec<String> = app
        .store()
        .units()
        .await?
        .into_iter()
        .filter(|u| u.active)
        .map(|u| u.name)
        .collect();
    let groups: Vec<String> = app
        .settings()
        .panel
        .groups
        .iter()
        .map(|g| g.code.clone())
        .collect();
    // Shares of the registry per group, in the settings' order (default four groups).
    let weights = [0.45, 0.40, 0.08, 0.07];
    let sources = [
        "政务服务大厅登记",
        "企业服务台账",
        "人大政协名册",
        "社区推荐",
    ];
    let mut rows = Vec::with_capacity(DEMO_PANEL);
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
        rows.push(SheetRow {
            row: i + 2,
            draft: MemberDraft {
                name,
                group: groups[g].clone(),
                address: format!("重庆市南川区{town}{street}{}号", rng.gen_range(1..400)),
                postcode: postcode.to_string(),
                phone: format!(
                    "1{}{:09}",
                    [3, 5, 7, 8, 9][rng.gen_range(0..5)],
                    100_000_000 + i as u64 * 7919 % 900_000_000
                ),
                units: dealt.join("、"),
                source: sources[g.min(3)].to_string(),
            },
        });
    }
    let report = panel::import_rows(app, rows, false, &Actor::system()).await?;
    ensure!(
        report.rejected.is_empty(),
        "the demo registry refused rows: {:?}",
        report.rejected.first().map(|r| r.reason.to_string())
    );
    Ok(report.imported)
}

/// Freezes a round's frame, draws its sample with a seed announced afterwards, and mails the
/// forms; returns each drawn member's code, shuffled: the order they answer in.
pub(super) async fn draw_and_mail(
    app: &App,
    round: RoundId,
    seed: &str,
    actor: &Actor,
    rng: &mut ChaCha8Rng,
) -> Result<Vec<String>> {
    draws::freeze(app, round, None, &Actor::system()).await?;
    let drawn = draws::draw_sample(app, round, seed, actor).await?;
    draws::record_mailing(app, round, &[], true, "mailed", &Actor::system()).await?;
    let mut codes: Vec<String> = drawn
        .members
        .iter()
        .map(|&m| draws::member_code(app, round, m).as_str().to_string())
        .collect();
    codes.shuffle(rng);
    Ok(codes)
}

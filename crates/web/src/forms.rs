//! The printed forms of a round: the content every form shares and each drawn member's
//! personalisation, for `minping forms` and the console's download.

use crate::state::AppState;
use minping_domain::{RoundId, Settings, code::OneTimeCode};
use minping_pdf::{AgencyUnits, FormContent, IndicatorText, Recipient};
use minping_storage::{SampleRow, Storage, StorageError};

/// The printed content shared by every form of a round.
pub async fn content(
    store: &dyn Storage,
    settings: &Settings,
    round: RoundId,
) -> Result<FormContent, StorageError> {
    let r = store.round(round).await?.ok_or(StorageError::NotFound)?;
    let mut agencies: Vec<AgencyUnits> = Vec::new();
    for u in store.units().await?.into_iter().filter(|u| u.active) {
        let number = u32::try_from(u.id.0)
            .map_err(|_| StorageError::Corrupt("unit id too large to print".into()))?;
        match agencies.last_mut() {
            Some(a) if a.agency == u.agency => a.units.push((number, u.name)),
            _ => agencies.push(AgencyUnits {
                agency: u.agency,
                units: vec![(number, u.name)],
            }),
        }
    }
    Ok(FormContent {
        district: settings.district.clone(),
        round_label: r.label.display_zh(),
        layout_id: format!("MP-{}-A", r.label),
        max_nominations: r.settings.max_nominations,
        indicators: r
            .settings
            .indicators
            .iter()
            .map(|i| IndicatorText {
                name: i.name_zh.clone(),
                description: i.description_zh.clone(),
            })
            .collect(),
        agencies,
        instructions: Vec::new(),
        return_address: format!("{}作风办（最难办事科室群众评）收", settings.district),
    })
}

/// Each drawn member's name, address and code, in the sample's (post office) order.
pub fn recipients(
    settings: &Settings,
    code_key: &[u8],
    round: RoundId,
    sample: &[SampleRow],
) -> Vec<Recipient> {
    let base = settings.public_url.trim_end_matches('/');
    sample
        .iter()
        .map(|s| {
            let code = OneTimeCode::derive(code_key, round.0, s.member.id);
            Recipient {
                name: s.member.details.name.clone(),
                address: s.member.details.address.clone(),
                postcode: s.member.details.postcode.clone(),
                code: code.printed(),
                url: format!("{base}/rounds/{round}/ballot?code={}", code.as_str()),
            }
        })
        .collect()
}

/// The merged PDF of a round's personalised forms, typeset off the async threads.
pub async fn personalised_pdf(
    state: &AppState,
    round: RoundId,
) -> Result<Vec<u8>, crate::error::ApiError> {
    use axum::http::StatusCode;
    let sample = state.store.sample(round).await?;
    if sample.is_empty() {
        return Err(crate::error::ApiError::new(
            StatusCode::CONFLICT,
            "not_drawn",
            "this round has no drawn sample",
        ));
    }
    let content = content(state.store.as_ref(), &state.settings, round).await?;
    let people = recipients(&state.settings, &state.code_key, round, &sample);
    tokio::task::spawn_blocking(move || {
        minping_pdf::Renderer::new().personalised_batch(&content, &people, &|_| {})
    })
    .await
    .map_err(|e| {
        crate::error::ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", e.to_string())
    })?
    .map_err(|e| {
        crate::error::ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "unprintable",
            e.to_string(),
        )
    })
}

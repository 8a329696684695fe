//! The JSON API under `/api/v1`, described by the OpenAPI document at `/api/openapi.json`,
//! which is generated from the same route declarations so it cannot drift.

mod audit;
pub mod ballots;
pub mod draws;
pub mod entry;
mod health;
mod integrity;
mod org;
pub mod panel;
pub mod reports;
pub mod results;
mod rounds;
pub mod sanctions;

use crate::{error::ApiError, state::Shared};
use axum::{
    Json, Router,
    extract::{FromRequest, FromRequestParts},
    routing::get,
};
use std::sync::Arc;
use utoipa::OpenApi;
use utoipa_axum::{router::OpenApiRouter, routes};

pub use results::ResultsBody;
pub use rounds::RoundBody;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "minping (民评) API",
        description = "Public evaluation of government service units: units, rounds, ballots, published results. \
                       Staff routes need `Authorization: Bearer <token>` (see `minping user token`)."
    ),
    components(schemas(crate::error::ErrorBody)),
    modifiers(&BearerAuth)
)]
struct ApiDoc;

struct BearerAuth;

impl utoipa::Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
        if let Some(c) = openapi.components.as_mut() {
            c.add_security_scheme(
                "token",
                SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
            );
        }
    }
}

/// The API routes with their OpenAPI description.
pub fn openapi_router() -> OpenApiRouter<Shared> {
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .routes(routes!(health::healthz))
        .routes(routes!(org::list_units, org::create_unit))
        .routes(routes!(org::set_unit_active))
        .routes(routes!(org::list_agencies, org::create_agency))
        .routes(routes!(org::list_people, org::create_person))
        .routes(routes!(org::list_posts, org::assign_post))
        .routes(routes!(rounds::list_rounds, rounds::create_round))
        .routes(routes!(rounds::get_round))
        .routes(routes!(rounds::transition_round))
        .routes(routes!(rounds::list_transitions))
        .routes(routes!(rounds::preview))
        .routes(routes!(results::get_results))
        .routes(routes!(results::get_receipts))
        .routes(routes!(ballots::post_ballot))
        .routes(routes!(ballots::get_receipt))
        .routes(routes!(integrity::scan))
        .routes(routes!(integrity::quarantine))
        .routes(routes!(integrity::release))
        .routes(routes!(integrity::keep))
        .routes(routes!(health::me))
        .routes(routes!(sanctions::list))
        .routes(routes!(sanctions::decide))
        .routes(routes!(sanctions::promotion))
        .routes(routes!(sanctions::frozen))
        .routes(routes!(sanctions::check_promotion))
        .routes(routes!(sanctions::promotion_checks))
        .routes(routes!(sanctions::statistics))
        .routes(routes!(sanctions::notice))
        .routes(routes!(reports::list, reports::create))
        .routes(routes!(reports::staff_intake))
        .routes(routes!(reports::status))
        .routes(routes!(reports::transition))
        .routes(routes!(reports::evidence))
        .routes(routes!(reports::evidence_file))
        .routes(routes!(panel::list_members, panel::add_members))
        .routes(routes!(panel::deactivate_member))
        .routes(routes!(draws::get_frame, draws::freeze_frame))
        .routes(routes!(draws::get_draw, draws::draw))
        .routes(routes!(draws::verify))
        .routes(routes!(draws::response))
        .routes(routes!(draws::nonrespondents))
        .routes(routes!(draws::mail_status))
        .routes(routes!(draws::conflicts))
        .routes(routes!(draws::resolve))
        .routes(routes!(draws::forms_pdf))
        .routes(routes!(draws::mailing_csv))
        .routes(routes!(draws::open_form_pdf))
        .routes(routes!(draws::reprints, draws::ask_reprint))
        .routes(routes!(draws::decide_reprint))
        .routes(routes!(audit::events))
        .routes(routes!(entry::post_paper_entry))
        .routes(routes!(entry::get_adjudication, entry::decide_disputed))
}

/// The API's OpenAPI document, as `/api/openapi.json` serves it.
pub fn document() -> utoipa::openapi::OpenApi {
    openapi_router().split_for_parts().1
}

/// The API router, with `/api/openapi.json` serving its own description.
pub fn router() -> Router<Shared> {
    let (router, openapi) = openapi_router().split_for_parts();
    let openapi = Arc::new(openapi);
    router.route(
        "/api/openapi.json",
        get(move || {
            let openapi = openapi.clone();
            async move { Json(openapi.as_ref().clone()) }
        }),
    )
}

/// A JSON body whose rejections are API errors.
#[derive(FromRequest)]
#[from_request(via(axum::Json), rejection(ApiError))]
pub struct ApiJson<T>(pub T);

/// A path parameter whose rejections are API errors.
#[derive(FromRequestParts)]
#[from_request(via(axum::extract::Path), rejection(ApiError))]
pub struct ApiPath<T>(pub T);

//! The HTTP API (`/api/v1`): JSON in and out, bearer tokens, roles checked per endpoint and
//! project, every mutating action written to the audit log. Errors are JSON
//! `{"error": code, "message": text}` with the matching 4xx status; nothing is written on one.

mod auth;
mod body_limit;
mod error;
mod projects;
mod runs;
mod schedules;
mod users;

pub use auth::{Caller, ClientAddr};
pub use error::ApiError;

use crate::state::Shared;
use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::routing::{get, post};

/// The API's OpenAPI 3.1 document (every route below is in it; tests check both ways).
pub const OPENAPI: &str = include_str!("openapi.json");

async fn openapi() -> ([(axum::http::HeaderName, &'static str); 1], &'static str) {
    (
        [(axum::http::header::CONTENT_TYPE, "application/json")],
        OPENAPI,
    )
}

/// Every route.
pub fn router(state: Shared) -> Router {
    let limit = state.max_body;
    Router::new()
        .route("/api/v1/openapi.json", get(openapi))
        .route("/api/v1/login", post(users::login))
        .route("/api/v1/logout", post(users::logout))
        .route("/api/v1/me", get(users::me))
        .route("/api/v1/users", get(users::list).post(users::create))
        .route("/api/v1/users/{name}", axum::routing::patch(users::update))
        .route(
            "/api/v1/tokens",
            get(users::tokens).post(users::create_token),
        )
        .route(
            "/api/v1/tokens/{id}",
            axum::routing::delete(users::revoke_token),
        )
        .route("/api/v1/audit", get(users::audit))
        .route("/api/v1/projects", get(projects::list))
        .route("/api/v1/projects/{project}/files", get(projects::files))
        .route("/api/v1/projects/{project}/sync", post(projects::sync))
        .route("/api/v1/runs", get(runs::list).post(runs::create))
        .route("/api/v1/runs/{id}", get(runs::show))
        .route("/api/v1/runs/{id}/events", get(runs::events))
        .route("/api/v1/runs/{id}/stream", get(runs::stream))
        .route("/api/v1/runs/{id}/cancel", post(runs::cancel))
        .route("/api/v1/hooks/{project}", post(runs::webhook))
        .route(
            "/api/v1/schedules",
            get(schedules::list).post(schedules::create),
        )
        .route(
            "/api/v1/schedules/{id}",
            axum::routing::patch(schedules::update).delete(schedules::delete),
        )
        .merge(crate::ui::routes())
        .fallback(error::not_found)
        .layer(DefaultBodyLimit::max(limit))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            body_limit::refuse_declared_oversize,
        ))
        .with_state(state)
}

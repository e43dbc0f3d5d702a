//! Refuse a request whose declared `Content-Length` is over `--max-body` before reading any of
//! it (no `100 Continue`, nothing buffered); bodies without a length are still cut off by
//! axum's `DefaultBodyLimit` as they are read.

use super::ApiError;
use crate::state::Shared;
use axum::extract::{Request, State};
use axum::http::{StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

pub async fn refuse_declared_oversize(
    State(state): State<Shared>,
    req: Request,
    next: Next,
) -> Response {
    let declared = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok());
    match declared {
        Some(n) if n > state.max_body as u64 => ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "too_large",
            format!(
                "the request body is too large: {n} bytes declared, at most {} accepted",
                state.max_body
            ),
        )
        .into_response(),
        _ => next.run(req).await,
    }
}

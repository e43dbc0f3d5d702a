//! Who is calling: `Authorization: Bearer hst_...` (an API token, or the session token
//! `/api/v1/login` hands out). No credentials: 401. What a caller may do is the lower of its
//! role (per project when one is set) and its token's scopes.

use super::ApiError;
use crate::model::{Role, User};
use crate::state::Shared;
use crate::store::effective_role;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

#[derive(Debug, Clone)]
pub struct Caller {
    pub user: User,
    pub scopes: Vec<String>,
    /// The token presented (its id, and whether it is a login session).
    pub token_id: i64,
    pub session: bool,
    /// Per-project roles looked up during this request (a list of runs asks once per project,
    /// not once per run).
    seen: Arc<Mutex<HashMap<i64, Option<Role>>>>,
}

fn scope_role(scopes: &[String]) -> Role {
    if scopes.iter().any(|s| s == "admin") {
        Role::Admin
    } else if scopes.iter().any(|s| s == "run") {
        Role::Operator
    } else {
        Role::Viewer
    }
}

impl Caller {
    /// The caller's role on `project` (or globally), capped by the token's scopes.
    pub async fn role(&self, state: &Shared, project: Option<i64>) -> Result<Role, ApiError> {
        let per_project = match project {
            // Admins are admins on every project.
            Some(_) if self.user.role == Role::Admin => None,
            Some(p) => {
                let known = self
                    .seen
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .get(&p)
                    .copied();
                match known {
                    Some(r) => r,
                    None => {
                        let r = state.store.permission(self.user.id, p).await?;
                        self.seen
                            .lock()
                            .unwrap_or_else(|e| e.into_inner())
                            .insert(p, r);
                        r
                    }
                }
            }
            None => None,
        };
        Ok(effective_role(self.user.role, per_project).min(scope_role(&self.scopes)))
    }

    /// Refuses (403) unless the caller has at least `need`.
    pub async fn require(
        &self,
        state: &Shared,
        project: Option<i64>,
        need: Role,
    ) -> Result<(), ApiError> {
        let have = self.role(state, project).await?;
        if have >= need {
            Ok(())
        } else {
            Err(ApiError::forbidden(format!(
                "this needs the {} role; `{}` has {}",
                need.as_str(),
                self.user.name,
                have.as_str()
            )))
        }
    }
}

impl FromRequestParts<Shared> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &Shared,
    ) -> Result<Self, Self::Rejection> {
        let header = parts
            .headers
            .get(axum::http::header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .ok_or_else(|| {
                ApiError::unauthorized("log in or send Authorization: Bearer <token>")
            })?;
        let token = header
            .strip_prefix("Bearer ")
            .ok_or_else(|| ApiError::unauthorized("expected Authorization: Bearer <token>"))?;
        match state.store.authenticate(token.trim()).await? {
            Ok((user, t)) => Ok(Caller {
                user,
                scopes: t.scopes,
                token_id: t.id,
                session: t.kind == "session",
                seen: Default::default(),
            }),
            Err(why) => Err(ApiError::unauthorized(why.to_string())),
        }
    }
}

/// The client's address, when the server records it (for login throttling and the audit log).
#[derive(Debug, Clone, Copy)]
pub struct ClientAddr(pub Option<std::net::IpAddr>);

impl<S: Send + Sync> FromRequestParts<S> for ClientAddr {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(ClientAddr(
            parts
                .extensions
                .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
                .map(|c| c.0.ip()),
        ))
    }
}

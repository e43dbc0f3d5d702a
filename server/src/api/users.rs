//! Login, users, tokens and the audit log.

use super::{ApiError, Caller};
use crate::model::Role;
use crate::state::Shared;
use axum::Json;
use axum::extract::rejection::JsonRejection;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use serde::Deserialize;
use serde_json::{Value, json};

/// Session length for `/login` tokens.
const SESSION_SECS: i64 = 12 * 3600;

fn scopes_for(role: Role) -> Vec<String> {
    match role {
        Role::Viewer => vec!["read".into()],
        Role::Operator => vec!["read".into(), "run".into()],
        Role::Admin => vec!["read".into(), "run".into(), "admin".into()],
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Login {
    name: String,
    password: String,
}

pub async fn login(
    State(st): State<Shared>,
    body: Result<Json<Login>, JsonRejection>,
) -> Result<Json<Value>, ApiError> {
    let Json(l) = body?;
    let user = match st.store.login(&l.name, &l.password).await? {
        Ok(u) => u,
        Err(why) => return Err(ApiError::unauthorized(why.to_string())),
    };
    // A session carries every scope the user could use anywhere; each request is still checked
    // against the user's role on the project at hand.
    let highest = st.store.highest_role(user.id).await?;
    let (t, text) = st
        .store
        .create_token(user.id, "session", &scopes_for(highest), Some(SESSION_SECS))
        .await?;
    st.store
        .audit(
            &user.name,
            "login",
            &user.name,
            json!({"token": t.public_id}),
        )
        .await?;
    Ok(Json(
        json!({"token": text, "expires_at": t.expires_at, "user": user}),
    ))
}

pub async fn me(c: Caller) -> Json<Value> {
    Json(json!({"user": c.user, "scopes": c.scopes}))
}

pub async fn list(State(st): State<Shared>, c: Caller) -> Result<Json<Value>, ApiError> {
    c.require(&st, None, Role::Admin).await?;
    Ok(Json(json!(st.store.users().await?)))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewUser {
    name: String,
    password: Option<String>,
    role: Role,
}

pub async fn create(
    State(st): State<Shared>,
    c: Caller,
    body: Result<Json<NewUser>, JsonRejection>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    c.require(&st, None, Role::Admin).await?;
    let Json(n) = body?;
    let u = st
        .store
        .create_user(&n.name, n.password.as_deref(), n.role)
        .await?;
    st.store
        .audit(
            &c.user.name,
            "user.create",
            &u.name,
            json!({"role": u.role}),
        )
        .await?;
    Ok((StatusCode::CREATED, Json(json!(u))))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UserChange {
    role: Option<Role>,
    disabled: Option<bool>,
    password: Option<String>,
    /// Per-project role: `{"project": "ha", "role": "operator"}` (`role: null` removes it).
    project_role: Option<ProjectRole>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProjectRole {
    project: String,
    role: Option<Role>,
}

pub async fn update(
    State(st): State<Shared>,
    c: Caller,
    Path(name): Path<String>,
    body: Result<Json<UserChange>, JsonRejection>,
) -> Result<Json<Value>, ApiError> {
    let Json(ch) = body?;
    // Everyone may change their own password; everything else is for admins.
    let own_password_only = name == c.user.name
        && ch.role.is_none()
        && ch.disabled.is_none()
        && ch.project_role.is_none();
    if !own_password_only {
        c.require(&st, None, Role::Admin).await?;
    }
    let target = st.store.user(&name).await?;
    let project = match &ch.project_role {
        Some(pr) => Some(
            st.project(&pr.project)
                .ok_or_else(|| ApiError::not_found(format!("project `{}`", pr.project)))?
                .id,
        ),
        None => None,
    };
    if let Some(pw) = &ch.password {
        st.store.set_password(&name, pw).await?;
    }
    if let Some(r) = ch.role {
        st.store.set_role(&name, r).await?;
    }
    if let Some(d) = ch.disabled {
        st.store.set_disabled(&name, d).await?;
    }
    if let (Some(pr), Some(pid)) = (&ch.project_role, project) {
        st.store.set_permission(target.id, pid, pr.role).await?;
    }
    st.store
        .audit(
            &c.user.name,
            "user.update",
            &name,
            json!({"role": ch.role, "disabled": ch.disabled, "password_changed": ch.password.is_some(),
                   "project_role": ch.project_role.as_ref().map(|p| json!({"project": p.project, "role": p.role}))}),
        )
        .await?;
    Ok(Json(json!(st.store.user(&name).await?)))
}

pub async fn tokens(State(st): State<Shared>, c: Caller) -> Result<Json<Value>, ApiError> {
    Ok(Json(json!(st.store.tokens(c.user.id).await?)))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewToken {
    name: String,
    scopes: Vec<String>,
    /// Lifetime in seconds (none: until revoked).
    ttl_secs: Option<i64>,
}

pub async fn create_token(
    State(st): State<Shared>,
    c: Caller,
    body: Result<Json<NewToken>, JsonRejection>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let Json(n) = body?;
    // A token never gets more than its creator holds.
    let allowed = scopes_for(st.store.highest_role(c.user.id).await?);
    if let Some(s) = n
        .scopes
        .iter()
        .find(|s| !allowed.contains(s) || !c.scopes.contains(s))
    {
        return Err(ApiError::forbidden(format!(
            "`{}` cannot grant the scope `{s}`",
            c.user.name
        )));
    }
    if n.ttl_secs.is_some_and(|t| t <= 0) {
        return Err(ApiError::bad("ttl_secs must be positive"));
    }
    let (t, text) = st
        .store
        .create_token(c.user.id, &n.name, &n.scopes, n.ttl_secs)
        .await?;
    st.store
        .audit(
            &c.user.name,
            "token.create",
            &t.public_id,
            json!({"name": t.name, "scopes": t.scopes}),
        )
        .await?;
    Ok((StatusCode::CREATED, Json(json!({"token": text, "info": t}))))
}

pub async fn revoke_token(
    State(st): State<Shared>,
    c: Caller,
    Path(id): Path<i64>,
) -> Result<StatusCode, ApiError> {
    let own = st.store.tokens(c.user.id).await?.iter().any(|t| t.id == id);
    if !own {
        c.require(&st, None, Role::Admin).await?;
    }
    st.store.revoke_token(id).await?;
    st.store
        .audit(&c.user.name, "token.revoke", &id.to_string(), json!({}))
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize)]
pub struct Limit {
    limit: Option<i64>,
}

pub async fn audit(
    State(st): State<Shared>,
    c: Caller,
    Query(q): Query<Limit>,
) -> Result<Json<Value>, ApiError> {
    c.require(&st, None, Role::Admin).await?;
    Ok(Json(json!(
        st.store
            .audit_log(q.limit.unwrap_or(100).clamp(1, 1000))
            .await?
    )))
}

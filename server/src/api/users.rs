//! Login, users, tokens and the audit log.

use super::{ApiError, Caller, ClientAddr};
use crate::auth::guard::Refusal;
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

/// Checks `name`'s password through the login guard: refused early while the name or the
/// client's address is locked out, at most a few argon2 checks at once, failures counted and
/// audited.
async fn check_password(
    st: &Shared,
    addr: ClientAddr,
    name: &str,
    password: &str,
) -> Result<crate::model::User, ApiError> {
    let mut keys = vec![format!("name:{name}")];
    if let Some(a) = addr.0 {
        keys.push(format!("addr:{a}"));
    }
    let from = addr.0.map(|a| a.to_string());
    let turn = match st.logins.admit(&keys).await {
        Ok(t) => t,
        Err(Refusal::Locked(wait)) => {
            return Err(ApiError::new(
                StatusCode::TOO_MANY_REQUESTS,
                "too_many_attempts",
                format!(
                    "too many failed logins; try again in {} s",
                    wait.as_secs().max(1)
                ),
            ));
        }
        Err(Refusal::Busy) => {
            return Err(ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "busy",
                "too many logins at once; try again shortly",
            ));
        }
    };
    let judged = st.store.login(name, password).await?;
    drop(turn);
    match judged {
        Ok(u) => {
            st.logins.succeeded(&keys[0]);
            Ok(u)
        }
        Err(why) => {
            let locked = st.logins.failed(&keys);
            st.store
                .audit(
                    name,
                    "login.failed",
                    name,
                    json!({"from": from, "reason": why.to_string(),
                           "locked_secs": locked.map(|d| d.as_secs())}),
                )
                .await?;
            Err(ApiError::unauthorized(why.to_string()))
        }
    }
}

pub async fn login(
    State(st): State<Shared>,
    addr: ClientAddr,
    body: Result<Json<Login>, JsonRejection>,
) -> Result<Json<Value>, ApiError> {
    let Json(l) = body?;
    let user = check_password(&st, addr, &l.name, &l.password).await?;
    // A session carries every scope the user could use anywhere; each request is still checked
    // against the user's role on the project at hand.
    let highest = st.store.highest_role(user.id).await?;
    let (t, text) = st
        .store
        .create_session(user.id, &scopes_for(highest), SESSION_SECS)
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
    Json(json!({"user": c.user, "scopes": c.scopes, "session": c.session}))
}

/// Ends the session (or revokes the API token) the request was made with.
pub async fn logout(State(st): State<Shared>, c: Caller) -> Result<StatusCode, ApiError> {
    st.store.revoke_token(c.token_id).await?;
    st.store
        .audit(
            &c.user.name,
            "logout",
            &c.user.name,
            json!({"token": c.token_id, "session": c.session}),
        )
        .await?;
    Ok(StatusCode::NO_CONTENT)
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
    /// The caller's current password: required to change one's own password.
    current_password: Option<String>,
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
    addr: ClientAddr,
    Path(name): Path<String>,
    body: Result<Json<UserChange>, JsonRejection>,
) -> Result<Json<Value>, ApiError> {
    let Json(ch) = body?;
    // Everyone may change their own password, in a login session and with the current one (an
    // API token, whatever its scope, never can); everything else is for admins, capped as
    // always by the token's scopes.
    let own_password_only = name == c.user.name
        && ch.role.is_none()
        && ch.disabled.is_none()
        && ch.project_role.is_none();
    if own_password_only {
        if !c.session {
            return Err(ApiError::forbidden(
                "changing your own password needs a login session, not an API token",
            ));
        }
        let Some(current) = &ch.current_password else {
            return Err(ApiError::bad(
                "give current_password to change your own password",
            ));
        };
        if ch.password.is_some() {
            check_password(&st, addr, &c.user.name, current).await?;
        }
    } else {
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
        // Every other session and token of the user ends with the old password.
        let keep = (name == c.user.name).then_some(c.token_id);
        st.store.revoke_user_tokens(target.id, keep).await?;
    }
    if let Some(r) = ch.role {
        st.store.set_role(&name, r).await?;
    }
    if let Some(d) = ch.disabled {
        st.store.set_disabled(&name, d).await?;
    }
    if ch.disabled == Some(true) {
        st.store.revoke_user_tokens(target.id, None).await?;
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

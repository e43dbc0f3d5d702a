//! Schedules: cron-style playbook runs (nightly backup rotation, health checks every N minutes).

use super::{ApiError, Caller};
use crate::model::{Role, RunOptions};
use crate::state::Shared;
use axum::Json;
use axum::extract::rejection::JsonRejection;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::Deserialize;
use serde_json::{Value, json};

pub async fn list(State(st): State<Shared>, c: Caller) -> Result<Json<Value>, ApiError> {
    let mut out = Vec::new();
    for s in st.store.schedules().await? {
        if c.role(&st, Some(s.project_id)).await? >= Role::Viewer {
            out.push(s.shown());
        }
    }
    Ok(Json(json!(out)))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewSchedule {
    project: String,
    name: String,
    cron: String,
    playbook: String,
    inventory: String,
    #[serde(default)]
    options: RunOptions,
}

pub async fn create(
    State(st): State<Shared>,
    c: Caller,
    body: Result<Json<NewSchedule>, JsonRejection>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let Json(n) = body?;
    let (p, _) = super::projects::checked(
        &st,
        &c,
        &n.project,
        Role::Operator,
        &n.playbook,
        &n.inventory,
    )
    .await?;
    let s = st
        .store
        .create_schedule(
            p.id,
            &n.name,
            &n.cron,
            &n.playbook,
            &n.inventory,
            &n.options,
        )
        .await?;
    // It runs on behalf of its creator, checked each time it fires.
    let s = st.store.set_schedule_owner(s.id, c.user.id).await?;
    st.store
        .audit(
            &c.user.name,
            "schedule.create",
            &n.name,
            json!({"project": p.name, "cron": s.cron, "playbook": s.playbook}),
        )
        .await?;
    Ok((StatusCode::CREATED, Json(json!(s.shown()))))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Change {
    enabled: bool,
}

pub async fn update(
    State(st): State<Shared>,
    c: Caller,
    Path(id): Path<i64>,
    body: Result<Json<Change>, JsonRejection>,
) -> Result<Json<Value>, ApiError> {
    let Json(ch) = body?;
    let s = st.store.schedule(id).await?;
    c.require(&st, Some(s.project_id), Role::Operator).await?;
    st.store.set_schedule_enabled(id, ch.enabled).await?;
    // Whoever changes a schedule takes it over (a disabled owner's schedule gets a new one).
    let s = st.store.set_schedule_owner(id, c.user.id).await?;
    st.store
        .audit(
            &c.user.name,
            "schedule.update",
            &s.name,
            json!({"enabled": ch.enabled, "owner": c.user.name}),
        )
        .await?;
    Ok(Json(json!(s.shown())))
}

pub async fn delete(
    State(st): State<Shared>,
    c: Caller,
    Path(id): Path<i64>,
) -> Result<StatusCode, ApiError> {
    let s = st.store.schedule(id).await?;
    c.require(&st, Some(s.project_id), Role::Operator).await?;
    st.store.delete_schedule(id).await?;
    st.store
        .audit(&c.user.name, "schedule.delete", &s.name, json!({}))
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

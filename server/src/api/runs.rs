//! Runs: start (also from a CI webhook), list, show with per-host results, history of events,
//! a live event stream (server-sent events), cancel.

use super::{ApiError, Caller};
use crate::model::{NewRun, Role, RunOptions, RunStatus};
use crate::state::Shared;
use axum::Json;
use axum::extract::rejection::JsonRejection;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::sse::{Event as SseEvent, KeepAlive, Sse};
use futures::Stream;
use serde::Deserialize;
use serde_json::{Value, json};
use std::convert::Infallible;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StartRun {
    project: Option<String>,
    playbook: String,
    inventory: String,
    #[serde(default)]
    limit: Option<String>,
    #[serde(default)]
    tags: Vec<String>,
    #[serde(default)]
    skip_tags: Vec<String>,
    #[serde(default)]
    extra_vars: serde_json::Map<String, Value>,
    #[serde(default)]
    check: bool,
    #[serde(default)]
    diff: bool,
}

async fn start(
    st: &Shared,
    c: &Caller,
    project: &str,
    s: StartRun,
    via: &str,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    // Refuse what cannot run now, not later in the history.
    let (p, book) =
        super::projects::checked(st, c, project, Role::Operator, &s.playbook, &s.inventory).await?;
    if let Err(e) = hoist_core::playbook::load_playbook(&book) {
        return Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_playbook",
            e.to_string(),
        ));
    }
    let run = st
        .store
        .enqueue(NewRun {
            project_id: p.id,
            playbook: s.playbook,
            inventory: s.inventory,
            options: RunOptions {
                limit: s.limit,
                tags: s.tags,
                skip_tags: s.skip_tags,
                extra_vars: s.extra_vars,
                check: s.check,
                diff: s.diff,
            },
            created_by: c.user.name.clone(),
            schedule_id: None,
            revision: p.revision.clone(),
        })
        .await?;
    st.changed(0);
    st.store
        .audit(
            &c.user.name,
            "run.start",
            &format!("run {}", run.id),
            json!({"project": p.name, "playbook": run.playbook, "via": via}),
        )
        .await?;
    Ok((StatusCode::CREATED, Json(json!(run.shown()))))
}

pub async fn create(
    State(st): State<Shared>,
    c: Caller,
    body: Result<Json<StartRun>, JsonRejection>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let Json(s) = body?;
    let project = s
        .project
        .clone()
        .ok_or_else(|| ApiError::bad("`project` is required"))?;
    start(&st, &c, &project, s, "api").await
}

/// CI/CD: `POST /api/v1/hooks/{project}` with a token holding the `run` scope.
pub async fn webhook(
    State(st): State<Shared>,
    c: Caller,
    Path(project): Path<String>,
    body: Result<Json<StartRun>, JsonRejection>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let Json(s) = body?;
    if s.project.as_deref().is_some_and(|p| p != project) {
        return Err(ApiError::bad("the body names another project than the URL"));
    }
    start(&st, &c, &project, s, "webhook").await
}

#[derive(Deserialize)]
pub struct Page {
    limit: Option<i64>,
    before: Option<i64>,
}

pub async fn list(
    State(st): State<Shared>,
    c: Caller,
    Query(q): Query<Page>,
) -> Result<Json<Value>, ApiError> {
    let runs = st
        .store
        .runs(q.limit.unwrap_or(50).clamp(1, 500), q.before)
        .await?;
    let mut out = Vec::new();
    for r in runs {
        if c.role(&st, Some(r.project_id)).await? >= Role::Viewer {
            out.push(r.shown());
        }
    }
    Ok(Json(json!(out)))
}

async fn visible(st: &Shared, c: &Caller, id: i64) -> Result<crate::model::Run, ApiError> {
    let run = st.store.run(id).await?;
    c.require(st, Some(run.project_id), Role::Viewer).await?;
    Ok(run)
}

pub async fn show(
    State(st): State<Shared>,
    c: Caller,
    Path(id): Path<i64>,
) -> Result<Json<Value>, ApiError> {
    let run = visible(&st, &c, id).await?;
    let hosts: serde_json::Map<String, Value> = st.store.run_hosts(id).await?.into_iter().collect();
    Ok(Json(json!({"run": run.shown(), "hosts": hosts})))
}

#[derive(Deserialize)]
pub struct After {
    after: Option<i64>,
    limit: Option<i64>,
}

pub async fn events(
    State(st): State<Shared>,
    c: Caller,
    Path(id): Path<i64>,
    Query(q): Query<After>,
) -> Result<Json<Value>, ApiError> {
    visible(&st, &c, id).await?;
    let ev = st
        .store
        .events(
            id,
            q.after.unwrap_or(0),
            q.limit.unwrap_or(1000).clamp(1, 10_000),
        )
        .await?;
    Ok(Json(json!(
        ev.into_iter()
            .map(|(seq, e)| json!({"seq": seq, "event": e}))
            .collect::<Vec<_>>()
    )))
}

/// Server-sent events: the stored history first, then live events until the run ends.
pub async fn stream(
    State(st): State<Shared>,
    c: Caller,
    Path(id): Path<i64>,
    Query(q): Query<After>,
) -> Result<Sse<impl Stream<Item = Result<SseEvent, Infallible>>>, ApiError> {
    visible(&st, &c, id).await?;
    // Subscribe before reading the history, so nothing falls between the two.
    let live = st.subscribe(id);
    let stream = event_stream(st.clone(), id, q.after.unwrap_or(0), live);
    Ok(Sse::new(stream).keep_alive(KeepAlive::default()))
}

enum Phase {
    History(i64),
    Live(i64),
    Done,
}

/// The run's live channel: fed by this instance's executor when it runs the run, else by this
/// instance's relay of it (relay.rs).
type Live = Option<tokio::sync::broadcast::Receiver<(i64, String)>>;

fn end_event(status: &str) -> SseEvent {
    SseEvent::default()
        .event("end")
        .data(json!({"status": status}).to_string())
}

/// Queues `rest` (the events stored after the last one sent), then the end (the queue is
/// popped from the back).
fn end_after(queue: &mut Vec<SseEvent>, status: &str, rest: Vec<(i64, Value)>) {
    queue.push(end_event(status));
    for (seq, e) in rest.into_iter().rev() {
        queue.push(SseEvent::default().id(seq.to_string()).data(e.to_string()));
    }
}

fn event_stream(
    st: Shared,
    id: i64,
    after: i64,
    live: Live,
) -> impl Stream<Item = Result<SseEvent, Infallible>> {
    futures::stream::unfold(
        (
            Phase::History(after),
            Vec::<SseEvent>::new(),
            live,
            st.changes.subscribe(),
        ),
        move |(mut phase, mut queue, mut live, mut changes)| {
            let st = st.clone();
            async move {
                loop {
                    if let Some(e) = queue.pop() {
                        return Some((Ok(e), (phase, queue, live, changes)));
                    }
                    match phase {
                        Phase::Done => return None,
                        Phase::History(last) => {
                            let batch = st.store.events(id, last, 500).await.unwrap_or_default();
                            if !batch.is_empty() {
                                let newest = batch.last().map(|(s, _)| *s).unwrap_or(last);
                                for (seq, e) in batch.into_iter().rev() {
                                    queue.push(
                                        SseEvent::default().id(seq.to_string()).data(e.to_string()),
                                    );
                                }
                                phase = Phase::History(newest);
                                continue;
                            }
                            let run = st.store.run(id).await.ok();
                            match run {
                                Some(r) if !r.status.is_final() => phase = Phase::Live(last),
                                Some(r) => {
                                    // The run ended between the two reads: its last events were
                                    // stored before it was marked ended, so read them again now
                                    // (before, a run ending right then lost its last lines).
                                    let rest =
                                        st.store.events(id, last, 10_000).await.unwrap_or_default();
                                    end_after(&mut queue, r.status.as_str(), rest);
                                    phase = Phase::Done;
                                }
                                None => return None,
                            }
                        }
                        Phase::Live(last) => {
                            if live.is_none() {
                                // Not (yet) running here: once this instance claims the run, follow
                                // its channel; run by another instance, follow this instance's
                                // relay of it. Either way the history is read again after
                                // subscribing, so nothing falls between.
                                live = st.subscribe(id);
                                if live.is_none() {
                                    match st.store.run(id).await {
                                        // Executing elsewhere: this instance's relay of it.
                                        Ok(r)
                                            if r.status == RunStatus::Running
                                                && r.instance.as_deref()
                                                    != Some(st.instance.as_str()) =>
                                        {
                                            live = Some(crate::relay::follow(&st, id, last));
                                        }
                                        // Queued: until it is claimed here or elsewhere.
                                        _ => {
                                            crate::state::wait_change(
                                                &mut changes,
                                                id,
                                                std::time::Duration::from_secs(1),
                                            )
                                            .await
                                        }
                                    }
                                }
                                phase = Phase::History(last);
                                continue;
                            }
                            let Some(rx) = live.as_mut() else {
                                continue;
                            };
                            match tokio::time::timeout(std::time::Duration::from_secs(2), rx.recv())
                                .await
                            {
                                Ok(Ok((seq, e))) if seq == i64::MAX => {
                                    let status = serde_json::from_str::<Value>(&e)
                                        .ok()
                                        .and_then(|v| v["status"].as_str().map(str::to_string))
                                        .unwrap_or_default();
                                    // Whatever was stored after `last` comes first.
                                    let rest =
                                        st.store.events(id, last, 10_000).await.unwrap_or_default();
                                    end_after(&mut queue, &status, rest);
                                    phase = Phase::Done;
                                }
                                Ok(Ok((seq, _))) if seq <= last => {}
                                Ok(Ok((seq, e))) => {
                                    queue.push(SseEvent::default().id(seq.to_string()).data(e));
                                    phase = Phase::Live(seq);
                                }
                                Ok(Err(tokio::sync::broadcast::error::RecvError::Closed)) => {
                                    live = None;
                                    phase = Phase::History(last);
                                }
                                // Fell behind, the channel closed, or quiet for a while: catch up from
                                // the history (which also notices a run that ended elsewhere).
                                Ok(Err(_)) | Err(_) => phase = Phase::History(last),
                            }
                        }
                    }
                }
            }
        },
    )
}

pub async fn cancel(
    State(st): State<Shared>,
    c: Caller,
    Path(id): Path<i64>,
) -> Result<Json<Value>, ApiError> {
    let run = st.store.run(id).await?;
    c.require(&st, Some(run.project_id), Role::Operator).await?;
    let run = st.store.request_cancel(id).await?;
    st.store
        .audit(&c.user.name, "run.cancel", &format!("run {id}"), json!({}))
        .await?;
    Ok(Json(json!(run.shown())))
}

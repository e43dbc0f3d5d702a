//! The executor: claims queued runs, runs each playbook in process with hoist's engine, stores
//! every event (already secret-masked by the engine) as it happens and fans it out to live
//! viewers, heart-beats while running, and stops a run when a cancel is requested. Runs whose
//! instance died are marked lost by any instance.

use crate::model::{Run, RunStatus};
use crate::state::{ProjectDir, Shared};
use hoist_core::inventory::Inventory;
use hoist_core::run::{Event, Recap, RunOptions, Runner, Sink};
use hoist_core::ssh::{ConnectContext, ConnectOptions, KeyCache, Pool, SshConfig};
use hoist_core::template::Trust;
use serde_json::{Value as Json, json};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::mpsc;

/// Default seconds without a heartbeat after which a running run counts as lost.
pub const STALE_SECS: i64 = 20;
const HEARTBEAT: Duration = Duration::from_secs(2);

/// Runs this instance's share of the work until `stop` turns true: the housekeeping loop
/// (lost runs, due schedules) and the claim loop, which runs up to `max_runs` runs at once
/// (none when it is 0).
pub async fn worker(state: Shared, stop: tokio::sync::watch::Receiver<bool>) {
    let house = tokio::spawn(housekeeping(state.clone(), stop.clone()));
    // With `max_runs` 0 the instance takes no runs: others sharing the database do.
    if state.max_runs > 0 {
        claim_loop(state, stop).await;
    }
    let _ = house.await;
}

/// Every 500 ms: marks runs of dead instances lost (queuing their retries) and fires due
/// schedules. Any instance may do it; the store makes each happen once.
async fn housekeeping(state: Shared, mut stop: tokio::sync::watch::Receiver<bool>) {
    while !*stop.borrow() {
        match state
            .store
            .reap_lost(state.stale_secs, state.max_attempts)
            .await
        {
            Ok(lost) => {
                if lost.iter().any(|(_, retry)| retry.is_some()) {
                    state.changed(0);
                }
                for (run, retry) in lost {
                    match retry {
                        Some(r) => eprintln!(
                            "hoist serve: run {run} was lost (its instance stopped); queued again as run {r}"
                        ),
                        None => eprintln!(
                            "hoist serve: run {run} was lost (its instance stopped); no attempts left"
                        ),
                    }
                }
            }
            Err(e) => eprintln!("hoist serve: reaping lost runs: {e}"),
        }
        match state
            .store
            .fire_due(&format!("scheduler@{}", state.instance))
            .await
        {
            Ok(fired) if !fired.is_empty() => state.changed(0),
            Ok(_) => {}
            Err(e) => eprintln!("hoist serve: schedules: {e}"),
        }
        tokio::select! {
            _ = tokio::time::sleep(Duration::from_millis(500)) => {}
            _ = stop.changed() => {}
        }
    }
}

/// Claims queued runs while a slot is free and runs each on its own task; on stop, waits for
/// the running ones to end.
async fn claim_loop(state: Shared, mut stop: tokio::sync::watch::Receiver<bool>) {
    let slots = Arc::new(tokio::sync::Semaphore::new(state.max_runs));
    let mut running = tokio::task::JoinSet::new();
    // Subscribed before the first claim, so no enqueue falls between a claim and the wait.
    let mut changes = state.changes.subscribe();
    while !*stop.borrow() {
        let permit = tokio::select! {
            p = slots.clone().acquire_owned() => match p {
                Ok(p) => p,
                Err(_) => break,
            },
            _ = stop.changed() => continue,
        };
        while running.try_join_next().is_some() {}
        match state.store.claim(&state.instance).await {
            Ok(Some(run)) => {
                // Viewers who opened the run while it was queued take its live channel now.
                state.channel(run.id);
                state.changed(run.id);
                let st = state.clone();
                running.spawn(async move {
                    execute(&st, run).await;
                    drop(permit);
                });
            }
            Ok(None) => {
                drop(permit);
                // Until a run is queued here or (PostgreSQL) anywhere; the timeout only covers
                // a listener that is reconnecting.
                tokio::select! {
                    _ = crate::state::wait_change(&mut changes, 0, Duration::from_secs(2)) => {}
                    _ = stop.changed() => {}
                }
            }
            Err(e) => {
                drop(permit);
                eprintln!("hoist serve: claiming a run: {e}");
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
        }
    }
    while running.join_next().await.is_some() {}
}

/// Forwards engine events to the database writer.
struct Forward(mpsc::UnboundedSender<String>);

impl Sink for Forward {
    fn event(&self, e: &Event) {
        if let Ok(text) = serde_json::to_string(e) {
            let _ = self.0.send(text);
        }
    }
}

/// Writes events in order (batched) and broadcasts them; returns the next sequence number.
async fn writer(
    state: Shared,
    run_id: i64,
    mut rx: mpsc::UnboundedReceiver<String>,
    mut seq: i64,
) -> i64 {
    let live = state.channel(run_id);
    while let Some(first) = rx.recv().await {
        let mut batch = vec![first];
        while let Ok(more) = rx.try_recv() {
            batch.push(more);
            if batch.len() >= 200 {
                break;
            }
        }
        if let Err(e) = state.store.append_events(run_id, seq, batch.clone()).await {
            eprintln!("hoist serve: run {run_id}: storing events: {e}");
        }
        for e in batch {
            let _ = live.send((seq, e));
            seq += 1;
        }
    }
    seq
}

fn status_of(recap: &Recap) -> (RunStatus, i64) {
    if recap.any_unreachable() {
        (RunStatus::Unreachable, 4)
    } else if recap.any_failed() {
        (RunStatus::Failed, 2)
    } else {
        (RunStatus::Ok, 0)
    }
}

/// Loads what a run needs (a git project at the run's commit, fetched when new here; a run
/// started without one, by a schedule, gets the newest commit and records it); an error is a
/// message for the run's history.
async fn prepare(
    state: &Shared,
    run: &Run,
) -> Result<(hoist_core::playbook::Playbook, Inventory, ProjectDir), String> {
    let project = state
        .project_for_run(run.project_id, run.revision.as_deref())
        .await?;
    if let (None, Some(rev)) = (&run.revision, &project.revision)
        && let Err(e) = state.store.set_run_revision(run.id, rev).await
    {
        eprintln!("hoist serve: run {}: recording its commit: {e}", run.id);
    }
    let book_path = state.resolve(&project, &run.playbook)?;
    let inv_path = state.resolve(&project, &run.inventory)?;
    let book = hoist_core::playbook::load_playbook(&book_path).map_err(|e| e.to_string())?;
    let mut inv = Inventory::load(&[inv_path]).map_err(|e| e.to_string())?;
    if let Some(dir) = book_path.parent() {
        inv.add_vars_dirs(dir).map_err(|e| e.to_string())?;
    }
    Ok((book, inv, project))
}

async fn execute(state: &Shared, run: Run) {
    let (tx, rx) = mpsc::unbounded_channel::<String>();
    let writer = tokio::spawn(writer(state.clone(), run.id, rx, 1));
    let outcome = match prepare(state, &run).await {
        Err(message) => {
            let _ = tx.send(
                json!({"event": "error", "message": hoist_core::secrets::redact(&message)})
                    .to_string(),
            );
            (RunStatus::Failed, Some(5), Vec::new())
        }
        Ok((book, inv, project)) => {
            let pool = Arc::new(Pool::new(ConnectContext {
                ssh: SshConfig::default(),
                opts: ConnectOptions {
                    persistent_shell: true,
                    known_hosts: state.connect.known_hosts.clone(),
                    private_keys: state.connect.private_keys.clone(),
                    ..ConnectOptions::default()
                },
                keys: KeyCache::default(),
            }));
            let opts = RunOptions {
                limit: run.options.limit.clone(),
                tags: run.options.tags.clone(),
                skip_tags: run.options.skip_tags.clone(),
                extra_vars: run.options.extra_vars.clone(),
                extra_vars_trust: if project.templated_extra_vars {
                    Trust::Templates
                } else {
                    Trust::Data
                },
                forks: state.connect.forks.max(1),
                check: run.options.check,
                diff: run.options.diff,
                relay: None,
                verbosity: 0,
                ..RunOptions::default()
            };
            let runner = Runner::new(Arc::new(inv), pool, Arc::new(Forward(tx.clone())), opts);
            // The run is a task of its own: heartbeats and cancels go on while it blocks (a
            // `pipe` lookup), and a cancel stops its lookup commands through the flag.
            let cancel = Arc::new(std::sync::atomic::AtomicBool::new(false));
            let mut play = tokio::spawn(hoist_core::template::blocking::cancellable(
                cancel.clone(),
                async move { runner.run(&book).await },
            ));
            let mut beat = tokio::time::interval(HEARTBEAT);
            loop {
                tokio::select! {
                    r = &mut play => {
                        let r = r.unwrap_or_else(|e| Err(hoist_core::run::RunError::Other(format!("the run stopped: {e}"))));
                        break match r {
                            Ok(recap) => {
                                let (s, code) = status_of(&recap);
                                let hosts = recap
                                    .hosts
                                    .iter()
                                    .map(|(h, st)| (h.clone(), serde_json::to_value(st).unwrap_or(Json::Null)))
                                    .collect();
                                (s, Some(code), hosts)
                            }
                            Err(e) => {
                                let _ = tx.send(json!({"event": "error", "message": hoist_core::secrets::redact(&e.to_string())}).to_string());
                                (RunStatus::Failed, Some(5), Vec::new())
                            }
                        };
                    }
                    _ = beat.tick() => {
                        match state.store.heartbeat(run.id, &state.instance).await {
                            Ok(true) => {
                                cancel.store(true, std::sync::atomic::Ordering::Relaxed);
                                play.abort();
                                let _ = tx.send(json!({"event": "cancelled"}).to_string());
                                break (RunStatus::Cancelled, None, Vec::new());
                            }
                            Ok(false) => {}
                            Err(e) => eprintln!("hoist serve: run {}: heartbeat: {e}", run.id),
                        }
                    }
                }
            }
        }
    };
    drop(tx);
    let _ = writer.await;
    let (status, code, hosts) = outcome;
    if let Err(e) = state.store.finish(run.id, status, code, hosts).await {
        eprintln!("hoist serve: run {}: {e}", run.id);
    }
    // Viewers learn the end from a final event on the live channel.
    let _ = state.channel(run.id).send((
        i64::MAX,
        json!({"event": "end", "status": status.as_str()}).to_string(),
    ));
    state.close_channel(run.id);
}

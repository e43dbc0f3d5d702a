//! Projects and their playbooks and inventories.

use super::{ApiError, Caller};
use crate::model::Role;
use crate::state::{Project, Shared, Source};
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde_json::{Value, json};

/// The project called `name` if the caller holds `need` on it (404, 403), with `playbook` and
/// `inventory` resolved inside it (422 when either is missing or leads outside); returns the
/// project and the playbook's path.
pub(super) async fn checked(
    st: &Shared,
    c: &Caller,
    name: &str,
    need: Role,
    playbook: &str,
    inventory: &str,
) -> Result<(crate::state::ProjectDir, std::path::PathBuf), ApiError> {
    let p = st
        .project(name)
        .ok_or_else(|| ApiError::not_found(format!("project `{name}`")))?;
    c.require(st, Some(p.id), need).await?;
    let invalid = |what: &str, e: String| {
        ApiError::new(
            axum::http::StatusCode::UNPROCESSABLE_ENTITY,
            "invalid",
            format!("{what} {e}"),
        )
    };
    let book = st
        .resolve(&p, playbook)
        .map_err(|e| invalid("playbook", e))?;
    st.resolve(&p, inventory)
        .map_err(|e| invalid("inventory", e))?;
    Ok((p, book))
}

fn describe(p: &Project) -> Value {
    let now = p.now();
    let (source, url, reference) = match &p.source {
        Source::Dir(_) => ("directory", None, None),
        Source::Git(g) => ("git", Some(g.url.as_str()), Some(g.reference.as_str())),
    };
    json!({
        "id": p.id,
        "name": p.name,
        "source": source,
        "url": url,
        "reference": reference,
        "revision": now.as_ref().and_then(|d| d.revision.clone()),
        "path": now.map(|d| d.root),
    })
}

pub async fn list(State(st): State<Shared>, c: Caller) -> Result<Json<Value>, ApiError> {
    let mut out = Vec::new();
    for p in &st.projects {
        if c.role(&st, Some(p.id)).await? >= Role::Viewer {
            out.push(describe(p));
        }
    }
    Ok(Json(json!(out)))
}

/// `POST /api/v1/projects/{p}/sync`: fetches a git project and moves it to the newest commit
/// of its reference (runs started later use it; running ones keep theirs).
pub async fn sync(
    State(st): State<Shared>,
    c: Caller,
    Path(name): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let p = st
        .projects
        .iter()
        .find(|p| p.name == name)
        .ok_or_else(|| ApiError::not_found(format!("project `{name}`")))?;
    c.require(&st, Some(p.id), Role::Operator).await?;
    let Source::Git(g) = &p.source else {
        return Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid",
            format!("project `{name}` is a directory, not a git repository: nothing to sync"),
        ));
    };
    let before = g.current().map(|(c, _)| c);
    let (commit, _) = g.sync().await.map_err(|e| {
        ApiError::new(
            StatusCode::BAD_GATEWAY,
            "sync_failed",
            format!("project `{name}`: {e}"),
        )
    })?;
    st.store
        .audit(
            &c.user.name,
            "project.sync",
            &name,
            json!({"from": before, "to": commit}),
        )
        .await?;
    Ok(Json(describe(p)))
}

/// YAML files of a project, sorted into playbooks (a list of plays) and inventories.
pub async fn files(
    State(st): State<Shared>,
    c: Caller,
    Path(name): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let p = st
        .project(&name)
        .ok_or_else(|| ApiError::not_found(format!("project `{name}`")))?;
    c.require(&st, Some(p.id), Role::Viewer).await?;
    let root = p.root.clone();
    let (books, invs) = tokio::task::spawn_blocking(move || scan(&root))
        .await
        .map_err(|e| ApiError::bad(e.to_string()))?;
    Ok(Json(json!({"playbooks": books, "inventories": invs})))
}

fn scan(root: &std::path::Path) -> (Vec<String>, Vec<String>) {
    let (mut books, mut invs) = (Vec::new(), Vec::new());
    let mut stack = vec![root.to_path_buf()];
    let mut seen = 0;
    while let Some(dir) = stack.pop() {
        let Ok(rd) = std::fs::read_dir(&dir) else {
            continue;
        };
        for e in rd.flatten() {
            seen += 1;
            if seen > 20_000 {
                break;
            }
            let path = e.path();
            let name = e.file_name().to_string_lossy().into_owned();
            if name.starts_with('.') || name == "target" || name == "node_modules" {
                continue;
            }
            let Ok(ft) = e.file_type() else { continue };
            if ft.is_dir() {
                stack.push(path);
                continue;
            }
            if !(name.ends_with(".yml") || name.ends_with(".yaml")) {
                continue;
            }
            let Ok(rel) = path.strip_prefix(root) else {
                continue;
            };
            let rel = rel.display().to_string();
            let text = std::fs::read_to_string(&path).unwrap_or_default();
            let first = text
                .lines()
                .map(str::trim)
                .find(|l| !l.is_empty() && !l.starts_with('#') && *l != "---")
                .unwrap_or("");
            if first.starts_with("- ")
                && (text.contains("hosts:") || text.contains("import_playbook:"))
            {
                books.push(rel);
            } else if first.starts_with("all:")
                || first.starts_with("plugin:")
                || rel.starts_with("inventory")
            {
                invs.push(rel);
            }
        }
    }
    books.sort();
    invs.sort();
    (books, invs)
}

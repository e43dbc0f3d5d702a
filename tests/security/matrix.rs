//! The authorization matrix: every API route × every role (admin, operator, viewer) × every
//! credential each role can hold (a login session, and an API token of each scope set it may
//! create) × anonymous and forged tokens, with the expected status from one table. What a
//! request may do is the lower of the user's role and the token's scopes.

use crate::server::{ADMIN_PW, SHOW, call, login, serve, wait_final};
use serde_json::{Value, json};
use std::sync::atomic::{AtomicUsize, Ordering};

/// Roles in order of power.
const ROLES: [&str; 3] = ["viewer", "operator", "admin"];

fn rank(role: &str) -> usize {
    ROLES.iter().position(|r| *r == role).unwrap_or(0)
}

/// The role a set of scopes allows.
fn scope_rank(scopes: &[&str]) -> usize {
    if scopes.contains(&"admin") {
        2
    } else if scopes.contains(&"run") {
        1
    } else {
        0
    }
}

#[test]
fn every_route_by_role_and_token_scope() {
    let s = serve(&[("show.yml", SHOW)], &[]);
    let admin = login(&s, "admin", ADMIN_PW);
    for (name, role) in [
        ("olga", "operator"),
        ("vic", "viewer"),
        ("victim", "viewer"),
    ] {
        let (st, v) = call(
            &s,
            "POST",
            "/api/v1/users",
            Some(&admin),
            Some(&json!({"name": name, "password": format!("{name}-password-1"), "role": role})),
        );
        assert_eq!(st, 201, "{v}");
    }
    let run_body = json!({"project": "demo", "playbook": "show.yml", "inventory": "inventory.yml",
                          "extra_vars": {"version": "1"}});
    let (_, run) = call(&s, "POST", "/api/v1/runs", Some(&admin), Some(&run_body));
    let id = run["id"].as_i64().expect("run");
    wait_final(&s, &admin, id);
    let n = AtomicUsize::new(0);
    let fresh = || n.fetch_add(1, Ordering::SeqCst);
    // Per case: what to call (made fresh where the call consumes something), the role it
    // needs, and the status when allowed.
    type Case<'a> = (
        &'static str,
        Box<dyn Fn() -> (String, Option<Value>) + 'a>,
        usize,
        u16,
    );
    let schedule = |who: &str| {
        let body = json!({"project": "demo", "name": format!("m-{who}-{}", fresh()), "cron": "@daily",
                          "playbook": "show.yml", "inventory": "inventory.yml"});
        let (st, v) = call(&s, "POST", "/api/v1/schedules", Some(&admin), Some(&body));
        assert_eq!(st, 201, "{v}");
        v["id"].as_i64().expect("schedule")
    };
    let victims_token = || {
        // A password change by an admin ends the victim's sessions: log in again each time.
        let victim = login(&s, "victim", "victim-password-1");
        let (st, v) = call(
            &s,
            "POST",
            "/api/v1/tokens",
            Some(&victim),
            Some(&json!({"name": format!("v{}", fresh()), "scopes": ["read"]})),
        );
        assert_eq!(st, 201, "{v}");
        v["info"]["id"].as_i64().expect("token")
    };
    let plain = |p: &str| {
        let p = p.to_string();
        Box::new(move || (p.clone(), None)) as Box<dyn Fn() -> (String, Option<Value>)>
    };
    let cases: Vec<Case> = vec![
        ("GET", plain("/api/v1/me"), 0, 200),
        ("GET", plain("/api/v1/projects"), 0, 200),
        ("GET", plain("/api/v1/projects/demo/files"), 0, 200),
        ("GET", plain("/api/v1/runs"), 0, 200),
        ("GET", plain(&format!("/api/v1/runs/{id}")), 0, 200),
        ("GET", plain(&format!("/api/v1/runs/{id}/events")), 0, 200),
        ("GET", plain(&format!("/api/v1/runs/{id}/stream")), 0, 200),
        ("GET", plain("/api/v1/schedules"), 0, 200),
        ("GET", plain("/api/v1/tokens"), 0, 200),
        (
            "POST",
            Box::new(|| {
                (
                    "/api/v1/tokens".into(),
                    Some(json!({"name": format!("t{}", fresh()), "scopes": ["read"]})),
                )
            }),
            0,
            201,
        ),
        ("POST", plain("/api/v1/projects/demo/sync"), 1, 422),
        (
            "POST",
            Box::new(|| ("/api/v1/runs".into(), Some(run_body.clone()))),
            1,
            201,
        ),
        (
            "POST",
            Box::new(|| ("/api/v1/hooks/demo".into(), Some(run_body.clone()))),
            1,
            201,
        ),
        ("POST", plain(&format!("/api/v1/runs/{id}/cancel")), 1, 422),
        (
            "POST",
            Box::new(|| {
                (
                    "/api/v1/schedules".into(),
                    Some(
                        json!({"project": "demo", "name": format!("c{}", fresh()), "cron": "@daily", "playbook": "show.yml", "inventory": "inventory.yml"}),
                    ),
                )
            }),
            1,
            201,
        ),
        (
            "PATCH",
            Box::new(|| {
                (
                    format!("/api/v1/schedules/{}", schedule("p")),
                    Some(json!({"enabled": false})),
                )
            }),
            1,
            200,
        ),
        (
            "DELETE",
            Box::new(|| (format!("/api/v1/schedules/{}", schedule("d")), None)),
            1,
            204,
        ),
        ("GET", plain("/api/v1/users"), 2, 200),
        (
            "POST",
            Box::new(|| {
                (
                    "/api/v1/users".into(),
                    Some(
                        json!({"name": format!("u{}", fresh()), "password": "long-enough-pw", "role": "viewer"}),
                    ),
                )
            }),
            2,
            201,
        ),
        (
            "PATCH",
            Box::new(|| ("/api/v1/users/vic".into(), Some(json!({"role": "viewer"})))),
            2,
            200,
        ),
        // Someone else's password: admins only; one's own: a session and the current password.
        (
            "PATCH",
            Box::new(|| {
                (
                    "/api/v1/users/victim".into(),
                    Some(json!({"password": "victim-password-1"})),
                )
            }),
            2,
            200,
        ),
        (
            "DELETE",
            Box::new(|| (format!("/api/v1/tokens/{}", victims_token()), None)),
            2,
            204,
        ),
        ("GET", plain("/api/v1/audit"), 2, 200),
    ];
    // Every credential: (user, role, token text, rank allowed by its scopes, is a session).
    let mut creds: Vec<(String, usize, String, usize, bool)> = Vec::new();
    for (user, role, pw) in [
        ("admin", "admin", ADMIN_PW.to_string()),
        ("olga", "operator", "olga-password-1".into()),
        ("vic", "viewer", "vic-password-1".into()),
    ] {
        let session = login(&s, user, &pw);
        creds.push((user.into(), rank(role), session.clone(), 2, true));
        let sets: &[&[&str]] = &[&["read"], &["read", "run"], &["read", "run", "admin"]];
        for scopes in sets.iter().take(rank(role) + 1) {
            let (st, v) = call(
                &s,
                "POST",
                "/api/v1/tokens",
                Some(&session),
                Some(&json!({"name": format!("{user}-{}", scopes.join("-")), "scopes": scopes})),
            );
            assert_eq!(st, 201, "{v}");
            creds.push((
                user.into(),
                rank(role),
                v["token"].as_str().expect("t").into(),
                scope_rank(scopes),
                false,
            ));
        }
        // A token above the user's role cannot be made.
        if rank(role) < 2 {
            let (st, _) = call(
                &s,
                "POST",
                "/api/v1/tokens",
                Some(&session),
                Some(&json!({"name": "too-much", "scopes": ["read", "run", "admin"]})),
            );
            assert_eq!(st, 403, "{user} made an admin token");
        }
    }
    let mut checked = 0;
    for (method, make, need, ok) in &cases {
        for (user, role, token, scope, session) in &creds {
            let (path, body) = make();
            let allowed = (*role).min(*scope) >= *need;
            let want = if allowed { *ok } else { 403 };
            let (st, v) = call(&s, method, &path, Some(token), body.as_ref());
            assert_eq!(
                st,
                want,
                "{method} {path} as {user} ({}) with a {} of scope {}: {v}",
                ROLES[*role],
                if *session { "session" } else { "token" },
                ROLES[*scope]
            );
            checked += 1;
        }
        // Anonymous, malformed and forged credentials: 401 on every route.
        let (path, body) = make();
        for bad in [None, Some("nonsense"), Some("hst_AAAAAAAAAAAA_forged")] {
            let (st, v) = call(&s, method, &path, bad, body.as_ref());
            assert_eq!(st, 401, "{method} {path} with {bad:?}: {v}");
            checked += 1;
        }
    }
    // Sign-out works for every credential and ends it.
    for (user, _, token, _, _) in &creds {
        let (st, _) = call(&s, "POST", "/api/v1/logout", Some(token), None);
        assert_eq!(st, 204, "{user}");
        let (st, _) = call(&s, "GET", "/api/v1/me", Some(token), None);
        assert_eq!(st, 401, "{user}: the credential still works after sign-out");
        checked += 2;
    }
    let (st, _) = call(&s, "POST", "/api/v1/logout", None, None);
    assert_eq!(st, 401);
    eprintln!(
        "authorization matrix: {} routes, {} credentials, {checked} requests checked",
        cases.len(),
        creds.len()
    );
}

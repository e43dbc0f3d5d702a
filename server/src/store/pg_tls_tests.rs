//! TLS to a real PostgreSQL server (tests/postgres.sh gives it a certificate for `localhost`
//! signed by a test authority kept in `HOIST_TEST_POSTGRES_TLS`, and a role that may only log
//! in with a client certificate): each sslmode does what libpq's does, and a server that cannot
//! prove who it is, or a client without its certificate, is refused with a clear error.

use super::postgres::chain;
use super::{Store, pg_tls, tests::pg_database};

/// The test authority's directory and the server's port.
fn tls_dir_and_port() -> (std::path::PathBuf, String) {
    let dir = std::env::var("HOIST_TEST_POSTGRES_TLS").expect(
        "HOIST_TEST_POSTGRES_TLS is not set: run the tests with tests/run.sh, which sets up TLS",
    );
    let base = std::env::var("HOIST_TEST_POSTGRES").expect("HOIST_TEST_POSTGRES is set");
    let port = base.rsplit(':').next().unwrap_or("5432").to_string();
    (dir.into(), port)
}

/// Connects the way the store does and reports (TLS in use, client certificate's DN).
async fn session(url: &str) -> Result<(bool, Option<String>), String> {
    let t = pg_tls::configure(url)?;
    let (c, conn) = t.config.connect(t.tls).await.map_err(|e| chain(&e))?;
    tokio::spawn(conn);
    let row = c
        .query_one(
            "SELECT ssl, client_dn FROM pg_stat_ssl WHERE pid = pg_backend_pid()",
            &[],
        )
        .await
        .map_err(|e| chain(&e))?;
    Ok((row.get(0), row.get(1)))
}

/// `postgres://hoist_test:…@HOST:PORT/DB?QUERY` for a fresh database.
async fn url(host: &str, query: &str) -> String {
    let (_, port) = tls_dir_and_port();
    let db = pg_database().await;
    let name = db.rsplit('/').next().unwrap_or_default().to_string();
    format!("postgres://hoist_test:hoist-test-password@{host}:{port}/{name}?{query}")
}

#[tokio::test]
async fn each_sslmode_does_what_libpq_does() {
    let (dir, _) = tls_dir_and_port();
    let ca = dir.join("ca.crt").display().to_string();
    // No sslmode: libpq's `prefer`, so TLS whenever the server offers it.
    assert_eq!(session(&url("127.0.0.1", "").await).await, Ok((true, None)));
    assert_eq!(
        session(&url("127.0.0.1", "sslmode=disable").await).await,
        Ok((false, None))
    );
    assert_eq!(
        session(&url("127.0.0.1", "sslmode=require").await).await,
        Ok((true, None))
    );
    // The certificate names `localhost`: verify-full holds there, verify-ca anywhere.
    let full = format!("sslmode=verify-full&sslrootcert={ca}");
    assert_eq!(
        session(&url("localhost", &full).await).await,
        Ok((true, None))
    );
    let e = session(&url("127.0.0.1", &full).await).await.unwrap_err();
    assert!(
        e.contains("certificate") && e.contains("not valid for name"),
        "{e}"
    );
    let by_ca = format!("sslmode=verify-ca&sslrootcert={ca}");
    assert_eq!(
        session(&url("127.0.0.1", &by_ca).await).await,
        Ok((true, None))
    );
    // require with a root certificate checks the chain, as libpq does.
    let other = tempfile::tempdir().unwrap();
    let stranger = other.path().join("other-ca.crt");
    let cert = rcgen::generate_simple_self_signed(vec!["localhost".to_string()]).unwrap();
    std::fs::write(&stranger, cert.cert.pem()).unwrap();
    for mode in ["require", "verify-ca", "verify-full"] {
        let q = format!("sslmode={mode}&sslrootcert={}", stranger.display());
        let e = session(&url("localhost", &q).await).await.unwrap_err();
        assert!(e.contains("invalid peer certificate"), "{mode}: {e}");
        assert!(e.contains("UnknownIssuer"), "{mode}: {e}");
    }
}

#[tokio::test]
async fn a_client_certificate_logs_in_where_only_it_may() {
    let (dir, _) = tls_dir_and_port();
    let f = |name: &str| dir.join(name).display().to_string();
    let base = url("localhost", "").await;
    let with_cert = base
        .replacen("hoist_test:hoist-test-password@", "hoist_test_cert@", 1)
        .replace(
            '?',
            &format!(
                "?sslmode=verify-full&sslrootcert={}&sslcert={}&sslkey={}&",
                f("ca.crt"),
                f("client.crt"),
                f("client.key")
            ),
        );
    let (ssl, dn) = session(&with_cert).await.unwrap();
    assert!(ssl);
    assert_eq!(dn.as_deref(), Some("/CN=hoist_test_cert"));
    // The whole store works over it: migrations and an operation.
    let store = Store::open(&with_cert).await.unwrap();
    assert!(store.users().await.unwrap().is_empty());
    // Without the certificate the server refuses the role.
    let without = base.replacen("hoist_test:hoist-test-password@", "hoist_test_cert@", 1);
    let e = session(&without).await.unwrap_err();
    assert!(
        e.contains("connection requires a valid client certificate"),
        "refused: {e}"
    );
    let e = match Store::open(&without).await {
        Err(e) => e.to_string(),
        Ok(_) => panic!("the role logged in without its certificate"),
    };
    assert!(e.contains("give sslcert=PATH and sslkey=PATH"), "{e}");
}

#[tokio::test]
async fn the_store_names_what_is_wrong_with_a_tls_url() {
    let base = url("localhost", "").await;
    for (query, says) in [
        ("sslmode=strict", "sslmode `strict`: expected disable"),
        (
            "sslmode=verify-full&sslrootcert=/nonexistent/ca.crt",
            "sslrootcert /nonexistent/ca.crt",
        ),
        (
            "sslmode=require&sslcert=/nonexistent/c.crt",
            "needs its private key",
        ),
    ] {
        let e = match Store::open(&format!("{base}{query}")).await {
            Err(e) => e.to_string(),
            Ok(_) => panic!("{query} was accepted"),
        };
        assert!(
            e.starts_with("PostgreSQL URL: ") && e.contains(says),
            "{query}: {e}"
        );
        assert!(
            !e.contains("hoist-test-password"),
            "the password stays out: {e}"
        );
    } // A server that cannot prove who it is: the store says why and what to do.
    let other = tempfile::tempdir().unwrap();
    let stranger = other.path().join("other-ca.crt");
    let cert = rcgen::generate_simple_self_signed(vec!["localhost".to_string()]).unwrap();
    std::fs::write(&stranger, cert.cert.pem()).unwrap();
    let q = format!("sslmode=verify-full&sslrootcert={}", stranger.display());
    let e = match Store::open(&format!("{base}{q}")).await {
        Err(e) => e.to_string(),
        Ok(_) => panic!("a server signed by another authority was trusted"),
    };
    let says = format!(
        "(sslmode=verify-full: the server's certificate is not signed by an authority in sslrootcert {})",
        stranger.display()
    );
    assert!(e.contains("UnknownIssuer") && e.contains(&says), "{e}");
}

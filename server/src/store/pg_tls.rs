//! How hoist secures its connection to PostgreSQL: libpq's `sslmode` (disable, allow, prefer,
//! require, verify-ca, verify-full), `sslrootcert` (a PEM file or `system`), `sslcert` and
//! `sslkey` read from the URL's query, on top of tokio-postgres (which itself knows only
//! disable/prefer/require) with rustls. As in libpq: `prefer` is the default, `require` with a
//! root certificate verifies the chain like `verify-ca`, the root certificate defaults to
//! `~/.postgresql/root.crt` and the client certificate to `~/.postgresql/postgresql.crt`/`.key`
//! when those files exist, and TLS is not used over Unix-domain sockets.

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::client::{WebPkiServerVerifier, verify_server_cert_signed_by_trust_anchor};
use rustls::crypto::{CryptoProvider, WebPkiSupportedAlgorithms};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName, UnixTime};
use rustls::server::ParsedCertificate;
use rustls::{ClientConfig, DigitallySignedStruct, RootCertStore, SignatureScheme};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use tokio_postgres::config::{Host, SslMode};
use tokio_postgres_rustls::MakeRustlsConnect;

/// libpq's `sslmode`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Disable,
    Allow,
    Prefer,
    Require,
    VerifyCa,
    VerifyFull,
}

impl Mode {
    /// The mode as written in a URL.
    pub fn as_str(self) -> &'static str {
        match self {
            Mode::Disable => "disable",
            Mode::Allow => "allow",
            Mode::Prefer => "prefer",
            Mode::Require => "require",
            Mode::VerifyCa => "verify-ca",
            Mode::VerifyFull => "verify-full",
        }
    }
}

impl Mode {
    fn parse(s: &str) -> Result<Mode, String> {
        Ok(match s {
            "disable" => Mode::Disable,
            "allow" => Mode::Allow,
            "prefer" => Mode::Prefer,
            "require" => Mode::Require,
            "verify-ca" => Mode::VerifyCa,
            "verify-full" => Mode::VerifyFull,
            other => {
                return Err(format!(
                    "sslmode `{other}`: expected disable, allow, prefer, require, verify-ca or verify-full"
                ));
            }
        })
    }
}

/// What the URL asks of TLS, before any file is read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlsParams {
    pub mode: Mode,
    pub root_cert: Option<String>,
    pub cert: Option<PathBuf>,
    pub key: Option<PathBuf>,
}

/// Takes libpq's TLS parameters out of a `postgres://` URL's query: (the URL tokio-postgres can
/// parse, the parameters).
pub fn split_url(url: &str) -> Result<(String, TlsParams), String> {
    let (base, query) = url.split_once('?').unwrap_or((url, ""));
    let mut params = TlsParams {
        mode: Mode::Prefer,
        root_cert: None,
        cert: None,
        key: None,
    };
    let mut kept = Vec::new();
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        let value = || {
            percent_encoding::percent_decode_str(v)
                .decode_utf8()
                .map(|s| s.into_owned())
                .map_err(|_| format!("`{k}` is not UTF-8 once decoded"))
        };
        match k {
            "sslmode" => params.mode = Mode::parse(&value()?)?,
            "sslrootcert" => params.root_cert = Some(value()?),
            "sslcert" => params.cert = Some(PathBuf::from(value()?)),
            "sslkey" => params.key = Some(PathBuf::from(value()?)),
            _ => kept.push(pair),
        }
    }
    let rest = if kept.is_empty() {
        base.to_string()
    } else {
        format!("{base}?{}", kept.join("&"))
    };
    Ok((rest, params))
}

/// A parsed URL: the tokio-postgres configuration (its sslmode set), the TLS connector, and
/// what to tell the user when the server cannot be reached through them.
pub struct Target {
    pub config: tokio_postgres::Config,
    pub tls: MakeRustlsConnect,
    pub hints: Hints,
}

/// What the URL asked of TLS, to explain a failed connection.
#[derive(Debug, Clone)]
pub struct Hints {
    mode: Mode,
    root: Option<String>,
}

impl Hints {
    /// `why` a connection failed, with what to do about the TLS failures users meet.
    pub fn explain(&self, why: &str) -> String {
        let root = self.root.as_deref().unwrap_or("~/.postgresql/root.crt");
        let hint = if why.contains("UnknownIssuer") {
            format!("the server's certificate is not signed by an authority in sslrootcert {root}")
        } else if why.contains("not valid for name") || why.contains("NotValidForName") {
            "the server's certificate is not issued to the host name in the URL: connect by \
             the name it is issued to, or use sslmode=verify-ca"
                .to_string()
        } else if why.contains("server does not support TLS") {
            "the server has TLS turned off (ssl = off): turn it on, or use sslmode=prefer".into()
        } else if why.contains("client certificate") {
            "this role logs in with a client certificate: give sslcert=PATH and sslkey=PATH".into()
        } else {
            return why.to_string();
        };
        format!("{why} (sslmode={}: {hint})", self.mode.as_str())
    }
}

/// Parses a `postgres://` URL with libpq's TLS parameters.
pub fn configure(url: &str) -> Result<Target, String> {
    let (rest, params) = split_url(url)?;
    let mut config: tokio_postgres::Config = rest.parse().map_err(|e| format!("{e}"))?;
    let only_sockets = config
        .get_hosts()
        .iter()
        .all(|h| !matches!(h, Host::Tcp(_)));
    let mode = if only_sockets {
        Mode::Disable
    } else {
        params.mode
    };
    config.ssl_mode(match mode {
        Mode::Disable => SslMode::Disable,
        Mode::Allow | Mode::Prefer => SslMode::Prefer,
        Mode::Require | Mode::VerifyCa | Mode::VerifyFull => SslMode::Require,
    });
    let mut tls = client_config(mode, &params, home().as_deref())?;
    // PostgreSQL 17 requires this ALPN name with `sslnegotiation=direct`; older servers ignore it.
    tls.alpn_protocols = vec![b"postgresql".to_vec()];
    Ok(Target {
        config,
        tls: MakeRustlsConnect::new(tls),
        hints: Hints {
            mode,
            root: params.root_cert,
        },
    })
}

fn home() -> Option<PathBuf> {
    std::env::var_os("HOME")
        .filter(|h| !h.is_empty())
        .map(PathBuf::from)
}

/// How the server's certificate is checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Check {
    /// Encrypted, not authenticated (libpq's prefer/require without a root certificate).
    Nothing,
    /// Signed by a trusted root; any name.
    Chain,
    /// Signed by a trusted root and issued to the host connected to.
    ChainAndName,
}

fn client_config(mode: Mode, p: &TlsParams, home: Option<&Path>) -> Result<ClientConfig, String> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let dot = |file: &str| home.map(|h| h.join(".postgresql").join(file));
    // The root certificate named, else libpq's default file if it exists.
    let root = match &p.root_cert {
        Some(r) => Some(r.clone()),
        None => dot("root.crt")
            .filter(|f| f.is_file())
            .map(|f| f.display().to_string()),
    };
    let check = match (mode, &root) {
        (Mode::VerifyFull, Some(_)) => Check::ChainAndName,
        (Mode::VerifyCa | Mode::Require, Some(_)) => Check::Chain,
        (Mode::VerifyCa | Mode::VerifyFull, None) => {
            return Err(format!(
                "sslmode={} needs the certificate authority that signed the server's \
                 certificate: give sslrootcert=PATH (or sslrootcert=system), or put it in \
                 ~/.postgresql/root.crt",
                if mode == Mode::VerifyCa {
                    "verify-ca"
                } else {
                    "verify-full"
                }
            ));
        }
        _ => Check::Nothing,
    };
    let builder = ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .map_err(|e| e.to_string())?;
    let verifier: Arc<dyn ServerCertVerifier> = match (check, &root) {
        (Check::Nothing, _) | (_, None) => Arc::new(Unverified {
            provider: provider.clone(),
        }),
        (_, Some(root)) => {
            let roots = Arc::new(root_store(root)?);
            if check == Check::ChainAndName {
                WebPkiServerVerifier::builder_with_provider(roots, provider.clone())
                    .build()
                    .map_err(|e| format!("sslrootcert {root}: {e}"))?
            } else {
                Arc::new(AnyName {
                    roots,
                    provider: provider.clone(),
                })
            }
        }
    };
    let builder = builder
        .dangerous()
        .with_custom_certificate_verifier(verifier);
    // The client certificate named, else libpq's default files if both exist.
    let cert = p
        .cert
        .clone()
        .or_else(|| dot("postgresql.crt").filter(|f| f.is_file()));
    let key = p
        .key
        .clone()
        .or_else(|| dot("postgresql.key").filter(|f| f.is_file()));
    match (cert, key) {
        (Some(cert), Some(key)) => {
            let chain = CertificateDer::pem_file_iter(&cert)
                .and_then(|i| i.collect::<Result<Vec<_>, _>>())
                .map_err(|e| format!("sslcert {}: {e}", cert.display()))?;
            if chain.is_empty() {
                return Err(format!("sslcert {}: no certificate in it", cert.display()));
            }
            let key_der = PrivateKeyDer::from_pem_file(&key)
                .map_err(|e| format!("sslkey {}: {e}", key.display()))?;
            builder
                .with_client_auth_cert(chain, key_der)
                .map_err(|e| format!("sslcert {} / sslkey {}: {e}", cert.display(), key.display()))
        }
        (Some(cert), None) if p.cert.is_some() => Err(format!(
            "sslcert {} needs its private key: give sslkey=PATH",
            cert.display()
        )),
        (None, Some(key)) if p.key.is_some() => Err(format!(
            "sslkey {} needs its certificate: give sslcert=PATH",
            key.display()
        )),
        _ => Ok(builder.with_no_client_auth()),
    }
}

/// The trusted roots: a PEM file, or `system` (the bundle OpenSSL would use).
fn root_store(root: &str) -> Result<RootCertStore, String> {
    let file = if root == "system" {
        std::env::var_os("SSL_CERT_FILE")
            .map(PathBuf::from)
            .unwrap_or_else(|| PathBuf::from("/etc/ssl/certs/ca-certificates.crt"))
    } else {
        PathBuf::from(root)
    };
    let certs = CertificateDer::pem_file_iter(&file)
        .and_then(|i| i.collect::<Result<Vec<_>, _>>())
        .map_err(|e| format!("sslrootcert {}: {e}", file.display()))?;
    let mut store = RootCertStore::empty();
    let (added, _) = store.add_parsable_certificates(certs);
    if added == 0 {
        return Err(format!(
            "sslrootcert {}: no usable certificate in it",
            file.display()
        ));
    }
    Ok(store)
}

fn algorithms(p: &CryptoProvider) -> &WebPkiSupportedAlgorithms {
    &p.signature_verification_algorithms
}

/// The handshake's signatures are still checked (the server holds the key of the certificate
/// it sent), whichever certificate that is.
macro_rules! handshake_signatures {
    () => {
        fn verify_tls12_signature(
            &self,
            message: &[u8],
            cert: &CertificateDer<'_>,
            dss: &DigitallySignedStruct,
        ) -> Result<HandshakeSignatureValid, rustls::Error> {
            rustls::crypto::verify_tls12_signature(message, cert, dss, algorithms(&self.provider))
        }

        fn verify_tls13_signature(
            &self,
            message: &[u8],
            cert: &CertificateDer<'_>,
            dss: &DigitallySignedStruct,
        ) -> Result<HandshakeSignatureValid, rustls::Error> {
            rustls::crypto::verify_tls13_signature(message, cert, dss, algorithms(&self.provider))
        }

        fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
            algorithms(&self.provider).supported_schemes()
        }
    };
}

/// Accepts any certificate (libpq's `prefer` and `require` without a root certificate).
#[derive(Debug)]
struct Unverified {
    provider: Arc<CryptoProvider>,
}

impl ServerCertVerifier for Unverified {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }
    handshake_signatures!();
}

/// Checks the chain up to a trusted root but not the name (libpq's `verify-ca`).
#[derive(Debug)]
struct AnyName {
    roots: Arc<RootCertStore>,
    provider: Arc<CryptoProvider>,
}

impl ServerCertVerifier for AnyName {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        let cert = ParsedCertificate::try_from(end_entity)?;
        verify_server_cert_signed_by_trust_anchor(
            &cert,
            &self.roots,
            intermediates,
            now,
            algorithms(&self.provider).all,
        )?;
        Ok(ServerCertVerified::assertion())
    }
    handshake_signatures!();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tls_parameters_leave_the_url_tokio_postgres_parses() {
        let (rest, p) = split_url(
            "postgres://u:p@db:5432/hoist?sslmode=verify-full&application_name=x&sslrootcert=%2Fetc%2Fca.pem",
        )
        .unwrap();
        assert_eq!(rest, "postgres://u:p@db:5432/hoist?application_name=x");
        assert_eq!(p.mode, Mode::VerifyFull);
        assert_eq!(p.root_cert.as_deref(), Some("/etc/ca.pem"));
        let (rest, p) = split_url("postgres://u@db/hoist").unwrap();
        assert_eq!(
            (rest.as_str(), p.mode),
            ("postgres://u@db/hoist", Mode::Prefer)
        );
        let e = split_url("postgres://db/x?sslmode=strict").unwrap_err();
        assert!(e.contains("sslmode `strict`: expected disable"), "{e}");
    }

    #[test]
    fn verifying_modes_need_a_root_certificate_and_files_must_be_readable() {
        let home = tempfile::tempdir().unwrap();
        let params = |mode, root: Option<&str>| TlsParams {
            mode,
            root_cert: root.map(str::to_string),
            cert: None,
            key: None,
        };
        for mode in [Mode::VerifyCa, Mode::VerifyFull] {
            let e = client_config(mode, &params(mode, None), Some(home.path())).unwrap_err();
            assert!(e.contains("give sslrootcert=PATH"), "{e}");
        }
        let e = client_config(
            Mode::VerifyFull,
            &params(Mode::VerifyFull, Some("/nonexistent/ca.pem")),
            None,
        )
        .unwrap_err();
        assert!(e.starts_with("sslrootcert /nonexistent/ca.pem:"), "{e}");
        let empty = home.path().join("empty.pem");
        std::fs::write(&empty, "not a certificate\n").unwrap();
        let e = client_config(
            Mode::Require,
            &params(Mode::Require, Some(&empty.display().to_string())),
            None,
        )
        .unwrap_err();
        assert!(e.contains("no usable certificate"), "{e}");
        // Without a root certificate, prefer and require encrypt without authenticating.
        for mode in [Mode::Prefer, Mode::Require, Mode::Disable] {
            client_config(mode, &params(mode, None), Some(home.path())).unwrap();
        }
        let mut p = params(Mode::Require, None);
        p.cert = Some(home.path().join("client.crt"));
        let e = client_config(Mode::Require, &p, None).unwrap_err();
        assert!(e.contains("needs its private key"), "{e}");
    }

    #[test]
    fn unix_sockets_never_use_tls() {
        let t = configure("postgres://u@%2Fvar%2Frun%2Fpostgresql/hoist?sslmode=require").unwrap();
        assert_eq!(t.config.get_ssl_mode(), SslMode::Disable);
        let t = configure("postgres://u@127.0.0.1/hoist?sslmode=require").unwrap();
        assert_eq!(t.config.get_ssl_mode(), SslMode::Require);
    }
}

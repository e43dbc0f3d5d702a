//! TLS for `hoist serve` (rustls): a certificate and key given by path, or a self-signed one
//! generated on first start for localhost, 127.0.0.1 and this host's name and kept beside the
//! database (key 0600) so clients can pin it across restarts.

use std::io::Write;
use std::path::{Path, PathBuf};

/// Where the certificate and key are.
#[derive(Debug, Clone)]
pub struct TlsFiles {
    pub cert: PathBuf,
    pub key: PathBuf,
}

/// The self-signed pair in `dir` (`server-cert.pem`, `server-key.pem`), made if missing.
pub fn self_signed(dir: &Path, extra_names: &[String]) -> Result<TlsFiles, String> {
    let files = TlsFiles {
        cert: dir.join("server-cert.pem"),
        key: dir.join("server-key.pem"),
    };
    if files.cert.is_file() && files.key.is_file() {
        return Ok(files);
    }
    let mut names = vec![
        "localhost".to_string(),
        "127.0.0.1".to_string(),
        "::1".to_string(),
    ];
    names.extend(extra_names.iter().filter(|n| !n.is_empty()).cloned());
    let cert = rcgen::generate_simple_self_signed(names)
        .map_err(|e| format!("cannot make a certificate: {e}"))?;
    std::fs::create_dir_all(dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    write(
        &files.key,
        cert.signing_key.serialize_pem().as_bytes(),
        0o600,
    )?;
    write(&files.cert, cert.cert.pem().as_bytes(), 0o644)?;
    Ok(files)
}

fn write(path: &Path, data: &[u8], mode: u32) -> Result<(), String> {
    use std::os::unix::fs::OpenOptionsExt;
    let tmp = path.with_extension("tmp");
    let r = (|| {
        let mut f = std::fs::OpenOptions::new()
            .create(true)
            .truncate(true)
            .write(true)
            .mode(mode)
            .open(&tmp)?;
        f.write_all(data)?;
        f.sync_all()?;
        std::fs::rename(&tmp, path)
    })();
    r.map_err(|e| format!("cannot write {}: {e}", path.display()))
}

/// The rustls configuration for `files`.
pub async fn config(files: &TlsFiles) -> Result<axum_server::tls_rustls::RustlsConfig, String> {
    let _ = rustls::crypto::ring::default_provider().install_default();
    axum_server::tls_rustls::RustlsConfig::from_pem_file(&files.cert, &files.key)
        .await
        .map_err(|e| {
            format!(
                "TLS certificate {} / key {}: {e}",
                files.cert.display(),
                files.key.display()
            )
        })
}

//! `get_url`: download on the controller (lab and air-gapped hosts have no route out), then
//! put the bytes on the host like `copy` does (checksums first, atomic write). With
//! `force: false` an existing file is left alone; `checksum` verifies what was downloaded.

use crate::modules::files_common::{PutContent, impl_attrs};
use crate::modules::types::{Bool, Int, Mode, Text};
use crate::modules::{Ctx, ModResult, Module, ModuleError, Outcome};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::time::Duration;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GetUrl {
    url: String,
    dest: Text,
    checksum: Option<String>,
    #[serde(default)]
    force: Bool,
    #[serde(default)]
    headers: BTreeMap<String, String>,
    timeout: Option<Int>,
    url_username: Option<String>,
    url_password: Option<String>,
    #[serde(default = "crate::modules::files_common::yes")]
    validate_certs: Bool,
    #[serde(default)]
    backup: Bool,
    owner: Option<Text>,
    group: Option<Text>,
    mode: Option<Mode>,
}

impl_attrs!(GetUrl);

/// `algo:hex` → (`algo`, `hex`).
fn parse_checksum(c: &str) -> Result<(String, String), ModuleError> {
    let (a, h) = c
        .split_once(':')
        .ok_or_else(|| ModuleError::Args(format!("checksum `{c}` must be `algorithm:hex`")))?;
    if crate::digest::try_hex(a, b"").is_none() {
        return Err(ModuleError::Args(format!(
            "unknown checksum algorithm `{a}`"
        )));
    }
    Ok((a.to_string(), h.to_lowercase()))
}

/// Downloads `url` on the controller (blocking I/O on a worker thread).
pub async fn download(
    url: &str,
    headers: &BTreeMap<String, String>,
    auth: Option<(String, String)>,
    timeout: Duration,
    verify: bool,
) -> Result<Vec<u8>, ModuleError> {
    download_since(url, headers, auth, timeout, verify, None)
        .await?
        .ok_or_else(|| ModuleError::Failed(format!("Request failed: {url}: HTTP 304")))
}

/// Like [`download`], asking only for something newer than `since` (Unix seconds:
/// `If-Modified-Since`, as ansible-core asks when the file is there); `None` when the server
/// answers 304 Not Modified.
pub async fn download_since(
    url: &str,
    headers: &BTreeMap<String, String>,
    auth: Option<(String, String)>,
    timeout: Duration,
    verify: bool,
    since: Option<i64>,
) -> Result<Option<Vec<u8>>, ModuleError> {
    let (url, mut headers) = (url.to_string(), headers.clone());
    if let Some(t) = since.and_then(|t| chrono::DateTime::from_timestamp(t, 0)) {
        headers
            .entry("If-Modified-Since".into())
            .or_insert_with(|| t.format("%a, %d %b %Y %H:%M:%S GMT").to_string());
    }
    tokio::task::spawn_blocking(move || {
        let tls = ureq::tls::TlsConfig::builder()
            .disable_verification(!verify)
            .build();
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .timeout_global(Some(timeout))
            .tls_config(tls)
            .http_status_as_error(false)
            .build()
            .into();
        let mut req = agent.get(&url);
        for (k, v) in &headers {
            req = req.header(k, v);
        }
        if let Some((u, p)) = auth {
            use base64::Engine;
            req = req.header(
                "Authorization",
                &format!(
                    "Basic {}",
                    base64::engine::general_purpose::STANDARD.encode(format!("{u}:{p}"))
                ),
            );
        }
        let mut resp = req
            .call()
            .map_err(|e| ModuleError::Failed(format!("Request failed: {url}: {e}")))?;
        let status = resp.status().as_u16();
        if status == 304 {
            return Ok(None);
        }
        if !(200..300).contains(&status) {
            return Err(ModuleError::Failed(format!(
                "Request failed: {url}: HTTP {status}"
            )));
        }
        resp.body_mut()
            .with_config()
            .limit(4 << 30)
            .read_to_vec()
            .map(Some)
            .map_err(|e| ModuleError::Failed(format!("Request failed: {url}: {e}")))
    })
    .await
    .map_err(|e| ModuleError::Failed(format!("download task failed: {e}")))?
}

impl Module for GetUrl {
    async fn run(self, ctx: &Ctx<'_>) -> ModResult {
        let remote = ctx.remote()?;
        let want = self.checksum.as_deref().map(parse_checksum).transpose()?;
        let name = self
            .url
            .rsplit('/')
            .next()
            .filter(|n| !n.is_empty())
            .unwrap_or("index.html");
        let mut dest = self.dest.0.clone();
        if dest.ends_with('/') {
            dest = format!("{dest}{name}");
        }
        // One probe tells whether `dest` is a directory (the file goes inside) or the file itself.
        let mut current = remote.stat(&dest, true, want.is_none()).await?;
        if current.as_ref().is_some_and(|s| s.kind == "directory") {
            dest = format!("{}/{name}", dest.trim_end_matches('/'));
            current = remote.stat(&dest, true, want.is_none()).await?;
        }
        // As ansible-core: an existing file is kept without a request only when a checksum is
        // given, it matches and the download is not forced; otherwise the request asks for
        // something newer than the file (a 304 keeps it), and what comes is compared.
        let mut force = self.force.0;
        if let (Some(existing), Some((algo, hex)), false) = (&current, &want, force) {
            let out = remote
                .check(
                    &format!(
                        "{algo}sum < {} | cut -d' ' -f1",
                        crate::ssh::shell::quote(&dest)
                    ),
                    None,
                )
                .await?;
            if out.stdout_str().trim() == hex {
                let changes = self.attrs().changes(existing)?;
                if changes.any() && !ctx.check {
                    remote
                        .check(&changes.script(&dest, false, false), None)
                        .await?;
                }
                let msg = if changes.any() {
                    "file already exists but file attributes changed"
                } else {
                    "file already exists"
                };
                let mut o = Outcome::changed(changes.any())
                    .with("dest", dest.clone())
                    .with("url", self.url.clone())
                    .msg(msg);
                crate::modules::files_common::add_path_info(remote, &dest, &mut o).await?;
                return Ok(o);
            }
            force = true;
        }
        let since = current.as_ref().filter(|_| !force).map(|s| s.mtime);
        let timeout = Duration::from_secs(
            self.timeout
                .map(|t| t.0.clamp(1, 3600) as u64)
                .unwrap_or(10),
        );
        let auth = self
            .url_username
            .clone()
            .map(|u| (u, self.url_password.clone().unwrap_or_default()));
        // A `file://` URL names a file on the host itself (the module runs there in
        // ansible-core); others are fetched on the controller.
        let local = self.url.strip_prefix("file://");
        let data = match local {
            Some(path) => remote.read(path).await?.ok_or_else(|| {
                ModuleError::Failed(format!(
                    "Request failed: <urlopen error [Errno 2] No such file or directory: '{path}'>"
                ))
            })?,
            None => {
                let got = download_since(
                    &self.url,
                    &self.headers,
                    auth,
                    timeout,
                    self.validate_certs.0,
                    since,
                )
                .await?;
                let Some(got) = got else {
                    let mut o = Outcome::ok()
                        .with("dest", dest.clone())
                        .with("url", self.url.clone())
                        .with("status_code", 304)
                        .msg("HTTP Error 304: Not Modified");
                    crate::modules::files_common::add_path_info(remote, &dest, &mut o).await?;
                    return Ok(o);
                };
                got
            }
        };
        let checksum_dest = current_sha1(remote, &dest).await?;
        if let Some((algo, hex)) = &want {
            let got = crate::digest::hex(algo, &data);
            if got != *hex {
                // ansible-core names its temporary download; hoist downloads into memory.
                let mut o = Outcome {
                    failed: true,
                    ..Outcome::default()
                }
                .with("dest", dest.clone())
                .with("url", self.url.clone())
                .with("checksum_src", crate::digest::hex("sha1", &data))
                .with("checksum_dest", checksum_dest)
                .msg(format!(
                    "The checksum for {dest} did not match {hex}; it was {got}."
                ));
                crate::modules::files_common::add_path_info(remote, &dest, &mut o).await?;
                return Ok(o);
            }
        }
        let o = PutContent {
            dest: &dest,
            content: &data,
            attrs: &self.attrs(),
            backup: self.backup.0,
            force: true,
            validate: None,
            into_dir: None,
        }
        .run(ctx)
        .await?;
        let o = o
            .with("url", self.url.clone())
            .with("checksum_src", crate::digest::hex("sha1", &data))
            .with("checksum_dest", checksum_dest)
            .msg(format!("OK ({} bytes)", data.len()));
        Ok(match local {
            Some(_) => o,
            None => o.with("status_code", 200),
        })
    }
}

/// The SHA-1 of the file at `dest` before it is replaced (ansible-core's `checksum_dest`).
async fn current_sha1(
    remote: &crate::modules::Remote,
    dest: &str,
) -> Result<Option<String>, ModuleError> {
    let q = crate::ssh::shell::quote(dest);
    let out = remote
        .check(
            &format!("if [ -f {q} ]; then sha1sum < {q} | cut -d' ' -f1; fi"),
            None,
        )
        .await?;
    let sum = out.stdout_str().trim().to_string();
    Ok((!sum.is_empty()).then_some(sum))
}

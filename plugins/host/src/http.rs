//! Outgoing HTTP(S) for plugins: only to granted hosts, no redirects (a granted host cannot
//! bounce the request elsewhere), no ambient proxy, bounded time and response size.

use crate::grants::Grants;
use crate::imports::hoist::plugin::types::{HttpRequest, HttpResponse};
use std::time::Duration;

/// Largest response body handed to a plugin.
const MAX_BODY: u64 = 16 << 20;

/// Sends `req` if the grants allow its host.
pub fn send(grants: &Grants, req: HttpRequest) -> Result<HttpResponse, String> {
    let uri: ureq::http::Uri = req
        .url
        .parse()
        .map_err(|e| format!("http: bad URL `{}`: {e}", req.url))?;
    let scheme = uri.scheme_str().unwrap_or("");
    let default_port = match scheme {
        "http" => 80,
        "https" => 443,
        _ => return Err(format!("http: `{}`: only http and https URLs", req.url)),
    };
    let host = uri
        .host()
        .ok_or_else(|| format!("http: `{}` has no host", req.url))?
        .trim_start_matches('[')
        .trim_end_matches(']');
    grants.http(host, uri.port_u16().unwrap_or(default_port))?;
    let timeout = match req.timeout_ms {
        0 => Duration::from_secs(30),
        ms => Duration::from_millis(u64::from(ms).min(300_000)),
    };
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .timeout_global(Some(timeout))
        .http_status_as_error(false)
        .max_redirects(0)
        .proxy(None)
        .build()
        .into();
    let method = req.method.to_ascii_uppercase();
    if !["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD"].contains(&method.as_str()) {
        return Err(format!("http: method `{}` is not supported", req.method));
    }
    let mut builder = ureq::http::Request::builder()
        .method(method.as_str())
        .uri(&uri);
    for (k, v) in &req.headers {
        builder = builder.header(k.as_str(), v.as_str());
    }
    let request = builder.body(req.body).map_err(|e| format!("http: {e}"))?;
    let mut resp = agent
        .run(request)
        .map_err(|e| format!("http: {} {}: {e}", method, req.url))?;
    let status = resp.status().as_u16();
    let headers = resp
        .headers()
        .iter()
        .map(|(k, v)| {
            (
                k.to_string(),
                String::from_utf8_lossy(v.as_bytes()).into_owned(),
            )
        })
        .collect();
    let body = if method == "HEAD" {
        Vec::new()
    } else {
        resp.body_mut()
            .with_config()
            .limit(MAX_BODY)
            .read_to_vec()
            .map_err(|e| format!("http: {} {}: {e}", method, req.url))?
    };
    Ok(HttpResponse {
        status,
        headers,
        body,
    })
}

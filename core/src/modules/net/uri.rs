//! `uri`: an HTTP(S) request made from the host itself (with curl), as Ansible makes it there;
//! status codes checked, the body returned (and parsed as `json` when it is JSON).

use crate::modules::types::{Bool, Int, List, Text};
use crate::modules::{Ctx, ModResult, Module, ModuleError, Outcome, fail};
use crate::ssh::shell::quote;
use serde::Deserialize;
use serde_json::Value as Json;
use std::collections::BTreeMap;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Uri {
    url: String,
    method: Option<String>,
    body: Option<Json>,
    body_format: Option<String>,
    #[serde(default)]
    headers: BTreeMap<String, Text>,
    status_code: Option<List>,
    #[serde(default)]
    return_content: Bool,
    timeout: Option<Int>,
    #[serde(default = "crate::modules::files_common::yes")]
    validate_certs: Bool,
    url_username: Option<String>,
    url_password: Option<String>,
    #[serde(default)]
    force_basic_auth: Bool,
    follow_redirects: Option<String>,
    creates: Option<Text>,
    removes: Option<Text>,
    dest: Option<Text>,
    unix_socket: Option<Text>,
}

const MARK: &str = "\n__hoist_uri__";

impl Uri {
    /// The curl command line (request body on stdin).
    pub fn command(&self) -> Result<(String, Option<Vec<u8>>), ModuleError> {
        let method = self
            .method
            .clone()
            .unwrap_or_else(|| "GET".into())
            .to_uppercase();
        let mut c = vec![
            "curl -sS -g".to_string(),
            format!("-X {}", quote(&method)),
            format!("--max-time {}", self.timeout.map(|t| t.0).unwrap_or(30)),
        ];
        if !self.validate_certs.0 {
            c.push("-k".into());
        }
        if !matches!(self.follow_redirects.as_deref(), Some("none") | Some("no")) {
            c.push("-L".into());
        }
        // Credentials and headers (`Authorization: Bearer ...`) go into a private curl config
        // file written by the shell's own printf (a builtin: no process, nothing in `ps`), never
        // onto curl's command line, where every user of the host could read them.
        let mut config: Vec<String> = Vec::new();
        if let Some(u) = &self.url_username {
            config.push(curl_config(
                "user",
                &format!("{u}:{}", self.url_password.clone().unwrap_or_default()),
            ));
            let _ = self.force_basic_auth;
        }
        if let Some(s) = &self.unix_socket {
            c.push(format!("--unix-socket {}", quote(&s.0)));
        }
        let mut headers = self.headers.clone();
        let body = match (&self.body, self.body_format.as_deref().unwrap_or("raw")) {
            (None, _) => None,
            (Some(b), "json") => {
                headers
                    .entry("Content-Type".into())
                    .or_insert(Text("application/json".into()));
                Some(match b {
                    Json::String(s) => s.clone().into_bytes(),
                    other => other.to_string().into_bytes(),
                })
            }
            (Some(Json::Object(m)), "form-urlencoded") => {
                headers
                    .entry("Content-Type".into())
                    .or_insert(Text("application/x-www-form-urlencoded".into()));
                let enc = |s: &str| {
                    s.bytes()
                        .map(|b| {
                            if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
                                (b as char).to_string()
                            } else {
                                format!("%{b:02X}")
                            }
                        })
                        .collect::<String>()
                };
                Some(
                    m.iter()
                        .map(|(k, v)| {
                            format!(
                                "{}={}",
                                enc(k),
                                enc(&v
                                    .as_str()
                                    .map(str::to_string)
                                    .unwrap_or_else(|| v.to_string()))
                            )
                        })
                        .collect::<Vec<_>>()
                        .join("&")
                        .into_bytes(),
                )
            }
            (Some(Json::String(s)), "raw" | "form-urlencoded") => Some(s.clone().into_bytes()),
            (Some(other), "raw") => Some(other.to_string().into_bytes()),
            (_, f) => {
                return Err(ModuleError::Args(format!(
                    "unsupported body_format `{f}` (use raw, json or form-urlencoded)"
                )));
            }
        };
        for (k, v) in &headers {
            config.push(curl_config("header", &format!("{k}: {}", v.0)));
        }
        if !config.is_empty() {
            c.push("-K \"$k\"".into());
        }
        if body.is_some() {
            c.push("--data-binary @-".into());
        }
        let out = match &self.dest {
            Some(d) => format!("-o {}", quote(&d.0)),
            None => "-o -".into(),
        };
        c.push(out);
        c.push(format!(
            "-w {}",
            quote(&format!(
                "{MARK}%{{http_code}} %{{content_type}} %{{url_effective}}"
            ))
        ));
        c.push(quote(&self.url));
        let setup = if config.is_empty() {
            String::new()
        } else {
            let lines: Vec<String> = config.iter().map(|l| quote(l)).collect();
            format!(
                "k=$(mktemp) || exit 1; trap 'rm -f \"$k\"' EXIT; printf '%s\\n' {} > \"$k\" || exit 1; ",
                lines.join(" ")
            )
        };
        Ok((
            format!(
                "command -v curl >/dev/null || {{ echo 'uri needs curl on the host' >&2; exit 127; }}; {setup}{}",
                c.join(" ")
            ),
            body,
        ))
    }
}

/// One line of a curl config file: `name = "value"` with curl's escapes.
fn curl_config(name: &str, value: &str) -> String {
    let mut v = String::with_capacity(value.len() + 2);
    for ch in value.chars() {
        match ch {
            '"' => v.push_str("\\\""),
            '\\' => v.push_str("\\\\"),
            '\n' => v.push_str("\\n"),
            '\r' => v.push_str("\\r"),
            '\t' => v.push_str("\\t"),
            c => v.push(c),
        }
    }
    format!("{name} = \"{v}\"")
}

impl Module for Uri {
    async fn run(self, ctx: &Ctx<'_>) -> ModResult {
        let remote = ctx.remote()?;
        if let Some(c) = &self.creates
            && remote.stat(&c.0, true, false).await?.is_some()
        {
            let mut o = Outcome::ok();
            o.skipped = true;
            return Ok(o.msg(format!("skipped, since {} exists", c.0)));
        }
        if let Some(r) = &self.removes
            && remote.stat(&r.0, true, false).await?.is_none()
        {
            let mut o = Outcome::ok();
            o.skipped = true;
            return Ok(o.msg(format!("skipped, since {} does not exist", r.0)));
        }
        let method = self
            .method
            .clone()
            .unwrap_or_else(|| "GET".into())
            .to_uppercase();
        if ctx.check && method != "GET" && method != "HEAD" {
            let mut o = Outcome::ok().msg("skipped in check mode: the request would change state");
            o.skipped = true;
            return Ok(o);
        }
        let (cmd, body) = self.command()?;
        let out = remote.exec(&cmd, body.as_deref()).await?;
        if !out.success() {
            return fail(format!(
                "Status code was -1 and not [200]: Request failed: {}",
                out.stderr_str().trim()
            ));
        }
        let text = out.stdout_str();
        let (content, meta) = text.rsplit_once(MARK).unwrap_or(("", &text));
        let mut it = meta.splitn(3, ' ');
        let status: i64 = it.next().and_then(|s| s.trim().parse().ok()).unwrap_or(-1);
        let ctype = it.next().unwrap_or("").to_string();
        let effective = it.next().unwrap_or("").trim().to_string();
        let wanted: Vec<i64> = match &self.status_code {
            Some(l) => l.0.iter().filter_map(|s| s.parse().ok()).collect(),
            None => vec![200],
        };
        let mut o = Outcome::ok()
            .with("status", status)
            .with("url", effective)
            .with("content_type", ctype.clone())
            .with("redirected", false);
        if self.return_content.0 || !wanted.contains(&status) {
            o.data.insert("content".into(), content.to_string().into());
        }
        if ctype.contains("json")
            && let Ok(j) = serde_json::from_str::<Json>(content)
        {
            o.data.insert("json".into(), j);
        }
        if !wanted.contains(&status) {
            o.failed = true;
            o.msg = Some(format!("Status code was {status} and not {wanted:?}"));
        } else {
            o.msg = Some(format!("OK ({} bytes)", content.len()));
        }
        Ok(o)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn curl_command() {
        let u: Uri = serde_json::from_value(serde_json::json!({"url": "http://10.77.0.11:8080/health", "method": "post", "body_format": "json", "body": {"a": 1}, "status_code": [200, 201]})).unwrap();
        let (cmd, body) = u.command().unwrap();
        assert!(
            cmd.contains("curl -sS -g -X POST --max-time 30 -L -K \"$k\" --data-binary @- -o -"),
            "{cmd}"
        );
        assert!(
            cmd.contains("printf '%s\\n' 'header = \"Content-Type: application/json\"' > \"$k\""),
            "{cmd}"
        );
        assert_eq!(
            curl_config("header", "Authorization: Bearer a\"b\\c"),
            r#"header = "Authorization: Bearer a\"b\\c""#
        );
        assert_eq!(body.unwrap(), br#"{"a":1}"#);
    }
}

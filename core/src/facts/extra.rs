//! The facts beyond the system's shape that playbooks read: the login environment
//! (`ansible_env`), the virtualization type, the host's Python (`ansible_python`, for the
//! Ansible-module fallback and playbooks that test for it) and local facts from
//! `/etc/ansible/facts.d` (`ansible_local`: JSON or INI files, or programs printing JSON).
//! What comes back is data.

use serde_json::{Map, Value as Json, json};

/// The script sections for these facts (appended to the main script).
pub const SCRIPT: &str = r#"echo @@env; env
echo @@virt; systemd-detect-virt 2>/dev/null || echo none
echo @@systemd; if command -v systemctl >/dev/null 2>&1 && { [ -e /run/systemd/system/ ] || [ -e /dev/.run/systemd/ ] || [ -e /dev/.systemd/ ]; }; then systemctl --version 2>/dev/null | head -n 2; fi
echo @@python; for p in /usr/bin/python3 python3 /usr/libexec/platform-python python; do if command -v $p >/dev/null 2>&1; then $p -c 'import sys,json;print(json.dumps({"executable":sys.executable,"version_info":list(sys.version_info),"type":sys.implementation.name}))' 2>/dev/null && break; fi; done
echo @@local; for f in /etc/ansible/facts.d/*.fact; do { [ -e "$f" ] || [ -L "$f" ]; } || continue; printf '%%hoist-fact %s\n' "$f"; if [ ! -e "$f" ]; then echo '%hoist-fact-error Could not stat fact'; elif [ -x "$f" ]; then "$f" 2>/dev/null || echo '%hoist-fact-error Failure executing fact script'; elif [ -r "$f" ]; then cat "$f"; else echo '%hoist-fact-error error loading facts as JSON or ini - please check content'; fi; echo; done
"#;

/// The extra facts, read from their sections.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize)]
pub struct Extra {
    pub env: Map<String, Json>,
    pub virtualization: String,
    pub python: Option<Json>,
    pub local: Map<String, Json>,
    /// `ansible_systemd` (`version`, `features`) when systemd runs the host.
    pub systemd: Option<Json>,
}

/// `systemctl --version`'s first two lines as ansible-core's systemd facts.
pub fn systemd(lines: &[&str]) -> Option<Json> {
    let version: i64 = lines.first()?.split(' ').nth(1)?.parse().ok()?;
    Some(json!({"version": version, "features": lines.get(1).copied().unwrap_or_default()}))
}

/// configparser's reading of a fact file: `None` where it would refuse it (a line before any
/// section, a line that is not `key = value`).
fn ini(text: &str) -> Option<Json> {
    let mut out = Map::new();
    let mut section: Option<String> = None;
    for line in text.lines() {
        let l = line.trim();
        if l.is_empty() || l.starts_with('#') || l.starts_with(';') {
            continue;
        }
        if let Some(s) = l.strip_prefix('[').and_then(|s| s.strip_suffix(']')) {
            section = Some(s.to_string());
            out.entry(s.to_string()).or_insert_with(|| json!({}));
            continue;
        }
        let (k, v) = l.split_once('=').or_else(|| l.split_once(':'))?;
        let Json::Object(m) = out.get_mut(section.as_ref()?)? else {
            return None;
        };
        // configparser's interpolation: a `%` must start `%%` or `%(name)s`.
        let v = v.trim();
        let mut rest = v;
        while let Some(i) = rest.find('%') {
            let after = &rest[i + 1..];
            if !(after.starts_with('%') || after.starts_with('(')) {
                return None;
            }
            rest = &after[1..];
        }
        m.insert(k.trim().to_lowercase(), json!(v.replace("%%", "%")));
    }
    Some(Json::Object(out))
}

/// One local fact file's value: JSON, else INI, else an error string as ansible-core reports.
fn local_fact(text: &str) -> Json {
    let t = text.trim();
    if let Some(e) = t.lines().find_map(|l| l.strip_prefix("%hoist-fact-error ")) {
        return json!(e);
    }
    if let Ok(v) = serde_json::from_str::<Json>(t) {
        return v;
    }
    match ini(t) {
        Some(Json::Object(m)) if !m.is_empty() => Json::Object(m),
        _ => json!("error loading facts as ini - please check content"),
    }
}

pub fn parse(env: &[&str], virt: &[&str], python: &[&str], local: &[&str]) -> Extra {
    let mut x = Extra::default();
    for line in env {
        if let Some((k, v)) = line.split_once('=')
            && !k.is_empty()
            && k.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        {
            x.env.insert(k.to_string(), json!(v));
        }
    }
    x.virtualization = virt
        .first()
        .map(|s| s.trim().to_string())
        .unwrap_or_default();
    x.python = python
        .first()
        .and_then(|l| serde_json::from_str::<Json>(l).ok())
        .map(|p| {
            let vi = p.get("version_info").cloned().unwrap_or(json!([]));
            let at = |i: usize| vi.get(i).cloned().unwrap_or(Json::Null);
            json!({
                "executable": p.get("executable").cloned().unwrap_or(Json::Null),
                "has_sslcontext": true,
                "type": match p.get("type").and_then(Json::as_str) { Some("cpython") => "CPython", Some(o) => o, None => "CPython" },
                "version": {"major": at(0), "minor": at(1), "micro": at(2), "releaselevel": at(3), "serial": at(4)},
                "version_info": vi,
            })
        });
    let mut name: Option<String> = None;
    let mut body = String::new();
    let flush = |name: &mut Option<String>, body: &mut String, out: &mut Map<String, Json>| {
        if let Some(n) = name.take() {
            out.insert(n, local_fact(body));
        }
        body.clear();
    };
    for line in local {
        if let Some(path) = line.strip_prefix("%hoist-fact ") {
            flush(&mut name, &mut body, &mut x.local);
            let stem = std::path::Path::new(path)
                .file_stem()
                .map(|s| s.to_string_lossy().into_owned())
                .unwrap_or_default();
            name = Some(stem);
        } else {
            body.push_str(line);
            body.push('\n');
        }
    }
    flush(&mut name, &mut body, &mut x.local);
    x
}

#[cfg(test)]
mod tests {

    #[test]
    fn systemd_version_and_features() {
        assert_eq!(
            super::systemd(&["systemd 252 (252.19-1~deb12u1)", "+PAM +AUDIT -APPARMOR"]),
            Some(json!({"version": 252, "features": "+PAM +AUDIT -APPARMOR"}))
        );
        assert_eq!(super::systemd(&[]), None);
    }
    use super::*;

    #[test]
    fn sections_read_as_ansible_core_reports_them() {
        let x = parse(
            &["HOME=/root", "PATH=/usr/bin:/bin", "not a var"],
            &["systemd-nspawn"],
            &[
                r#"{"executable": "/usr/bin/python3", "version_info": [3, 11, 2, "final", 0], "type": "cpython"}"#,
            ],
            &[
                "%hoist-fact /etc/ansible/facts.d/app.fact",
                r#"{"port": 80}"#,
                "",
                "%hoist-fact /etc/ansible/facts.d/ini.fact",
                "[general]",
                "Name = x",
                "",
            ],
        );
        assert_eq!(x.env["HOME"], json!("/root"));
        assert_eq!(x.env.len(), 2);
        assert_eq!(x.virtualization, "systemd-nspawn");
        let py = x.python.unwrap();
        assert_eq!(py["version"]["major"], json!(3));
        assert_eq!(py["type"], json!("CPython"));
        assert_eq!(x.local["app"], json!({"port": 80}));
        assert_eq!(x.local["ini"], json!({"general": {"name": "x"}}));
    }
}

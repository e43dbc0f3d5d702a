//! `authorized_key`: SSH public keys in a user's `authorized_keys`, matched by key type and
//! body; options and comments kept or replaced; `exclusive` removes every other key.

use crate::modules::files_common::{Attrs, Edit};
use crate::modules::types::{Bool, Mode, Text};
use crate::modules::{Ctx, ModResult, Module, fail};
use crate::ssh::shell::quote;
use serde::Deserialize;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuthorizedKey {
    user: Text,
    key: String,
    state: Option<String>,
    path: Option<Text>,
    #[serde(default = "crate::modules::files_common::yes")]
    manage_dir: Bool,
    #[serde(default)]
    exclusive: Bool,
    key_options: Option<String>,
    comment: Option<String>,
    #[serde(default = "crate::modules::files_common::yes")]
    validate_certs: Bool,
    #[serde(default)]
    follow: Bool,
}

const TYPES: &[&str] = &[
    "ssh-ed25519",
    "ssh-rsa",
    "ssh-dss",
    "ecdsa-sha2-nistp256",
    "ecdsa-sha2-nistp384",
    "ecdsa-sha2-nistp521",
    "sk-ssh-ed25519@openssh.com",
    "sk-ecdsa-sha2-nistp256@openssh.com",
];

/// `(type, body)` of an authorized_keys line (options before the type are skipped).
pub fn identity(line: &str) -> Option<(String, String)> {
    let words: Vec<&str> = line.split_whitespace().collect();
    let i = words
        .iter()
        .position(|w| TYPES.contains(w) || w.ends_with("-cert-v01@openssh.com"))?;
    Some((words[i].to_string(), words.get(i + 1)?.to_string()))
}

/// The new file text for `keys` under the given rules.
pub fn apply(text: &str, keys: &[String], present: bool, exclusive: bool) -> String {
    let ids: Vec<(String, String)> = keys.iter().filter_map(|k| identity(k)).collect();
    let mut out: Vec<String> = Vec::new();
    for line in text.lines() {
        match identity(line) {
            Some(id) if ids.contains(&id) => {
                if present {
                    let want = keys
                        .iter()
                        .find(|k| identity(k).as_ref() == Some(&id))
                        .cloned()
                        .unwrap_or_default();
                    if !out.contains(&want) {
                        out.push(want);
                    }
                }
            }
            Some(_) if exclusive && present => {}
            _ => out.push(line.to_string()),
        }
    }
    if present {
        for k in keys {
            if !out.iter().any(|l| identity(l) == identity(k)) {
                out.push(k.clone());
            }
        }
    }
    let mut s = out.join("\n");
    if !s.is_empty() {
        s.push('\n');
    }
    s
}

impl Module for AuthorizedKey {
    async fn run(self, ctx: &Ctx<'_>) -> ModResult {
        let _ = (&self.validate_certs, &self.follow);
        let remote = ctx.remote()?;
        let present = match self.state.as_deref() {
            None | Some("present") => true,
            Some("absent") => false,
            Some(other) => return fail(format!("unknown state `{other}` (use present or absent)")),
        };
        let pw = remote
            .check(
                &format!("getent passwd {} || true", quote(&self.user.0)),
                None,
            )
            .await?
            .stdout_str();
        let f: Vec<&str> = pw.trim().split(':').collect();
        if f.len() < 7 {
            return fail(format!("user {} does not exist", self.user.0));
        }
        let (uid, gid, home) = (f[2], f[3], f[5]);
        let path = self
            .path
            .as_ref()
            .map(|p| p.0.clone())
            .unwrap_or_else(|| format!("{home}/.ssh/authorized_keys"));
        let mut keys = Vec::new();
        for line in self
            .key
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty() && !l.starts_with('#'))
        {
            if identity(line).is_none() {
                return fail(format!(
                    "invalid key: `{}`",
                    line.chars().take(40).collect::<String>()
                ));
            }
            let mut k = line.to_string();
            if let Some(c) = &self.comment {
                let (t, b) = identity(line).unwrap_or_default();
                k = format!("{t} {b} {c}");
            }
            if let Some(o) = &self.key_options {
                k = format!("{o} {k}");
            }
            keys.push(k);
        }
        if self.manage_dir.0 && present && !ctx.check {
            let dir = path
                .rsplit_once('/')
                .map(|(d, _)| d.to_string())
                .unwrap_or_else(|| ".".into());
            let d = quote(&dir);
            remote.check(&format!("[ -d {d} ] || {{ mkdir -p {d} && chown {uid}:{gid} {d} && chmod 0700 {d}; }}"), None).await?;
        }
        let attrs = Attrs {
            owner: Some(Text(uid.into())),
            group: Some(Text(gid.into())),
            mode: Some(Mode("0600".into())),
        };
        let exists = remote.stat(&path, true, false).await?.is_some();
        if !present && !exists {
            return Ok(crate::modules::Outcome::ok()
                .with("user", self.user.0)
                .with("key_file", path));
        }
        let edit = Edit {
            report_attrs: false,
            path: &path,
            created_msg: None,
            missing_word: "Path",
            backup_key: "backup_file",
            attrs,
            backup: false,
            create: true,
            validate: None,
        };
        let exclusive = self.exclusive.0;
        let out = edit
            .run(ctx, |text| {
                Ok((apply(text, &keys, present, exclusive), String::new()))
            })
            .await?;
        Ok(out.with("user", self.user.0).with("key_file", path))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_matched_by_type_and_body() {
        let a = "ssh-ed25519 AAAA1 alice".to_string();
        let b = "ssh-rsa BBBB2 bob".to_string();
        assert_eq!(
            apply("", std::slice::from_ref(&a), true, false),
            "ssh-ed25519 AAAA1 alice\n"
        );
        assert_eq!(
            apply(
                "ssh-ed25519 AAAA1 alice\n",
                std::slice::from_ref(&a),
                true,
                false
            ),
            "ssh-ed25519 AAAA1 alice\n"
        );
        assert_eq!(
            apply(
                "from=\"x\" ssh-ed25519 AAAA1 old\n",
                std::slice::from_ref(&a),
                true,
                false
            ),
            "ssh-ed25519 AAAA1 alice\n"
        );
        assert_eq!(
            apply("ssh-rsa BBBB2 bob\n", std::slice::from_ref(&a), true, true),
            "ssh-ed25519 AAAA1 alice\n"
        );
        assert_eq!(
            apply(
                "ssh-rsa BBBB2 bob\nssh-ed25519 AAAA1 alice\n",
                std::slice::from_ref(&a),
                false,
                false
            ),
            "ssh-rsa BBBB2 bob\n"
        );
        assert_eq!(identity(&b), Some(("ssh-rsa".into(), "BBBB2".into())));
    }
}

//! `known_hosts`: a host's key in an SSH known_hosts file on the host, as ansible-core's
//! module manages it — found with `ssh-keygen -F` (hashed entries included), a key of the
//! same type replaced in place, removed with `-R` when no key is given, hashed on request
//! (`hash_host`), written through a temp file and a rename, with a diff of the file.

use crate::modules::types::{Bool, Text};
use crate::modules::{Ctx, FileDiff, ModResult, Module, ModuleError, Outcome, fail};
use crate::ssh::WriteOpts;
use crate::ssh::shell::{quote, quote_path};
use base64::Engine;
use serde::Deserialize;
use serde_json::json;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KnownHosts {
    #[serde(alias = "host")]
    name: Text,
    key: Option<String>,
    path: Option<Text>,
    #[serde(default)]
    hash_host: Bool,
    state: Option<Text>,
}

/// A known_hosts line as ansible-core compares them: options, host, type, key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub options: Option<String>,
    pub host: String,
    pub kind: String,
    pub key: String,
}

pub fn normalize(line: &str) -> Option<Entry> {
    let k: Vec<&str> = line.split_whitespace().collect();
    let (options, rest) = match k.first()? {
        o if o.starts_with('@') => (Some(o.to_string()), &k[1..]),
        _ => (None, &k[..]),
    };
    Some(Entry {
        options,
        host: rest.first()?.to_string(),
        kind: rest.get(1)?.to_string(),
        key: rest.get(2)?.to_string(),
    })
}

/// `key` with its host field replaced by the hashed form of `host` (`|1|salt|hmac`).
pub fn hash_host_key(host: &str, key: &str, salt: &[u8; 20]) -> String {
    use hmac::{Hmac, Mac};
    let b64 = base64::engine::general_purpose::STANDARD;
    let mut mac = Hmac::<sha1::Sha1>::new_from_slice(salt).expect("hmac takes any key length");
    mac.update(host.as_bytes());
    let digest = mac.finalize().into_bytes();
    let mut parts: Vec<String> = key.split_whitespace().map(str::to_string).collect();
    let i = usize::from(parts.first().is_some_and(|p| p.starts_with('@')));
    if let Some(p) = parts.get_mut(i) {
        *p = format!("|1|{}|{}", b64.encode(salt), b64.encode(digest));
    }
    parts.join(" ")
}

/// What `ssh-keygen -F` found: whether the host is there, whether the key must be replaced
/// or added, and the line of the entry concerned.
pub fn search(output: &str, key: Option<&str>) -> (bool, bool, Option<usize>) {
    let Some(key) = key else {
        return (true, false, None);
    };
    let Some(mut new) = normalize(key) else {
        return (true, true, None);
    };
    let mut found_line = None;
    for l in output.split('\n').filter(|l| !l.is_empty()) {
        if l.starts_with('#') {
            found_line = l
                .split("found: line ")
                .nth(1)
                .and_then(|n| n.split_whitespace().next())
                .and_then(|n| n.parse().ok());
            continue;
        }
        let Some(found) = normalize(l) else { continue };
        let special = found
            .options
            .as_deref()
            .is_some_and(|o| o.starts_with("@cert-authority") || o.starts_with("@revoke"));
        if !special && new.host.starts_with("|1|") && found.host.starts_with("|1|") {
            new.host = found.host.clone();
        }
        if new == found {
            return (true, false, found_line);
        }
        if !special && new.kind == found.kind {
            return (true, true, found_line);
        }
    }
    (true, true, None)
}

/// The file after the change (`before` as it is): the found line dropped when replaced or
/// removed, the key added when present.
pub fn rewrite(
    before: &str,
    found_line: Option<usize>,
    replace: bool,
    present: bool,
    key: &str,
) -> String {
    let mut lines: Vec<&str> = before.split_inclusive('\n').collect();
    if let Some(n) = found_line
        && (replace || !present)
        && (1..=lines.len()).contains(&n)
    {
        lines.remove(n - 1);
    }
    let mut out: String = lines.concat();
    if present {
        out.push_str(key);
    }
    out
}

impl Module for KnownHosts {
    async fn run(self, ctx: &Ctx<'_>) -> ModResult {
        let host = self.name.0.to_lowercase();
        let state = self.state.map(|s| s.0).unwrap_or_else(|| "present".into());
        if !["present", "absent"].contains(&state.as_str()) {
            return fail(format!(
                "value of state must be one of: absent, present, got: {state}"
            ));
        }
        let present = state == "present";
        let written_path = self
            .path
            .map(|p| p.0)
            .unwrap_or_else(|| "~/.ssh/known_hosts".into());
        let remote = ctx.remote()?;
        // The path as the host's shell expands it (`~`).
        let path = remote
            .check(&format!("printf '%s' {}", quote_path(&written_path)), None)
            .await?
            .stdout_str();
        let given_key = self.key.clone().filter(|k| !k.is_empty());
        if given_key.is_none() && present {
            return fail("No key specified when adding a host");
        }
        let mut key = given_key.clone();
        if let (Some(k), true) = (&key, self.hash_host.0) {
            let salt: [u8; 20] = rand::random();
            key = Some(hash_host_key(&host, k, &salt));
        }
        if let Some(k) = &mut key
            && !k.ends_with('\n')
        {
            k.push('\n');
        }
        // The key must name the host (hashed or not).
        if let Some(k) = &key {
            if fancy_regex::Regex::new(r"\S+(\s+)?,(\s+)?")
                .map(|r| r.is_match(&host).unwrap_or(false))
                .unwrap_or(false)
            {
                return fail(
                    "Comma separated list of names is not supported. Please pass a single name to lookup in the known_hosts file.",
                );
            }
            let out = remote
                .exec(
                    &format!(
                        "t=$(mktemp) || exit 1; cat > \"$t\"; ssh-keygen -F {} -f \"$t\"; rc=$?; rm -f \"$t\"; exit $rc",
                        quote(&host)
                    ),
                    Some(k.as_bytes()),
                )
                .await?;
            if out.status == Some(127) {
                return fail("Failed to find required executable \"ssh-keygen\"");
            }
            if out.stdout.is_empty() {
                return fail("Host parameter does not match hashed host field in supplied key");
            }
        }
        let p = quote(&path);
        let before = remote.read(&path).await?;
        let (found, replace, found_line) = match &before {
            None => (false, false, None),
            Some(_) => {
                let out = remote
                    .exec(&format!("ssh-keygen -F {} -f {p}", quote(&host)), None)
                    .await?;
                let (so, se) = (out.stdout_str(), out.stderr_str());
                match out.status {
                    Some(0 | 1) if so.is_empty() && se.is_empty() => (false, false, None),
                    Some(0) => search(&so, key.as_deref()),
                    rc => {
                        return fail(format!(
                            "ssh-keygen failed (rc={}, stdout='{so}',stderr='{se}')",
                            rc.map(i64::from).unwrap_or(-1)
                        ));
                    }
                }
            }
        };
        let before_text = before
            .as_ref()
            .map(|b| String::from_utf8_lossy(b).into_owned())
            .unwrap_or_default();
        let key_text = key.clone().unwrap_or_default();
        let after_text = match (present, replace || found_line.is_none()) {
            (true, add) => rewrite(
                &before_text,
                found_line,
                replace,
                true,
                if add { &key_text } else { "" },
            ),
            (false, _) => rewrite(&before_text, found_line, replace, false, ""),
        };
        let diff = json!({
            "before_header": if before.is_some() { path.clone() } else { "/dev/null".into() },
            "after_header": path.clone(),
            "before": before_text,
            "after": after_text,
        });
        let mut o = Outcome::ok()
            .with("name", self.name.0.clone())
            .with("key", given_key.clone())
            .with("path", path.clone())
            .with("hash_host", self.hash_host.0)
            .with("state", state.clone());
        // ansible-core's module always returns its diff; it is shown in diff mode.
        let show = |o: &mut Outcome| {
            if ctx.diff {
                o.diffs.push(FileDiff {
                    before_header: diff["before_header"].as_str().unwrap_or_default().into(),
                    after_header: path.clone(),
                    before: before_text.clone(),
                    after: after_text.clone(),
                });
            }
            o.diff_value = Some(diff.clone());
        };
        if !present && found_line.is_none() && key.is_some() {
            show(&mut o);
            return Ok(o);
        }
        if ctx.check {
            o.changed = replace || present != found;
            show(&mut o);
            return Ok(o);
        }
        if found && key.is_none() && !present {
            remote
                .check(&format!("ssh-keygen -R {} -f {p}", quote(&host)), None)
                .await?;
            // ssh-keygen removed every line of the host: nothing more to write (writing the
            // text read before would put them back).
            o.changed = true;
            show(&mut o);
            return Ok(o);
        }
        if replace || found != present {
            // A new file is private, as ansible-core's temporary file is.
            let opts = WriteOpts {
                mode: before.is_none().then(|| "0600".into()),
                ..WriteOpts::default()
            };
            let dir_ok = remote
                .exec(&format!("mkdir -p -- \"$(dirname -- {p})\""), None)
                .await?;
            if !dir_ok.success() {
                return Err(ModuleError::Failed(format!(
                    "Failed to write to file '{path}': {}",
                    dir_ok.stderr_str().trim()
                )));
            }
            let text = rewrite(&before_text, found_line, replace, present, &key_text);
            remote.write(&path, text.as_bytes(), &opts).await?;
            o.changed = true;
        }
        show(&mut o);
        Ok(o)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_are_found_as_ansible_core_finds_them() {
        let out = "# Host example.org found: line 2 \nexample.org ssh-ed25519 AAAAold\n";
        assert_eq!(
            search(out, Some("example.org ssh-ed25519 AAAAold\n")),
            (true, false, Some(2))
        );
        assert_eq!(
            search(out, Some("example.org ssh-ed25519 AAAAnew\n")),
            (true, true, Some(2))
        );
        assert_eq!(
            search(out, Some("example.org ssh-rsa AAAAx\n")),
            (true, true, None)
        );
        assert_eq!(search(out, None), (true, false, None));
        assert_eq!(
            rewrite("a k1\nb k2\nc k3\n", Some(2), true, true, "b k9\n"),
            "a k1\nc k3\nb k9\n"
        );
        assert_eq!(rewrite("a k1\nb k2\n", Some(1), false, false, ""), "b k2\n");
    }

    #[test]
    fn hashed_hosts_match_openssh() {
        // ssh-keygen -H of `example.org` with this salt gives this hash.
        let salt = [7u8; 20];
        let k = hash_host_key("example.org", "example.org ssh-ed25519 AAAA", &salt);
        assert!(k.starts_with("|1|BwcHBwcHBwcHBwcHBwcHBwcHBwc=|"), "{k}");
        assert!(k.ends_with(" ssh-ed25519 AAAA"));
    }
}

//! `user` and `group`: accounts from one `getent`/`id` probe, then `useradd`/`usermod`/
//! `userdel` (or the group commands) with exactly the options that differ.

use crate::modules::types::{Bool, Int, List, Text};
use crate::modules::{Ctx, FileDiff, ModResult, Module, Outcome, fail};
use crate::ssh::shell::quote;
use serde::Deserialize;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct User {
    #[serde(alias = "user")]
    name: Text,
    state: Option<String>,
    uid: Option<Int>,
    group: Option<Text>,
    groups: Option<List>,
    #[serde(default)]
    append: Bool,
    shell: Option<Text>,
    home: Option<Text>,
    #[serde(alias = "createhome")]
    create_home: Option<Bool>,
    #[serde(default)]
    system: Bool,
    password: Option<String>,
    update_password: Option<String>,
    comment: Option<String>,
    #[serde(default)]
    remove: Bool,
    #[serde(default)]
    force: Bool,
    #[serde(default)]
    move_home: Bool,
    #[serde(default)]
    password_lock: Option<Bool>,
    expires: Option<serde_json::Value>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Group {
    name: Text,
    gid: Option<Int>,
    state: Option<String>,
    #[serde(default)]
    system: Bool,
}

/// An account as `getent passwd` shows it, plus its groups and password hash.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Account {
    pub uid: String,
    pub gid: String,
    pub comment: String,
    pub home: String,
    pub shell: String,
    pub group: String,
    pub groups: Vec<String>,
    pub hash: String,
}

/// Parses the probe output: passwd line, `--`, primary group, `--`, groups, `--`, hash.
pub fn parse_account(out: &str) -> Option<Account> {
    let parts: Vec<&str> = out.split("--\n").collect();
    let passwd = parts.first()?.lines().next()?;
    let f: Vec<&str> = passwd.split(':').collect();
    if f.len() < 7 {
        return None;
    }
    Some(Account {
        uid: f[2].into(),
        gid: f[3].into(),
        comment: f[4].into(),
        home: f[5].into(),
        shell: f[6].into(),
        group: parts
            .get(1)
            .map(|s| s.trim().to_string())
            .unwrap_or_default(),
        groups: parts
            .get(2)
            .map(|s| s.split_whitespace().map(str::to_string).collect())
            .unwrap_or_default(),
        hash: parts
            .get(3)
            .map(|s| s.trim().to_string())
            .unwrap_or_default(),
    })
}

fn probe(name: &str) -> String {
    let n = quote(name);
    format!(
        "getent passwd {n} || exit 0; echo --; id -gn {n}; echo --; id -Gn {n}; echo --; getent shadow {n} 2>/dev/null | cut -d: -f2"
    )
}

impl User {
    /// `useradd`/`usermod` options for what differs from `now` (everything, for a new user).
    pub fn options(&self, now: Option<&Account>) -> Vec<String> {
        let mut o = Vec::new();
        let differs = |cur: Option<&str>, want: &str| cur != Some(want);
        if let Some(uid) = self.uid
            && differs(now.map(|a| a.uid.as_str()), &uid.0.to_string())
        {
            o.push(format!("-u {}", uid.0));
        }
        if let Some(g) = &self.group
            && now.is_none_or(|a| a.group != g.0 && a.gid != g.0)
        {
            o.push(format!("-g {}", quote(&g.0)));
        }
        if let Some(groups) = &self.groups {
            let want: Vec<&String> = groups.0.iter().filter(|g| !g.is_empty()).collect();
            let have: Vec<String> = now
                .map(|a| {
                    a.groups
                        .iter()
                        .filter(|g| **g != a.group)
                        .cloned()
                        .collect()
                })
                .unwrap_or_default();
            let missing = want.iter().any(|g| !have.contains(g));
            let extra = !self.append.0 && have.iter().any(|g| !want.contains(&g));
            if now.is_none() && !want.is_empty() || now.is_some() && (missing || extra) {
                let list: Vec<&str> = want.iter().map(|g| g.as_str()).collect();
                if self.append.0 && now.is_some() {
                    o.push(format!("-a -G {}", quote(&list.join(","))));
                } else {
                    o.push(format!("-G {}", quote(&list.join(","))));
                }
            }
        }
        if let Some(s) = &self.shell
            && differs(now.map(|a| a.shell.as_str()), &s.0)
        {
            o.push(format!("-s {}", quote(&s.0)));
        }
        if let Some(h) = &self.home
            && differs(now.map(|a| a.home.as_str()), &h.0)
        {
            o.push(format!("-d {}", quote(&h.0)));
            if now.is_some() && self.move_home.0 {
                o.push("-m".into());
            }
        }
        if let Some(c) = &self.comment
            && differs(now.map(|a| a.comment.as_str()), c)
        {
            o.push(format!("-c {}", quote(c)));
        }
        if let Some(p) = &self.password {
            let always = self.update_password.as_deref() != Some("on_create");
            if now.is_none() || (always && now.is_some_and(|a| a.hash != *p)) {
                o.push(format!("-p {}", quote(p)));
            }
        }
        if now.is_none() {
            if self.system.0 {
                o.push("-r".into());
            }
            match self.create_home {
                Some(Bool(false)) => o.push("-M".into()),
                _ if !self.system.0 => o.push("-m".into()),
                _ => {}
            }
        }
        o
    }
}

impl Module for User {
    async fn run(self, ctx: &Ctx<'_>) -> ModResult {
        let _ = (&self.expires, &self.password_lock);
        let remote = ctx.remote()?;
        let name = self.name.0.clone();
        let now = parse_account(&remote.check(&probe(&name), None).await?.stdout_str());
        let state = self.state.clone().unwrap_or_else(|| "present".into());
        let cmd = match (state.as_str(), &now) {
            ("absent", None) => None,
            ("absent", Some(_)) => Some(format!(
                "userdel{}{} {}",
                if self.remove.0 { " -r" } else { "" },
                if self.force.0 { " -f" } else { "" },
                quote(&name)
            )),
            ("present", None) => Some(format!(
                "useradd {} {}",
                self.options(None).join(" "),
                quote(&name)
            )),
            ("present", Some(a)) => {
                let o = self.options(Some(a));
                (!o.is_empty()).then(|| format!("usermod {} {}", o.join(" "), quote(&name)))
            }
            (other, _) => return fail(format!("unknown state `{other}` (use present or absent)")),
        };
        let mut out = Outcome::changed(cmd.is_some());
        if let Some(c) = &cmd {
            if ctx.diff {
                out.diffs.push(FileDiff {
                    before_header: format!("user {name}"),
                    after_header: format!("user {name}"),
                    before: now
                        .as_ref()
                        .map(|a| {
                            format!(
                                "uid={} group={} groups={} shell={} home={}\n",
                                a.uid,
                                a.group,
                                a.groups.join(","),
                                a.shell,
                                a.home
                            )
                        })
                        .unwrap_or_default(),
                    after: format!(
                        "{}\n",
                        c.replace(
                            &format!("-p {}", quote(self.password.as_deref().unwrap_or(""))),
                            "-p ********"
                        )
                    ),
                });
            }
            if !ctx.check {
                remote.check(c, None).await?;
            }
        }
        let existed = now.is_some();
        let after = if cmd.is_some() && !ctx.check {
            parse_account(&remote.check(&probe(&name), None).await?.stdout_str())
        } else {
            now
        };
        // The keys ansible-core's user module adds for what it did.
        match (state.as_str(), existed) {
            ("absent", true) if !ctx.check => {
                out = out
                    .with("force", self.force.0)
                    .with("remove", self.remove.0);
            }
            ("present", false) if !ctx.check => {
                out = out
                    .with("system", self.system.0)
                    .with("create_home", self.create_home.is_none_or(|c| c.0));
            }
            ("present", true) => {
                out = out
                    .with("append", self.append.0)
                    .with("move_home", self.move_home.0);
            }
            _ => {}
        }
        if state == "present" && self.password.is_some() {
            out = out.with("password", "NOT_LOGGING_PASSWORD");
        }
        if let Some(a) = after.filter(|_| state == "present") {
            out = out
                .with("uid", a.uid.parse::<u64>().unwrap_or(0))
                .with("group", a.gid.parse::<u64>().unwrap_or(0))
                .with("comment", a.comment)
                .with("home", a.home)
                .with("shell", a.shell);
            if let Some(g) = &self.groups {
                out = out.with("groups", g.0.join(","));
            }
        }
        Ok(out.with("name", name).with("state", state))
    }
}

impl Module for Group {
    async fn run(self, ctx: &Ctx<'_>) -> ModResult {
        let remote = ctx.remote()?;
        let n = quote(&self.name.0);
        let line = remote
            .check(&format!("getent group {n} || true"), None)
            .await?
            .stdout_str();
        let gid_now = line.split(':').nth(2).map(|s| s.trim().to_string());
        let state = self.state.clone().unwrap_or_else(|| "present".into());
        let cmd = match (state.as_str(), &gid_now) {
            ("absent", None) => None,
            ("absent", Some(_)) => Some(format!("groupdel {n}")),
            ("present", None) => Some(format!(
                "groupadd{}{} {n}",
                self.gid.map(|g| format!(" -g {}", g.0)).unwrap_or_default(),
                if self.system.0 { " -r" } else { "" }
            )),
            ("present", Some(g)) => self
                .gid
                .filter(|want| want.0.to_string() != *g)
                .map(|want| format!("groupmod -g {} {n}", want.0)),
            (other, _) => return fail(format!("unknown state `{other}` (use present or absent)")),
        };
        // ansible-core adds the group's gid (and the `system` asked for) when the group
        // exists once the task is done.
        let gid_after = match &cmd {
            Some(c) if !ctx.check => {
                remote.check(c, None).await?;
                remote
                    .check(&format!("getent group {n} || true"), None)
                    .await?
                    .stdout_str()
                    .split(':')
                    .nth(2)
                    .map(|s| s.trim().to_string())
            }
            _ => gid_now,
        };
        let mut out = Outcome::changed(cmd.is_some())
            .with("name", self.name.0)
            .with("state", state);
        if let Some(g) = gid_after.and_then(|g| g.parse::<u64>().ok()) {
            out = out.with("gid", g).with("system", self.system.0);
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn probe_parsing_and_options() {
        let a = parse_account("deploy:x:1001:1001:Deploy:/home/deploy:/bin/sh\n--\ndeploy\n--\ndeploy sudo\n--\n$6$x$y\n").unwrap();
        assert_eq!(
            (a.uid.as_str(), a.group.as_str(), a.groups.clone()),
            (
                "1001",
                "deploy",
                vec!["deploy".to_string(), "sudo".to_string()]
            )
        );
        let u: User = serde_json::from_value(
            json!({"name": "deploy", "shell": "/bin/bash", "groups": "sudo,adm", "append": true}),
        )
        .unwrap();
        assert_eq!(u.options(Some(&a)), vec!["-a -G sudo,adm", "-s /bin/bash"]);
        let same: User = serde_json::from_value(
            json!({"name": "deploy", "shell": "/bin/sh", "groups": ["sudo"], "uid": 1001}),
        )
        .unwrap();
        assert!(same.options(Some(&a)).is_empty());
        let new: User = serde_json::from_value(
            json!({"name": "svc", "system": true, "shell": "/usr/sbin/nologin"}),
        )
        .unwrap();
        assert_eq!(new.options(None), vec!["-s /usr/sbin/nologin", "-r"]);
        assert!(parse_account("").is_none());
    }
}

//! `~/.ssh/config` as OpenSSH reads it: `Host` blocks with patterns and negations, the first
//! value obtained for an option wins, `IdentityFile` accumulates, `Include` pulls in files,
//! `%h`/`%r`/`%p`/`%%` and `~` are expanded. `Match` blocks are not evaluated (skipped).

use crate::glob::{glob, match_list};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// One `Host` block (or the options before the first block, which apply to every host).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
struct Block {
    patterns: Option<Vec<String>>,
    options: Vec<(String, Vec<String>)>,
}

/// A parsed ssh_config.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct SshConfig {
    blocks: Vec<Block>,
}

/// The options that apply to one host.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct HostConfig {
    pub hostname: Option<String>,
    pub user: Option<String>,
    pub port: Option<u16>,
    pub identity_files: Vec<PathBuf>,
    pub identities_only: bool,
    pub proxy_jump: Option<String>,
    pub user_known_hosts_files: Vec<PathBuf>,
    pub strict_host_key_checking: Option<String>,
    pub connect_timeout: Option<u64>,
    pub server_alive_interval: Option<u64>,
    pub server_alive_count_max: Option<u32>,
}

impl SshConfig {
    /// Reads `path`; a missing file is an empty config.
    pub fn load(path: &Path) -> std::io::Result<SshConfig> {
        let mut cfg = SshConfig::default();
        cfg.read_file(path, 0)?;
        Ok(cfg)
    }

    /// Parses config text (Include paths are resolved against `~/.ssh`).
    pub fn parse(text: &str) -> SshConfig {
        let mut cfg = SshConfig::default();
        // Errors only come from Include, which reports them as skipped files here.
        let _ = cfg.read_text(text, 0);
        cfg
    }

    /// Adds options (as from `-o Key=Value`) that take precedence over every file option.
    pub fn prepend_options(&mut self, options: Vec<(String, Vec<String>)>) {
        self.blocks.insert(
            0,
            Block {
                patterns: None,
                options,
            },
        );
    }

    fn read_file(&mut self, path: &Path, depth: usize) -> std::io::Result<()> {
        match std::fs::read_to_string(path) {
            Ok(text) => self.read_text(&text, depth),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(e),
        }
    }

    fn read_text(&mut self, text: &str, depth: usize) -> std::io::Result<()> {
        self.blocks.push(Block::default());
        for line in text.lines() {
            let Some((key, args)) = split_option(line) else {
                continue;
            };
            match key.as_str() {
                "host" => self.blocks.push(Block {
                    patterns: Some(args),
                    options: Vec::new(),
                }),
                "match" => self.blocks.push(Block {
                    patterns: Some(Vec::new()),
                    options: Vec::new(),
                }),
                "include" if depth < 8 => {
                    for pat in args {
                        for path in include_paths(&pat) {
                            self.read_file(&path, depth + 1)?;
                        }
                    }
                    // Options after an Include still belong to the enclosing block.
                    let patterns = self.blocks.iter().rev().find_map(|b| b.patterns.clone());
                    self.blocks.push(Block {
                        patterns,
                        options: Vec::new(),
                    });
                }
                _ => {
                    if let Some(b) = self.blocks.last_mut() {
                        b.options.push((key, args));
                    }
                }
            }
        }
        Ok(())
    }

    /// The options for `host` (the name given on the command line or in the inventory).
    pub fn resolve(&self, host: &str) -> HostConfig {
        let mut c = HostConfig::default();
        let (mut have_known, mut have_only) = (false, false);
        for b in self.blocks.iter().filter(|b| block_matches(b, host)) {
            for (key, args) in &b.options {
                let first = args.first().cloned();
                match key.as_str() {
                    "hostname" => c.hostname = c.hostname.take().or(first),
                    "user" => c.user = c.user.take().or(first),
                    "port" => c.port = c.port.or(first.and_then(|p| p.parse().ok())),
                    "identityfile" => {
                        if let Some(f) = first {
                            c.identity_files.push(PathBuf::from(f));
                        }
                    }
                    "identitiesonly" if !have_only => {
                        c.identities_only = first.as_deref() == Some("yes");
                        have_only = true;
                    }
                    "proxyjump" => c.proxy_jump = c.proxy_jump.take().or(first),
                    "userknownhostsfile" if !have_known => {
                        c.user_known_hosts_files = args.iter().map(PathBuf::from).collect();
                        have_known = true;
                    }
                    "stricthostkeychecking" => {
                        c.strict_host_key_checking = c.strict_host_key_checking.take().or(first)
                    }
                    "connecttimeout" => {
                        c.connect_timeout = c.connect_timeout.or(first.and_then(|p| p.parse().ok()))
                    }
                    "serveralivecountmax" => {
                        c.server_alive_count_max = c
                            .server_alive_count_max
                            .or(first.and_then(|p| p.parse().ok()))
                    }
                    "serveraliveinterval" => {
                        c.server_alive_interval = c
                            .server_alive_interval
                            .or(first.and_then(|p| p.parse().ok()))
                    }
                    _ => {}
                }
            }
        }
        let hostname = c.hostname.clone().unwrap_or_else(|| host.to_string());
        let expand = |s: &str| expand_tokens(s, &hostname, c.user.as_deref(), c.port);
        if let Some(h) = &c.hostname {
            c.hostname = Some(expand_tokens(h, host, None, None));
        }
        c.identity_files = c
            .identity_files
            .iter()
            .map(|p| PathBuf::from(expand(&p.to_string_lossy())))
            .collect();
        c.user_known_hosts_files = c
            .user_known_hosts_files
            .iter()
            .map(|p| PathBuf::from(expand(&p.to_string_lossy())))
            .collect();
        c
    }
}

fn block_matches(b: &Block, host: &str) -> bool {
    let Some(patterns) = &b.patterns else {
        return true;
    };
    match_list(patterns.iter().flat_map(|p| p.split(',')), host)
}

/// `Key value...` or `Key=value`, lower-cased key, quoted arguments kept whole.
fn split_option(line: &str) -> Option<(String, Vec<String>)> {
    let line = line.trim();
    if line.is_empty() || line.starts_with('#') {
        return None;
    }
    let split = line.find(|c: char| c.is_whitespace() || c == '=')?;
    let (key, rest) = line.split_at(split);
    let rest = rest.trim_start().trim_start_matches('=').trim_start();
    let mut args = Vec::new();
    let mut cur = String::new();
    let mut quoted = false;
    for c in rest.chars() {
        match c {
            '"' => quoted = !quoted,
            c if c.is_whitespace() && !quoted => {
                if !cur.is_empty() {
                    args.push(std::mem::take(&mut cur));
                }
            }
            c => cur.push(c),
        }
    }
    if !cur.is_empty() {
        args.push(cur);
    }
    Some((key.to_ascii_lowercase(), args))
}

/// Parses `-o Key=Value`, `-J jump`, `-p port`, `-i key` from ssh command-line arguments
/// (as written in `ansible_ssh_common_args`) into config options.
pub fn options_from_args(args: &str) -> Vec<(String, Vec<String>)> {
    let words: Vec<String> = shell_words(args);
    let mut out = Vec::new();
    let mut i = 0;
    while i < words.len() {
        let w = &words[i];
        let mut take = |flag: &str| -> Option<String> {
            if w == flag {
                i += 1;
                words.get(i).cloned()
            } else {
                w.strip_prefix(flag).map(String::from)
            }
        };
        if let Some(o) = take("-o") {
            if let Some(opt) = split_option(&o) {
                out.push(opt);
            }
        } else if let Some(j) = take("-J") {
            out.push(("proxyjump".into(), vec![j]));
        } else if let Some(p) = take("-p") {
            out.push(("port".into(), vec![p]));
        } else if let Some(k) = take("-i") {
            out.push(("identityfile".into(), vec![k]));
        }
        i += 1;
    }
    out
}

fn shell_words(s: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut quote = None;
    let mut started = false;
    for c in s.chars() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), c) => cur.push(c),
            (None, '"' | '\'') => {
                quote = Some(c);
                started = true;
            }
            (None, c) if c.is_whitespace() => {
                if started || !cur.is_empty() {
                    out.push(std::mem::take(&mut cur));
                }
                started = false;
            }
            (None, c) => cur.push(c),
        }
    }
    if started || !cur.is_empty() {
        out.push(cur);
    }
    out
}

fn home() -> PathBuf {
    std::env::var_os("HOME")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/"))
}

/// Expands `~` and OpenSSH's `%h`, `%r`, `%p`, `%%` tokens.
pub fn expand_tokens(s: &str, host: &str, user: Option<&str>, port: Option<u16>) -> String {
    let s = match s.strip_prefix("~/") {
        Some(rest) => format!("{}/{rest}", home().display()),
        None => s.to_string(),
    };
    let mut out = String::new();
    let mut it = s.chars();
    while let Some(c) = it.next() {
        if c != '%' {
            out.push(c);
            continue;
        }
        match it.next() {
            Some('h') => out.push_str(host),
            Some('r') => out.push_str(user.unwrap_or("")),
            Some('p') => out.push_str(&port.unwrap_or(22).to_string()),
            Some('d') => out.push_str(&home().display().to_string()),
            Some('%') => out.push('%'),
            Some(o) => {
                out.push('%');
                out.push(o);
            }
            None => out.push('%'),
        }
    }
    out
}

fn include_paths(pattern: &str) -> Vec<PathBuf> {
    let p = expand_tokens(pattern, "", None, None);
    let p = if Path::new(&p).is_absolute() {
        PathBuf::from(p)
    } else {
        home().join(".ssh").join(p)
    };
    let name = p
        .file_name()
        .map(|n| n.to_string_lossy().to_string())
        .unwrap_or_default();
    if !name.contains('*') && !name.contains('?') {
        return vec![p];
    }
    let dir = p.parent().map(Path::to_path_buf).unwrap_or_default();
    let mut found: Vec<PathBuf> = std::fs::read_dir(&dir)
        .map(|rd| {
            rd.filter_map(|e| e.ok())
                .filter(|e| glob(&name, &e.file_name().to_string_lossy()))
                .map(|e| e.path())
                .collect()
        })
        .unwrap_or_default();
    found.sort();
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_value_wins_and_identity_accumulates() {
        let cfg = SshConfig::parse(
            "IdentityFile /k/global\n\
             Host web* !web9\n  HostName %h.example.com\n  User deploy\n  Port=2222\n  IdentityFile /k/web\n\
             Host *\n  User root\n  ProxyJump bastion\n  UserKnownHostsFile /kh/a /kh/b\n",
        );
        let c = cfg.resolve("web1");
        assert_eq!(c.hostname.as_deref(), Some("web1.example.com"));
        assert_eq!(c.user.as_deref(), Some("deploy"));
        assert_eq!(c.port, Some(2222));
        assert_eq!(
            c.identity_files,
            vec![PathBuf::from("/k/global"), PathBuf::from("/k/web")]
        );
        assert_eq!(c.proxy_jump.as_deref(), Some("bastion"));
        assert_eq!(c.user_known_hosts_files.len(), 2);
        let c9 = cfg.resolve("web9");
        assert_eq!(c9.user.as_deref(), Some("root"));
        assert_eq!(c9.hostname, None);
    }

    #[test]
    fn command_line_options_win() {
        let mut cfg = SshConfig::parse("Host *\n  Port 2200\n");
        cfg.prepend_options(options_from_args(
            "-o UserKnownHostsFile=/tmp/kh -o 'StrictHostKeyChecking yes' -J jump@b:2022 -p 2201",
        ));
        let c = cfg.resolve("x");
        assert_eq!(c.port, Some(2201));
        assert_eq!(c.proxy_jump.as_deref(), Some("jump@b:2022"));
        assert_eq!(c.strict_host_key_checking.as_deref(), Some("yes"));
        assert_eq!(c.user_known_hosts_files, vec![PathBuf::from("/tmp/kh")]);
    }

    #[test]
    fn match_blocks_are_skipped() {
        let cfg = SshConfig::parse("Match host x\n  User nobody\nHost x\n  User real\n");
        assert_eq!(cfg.resolve("x").user.as_deref(), Some("real"));
    }
}

//! `stat`: what is at a path, returned as ansible-core's `stat` dict (every field it returns:
//! type tests, permission bits, ids and names, times with fractions, inode/device/links,
//! access for the connecting user, checksum, MIME type, file attributes). Never changes
//! anything. A leading `~`/`~user` is expanded on the host and `path` reports the result.

use crate::modules::types::{Bool, Text};
use crate::modules::{Ctx, ModResult, Module, Outcome};
use crate::ssh::shell::quote_path;
use serde::Deserialize;
use serde_json::{Map, Value as Json, json};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StatModule {
    #[serde(alias = "dest", alias = "name")]
    path: Text,
    #[serde(default)]
    follow: Bool,
    #[serde(default = "crate::modules::files_common::yes")]
    get_checksum: Bool,
    #[serde(alias = "checksum")]
    checksum_algorithm: Option<String>,
    #[serde(
        default = "crate::modules::files_common::yes",
        alias = "mime",
        alias = "mime_type",
        alias = "mime-type"
    )]
    get_mime: Bool,
    #[serde(
        default = "crate::modules::files_common::yes",
        alias = "attr",
        alias = "attributes"
    )]
    get_attributes: Bool,
}

const ALGORITHMS: [&str; 6] = ["sha1", "sha224", "sha256", "sha384", "sha512", "md5"];

/// One round trip: the expanded path, stat's fields, the link, access, checksum, MIME, lsattr.
fn probe(path: &str, follow: bool, sum: Option<&str>, mime: bool, attrs: bool) -> String {
    let p = quote_path(path);
    let l = if follow { "-L " } else { "" };
    let there = if follow {
        format!("[ -e {p} ]")
    } else {
        format!("{{ [ -e {p} ] || [ -L {p} ]; }}")
    };
    // A checksum of regular files only: a link is one only when followed (as ansible-core).
    let not_link = if follow {
        String::new()
    } else {
        format!("[ ! -L {p} ] && ")
    };
    let sum = match sum {
        Some(a) => format!(
            "if {not_link}[ -f {p} ] && [ -r {p} ]; then {a}sum < {p} | cut -d' ' -f1; else echo; fi"
        ),
        None => "echo".into(),
    };
    let mime = if mime {
        format!("if command -v file >/dev/null 2>&1; then file -b -L --mime -- {p}; else echo; fi")
    } else {
        "echo".into()
    };
    let attrs = if attrs {
        format!("lsattr -vd -- {p} 2>/dev/null || echo")
    } else {
        "echo".into()
    };
    format!(
        "if {there}; then printf '%s\\n' {p}; stat {l}-c '%F|%a|%U|%G|%u|%g|%s|%.9X|%.9Y|%.9Z|%d|%i|%h|%b|%B|%t|%T' -- {p} || exit 1; \
         if [ -L {p} ]; then readlink -- {p}; readlink -f -- {p}; else echo; echo; fi; \
         a=; [ -r {p} ] && a=r; [ -w {p} ] && a=${{a}}w; [ -x {p} ] && a=${{a}}x; echo \"$a\"; \
         {sum}; {mime}; {attrs}; else echo absent; fi"
    )
}

fn num(s: &str) -> Json {
    if let Ok(i) = s.parse::<i64>() {
        return json!(i);
    }
    s.parse::<f64>().map(|f| json!(f)).unwrap_or(Json::Null)
}

/// Linux's `makedev` for a major and minor number given in hex.
fn device(major: &str, minor: &str) -> u64 {
    let ma = u64::from_str_radix(major, 16).unwrap_or(0);
    let mi = u64::from_str_radix(minor, 16).unwrap_or(0);
    (mi & 0xff) | ((ma & 0xfff) << 8) | ((mi & !0xff) << 12) | ((ma & !0xfff) << 32)
}

/// The `stat` dict from [`probe`]'s output, `None` when nothing is there.
fn parse(out: &str, mime: bool, attrs: bool) -> Option<Map<String, Json>> {
    let lines: Vec<&str> = out.lines().collect();
    if lines.first() == Some(&"absent") || lines.len() < 6 {
        return None;
    }
    let f: Vec<&str> = lines[1].split('|').collect();
    if f.len() < 17 {
        return None;
    }
    let kind = f[0];
    let mode = u32::from_str_radix(f[1], 8).unwrap_or(0);
    let bit = |b: u32| mode & b != 0;
    let access = lines[4];
    let mut st = Map::new();
    let mut put = |k: &str, v: Json| {
        st.insert(k.to_string(), v);
    };
    put("exists", json!(true));
    put("path", json!(lines[0]));
    put("mode", json!(format!("{mode:04o}")));
    put("isdir", json!(kind == "directory"));
    put("ischr", json!(kind == "character special file"));
    put("isblk", json!(kind == "block special file"));
    put("isreg", json!(kind.starts_with("regular")));
    put("isfifo", json!(kind == "fifo"));
    put("islnk", json!(kind == "symbolic link"));
    put("issock", json!(kind == "socket"));
    put("uid", num(f[4]));
    put("gid", num(f[5]));
    put("size", num(f[6]));
    put("inode", num(f[11]));
    put("dev", num(f[10]));
    put("nlink", num(f[12]));
    put("atime", num(f[7]));
    put("mtime", num(f[8]));
    put("ctime", num(f[9]));
    for (k, b) in [
        ("wusr", 0o200),
        ("rusr", 0o400),
        ("xusr", 0o100),
        ("wgrp", 0o020),
        ("rgrp", 0o040),
        ("xgrp", 0o010),
        ("woth", 0o002),
        ("roth", 0o004),
        ("xoth", 0o001),
        ("isuid", 0o4000),
        ("isgid", 0o2000),
    ] {
        put(k, json!(bit(b)));
    }
    put("blocks", num(f[13]));
    put("block_size", num(f[14]));
    put("device_type", json!(device(f[15], f[16])));
    put("readable", json!(access.contains('r')));
    put("writeable", json!(access.contains('w')));
    put("executable", json!(access.contains('x')));
    put("pw_name", json!(f[2]));
    put("gr_name", json!(f[3]));
    if kind == "symbolic link" {
        put("lnk_target", json!(lines[2]));
        put("lnk_source", json!(lines[3]));
    }
    let checksum = lines.get(5).copied().unwrap_or_default().trim();
    if !checksum.is_empty() {
        put("checksum", json!(checksum));
    }
    if mime {
        let m = lines.get(6).copied().unwrap_or_default().trim();
        let (t, c) = match m.split_once("; charset=") {
            Some((t, c)) => (t, c),
            None if m.is_empty() => ("unknown", "unknown"),
            None => (m, "unknown"),
        };
        put("mimetype", json!(t));
        put("charset", json!(c));
    }
    if attrs {
        let words: Vec<&str> = lines
            .get(7)
            .copied()
            .unwrap_or_default()
            .split_whitespace()
            .collect();
        if let [version, flags, ..] = words.as_slice() {
            put("version", json!(version));
            let flags: String = flags.chars().filter(|c| *c != '-').collect();
            put("attr_flags", json!(flags));
            put(
                "attributes",
                json!(crate::modules::files_common::attribute_names(&flags)),
            );
        }
    }
    Some(st)
}

impl Module for StatModule {
    async fn run(self, ctx: &Ctx<'_>) -> ModResult {
        let remote = ctx.remote()?;
        let algo = self
            .checksum_algorithm
            .clone()
            .unwrap_or_else(|| "sha1".into());
        if !ALGORITHMS.contains(&algo.as_str()) {
            return crate::modules::fail(format!(
                "value of checksum_algorithm must be one of: {}, got: {algo}",
                ALGORITHMS.join(", ")
            ));
        }
        let sum = self.get_checksum.0.then_some(algo.as_str());
        let (mime, attrs) = (self.get_mime.0, self.get_attributes.0);
        let out = remote
            .check(&probe(&self.path.0, self.follow.0, sum, mime, attrs), None)
            .await?;
        Ok(match parse(&out.stdout_str(), mime, attrs) {
            Some(st) => Outcome::ok().with("stat", Json::Object(st)),
            None => Outcome::ok().with("stat", json!({"exists": false})),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stat_output_reads_as_ansible_core_reports_it() {
        let out = "/home/u/f\nregular file|4755|u|g|1000|1000|12|1700000000.100000000|1700000001.000000000|1700000002.500000000|2049|1234|1|8|4096|0|0\n\n\nrw\nda39a3ee5e6b4b0d3255bfef95601890afd80709\ntext/plain; charset=us-ascii\n   17 --------------e------- /home/u/f\n";
        let st = parse(out, true, true).unwrap();
        assert_eq!(st["path"], json!("/home/u/f"));
        assert_eq!(st["mode"], json!("4755"));
        assert_eq!(st["isuid"], json!(true));
        assert_eq!(st["isreg"], json!(true));
        assert_eq!(st["atime"], json!(1700000000.1));
        assert_eq!(st["mtime"], json!(1700000001.0));
        assert_eq!(st["readable"], json!(true));
        assert_eq!(st["executable"], json!(false));
        assert_eq!(st["mimetype"], json!("text/plain"));
        assert_eq!(st["charset"], json!("us-ascii"));
        assert_eq!(st["version"], json!("17"));
        assert_eq!(st["attributes"], json!(["extents"]));
        assert!(parse("absent\n", true, true).is_none());
        assert_eq!(device("8", "1"), 2049);
    }
}

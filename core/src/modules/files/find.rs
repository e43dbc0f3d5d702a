//! `find`: files, directories or links below paths on the host, chosen as ansible-core's
//! module chooses them — name patterns (globs or Python regexes) and excludes, age, size,
//! content, mode, hidden names, depth, `limit` — and walked in the order os.walk walks
//! (each directory's files, then its directories, then down into them), from one `find`
//! listing per path. Each match carries ansible-core's stat fields; checksums on request.

use crate::modules::files_common::apply_symbolic;
use crate::modules::types::{Bool, Int, List, Text};
use crate::modules::{Ctx, ModResult, Module, ModuleError, Outcome, fail};
use crate::ssh::shell::{quote, quote_path};
use serde::Deserialize;
use serde_json::{Map, Value as Json, json};
use std::collections::HashMap;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Find {
    #[serde(alias = "name", alias = "path")]
    paths: List,
    #[serde(default, alias = "pattern")]
    patterns: List,
    #[serde(default, alias = "exclude")]
    excludes: List,
    contains: Option<String>,
    #[serde(default)]
    read_whole_file: Bool,
    file_type: Option<Text>,
    age: Option<Text>,
    age_stamp: Option<Text>,
    size: Option<Text>,
    #[serde(default)]
    recurse: Bool,
    #[serde(default)]
    hidden: Bool,
    #[serde(default)]
    follow: Bool,
    #[serde(default)]
    get_checksum: Bool,
    #[serde(alias = "checksum", alias = "checksum_algo")]
    checksum_algorithm: Option<Text>,
    #[serde(default)]
    use_regex: Bool,
    depth: Option<Int>,
    mode: Option<Json>,
    exact_mode: Option<Bool>,
    encoding: Option<String>,
    limit: Option<Int>,
}

/// One entry of the host's listing.
#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    pub parent: String,
    pub name: String,
    /// `find`'s `%y` (the entry itself) and `%Y` (what a link points to).
    pub kind: char,
    pub target_kind: char,
    pub mode: u32,
    pub uid: u64,
    pub gid: u64,
    pub owner: String,
    pub group: String,
    pub size: u64,
    pub inode: u64,
    pub dev: u64,
    pub nlink: u64,
    pub atime: f64,
    pub mtime: f64,
    pub ctime: f64,
}

const FIELDS: usize = 16;

/// The listing script for one path (status 3 when it is not a directory): the path as the
/// host's shell expands it (`~`), then the entries.
pub fn listing_script(path: &str, recurse: bool, follow: bool) -> String {
    let p = quote_path(path);
    let l = if follow { "-L " } else { "" };
    let depth = if recurse { "" } else { "-maxdepth 1 " };
    format!(
        "if [ ! -d {p} ]; then exit 3; fi; printf '%s\\0' {p}; find {l}{p} -mindepth 1 {depth}-printf '%h\\0%f\\0%y\\0%Y\\0%m\\0%U\\0%G\\0%u\\0%g\\0%s\\0%i\\0%D\\0%n\\0%A@\\0%T@\\0%C@\\0'"
    )
}

/// Reads the listing: the expanded start path and the entries.
pub fn parse_listing(out: &[u8]) -> (String, Vec<Entry>) {
    let mut fields: Vec<String> = out
        .split(|b| *b == 0)
        .map(|f| String::from_utf8_lossy(f).into_owned())
        .collect();
    let top = if fields.is_empty() {
        String::new()
    } else {
        fields.remove(0)
    };
    let num = |s: &str| s.parse::<u64>().unwrap_or(0);
    let time = |s: &str| s.parse::<f64>().unwrap_or(0.0);
    let entries = fields
        .chunks(FIELDS)
        .filter(|c| c.len() == FIELDS)
        .map(|c| Entry {
            parent: c[0].clone(),
            name: c[1].clone(),
            kind: c[2].chars().next().unwrap_or('f'),
            target_kind: c[3].chars().next().unwrap_or('N'),
            mode: u32::from_str_radix(&c[4], 8).unwrap_or(0),
            uid: num(&c[5]),
            gid: num(&c[6]),
            owner: c[7].clone(),
            group: c[8].clone(),
            size: num(&c[9]),
            inode: num(&c[10]),
            dev: num(&c[11]),
            nlink: num(&c[12]),
            atime: time(&c[13]),
            mtime: time(&c[14]),
            ctime: time(&c[15]),
        })
        .collect();
    (top, entries)
}

/// Python's `os.path.normpath` for absolute or relative POSIX paths.
fn normpath(p: &str) -> String {
    let abs = p.starts_with('/');
    let mut parts: Vec<&str> = Vec::new();
    for part in p.split('/') {
        match part {
            "" | "." => {}
            ".." if parts.last().is_some_and(|l| *l != "..") => {
                parts.pop();
            }
            ".." if abs => {}
            other => parts.push(other),
        }
    }
    let joined = parts.join("/");
    match (abs, joined.is_empty()) {
        (true, _) => format!("/{joined}"),
        (false, true) => ".".into(),
        (false, false) => joined,
    }
}

/// `age`/`size` with their unit suffixes, as ansible-core reads them.
fn with_unit(text: &str, units: &[(char, i64)]) -> Option<i64> {
    let t = text.trim().to_ascii_lowercase();
    let (digits, unit) = match t.chars().last() {
        Some(c) if c.is_ascii_alphabetic() => (&t[..t.len() - 1], Some(c)),
        _ => (t.as_str(), None),
    };
    let n: i64 = digits.parse().ok()?;
    match unit {
        None => Some(n),
        Some(u) => units.iter().find(|(c, _)| *c == u).map(|(_, m)| n * m),
    }
}

/// Why a file's text could not be had.
enum DecodeError {
    /// Python has no such codec: the whole walk of the path stops.
    Unknown,
    /// The bytes are not in that encoding.
    Malformed,
}

/// A file's text in `encoding` (UTF-8 unless told; Latin-1 byte for byte; others by their
/// WHATWG labels: gbk, shift_jis, euc-kr, windows-125x...).
fn decode(bytes: &[u8], encoding: Option<&str>) -> Result<String, DecodeError> {
    let label = encoding
        .unwrap_or("utf-8")
        .trim()
        .to_ascii_lowercase()
        .replace('_', "-");
    if ["latin-1", "latin1", "iso-8859-1", "iso8859-1", "l1"].contains(&label.as_str()) {
        return Ok(bytes.iter().map(|b| char::from(*b)).collect());
    }
    let enc = match label.as_str() {
        "utf8" | "utf-8" => encoding_rs::UTF_8,
        other => encoding_rs::Encoding::for_label(other.as_bytes()).ok_or(DecodeError::Unknown)?,
    };
    let (text, _, malformed) = enc.decode(bytes);
    match malformed {
        true => Err(DecodeError::Malformed),
        false => Ok(text.into_owned()),
    }
}

/// ansible-core's stat fields of a match.
fn statinfo(path: &str, e: &Entry) -> Map<String, Json> {
    let m = e.mode;
    let mut r = Map::new();
    r.insert("path".into(), json!(path));
    for (k, v) in [
        ("mode", json!(format!("{:04o}", m & 0o7777))),
        ("isdir", json!(e.kind == 'd')),
        ("ischr", json!(e.kind == 'c')),
        ("isblk", json!(e.kind == 'b')),
        ("isreg", json!(e.kind == 'f')),
        ("isfifo", json!(e.kind == 'p')),
        ("islnk", json!(e.kind == 'l')),
        ("issock", json!(e.kind == 's')),
        ("uid", json!(e.uid)),
        ("gid", json!(e.gid)),
        ("size", json!(e.size)),
        ("inode", json!(e.inode)),
        ("dev", json!(e.dev)),
        ("nlink", json!(e.nlink)),
        ("atime", json!(e.atime)),
        ("mtime", json!(e.mtime)),
        ("ctime", json!(e.ctime)),
        ("gr_name", json!(e.group)),
        ("pw_name", json!(e.owner)),
        ("wusr", json!(m & 0o200 != 0)),
        ("rusr", json!(m & 0o400 != 0)),
        ("xusr", json!(m & 0o100 != 0)),
        ("wgrp", json!(m & 0o020 != 0)),
        ("rgrp", json!(m & 0o040 != 0)),
        ("xgrp", json!(m & 0o010 != 0)),
        ("woth", json!(m & 0o002 != 0)),
        ("roth", json!(m & 0o004 != 0)),
        ("xoth", json!(m & 0o001 != 0)),
        ("isuid", json!(m & 0o4000 != 0)),
        ("isgid", json!(m & 0o2000 != 0)),
    ] {
        r.insert(k.into(), v);
    }
    r
}

/// What is decided before walking.
struct Rules {
    patterns: Vec<String>,
    excludes: Vec<String>,
    regexes: Option<(Vec<fancy_regex::Regex>, Vec<fancy_regex::Regex>)>,
    age: Option<i64>,
    size: Option<i64>,
    mode: Option<(u32, bool)>,
    file_type: String,
    age_stamp: String,
}

fn anchored(p: &str) -> Result<fancy_regex::Regex, ModuleError> {
    // Python's re.match: anchored at the start only.
    fancy_regex::Regex::new(&format!("^(?:{p})")).map_err(|e| {
        ModuleError::Failed(format!(
            "invalid regular expression `{p}`: {}",
            crate::template::pyre::python_message(&e)
        ))
    })
}

impl Rules {
    /// ansible-core's `pfilter`.
    fn name_matches(&self, name: &str) -> bool {
        let hit = |p: &str| crate::glob::fnmatch(p, name);
        match &self.regexes {
            Some((pats, excl)) => {
                let m = |r: &fancy_regex::Regex| r.is_match(name).unwrap_or(false);
                pats.iter().any(m) && !excl.iter().any(m)
            }
            None => self.patterns.iter().any(|p| hit(p)) && !self.excludes.iter().any(|e| hit(e)),
        }
    }

    fn age_ok(&self, e: &Entry, now: f64) -> bool {
        let Some(age) = self.age else { return true };
        let stamp = match self.age_stamp.as_str() {
            "atime" => e.atime,
            "ctime" => e.ctime,
            _ => e.mtime,
        };
        let old = now - stamp;
        if age >= 0 {
            old >= age.abs() as f64
        } else {
            old <= age.abs() as f64
        }
    }

    fn size_ok(&self, e: &Entry) -> bool {
        match self.size {
            None => true,
            Some(s) if s >= 0 => e.size as i64 >= s.abs(),
            Some(s) => e.size as i64 <= s.abs(),
        }
    }

    fn mode_ok(&self, e: &Entry) -> bool {
        match self.mode {
            None => true,
            Some((m, true)) => e.mode & 0o7777 == m,
            Some((m, false)) => e.mode & m != 0,
        }
    }
}

impl Find {
    fn rules(&self) -> Result<Rules, ModuleError> {
        let mut patterns = self.patterns.0.clone();
        if patterns.is_empty() {
            patterns.push(if self.use_regex.0 { ".*" } else { "*" }.into());
        }
        let regexes = if self.use_regex.0 {
            Some((
                patterns
                    .iter()
                    .map(|p| anchored(p))
                    .collect::<Result<_, _>>()?,
                self.excludes
                    .0
                    .iter()
                    .map(|p| anchored(p))
                    .collect::<Result<_, _>>()?,
            ))
        } else {
            None
        };
        let age = match &self.age {
            None => None,
            Some(a) => Some(
                with_unit(
                    &a.0,
                    &[
                        ('s', 1),
                        ('m', 60),
                        ('h', 3600),
                        ('d', 86400),
                        ('w', 604_800),
                    ],
                )
                .ok_or_else(|| ModuleError::Failed("failed to process age".into()))?,
            ),
        };
        let size = match &self.size {
            None => None,
            Some(s) => Some(
                with_unit(
                    &s.0,
                    &[
                        ('b', 1),
                        ('k', 1 << 10),
                        ('m', 1 << 20),
                        ('g', 1 << 30),
                        ('t', 1 << 40),
                    ],
                )
                .ok_or_else(|| ModuleError::Failed("failed to process size".into()))?,
            ),
        };
        let mode = match &self.mode {
            None | Some(Json::Null) => None,
            Some(Json::String(s)) if s.is_empty() => None,
            Some(Json::String(s)) => {
                let m = match u32::from_str_radix(s.trim_start_matches("0o"), 8) {
                    Ok(m) => m,
                    Err(_) => apply_symbolic(0, s, false).map_err(ModuleError::Failed)?,
                };
                Some((m & 0o7777, self.exact_mode.is_none_or(|e| e.0)))
            }
            Some(other) => {
                return fail(format!(
                    "argument 'mode' is not a string and conversion is not allowed, value is of type {}",
                    match other {
                        Json::Number(n) if n.is_i64() => "int",
                        Json::Number(_) => "float",
                        Json::Bool(_) => "bool",
                        Json::Array(_) => "list",
                        _ => "dict",
                    }
                ));
            }
        };
        let choice = |v: &Option<Text>, default: &str, all: &[&str], what: &str| {
            let v = v
                .as_ref()
                .map(|t| t.0.clone())
                .unwrap_or_else(|| default.into());
            if all.contains(&v.as_str()) {
                Ok(v)
            } else {
                Err(ModuleError::Failed(format!(
                    "value of {what} must be one of: {}, got: {v}",
                    all.join(", ")
                )))
            }
        };
        Ok(Rules {
            patterns,
            excludes: self.excludes.0.clone(),
            regexes,
            age,
            size,
            mode,
            file_type: choice(
                &self.file_type,
                "file",
                &["any", "directory", "file", "link"],
                "file_type",
            )?,
            age_stamp: choice(
                &self.age_stamp,
                "mtime",
                &["atime", "ctime", "mtime"],
                "age_stamp",
            )?,
        })
    }

    /// Whether a regular file's content matches `contains` (per line with re.match, or the
    /// whole text with re.search).
    async fn content_ok(&self, ctx: &Ctx<'_>, path: &str) -> Result<bool, ModuleError> {
        let Some(pat) = &self.contains else {
            return Ok(true);
        };
        let Some(bytes) = ctx.remote()?.read(path).await.ok().flatten() else {
            return Ok(false);
        };
        let text = match decode(&bytes, self.encoding.as_deref()) {
            Ok(t) => t,
            Err(DecodeError::Unknown) => {
                return Err(ModuleError::Failed(format!(
                    "unknown encoding: {}",
                    self.encoding.as_deref().unwrap_or_default()
                )));
            }
            Err(DecodeError::Malformed) => {
                return Err(ModuleError::Failed(format!(
                    "Failed to read the file {path} due to an encoding error. current encoding: {}",
                    self.encoding.as_deref().unwrap_or(
                        "None (default determined by the Python built-in function \"open\")"
                    )
                )));
            }
        };
        if self.read_whole_file.0 {
            let re =
                fancy_regex::Regex::new(pat).map_err(|e| ModuleError::Failed(e.to_string()))?;
            // Python's `$` also matches before a final newline.
            let hit = |t: &str| re.is_match(t).unwrap_or(false);
            return Ok(hit(&text) || text.strip_suffix('\n').is_some_and(hit));
        }
        let re = anchored(pat)?;
        Ok(text.split_inclusive('\n').any(|l| {
            re.is_match(l.strip_suffix('\n').unwrap_or(l))
                .unwrap_or(false)
        }))
    }
}

impl Module for Find {
    async fn run(self, ctx: &Ctx<'_>) -> ModResult {
        let rules = self.rules()?;
        if let Some(l) = &self.limit
            && l.0 <= 0
        {
            return fail(format!("limit cannot be {} (use None for unlimited)", l.0));
        }
        let limit = self.limit.as_ref().map(|l| l.0 as usize);
        let remote = ctx.remote()?;
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs_f64())
            .unwrap_or(0.0);
        let mut files: Vec<Map<String, Json>> = Vec::new();
        let mut skipped = Map::new();
        let mut warnings = Vec::new();
        let mut examined = 0usize;
        let mut msg = "All paths examined";
        for npath in &self.paths.0 {
            let out = remote
                .exec(&listing_script(npath, self.recurse.0, self.follow.0), None)
                .await?;
            if out.status == Some(3) {
                let why = format!("'{npath}' is not a directory");
                warnings.push(format!(
                    "Skipped '{npath}' path due to this access issue: {why}\n"
                ));
                skipped.insert(npath.clone(), json!(why));
                continue;
            }
            // Directories find could not read (`find: 'x': Permission denied`).
            for line in out.stderr_str().lines() {
                if let Some(rest) = line.strip_prefix("find: '")
                    && let Some((p, why)) = rest.split_once("': ")
                {
                    skipped.insert(p.to_string(), json!(format!("[Errno 13] {why}: '{p}'")));
                }
            }
            let (expanded, entries) = parse_listing(&out.stdout);
            let mut by_dir: HashMap<String, Vec<usize>> = HashMap::new();
            for (i, e) in entries.iter().enumerate() {
                by_dir.entry(normpath(&e.parent)).or_default().push(i);
            }
            let top = normpath(&expanded);
            let base_depth = format!("{}/", expanded.trim_end_matches('/'))
                .matches('/')
                .count();
            // os.walk, top-down: a directory's files, then its directories, then each of
            // them in turn.
            let mut stack = vec![top];
            'walk: while let Some(root) = stack.pop() {
                let Some(ids) = by_dir.get(&root) else {
                    continue;
                };
                let (dirs, plain): (Vec<usize>, Vec<usize>) = ids
                    .iter()
                    .partition(|i| entries[**i].kind == 'd' || entries[**i].target_kind == 'd');
                examined += ids.len();
                let mut descend = true;
                for &i in plain.iter().chain(&dirs) {
                    let e = &entries[i];
                    let path = normpath(&format!("{root}/{}", e.name));
                    if let Some(d) = &self.depth
                        && d.0 > 0
                        && (path.matches('/').count() + 1).saturating_sub(base_depth) as i64 > d.0
                    {
                        descend = false;
                        continue;
                    }
                    if e.name.starts_with('.') && !self.hidden.0 {
                        continue;
                    }
                    let common =
                        rules.name_matches(&e.name) && rules.age_ok(e, now) && rules.mode_ok(e);
                    let take = match (rules.file_type.as_str(), e.kind) {
                        ("any", 'f') => common && rules.size_ok(e),
                        ("any", _) => common,
                        ("directory", 'd') | ("link", 'l') => common,
                        ("file", 'f') if common && rules.size_ok(e) => {
                            match self.content_ok(ctx, &path).await {
                                Ok(ok) => ok,
                                // As ansible-core: the path's walk stops, the path is skipped.
                                Err(ModuleError::Failed(why)) => {
                                    warnings.push(format!(
                                        "Skipped '{npath}' path due to this access issue: {why}\n"
                                    ));
                                    skipped.insert(npath.clone(), json!(why));
                                    break 'walk;
                                }
                                Err(other) => return Err(other),
                            }
                        }
                        _ => false,
                    };
                    if take {
                        files.push(statinfo(&path, e));
                    }
                    if limit == Some(files.len()) {
                        msg = "Limit of matches reached";
                        break 'walk;
                    }
                }
                if !self.recurse.0 {
                    break;
                }
                if descend {
                    for &i in dirs.iter().rev() {
                        let e = &entries[i];
                        if e.kind == 'd' || self.follow.0 {
                            stack.push(normpath(&format!("{root}/{}", e.name)));
                        }
                    }
                }
            }
        }
        if self.get_checksum.0 {
            let algo = self
                .checksum_algorithm
                .as_ref()
                .map(|a| a.0.clone())
                .unwrap_or_else(|| "sha1".into());
            if !["md5", "sha1", "sha224", "sha256", "sha384", "sha512"].contains(&algo.as_str()) {
                return fail(format!(
                    "value of checksum_algorithm must be one of: md5, sha1, sha224, sha256, sha384, sha512, got: {algo}"
                ));
            }
            let regular: Vec<String> = files
                .iter()
                .filter(|f| f["isreg"] == json!(true))
                .filter_map(|f| f["path"].as_str().map(str::to_string))
                .collect();
            if !regular.is_empty() {
                let args: Vec<String> = regular.iter().map(|p| quote(p)).collect();
                let out = remote
                    .exec(&format!("{algo}sum -z -- {}", args.join(" ")), None)
                    .await?;
                let sums: HashMap<String, String> = out
                    .stdout
                    .split(|b| *b == 0)
                    .filter_map(|l| {
                        let l = String::from_utf8_lossy(l);
                        let (sum, path) = l.split_once("  ")?;
                        Some((path.to_string(), sum.to_string()))
                    })
                    .collect();
                for f in &mut files {
                    if let Some(s) = f["path"].as_str().and_then(|p| sums.get(p)) {
                        f.insert("checksum".into(), json!(s));
                    }
                }
            }
        }
        if !warnings.is_empty() {
            msg = "Not all paths examined, check warnings for details";
        }
        let matched = files.len();
        let mut o = Outcome::ok()
            .msg(msg)
            .with(
                "files",
                Json::Array(files.into_iter().map(Json::Object).collect()),
            )
            .with("matched", matched)
            .with("examined", examined)
            .with("skipped_paths", Json::Object(skipped));
        o.warnings = warnings;
        Ok(o)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_and_units_as_python_reads_them() {
        assert_eq!(normpath("/a/b/../c/./d/"), "/a/c/d");
        assert_eq!(normpath("a//b"), "a/b");
        assert_eq!(with_unit("2d", &[('d', 86400)]), Some(172_800));
        assert_eq!(with_unit("-10", &[('d', 86400)]), Some(-10));
        assert_eq!(with_unit("1x", &[('d', 86400)]), None);
    }

    #[test]
    fn listings_are_read() {
        let rec = [
            "/t",
            "/t",
            "a.txt",
            "f",
            "f",
            "644",
            "0",
            "0",
            "root",
            "root",
            "3",
            "11",
            "2049",
            "1",
            "1700000000.5",
            "1700000001.0",
            "1700000002.0",
            "",
        ]
        .join("\0");
        let (top, e) = parse_listing(rec.as_bytes());
        assert_eq!(top, "/t");
        assert_eq!(e.len(), 1);
        assert_eq!(e[0].name, "a.txt");
        assert_eq!(e[0].mode, 0o644);
        assert_eq!(e[0].mtime, 1_700_000_001.0);
        let s = statinfo("/t/a.txt", &e[0]);
        assert_eq!(s["mode"], json!("0644"));
        assert_eq!(s["isreg"], json!(true));
        assert_eq!(s["rusr"], json!(true));
        assert_eq!(s["xusr"], json!(false));
    }
}

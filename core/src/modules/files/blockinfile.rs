//! `blockinfile`: a block of lines between markers, inserted, replaced or removed.

use crate::modules::files_common::{Edit, impl_attrs};
use crate::modules::types::{Bool, Mode, Text};
use crate::modules::{Ctx, ModResult, Module, ModuleError, fail};
use serde::Deserialize;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BlockInFile {
    #[serde(alias = "dest", alias = "destfile", alias = "name")]
    path: Text,
    #[serde(default, alias = "content")]
    block: String,
    marker: Option<String>,
    marker_begin: Option<String>,
    marker_end: Option<String>,
    state: Option<String>,
    insertafter: Option<String>,
    insertbefore: Option<String>,
    #[serde(default)]
    create: Bool,
    #[serde(default)]
    backup: Bool,
    #[serde(default)]
    append_newline: Bool,
    #[serde(default)]
    prepend_newline: Bool,
    owner: Option<Text>,
    group: Option<Text>,
    mode: Option<Mode>,
    validate: Option<String>,
    #[serde(default)]
    unsafe_writes: Option<Bool>,
}

impl_attrs!(BlockInFile);

/// What to do to a file's text: the markers, the block (`None`: remove it) and where.
pub struct Change<'a> {
    pub begin: &'a str,
    pub end: &'a str,
    pub block: Option<&'a str>,
    pub after: Option<&'a str>,
    pub before: Option<&'a str>,
    pub prepend_newline: bool,
    pub append_newline: bool,
}

/// Python's `splitlines(True)`: lines with their own endings (`\n`, `\r\n` or `\r`).
fn lines_with_endings(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        cur.push(c);
        if c == '\n' || (c == '\r' && chars.peek() != Some(&'\n')) {
            out.push(std::mem::take(&mut cur));
        }
    }
    if !cur.is_empty() {
        out.push(cur);
    }
    out
}

/// True when a Python pattern turns on `re.MULTILINE` with leading inline flags (`(?m)`,
/// `(?ms)`, `(?m:...)`).
fn multiline_flag(pattern: &str) -> bool {
    pattern
        .strip_prefix("(?")
        .and_then(|rest| rest.split([')', ':']).next())
        .is_some_and(|flags| flags.chars().all(|c| c.is_ascii_alphabetic()) && flags.contains('m'))
}

/// The text with the block set, inserted or removed, line for line as ansible-core's
/// blockinfile does it (each line keeps its own ending; markers end with `\n`); the message
/// is empty when nothing changes (a new file's `File created` is the edit's to say).
pub fn apply(text: &str, c: &Change) -> Result<(String, String), ModuleError> {
    let mut lines = lines_with_endings(text);
    let (marker0, marker1) = (format!("{}\n", c.begin), format!("{}\n", c.end));
    let blocklines: Vec<String> = match c.block.filter(|b| !b.is_empty()) {
        Some(body) => {
            let mut body = body.to_string();
            if !body.ends_with('\n') {
                body.push('\n');
            }
            std::iter::once(marker0.clone())
                .chain(lines_with_endings(&body))
                .chain(std::iter::once(marker1.clone()))
                .collect()
        }
        None => Vec::new(),
    };
    let present = c.block.is_some();
    let n0 = lines.iter().rposition(|l| *l == marker0);
    let n1 = lines.iter().rposition(|l| *l == marker1);
    let mut at = match (n0, n1) {
        (Some(a), Some(b)) => {
            let (lo, hi) = if a < b { (a, b) } else { (b, a) };
            lines.drain(lo..=hi);
            lo
        }
        _ => {
            let pattern = match (c.after, c.before) {
                (Some(p), _) if p != "EOF" => Some((p, true)),
                (None, Some(p)) if p != "BOF" => Some((p, false)),
                _ => None,
            };
            match pattern {
                Some((p, after)) => {
                    // Python's `re`: look-around and back-references included.
                    let re = fancy_regex::Regex::new(p)
                        .map_err(|e| ModuleError::Args(format!("{p}: {e}")))?;
                    // Python's `$` also matches before a line's final `\n`.
                    let hit = |l: &String| {
                        re.is_match(l.strip_suffix('\n').unwrap_or(l))
                            .unwrap_or(false)
                    };
                    // With Python's multiline flag the pattern is searched in the whole text
                    // (its first match), as ansible-core does since 2.14.
                    let found = if multiline_flag(p) {
                        let joined = lines.concat();
                        re.find(&joined).ok().flatten().map(|m| {
                            let end = if after { m.end() } else { m.start() };
                            joined[..end].matches('\n').count()
                        })
                    } else {
                        lines.iter().rposition(hit)
                    };
                    match found {
                        None => lines.len(),
                        Some(i) if after => i + 1,
                        Some(i) => i,
                    }
                }
                None if c.after.is_none() && c.before.is_some() => 0,
                None => lines.len(),
            }
        }
    };
    // A line separator before the block; the blank lines asked for around it.
    if at > 0 && !lines[at - 1].ends_with('\n') {
        lines[at - 1].push('\n');
    }
    if c.prepend_newline && present && at != 0 && lines[at - 1] != "\n" {
        lines.insert(at, "\n".into());
        at += 1;
    }
    let count = blocklines.len();
    lines.splice(at..at, blocklines);
    if c.append_newline && present {
        let next = at + count;
        if next < lines.len() && lines[next] != "\n" {
            lines.insert(next, "\n".into());
        }
    }
    let result = lines.concat();
    let msg = if result == text {
        ""
    } else if count == 0 {
        "Block removed"
    } else {
        "Block inserted"
    };
    Ok((result, msg.to_string()))
}

impl Module for BlockInFile {
    async fn run(self, ctx: &Ctx<'_>) -> ModResult {
        let _ = &self.unsafe_writes;
        let present = match self.state.as_deref() {
            None | Some("present") => true,
            Some("absent") => false,
            Some(other) => return fail(format!("unknown state `{other}` (use present or absent)")),
        };
        let marker = self
            .marker
            .clone()
            .unwrap_or_else(|| "# {mark} ANSIBLE MANAGED BLOCK".into());
        let begin = marker.replace("{mark}", self.marker_begin.as_deref().unwrap_or("BEGIN"));
        let end = marker.replace("{mark}", self.marker_end.as_deref().unwrap_or("END"));
        if !present
            && ctx
                .remote()?
                .stat(&self.path.0, true, false)
                .await?
                .is_none()
        {
            return Ok(
                crate::modules::Outcome::ok().msg(format!("File {} not present", self.path.0))
            );
        }
        let edit = Edit {
            report_attrs: true,
            path: &self.path.0,
            created_msg: Some("File created"),
            missing_word: "Path",
            backup_key: "backup_file",
            attrs: self.attrs(),
            backup: self.backup.0,
            create: self.create.0 && present,
            validate: self.validate.clone(),
        };
        let block = if present {
            Some(self.block.as_str())
        } else {
            None
        };
        let change = Change {
            begin: &begin,
            end: &end,
            block,
            after: self.insertafter.as_deref(),
            before: self.insertbefore.as_deref(),
            prepend_newline: self.prepend_newline.0,
            append_newline: self.append_newline.0,
        };
        edit.run(ctx, |text| apply(text, &change)).await
    }
}

#[cfg(test)]
mod tests {
    use super::{Change, apply, multiline_flag};

    fn change<'a>(block: Option<&'a str>, before: Option<&'a str>) -> Change<'a> {
        Change {
            begin: "# BEGIN X",
            end: "# END X",
            block,
            after: None,
            before,
            prepend_newline: false,
            append_newline: false,
        }
    }

    #[test]
    fn multiline_patterns_search_the_whole_text() {
        let text = "A =\n  (LIST =\n  x\nA =\n";
        let mut c = change(Some("b"), None);
        c.after = Some("(?m)A =\\n.*\\(LIST =");
        assert_eq!(
            apply(text, &c).unwrap().0,
            "A =\n  (LIST =\n# BEGIN X\nb\n# END X\n  x\nA =\n"
        );
        // Without the flag a pattern with `\n` never matches one line: the block goes last.
        c.after = Some("A =\\n.*\\(LIST =");
        assert!(
            apply(text, &c)
                .unwrap()
                .0
                .ends_with("A =\n# BEGIN X\nb\n# END X\n")
        );
        assert!(multiline_flag("(?ms)x") && multiline_flag("(?m:x)") && !multiline_flag("(?s)x"));
    }

    #[test]
    fn insert_replace_remove() {
        let (t, m) = apply("a\n", &change(Some("x=1\ny=2"), None)).unwrap();
        assert_eq!(
            (t.as_str(), m.as_str()),
            ("a\n# BEGIN X\nx=1\ny=2\n# END X\n", "Block inserted")
        );
        assert_eq!(
            apply(&t, &change(Some("x=1\ny=2\n"), None)).unwrap(),
            (t.clone(), String::new())
        );
        assert_eq!(
            apply(&t, &change(Some("z=3"), None)).unwrap().0,
            "a\n# BEGIN X\nz=3\n# END X\n"
        );
        let removed = apply(&t, &change(None, None)).unwrap();
        assert_eq!(
            (removed.0.as_str(), removed.1.as_str()),
            ("a\n", "Block removed")
        );
        assert_eq!(
            apply("a\nb\n", &change(Some("x"), Some("BOF"))).unwrap().0,
            "# BEGIN X\nx\n# END X\na\nb\n"
        );
    }

    #[test]
    fn line_endings_and_blank_lines_are_kept_as_ansible_core_keeps_them() {
        let text = "unix\ndos\r\n# BEGIN X\ndos\r\n# END X\nunix";
        let (t, _) = apply(text, &change(Some("dos\r\ndos\r\n"), None)).unwrap();
        assert_eq!(t, "unix\ndos\r\n# BEGIN X\ndos\r\ndos\r\n# END X\nunix");
        let mut c = change(Some("x"), None);
        c.prepend_newline = true;
        c.append_newline = true;
        c.after = Some("^a$");
        assert_eq!(
            apply("a\nb\n", &c).unwrap().0,
            "a\n\n# BEGIN X\nx\n# END X\n\nb\n"
        );
    }
}

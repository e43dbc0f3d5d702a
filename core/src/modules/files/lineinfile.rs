//! `lineinfile`: make sure one line is (or is not) in a file, with Ansible's rules for
//! `regexp`, `search_string`, `backrefs`, `insertafter`/`insertbefore` and `firstmatch`.

use crate::modules::files_common::{Edit, impl_attrs};
use crate::modules::types::{Bool, Mode, Text};
use crate::modules::{Ctx, ModResult, Module, ModuleError, fail};
use regex::Regex;
use serde::Deserialize;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LineInFile {
    #[serde(alias = "dest", alias = "destfile", alias = "name")]
    path: Text,
    #[serde(alias = "value")]
    line: Option<String>,
    #[serde(alias = "regex")]
    regexp: Option<String>,
    search_string: Option<String>,
    state: Option<String>,
    insertafter: Option<String>,
    insertbefore: Option<String>,
    #[serde(default)]
    create: Bool,
    #[serde(default)]
    backup: Bool,
    #[serde(default)]
    backrefs: Bool,
    #[serde(default)]
    firstmatch: Bool,
    owner: Option<Text>,
    group: Option<Text>,
    mode: Option<Mode>,
    validate: Option<String>,
    #[serde(default)]
    unsafe_writes: Option<Bool>,
}

impl_attrs!(LineInFile);

/// What to do, decided from the arguments.
pub struct Spec {
    pub line: Option<String>,
    pub regexp: Option<Regex>,
    pub search: Option<String>,
    pub present: bool,
    pub insertafter: Option<String>,
    pub insertbefore: Option<String>,
    pub backrefs: bool,
    pub firstmatch: bool,
}

fn matches(spec: &Spec, line: &str) -> bool {
    match (&spec.regexp, &spec.search) {
        (Some(re), _) => re.is_match(line),
        (None, Some(s)) => line.contains(s.as_str()),
        (None, None) => Some(line) == spec.line.as_deref(),
    }
}

fn find(lines: &[String], pred: impl Fn(&str) -> bool, first: bool) -> Option<usize> {
    let it = lines
        .iter()
        .enumerate()
        .filter(|(_, l)| pred(l.trim_end_matches(['\n', '\r'])));
    if first {
        it.map(|(i, _)| i).next()
    } else {
        it.map(|(i, _)| i).last()
    }
}

/// Applies `spec` to `text`: the new text and Ansible's message.
pub fn apply(spec: &Spec, text: &str) -> Result<(String, String), ModuleError> {
    let mut lines: Vec<String> = text.split_inclusive('\n').map(str::to_string).collect();
    let nl = if text.contains("\r\n") { "\r\n" } else { "\n" };
    if !spec.present {
        let before = lines.len();
        lines.retain(|l| !matches(spec, l.trim_end_matches(['\n', '\r'])));
        let removed = before - lines.len();
        let msg = if removed > 0 {
            format!("{removed} line(s) removed")
        } else {
            String::new()
        };
        return Ok((lines.concat(), msg));
    }
    let Some(line) = &spec.line else {
        return fail("`line` is required with state=present");
    };
    let found = find(&lines, |l| matches(spec, l), spec.firstmatch);
    if let Some(i) = found {
        let new = match (&spec.regexp, spec.backrefs) {
            (Some(re), true) => {
                let cur = lines[i].trim_end_matches(['\n', '\r']).to_string();
                let caps = re.captures(&cur).ok_or_else(|| {
                    ModuleError::Failed("regexp matched but captured nothing".into())
                })?;
                let mut out = String::new();
                caps.expand(&crate::template::python_replacement(line), &mut out);
                out
            }
            _ => line.clone(),
        };
        let ending = if lines[i].ends_with('\n') { nl } else { "" };
        if lines[i].trim_end_matches(['\n', '\r']) == new {
            return Ok((lines.concat(), String::new()));
        }
        lines[i] = format!("{new}{ending}");
        return Ok((lines.concat(), "line replaced".into()));
    }
    if spec.backrefs {
        // backrefs: no match means nothing to do.
        return Ok((lines.concat(), String::new()));
    }
    // A regexp or search string that matches nothing: the line may still be there verbatim.
    if (spec.regexp.is_some() || spec.search.is_some())
        && lines
            .iter()
            .any(|l| l.trim_end_matches(['\n', '\r']) == line)
    {
        return Ok((lines.concat(), String::new()));
    }
    let insert_at = match (&spec.insertbefore, &spec.insertafter) {
        (Some(b), _) if b == "BOF" => 0,
        (Some(b), _) => {
            let re = Regex::new(b).map_err(|e| ModuleError::Args(format!("insertbefore: {e}")))?;
            find(&lines, |l| re.is_match(l), spec.firstmatch).unwrap_or(lines.len())
        }
        (None, Some(a)) if a != "EOF" => {
            let re = Regex::new(a).map_err(|e| ModuleError::Args(format!("insertafter: {e}")))?;
            find(&lines, |l| re.is_match(l), spec.firstmatch)
                .map(|i| i + 1)
                .unwrap_or(lines.len())
        }
        _ => lines.len(),
    };
    if insert_at > 0 && !lines[insert_at - 1].ends_with('\n') {
        lines[insert_at - 1].push_str(nl);
    }
    lines.insert(insert_at, format!("{line}{nl}"));
    Ok((lines.concat(), "line added".into()))
}

impl Module for LineInFile {
    async fn run(self, ctx: &Ctx<'_>) -> ModResult {
        let _ = self.unsafe_writes;
        let present = match self.state.as_deref() {
            None | Some("present") => true,
            Some("absent") => false,
            Some(other) => return fail(format!("unknown state `{other}` (use present or absent)")),
        };
        if self.regexp.is_some() && self.search_string.is_some() {
            return fail("`regexp` and `search_string` are mutually exclusive");
        }
        if self.backrefs.0 && self.regexp.is_none() {
            return fail("`backrefs` needs `regexp`");
        }
        if !present && self.line.is_none() && self.regexp.is_none() && self.search_string.is_none()
        {
            return fail("state=absent needs `line`, `regexp` or `search_string`");
        }
        let regexp = self
            .regexp
            .as_deref()
            .map(Regex::new)
            .transpose()
            .map_err(|e| ModuleError::Args(format!("regexp: {e}")))?;
        let spec = Spec {
            line: self.line.clone(),
            regexp,
            search: self.search_string.clone(),
            present,
            insertafter: self.insertafter.clone(),
            insertbefore: self.insertbefore.clone(),
            backrefs: self.backrefs.0,
            firstmatch: self.firstmatch.0,
        };
        let edit = Edit {
            report_attrs: true,
            path: &self.path.0,
            created_msg: None,
            missing_word: "Destination",
            backup_key: "backup",
            attrs: self.attrs(),
            backup: self.backup.0,
            create: self.create.0 && present,
            validate: self.validate.clone(),
        };
        if !present {
            // Removing from a missing file changes nothing.
            if ctx
                .remote()?
                .stat(&self.path.0, true, false)
                .await?
                .is_none()
            {
                return Ok(crate::modules::Outcome::ok().msg("file not present"));
            }
        }
        // ansible-core names the backup in every result, empty when none was made.
        let mut out = edit.run(ctx, |text| apply(&spec, text)).await?;
        if !out.failed {
            out.data.entry("backup").or_insert_with(|| "".into());
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(line: &str) -> Spec {
        Spec {
            line: Some(line.into()),
            regexp: None,
            search: None,
            present: true,
            insertafter: None,
            insertbefore: None,
            backrefs: false,
            firstmatch: false,
        }
    }

    #[test]
    fn present_absent_and_replace() {
        let text = "a=1\nb=2\n";
        assert_eq!(
            apply(&spec("c=3"), text).unwrap(),
            ("a=1\nb=2\nc=3\n".into(), "line added".into())
        );
        assert_eq!(apply(&spec("b=2"), text).unwrap().0, text);
        let s = Spec {
            regexp: Some(Regex::new("^b=").unwrap()),
            ..spec("b=9")
        };
        assert_eq!(
            apply(&s, text).unwrap(),
            ("a=1\nb=9\n".into(), "line replaced".into())
        );
        let s = Spec {
            present: false,
            ..spec("a=1")
        };
        assert_eq!(
            apply(&s, text).unwrap(),
            ("b=2\n".into(), "1 line(s) removed".into())
        );
        let s = Spec {
            insertbefore: Some("BOF".into()),
            ..spec("# top")
        };
        assert_eq!(apply(&s, "x\n").unwrap().0, "# top\nx\n");
        let s = Spec {
            insertafter: Some("^a=".into()),
            ..spec("a2=1")
        };
        assert_eq!(apply(&s, text).unwrap().0, "a=1\na2=1\nb=2\n");
        assert_eq!(
            apply(&spec("z"), "no newline").unwrap().0,
            "no newline\nz\n"
        );
    }

    #[test]
    fn backrefs() {
        let s = Spec {
            regexp: Some(Regex::new(r"^(port)=\d+").unwrap()),
            backrefs: true,
            ..spec(r"\1=8080")
        };
        assert_eq!(apply(&s, "port=80\n").unwrap().0, "port=8080\n");
        assert_eq!(apply(&s, "other\n").unwrap().0, "other\n");
    }
}

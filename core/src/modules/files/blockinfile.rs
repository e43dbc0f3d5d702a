//! `blockinfile`: a block of lines between markers, inserted, replaced or removed.

use crate::modules::files_common::{Edit, impl_attrs};
use crate::modules::types::{Bool, Mode, Text};
use crate::modules::{Ctx, ModResult, Module, ModuleError, fail};
use regex::Regex;
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

/// The text with the block (between `begin` and `end` markers) set to `block`, or removed.
pub fn apply(
    text: &str,
    begin: &str,
    end: &str,
    block: Option<&str>,
    after: Option<&str>,
    before: Option<&str>,
) -> Result<(String, String), ModuleError> {
    let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
    let b = lines.iter().position(|l| l == begin);
    let e = b.and_then(|b| lines.iter().skip(b).position(|l| l == end).map(|i| i + b));
    let mut new_block = Vec::new();
    if let Some(body) = block.filter(|b| !b.is_empty()) {
        new_block.push(begin.to_string());
        new_block.extend(body.trim_end_matches('\n').lines().map(str::to_string));
        new_block.push(end.to_string());
    }
    let msg = match (b, e) {
        (Some(b), Some(e)) => {
            lines.splice(b..=e, new_block.clone());
            if new_block.is_empty() {
                "Block removed"
            } else {
                "Block inserted"
            }
        }
        _ if new_block.is_empty() => return Ok((text.to_string(), String::new())),
        _ => {
            let find = |pat: &str| -> Result<Option<usize>, ModuleError> {
                let re = Regex::new(pat).map_err(|e| ModuleError::Args(format!("{pat}: {e}")))?;
                Ok(lines.iter().rposition(|l| re.is_match(l)))
            };
            let at = match (before, after) {
                (Some("BOF"), _) => 0,
                (Some(p), _) => find(p)?.unwrap_or(lines.len()),
                (None, Some(p)) if p != "EOF" => find(p)?.map(|i| i + 1).unwrap_or(lines.len()),
                _ => lines.len(),
            };
            lines.splice(at..at, new_block);
            "Block inserted"
        }
    };
    let mut s = lines.join("\n");
    if !s.is_empty() {
        s.push('\n');
    }
    if s == text {
        return Ok((s, String::new()));
    }
    Ok((s, msg.to_string()))
}

impl Module for BlockInFile {
    async fn run(self, ctx: &Ctx<'_>) -> ModResult {
        let _ = (
            &self.unsafe_writes,
            &self.append_newline,
            &self.prepend_newline,
        );
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
            return Ok(crate::modules::Outcome::ok());
        }
        let edit = Edit {
            path: &self.path.0,
            created_msg: Some("File created"),
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
        edit.run(ctx, |text| {
            apply(
                text,
                &begin,
                &end,
                block,
                self.insertafter.as_deref(),
                self.insertbefore.as_deref(),
            )
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::apply;

    #[test]
    fn insert_replace_remove() {
        let (b, e) = ("# BEGIN X", "# END X");
        let (t, m) = apply("a\n", b, e, Some("x=1\ny=2"), None, None).unwrap();
        assert_eq!(
            (t.as_str(), m.as_str()),
            ("a\n# BEGIN X\nx=1\ny=2\n# END X\n", "Block inserted")
        );
        assert_eq!(
            apply(&t, b, e, Some("x=1\ny=2\n"), None, None).unwrap(),
            (t.clone(), String::new())
        );
        assert_eq!(
            apply(&t, b, e, Some("z=3"), None, None).unwrap().0,
            "a\n# BEGIN X\nz=3\n# END X\n"
        );
        assert_eq!(apply(&t, b, e, None, None, None).unwrap().0, "a\n");
        assert_eq!(
            apply("a\nb\n", b, e, Some("x"), None, Some("BOF"))
                .unwrap()
                .0,
            "# BEGIN X\nx\n# END X\na\nb\n"
        );
    }
}

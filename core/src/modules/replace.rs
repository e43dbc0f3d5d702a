//! `replace`: every match of a regular expression (multi-line mode, Python replacement syntax),
//! optionally only between `after` and `before` matches.

use super::files_common::{Edit, impl_attrs};
use super::types::{Bool, Mode, Text};
use super::{Ctx, ModResult, Module, ModuleError};
use regex::{Regex, RegexBuilder};
use serde::Deserialize;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Replace {
    #[serde(alias = "dest", alias = "destfile", alias = "name")]
    path: Text,
    regexp: String,
    #[serde(default)]
    replace: String,
    after: Option<String>,
    before: Option<String>,
    #[serde(default)]
    backup: Bool,
    owner: Option<Text>,
    group: Option<Text>,
    mode: Option<Mode>,
    validate: Option<String>,
    encoding: Option<String>,
    #[serde(default)]
    unsafe_writes: Option<Bool>,
}

impl_attrs!(Replace);

fn re(p: &str) -> Result<Regex, ModuleError> {
    RegexBuilder::new(p)
        .multi_line(true)
        .build()
        .map_err(|e| ModuleError::Args(format!("regexp `{p}`: {e}")))
}

/// The text with the replacements made, and how many there were.
pub fn apply(
    text: &str,
    regexp: &str,
    replace: &str,
    after: Option<&str>,
    before: Option<&str>,
) -> Result<(String, usize), ModuleError> {
    let start = match after {
        Some(a) => re(a)?.find(text).map(|m| m.end()).unwrap_or(text.len()),
        None => 0,
    };
    let end = match before {
        Some(b) => re(b)?
            .find(&text[start..])
            .map(|m| start + m.start())
            .unwrap_or(text.len()),
        None => text.len(),
    };
    let r = re(regexp)?;
    let section = &text[start..end];
    let n = r.find_iter(section).count();
    let rep = crate::template::python_replacement(replace);
    let new = r.replace_all(section, rep.as_str());
    Ok((format!("{}{}{}", &text[..start], new, &text[end..]), n))
}

impl Module for Replace {
    async fn run(self, ctx: &Ctx<'_>) -> ModResult {
        let _ = (&self.encoding, &self.unsafe_writes);
        let edit = Edit {
            path: &self.path.0,
            attrs: self.attrs(),
            backup: self.backup.0,
            create: false,
            validate: self.validate.clone(),
        };
        edit.run(ctx, |text| {
            let (t, n) = apply(
                text,
                &self.regexp,
                &self.replace,
                self.after.as_deref(),
                self.before.as_deref(),
            )?;
            Ok((
                t,
                if n > 0 {
                    format!("{n} replacements made")
                } else {
                    String::new()
                },
            ))
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::apply;

    #[test]
    fn replacements() {
        assert_eq!(
            apply("a=1\nb=1\n", r"^(\w)=1$", r"\1=2", None, None).unwrap(),
            ("a=2\nb=2\n".into(), 2)
        );
        assert_eq!(
            apply(
                "x\n[s]\na=1\n[t]\na=1\n",
                "a=1",
                "a=9",
                Some(r"\[s\]"),
                Some(r"\[t\]")
            )
            .unwrap()
            .0,
            "x\n[s]\na=9\n[t]\na=1\n"
        );
        assert_eq!(
            apply("same\n", "zzz", "y", None, None).unwrap(),
            ("same\n".into(), 0)
        );
    }
}

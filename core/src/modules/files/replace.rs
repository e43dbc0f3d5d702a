//! `replace`: every match of a regular expression (multi-line mode, Python replacement syntax),
//! optionally only between `after` and `before` matches.

use crate::modules::files_common::{Edit, impl_attrs};
use crate::modules::types::{Bool, Mode, Text};
use crate::modules::{Ctx, ModResult, Module, ModuleError};
use fancy_regex::Regex;
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
    Regex::new(p).map_err(|e| ModuleError::Args(format!("regexp `{p}`: {e}")))
}

fn failed(e: fancy_regex::Error) -> ModuleError {
    ModuleError::Failed(format!("regular expression failed: {e}"))
}

/// Python's check of a replacement template: a backslash before an ASCII letter that is not
/// an escape it knows is an error ("bad escape"), raised even when nothing matches.
fn check_template(replace: &str) -> Result<(), ModuleError> {
    let mut chars = replace.char_indices();
    while let Some((i, c)) = chars.next() {
        if c != '\\' {
            continue;
        }
        if let Some((_, e)) = chars.next()
            && e.is_ascii_alphabetic()
            && !"abfnrtvg".contains(e)
        {
            return Err(ModuleError::Failed(format!(
                "Unable to process replace due to error: bad escape \\{e} at position {i}"
            )));
        }
    }
    Ok(())
}

/// What [`apply`] did.
#[derive(Debug, PartialEq, Eq)]
pub struct Applied {
    pub text: String,
    pub count: usize,
    pub msg: String,
}

/// ansible-core's replace: the section between `after` and `before` (one Python regex,
/// `after(?P<subsection>.*?)before` with DOTALL; no match leaves the file alone and says so),
/// then every match of `regexp` in multi-line mode, Python replacement syntax.
pub fn apply(
    text: &str,
    regexp: &str,
    replace: &str,
    after: Option<&str>,
    before: Option<&str>,
) -> Result<Applied, ModuleError> {
    let pattern = match (after, before) {
        (Some(a), Some(b)) => Some(format!("{a}(?P<subsection>.*?){b}")),
        (Some(a), None) => Some(format!("{a}(?P<subsection>.*)")),
        (None, Some(b)) => Some(format!("(?P<subsection>.*){b}")),
        (None, None) => None,
    };
    let (start, end) = match &pattern {
        Some(p) => {
            let caps = re(&format!("(?s){p}"))?.captures(text).map_err(failed)?;
            match caps.and_then(|c| c.name("subsection").map(|m| (m.start(), m.end()))) {
                Some(range) => range,
                None => {
                    return Ok(Applied {
                        text: text.to_string(),
                        count: 0,
                        msg: format!(
                            "Pattern for before/after params did not match the given file: {p}"
                        ),
                    });
                }
            }
        }
        None => (0, text.len()),
    };
    let r = re(&format!("(?m){regexp}"))?;
    check_template(replace)?;
    let section = &text[start..end];
    let mut count = 0;
    for m in r.find_iter(section) {
        m.map_err(failed)?;
        count += 1;
    }
    let rep = crate::template::python_replacement(replace);
    let new = r.try_replacen(section, 0, rep.as_str()).map_err(failed)?;
    if count == 0 || new == section {
        return Ok(Applied {
            text: text.to_string(),
            count: 0,
            msg: String::new(),
        });
    }
    Ok(Applied {
        text: format!("{}{}{}", &text[..start], new, &text[end..]),
        count,
        msg: format!("{count} replacements made"),
    })
}

impl Module for Replace {
    async fn run(self, ctx: &Ctx<'_>) -> ModResult {
        let _ = (&self.encoding, &self.unsafe_writes);
        let edit = Edit {
            report_attrs: true,
            path: &self.path.0,
            created_msg: None,
            missing_word: "Path",
            backup_key: "backup_file",
            attrs: self.attrs(),
            backup: self.backup.0,
            create: false,
            validate: self.validate.clone(),
        };
        edit.run(ctx, |text| {
            let a = apply(
                text,
                &self.regexp,
                &self.replace,
                self.after.as_deref(),
                self.before.as_deref(),
            )?;
            Ok((a.text, a.msg))
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::apply;

    #[test]
    fn replacements_follow_ansible_core() {
        let a = apply("a=1\nb=1\n", r"^(\w)=1$", r"\1=2", None, None).unwrap();
        assert_eq!((a.text.as_str(), a.count), ("a=2\nb=2\n", 2));
        let a = apply(
            "x\n[s]\na=1\n[t]\na=1\n",
            "a=1",
            "a=9",
            Some(r"\[s\]"),
            Some(r"\[t\]"),
        )
        .unwrap();
        assert_eq!(a.text, "x\n[s]\na=9\n[t]\na=1\n");
        let a = apply("same\n", "zzz", "y", None, None).unwrap();
        assert_eq!((a.text.as_str(), a.count), ("same\n", 0));
        let a = apply(
            "one quilt two promptly",
            "e",
            "3",
            Some("promptly"),
            Some("quilt"),
        )
        .unwrap();
        assert!(
            a.msg
                .starts_with("Pattern for before/after params did not match the given file"),
            "{a:?}"
        );
        assert_eq!(a.text, "one quilt two promptly");
        let a = apply("aXa", "a", "a", None, None).unwrap();
        assert_eq!(
            a.count, 0,
            "a replacement that changes nothing is no change"
        );
    }
}

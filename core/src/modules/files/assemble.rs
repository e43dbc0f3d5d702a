//! `assemble`: one file made of a directory's fragments, in name order, as ansible-core's
//! module and action plugin make it: a newline between fragments that lack one, the
//! (backslash-unescaped) `delimiter` between fragments, fragments chosen by a Python
//! `regexp` and `ignore_hidden`. The fragments are read from the host (`remote_src`, the
//! default) or from the controller (vaulted ones decrypted unless `decrypt: no`); the result
//! is written as `copy` writes: checksums compared first, temp file + rename, `validate`,
//! `backup`, owner/group/mode.

use crate::modules::files_common::{PutContent, impl_attrs};
use crate::modules::types::{Bool, Mode, Text};
use crate::modules::{Ctx, ModResult, Module, ModuleError, fail};
use crate::ssh::shell::quote_path;
use serde::Deserialize;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Assemble {
    src: Text,
    dest: Text,
    delimiter: Option<String>,
    #[serde(default)]
    backup: Bool,
    #[serde(default = "crate::modules::files_common::yes")]
    remote_src: Bool,
    regexp: Option<String>,
    #[serde(default)]
    ignore_hidden: Bool,
    validate: Option<String>,
    #[serde(default = "crate::modules::files_common::yes")]
    decrypt: Bool,
    owner: Option<Text>,
    group: Option<Text>,
    mode: Option<Mode>,
    #[serde(default)]
    unsafe_writes: Option<Bool>,
}

impl_attrs!(Assemble);

/// Python's `codecs.escape_decode`: `\n`, `\t`, `\\`, `\xNN`, octal escapes; an unknown
/// escape stays as written.
pub fn escape_decode(s: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(s.len());
    let mut i = 0;
    while i < s.len() {
        if s[i] != b'\\' || i + 1 == s.len() {
            out.push(s[i]);
            i += 1;
            continue;
        }
        let c = s[i + 1];
        i += 2;
        match c {
            b'n' => out.push(b'\n'),
            b't' => out.push(b'\t'),
            b'r' => out.push(b'\r'),
            b'a' => out.push(7),
            b'b' => out.push(8),
            b'f' => out.push(12),
            b'v' => out.push(11),
            b'\\' | b'\'' | b'"' => out.push(c),
            b'\n' => {}
            b'x' => {
                let hex = s.get(i..i + 2).and_then(|h| std::str::from_utf8(h).ok());
                match hex.and_then(|h| u8::from_str_radix(h, 16).ok()) {
                    Some(b) => {
                        out.push(b);
                        i += 2;
                    }
                    None => out.extend_from_slice(b"\\x"),
                }
            }
            b'0'..=b'7' => {
                let mut v = u32::from(c - b'0');
                let mut n = 1;
                while n < 3 && i < s.len() && (b'0'..=b'7').contains(&s[i]) {
                    v = v * 8 + u32::from(s[i] - b'0');
                    i += 1;
                    n += 1;
                }
                out.push((v & 0xff) as u8);
            }
            other => {
                out.push(b'\\');
                out.push(other);
            }
        }
    }
    out
}

/// The fragments joined as ansible-core joins them.
pub fn join(fragments: &[Vec<u8>], delimiter: Option<&str>) -> Vec<u8> {
    let mut out = Vec::new();
    let mut delimiter = delimiter.map(|d| d.as_bytes().to_vec());
    let mut add_newline = false;
    for (n, content) in fragments.iter().enumerate() {
        if add_newline {
            out.push(b'\n');
        }
        if n > 0
            && let Some(d) = &mut delimiter
            && !d.is_empty()
        {
            // ansible-core unescapes the delimiter again before each use.
            *d = escape_decode(d);
            out.extend_from_slice(d);
            if d.last() != Some(&b'\n') {
                out.push(b'\n');
            }
        }
        out.extend_from_slice(content);
        add_newline = !content.ends_with(b"\n");
    }
    out
}

impl Assemble {
    /// Which fragment names are taken, in order.
    fn chosen(&self, mut names: Vec<String>) -> Result<Vec<String>, ModuleError> {
        let re = match &self.regexp {
            Some(r) => Some(fancy_regex::Regex::new(r).map_err(|e| {
                ModuleError::Failed(format!(
                    "Invalid Regexp ({}) in \"{r}\"",
                    crate::template::pyre::python_message(&e)
                ))
            })?),
            None => None,
        };
        names.sort();
        let mut out = Vec::new();
        for n in names {
            if self.ignore_hidden.0 && n.starts_with('.') {
                continue;
            }
            if let Some(re) = &re
                && !re
                    .is_match(&n)
                    .map_err(|e| ModuleError::Failed(e.to_string()))?
            {
                continue;
            }
            out.push(n);
        }
        Ok(out)
    }

    /// The fragments in a directory on the host.
    async fn remote_fragments(&self, ctx: &Ctx<'_>) -> Result<Vec<Vec<u8>>, ModuleError> {
        let remote = ctx.remote()?;
        let src = &self.src.0;
        let p = quote_path(src);
        let listing = remote
            .exec(
                &format!(
                    "if [ ! -e {p} ]; then exit 3; elif [ ! -d {p} ]; then exit 4; fi; find -L {p} -mindepth 1 -maxdepth 1 -type f -printf '%f\\0'"
                ),
                None,
            )
            .await?;
        match listing.status {
            Some(3) => return fail(format!("Source ({src}) does not exist")),
            Some(4) => return fail(format!("Source ({src}) is not a directory")),
            _ => {}
        }
        let names = listing
            .stdout
            .split(|b| *b == 0)
            .filter(|n| !n.is_empty())
            .map(|n| String::from_utf8_lossy(n).into_owned())
            .collect();
        let mut out = Vec::new();
        for name in self.chosen(names)? {
            let path = format!("{}/{name}", src.trim_end_matches('/'));
            out.push(remote.read(&path).await?.unwrap_or_default());
        }
        Ok(out)
    }

    /// The fragments in a directory on the controller (`files/` searched as `copy` does).
    fn local_fragments(&self, ctx: &Ctx<'_>) -> Result<Vec<Vec<u8>>, ModuleError> {
        let dir = ctx.find_file(&self.src.0, "files")?;
        if !dir.is_dir() {
            return fail(format!("Source ({}) is not a directory", dir.display()));
        }
        let names = std::fs::read_dir(&dir)
            .map_err(|e| ModuleError::Failed(format!("cannot read {}: {e}", dir.display())))?
            .filter_map(|e| e.ok())
            .filter(|e| e.path().is_file())
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .collect();
        self.chosen(names)?
            .into_iter()
            .map(|n| {
                let path = dir.join(&n);
                let read = match self.decrypt.0 {
                    true => crate::vault::read_bytes(&path),
                    false => std::fs::read(&path),
                };
                read.map_err(|e| {
                    ModuleError::Failed(format!("cannot read {}: {e}", path.display()))
                })
            })
            .collect()
    }
}

impl Module for Assemble {
    async fn run(self, ctx: &Ctx<'_>) -> ModResult {
        let _ = &self.unsafe_writes;
        if let Some(v) = &self.validate
            && !v.contains("%s")
        {
            return fail(format!("validate must contain %s: {v}"));
        }
        let fragments = if self.remote_src.0 {
            self.remote_fragments(ctx).await?
        } else {
            self.local_fragments(ctx)?
        };
        let content = join(&fragments, self.delimiter.as_deref());
        let mut out = PutContent {
            dest: &self.dest.0,
            content: &content,
            attrs: &self.attrs(),
            backup: self.backup.0,
            force: true,
            validate: self.validate.clone(),
            into_dir: None,
        }
        .run(ctx)
        .await?;
        // ansible-core's action plugin registers its one diff as a dict.
        if !self.remote_src.0
            && let Some(d) = out.diffs.first()
        {
            out.diff_value = serde_json::to_value(d).ok();
        }
        Ok(out
            .with("src", self.src.0.clone())
            .with("md5sum", crate::digest::hex("md5", &content))
            .msg("OK"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fragments_are_joined_as_ansible_core_joins_them() {
        let f = |s: &str| s.as_bytes().to_vec();
        assert_eq!(join(&[f("a\n"), f("b"), f("c\n")], None), b"a\nb\nc\n");
        assert_eq!(
            join(&[f("a"), f("b\n")], Some("#--- delimiter ---#")),
            b"a\n#--- delimiter ---#\nb\n"
        );
        assert_eq!(join(&[f("a\n"), f("b\n")], Some("--\\n")), b"a\n--\nb\n");
        assert_eq!(join(&[], Some("x")), b"");
    }

    #[test]
    fn escapes_are_python_s() {
        assert_eq!(escape_decode(br"a\tb\x41\101\q\\"), b"a\tbAA\\q\\");
    }
}

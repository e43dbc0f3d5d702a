//! `file` with `state: link` or `state: hard`, decided as ansible-core's `ensure_symlink` and
//! `ensure_hardlink` decide: one probe of the host (what the path is, where a link points,
//! whether the source exists relative to the link, inodes), then a refusal in ansible-core's
//! words or the commands that make the link, replacing an existing path atomically (a link
//! made beside it, renamed over it).

use super::file_diff::StateDiff;
use crate::modules::ModuleError;
use crate::ssh::shell::{quote, quote_path};

/// What the probe found.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Found {
    /// ansible-core's `get_state`: absent, link, directory, hard (a file with several links)
    /// or file.
    pub state: String,
    /// Where the path points, when it is a link.
    pub old_src: Option<String>,
    /// Whether the source exists (for a symlink: relative to the link's directory).
    pub src_exists: bool,
    /// Whether the path is an empty directory.
    pub dir_empty: bool,
    /// Whether the path and the source are the same inode.
    pub same_inode: bool,
}

/// The shell probing `path` for a link to `src`; prints NUL-separated fields.
pub fn probe_script(path: &str, src: Option<&str>, hard: bool) -> String {
    let p = quote_path(path);
    // A symlink's source is read relative to the link's directory (the path itself when it
    // is a directory), a hard link's as given.
    let abs = match src {
        None => "''".to_string(),
        Some(s) if s.starts_with('/') || hard => quote(s),
        Some(s) => format!(
            "\"$(if [ ! -L {p} ] && [ -d {p} ]; then printf '%s' {p}; else dirname -- {p}; fi)\"/{}",
            quote(s)
        ),
    };
    format!(
        "p={p}; a={abs}; \
         if [ -L \"$p\" ]; then st=link; elif [ -d \"$p\" ]; then st=directory; \
         elif [ -e \"$p\" ]; then if [ \"$(stat -c %h -- \"$p\")\" -gt 1 ]; then st=hard; else st=file; fi; \
         else st=absent; fi; \
         printf '%s\\0' \"$st\"; \
         if [ \"$st\" = link ]; then readlink -- \"$p\"; fi; printf '\\0'; \
         if [ -n \"$a\" ] && [ -e \"$a\" ]; then printf 'yes\\0'; else printf 'no\\0'; fi; \
         if [ \"$st\" = directory ] && [ -z \"$(ls -A -- \"$p\")\" ]; then printf 'yes\\0'; else printf 'no\\0'; fi; \
         if [ -n \"$a\" ] && [ \"$p\" -ef \"$a\" ]; then printf 'yes\\0'; else printf 'no\\0'; fi"
    )
}

/// Reads the probe's answer.
pub fn parse(out: &[u8]) -> Result<Found, ModuleError> {
    let fields: Vec<String> = out
        .split(|b| *b == 0)
        .map(|f| String::from_utf8_lossy(f).into_owned())
        .collect();
    let [state, old, src_exists, dir_empty, same, ..] = fields.as_slice() else {
        return Err(ModuleError::Failed(format!(
            "unreadable answer from the host: {}",
            String::from_utf8_lossy(out)
        )));
    };
    let old = old.strip_suffix('\n').unwrap_or(old);
    Ok(Found {
        state: state.clone(),
        old_src: (state == "link").then(|| old.to_string()),
        src_exists: src_exists == "yes",
        dir_empty: dir_empty == "yes",
        same_inode: same == "yes",
    })
}

/// What to do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Plan {
    /// Nothing to change.
    Keep,
    /// Run this script (unless checking).
    Make(String),
    /// ansible-core's refusal.
    Refuse(String),
}

/// A new link at `path` made by `make` (which writes it at `"$t"`), renamed over what is there.
fn replace(path: &str, rmdir: bool, make: String) -> String {
    let p = quote_path(path);
    let rm = if rmdir {
        format!("rmdir -- {p} && ")
    } else {
        String::new()
    };
    format!(
        "t=\"$(dirname -- {p})/.hoist.$$.tmp\"; {rm}{make} && mv -fT -- \"$t\" {p} || {{ rm -f -- \"$t\"; exit 1; }}"
    )
}

/// `state: link`, as `ensure_symlink`; `src` is None when the task only updates a link.
pub fn symlink(
    path: &str,
    src: Option<&str>,
    force: bool,
    f: &Found,
    diff: Option<&mut StateDiff>,
) -> Plan {
    if let Some(s) = src
        && !force
        && !f.src_exists
    {
        let abs = if s.starts_with('/') {
            s.to_string()
        } else {
            let dir = if f.state == "directory" {
                path.to_string()
            } else {
                std::path::Path::new(path)
                    .parent()
                    .map(|d| d.display().to_string())
                    .unwrap_or_default()
            };
            format!("{}/{s}", dir.trim_end_matches('/'))
        };
        return Plan::Refuse(format!(
            "src file does not exist, use 'force=yes' if you really want to create the link: {abs}"
        ));
    }
    match f.state.as_str() {
        "directory" if !force => {
            return Plan::Refuse(format!(
                "refusing to convert from directory to symlink for {path}"
            ));
        }
        "directory" if !f.dir_empty => {
            return Plan::Refuse(format!(
                "the directory {path} is not empty, refusing to convert it"
            ));
        }
        "file" | "hard" if !force => {
            return Plan::Refuse(format!(
                "refusing to convert from {} to symlink for {path}",
                f.state
            ));
        }
        _ => {}
    }
    let Some(src) = src else {
        return match f.state.as_str() {
            "link" => Plan::Keep,
            _ => Plan::Refuse("src is required for creating new symlinks".into()),
        };
    };
    let p = quote_path(path);
    let s = quote(src);
    match f.state.as_str() {
        "absent" => Plan::Make(format!("ln -s -- {s} {p}")),
        "link" => match &f.old_src {
            Some(old) if old == src => Plan::Keep,
            old => {
                if let Some(d) = diff {
                    d.set("src", old.clone().unwrap_or_default(), src);
                }
                Plan::Make(replace(path, false, format!("ln -s -- {s} \"$t\"")))
            }
        },
        other => Plan::Make(replace(
            path,
            other == "directory",
            format!("ln -s -- {s} \"$t\""),
        )),
    }
}

/// `state: hard`, as `ensure_hardlink`.
pub fn hardlink(
    path: &str,
    src: Option<&str>,
    force: bool,
    follow: bool,
    f: &Found,
    diff: Option<&mut StateDiff>,
) -> Plan {
    let Some(src) = src else {
        return match f.state.as_str() {
            "hard" => Plan::Keep,
            _ => Plan::Refuse("src is required for creating new hardlinks".into()),
        };
    };
    if !f.src_exists {
        return Plan::Refuse("src does not exist".into());
    }
    let s = quote(src);
    let p = quote_path(path);
    let link_at = |at: &str| format!("ln -L -- {s} {at}");
    match f.state.as_str() {
        "absent" => {
            let from = if follow {
                format!("\"$(if [ -L {s} ]; then readlink -- {s}; else printf '%s' {s}; fi)\"")
            } else {
                s.clone()
            };
            Plan::Make(format!("ln -L -- {from} {p}"))
        }
        "link" => match &f.old_src {
            Some(old) if old == src => Plan::Keep,
            old => {
                if let Some(d) = diff {
                    d.set("src", old.clone().unwrap_or_default(), src);
                }
                Plan::Make(replace(path, false, link_at("\"$t\"")))
            }
        },
        "hard" if f.same_inode => Plan::Keep,
        "hard" if !force => {
            Plan::Refuse("Cannot link, different hard link exists at destination".into())
        }
        "file" if !force => Plan::Refuse("Cannot link, file exists at destination".into()),
        "directory" if f.same_inode => Plan::Keep,
        "directory" if !force => {
            Plan::Refuse("Cannot link: different hard link exists at destination".into())
        }
        _ => Plan::Make(replace(path, false, link_at("\"$t\""))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn found(state: &str) -> Found {
        Found {
            state: state.into(),
            src_exists: true,
            ..Found::default()
        }
    }

    #[test]
    fn symlinks_are_refused_as_ansible_core_refuses_them() {
        let mut f = found("absent");
        f.src_exists = false;
        assert_eq!(
            symlink("/t/l", Some("nope"), false, &f, None),
            Plan::Refuse("src file does not exist, use 'force=yes' if you really want to create the link: /t/nope".into())
        );
        assert!(matches!(
            symlink("/t/l", Some("nope"), true, &f, None),
            Plan::Make(_)
        ));
        assert_eq!(
            symlink("/t/f", Some("/a"), false, &found("file"), None),
            Plan::Refuse("refusing to convert from file to symlink for /t/f".into())
        );
        assert_eq!(
            symlink("/t/d", Some("/a"), true, &found("directory"), None),
            Plan::Refuse("the directory /t/d is not empty, refusing to convert it".into())
        );
        assert_eq!(
            symlink("/t/x", None, false, &found("absent"), None),
            Plan::Refuse("src is required for creating new symlinks".into())
        );
    }

    #[test]
    fn a_link_moved_elsewhere_is_replaced_and_diffed() {
        let mut f = found("link");
        f.old_src = Some("/old".into());
        let mut d = StateDiff::new("/t/l");
        let plan = symlink("/t/l", Some("/new"), false, &f, Some(&mut d));
        insta::assert_snapshot!(format!("{plan:?}"), @r#"Make("t=\"$(dirname -- /t/l)/.hoist.$$.tmp\"; ln -s -- /new \"$t\" && mv -fT -- \"$t\" /t/l || { rm -f -- \"$t\"; exit 1; }")"#);
        f.old_src = Some("/new".into());
        assert_eq!(symlink("/t/l", Some("/new"), false, &f, None), Plan::Keep);
    }

    #[test]
    fn hard_links() {
        let mut f = found("hard");
        assert_eq!(
            hardlink("/t/h", Some("/a"), false, true, &f, None),
            Plan::Refuse("Cannot link, different hard link exists at destination".into())
        );
        f.same_inode = true;
        assert_eq!(
            hardlink("/t/h", Some("/a"), false, true, &f, None),
            Plan::Keep
        );
        let mut gone = found("absent");
        gone.src_exists = false;
        assert_eq!(
            hardlink("/t/h", Some("/a"), false, true, &gone, None),
            Plan::Refuse("src does not exist".into())
        );
    }

    #[test]
    fn the_probe_answer_is_read() {
        let f = parse(b"link\x00/etc/x\n\x00no\x00no\x00no").unwrap();
        assert_eq!(f.state, "link");
        assert_eq!(f.old_src.as_deref(), Some("/etc/x"));
        assert!(!f.src_exists);
    }
}

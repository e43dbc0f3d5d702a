//! The shell script that writes a file atomically on a target: stdin goes to a temp file in the
//! destination's directory, gets its mode and owner, the old file is optionally backed up, then
//! `mv` replaces the destination in one step. A failure removes the temp file and leaves the
//! destination as it was.

use super::shell::quote;

/// Attributes for the written file. Without a mode or owner, an existing file keeps its own.
#[derive(Debug, Clone, Default)]
pub struct WriteOpts {
    /// Octal (`0644`) or symbolic (`u=rw,go=r`) mode.
    pub mode: Option<String>,
    pub owner: Option<String>,
    pub group: Option<String>,
    /// Copy the old file to `DEST.<timestamp>~` first and print that path.
    pub backup: bool,
    /// A command to check the temp file (`%s` is its path) before it replaces the destination.
    pub validate: Option<String>,
}

/// The script; prints `backup=PATH` when a backup was made.
pub fn atomic_write_script(dest: &str, opts: &WriteOpts) -> String {
    let dq = quote(dest);
    let mode = match &opts.mode {
        Some(m) => format!("chmod {} \"$t\"", quote(m)),
        None => format!(
            "if [ -e {dq} ]; then chmod --reference={dq} \"$t\"; else chmod 0644 \"$t\"; fi"
        ),
    };
    let owner = match (&opts.owner, &opts.group) {
        (None, None) => format!(
            "if [ -e {dq} ] && [ \"$(id -u)\" = 0 ]; then chown --reference={dq} \"$t\"; fi"
        ),
        (o, g) => {
            let spec = format!(
                "{}{}",
                o.as_deref().unwrap_or(""),
                g.as_ref().map(|g| format!(":{g}")).unwrap_or_default()
            );
            format!("chown {} \"$t\"", quote(&spec))
        }
    };
    let backup = if opts.backup {
        format!(
            "if [ -f {dq} ]; then b={dq}.$$.$(date +%Y-%m-%d@%H:%M:%S)~; cp -p {dq} \"$b\" && echo \"backup=$b\"; fi"
        )
    } else {
        ":".to_string()
    };
    let validate = match &opts.validate {
        Some(v) => format!(
            "{{ {} >&2 || {{ echo 'validation failed' >&2; false; }}; }}",
            v.replace("%s", "\"$t\"")
        ),
        None => ":".to_string(),
    };
    let dir = match dest.rsplit_once('/') {
        Some(("", _)) => "/".to_string(),
        Some((d, _)) => d.to_string(),
        None => ".".to_string(),
    };
    format!(
        "umask 077; t=$(mktemp {dir}/.hoist.XXXXXXXX) || exit 1; \
         {{ cat > \"$t\" && {mode} && {owner} && {validate} && {backup} && mv -f \"$t\" {dq}; }} \
         || {{ rc=$?; rm -f \"$t\"; exit $rc; }}",
        dir = quote(&dir)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn script_shape() {
        insta::assert_snapshot!(atomic_write_script("/etc/motd", &WriteOpts::default()), @r#"umask 077; t=$(mktemp /etc/.hoist.XXXXXXXX) || exit 1; { cat > "$t" && if [ -e /etc/motd ]; then chmod --reference=/etc/motd "$t"; else chmod 0644 "$t"; fi && if [ -e /etc/motd ] && [ "$(id -u)" = 0 ]; then chown --reference=/etc/motd "$t"; fi && : && : && mv -f "$t" /etc/motd; } || { rc=$?; rm -f "$t"; exit $rc; }"#);
        let s = atomic_write_script(
            "/etc/my app.conf",
            &WriteOpts {
                mode: Some("0600".into()),
                owner: Some("app".into()),
                group: Some("app".into()),
                backup: true,
                validate: Some("test -s %s".into()),
            },
        );
        assert!(s.contains("chmod 0600 \"$t\""));
        assert!(s.contains("chown app:app \"$t\""));
        assert!(s.contains("test -s \"$t\""));
        assert!(s.contains("cp -p '/etc/my app.conf'"));
    }
}

//! The shell script that writes a file atomically on a target: stdin goes to a temp file in the
//! destination's directory, gets its mode and owner, the old file is optionally backed up, then
//! `mv` replaces the destination in one step. A failure removes the temp file and leaves the
//! destination as it was.

use super::shell::{quote, quote_path};

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
    /// Replace the destination only if it still is what the caller read (a read-modify-write
    /// must not overwrite a change made meanwhile): checked under a lock on the directory.
    pub expect: Option<Expect>,
}

/// What the destination must still be when it is replaced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Expect {
    Absent,
    /// The SHA-256 (hex) of its content.
    Sha256(String),
}

/// The exit status of the write script when the destination changed since it was read.
pub const CHANGED_SINCE_READ: u32 = 75;

/// The script; prints `backup=PATH` when a backup was made.
pub fn atomic_write_script(dest: &str, opts: &WriteOpts) -> String {
    let dq = quote_path(dest);
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
    let replace = match &opts.expect {
        None => format!("mv -f \"$t\" {dq}"),
        Some(e) => {
            let same = match e {
                Expect::Absent => format!("[ ! -e {dq} ] && [ ! -L {dq} ]"),
                Expect::Sha256(h) => format!(
                    "[ \"$(sha256sum < {dq} 2>/dev/null | cut -c1-64)\" = {} ]",
                    quote(h)
                ),
            };
            // flock(1) takes the lock on the directory's descriptor 8, which the shell holds
            // until the group ends; without flock the check still runs, unlocked.
            format!(
                "{{ {{ ! command -v flock >/dev/null 2>&1 || flock -x 8; }} && \
                 {{ {same} || {{ echo 'changed since it was read' >&2; (exit {CHANGED_SINCE_READ}); }}; }} && \
                 mv -f \"$t\" {dq}; }} 8<{dir}",
                dir = quote_path(&dir)
            )
        }
    };
    format!(
        "umask 077; t=$(mktemp {dir}/.hoist.XXXXXXXX) || exit 1; \
         {{ cat > \"$t\" && {mode} && {owner} && {validate} && {backup} && {replace}; }} \
         || {{ rc=$?; rm -f \"$t\"; exit $rc; }}",
        dir = quote_path(&dir)
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
                expect: None,
            },
        );
        assert!(s.contains("chmod 0600 \"$t\""));
        assert!(s.contains("chown app:app \"$t\""));
        assert!(s.contains("test -s \"$t\""));
        assert!(s.contains("cp -p '/etc/my app.conf'"));
    }

    /// Runs the script with `sh` here, as a target would; returns the exit status.
    fn write(dest: &std::path::Path, data: &str, expect: Option<Expect>) -> i32 {
        use std::io::Write;
        let opts = WriteOpts {
            expect,
            ..WriteOpts::default()
        };
        let script = atomic_write_script(&dest.to_string_lossy(), &opts);
        let mut child = std::process::Command::new("sh")
            .args(["-c", &script])
            .stdin(std::process::Stdio::piped())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        child
            .stdin
            .take()
            .unwrap()
            .write_all(data.as_bytes())
            .unwrap();
        child.wait().unwrap().code().unwrap()
    }

    #[test]
    fn a_checked_write_replaces_only_what_was_read() {
        let d = tempfile::tempdir().unwrap();
        let f = d.path().join("conf");
        // Expected absent: the first writer creates it, the second finds it there.
        assert_eq!(write(&f, "one\n", Some(Expect::Absent)), 0);
        assert_eq!(
            write(&f, "two\n", Some(Expect::Absent)),
            CHANGED_SINCE_READ as i32
        );
        assert_eq!(std::fs::read_to_string(&f).unwrap(), "one\n");
        // Expected content: a stale hash writes nothing; the current one replaces the file.
        let stale = crate::digest::hex("sha256", b"zero\n");
        assert_eq!(
            write(&f, "three\n", Some(Expect::Sha256(stale))),
            CHANGED_SINCE_READ as i32
        );
        assert_eq!(std::fs::read_to_string(&f).unwrap(), "one\n");
        let now = crate::digest::hex("sha256", b"one\n");
        assert_eq!(write(&f, "four\n", Some(Expect::Sha256(now))), 0);
        assert_eq!(std::fs::read_to_string(&f).unwrap(), "four\n");
        // No temp file is left behind either way.
        let names: Vec<_> = std::fs::read_dir(d.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, vec![std::ffi::OsString::from("conf")]);
    }
}

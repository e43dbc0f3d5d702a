//! `become` with sudo: wraps a command so it runs as another user.

use super::shell::quote;
use super::target::Become;

/// The command to send and the bytes to write first on its stdin (the sudo password, if any).
/// No wrapping when become is off or the login user already is the become user.
pub fn wrap(become_: Option<&Become>, login_user: &str, command: &str) -> (String, Vec<u8>) {
    match become_ {
        Some(b) if b.user != login_user => {
            let inner = format!("/bin/sh -c {}", quote(command));
            match &b.password {
                Some(p) => (
                    format!("sudo -H -S -p '' -u {} -- {inner}", quote(&b.user)),
                    format!("{p}\n").into_bytes(),
                ),
                None => (
                    format!("sudo -H -n -u {} -- {inner}", quote(&b.user)),
                    Vec::new(),
                ),
            }
        }
        _ => (command.to_string(), Vec::new()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wraps_only_when_needed() {
        let b = Become {
            user: "root".into(),
            password: None,
        };
        assert_eq!(wrap(Some(&b), "root", "id -u").0, "id -u");
        assert_eq!(
            wrap(Some(&b), "deploy", "id -u").0,
            "sudo -H -n -u root -- /bin/sh -c 'id -u'"
        );
        let p = Become {
            user: "root".into(),
            password: Some("pw".into()),
        };
        let (cmd, input) = wrap(Some(&p), "deploy", "echo 'x'");
        assert_eq!(
            cmd,
            r"sudo -H -S -p '' -u root -- /bin/sh -c 'echo '\''x'\'''"
        );
        assert_eq!(input, b"pw\n");
    }
}

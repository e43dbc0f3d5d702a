//! `become` with sudo: wraps a command so it runs as another user, and the handshake that gives
//! sudo its password. The password is never written blindly: sudo is asked to prompt with a
//! random text (`-p`), and the password is sent only after that prompt shows on stderr. The
//! wrapped command first prints a random ready line; once it shows, sudo is done (no password was
//! needed: NOPASSWD, cached credentials, root) and nothing more is sent for it, so the password
//! can never reach the command or a shell as input (Ansible's `become` works the same way).

use super::shell::quote;
use super::target::Become;
use rand::Rng;

/// A command wrapped for become, and what its handshake needs.
#[derive(Debug, Clone)]
pub struct Wrapped {
    /// The command line to execute.
    pub command: String,
    /// Set when sudo is in the way: the handshake must run before any input is sent.
    pub handshake: Option<Handshake>,
}

/// The secrets of one sudo start: its random prompt and ready line, and the password.
#[derive(Clone)]
pub struct Handshake {
    /// What sudo prints when it wants the password (random per start).
    pub prompt: String,
    /// The line the command prints once it runs (random per start).
    pub ready: String,
    pub password: Option<String>,
}

impl std::fmt::Debug for Handshake {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Handshake")
            .field("prompt", &self.prompt)
            .field("ready", &self.ready)
            .field("password", &self.password.as_ref().map(|_| "********"))
            .finish()
    }
}

/// sudo's flags without `-n`/`--non-interactive` (also inside `-Hn`-style groups): a password
/// is given, so sudo must be let ask for it (ansible-core's rule).
pub fn without_non_interactive(flags: &str) -> String {
    flags
        .split_whitespace()
        .filter(|f| *f != "-n" && *f != "--non-interactive")
        .map(|f| {
            if f.starts_with('-') && !f.starts_with("--") {
                f.replacen('n', "", 1)
            } else {
                f.to_string()
            }
        })
        .filter(|f| f != "-")
        .collect::<Vec<_>>()
        .join(" ")
}

fn nonce() -> String {
    let mut r = rand::rng();
    (0..16)
        .map(|_| format!("{:02x}", r.random::<u8>()))
        .collect()
}

/// Whether becoming `b` needs sudo: another user than the login user, or the same one when
/// ansible-core's BECOME_ALLOW_SAME_USER says so.
pub fn needed(b: &Become, login_user: &str) -> bool {
    b.user != login_user
        || crate::template::config_lookup::setting("BECOME_ALLOW_SAME_USER")
            .is_some_and(|v| v.is_true())
}

/// Wraps `command` for `become_`. No wrapping when become is off or not needed (see
/// [`needed`]).
pub fn wrap(become_: Option<&Become>, login_user: &str, command: &str) -> Wrapped {
    match become_ {
        Some(b) if needed(b, login_user) => {
            let key = nonce();
            let ready = format!("__HOIST_BECOME_OK_{key}__");
            let prompt = format!("[sudo via hoist, key={key}] password:");
            let inner = format!(
                "/bin/sh -c {}",
                quote(&format!("printf '%s\\n' {ready}; {command}"))
            );
            let exe = b.exe.as_deref().unwrap_or("sudo");
            // An empty become user leaves sudo its own default (root), as ansible-core does.
            let user = match b.user.as_str() {
                "" => String::new(),
                u => format!("-u {} ", quote(u)),
            };
            let command = match (&b.password, &b.flags) {
                (Some(_), None) => {
                    format!("{exe} -H -S -p {} {user}-- {inner}", quote(&prompt))
                }
                // ansible-core's default flags, `-H -S -n`.
                (None, None) => format!("{exe} -H -S -n {user}-- {inner}"),
                (Some(_), Some(f)) => format!(
                    "{exe} {} -p {} {user}{inner}",
                    without_non_interactive(f),
                    quote(&prompt)
                ),
                (None, Some(f)) => format!("{exe} {f} {user}{inner}"),
            };
            let command = match &b.chdir {
                Some(d) => format!("cd {} && {command}", quote(d)),
                None => command,
            };
            Wrapped {
                command,
                handshake: Some(Handshake {
                    prompt,
                    ready,
                    password: b.password.clone(),
                }),
            }
        }
        _ => Wrapped {
            command: command.to_string(),
            handshake: None,
        },
    }
}

/// What the handshake does with one piece of output.
#[derive(Debug, PartialEq, Eq)]
pub enum Step {
    /// Keep reading.
    More,
    /// Send these bytes to sudo (the password and a newline), then keep reading.
    Send(Vec<u8>),
    /// The command runs; these stdout bytes came after the ready line and belong to it.
    Ready(Vec<u8>),
    /// sudo refused.
    Refused(String),
}

/// The handshake's state over one sudo start (pure: the transport feeds it output).
#[derive(Debug)]
pub struct Progress<'a> {
    hs: &'a Handshake,
    out: Vec<u8>,
    err: Vec<u8>,
    /// How many prompts have been answered.
    answered: usize,
}

impl<'a> Progress<'a> {
    pub fn new(hs: &'a Handshake) -> Self {
        Progress {
            hs,
            out: Vec::new(),
            err: Vec::new(),
            answered: 0,
        }
    }

    /// stdout from the channel.
    pub fn stdout(&mut self, data: &[u8]) -> Step {
        self.out.extend_from_slice(data);
        let line = format!("{}\n", self.hs.ready).into_bytes();
        match self
            .out
            .windows(line.len())
            .position(|w| w == line.as_slice())
        {
            Some(at) => Step::Ready(self.out[at + line.len()..].to_vec()),
            None => Step::More,
        }
    }

    /// stderr from the channel: answers sudo's prompt once; a second prompt is a refusal.
    pub fn stderr(&mut self, data: &[u8]) -> Step {
        self.err.extend_from_slice(data);
        let prompts = count(&self.err, self.hs.prompt.as_bytes());
        if prompts > self.answered {
            if self.answered > 0 {
                return Step::Refused(
                    "Incorrect sudo password: sudo refused ansible_become_password".into(),
                );
            }
            self.answered = prompts;
            return match &self.hs.password {
                Some(p) => Step::Send(format!("{p}\n").into_bytes()),
                None => {
                    Step::Refused("sudo asks for a password; set ansible_become_password".into())
                }
            };
        }
        let said = String::from_utf8_lossy(&self.err);
        if said.contains("Sorry, try again") || said.contains("incorrect password") {
            return Step::Refused(
                "Incorrect sudo password: sudo refused ansible_become_password".into(),
            );
        }
        Step::More
    }

    /// The channel ended before the ready line: what sudo said, without its prompts.
    pub fn ended(&self) -> String {
        let said = String::from_utf8_lossy(&self.err).replace(&self.hs.prompt, "");
        let said = said.trim();
        if said.is_empty() {
            "sudo ended before running the command".into()
        } else {
            said.to_string()
        }
    }
}

fn count(hay: &[u8], needle: &[u8]) -> usize {
    if needle.is_empty() {
        return 0;
    }
    hay.windows(needle.len()).filter(|w| *w == needle).count()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wraps_only_when_needed() {
        let b = Become {
            user: "root".into(),
            password: None,
            exe: None,
            flags: None,
            chdir: None,
        };
        assert_eq!(wrap(Some(&b), "root", "id -u").command, "id -u");
        let w = wrap(Some(&b), "deploy", "id -u");
        let hs = w.handshake.expect("a handshake");
        assert_eq!(
            w.command,
            format!(
                "sudo -H -S -n -u root -- /bin/sh -c 'printf '\\''%s\\n'\\'' {}; id -u'",
                hs.ready
            )
        );
        let p = Become {
            user: "root".into(),
            password: Some("pw".into()),
            exe: None,
            flags: None,
            chdir: None,
        };
        let w = wrap(Some(&p), "deploy", "echo 'x'");
        let hs = w.handshake.expect("a handshake");
        assert!(
            w.command.starts_with(&format!(
                "sudo -H -S -p '{}' -u root -- /bin/sh -c ",
                hs.prompt
            )),
            "{}",
            w.command
        );
        assert!(!w.command.contains("pw"));
        // Every start has its own prompt and ready line.
        let again = wrap(Some(&p), "deploy", "echo 'x'").handshake.expect("hs");
        assert_ne!(again.prompt, hs.prompt);
        assert_ne!(again.ready, hs.ready);
    }

    fn hs(password: Option<&str>) -> Handshake {
        Handshake {
            prompt: "[sudo via hoist, key=k] password:".into(),
            ready: "__READY_k__".into(),
            password: password.map(str::to_string),
        }
    }

    #[test]
    fn no_prompt_means_no_password_sent() {
        let h = hs(Some("secret"));
        let mut p = Progress::new(&h);
        assert_eq!(p.stderr(b"some lecture\n"), Step::More);
        assert_eq!(p.stdout(b"__READY_k__\nout"), Step::Ready(b"out".to_vec()));
    }

    #[test]
    fn the_password_answers_the_prompt_once() {
        let h = hs(Some("secret"));
        let mut p = Progress::new(&h);
        assert_eq!(p.stderr(b"[sudo via hoist, key"), Step::More);
        assert_eq!(p.stderr(b"=k] password:"), Step::Send(b"secret\n".to_vec()));
        assert_eq!(p.stdout(b"__REA"), Step::More);
        assert_eq!(p.stdout(b"DY_k__\n"), Step::Ready(Vec::new()));
        let mut p = Progress::new(&h);
        assert!(matches!(p.stderr(h.prompt.as_bytes()), Step::Send(_)));
        assert!(matches!(
            p.stderr(format!("Sorry, try again.\n{}", h.prompt).as_bytes()),
            Step::Refused(_)
        ));
        let none = hs(None);
        let mut p = Progress::new(&none);
        assert!(matches!(p.stderr(none.prompt.as_bytes()), Step::Refused(_)));
    }
}

//! The controller-side helper: a Python process with ansible-core that finds Ansible's modules
//! and builds their payloads (AnsiballZ) with ansible-core's own code. One per hoist process,
//! started on first use, spoken to in JSON lines; its answers are data, never templated.

use serde_json::{Value as Json, json};
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};
use std::sync::Mutex;

const SCRIPT: &str = include_str!("helper.py");

/// Why the helper cannot answer.
#[derive(Debug, Clone, thiserror::Error)]
pub enum HelperError {
    /// No Python with ansible-core was found on the controller.
    #[error(
        "Ansible's own modules need ansible-core on the controller ({0}); install it (`pip install ansible-core`) or set HOIST_ANSIBLE_PYTHON to a Python that has it"
    )]
    Unavailable(String),
    /// The helper answered with an error.
    #[error("{0}")]
    Failed(String),
}

struct Process {
    child: Child,
    stdin: ChildStdin,
    stdout: BufReader<ChildStdout>,
}

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

enum State {
    NotStarted,
    Running(Process),
    Unavailable(String),
}

static HELPER: Mutex<State> = Mutex::new(State::NotStarted);

/// Collection directories beside the playbooks of this run (`collections/`), searched before
/// the configured ones, as ansible-playbook adds its playbook's.
static EXTRA_ROOTS: Mutex<Vec<PathBuf>> = Mutex::new(Vec::new());

/// Adds a playbook's `collections/` directory (when it exists) to where the helper finds
/// collections; a helper already running is started again with it.
pub fn add_collection_root(dir: &Path) {
    if !dir.is_dir() {
        return;
    }
    let mut roots = EXTRA_ROOTS.lock().unwrap_or_else(|p| p.into_inner());
    if roots.iter().any(|r| r == dir) {
        return;
    }
    roots.push(dir.to_path_buf());
    let mut state = HELPER.lock().unwrap_or_else(|p| p.into_inner());
    if matches!(*state, State::Running(_)) {
        *state = State::NotStarted;
    }
}

/// `ANSIBLE_COLLECTIONS_PATH` for the helper: the playbooks' directories, then what the
/// environment says, else ansible-core's defaults.
fn collections_path() -> Option<String> {
    let roots = EXTRA_ROOTS
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .clone();
    if roots.is_empty() {
        return None;
    }
    let mut parts: Vec<String> = roots.iter().map(|r| r.display().to_string()).collect();
    match std::env::var("ANSIBLE_COLLECTIONS_PATH")
        .or_else(|_| std::env::var("ANSIBLE_COLLECTIONS_PATHS"))
    {
        Ok(v) if !v.is_empty() => parts.push(v),
        _ => {
            if let Some(home) = std::env::var_os("HOME") {
                parts.push(format!(
                    "{}/.ansible/collections",
                    PathBuf::from(home).display()
                ));
            }
            parts.push("/usr/share/ansible/collections".into());
        }
    }
    Some(parts.join(":"))
}

/// The Python to run the helper with: `HOIST_ANSIBLE_PYTHON`, else the interpreter of an
/// `ansible-playbook` on PATH, else `python3`. It is also the implicit localhost's
/// `ansible_python_interpreter`, as ansible-core's own interpreter is.
pub fn python() -> PathBuf {
    if let Some(p) = std::env::var_os("HOIST_ANSIBLE_PYTHON").filter(|p| !p.is_empty()) {
        return PathBuf::from(p);
    }
    if let Some(path) = std::env::var_os("PATH") {
        for dir in std::env::split_paths(&path) {
            if let Some(py) = shebang_python(&dir.join("ansible-playbook")) {
                return py;
            }
        }
    }
    PathBuf::from("python3")
}

/// The Python interpreter named by `script`'s `#!` line, when it names one.
fn shebang_python(script: &Path) -> Option<PathBuf> {
    let text = std::fs::read(script).ok()?;
    let first = text.split(|b| *b == b'\n').next()?;
    let line = std::str::from_utf8(first).ok()?.strip_prefix("#!")?;
    let mut words = line.split_whitespace();
    let interp = words.next()?;
    let interp = if interp.ends_with("/env") {
        words.next()?
    } else {
        interp
    };
    interp.contains("python").then(|| PathBuf::from(interp))
}

fn start() -> Result<Process, String> {
    let py = python();
    let mut cmd = Command::new(&py);
    if let Some(path) = collections_path() {
        cmd.env("ANSIBLE_COLLECTIONS_PATH", path);
    }
    let mut child = cmd
        .arg("-c")
        .arg(SCRIPT)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| format!("cannot start {}: {e}", py.display()))?;
    let (Some(stdin), Some(stdout)) = (child.stdin.take(), child.stdout.take()) else {
        let _ = child.kill();
        return Err("the helper's pipes are missing".into());
    };
    let mut p = Process {
        child,
        stdin,
        stdout: BufReader::new(stdout),
    };
    let hello = read_answer(&mut p).map_err(|e| format!("{}: {e}", py.display()))?;
    if let Some(f) = hello.get("fatal").and_then(Json::as_str) {
        return Err(format!("{} cannot load ansible-core: {f}", py.display()));
    }
    Ok(p)
}

fn read_answer(p: &mut Process) -> Result<Json, String> {
    let mut line = String::new();
    match p.stdout.read_line(&mut line) {
        Ok(0) => Err("the helper exited".into()),
        Ok(_) => serde_json::from_str(&line).map_err(|e| format!("unreadable answer: {e}")),
        Err(e) => Err(format!("cannot read the helper's answer: {e}")),
    }
}

fn ask_once(p: &mut Process, request: &Json) -> Result<Json, String> {
    let mut line = request.to_string();
    line.push('\n');
    p.stdin
        .write_all(line.as_bytes())
        .and_then(|_| p.stdin.flush())
        .map_err(|e| format!("cannot reach the helper: {e}"))?;
    read_answer(p)
}

/// Sends one request and returns the answer. Blocking: call it off the async runtime's
/// threads. A helper that died is started again once.
pub fn ask(request: &Json) -> Result<Json, HelperError> {
    let mut state = HELPER.lock().unwrap_or_else(|p| p.into_inner());
    for attempt in 0..2 {
        if matches!(*state, State::NotStarted) {
            *state = match start() {
                Ok(p) => State::Running(p),
                Err(e) => State::Unavailable(e),
            };
        }
        match &mut *state {
            State::Unavailable(why) => return Err(HelperError::Unavailable(why.clone())),
            State::Running(p) => match ask_once(p, request) {
                Ok(answer) => {
                    return match answer.get("error").and_then(Json::as_str) {
                        Some(e) => Err(HelperError::Failed(e.to_string())),
                        None => Ok(answer),
                    };
                }
                Err(e) if attempt == 1 => {
                    *state = State::NotStarted;
                    return Err(HelperError::Failed(e));
                }
                Err(_) => *state = State::NotStarted,
            },
            State::NotStarted => {}
        }
    }
    Err(HelperError::Failed(
        "the helper could not be started".into(),
    ))
}

/// Asks where ansible-core finds module `name` (library directories `dirs` first, a short name
/// in `collections` in their order).
pub fn find(name: &str, dirs: &[PathBuf], collections: &[String]) -> Result<Json, HelperError> {
    ask(&json!({"op": "find", "name": name, "dirs": dirs, "collections": collections}))
}

/// Every module ansible-core finds on the controller (its own and the installed
/// collections'), by fully qualified name, with the file it lives in.
pub fn list() -> Result<Vec<(String, PathBuf)>, HelperError> {
    let answer = ask(&json!({"op": "list"}))?;
    Ok(answer
        .get("modules")
        .and_then(Json::as_array)
        .map(|all| {
            all.iter()
                .filter_map(|m| {
                    Some((
                        m.get("name")?.as_str()?.to_string(),
                        PathBuf::from(m.get("path")?.as_str()?),
                    ))
                })
                .collect()
        })
        .unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shebangs_name_the_python() {
        let dir = std::env::temp_dir().join(format!("hoist-shebang-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let f = dir.join("ansible-playbook");
        std::fs::write(&f, "#!/opt/venv/bin/python3.11\nimport sys\n").unwrap();
        assert_eq!(
            shebang_python(&f),
            Some(PathBuf::from("/opt/venv/bin/python3.11"))
        );
        std::fs::write(&f, "#!/usr/bin/env python3\n").unwrap();
        assert_eq!(shebang_python(&f), Some(PathBuf::from("python3")));
        std::fs::write(&f, "#!/bin/sh\nexec hoist \"$@\"\n").unwrap();
        assert_eq!(shebang_python(&f), None);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}

//! `hoist lab`: a throw-away fleet of Debian hosts (systemd-nspawn + network namespaces + real
//! sshd) driven through the embedded `lab/lab.sh`, and the inventory it writes.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;

/// The lab script, embedded in the binary.
pub const SCRIPT: &str = include_str!("../../lab/lab.sh");

/// Named package sets for `--packages @NAME`.
const PACKAGE_SETS: [(&str, &str); 1] = [("ha", include_str!("../../lab/package-sets/ha.txt"))];

/// Expands `@NAME` package sets; other names pass through.
pub fn expand_packages(packages: &[String]) -> Result<Vec<String>, LabError> {
    let mut out = Vec::new();
    for p in packages {
        match p.strip_prefix('@') {
            Some(set) => {
                let (_, text) = PACKAGE_SETS
                    .iter()
                    .find(|(n, _)| *n == set)
                    .ok_or_else(|| LabError::NoPackageSet(set.to_string()))?;
                out.extend(
                    text.lines()
                        .filter(|l| !l.trim_start().starts_with('#'))
                        .flat_map(str::split_whitespace)
                        .map(str::to_string),
                );
            }
            None => out.push(p.clone()),
        }
    }
    Ok(out)
}

/// Where the lab keeps its state and caches.
#[derive(Debug, Clone)]
pub struct LabPaths {
    /// Per-run state: keys, known_hosts, overlay directories, logs.
    pub state: PathBuf,
    /// The cached base rootfs (kept by `down`).
    pub base: PathBuf,
    /// The local apt repository (kept by `down`).
    pub repo: PathBuf,
}

impl Default for LabPaths {
    fn default() -> Self {
        let root = std::env::var_os("HOIST_LAB_DIR")
            .map(PathBuf::from)
            .unwrap_or_else(|| PathBuf::from("/var/tmp/hoist-lab"));
        LabPaths {
            state: root.join("run"),
            base: root.join("base"),
            repo: root.join("repo"),
        }
    }
}

/// The most hosts one lab holds: lab1..lab240 are 10.77.0.11..10.77.0.250 on the lab's /24.
pub const MAX_HOSTS: usize = 240;

#[derive(Debug, thiserror::Error)]
pub enum LabError {
    #[error(
        "hoist lab needs root (network namespaces, mounts, cgroups); run it as root or with sudo"
    )]
    NotRoot,
    #[error("lab step `{step}` failed (exit {code}); the lab was taken down again")]
    Step { step: String, code: i32 },
    #[error("lab: {0}")]
    Io(#[from] std::io::Error),
    #[error("a lab is already up (state in {0}); run `hoist lab down` first")]
    AlreadyUp(PathBuf),
    #[error("--hosts must be between 1 and {MAX_HOSTS}, got {0}")]
    HostCount(usize),
    #[error(
        "no lab host `{0}` (give a name like lab3 or an address like 10.77.0.13; see `hoist lab status`)"
    )]
    NoHost(String),
    #[error("lab: {0} failed")]
    Action(String),
    #[error("`{0}` is not a Debian package name")]
    BadPackage(String),
    #[error("no package set `@{0}` (known: @ha)")]
    NoPackageSet(String),
}

/// One lab host as `status` reports it.
#[derive(Debug, Clone, serde::Serialize)]
pub struct LabHost {
    pub name: String,
    pub address: String,
    pub state: String,
}

/// Fails unless the effective user is root.
pub fn require_root() -> Result<(), LabError> {
    let status = std::fs::read_to_string("/proc/self/status")?;
    let euid = status
        .lines()
        .find_map(|l| l.strip_prefix("Uid:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .unwrap_or("");
    if euid == "0" {
        Ok(())
    } else {
        Err(LabError::NotRoot)
    }
}

fn script_cmd(paths: &LabPaths, args: &[&str]) -> Command {
    let mut c = Command::new("bash");
    c.arg("-c")
        .arg(SCRIPT)
        .arg("lab.sh")
        .args(args)
        .env("LAB", &paths.state)
        .env("BASE", &paths.base)
        .env("REPO", &paths.repo);
    c
}

fn step(paths: &LabPaths, args: &[&str]) -> Result<(), LabError> {
    let status = script_cmd(paths, args).status()?;
    if status.success() {
        Ok(())
    } else {
        Err(LabError::Step {
            step: args.join(" "),
            code: status.code().unwrap_or(-1),
        })
    }
}

/// Brings up `hosts` hosts with `packages` available from the local repository, waits for
/// their sshd, and writes the inventory to `inventory`. On failure everything is torn down.
pub fn up(
    paths: &LabPaths,
    hosts: usize,
    packages: &[String],
    inventory: &Path,
) -> Result<Vec<LabHost>, LabError> {
    require_root()?;
    if !(1..=MAX_HOSTS).contains(&hosts) {
        return Err(LabError::HostCount(hosts));
    }
    step(paths, &["deps"])?;
    step(paths, &["base"])?;
    let packages = expand_packages(packages)?;
    if let Some(bad) = packages.iter().find(|p| {
        !p.chars()
            .all(|c| c.is_ascii_alphanumeric() || "+-.:".contains(c))
    }) {
        return Err(LabError::BadPackage(bad.clone()));
    }
    let mut repo_args = vec!["repo"];
    repo_args.extend(packages.iter().map(String::as_str));
    step(paths, &repo_args)?;
    if paths.state.join("up").exists() {
        return Err(LabError::AlreadyUp(paths.state.clone()));
    }
    let n = hosts.to_string();
    if let Err(e) = step(paths, &["up", &n]).and_then(|_| step(paths, &["check", &n])) {
        let _ = step(paths, &["down"]);
        return Err(e);
    }
    let list = status(paths)?;
    write_inventory(paths, &list, inventory)?;
    std::fs::write(
        paths.state.join("inventory-path"),
        inventory.to_string_lossy().as_bytes(),
    )?;
    Ok(list)
}

/// Stops every host and removes namespaces, mounts, cgroups, state and the written inventory.
pub fn down(paths: &LabPaths) -> Result<(), LabError> {
    require_root()?;
    let inventory = std::fs::read_to_string(paths.state.join("inventory-path")).ok();
    step(paths, &["down"])?;
    if let Some(p) = inventory {
        let _ = std::fs::remove_file(p.trim());
    }
    Ok(())
}

/// The lab host named `name` or having address `name`.
fn find_host(paths: &LabPaths, name: &str) -> Result<LabHost, LabError> {
    status(paths)?
        .into_iter()
        .find(|h| h.name == name || h.address == name)
        .ok_or_else(|| LabError::NoHost(name.to_string()))
}

/// Crashes one host: all its processes die at once and its network link goes down.
pub fn kill(paths: &LabPaths, name: &str) -> Result<LabHost, LabError> {
    require_root()?;
    let h = find_host(paths, name)?;
    if !script_cmd(paths, &["kill_host", &h.name])
        .status()?
        .success()
    {
        return Err(LabError::Action(format!("killing {}", h.name)));
    }
    Ok(h)
}

/// Boots a crashed host again (as after a power cycle) and waits for its sshd.
pub fn start(paths: &LabPaths, name: &str) -> Result<LabHost, LabError> {
    require_root()?;
    let h = find_host(paths, name)?;
    let n: String = h
        .name
        .trim_start_matches(|c: char| !c.is_ascii_digit())
        .to_string();
    if !script_cmd(paths, &["start_host", &h.name])
        .status()?
        .success()
    {
        return Err(LabError::Action(format!("starting {}", h.name)));
    }
    // `check N` waits for hosts 1..N; the ones before are up already and answer at once.
    if !script_cmd(paths, &["check", &n]).status()?.success() {
        return Err(LabError::Action(format!("waiting for {}'s sshd", h.name)));
    }
    Ok(h)
}

/// The hosts of the running lab (empty when none is up).
pub fn status(paths: &LabPaths) -> Result<Vec<LabHost>, LabError> {
    let out = script_cmd(paths, &["status"]).output()?;
    let text = String::from_utf8_lossy(&out.stdout);
    Ok(text
        .lines()
        .filter_map(|l| {
            let mut f = l.split_whitespace();
            let (name, address, state) = (f.next()?, f.next()?, f.next()?);
            address.starts_with("10.").then(|| LabHost {
                name: name.to_string(),
                address: address.to_string(),
                state: state.to_string(),
            })
        })
        .collect())
}

/// The inventory text for `hosts` (Ansible-compatible, so ansible-core can use it too).
pub fn inventory_text(paths: &LabPaths, hosts: &[LabHost]) -> String {
    let mut s =
        String::from("# Written by `hoist lab up`; removed by `hoist lab down`.\nall:\n  vars:\n");
    s.push_str("    ansible_user: root\n");
    s.push_str(&format!(
        "    ansible_ssh_private_key_file: {}\n",
        paths.state.join("id_ed25519").display()
    ));
    s.push_str(&format!(
        "    ansible_ssh_common_args: \"-o UserKnownHostsFile={} -o StrictHostKeyChecking=yes\"\n",
        paths.state.join("known_hosts").display()
    ));
    s.push_str(
        "    ansible_python_interpreter: /usr/bin/python3\n  children:\n    lab:\n      hosts:\n",
    );
    for h in hosts {
        s.push_str(&format!(
            "        {}:\n          ansible_host: {}\n",
            h.name, h.address
        ));
    }
    s
}

/// Writes the inventory atomically (temp file in the same directory, then rename).
pub fn write_inventory(paths: &LabPaths, hosts: &[LabHost], path: &Path) -> Result<(), LabError> {
    write_atomic(path, inventory_text(paths, hosts).as_bytes())?;
    Ok(())
}

/// Writes `data` to `path` through a temp file and a rename, so readers never see half a file.
pub fn write_atomic(path: &Path, data: &[u8]) -> std::io::Result<()> {
    let dir = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir)?;
    let tmp = dir.join(format!(
        ".{}.tmp.{}",
        path.file_name().and_then(|n| n.to_str()).unwrap_or("file"),
        std::process::id()
    ));
    let mut f = std::fs::File::create(&tmp)?;
    f.write_all(data)?;
    f.sync_all()?;
    std::fs::rename(&tmp, path)
}

//! Host facts gathered in one round trip: one POSIX shell script prints `/proc` and friends in
//! marked sections, and [`parse`] turns its output into [`Facts`].

mod ansible;
mod extra;

use serde::Serialize;
use std::collections::BTreeMap;

/// The script run on the target; every section starts with a `@@name` line.
pub const SCRIPT: &str = r#"export LC_ALL=C
echo @@os; cat /etc/os-release 2>/dev/null; printf 'DEBIAN_VERSION=%s\n' "$(cat /etc/debian_version 2>/dev/null)"
echo @@uname; uname -s; uname -r; uname -m
echo @@hostname; hostname 2>/dev/null || cat /proc/sys/kernel/hostname
echo @@cpus; getconf _NPROCESSORS_ONLN 2>/dev/null || nproc
echo @@loadavg; cat /proc/loadavg
echo @@meminfo; cat /proc/meminfo
echo @@uptime; cat /proc/uptime
echo @@df; df -P -k -T 2>/dev/null
echo @@netdev; cat /proc/net/dev
echo @@addr; ip -o addr show 2>/dev/null
echo @@fqdn; hostname -f 2>/dev/null
echo @@user; id -un; id -u
echo @@pkg; for p in apt-get dnf yum zypper apk pacman; do command -v $p >/dev/null 2>&1 && { echo $p; break; }; done
echo @@init; cat /proc/1/comm 2>/dev/null
echo @@route; ip -o -4 route show default 2>/dev/null
echo @@end"#;

/// The whole fact script: the system's shape, then the extra facts, then the end marker.
pub fn script() -> String {
    script_with(None)
}

/// The fact script reading local facts from `fact_path` (default `/etc/ansible/facts.d`).
pub fn script_with(fact_path: Option<&str>) -> String {
    let extra = match fact_path {
        Some(dir) => extra::SCRIPT.replace(
            "/etc/ansible/facts.d/*.fact",
            &format!(
                "{}/*.fact",
                crate::ssh::shell::quote_path(dir.trim_end_matches('/'))
            ),
        ),
        None => extra::SCRIPT.to_string(),
    };
    SCRIPT.replace("echo @@end", &format!("{extra}echo @@end"))
}

#[derive(Debug, Clone, Default, Serialize, PartialEq)]
pub struct Facts {
    pub hostname: String,
    pub os: OsInfo,
    pub kernel: String,
    pub architecture: String,
    pub cpus: u32,
    pub load: [f64; 3],
    pub memory: Memory,
    pub uptime_seconds: u64,
    pub disks: Vec<Disk>,
    pub interfaces: Vec<Interface>,
    pub fqdn: String,
    pub user: String,
    pub uid: u32,
    /// The package manager command found (`apt-get`, `dnf`, ...).
    pub pkg_mgr: String,
    /// PID 1's name (`systemd`, `init`, `sshd`...).
    pub init: String,
    /// The interface and gateway of the IPv4 default route.
    pub default_route: Option<(String, String)>,
    /// Environment, virtualization, Python and local facts.
    pub extra: extra::Extra,
}

#[derive(Debug, Clone, Default, Serialize, PartialEq)]
pub struct OsInfo {
    pub id: String,
    pub name: String,
    pub version: String,
    pub pretty_name: String,
    pub codename: String,
    pub id_like: String,
    /// `/etc/debian_version` (`12.5`), which Ansible reports as the Debian version.
    pub debian_version: String,
}

#[derive(Debug, Clone, Default, Serialize, PartialEq)]
pub struct Memory {
    pub total_kb: u64,
    pub available_kb: u64,
    pub swap_total_kb: u64,
    pub swap_free_kb: u64,
}

#[derive(Debug, Clone, Default, Serialize, PartialEq)]
pub struct Disk {
    pub device: String,
    pub fstype: String,
    pub mount: String,
    pub size_kb: u64,
    pub used_kb: u64,
    pub available_kb: u64,
}

#[derive(Debug, Clone, Default, Serialize, PartialEq)]
pub struct Interface {
    pub name: String,
    pub addresses: Vec<String>,
    pub rx_bytes: u64,
    pub tx_bytes: u64,
    pub rx_packets: u64,
    pub tx_packets: u64,
}

/// File systems that are not disks (kernel and memory file systems).
const PSEUDO_FS: [&str; 12] = [
    "tmpfs", "devtmpfs", "proc", "sysfs", "cgroup", "cgroup2", "overlay", "squashfs", "devpts",
    "mqueue", "ramfs", "autofs",
];

/// Parses the output of [`SCRIPT`]. Missing sections leave defaults; the output must end with
/// the `@@end` marker, else it was cut short.
pub fn parse(output: &str) -> Result<Facts, String> {
    let mut sections: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    let mut current = None;
    for line in output.lines() {
        if let Some(name) = line.strip_prefix("@@") {
            current = Some(name);
            sections.entry(name).or_default();
        } else if let Some(c) = current {
            sections.entry(c).or_default().push(line);
        }
    }
    if !sections.contains_key("end") {
        return Err("fact output was cut short (no end marker)".into());
    }
    let sec = |name: &str| sections.get(name).cloned().unwrap_or_default();
    let mut f = Facts::default();
    for line in sec("os") {
        if let Some((k, v)) = line.split_once('=') {
            let v = v.trim_matches('"').to_string();
            match k {
                "ID" => f.os.id = v,
                "NAME" => f.os.name = v,
                "VERSION_ID" => f.os.version = v,
                "PRETTY_NAME" => f.os.pretty_name = v,
                "VERSION_CODENAME" => f.os.codename = v,
                "ID_LIKE" => f.os.id_like = v,
                "DEBIAN_VERSION" => f.os.debian_version = v,
                _ => {}
            }
        }
    }
    let uname = sec("uname");
    f.kernel = uname.get(1).map(|s| s.to_string()).unwrap_or_default();
    f.architecture = uname.get(2).map(|s| s.to_string()).unwrap_or_default();
    f.hostname = sec("hostname")
        .first()
        .map(|s| s.trim().to_string())
        .unwrap_or_default();
    f.cpus = sec("cpus")
        .first()
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or(0);
    if let Some(l) = sec("loadavg").first() {
        let parts: Vec<f64> = l
            .split_whitespace()
            .take(3)
            .filter_map(|x| x.parse().ok())
            .collect();
        if parts.len() == 3 {
            f.load = [parts[0], parts[1], parts[2]];
        }
    }
    for line in sec("meminfo") {
        let mut it = line.split_whitespace();
        let (Some(k), Some(v)) = (it.next(), it.next().and_then(|v| v.parse::<u64>().ok())) else {
            continue;
        };
        match k {
            "MemTotal:" => f.memory.total_kb = v,
            "MemAvailable:" => f.memory.available_kb = v,
            "SwapTotal:" => f.memory.swap_total_kb = v,
            "SwapFree:" => f.memory.swap_free_kb = v,
            _ => {}
        }
    }
    f.uptime_seconds = sec("uptime")
        .first()
        .and_then(|l| l.split_whitespace().next())
        .and_then(|s| s.parse::<f64>().ok())
        .map(|s| s as u64)
        .unwrap_or(0);
    f.disks = sec("df").iter().skip(1).filter_map(|l| disk(l)).collect();
    f.interfaces = interfaces(&sec("netdev"), &sec("addr"));
    let first = |name: &str| {
        sec(name)
            .first()
            .map(|s| s.trim().to_string())
            .unwrap_or_default()
    };
    f.fqdn = first("fqdn");
    if f.fqdn.is_empty() {
        f.fqdn = f.hostname.clone();
    }
    let user = sec("user");
    f.user = user
        .first()
        .map(|s| s.trim().to_string())
        .unwrap_or_default();
    f.uid = user.get(1).and_then(|s| s.trim().parse().ok()).unwrap_or(0);
    f.extra = extra::parse(&sec("env"), &sec("virt"), &sec("python"), &sec("local"));
    f.extra.systemd = extra::systemd(&sec("systemd"));
    f.pkg_mgr = first("pkg");
    f.init = first("init");
    // "default via 10.77.0.1 dev eth0 ..."
    f.default_route = sec("route").first().and_then(|l| {
        let w: Vec<&str> = l.split_whitespace().collect();
        let via = w
            .iter()
            .position(|x| *x == "via")
            .and_then(|i| w.get(i + 1))?;
        let dev = w
            .iter()
            .position(|x| *x == "dev")
            .and_then(|i| w.get(i + 1))?;
        Some((dev.to_string(), via.to_string()))
    });
    Ok(f)
}

fn disk(line: &str) -> Option<Disk> {
    let c: Vec<&str> = line.split_whitespace().collect();
    if c.len() < 7 || PSEUDO_FS.contains(&c[1]) && c[6] != "/" {
        return None;
    }
    Some(Disk {
        device: c[0].to_string(),
        fstype: c[1].to_string(),
        size_kb: c[2].parse().ok()?,
        used_kb: c[3].parse().ok()?,
        available_kb: c[4].parse().ok()?,
        mount: c[6..].join(" "),
    })
}

fn interfaces(netdev: &[&str], addr: &[&str]) -> Vec<Interface> {
    let mut out: Vec<Interface> = Vec::new();
    for line in netdev.iter().skip(2) {
        let Some((name, rest)) = line.split_once(':') else {
            continue;
        };
        let n: Vec<u64> = rest
            .split_whitespace()
            .filter_map(|x| x.parse().ok())
            .collect();
        if n.len() < 10 {
            continue;
        }
        out.push(Interface {
            name: name.trim().to_string(),
            addresses: Vec::new(),
            rx_bytes: n[0],
            rx_packets: n[1],
            tx_bytes: n[8],
            tx_packets: n[9],
        });
    }
    // `ip -o addr`: "2: eth0@if5    inet 10.77.0.11/24 brd ... scope global eth0"
    for line in addr {
        let c: Vec<&str> = line.split_whitespace().collect();
        if c.len() < 4 || !(c[2] == "inet" || c[2] == "inet6") {
            continue;
        }
        let name = c[1].split('@').next().unwrap_or(c[1]);
        if let Some(i) = out.iter_mut().find(|i| i.name == name) {
            i.addresses.push(c[3].to_string());
        }
    }
    out
}

impl Facts {
    /// The root file system, if it was reported.
    pub fn root_disk(&self) -> Option<&Disk> {
        self.disks.iter().find(|d| d.mount == "/")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SAMPLE: &str = "@@os
PRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"
NAME=\"Debian GNU/Linux\"
VERSION_ID=\"12\"
ID=debian
DEBIAN_VERSION=12.5
@@uname
Linux
6.1.0-18-amd64
x86_64
@@hostname
lab1
@@cpus
2
@@loadavg
0.15 0.10 0.05 1/123 4567
@@meminfo
MemTotal:       24576000 kB
MemFree:        20000000 kB
MemAvailable:   22000000 kB
SwapTotal:             0 kB
SwapFree:              0 kB
@@uptime
12345.67 23456.78
@@df
Filesystem     Type     1024-blocks     Used Available Capacity Mounted on
overlay        overlay    263174212 11000000 240000000       5% /
tmpfs          tmpfs          65536        0     65536       0% /dev
/dev/vdb       ext4         1000000   500000    500000      50% /srv/data files
@@netdev
Inter-|   Receive                                                |  Transmit
 face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls carrier compressed
    lo:     100       2    0    0    0     0          0         0      100       2    0    0    0     0       0          0
  eth0:    5000      40    0    0    0     0          0         0     7000      50    0    0    0     0       0          0
@@addr
1: lo    inet 127.0.0.1/8 scope host lo\\       valid_lft forever preferred_lft forever
2: eth0@if7    inet 10.77.0.11/24 scope global eth0\\       valid_lft forever preferred_lft forever
2: eth0@if7    inet6 fe80::1/64 scope link \\       valid_lft forever preferred_lft forever
@@fqdn
lab1.lab
@@user
root
0
@@pkg
apt-get
@@init
systemd
@@route
default via 10.77.0.1 dev eth0 proto static
@@end
";

    #[test]
    fn parses_sample() {
        insta::assert_json_snapshot!(parse(SAMPLE).unwrap());
    }

    /// Local facts go through the section parser intact: their file markers are not sections.
    #[test]
    fn local_facts_survive_the_section_parser() {
        let out = SAMPLE.replace(
            "@@end",
            "@@local\n%hoist-fact /f/app.fact\n{\"port\": 80}\n\n%hoist-fact /f/broken.fact\n%hoist-fact-error Failure executing fact script\n\n@@end",
        );
        let f = parse(&out).unwrap().ansible_facts();
        assert_eq!(f["local"]["app"], serde_json::json!({"port": 80}));
        assert_eq!(
            f["local"]["broken"],
            serde_json::json!("Failure executing fact script")
        );
        assert!(script_with(Some("/tmp/my facts")).contains("'/tmp/my facts'/*.fact"));
    }

    #[test]
    fn ansible_names() {
        insta::assert_json_snapshot!(parse(SAMPLE).unwrap().ansible_facts());
    }

    #[test]
    fn cut_short_is_an_error() {
        assert!(parse("@@os\nID=debian\n").is_err());
    }
}

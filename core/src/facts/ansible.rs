//! Facts under Ansible's names (`ansible_facts.distribution`, `os_family`, `default_ipv4`, ...),
//! so playbooks written for Ansible read them unchanged.

use super::Facts;
use crate::inventory::Vars;
use serde_json::{Value as Json, json};

fn distribution(id: &str) -> String {
    match id {
        "debian" => "Debian",
        "ubuntu" => "Ubuntu",
        "centos" => "CentOS",
        "rhel" => "RedHat",
        "fedora" => "Fedora",
        "rocky" => "Rocky",
        "almalinux" => "AlmaLinux",
        "alpine" => "Alpine",
        "arch" => "Archlinux",
        "opensuse-leap" | "opensuse-tumbleweed" | "sles" => "SUSE",
        other => return capitalize(other),
    }
    .to_string()
}

fn capitalize(s: &str) -> String {
    let mut c = s.chars();
    c.next()
        .map(|f| f.to_uppercase().chain(c).collect())
        .unwrap_or_default()
}

fn os_family(id: &str, like: &str) -> String {
    let all = format!("{id} {like}");
    let family = if all.contains("debian") || all.contains("ubuntu") {
        "Debian"
    } else if ["rhel", "fedora", "centos", "rocky", "almalinux"]
        .iter()
        .any(|x| all.contains(x))
    {
        "RedHat"
    } else if all.contains("suse") {
        "Suse"
    } else if id == "alpine" {
        "Alpine"
    } else if id == "arch" {
        "Archlinux"
    } else {
        return distribution(id);
    };
    family.to_string()
}

/// `10.0.0.5/24` → the ipv4 fact dict.
fn ipv4(cidr: &str) -> Json {
    let (addr, prefix) = cidr.split_once('/').unwrap_or((cidr, "32"));
    let prefix: u32 = prefix.parse().unwrap_or(32);
    let ip: u32 = addr
        .parse::<std::net::Ipv4Addr>()
        .map(u32::from)
        .unwrap_or(0);
    let mask = if prefix == 0 {
        0
    } else {
        u32::MAX << (32 - prefix)
    };
    json!({
        "address": addr,
        "prefix": prefix.to_string(),
        "netmask": std::net::Ipv4Addr::from(mask).to_string(),
        "network": std::net::Ipv4Addr::from(ip & mask).to_string(),
        "broadcast": std::net::Ipv4Addr::from(ip | !mask).to_string(),
    })
}

impl Facts {
    /// The facts as Ansible names them (the contents of `ansible_facts`).
    pub fn ansible_facts(&self) -> Vars {
        let mb = |kb: u64| kb / 1024;
        // Debian point releases are in /etc/debian_version (os-release has only the major).
        let version = if self.os.id == "debian"
            && self
                .os
                .debian_version
                .starts_with(|c: char| c.is_ascii_digit())
        {
            self.os.debian_version.clone()
        } else {
            self.os.version.clone()
        };
        let major = version.split('.').next().unwrap_or("").to_string();
        let minor = version.split('.').nth(1).unwrap_or("").to_string();
        let mut f = Vars::new();
        let mut put = |k: &str, v: Json| {
            f.insert(k.to_string(), v);
        };
        put("hostname", json!(self.hostname));
        put("nodename", json!(self.hostname));
        put("fqdn", json!(self.fqdn));
        put(
            "domain",
            json!(self.fqdn.split_once('.').map(|(_, d)| d).unwrap_or("")),
        );
        put("distribution", json!(distribution(&self.os.id)));
        put("distribution_version", json!(version));
        put("distribution_major_version", json!(major));
        put("distribution_minor_version", json!(minor));
        put("distribution_release", json!(self.os.codename));
        put("os_family", json!(os_family(&self.os.id, &self.os.id_like)));
        put("system", json!("Linux"));
        put("kernel", json!(self.kernel));
        put("architecture", json!(self.architecture));
        put("machine", json!(self.architecture));
        put("processor_count", json!(self.cpus));
        put("processor_cores", json!(self.cpus));
        put("processor_vcpus", json!(self.cpus));
        put("memtotal_mb", json!(mb(self.memory.total_kb)));
        put("memfree_mb", json!(mb(self.memory.available_kb)));
        put("swaptotal_mb", json!(mb(self.memory.swap_total_kb)));
        put("swapfree_mb", json!(mb(self.memory.swap_free_kb)));
        put(
            "memory_mb",
            json!({
                "real": {"total": mb(self.memory.total_kb), "free": mb(self.memory.available_kb)},
                "swap": {"total": mb(self.memory.swap_total_kb), "free": mb(self.memory.swap_free_kb)},
            }),
        );
        put("uptime_seconds", json!(self.uptime_seconds));
        put(
            "loadavg",
            json!({"1m": self.load[0], "5m": self.load[1], "15m": self.load[2]}),
        );
        put(
            "mounts",
            Json::Array(
                self.disks
                    .iter()
                    .map(|d| {
                        json!({
                            "mount": d.mount, "device": d.device, "fstype": d.fstype,
                            "size_total": d.size_kb * 1024, "size_available": d.available_kb * 1024,
                        })
                    })
                    .collect(),
            ),
        );
        let mut v4 = Vec::new();
        let mut v6 = Vec::new();
        for i in &self.interfaces {
            let mut dev = json!({"device": i.name, "active": true});
            let four: Vec<&String> = i.addresses.iter().filter(|a| !a.contains(':')).collect();
            let six: Vec<Json> = i
                .addresses
                .iter()
                .filter(|a| a.contains(':'))
                .map(|a| {
                    let (addr, prefix) = a.split_once('/').unwrap_or((a, "128"));
                    json!({"address": addr, "prefix": prefix})
                })
                .collect();
            if let Some(first) = four.first() {
                dev["ipv4"] = ipv4(first);
            }
            if !six.is_empty() {
                dev["ipv6"] = Json::Array(six);
            }
            for a in &i.addresses {
                let addr = a.split('/').next().unwrap_or(a).to_string();
                if i.name == "lo" {
                    continue;
                }
                if a.contains(':') {
                    v6.push(addr)
                } else {
                    v4.push(addr)
                }
            }
            put(&i.name.replace(['-', '.'], "_"), dev);
        }
        put(
            "interfaces",
            json!(
                self.interfaces
                    .iter()
                    .map(|i| i.name.clone())
                    .collect::<Vec<_>>()
            ),
        );
        put("all_ipv4_addresses", json!(v4));
        put("all_ipv6_addresses", json!(v6));
        let default = self.default_route.as_ref().and_then(|(dev, gw)| {
            let i = self.interfaces.iter().find(|i| &i.name == dev)?;
            let a = i.addresses.iter().find(|a| !a.contains(':'))?;
            let mut d = ipv4(a);
            d["interface"] = json!(dev);
            d["gateway"] = json!(gw);
            Some(d)
        });
        let default = default.or_else(|| {
            // No default route (the lab has none): the first non-loopback IPv4 address.
            let i = self
                .interfaces
                .iter()
                .find(|i| i.name != "lo" && i.addresses.iter().any(|a| !a.contains(':')))?;
            let a = i.addresses.iter().find(|a| !a.contains(':'))?;
            let mut d = ipv4(a);
            d["interface"] = json!(i.name);
            Some(d)
        });
        put("default_ipv4", default.unwrap_or_else(|| json!({})));
        put("env", serde_json::Value::Object(self.extra.env.clone()));
        let virt = self.extra.virtualization.as_str();
        put(
            "virtualization_type",
            json!(if virt.is_empty() { "NA" } else { virt }),
        );
        put(
            "virtualization_role",
            json!(if virt.is_empty() || virt == "none" {
                "NA"
            } else {
                "guest"
            }),
        );
        if let Some(py) = &self.extra.python {
            put("python", py.clone());
            if let Some(v) = py.get("version") {
                put(
                    "python_version",
                    json!(format!("{}.{}.{}", v["major"], v["minor"], v["micro"])),
                );
            }
        }
        put("local", serde_json::Value::Object(self.extra.local.clone()));
        if let Some(s) = &self.extra.systemd {
            put("systemd", s.clone());
        }
        put("user_id", json!(self.user));
        put("user_uid", json!(self.uid));
        let pkg = match self.pkg_mgr.as_str() {
            "apt-get" => "apt",
            "" => "unknown",
            other => other,
        };
        put("pkg_mgr", json!(pkg));
        put(
            "service_mgr",
            json!(if self.init == "systemd" {
                "systemd"
            } else {
                "sysvinit"
            }),
        );
        f
    }
}

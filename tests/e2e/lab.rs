//! The lab itself: isolated hosts (no route out), own host keys, packages from the local repo.

use crate::support::*;

#[test]
fn hosts_have_no_route_out_and_distinct_host_keys() {
    let routes = on_host("lab1", "ip -4 route show default | wc -l; ip -4 route show");
    assert!(routes.contains("lab1 | CHANGED"), "{routes}");
    let body: Vec<&str> = routes.lines().skip(1).collect();
    assert_eq!(body[0], "0", "no default route: {routes}");
    assert!(
        body[1..].iter().all(|r| r.starts_with("10.77.0.0/24")),
        "only the lab bridge: {routes}"
    );
    let kh = std::fs::read_to_string(lab_state().join("known_hosts")).unwrap();
    let keys: std::collections::HashSet<&str> = kh
        .lines()
        .filter_map(|l| l.split_whitespace().nth(2))
        .collect();
    assert_eq!(keys.len(), kh.lines().count(), "every host has its own key");
}

#[test]
fn packages_install_from_the_local_repository() {
    // tests/run.sh brings the lab up with `--packages tree`.
    let out = on_host(
        "lab2",
        "DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=120 -q update >/dev/null && apt-get -o DPkg::Lock::Timeout=120 install -y -q tree >/dev/null && tree --version",
    );
    assert!(out.contains("tree v"), "{out}");
}

//! The HA playbooks on a broken inventory: one clear error from the controller before any host
//! is touched (the hosts in these inventories do not even exist).

use super::hoist;

fn project(path: &str) -> String {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .join(path)
        .to_string_lossy()
        .into_owned()
}

/// inventory/lab-ha.yml with `edit` applied, in a scratch directory.
fn broken_inventory(edit: impl Fn(&str) -> String) -> (tempfile::TempDir, String) {
    let text = std::fs::read_to_string(project("inventory/lab-ha.yml")).unwrap();
    let edited = edit(&text);
    assert_ne!(edited, text, "the edit applies");
    let d = tempfile::tempdir().unwrap();
    let p = d.path().join("ha.yml");
    std::fs::write(&p, edited).unwrap();
    let s = p.to_string_lossy().into_owned();
    (d, s)
}

fn run_site(inventory: &str, secrets: &std::path::Path) -> super::Run {
    let site = project("playbooks/site.yml");
    let var = format!("ha_secrets_dir={}", secrets.display());
    hoist(&["run", &site, "-i", inventory, "-e", &var, "-o", "json"])
}

fn touched_hosts(stdout: &str) -> Vec<String> {
    stdout
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter(|e| e["event"] == "host_result")
        .filter_map(|e| e["host"].as_str().map(str::to_string))
        .filter(|h| h != "localhost")
        .collect()
}

#[test]
fn a_missing_group_stops_before_any_host() {
    let (d, inv) = broken_inventory(|t| {
        let i = t.find("    backup:\n").unwrap();
        t[..i].to_string()
    });
    let r = run_site(&inv, &d.path().join("secrets"));
    assert_eq!(r.code, 2, "{}{}", r.stdout, r.stderr);
    assert!(
        r.stdout.contains("inventory: group `backup` needs at least 1 host(s) (backups are copied off-node); it has 0"),
        "{}",
        r.stdout
    );
    assert_eq!(touched_hosts(&r.stdout), Vec::<String>::new());
    assert!(
        !d.path().join("secrets").exists(),
        "nothing was made either"
    );
}

#[test]
fn a_missing_variable_stops_before_any_host() {
    // The static check warns before anything runs, naming where the variable is needed (as in
    // ansible-core, an undefined variable is an error only where a task meets it); the
    // preflight then stops the run on the controller, before any host is touched.
    let (d, inv) = broken_inventory(|t| t.replace("    ha_vip: 10.77.0.100\n", ""));
    let r = run_site(&inv, &d.path().join("secrets"));
    assert_eq!(r.code, 2, "{}{}", r.stdout, r.stderr);
    let warned = r.stdout.lines().any(|l| {
        l.contains("\"event\":\"warning\"")
            && l.contains("uses the undefined variable `ha_vip`")
            && l.contains(".yml:")
    });
    assert!(warned, "a warning names ha_vip and where: {}", r.stdout);
    assert!(
        r.stdout
            .contains("inventory: variable `ha_vip` must be set for group `balancers`"),
        "{}",
        r.stdout
    );
    assert_eq!(touched_hosts(&r.stdout), Vec::<String>::new());
    assert!(
        !d.path().join("secrets").exists(),
        "nothing was made either"
    );
}

#[test]
fn a_vip_outside_the_network_is_refused() {
    let (d, inv) = broken_inventory(|t| t.replace("ha_vip: 10.77.0.100", "ha_vip: 10.99.0.100"));
    let r = run_site(&inv, &d.path().join("secrets"));
    assert_eq!(r.code, 2, "{}{}", r.stdout, r.stderr);
    assert!(
        r.stdout.contains("ha_vip must be an address inside"),
        "{}",
        r.stdout
    );
    assert_eq!(touched_hosts(&r.stdout), Vec::<String>::new());
}

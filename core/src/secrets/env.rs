//! The environment backend: `HOIST_SECRET_<NAME>` (upper case, `-` and `.` as `_`), read-only,
//! consulted before any store so CI can inject secrets without a keyring.

/// The variable that overrides secret `name`.
pub fn env_name(name: &str) -> String {
    let mut s = String::from("HOIST_SECRET_");
    s.extend(name.chars().map(|c| match c {
        '-' | '.' => '_',
        c => c.to_ascii_uppercase(),
    }));
    s
}

/// The value from the environment, if set and not empty.
pub fn get(name: &str) -> Option<String> {
    std::env::var(env_name(name)).ok().filter(|v| !v.is_empty())
}

/// Every `HOIST_SECRET_*` variable (names only), for `hoist secret backend|list`.
pub fn env_overrides() -> Vec<String> {
    let mut v: Vec<String> = std::env::vars_os()
        .filter_map(|(k, _)| k.into_string().ok())
        .filter(|k| k.starts_with("HOIST_SECRET_") && !RESERVED.contains(&k.as_str()))
        .collect();
    v.sort();
    v
}

/// Settings that share the prefix but are not secrets.
pub const RESERVED: [&str; 4] = [
    "HOIST_SECRET_BACKEND",
    "HOIST_SECRET_FILE",
    "HOIST_SECRET_PASSPHRASE",
    "HOIST_SECRET_PASSPHRASE_FILE",
];

/// Remembers every override value for redaction (they may show up in a local command's output
/// even when no task asked for them).
pub fn remember_all() {
    for k in env_overrides() {
        if let Ok(v) = std::env::var(&k) {
            super::remember(&v);
        }
    }
    for k in ["HOIST_SECRET_PASSPHRASE", "HOIST_SSH_KEY_PASSPHRASE"] {
        if let Ok(v) = std::env::var(k) {
            super::remember(&v);
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn names() {
        assert_eq!(
            super::env_name("db-password.prod"),
            "HOIST_SECRET_DB_PASSWORD_PROD"
        );
    }
}

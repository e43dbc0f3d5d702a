//! Which keys are task, block and play keywords (everything else on a task names its module),
//! and the ones hoist knows but does not run (a clear error instead of a silent ignore).

/// Keywords valid on tasks, handlers, blocks and includes (besides the module key).
pub const TASK: &[&str] = &[
    "name",
    "action",
    "local_action",
    "args",
    "become",
    "become_user",
    "become_method",
    "changed_when",
    "check_mode",
    "delay",
    "delegate_facts",
    "delegate_to",
    "diff",
    "environment",
    "failed_when",
    "ignore_errors",
    "ignore_unreachable",
    "loop",
    "loop_control",
    "no_log",
    "notify",
    "register",
    "remote_user",
    "retries",
    "run_once",
    "tags",
    "until",
    "vars",
    "when",
    "listen",
    "any_errors_fatal",
    "become_flags",
    "collections",
    "debugger",
    "throttle",
    "timeout",
    "async",
    "poll",
    "connection",
    "module_defaults",
    "port",
];

/// Keywords valid on blocks.
pub const BLOCK: &[&str] = &[
    "block",
    "rescue",
    "always",
    "name",
    "when",
    "tags",
    "become",
    "become_user",
    "become_method",
    "connection",
    "environment",
    "vars",
    "ignore_errors",
    "ignore_unreachable",
    "delegate_to",
    "run_once",
    "no_log",
    "check_mode",
    "diff",
    "any_errors_fatal",
    "remote_user",
    "collections",
    "debugger",
    "throttle",
    "timeout",
    "module_defaults",
    "notify",
];

/// Keywords valid on plays.
pub const PLAY: &[&str] = &[
    "name",
    "hosts",
    "gather_facts",
    "gather_subset",
    "gather_timeout",
    "vars",
    "vars_files",
    "roles",
    "pre_tasks",
    "tasks",
    "post_tasks",
    "handlers",
    "become",
    "become_user",
    "become_method",
    "strategy",
    "serial",
    "max_fail_percentage",
    "any_errors_fatal",
    "ignore_errors",
    "ignore_unreachable",
    "tags",
    "environment",
    "check_mode",
    "diff",
    "force_handlers",
    "remote_user",
    "no_log",
    "run_once",
    "collections",
    "order",
    "connection",
    "module_defaults",
    "debugger",
    "throttle",
    "timeout",
    "vars_prompt",
    "fact_path",
    "port",
];

/// Keywords hoist refuses, with the reason.
pub fn unsupported(key: &str) -> Option<&'static str> {
    Some(match key {
        "vars_prompt" => "hoist runs non-interactively; pass the value with `-e name=value`",
        _ => return None,
    })
}

/// The module name without `ansible.builtin.` / `ansible.legacy.` / `ansible.posix.` prefixes.
pub fn module_name(key: &str) -> &str {
    for prefix in [
        "ansible.builtin.",
        "ansible.legacy.",
        "ansible.posix.",
        "community.general.",
    ] {
        if let Some(rest) = key.strip_prefix(prefix) {
            return rest;
        }
    }
    key
}

/// The closest candidate to `word` (for "did you mean" hints), if any is close.
pub fn closest<'a>(word: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    candidates
        .into_iter()
        .map(|c| (distance(word, c), c))
        .filter(|(d, c)| *d <= (c.len().max(word.len()) / 3).max(1))
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c)
}

/// Edit distance counting a swap of two neighbours as one edit (optimal string alignment).
fn distance(a: &str, b: &str) -> usize {
    let (a, b): (Vec<char>, Vec<char>) = (a.chars().collect(), b.chars().collect());
    let mut d = vec![vec![0usize; b.len() + 1]; a.len() + 1];
    for (i, row) in d.iter_mut().enumerate() {
        row[0] = i;
    }
    for (j, cell) in d[0].iter_mut().enumerate() {
        *cell = j;
    }
    for i in 1..=a.len() {
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            d[i][j] = (d[i - 1][j] + 1)
                .min(d[i][j - 1] + 1)
                .min(d[i - 1][j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                d[i][j] = d[i][j].min(d[i - 2][j - 2] + 1);
            }
        }
    }
    d[a.len()][b.len()]
}

#[cfg(test)]
mod tests {
    #[test]
    fn suggestions() {
        assert_eq!(
            super::closest("cpoy", ["copy", "command", "file"]),
            Some("copy")
        );
        assert_eq!(super::closest("zzz", ["copy", "command"]), None);
        assert_eq!(super::module_name("ansible.builtin.copy"), "copy");
    }
}

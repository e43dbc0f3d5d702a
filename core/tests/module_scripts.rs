//! What each module sends to a host for given arguments, facts and probe answers, snapshotted
//! (pyinfra-style operation tests): the scripts in order, their stdin, and the result.

#[path = "support/mock_host.rs"]
mod mock_host;

use serde_json::{Value as Json, json};

struct Case {
    module: &'static str,
    args: Json,
    /// Probe answers, in order: (exit status, stdout).
    replies: Vec<(u32, &'static str)>,
    check: bool,
    diff: bool,
}

fn case(module: &'static str, args: Json, replies: Vec<(u32, &'static str)>) -> Case {
    Case {
        module,
        args,
        replies,
        check: false,
        diff: false,
    }
}

/// Runs the case and returns what the host saw and what the module reported.
fn run(c: Case) -> Json {
    let called = mock_host::call(c.module, &c.args, &c.replies, c.check, c.diff);
    let mut result = match called.result {
        Ok(r) => r,
        Err(e) => json!({"error": e}),
    };
    for k in ["start", "end", "delta"] {
        if let Some(m) = result.as_object_mut()
            && m.contains_key(k)
        {
            m.insert(k.into(), json!("[time]"));
        }
    }
    let sent: Vec<Json> = called
        .sent
        .iter()
        .map(|(script, stdin)| match stdin {
            Some(s) => json!({"script": script, "stdin": s}),
            None => json!(script),
        })
        .collect();
    // Controller paths differ between checkouts.
    let dir = env!("CARGO_MANIFEST_DIR");
    let shown = json!({"module": c.module, "args": c.args, "check": c.check, "sent": sent, "result": result});
    serde_json::from_str(&shown.to_string().replace(dir, "[DIR]")).unwrap()
}

const ABSENT: (u32, &str) = (0, "absent\n");

macro_rules! snap {
    ($name:ident, $case:expr) => {
        #[test]
        fn $name() {
            insta::assert_yaml_snapshot!(run($case));
        }
    };
}

snap!(
    command_with_creates_and_chdir,
    case(
        "command",
        json!({"_raw_params": "make install", "chdir": "/src", "creates": "/usr/local/bin/app"}),
        vec![(0, "built\n")]
    )
);
snap!(
    command_skipped_by_guard,
    case(
        "command",
        json!({"cmd": "make", "creates": "/x"}),
        vec![(0, "__hoist_command_skipped__")]
    )
);
snap!(
    shell_failure_is_reported,
    case(
        "shell",
        json!({"cmd": "exit 3", "executable": "/bin/bash"}),
        vec![(3, "")]
    )
);
snap!(
    command_in_check_mode_is_skipped,
    Case {
        check: true,
        ..case("command", json!({"cmd": "rm -rf /tmp/x"}), vec![])
    }
);
snap!(
    copy_content_new_file,
    case(
        "copy",
        json!({"content": "a=1\n", "dest": "/etc/app.conf", "mode": "0640", "owner": "app"}),
        vec![ABSENT]
    )
);
snap!(
    copy_content_unchanged,
    case(
        "copy",
        json!({"content": "a=1\n", "dest": "/etc/app.conf"}),
        vec![(
            0,
            "regular file|644|root|root|0|0|4|1700000000\n\n9dc9cfd3b38b77561ec22b49a723432e26181003  /etc/app.conf\n"
        )]
    )
);
snap!(
    copy_src_in_check_mode_with_diff,
    Case {
        check: true,
        diff: true,
        ..case(
            "copy",
            json!({"src": "hello.txt", "dest": "/etc/motd"}),
            vec![
                (0, "regular file|644|root|root|0|0|3|1700000000\n\nabc\n"),
                (0, "old\n")
            ]
        )
    }
);
snap!(
    template_renders_on_the_controller,
    case(
        "template",
        json!({"src": "app.j2", "dest": "/etc/app.conf"}),
        vec![ABSENT, ABSENT]
    )
);
snap!(
    file_directory_created,
    case(
        "file",
        json!({"path": "/srv/data", "state": "directory", "mode": "0750", "owner": "app"}),
        vec![ABSENT, (0, "directory|750|root|root|0|0|4096|1\n\n\n")]
    )
);
snap!(
    file_mode_only_changes_what_differs,
    case(
        "file",
        json!({"path": "/srv/data", "mode": "u=rwx,g=rx,o="}),
        vec![(0, "directory|755|root|root|0|0|4096|1\n\n\n")]
    )
);
snap!(
    file_link,
    case(
        "file",
        json!({"src": "/etc/app/v2.conf", "dest": "/etc/app.conf", "state": "link"}),
        vec![
            (
                0,
                "symbolic link|777|root|root|0|0|15|1\n/etc/app/v1.conf\n\n"
            ),
            // The link probe: a link to v1, v2 exists.
            (0, "link\0/etc/app/v1.conf\n\0yes\0no\0no"),
            (0, ""),
            (0, ""),
            (
                0,
                "symbolic link|777|root|root|0|0|15|1\n/etc/app/v2.conf\n\n"
            ),
        ]
    )
);
snap!(
    file_absent,
    case(
        "file",
        json!({"path": "/tmp/junk", "state": "absent"}),
        vec![(0, "regular file|644|root|root|0|0|1|1\n\n\n")]
    )
);
snap!(
    lineinfile_replaces_a_line,
    Case {
        diff: true,
        ..case(
            "lineinfile",
            json!({"path": "/etc/ssh/sshd_config", "regexp": "^#?PermitRootLogin", "line": "PermitRootLogin no"}),
            vec![(
                0,
                "regular file|644|root|root|0|0|40|1\n\n\n__HOIST_CONTENT__\nPort 22\n#PermitRootLogin yes\n"
            )]
        )
    }
);
snap!(
    blockinfile_inserts,
    case(
        "blockinfile",
        json!({"path": "/etc/hosts", "block": "10.0.0.1 db"}),
        vec![(
            0,
            "regular file|644|root|root|0|0|20|1\n\n\n__HOIST_CONTENT__\n127.0.0.1 localhost\n"
        )]
    )
);
snap!(
    replace_counts,
    case(
        "replace",
        json!({"path": "/etc/app.conf", "regexp": "^debug=.*$", "replace": "debug=false"}),
        vec![(
            0,
            "regular file|644|root|root|0|0|20|1\n\n\n__HOIST_CONTENT__\ndebug=true\nx=1\n"
        )]
    )
);
snap!(
    stat_reports,
    case(
        "stat",
        json!({"path": "/etc/passwd"}),
        vec![(
            0,
            "/etc/passwd\nregular file|644|root|root|0|0|1200|1700000000.250000000|1700000000.000000000|1700000001.000000000|2049|131|1|8|4096|0|0\n\n\nrw\nda39a3ee5e6b4b0d3255bfef95601890afd80709\ntext/plain; charset=us-ascii\n   42 --------------e------- /etc/passwd\n"
        )]
    )
);
snap!(
    apt_installs_only_what_is_missing,
    case(
        "apt",
        json!({"name": ["nginx", "curl"], "state": "present"}),
        vec![(0, "curl\tinstall ok installed\t7.88\n"), (0, "")]
    )
);
snap!(
    apt_in_check_mode,
    Case {
        check: true,
        ..case("package", json!({"name": "nginx"}), vec![(0, "")])
    }
);
snap!(
    systemd_starts_and_enables,
    case(
        "systemd",
        json!({"name": "nginx", "state": "started", "enabled": true, "daemon_reload": true}),
        vec![
            (0, ""),
            (
                0,
                "LoadState=loaded\nActiveState=inactive\nUnitFileState=disabled\n"
            )
        ]
    )
);
snap!(
    service_already_running,
    case(
        "service",
        json!({"name": "nginx", "state": "started", "enabled": true}),
        vec![(
            0,
            "LoadState=loaded\nActiveState=active\nUnitFileState=enabled\n"
        )]
    )
);
snap!(
    user_created,
    case(
        "user",
        json!({"name": "deploy", "groups": ["sudo"], "shell": "/bin/bash", "password": "$6$salt$hash"}),
        vec![
            (0, ""),
            (0, ""),
            (
                0,
                "deploy:x:1001:1001::/home/deploy:/bin/bash\n--\ndeploy\n--\ndeploy sudo\n--\n$6$salt$hash\n"
            )
        ]
    )
);
snap!(
    group_gid_changed,
    case(
        "group",
        json!({"name": "app", "gid": 4000}),
        vec![(0, "app:x:3000:\n")]
    )
);
snap!(
    authorized_key_added,
    case(
        "authorized_key",
        json!({"user": "deploy", "key": "ssh-ed25519 AAAAkey deploy@laptop"}),
        vec![
            (0, "deploy:x:1001:1001::/home/deploy:/bin/bash\n"),
            (0, ""),
            ABSENT,
            ABSENT
        ]
    )
);
snap!(
    cron_entry,
    case(
        "cron",
        json!({"name": "backup", "minute": "0", "hour": "3", "job": "/usr/local/bin/backup"}),
        vec![(0, "MAILTO=ops\n")]
    )
);
snap!(
    sysctl_set,
    case(
        "sysctl",
        json!({"name": "vm.swappiness", "value": "10", "sysctl_set": true}),
        vec![(0, "vm.swappiness=60\n"), (0, "60\n")]
    )
);
snap!(
    wait_for_port,
    case(
        "wait_for",
        json!({"port": 5432, "host": "10.0.0.5", "timeout": 30}),
        vec![(0, "2\n")]
    )
);
snap!(
    uri_get,
    case(
        "uri",
        json!({"url": "http://127.0.0.1:8080/health", "status_code": [200, 204]}),
        vec![(
            0,
            "{\"ok\":true}\n__hoist_uri__200 application/json http://127.0.0.1:8080/health"
        )]
    )
);
snap!(
    setup_parses_facts,
    case(
        "setup",
        json!({"filter": ["distribution*"]}),
        vec![(
            0,
            "@@os\nID=debian\nVERSION_ID=\"12\"\nVERSION_CODENAME=bookworm\n@@end\n"
        )]
    )
);
snap!(
    debug_and_assert_need_no_host,
    case(
        "assert",
        json!({"that": ["port == 8080", "inventory_hostname is match('web')"]}),
        vec![]
    )
);
snap!(
    unknown_argument_at_run_time,
    case("file", json!({"path": "/x", "bogus": 1}), vec![])
);
snap!(
    raw_runs_as_written,
    case(
        "raw",
        json!({"_raw_params": "uptime | cut -d, -f1"}),
        vec![(0, " 10:00:00 up 1 day\n")]
    )
);
snap!(
    fetch_missing_file_is_skipped,
    case(
        "fetch",
        json!({"src": "/var/log/none", "dest": "/tmp/fetched", "fail_on_missing": false}),
        vec![ABSENT]
    )
);
// The file is there with the right checksum: nothing is downloaded (the URL is never fetched).
snap!(
    get_url_keeps_a_matching_file,
    case(
        "get_url",
        json!({"url": "http://10.0.0.1/app.tgz", "dest": "/opt/app.tgz", "checksum": "sha256:abc"}),
        vec![
            (0, "regular file|644|root|root|0|0|3|1\n\n\n"),
            (0, "abc\n")
        ]
    )
);
snap!(
    unarchive_guarded_by_creates,
    case(
        "unarchive",
        json!({"src": "/tmp/app.tgz", "dest": "/opt/app", "remote_src": true, "creates": "/opt/app/bin"}),
        vec![(0, "directory|755|root|root|0|0|4096|1\n\n\n")]
    )
);
snap!(debug_var, case("debug", json!({"var": "port"}), vec![]));
snap!(
    set_fact_sets,
    case(
        "set_fact",
        json!({"release": "2.4", "cacheable": true}),
        vec![]
    )
);
snap!(fail_reports, case("fail", json!({"msg": "stop"}), vec![]));
snap!(
    meta_flush,
    case("meta", json!({"_raw_params": "flush_handlers"}), vec![])
);
snap!(pause_zero, case("pause", json!({"seconds": 0}), vec![]));
snap!(
    include_vars_reads_the_file,
    case(
        "include_vars",
        json!({"file": "extra.yml", "name": "extra"}),
        vec![]
    )
);
snap!(ping_answers, case("ping", json!({}), vec![]));
snap!(
    blockinfile_absent_file_is_left_alone,
    case(
        "blockinfile",
        json!({"path": "/etc/none", "state": "absent"}),
        vec![ABSENT]
    )
);
snap!(
    async_status_of_a_running_job,
    case(
        "async_status",
        json!({"jid": "j123456789012.4242"}),
        vec![(0, "running\n")]
    )
);
snap!(
    async_status_of_a_finished_job,
    case(
        "async_status",
        json!({"jid": "j123456789012.4242"}),
        vec![
            (0, "0 1700000000.250000000 1700000002.500000000\n"),
            (0, "600\napt-get -y dist-upgrade"),
            (0, "Reading package lists...\nDone\n"),
            (0, "W: a warning\n"),
        ]
    )
);
snap!(
    async_status_of_a_job_stopped_at_its_limit,
    case(
        "async_status",
        json!({"jid": "j123456789012.4242"}),
        vec![
            (0, "124 1700000000.0 1700000030.0\n"),
            (0, "30\nsleep 100"),
            (0, ""),
            (0, ""),
        ]
    )
);
snap!(
    async_status_cleanup,
    case(
        "async_status",
        json!({"jid": "j123456789012.4242", "mode": "cleanup"}),
        vec![(0, "/root/.ansible_async/j123456789012.4242")]
    )
);
snap!(
    async_status_refuses_a_path_as_job_id,
    case("async_status", json!({"jid": "../../etc/passwd"}), vec![])
);

//! Playbooks on the controller itself (`connection: local`): engine behaviour that needs no lab.

use super::vault::{run_in, run_in_env};

#[test]
fn templated_module_names_are_decided_per_host() {
    let d = tempfile::tempdir().unwrap();
    std::fs::write(
        d.path().join("inv.yml"),
        "all:\n  hosts:\n    a: {ansible_connection: local, m: debug}\n    b: {ansible_connection: local, m: ping}\n",
    )
    .unwrap();
    std::fs::write(
        d.path().join("pb.yml"),
        "- hosts: all\n  gather_facts: false\n  tasks:\n    - action:\n        module: '{{ m }}'\n      register: out\n    - assert: {that: [\"'msg' in out\"]}\n      when: m == 'debug'\n    - assert: {that: [\"out.ping == 'pong'\"]}\n      when: m == 'ping'\n    - action: \"{{ 'nosuchmodule' }}\"\n      ignore_errors: true\n      register: bad\n    - assert: {that: [\"bad is failed\", \"bad.msg is contains \\\"couldn't resolve module/action 'nosuchmodule'\\\"\"]}\n",
    )
    .unwrap();
    let r = run_in(d.path(), &["run", "pb.yml", "-i", "inv.yml"]);
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
}

#[test]
fn a_comma_separated_inventory_is_a_host_list() {
    let d = tempfile::tempdir().unwrap();
    std::fs::write(
        d.path().join("pb.yml"),
        "- hosts: all\n  gather_facts: false\n  connection: local\n  tasks:\n    - assert: {that: [\"groups['ungrouped'] == ['web1', 'web2']\", \"hostvars['web2'].ansible_port == 2222\"]}\n",
    )
    .unwrap();
    let r = run_in(d.path(), &["run", "pb.yml", "-i", "web1,web2:2222,"]);
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    assert!(
        r.stdout.contains("web1") && r.stdout.contains("web2"),
        "{}",
        r.stdout
    );
}

#[test]
fn cleared_host_errors_do_not_fail_the_run_and_any_errors_fatal_rescues_every_host() {
    let d = tempfile::tempdir().unwrap();
    std::fs::write(
        d.path().join("pb.yml"),
        "- hosts: all\n  gather_facts: false\n  connection: local\n  tasks:\n    - block:\n        - fail: {msg: boom}\n          when: inventory_hostname == 'a'\n      always:\n        - meta: clear_host_errors\n    - assert: {that: [\"ansible_play_hosts == ['a', 'b']\"]}\n- hosts: all\n  gather_facts: false\n  connection: local\n  any_errors_fatal: true\n  tasks:\n    - block:\n        - fail: {msg: boom}\n          when: inventory_hostname == 'a'\n        - debug: {msg: SHOULD NOT HAPPEN}\n      rescue:\n        - debug: {msg: rescued}\n",
    )
    .unwrap();
    let r = run_in(
        d.path(),
        &["run", "pb.yml", "-i", "a,b", "--output", "ansible"],
    );
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    assert!(!r.stdout.contains("SHOULD NOT HAPPEN"), "{}", r.stdout);
    assert_eq!(
        r.stdout.matches("\"msg\": \"rescued\"").count()
            + r.stdout.matches("\"msg\":\"rescued\"").count(),
        2,
        "{}",
        r.stdout
    );
    assert!(
        r.stdout
            .contains("[ERROR]: Task failed: Action failed: boom"),
        "{}",
        r.stdout
    );
}

#[test]
fn the_jsonfile_fact_cache_keeps_cacheable_facts_between_runs() {
    let d = tempfile::tempdir().unwrap();
    let cache = d.path().join("cache");
    std::fs::write(
        d.path().join("inv.yml"),
        "all:\n  hosts:\n    ctl: {ansible_connection: local}\n",
    )
    .unwrap();
    std::fs::write(
        d.path().join("set.yml"),
        "- hosts: all\n  gather_facts: false\n  tasks:\n    - set_fact: {ansible_kept: yes-kept, plain_kept: 1, cacheable: true}\n    - set_fact: {not_kept: 2}\n",
    )
    .unwrap();
    std::fs::write(
        d.path().join("read.yml"),
        "- hosts: all\n  gather_facts: false\n  tasks:\n    - assert: {that: [\"ansible_kept == 'yes-kept'\", \"ansible_facts.kept == 'yes-kept'\", \"plain_kept == 1\", \"not_kept is undefined\"]}\n",
    )
    .unwrap();
    std::fs::write(
        d.path().join("flushed.yml"),
        "- hosts: all\n  gather_facts: false\n  tasks:\n    - assert: {that: [\"ansible_kept is undefined\", \"plain_kept is undefined\"]}\n",
    )
    .unwrap();
    let dir = cache.display().to_string();
    let env = [
        ("ANSIBLE_CACHE_PLUGIN", "jsonfile"),
        ("ANSIBLE_CACHE_PLUGIN_CONNECTION", dir.as_str()),
        ("ANSIBLE_CACHE_PLUGIN_PREFIX", "prefix_"),
    ];
    for (book, extra) in [
        ("set.yml", None),
        ("read.yml", None),
        ("flushed.yml", Some("--flush-cache")),
    ] {
        let mut args = vec!["run", book, "-i", "inv.yml"];
        args.extend(extra);
        let r = run_in_env(d.path(), &args, &env);
        assert_eq!(r.code, 0, "{book}: {}{}", r.stdout, r.stderr);
        if book == "set.yml" {
            let files: Vec<String> = std::fs::read_dir(&cache)
                .unwrap()
                .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
                .collect();
            assert_eq!(files, vec!["prefix_ctl".to_string()]);
        }
    }
    // Without the cache configured nothing is remembered.
    let r = run_in(d.path(), &["run", "set.yml", "-i", "inv.yml"]);
    assert_eq!(r.code, 0);
    let r = run_in(d.path(), &["run", "flushed.yml", "-i", "inv.yml"]);
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
}

#[test]
fn conditionals_trust_and_configuration_as_ansible_core() {
    let d = tempfile::tempdir().unwrap();
    std::fs::write(
        d.path().join("inv.yml"),
        "all:\n  hosts:\n    ctl: {ansible_connection: local}\n",
    )
    .unwrap();
    std::fs::write(
        d.path().join("pb.yml"),
        r#"- hosts: all
  gather_facts: false
  vars:
    my_args: {that: 1 == 1}
    with_unsafe: [true, !unsafe 1 == 0]
  tasks:
    - name: an unsafe conditional loads and fails where it runs
      debug: {msg: never}
      when: !unsafe 1 == 1
      ignore_errors: true
      register: unsafe_when
    - name: arguments as one operator-written variable
      assert: '{{ my_args }}'
    - name: an expression computed by a template is not evaluated
      assert: {that: "{{ '1 == 1' }}"}
      ignore_errors: true
      register: computed
    - name: an unsafe item of a variable is not evaluated
      assert: {that: '{{ with_unsafe }}'}
      ignore_errors: true
      register: unsafe_item
    - name: a conditional wholly a template
      assert: {that: '{{ true }}'}
      register: templated
    - name: args inside action
      action: {module: assert, args: {that: ['"{{ ''hi'' }}" == "hi"']}}
    - name: templates inside string literals are values
      assert: {that: ["'{{ inventory_hostname }}/x' == 'ctl/x'"]}
    - name: a template outside a literal is not evaluated
      assert: {that: ["{{ 'tru' }}e and true"]}
      ignore_errors: true
      register: meta
    - assert:
        that:
          - unsafe_when is failed
          - unsafe_when.msg is contains 'untrusted template or expression'
          - computed is failed
          - computed.msg is contains 'untrusted template or expression'
          - unsafe_item is failed
          - meta is failed
          - meta.msg is contains 'untrusted template or expression'
          - templated.deprecations | map(attribute='msg') | select('contains', 'should not be surrounded by templating delimiters') | length == 1
          - lookup('config', 'DEFAULT_FORKS') == 5
          - lookup('config', 'ALLOW_BROKEN_CONDITIONALS') == allowed
    - name: a non-boolean conditional
      assert: {that: "'text'"}
      ignore_errors: true
      register: broken
    - assert: {that: [broken is failed != allowed]}
"#,
    )
    .unwrap();
    for (allowed, env) in [("false", "0"), ("true", "1")] {
        let r = run_in_env(
            d.path(),
            &[
                "run",
                "pb.yml",
                "-i",
                "inv.yml",
                "-e",
                &format!("{{\"allowed\": {allowed}}}"),
            ],
            &[("ANSIBLE_ALLOW_BROKEN_CONDITIONALS", env)],
        );
        assert_eq!(r.code, 0, "{allowed}: {}{}", r.stdout, r.stderr);
    }
}

#[test]
fn modules_say_what_runs_them() {
    let d = tempfile::tempdir().unwrap();
    // ansible-core on PATH (tests/run.sh installs it) gives the fallback's modules.
    let ap = std::env::var("HOIST_ANSIBLE_PLAYBOOK")
        .expect("needs ansible-core: run through tests/run.sh (it sets HOIST_ANSIBLE_PLAYBOOK)");
    let dir = std::path::Path::new(&ap)
        .parent()
        .unwrap()
        .display()
        .to_string();
    let path = format!("{dir}:{}", std::env::var("PATH").unwrap_or_default());
    let r = run_in_env(
        d.path(),
        &["modules", "--all", "-o", "json"],
        &[("PATH", &path)],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    let all: Vec<serde_json::Value> = serde_json::from_str(&r.stdout).unwrap();
    let kind = |name: &str| {
        all.iter()
            .find(|m| m["module"] == name)
            .map(|m| m["kind"].as_str().unwrap_or_default().to_string())
    };
    assert_eq!(kind("assemble").as_deref(), Some("native"));
    assert_eq!(kind("debug").as_deref(), Some("native"));
    assert_eq!(kind("ansible.builtin.pip").as_deref(), Some("ansible"));
    // Native modules are not listed again as Ansible's, nor task keywords as modules.
    assert_eq!(kind("ansible.builtin.copy"), None);
    assert_eq!(kind("ansible.builtin.include_tasks"), None);
    let r = run_in_env(d.path(), &["modules"], &[("PATH", &path)]);
    assert!(r.stdout.contains("hoist modules --all"), "{}", r.stdout);
}

#[test]
fn roles_check_their_argument_specs_first() {
    let d = tempfile::tempdir().unwrap();
    let role = d
        .path()
        .join("collections/ansible_collections/acme/web/roles/site");
    std::fs::create_dir_all(role.join("meta")).unwrap();
    std::fs::create_dir_all(role.join("tasks")).unwrap();
    std::fs::write(
        role.join("meta/argument_specs.yml"),
        "argument_specs:\n  main:\n    short_description: The site.\n    options:\n      port: {type: int, required: true}\n      mode: {type: str, choices: [a, b], default: a}\n      tls: {type: dict, options: {cert: {type: str, required: true}}}\n",
    )
    .unwrap();
    std::fs::write(
        role.join("tasks/main.yml"),
        "- debug: {msg: 'port {{ port }}'}\n",
    )
    .unwrap();
    std::fs::write(
        d.path().join("inv.yml"),
        "all:\n  hosts:\n    ctl: {ansible_connection: local}\n",
    )
    .unwrap();
    std::fs::write(
        d.path().join("pb.yml"),
        r#"- hosts: all
  gather_facts: false
  tasks:
    - import_role: {name: acme.web.site}
      vars: {port: "8080"}
    - block:
        - import_role: {name: acme.web.site}
          vars: {port: "http", mode: c, tls: {}}
      rescue:
        - assert:
            that:
              - ansible_failed_result.argument_errors | length == 3
              - "'missing required arguments: cert found in tls' in ansible_failed_result.argument_errors"
              - "'value of mode must be one of: a, b, got: c' in ansible_failed_result.argument_errors"
              - ansible_failed_result.argument_errors[0] is search('unable to convert to int')
              - ansible_failed_result.validate_args_context.name == 'site'
              - ansible_failed_result.msg is search('^Validation of arguments failed')
    - import_role: {name: acme.web.site, rolespec_validate: false}
      vars: {port: "http"}
"#,
    )
    .unwrap();
    let r = run_in(d.path(), &["run", "pb.yml", "-i", "inv.yml"]);
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    assert!(
        r.stdout
            .contains("Validating arguments against arg spec 'main' - The site."),
        "{}",
        r.stdout
    );
    // The check runs whatever tags are asked for (it is tagged `always`).
    let r = run_in(
        d.path(),
        &["run", "pb.yml", "-i", "inv.yml", "--tags", "nothing"],
    );
    assert!(
        r.stdout
            .contains("Validating arguments against arg spec 'main'"),
        "{}",
        r.stdout
    );
}

#[test]
fn set_stats_are_added_up_and_shown_after_the_recap() {
    let d = tempfile::tempdir().unwrap();
    std::fs::write(
        d.path().join("inv.yml"),
        "all:\n  hosts:\n    ctl: {ansible_connection: local}\n",
    )
    .unwrap();
    std::fs::write(
        d.path().join("pb.yml"),
        "- hosts: all\n  gather_facts: false\n  tasks:\n    - set_stats: {data: {deployed: 1, notes: [a], m: {x: 1}}}\n    - set_stats: {data: {deployed: 2, notes: [b], m: {y: 2}}}\n    - set_stats: {data: {last: one}, per_host: true}\n    - set_stats: {data: {last: two}, per_host: true, aggregate: false}\n    - set_stats: {data: 5}\n      ignore_errors: true\n      register: bad\n    - assert: {that: [\"bad.msg == \\\"The 'data' option needs to be a dictionary/hash\\\"\"]}\n",
    )
    .unwrap();
    let r = run_in(d.path(), &["run", "pb.yml", "-i", "inv.yml", "-o", "json"]);
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    let recap: serde_json::Value = r
        .stdout
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .find(|e| e["event"] == "recap")
        .expect("a recap");
    assert_eq!(
        recap["custom_stats"],
        serde_json::json!({"_run": {"deployed": 3, "notes": ["a", "b"], "m": {"x": 1, "y": 2}}, "ctl": {"last": "two"}})
    );
    let r = run_in_env(
        d.path(),
        &["run", "pb.yml", "-i", "inv.yml"],
        &[("ANSIBLE_SHOW_CUSTOM_STATS", "true")],
    );
    assert!(r.stdout.contains("CUSTOM STATS"), "{}", r.stdout);
    assert!(
        r.stdout.contains("\tctl: { \"last\": \"two\"}"),
        "{}",
        r.stdout
    );
}

/// `-vvv` shows each command a task starts on a host, become included (`<host> EXEC sudo
/// -H -S -n ...`, ansible-core's default sudo flags), with the script summed up and never
/// shown; become to the login user itself runs sudo only under BECOME_ALLOW_SAME_USER.
#[test]
fn vvv_shows_the_commands_hosts_run_without_their_scripts() {
    let d = tempfile::tempdir().unwrap();
    let me = std::env::var("USER").unwrap_or_else(|_| "root".into());
    std::fs::write(
        d.path().join("inv.yml"),
        format!(
            "all:\n  hosts:\n    ctl: {{ansible_connection: local, ansible_become_user: {me}}}\n"
        ),
    )
    .unwrap();
    std::fs::write(
        d.path().join("pb.yml"),
        "- hosts: all\n  gather_facts: false\n  tasks:\n    - command: echo KEEP-OUT-OF-LOGS\n      become: true\n      ignore_errors: true\n",
    )
    .unwrap();
    let plain = run_in(d.path(), &["run", "pb.yml", "-i", "inv.yml"]);
    assert_eq!(plain.code, 0, "{}{}", plain.stdout, plain.stderr);
    assert!(!plain.stdout.contains("EXEC"), "{}", plain.stdout);
    let vvv = run_in(d.path(), &["run", "pb.yml", "-i", "inv.yml", "-vvv"]);
    assert_eq!(vvv.code, 0, "{}{}", vvv.stdout, vvv.stderr);
    let exec: Vec<&str> = vvv
        .stdout
        .lines()
        .filter(|l| l.contains(" EXEC "))
        .collect();
    assert!(!exec.is_empty(), "{}", vvv.stdout);
    assert!(
        exec.iter()
            .all(|l| l.starts_with("<ctl> EXEC /bin/sh -c <script of ")),
        "{exec:?}"
    );
    assert!(
        !exec.iter().any(|l| l.contains("KEEP-OUT-OF-LOGS")),
        "{exec:?}"
    );
    let same = run_in_env(
        d.path(),
        &["run", "pb.yml", "-i", "inv.yml", "-vvv"],
        &[("ANSIBLE_BECOME_ALLOW_SAME_USER", "true")],
    );
    assert_eq!(same.code, 0, "{}{}", same.stdout, same.stderr);
    assert!(
        same.stdout
            .lines()
            .any(|l| l.starts_with("<ctl> EXEC sudo -H -S -n -u ")),
        "{}",
        same.stdout
    );
}

/// The `collections:` keyword, as ansible-core reads it: a play's short module and role names
/// are looked for in its collections (found beside the playbook, in `collections/`), then in
/// ansible-core's own; a role in a collection searches its own collection and its meta's list,
/// not the play's; a name that is not a collection is refused where it is written.
#[test]
fn collections_keyword_resolves_short_names() {
    let d = tempfile::tempdir().unwrap();
    let ap = std::env::var("HOIST_ANSIBLE_PLAYBOOK")
        .expect("needs ansible-core: run through tests/run.sh (it sets HOIST_ANSIBLE_PLAYBOOK)");
    let python = std::path::Path::new(&ap).with_file_name("python");
    let python = python.display().to_string();
    let coll = d.path().join("collections/ansible_collections/acme/tools");
    for dir in [
        "plugins/modules",
        "roles/greeter/tasks",
        "roles/greeter/meta",
    ] {
        std::fs::create_dir_all(coll.join(dir)).unwrap();
    }
    std::fs::write(
        coll.join("galaxy.yml"),
        "namespace: acme\nname: tools\nversion: 1.0.0\n",
    )
    .unwrap();
    std::fs::write(
        coll.join("plugins/modules/greet.py"),
        "#!/usr/bin/python\nfrom ansible.module_utils.basic import AnsibleModule\n\n\ndef main():\n    m = AnsibleModule(argument_spec=dict(name=dict(type='str', required=True)))\n    m.exit_json(changed=False, greeting='hello ' + m.params['name'])\n\n\nif __name__ == '__main__':\n    main()\n",
    )
    .unwrap();
    // Inside the collection's own role, the short name finds the collection's module.
    std::fs::write(
        coll.join("roles/greeter/tasks/main.yml"),
        "- greet: {name: role}\n  register: from_role\n- assert: {that: [\"from_role.greeting == 'hello role'\"]}\n",
    )
    .unwrap();
    std::fs::write(
        coll.join("roles/greeter/meta/main.yml"),
        "dependencies: []\n",
    )
    .unwrap();
    std::fs::write(
        d.path().join("inv.yml"),
        "all:\n  hosts:\n    ctl: {ansible_connection: local, ansible_python_interpreter: python3}\n",
    )
    .unwrap();
    std::fs::write(
        d.path().join("pb.yml"),
        r#"- hosts: all
  gather_facts: false
  tasks:
    - greet: {name: play}
      register: out
    - assert: {that: ["out.greeting == 'hello play'"]}
    - ping:
    - include_role: {name: greeter}
  collections:
    - acme.tools
  roles:
    - greeter
"#,
    )
    .unwrap();
    let env = [("HOIST_ANSIBLE_PYTHON", python.as_str())];
    let r = run_in_env(d.path(), &["run", "pb.yml", "-i", "inv.yml"], &env);
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    // Without the keyword the short name means nothing.
    std::fs::write(
        d.path().join("bare.yml"),
        "- hosts: all\n  gather_facts: false\n  tasks:\n    - greet: {name: play}\n",
    )
    .unwrap();
    let r = run_in_env(d.path(), &["run", "bare.yml", "-i", "inv.yml"], &env);
    assert_ne!(r.code, 0, "{}", r.stdout);
    assert!(r.stderr.contains("`greet`"), "{}", r.stderr);
    std::fs::write(
        d.path().join("bad.yml"),
        "- hosts: all\n  collections: [acme]\n  tasks: []\n",
    )
    .unwrap();
    let r = run_in_env(d.path(), &["run", "bad.yml", "-i", "inv.yml"], &env);
    assert_ne!(r.code, 0);
    assert!(
        r.stderr.contains("bad.yml:2:17") && r.stderr.contains("expected namespace.collection"),
        "{}",
        r.stderr
    );
}

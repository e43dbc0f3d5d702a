//! Bad playbooks are refused before anything runs, with file:line:column, a caret snippet and
//! a hint; exit code 5.

use super::{Run, hoist};
use std::path::Path;

fn check(files: &[(&str, &str)]) -> (tempfile::TempDir, Run) {
    let d = tempfile::tempdir().unwrap();
    for (name, text) in files {
        let p = d.path().join(name);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(&p, text).unwrap();
    }
    let pb = d.path().join(files[0].0);
    let r = hoist(&["check-syntax", pb.to_str().unwrap()]);
    (d, r)
}

/// The error with the temp directory replaced, for snapshots.
fn shown(d: &Path, r: &Run) -> String {
    assert_eq!(r.code, 5, "bad input exits 5: {}", r.stderr);
    r.stderr.replace(&d.display().to_string(), "[DIR]")
}

const HEAD: &str = "- hosts: all\n  tasks:\n";

#[test]
fn yaml_syntax_error() {
    let (d, r) = check(&[(
        "pb.yml",
        &format!("{HEAD}    - name: x\n      command: [unclosed\n    - debug: {{}}\n"),
    )]);
    let e = shown(d.path(), &r);
    assert!(e.contains("[DIR]/pb.yml:5:"), "{e}");
    assert!(e.contains("invalid YAML"), "{e}");
}

#[test]
fn unknown_module_with_suggestion() {
    let (d, r) = check(&[(
        "pb.yml",
        &format!("{HEAD}    - name: x\n      cpoy: {{dest: /x, content: y}}\n"),
    )]);
    insta::assert_snapshot!(shown(d.path(), &r));
}

#[test]
fn unknown_argument_points_at_it() {
    let (d, r) = check(&[(
        "pb.yml",
        &format!("{HEAD}    - copy:\n        dest: /x\n        contnet: y\n"),
    )]);
    insta::assert_snapshot!(shown(d.path(), &r));
}

#[test]
fn wrong_argument_type() {
    let (d, r) = check(&[(
        "pb.yml",
        &format!("{HEAD}    - file: {{path: /x, state: directory, recurse: maybe}}\n"),
    )]);
    let e = shown(d.path(), &r);
    assert!(e.contains("[DIR]/pb.yml:3:42"), "{e}");
    assert!(
        e.contains("argument `recurse`: `maybe` is not a boolean"),
        "{e}"
    );
}

#[test]
fn missing_required_argument() {
    let (d, r) = check(&[("pb.yml", &format!("{HEAD}    - copy: {{content: y}}\n"))]);
    let e = shown(d.path(), &r);
    assert!(e.contains("missing field `dest`"), "{e}");
}

#[test]
fn template_syntax_error_in_an_argument() {
    let (d, r) = check(&[(
        "pb.yml",
        &format!("{HEAD}    - debug:\n        msg: \"{{{{ foo( }}}}\"\n"),
    )]);
    let e = shown(d.path(), &r);
    assert!(e.contains("[DIR]/pb.yml:4:9"), "{e}");
    assert!(e.contains("template error"), "{e}");
}

#[test]
fn template_error_inside_a_template_file() {
    let (d, r) = check(&[
        (
            "pb.yml",
            &format!("{HEAD}    - template: {{src: app.j2, dest: /etc/app}}\n"),
        ),
        ("templates/app.j2", "line one\n{% for x in xs %}\n{{ x }}\n"),
    ]);
    let e = shown(d.path(), &r);
    assert!(e.contains("[DIR]/templates/app.j2:"), "{e}");
    assert!(e.contains("template syntax error"), "{e}");
}

#[test]
fn loop_over_a_non_list() {
    let (d, r) = check(&[(
        "pb.yml",
        &format!("{HEAD}    - debug: {{msg: x}}\n      loop: 5\n"),
    )]);
    let e = shown(d.path(), &r);
    assert!(e.contains("`loop` requires a list, got a number"), "{e}");
    assert!(e.contains("[DIR]/pb.yml:3:7"), "{e}");
}

#[test]
fn conditional_that_does_not_compile() {
    let (d, r) = check(&[(
        "pb.yml",
        &format!("{HEAD}    - debug: {{msg: x}}\n      when: x is ==\n"),
    )]);
    let e = shown(d.path(), &r);
    assert!(e.contains("`when: x is ==` does not compile"), "{e}");
}

#[test]
fn unknown_play_key_and_missing_hosts() {
    let (d, r) = check(&[("pb.yml", "- hostss: all\n  tasks: []\n")]);
    let e = shown(d.path(), &r);
    assert!(
        e.contains("[DIR]/pb.yml:1:3: 'hostss' is not a valid attribute for a Play"),
        "{e}"
    );
    assert!(e.contains("did you mean `hosts`?"), "{e}");
    let (d, r) = check(&[("pb.yml", "- name: x\n  tasks: []\n")]);
    assert!(shown(d.path(), &r).contains("a play needs `hosts:`"));
}

#[test]
fn notify_of_a_missing_handler() {
    let (d, r) = check(&[(
        "pb.yml",
        &format!(
            "{HEAD}    - command: 'true'\n      notify: restrat nginx\n  handlers:\n    - name: restart nginx\n      command: 'true'\n"
        ),
    )]);
    let e = shown(d.path(), &r);
    assert!(
        e.contains("notified handler `restrat nginx` does not exist"),
        "{e}"
    );
    assert!(e.contains("known handlers: restart nginx"), "{e}");
}

#[test]
fn a_vault_tag_on_text_that_is_not_vault_is_refused() {
    let (d, r) = check(&[(
        "pb.yml",
        "- hosts: all\n  vars:\n    pw: !vault |\n      abc\n  tasks: []\n",
    )]);
    let e = shown(d.path(), &r);
    assert!(e.contains("[DIR]/pb.yml:3:9"), "{e}");
    assert!(
        e.contains("a !vault value must be an ansible-vault text ($ANSIBLE_VAULT;...)"),
        "{e}"
    );
}

#[test]
fn a_good_playbook_passes() {
    let d = tempfile::tempdir().unwrap();
    let p = d.path().join("ok.yml");
    std::fs::write(
        &p,
        format!("{HEAD}    - debug: {{msg: \"{{{{ 1 + 1 }}}}\"}}\n      loop: [1, 2]\n"),
    )
    .unwrap();
    let r = hoist(&["check-syntax", p.to_str().unwrap()]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stdout.contains("OK (1 plays, 1 tasks)"), "{}", r.stdout);
}

#[test]
fn undefined_variable_found_before_running() {
    let d = tempfile::tempdir().unwrap();
    let pb = d.path().join("pb.yml");
    std::fs::write(
        &pb,
        "- hosts: all\n  vars:\n    port: 80\n  tasks:\n    - copy:\n        dest: /etc/app\n        content: \"{{ port }} {{ prot }}\"\n    - debug: {msg: \"{{ maybe | default(1) }}\"}\n",
    )
    .unwrap();
    let inv = super::fixture("yaml", "hosts.yml");
    let r = hoist(&["check-syntax", "-i", &inv, pb.to_str().unwrap()]);
    let e = shown(d.path(), &r);
    assert!(
        e.contains("[DIR]/pb.yml:7:9: copy: argument `content` uses the undefined variable `prot`"),
        "{e}"
    );
    // Defined with -e: fine.
    let r = hoist(&[
        "check-syntax",
        "-i",
        &inv,
        "-e",
        "prot=x",
        pb.to_str().unwrap(),
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
}

#[test]
fn async_needs_seconds_and_poll_0_needs_a_command() {
    let (d, r) = check(&[(
        "pb.yml",
        &format!(
            "{HEAD}    - copy: {{ content: x, dest: /tmp/x }}\n      async: 60\n      poll: 0\n"
        ),
    )]);
    let e = shown(d.path(), &r);
    assert!(e.contains("[DIR]/pb.yml:4:7"), "{e}");
    assert!(
        e.contains(
            "`async` with `poll: 0` runs only `command` and `shell` in the background, not `copy`"
        ),
        "{e}"
    );
    assert!(e.contains("need no `async`"), "{e}");
    let (d, r) = check(&[(
        "pb.yml",
        &format!("{HEAD}    - command: sleep 5\n      async: soon\n"),
    )]);
    let e = shown(d.path(), &r);
    assert!(e.contains("[DIR]/pb.yml:4:7"), "{e}");
    assert!(
        e.contains("`async`: expected a whole number of seconds, got `\"soon\"`"),
        "{e}"
    );
    // Templated values are decided at run time; the shapes Ansible takes pass.
    let d = tempfile::tempdir().unwrap();
    let p = d.path().join("ok.yml");
    std::fs::write(
        &p,
        format!("{HEAD}    - command: sleep 5\n      async: \"{{{{ t }}}}\"\n      poll: 0\n      register: j\n    - async_status: {{ jid: \"{{{{ j.ansible_job_id }}}}\" }}\n      register: s\n      until: s.finished\n    - stat: {{ path: / }}\n      async: 30\n      poll: 5\n"),
    )
    .unwrap();
    let r = hoist(&["check-syntax", p.to_str().unwrap()]);
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
}

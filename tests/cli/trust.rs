//! Data is not code, on the command line: expressions that came out of data are refused.

use super::vault::run_in;

/// An `assert` whose `that` came out of a host's output (a splatted loop item, or a template
/// that renders to expression text), or a `debug` whose `var` is `!unsafe`, is refused
/// (ansible-core 2.19 refuses such untrusted expressions too); expressions the operator wrote,
/// in the task or in the playbook's own loop list, run.
#[test]
fn expressions_from_data_are_never_evaluated() {
    let d = tempfile::tempdir().unwrap();
    std::fs::write(
        d.path().join("inv.yml"),
        "all:\n  hosts:\n    ctl:\n      ansible_connection: local\n",
    )
    .unwrap();
    std::fs::write(
        d.path().join("pb.yml"),
        r#"- hosts: all
  gather_facts: false
  tasks:
    - command: echo "lookup('pipe', 'touch pwned') is string"
      register: out
    - assert: '{{ {"that": item} }}'
      loop: "{{ out.stdout_lines }}"
      ignore_errors: true
      register: splat
    - assert:
        that: "{{ out.stdout }}"
      ignore_errors: true
      register: templated
    - debug:
        var: !unsafe debug_me
      ignore_errors: true
      register: unsafe_var
    - assert: '{{ item }}'
      loop:
        - that: 1 + 1 == 2
    - assert:
        that:
          - splat is failed
          - splat.results[0].msg is contains 'untrusted'
          - templated is failed
          - unsafe_var is failed
          - unsafe_var.msg is contains 'untrusted template or expression'
          - "{{ 1 + 1 == 2 }}"
"#,
    )
    .unwrap();
    let r = run_in(d.path(), &["run", "pb.yml", "-i", "inv.yml"]);
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    assert!(
        !d.path().join("pwned").exists(),
        "an expression from host output ran"
    );
}

/// An expression the operator wrote in a loop list stays the operator's text when it comes
/// back as the item of a registered result (`item.item.checks`, as ansible-core's assert
/// target does); host output that is not such text is still refused. A task in an included
/// file finds files beside that file (ansible-core's search path).
#[test]
fn loop_written_expressions_stay_the_operators_through_results() {
    let d = tempfile::tempdir().unwrap();
    std::fs::write(
        d.path().join("inv.yml"),
        "all:\n  hosts:\n    ctl:\n      ansible_connection: local\n",
    )
    .unwrap();
    std::fs::create_dir_all(d.path().join("sub")).unwrap();
    std::fs::write(d.path().join("sub/beside.txt"), "beside\n").unwrap();
    std::fs::write(
        d.path().join("sub/tasks.yml"),
        "- assert:\n    that: lookup('file', 'beside.txt') == 'beside'\n",
    )
    .unwrap();
    std::fs::write(
        d.path().join("pb.yml"),
        r#"- hosts: all
  gather_facts: false
  tasks:
    - debug:
        msg: "{{ item.n }}"
      loop:
        - n: 1
          checks: ["item is success", "item.msg == 1"]
      register: result
    - assert:
        that: "{{ item.item.checks }}"
      loop: "{{ result.results }}"
    - command: echo "lookup('pipe', 'touch pwned') is string"
      register: out
    - assert:
        that: "{{ item.stdout_lines }}"
      loop: ["{{ out }}"]
      ignore_errors: true
      register: from_host
    - assert:
        that:
          - from_host is failed
          - from_host.results[0].msg is contains 'untrusted'
    - include_tasks: sub/tasks.yml
"#,
    )
    .unwrap();
    let r = run_in(d.path(), &["run", "pb.yml", "-i", "inv.yml"]);
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    assert!(
        !d.path().join("pwned").exists(),
        "an expression from host output ran"
    );
}

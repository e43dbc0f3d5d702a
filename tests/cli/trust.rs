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

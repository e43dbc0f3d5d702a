//! Playbooks on the controller itself (`connection: local`): engine behaviour that needs no lab.

use super::vault::run_in;

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

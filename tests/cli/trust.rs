//! Data is not code, on the command line: expressions that came out of data are refused.

use super::vault::run_in;

/// Data is not code, for the expressions modules evaluate: an `assert` whose `that` came out
/// of a loop item, or a `debug` whose `var` is `!unsafe`, is refused (ansible-core 2.19 refuses
/// them as untrusted too); operator-written ones run.
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
        "- hosts: all\n  gather_facts: false\n  tasks:\n    - assert: '{{ item }}'\n      loop:\n        - that: \"lookup('pipe', 'touch pwned') is string\"\n      ignore_errors: true\n      register: splat\n    - debug:\n        var: !unsafe debug_me\n      ignore_errors: true\n      register: unsafe_var\n    - assert:\n        that:\n          - splat is failed\n          - splat.results[0].msg is contains 'untrusted'\n          - unsafe_var is failed\n          - unsafe_var.msg is contains 'untrusted template or expression'\n          - 1 + 1 == 2\n",
    )
    .unwrap();
    let r = run_in(d.path(), &["run", "pb.yml", "-i", "inv.yml"]);
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    assert!(
        !d.path().join("pwned").exists(),
        "a loop item's expression ran"
    );
}

//! Hole 1 (critical): what a host returns is data. A file on a target holding Jinja that would
//! run a command on the controller is read, registered and passed through `set_fact`,
//! `combine`, `to_json`/`from_json`, loops, `hostvars`, an include loop, delegation, `copy` and
//! `template`: the command never runs and the text arrives byte for byte. `!unsafe` text stays
//! literal even when it holds `{% endraw %}`. Operator-written variables stay templates.

use crate::sh as on_host;
use crate::support::lab_inventory;
use crate::{debug_msgs, marker, run_json};

#[test]
fn registered_results_facts_and_their_copies_are_never_rendered() {
    let mark = marker("register");
    let _ = std::fs::remove_file(&mark);
    let m = mark.display().to_string();
    // What the host's file holds: every way out of a naive renderer we know of.
    let payload = format!(
        "{{{{ lookup('pipe', 'touch {m}') }}}}{{% endraw %}}{{{{ lookup('pipe', 'touch {m}') }}}}{{% if true %}}x{{% endif %}}"
    );
    on_host(
        "lab1",
        &format!(
            "mkdir -p /srv/hoist-sec && printf '%s' {} > /srv/hoist-sec/payload",
            shell_quote(&payload)
        ),
    );
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("show.j2"), "{{ x }}|{{ literal }}\n").expect("write");
    std::fs::write(
        dir.path().join("inc.yml"),
        "- name: included\n  debug:\n    msg: \"{{ item }}|{{ idx }}\"\n",
    )
    .expect("write");
    let book = format!(
        r#"- hosts: lab1
  gather_facts: false
  vars:
    literal: !unsafe "{{{{ lookup('pipe', 'touch {m}') }}}}{{% endraw %}}{{{{ 1 + 1 }}}}"
    lazy: "{{{{ 40 + 2 }}}}"
  tasks:
    - command: cat /srv/hoist-sec/payload
      register: r
    - set_fact:
        x: "{{{{ r.stdout }}}}"
        merged: "{{{{ {{'a': r.stdout}} | combine({{'b': {{'c': [r.stdout]}}}}, recursive=true) }}}}"
        round: "{{{{ r | to_json | from_json }}}}"
    - name: plain
      debug:
        msg: "{{{{ x }}}}"
    - name: copies
      debug:
        msg: "{{{{ merged.a }}}}|{{{{ merged.b.c[0] }}}}|{{{{ round.stdout }}}}|{{{{ hostvars[inventory_hostname].x }}}}"
    - name: looped
      debug:
        msg: "{{{{ item }}}}"
      loop: ["{{{{ x }}}}", "{{{{ r.stdout_lines[0] }}}}"]
    - include_tasks: {inc}
      loop: ["{{{{ x }}}}"]
      loop_control:
        index_var: idx
    - name: delegated
      debug:
        msg: "{{{{ x }}}}"
      delegate_to: localhost
    - name: unsafe literal
      debug:
        msg: "{{{{ literal }}}}"
    - name: operator text is still templated
      debug:
        msg: "{{{{ lazy }}}}"
    - copy:
        content: "{{{{ x }}}}"
        dest: /srv/hoist-sec/copied
    - template:
        src: {tpl}
        dest: /srv/hoist-sec/templated
"#,
        inc = dir.path().join("inc.yml").display(),
        tpl = dir.path().join("show.j2").display(),
    );
    let pb = dir.path().join("book.yml");
    std::fs::write(&pb, book).expect("write");
    let inv = lab_inventory();
    let (code, events, stderr) = run_json(&[
        "-i",
        inv.to_str().unwrap_or_default(),
        pb.to_str().unwrap_or_default(),
    ]);
    assert_eq!(code, 0, "the run failed: {events:?}\n{stderr}");
    assert!(
        !mark.exists(),
        "a host's file ran a command on the controller"
    );
    assert_eq!(debug_msgs(&events, "plain"), vec![payload.clone()]);
    assert_eq!(
        debug_msgs(&events, "copies"),
        vec![format!("{payload}|{payload}|{payload}|{payload}")]
    );
    let looped = debug_msgs(&events, "looped");
    assert_eq!(looped.len(), 3, "two items and the summary? {looped:?}");
    assert!(looped.iter().take(2).all(|l| *l == payload), "{looped:?}");
    assert_eq!(
        debug_msgs(&events, "included"),
        vec![format!("{payload}|0")],
        "include loops see item and index_var as data"
    );
    assert_eq!(debug_msgs(&events, "delegated"), vec![payload.clone()]);
    let literal = format!("{{{{ lookup('pipe', 'touch {m}') }}}}{{% endraw %}}{{{{ 1 + 1 }}}}");
    assert_eq!(debug_msgs(&events, "unsafe literal"), vec![literal.clone()]);
    assert_eq!(
        debug_msgs(&events, "operator text is still templated"),
        vec!["42".to_string()]
    );
    assert_eq!(on_host("lab1", "cat /srv/hoist-sec/copied"), payload);
    assert_eq!(
        on_host("lab1", "cat /srv/hoist-sec/templated"),
        format!("{payload}|{literal}\n")
    );
    assert!(!mark.exists());
}

fn shell_quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', r"'\''"))
}

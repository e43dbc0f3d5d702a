//! ansible-vault on the command line: whole-file and inline `!vault` values decrypted with
//! `--vault-password-file` / `--vault-id`, the `vault`/`unvault` filters, and the failures
//! without a password (a file that cannot be read names itself; an inline value fails only
//! the task that uses it, as in ansible-core).

use super::Run;
use hoist_core::vault::encrypt;
use std::path::Path;
use std::process::Command;

pub(super) fn run_in(dir: &Path, args: &[&str]) -> Run {
    run_in_env(dir, args, &[])
}

/// As [`run_in`], with environment variables.
pub(super) fn run_in_env(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Run {
    let out = Command::new(env!("CARGO_BIN_EXE_hoist"))
        .args(args)
        .envs(env.iter().copied())
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .env_remove("HOIST_INVENTORY")
        .env_remove("ANSIBLE_VAULT_PASSWORD_FILE")
        .env_remove("ANSIBLE_VAULT_IDENTITY_LIST")
        .output()
        .expect("hoist runs");
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

fn indent(text: &str, by: &str) -> String {
    text.lines().map(|l| format!("{by}{l}\n")).collect()
}

fn setup(dir: &Path) {
    std::fs::write(
        dir.join("inv.yml"),
        "all:\n  hosts:\n    ctl:\n      ansible_connection: local\n",
    )
    .unwrap();
    std::fs::write(dir.join("pw"), "default-pass\n").unwrap();
    std::fs::write(dir.join("pw-dev"), "dev-pass\n").unwrap();
    let file = encrypt(b"db_password: hunter2\n", b"default-pass", "default", None);
    std::fs::write(dir.join("secret.yml"), file).unwrap();
    let inline = encrypt(b"inline-value", b"dev-pass", "dev", None);
    let play = format!(
        "- hosts: all\n  gather_facts: false\n  vars_files: [secret.yml]\n  vars:\n    inline: !vault |\n{}  tasks:\n    - assert:\n        that:\n          - db_password == 'hunter2'\n          - inline == 'inline-value'\n          - \"('x' | vault('k') | unvault('k')) == 'x'\"\n    - command: echo {{{{ inline | length }}}}\n      register: n\n    - assert: {{ that: [\"n.stdout == '12'\"] }}\n",
        indent(&inline, "      ")
    );
    std::fs::write(dir.join("pb.yml"), play).unwrap();
}

#[test]
fn vaulted_files_and_values_decrypt_with_the_given_passwords() {
    let d = tempfile::tempdir().unwrap();
    setup(d.path());
    let r = run_in(
        d.path(),
        &[
            "run",
            "pb.yml",
            "-i",
            "inv.yml",
            "--vault-password-file",
            "pw",
            "--vault-id",
            "dev@pw-dev",
        ],
    );
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
    for shown in ["hunter2", "inline-value"] {
        assert!(
            !r.stdout.contains(shown) && !r.stderr.contains(shown),
            "{shown} was printed"
        );
    }
}

#[test]
fn without_the_password_a_vault_file_names_itself() {
    let d = tempfile::tempdir().unwrap();
    setup(d.path());
    let r = run_in(d.path(), &["run", "pb.yml", "-i", "inv.yml"]);
    assert_ne!(r.code, 0);
    let all = format!("{}{}", r.stdout, r.stderr);
    assert!(all.contains("secret.yml"), "{all}");
    assert!(
        all.contains("Attempting to decrypt but no vault secrets found"),
        "{all}"
    );
}

#[test]
fn an_inline_value_without_its_password_fails_only_where_it_is_used() {
    let d = tempfile::tempdir().unwrap();
    setup(d.path());
    std::fs::write(d.path().join("secret.yml"), "db_password: hunter2\n").unwrap();
    let play = std::fs::read_to_string(d.path().join("pb.yml")).unwrap();
    let unused = play.replace("          - inline == 'inline-value'\n", "");
    let unused = unused[..unused.find("    - command:").unwrap()].to_string();
    std::fs::write(d.path().join("unused.yml"), &unused).unwrap();
    let r = run_in(
        d.path(),
        &[
            "run",
            "unused.yml",
            "-i",
            "inv.yml",
            "--vault-password-file",
            "pw",
        ],
    );
    assert_eq!(
        r.code, 0,
        "an unused vaulted value needs no password: {}{}",
        r.stdout, r.stderr
    );
    let r = run_in(
        d.path(),
        &[
            "run",
            "pb.yml",
            "-i",
            "inv.yml",
            "--vault-password-file",
            "pw",
        ],
    );
    assert_ne!(r.code, 0);
    assert!(
        r.stdout.contains("Decryption failed"),
        "{}{}",
        r.stdout,
        r.stderr
    );
}

#[test]
fn errors_in_a_decrypted_file_never_quote_it() {
    let d = tempfile::tempdir().unwrap();
    setup(d.path());
    // Not a mapping once decrypted: as vars file, group_vars file, and vaulted template.
    let bad = encrypt(
        b"db_password:\"s3cr3t-value\"\n",
        b"default-pass",
        "default",
        None,
    );
    std::fs::write(d.path().join("bad.yml"), &bad).unwrap();
    std::fs::create_dir_all(d.path().join("group_vars/all")).unwrap();
    std::fs::write(
        d.path().join("pb_bad.yml"),
        "- hosts: all\n  gather_facts: false\n  vars_files: [bad.yml]\n  tasks: [{debug: {msg: hi}}]\n",
    )
    .unwrap();
    let r = run_in(
        d.path(),
        &[
            "run",
            "pb_bad.yml",
            "-i",
            "inv.yml",
            "--vault-password-file",
            "pw",
        ],
    );
    let all = format!("{}{}", r.stdout, r.stderr);
    assert_ne!(r.code, 0, "{all}");
    assert!(all.contains("bad.yml"), "the error names the file: {all}");
    assert!(!all.contains("s3cr3t"), "the decrypted text leaked: {all}");
    std::fs::write(d.path().join("group_vars/all/bad.yml"), &bad).unwrap();
    let r = run_in(
        d.path(),
        &[
            "run",
            "pb.yml",
            "-i",
            "inv.yml",
            "--vault-password-file",
            "pw",
        ],
    );
    let all = format!("{}{}", r.stdout, r.stderr);
    assert_ne!(r.code, 0, "{all}");
    assert!(all.contains("group_vars/all/bad.yml"), "{all}");
    assert!(!all.contains("s3cr3t"), "the decrypted text leaked: {all}");
}

#[test]
fn lookups_templates_and_copy_decrypt_vaulted_files() {
    let d = tempfile::tempdir().unwrap();
    setup(d.path());
    std::fs::create_dir_all(d.path().join("templates")).unwrap();
    std::fs::create_dir_all(d.path().join("files")).unwrap();
    let tpl = encrypt(b"Hello {{ who }}!\n", b"default-pass", "default", None);
    std::fs::write(d.path().join("templates/hello.j2"), tpl).unwrap();
    let file = encrypt(b"plain bytes\n", b"default-pass", "default", None);
    std::fs::write(d.path().join("files/data.txt"), file).unwrap();
    let out = d.path().join("out");
    std::fs::write(
        d.path().join("pb_files.yml"),
        format!(
            "- hosts: all\n  gather_facts: false\n  vars: {{who: world}}\n  tasks:\n    - assert:\n        that:\n          - lookup('template', 'hello.j2') | trim == 'Hello world!'\n          - lookup('file', 'data.txt') == 'plain bytes'\n    - copy: {{src: data.txt, dest: '{0}'}}\n    - template: {{src: hello.j2, dest: '{0}.t'}}\n",
            out.display()
        ),
    )
    .unwrap();
    let r = run_in(
        d.path(),
        &[
            "run",
            "pb_files.yml",
            "-i",
            "inv.yml",
            "--vault-password-file",
            "pw",
        ],
    );
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    assert_eq!(std::fs::read_to_string(&out).unwrap(), "plain bytes\n");
    assert_eq!(
        std::fs::read_to_string(out.with_extension("t")).unwrap(),
        "Hello world!\n"
    );
}

//! Fuzzing of the parsers that read text hoist did not write: the YAML loader with positions,
//! the INI inventory parser, host patterns, known_hosts files, and the template engine's entry
//! points. Inputs are the seed corpus in `tests/fuzz/corpus/<target>/` mutated at random
//! (insertions of characters that matter to each grammar, deletions, duplications, splices of
//! two seeds), so every run starts from realistic text. Each must end (no panic, no hang) with a
//! value or an error that points inside the text. Cases per target: `PROPTEST_CASES` (CI runs
//! the default 256; `tests/fuzz.sh` runs a long one). A failure is saved by proptest under
//! `core/tests/fuzz.proptest-regressions` and replayed first on every later run.

use hoist_core::inventory::Inventory;
use hoist_core::template::{Layer, Scope, Templar};
use proptest::prelude::*;
use std::path::{Path, PathBuf};
use std::sync::Arc;

fn corpus(target: &str) -> Vec<String> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../tests/fuzz/corpus")
        .join(target);
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .filter_map(|e| e.ok().map(|e| e.path()))
        .collect();
    files.sort();
    let seeds: Vec<String> = files
        .iter()
        .filter_map(|f| std::fs::read_to_string(f).ok())
        .collect();
    assert!(!seeds.is_empty(), "no seeds in {}", dir.display());
    seeds
}

/// One edit of a text.
#[derive(Debug, Clone)]
enum Edit {
    Insert(usize, String),
    Delete(usize, usize),
    Duplicate(usize, usize),
    Splice(usize, usize),
}

/// Characters and fragments that matter to the grammars fuzzed.
const PIECES: &[&str] = &[
    "{",
    "}",
    "[",
    "]",
    ":",
    ",",
    "-",
    "&",
    "*",
    "!",
    "|",
    ">",
    "'",
    "\"",
    "\\",
    "#",
    "%",
    "@",
    "\n",
    "\t",
    " ",
    "{{",
    "}}",
    "{%",
    "%}",
    "{#",
    "#}",
    "<<",
    "---",
    "...",
    "?",
    "~",
    "=",
    "\u{0}",
    "\u{feff}",
    "é",
    "\u{10ffff}",
    "0",
    "-1",
    "99999999999999999999",
    "1e999",
    "a",
    "[web]",
    "[x:vars]",
    "[y:children]",
    ":&",
    ":!",
    "~^",
    "[0:",
    "[-1]",
    "|1|",
    "@revoked",
    "!unsafe ",
    "!vault ",
    "*a",
    "&a ",
    "for",
    "endfor",
    "if",
    "endif",
    "raw",
    "endraw",
    "set",
    "range(",
    "lookup(",
    "|upper",
    "|combine(",
    "(",
    ")",
    ".",
    "..",
    "__class__",
    "loop.",
];

fn edit() -> impl Strategy<Value = Edit> {
    prop_oneof![
        (any::<usize>(), prop::sample::select(PIECES))
            .prop_map(|(at, p)| Edit::Insert(at, p.to_string())),
        (any::<usize>(), any::<char>()).prop_map(|(at, c)| Edit::Insert(at, c.to_string())),
        (any::<usize>(), 0usize..40).prop_map(|(at, n)| Edit::Delete(at, n)),
        (any::<usize>(), 0usize..40).prop_map(|(at, n)| Edit::Duplicate(at, n)),
        (any::<usize>(), any::<usize>()).prop_map(|(a, b)| Edit::Splice(a, b)),
    ]
}

/// The nearest char boundary at or below `at % (len + 1)`.
fn boundary(s: &str, at: usize) -> usize {
    let mut i = at % (s.len() + 1);
    while !s.is_char_boundary(i) {
        i -= 1;
    }
    i
}

fn apply(seeds: &[String], seed: usize, edits: &[Edit]) -> String {
    let mut s = seeds[seed % seeds.len()].clone();
    for e in edits {
        match e {
            Edit::Insert(at, p) => {
                let i = boundary(&s, *at);
                s.insert_str(i, p);
            }
            Edit::Delete(at, n) => {
                let i = boundary(&s, *at);
                let j = boundary(&s, i + n);
                if j >= i {
                    s.replace_range(i..j, "");
                }
            }
            Edit::Duplicate(at, n) => {
                let i = boundary(&s, *at);
                let j = boundary(&s, i + n);
                if j >= i {
                    let piece = s[i..j].to_string();
                    s.insert_str(j, &piece);
                }
            }
            Edit::Splice(other, at) => {
                let o = &seeds[other % seeds.len()];
                let i = boundary(&s, *at);
                let k = boundary(o, *at);
                s = format!("{}{}", &s[..i], &o[k..]);
            }
        }
    }
    s
}

fn mutated(target: &'static str) -> impl Strategy<Value = String> {
    let seeds = corpus(target);
    (any::<usize>(), prop::collection::vec(edit(), 0..12))
        .prop_map(move |(seed, edits)| apply(&seeds, seed, &edits))
}

/// An error's line must be inside the text (or one past its end); YAML breaks lines at `\n`,
/// `\r\n` and a lone `\r`.
fn line_inside(text: &str, line: Option<usize>) -> bool {
    let breaks = text
        .replace("\r\n", "\n")
        .chars()
        .filter(|c| *c == '\n' || *c == '\r')
        .count();
    line.is_none_or(|l| l >= 1 && l <= breaks + 2)
}

proptest! {
    #![proptest_config(ProptestConfig {
        failure_persistence: Some(Box::new(proptest::test_runner::FileFailurePersistence::SourceParallel("proptest-regressions"))),
        ..ProptestConfig::default()
    })]

    #[test]
    fn yaml_loader(text in mutated("yaml")) {
        if let Err(e) = hoist_core::yaml::parse_str(Path::new("fuzz.yml"), text.clone()) {
            prop_assert!(line_inside(&text, e.pos.map(|p| p.line)), "{e:?}");
            prop_assert!(!e.message.is_empty());
        }
    }

    #[test]
    fn ini_inventory(text in mutated("ini")) {
        let d = tempfile::tempdir().expect("tempdir");
        let p = d.path().join("hosts.ini");
        std::fs::write(&p, &text).expect("write");
        if let Err(e) = Inventory::load(std::slice::from_ref(&p)) {
            prop_assert!(!e.to_string().is_empty());
        }
    }

    #[test]
    fn host_patterns(pattern in mutated("pattern")) {
        let d = tempfile::tempdir().expect("tempdir");
        let p = d.path().join("hosts.ini");
        std::fs::write(&p, corpus("ini")[0].as_bytes()).expect("write");
        let inv = Inventory::load(std::slice::from_ref(&p)).expect("the seed inventory loads");
        for line in pattern.lines().take(20) {
            let _ = inv.select(line);
        }
    }

    #[test]
    fn known_hosts(text in mutated("known_hosts")) {
        let d = tempfile::tempdir().expect("tempdir");
        let p = d.path().join("known_hosts");
        std::fs::write(&p, &text).expect("write");
        let key = russh::keys::PublicKey::from_openssh(
            "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHdzpLjim7SDKUbONltNRmPh+xkMnsJuCiMyRrzT9n2x x",
        );
        let key = key.expect("the test key parses");
        {
            for host in ["web1", "10.0.0.1", "10.0.0.7", "web2", ""] {
                let _ = hoist_core::ssh::known_hosts::check(std::slice::from_ref(&p), host, 22, &key);
                let _ = hoist_core::ssh::known_hosts::check(std::slice::from_ref(&p), host, 2222, &key);
            }
        }
    }

    #[test]
    fn templates(text in mutated("template")) {
        let t = Arc::new(Templar::new());
        let vars = serde_json::json!({"x": "a,b", "groups": {"web": ["w1"]}, "hostvars": {"w1": {"port": 1}}});
        let scope = Scope::new(
            vec![Layer::templates(Arc::new(vars.as_object().cloned().unwrap_or_default()))],
            t.clone(),
            None,
        );
        let ctx = scope.context();
        let _ = t.check_template(&text);
        let _ = t.check_template_source(&text);
        let _ = t.undeclared(&text, false);
        let _ = t.undeclared(&text, true);
        // Rendering runs lookups on the controller: only texts without `lookup`/`query` are
        // rendered (the fuzzer must not run commands), within the engine's own limits.
        if !text.contains("lookup") && !text.contains("query") && !text.contains("range") {
            let _ = t.render_str(&text, &ctx);
            let _ = t.render_string_value(&text, &ctx);
            let _ = t.condition(&text, &ctx);
        }
    }
}

#[test]
fn the_mutator_keeps_text_valid_and_reaches_every_seed() {
    let seeds = corpus("yaml");
    for i in 0..seeds.len() {
        assert_eq!(apply(&seeds, i, &[]), seeds[i]);
    }
    let s = apply(
        &seeds,
        0,
        &[
            Edit::Insert(3, "é".into()),
            Edit::Delete(4, 1),
            Edit::Duplicate(0, 5),
            Edit::Splice(1, 7),
        ],
    );
    assert!(!s.is_empty());
}

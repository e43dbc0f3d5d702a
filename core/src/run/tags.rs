//! `--tags` / `--skip-tags` selection with Ansible's special tags: `always` runs unless skipped
//! by name, `never` runs only when asked for, `all`, `tagged` and `untagged`.

/// Whether a task with `tags` runs under the selection (ansible-core's `evaluate_tags`).
pub fn selected(tags: &[String], only: &[String], skip: &[String]) -> bool {
    let untagged = ["untagged".to_string()];
    let tags = if tags.is_empty() { &untagged[..] } else { tags };
    let has = |t: &str| tags.iter().any(|x| x == t);
    let any_of = |sel: &[String]| sel.iter().any(|s| has(s));
    let in_sel = |sel: &[String], t: &str| sel.iter().any(|s| s == t);
    let tagged = !has("untagged");
    let only_all = ["all".to_string()];
    let only = if only.is_empty() { &only_all[..] } else { only };
    let mut run = has("always")
        || (in_sel(only, "all") && !has("never"))
        || any_of(only)
        || (in_sel(only, "tagged") && tagged && !has("never"));
    if run && !skip.is_empty() {
        if in_sel(skip, "all") {
            if !has("always") || in_sel(skip, "always") {
                run = false;
            }
        } else if any_of(skip) || (in_sel(skip, "tagged") && tagged) {
            run = false;
        }
    }
    run
}

#[cfg(test)]
mod tests {
    use super::selected;

    fn t(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn ansible_tag_rules() {
        assert!(selected(&t(&[]), &[], &[]));
        assert!(!selected(&t(&["never"]), &[], &[]));
        assert!(selected(&t(&["never", "debug"]), &t(&["debug"]), &[]));
        assert!(selected(&t(&["web"]), &t(&["web"]), &[]));
        assert!(!selected(&t(&["db"]), &t(&["web"]), &[]));
        assert!(selected(&t(&["always"]), &t(&["web"]), &[]));
        assert!(!selected(&t(&["always"]), &[], &t(&["always"])));
        assert!(selected(&t(&["always"]), &[], &t(&["web"])));
        assert!(!selected(&t(&["web"]), &[], &t(&["web"])));
        assert!(selected(&t(&[]), &t(&["untagged"]), &[]));
        assert!(!selected(&t(&["x"]), &t(&["untagged"]), &[]));
        assert!(selected(&t(&["x"]), &t(&["tagged"]), &[]));
    }
}

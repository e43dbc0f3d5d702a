//! The group tree as text lines, in the shape of `ansible-inventory --graph`.

use super::Inventory;

/// Lines of the tree below `root` (`@group:` for groups, plain names for hosts).
pub fn graph_lines(inv: &Inventory, root: &str) -> Vec<String> {
    let mut out = vec![format!("@{root}:")];
    walk(inv, root, "", &mut out);
    out
}

fn walk(inv: &Inventory, group: &str, prefix: &str, out: &mut Vec<String>) {
    let Some(g) = inv.groups.get(group) else {
        return;
    };
    let children = g.children.iter().filter(|c| {
        // `ungrouped` is shown only when it has hosts, as ansible-inventory does.
        *c != "ungrouped"
            || inv
                .groups
                .get("ungrouped")
                .is_some_and(|u| !u.hosts.is_empty())
    });
    for child in children {
        out.push(format!("{prefix}  |--@{child}:"));
        walk(inv, child, &format!("{prefix}  |"), out);
    }
    for host in &g.hosts {
        out.push(format!("{prefix}  |--{host}"));
    }
}

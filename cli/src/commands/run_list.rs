//! `hoist run --list-hosts / --list-tasks / --list-tags`: what a run would touch, printed the
//! way ansible-playbook prints it (scripts parse these lines), without connecting to any host.

use hoist_core::inventory::Inventory;
use hoist_core::playbook::{Item, Playbook};
use hoist_core::run::tags::selected;
use std::collections::BTreeSet;
use std::fmt::Write;

/// What to list.
#[derive(Debug, Clone, Copy, Default)]
pub struct Listing {
    pub hosts: bool,
    pub tasks: bool,
    pub tags: bool,
}

impl Listing {
    pub fn any(&self) -> bool {
        self.hosts || self.tasks || self.tags
    }
}

fn tag_list(tags: &BTreeSet<String>) -> String {
    format!("[{}]", tags.iter().cloned().collect::<Vec<_>>().join(", "))
}

/// Every task under `items` that the tag selection keeps, with its tags (inherited ones
/// included); `all_tags` collects every tag seen.
fn tasks(
    items: &[Item],
    inherited: &BTreeSet<String>,
    only: &[String],
    skip: &[String],
    out: &mut Vec<(String, BTreeSet<String>)>,
    all_tags: &mut BTreeSet<String>,
) {
    for item in items {
        let (common, name) = match item {
            Item::Task(t) => (&t.common, Some(t.display_name())),
            Item::Include(i) => (
                &i.common,
                Some(i.common.name.clone().unwrap_or_else(|| i.target.clone())),
            ),
            Item::Block(b) => (&b.common, None),
        };
        let mut tags = inherited.clone();
        tags.extend(common.tags.iter().cloned());
        all_tags.extend(tags.iter().cloned());
        match item {
            Item::Block(b) => {
                for part in [&b.block, &b.rescue, &b.always] {
                    tasks(part, &tags, only, skip, out, all_tags);
                }
            }
            _ => {
                let list: Vec<String> = tags.iter().cloned().collect();
                if selected(&list, only, skip) {
                    out.push((name.unwrap_or_default(), tags));
                }
            }
        }
    }
}

/// The listing for `book`, as ansible-playbook prints it.
pub fn render(
    book: &Playbook,
    inv: &Inventory,
    limit: Option<&str>,
    only: &[String],
    skip: &[String],
    what: Listing,
) -> String {
    let mut s = format!("\nplaybook: {}\n", book.path.display());
    for (n, play) in book.plays.iter().enumerate() {
        let play_tags: BTreeSet<String> = play.common.tags.iter().cloned().collect();
        let name = play
            .common
            .name
            .clone()
            .unwrap_or_else(|| play.hosts.clone());
        let _ = writeln!(
            s,
            "\n  play #{} ({}): {}\tTAGS: {}",
            n + 1,
            play.hosts,
            name,
            tag_list(&play_tags)
        );
        if what.hosts {
            let mut hosts = inv.select(&play.hosts).unwrap_or_default();
            if let Some(l) = limit {
                let allowed = inv.select(l).unwrap_or_default();
                hosts.retain(|h| allowed.contains(h));
            }
            let _ = writeln!(s, "    pattern: ['{}']", play.hosts);
            let _ = writeln!(s, "    hosts ({}):", hosts.len());
            for h in hosts {
                let _ = writeln!(s, "      {h}");
            }
        }
        let mut found = Vec::new();
        let mut all_tags = play_tags.clone();
        for part in [&play.pre_tasks, &play.roles, &play.tasks, &play.post_tasks] {
            tasks(part, &play_tags, only, skip, &mut found, &mut all_tags);
        }
        if what.tags {
            let _ = writeln!(s, "      TASK TAGS: {}", tag_list(&all_tags));
        }
        if what.tasks {
            let _ = writeln!(s, "    tasks:");
            for (name, tags) in found {
                let _ = writeln!(s, "      {name}\tTAGS: {}", tag_list(&tags));
            }
        }
    }
    s
}

//! Loading a playbook from disk: plays, `import_playbook`, `import_tasks`, roles (with `meta/`
//! dependencies, `defaults/`, `vars/`, `handlers/`) and static checks, before anything runs.

use super::keywords;
use super::model::{
    Block, Common, HostOrder, Item, Origin, Play, Playbook, RoleCtx, RoleFiles, Serial, Strategy,
    VarsFile,
};
use super::parse_task::{parse_common, parse_items};
use crate::inventory::Vars;
use crate::source::SourceError;
use crate::yaml::{self, Node, NodeKind};
use serde_json::Value as Json;
use std::cell::RefCell;
use std::path::{Path, PathBuf};
use std::rc::Rc;
use std::sync::Arc;

/// How deep imports may nest before it counts as a cycle.
const MAX_DEPTH: usize = 32;

/// What parsing a task list needs to know about where it is.
#[derive(Clone)]
pub struct LoadCtx {
    /// The directory of the file being parsed.
    pub base_dir: PathBuf,
    pub playbook_dir: PathBuf,
    pub role: Option<Arc<RoleCtx>>,
    pub roles_paths: Vec<PathBuf>,
    /// Handlers brought in by roles, added to the play's.
    pub handlers: Rc<RefCell<Vec<Item>>>,
    /// Roles already expanded in this play (a role runs once unless its parameters differ).
    /// Roles loaded in this play, by name, files and parameters.
    pub seen_roles: Rc<RefCell<std::collections::HashMap<String, Arc<RoleCtx>>>>,
    pub depth: usize,
    /// `collections:` in force: the play's, or the role's (see [`RoleCtx::collections`]).
    pub collections: Vec<String>,
}

/// Loads `path` and everything it imports.
pub fn load_playbook(path: &Path) -> Result<Playbook, SourceError> {
    let mut plays = Vec::new();
    load_into(path, &mut plays, 0, &Common::default())?;
    if plays.is_empty() {
        return Err(SourceError::new(path, None, "the playbook has no plays"));
    }
    Ok(Playbook {
        path: path.to_path_buf(),
        plays,
    })
}

/// Loads a playbook from `text`, as if read from `path` (which names it in errors and sets the
/// directory relative paths start from).
pub fn load_playbook_str(path: &Path, text: String) -> Result<Playbook, SourceError> {
    let mut plays = Vec::new();
    let root = yaml::parse_str(path, text)?;
    load_nodes(path, &root, &mut plays, 0, &Common::default())?;
    if plays.is_empty() {
        return Err(SourceError::new(path, None, "the playbook has no plays"));
    }
    Ok(Playbook {
        path: path.to_path_buf(),
        plays,
    })
}

fn load_into(
    path: &Path,
    plays: &mut Vec<Arc<Play>>,
    depth: usize,
    outer: &Common,
) -> Result<(), SourceError> {
    let root = yaml::load_file(path)?;
    load_nodes(path, &root, plays, depth, outer)
}

fn load_nodes(
    path: &Path,
    root: &Node,
    plays: &mut Vec<Arc<Play>>,
    depth: usize,
    outer: &Common,
) -> Result<(), SourceError> {
    let base_dir = path
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from("."));
    for entry in root.expect_seq("a playbook")? {
        let map = entry.expect_map("a play")?;
        if let Some((key, knode, value)) = map
            .iter()
            .find(|(k, _, _)| keywords::module_name(k) == "import_playbook")
        {
            if depth >= MAX_DEPTH {
                return Err(knode.error("import_playbook nests too deep (a cycle?)"));
            }
            let common = parse_common(
                entry,
                &["name", "when", "tags", "vars"],
                "import_playbook",
                |k, _, _| Ok(k == key),
            )?;
            let file = value.expect_scalar_string("`import_playbook`")?;
            let target = base_dir.join(&file);
            if !target.exists() {
                return Err(value.error(format!(
                    "imported playbook `{}` does not exist",
                    target.display()
                )));
            }
            load_into(&target, plays, depth + 1, &merge_common(outer, &common))?;
            continue;
        }
        plays.push(Arc::new(parse_play(entry, &base_dir, outer)?));
    }
    Ok(())
}

/// Keywords of an `import_playbook` applied to the plays it brings in.
fn merge_common(outer: &Common, inner: &Common) -> Common {
    let mut c = outer.clone();
    c.when.extend(inner.when.iter().cloned());
    c.tags.extend(inner.tags.iter().cloned());
    c.vars.extend(inner.vars.clone());
    c
}

fn roles_paths(playbook_dir: &Path) -> Vec<PathBuf> {
    let mut paths = vec![playbook_dir.join("roles")];
    for var in ["HOIST_ROLES_PATH", "ANSIBLE_ROLES_PATH"] {
        if let Ok(v) = std::env::var(var) {
            paths.extend(v.split(':').filter(|p| !p.is_empty()).map(PathBuf::from));
        }
    }
    paths.push(playbook_dir.to_path_buf());
    paths
}

/// Where collections are looked for, as ansible-core looks: beside the playbook
/// (`collections/`), `ANSIBLE_COLLECTIONS_PATH`, the user's and the system's.
pub fn collection_roots(playbook_dir: &Path) -> Vec<PathBuf> {
    let mut roots = vec![playbook_dir.join("collections")];
    for var in ["ANSIBLE_COLLECTIONS_PATH", "ANSIBLE_COLLECTIONS_PATHS"] {
        if let Ok(v) = std::env::var(var) {
            roots.extend(v.split(':').filter(|p| !p.is_empty()).map(PathBuf::from));
        }
    }
    if let Some(home) = std::env::var_os("HOME") {
        roots.push(PathBuf::from(home).join(".ansible/collections"));
    }
    roots.push(PathBuf::from("/usr/share/ansible/collections"));
    roots
}

/// A role's collections: its own (a role at `.../ansible_collections/NS/COLL/roles/NAME`),
/// then those its `meta/main.yml` lists.
fn role_collections(path: &Path, meta: Option<&Node>) -> Result<Vec<String>, SourceError> {
    let mut out = Vec::new();
    let parts: Vec<String> = path
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect();
    if let Some(i) = parts.iter().rposition(|p| p == "ansible_collections")
        && parts.len() == i + 5
        && parts[i + 3] == "roles"
    {
        out.push(format!("{}.{}", parts[i + 1], parts[i + 2]));
    }
    if let Some(v) = meta.and_then(|m| m.get("collections")) {
        for c in collections_of(v)? {
            if !out.contains(&c) {
                out.push(c);
            }
        }
    }
    Ok(out)
}

/// A `collections:` list: collection names (`namespace.collection`), in search order.
fn collections_of(v: &Node) -> Result<Vec<String>, SourceError> {
    let mut out = Vec::new();
    for c in v.expect_seq("`collections`")? {
        let name = c.expect_scalar_string("a collection name")?;
        let parts: Vec<&str> = name.split('.').collect();
        let valid = parts.len() == 2
            && parts.iter().all(|p| {
                !p.is_empty() && p.chars().all(|ch| ch.is_ascii_alphanumeric() || ch == '_')
            });
        if !valid {
            return Err(c.error(format!(
                "`{name}` is not a collection name: expected namespace.collection (like community.general)"
            )));
        }
        out.push(name);
    }
    Ok(out)
}

fn parse_play(node: &Node, base_dir: &Path, outer: &Common) -> Result<Play, SourceError> {
    // Read first: the play's tasks and roles, wherever they are written, resolve through it.
    let collections = match node.as_map().and_then(|m| {
        m.iter()
            .find(|(k, _, _)| k == "collections")
            .map(|(_, _, v)| v)
    }) {
        Some(v) => collections_of(v)?,
        None => Vec::new(),
    };
    crate::modules::ansible::add_collection_root(&base_dir.join("collections"));
    let ctx = LoadCtx {
        base_dir: base_dir.to_path_buf(),
        playbook_dir: base_dir.to_path_buf(),
        role: None,
        roles_paths: roles_paths(base_dir),
        handlers: Rc::new(RefCell::new(Vec::new())),
        seen_roles: Default::default(),
        depth: 0,
        collections: collections.clone(),
    };
    let mut hosts = None;
    let mut gather_facts = true;
    let mut vars_files = Vec::new();
    let mut strategy = Strategy::Linear;
    let mut strategy_template = None;
    let mut serial = Vec::new();
    let mut max_fail = None;
    let mut force_handlers = false;
    let mut order = None;
    let (mut pre, mut roles, mut tasks, mut post, mut handlers) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new(), Vec::new());
    let mut common = parse_common(node, keywords::PLAY, "a play", |k, _, v| {
        match k {
            "hosts" => {
                hosts = Some(match &v.kind {
                    NodeKind::Seq(items) => items
                        .iter()
                        .map(|i| i.expect_scalar_string("`hosts`"))
                        .collect::<Result<Vec<_>, _>>()?
                        .join(":"),
                    _ => v.expect_scalar_string("`hosts`")?,
                })
            }
            "gather_facts" => gather_facts = bool_value(v, k)?,
            "vars_files" => {
                for f in v.expect_seq("`vars_files`")? {
                    // A list entry names candidates: the first that exists is read.
                    let candidates = match &f.kind {
                        NodeKind::Seq(c) => c
                            .iter()
                            .map(|n| n.expect_scalar_string("a vars file"))
                            .collect::<Result<Vec<_>, _>>()?,
                        _ => vec![f.expect_scalar_string("a vars file")?],
                    };
                    let possible = candidates.iter().any(|n| {
                        crate::template::Templar::is_template(n) || base_dir.join(n).exists()
                    });
                    if !possible {
                        return Err(f.error(format!(
                            "vars file `{}` does not exist (looked in {})",
                            candidates.join("`, `"),
                            base_dir.display()
                        )));
                    }
                    vars_files.push(VarsFile {
                        candidates,
                        origin: Origin {
                            doc: f.doc.clone(),
                            pos: f.pos,
                        },
                    });
                }
            }
            "strategy" => {
                let s = v.expect_scalar_string("`strategy`")?;
                strategy = match s.as_str() {
                    "linear" => Strategy::Linear,
                    "free" | "host_pinned" => Strategy::Free,
                    _ if crate::template::Templar::is_template(&s) => {
                        strategy_template = Some(s.clone());
                        Strategy::Linear
                    }
                    other => {
                        return Err(v
                            .error(format!("unknown strategy `{other}`"))
                            .with_help("use `linear` or `free`"));
                    }
                }
            }
            "serial" => serial = parse_serial(v)?,
            "max_fail_percentage" => {
                max_fail = Some(match &v.kind {
                    NodeKind::Int(i) => *i as f64,
                    NodeKind::Float(f) => *f,
                    NodeKind::Str(s) => s
                        .trim_end_matches('%')
                        .parse()
                        .map_err(|_| v.error("`max_fail_percentage` must be a number"))?,
                    _ => return Err(v.error("`max_fail_percentage` must be a number")),
                })
            }
            "force_handlers" => force_handlers = bool_value(v, k)?,
            "order" => {
                let o = v.expect_scalar_string("`order`")?;
                if !crate::template::Templar::is_template(&o) {
                    HostOrder::parse(&o).map_err(|e| v.error(e))?;
                }
                order = Some(o);
            }
            "pre_tasks" => pre = parse_items(v, &ctx)?,
            "tasks" => tasks = parse_items(v, &ctx)?,
            "post_tasks" => post = parse_items(v, &ctx)?,
            "handlers" => handlers = parse_handlers(v, &ctx)?,
            "roles" => {
                for r in v.expect_seq("`roles`")? {
                    roles.extend(role_entry(r, &ctx)?);
                }
            }
            _ => return Ok(false),
        }
        Ok(true)
    })?;
    let hosts = hosts.ok_or_else(|| {
        node.error("a play needs `hosts:`")
            .with_help("e.g. `hosts: all` or `hosts: web:&prod`")
    })?;
    let mut merged = merge_common(outer, &Common::default());
    merged.vars.extend(std::mem::take(&mut common.vars));
    common.vars = merged.vars;
    common.when.splice(0..0, merged.when);
    common.tags.splice(0..0, merged.tags);
    handlers.extend(ctx.handlers.borrow().iter().cloned());
    Ok(Play {
        origin: Origin {
            doc: node.doc.clone(),
            pos: node.pos,
        },
        common,
        hosts,
        gather_facts,
        vars_files,
        strategy,
        strategy_template,
        serial,
        max_fail_percentage: max_fail,
        force_handlers,
        order,
        pre_tasks: pre,
        roles,
        tasks,
        post_tasks: post,
        handlers,
        base_dir: base_dir.to_path_buf(),
        collections,
    })
}

fn bool_value(v: &Node, what: &str) -> Result<bool, SourceError> {
    match &v.kind {
        NodeKind::Bool(b) => Ok(*b),
        _ => Err(v.error(format!(
            "`{what}` must be a boolean, found {}",
            v.type_name()
        ))),
    }
}

fn parse_serial(v: &Node) -> Result<Vec<Serial>, SourceError> {
    let one = |n: &Node| -> Result<Serial, SourceError> {
        match &n.kind {
            NodeKind::Int(i) if *i > 0 => Ok(Serial::Count(*i as usize)),
            NodeKind::Str(s) if s.ends_with('%') => s
                .trim_end_matches('%')
                .trim()
                .parse::<f64>()
                .ok()
                .filter(|p| *p > 0.0)
                .map(Serial::Percent)
                .ok_or_else(|| n.error(format!("`{s}` is not a valid serial percentage"))),
            NodeKind::Str(s) => s
                .parse::<usize>()
                .ok()
                .filter(|c| *c > 0)
                .map(Serial::Count)
                .ok_or_else(|| n.error("`serial` must be a positive number or a percentage")),
            _ => Err(n.error("`serial` must be a positive number, a percentage or a list of them")),
        }
    };
    match &v.kind {
        NodeKind::Seq(items) => items.iter().map(one).collect(),
        _ => Ok(vec![one(v)?]),
    }
}

fn parse_handlers(v: &Node, ctx: &LoadCtx) -> Result<Vec<Item>, SourceError> {
    let mut out = Vec::new();
    for item in parse_items(v, ctx)? {
        flatten_handlers(item, &mut out);
    }
    Ok(out)
}

/// Handlers may be grouped in blocks or imported files; they run one by one.
/// The roles `items` (a role's dependency entries) bring in directly: each entry's block holds
/// the dependency's own dependencies first and its role block last.
fn direct_roles(items: &[Item]) -> Vec<Arc<RoleCtx>> {
    items
        .iter()
        .filter_map(|i| match i {
            Item::Block(entry) => entry.block.iter().rev().find_map(|b| match b {
                Item::Block(b) => b.role.clone(),
                _ => None,
            }),
            _ => None,
        })
        .collect()
}

fn flatten_handlers(item: Item, out: &mut Vec<Item>) {
    match item {
        Item::Task(_) | Item::Include(_) => out.push(item),
        Item::Block(b) => {
            for i in b.block.iter().chain(&b.rescue).chain(&b.always) {
                flatten_handlers(i.clone(), out);
            }
        }
    }
}

/// One entry of `roles:` (a name, or a mapping with `role:` and keywords/params).
fn role_entry(node: &Node, ctx: &LoadCtx) -> Result<Vec<Item>, SourceError> {
    let (name, common, params) = match &node.kind {
        NodeKind::Str(s) => (s.clone(), Common::default(), Vars::new()),
        NodeKind::Map(_) => {
            let mut name = None;
            let mut params = Vars::new();
            let common = parse_common(node, keywords::BLOCK, "a role entry", |k, _, v| {
                match k {
                    "role" | "name" => name = Some(v.expect_scalar_string("`role`")?),
                    _ if keywords::BLOCK.contains(&k) => return Ok(false),
                    _ => {
                        params.insert(k.to_string(), v.to_value());
                    }
                }
                Ok(true)
            })?;
            (
                name.ok_or_else(|| node.error("a role entry needs `role:`"))?,
                common,
                params,
            )
        }
        _ => return Err(node.error("a role entry must be a name or a mapping")),
    };
    let items = ctx.load_role(
        &name,
        &RoleFiles::default(),
        params,
        &common.vars,
        node,
        true,
    )?;
    Ok(vec![Item::Block(Arc::new(Block {
        origin: Origin {
            doc: node.doc.clone(),
            pos: node.pos,
        },
        common,
        block: items,
        rescue: Vec::new(),
        always: Vec::new(),
        role: None,
    }))])
}

/// A role's `main` file in `sub` (tasks, handlers, vars, defaults), or the one a `*_from`
/// option names, which must then exist.
fn role_file(
    role: &Path,
    sub: &str,
    from: &Option<String>,
    at: &Node,
) -> Result<Option<PathBuf>, SourceError> {
    match from {
        None => Ok(find_yaml(&role.join(sub), "main")),
        Some(name) => find_yaml(&role.join(sub), name).map(Some).ok_or_else(|| {
            at.error(format!(
                "role `{}` has no {sub} file `{name}` (looked in {})",
                role.file_name().unwrap_or_default().to_string_lossy(),
                role.join(sub).display()
            ))
        }),
    }
}

/// `main.yml`, `main.yaml` or `main` in `dir` (or `name` for `tasks_from`).
fn find_yaml(dir: &Path, name: &str) -> Option<PathBuf> {
    [
        format!("{name}.yml"),
        format!("{name}.yaml"),
        name.to_string(),
    ]
    .into_iter()
    .map(|n| dir.join(n))
    .find(|p| p.is_file())
}

fn load_vars_file(path: Option<PathBuf>) -> Result<Vars, SourceError> {
    let Some(path) = path else {
        return Ok(Vars::new());
    };
    let node = yaml::load_file(&path)?;
    match node.to_value() {
        Json::Object(m) => Ok(m),
        Json::Null => Ok(Vars::new()),
        // A list of mappings is merged in order, as ansible-core's preprocess_vars does.
        Json::Array(items) if items.iter().all(Json::is_object) => Ok(items
            .into_iter()
            .filter_map(|i| match i {
                Json::Object(m) => Some(m),
                _ => None,
            })
            .flatten()
            .collect()),
        _ => Err(node.error(
            "a vars file must be a mapping of variable names to values (or a list of such mappings)",
        )),
    }
}

impl LoadCtx {
    /// Resolves a role name to its directory.
    pub fn find_role(&self, name: &str) -> Option<PathBuf> {
        if name.contains('/') {
            let p = self.playbook_dir.join(name);
            return p.is_dir().then_some(p);
        }
        // `namespace.collection.role`: a role inside an installed collection.
        if let [ns, coll, role] = name.split('.').collect::<Vec<_>>()[..] {
            return collection_roots(&self.playbook_dir)
                .into_iter()
                .map(|r| {
                    r.join("ansible_collections")
                        .join(ns)
                        .join(coll)
                        .join("roles")
                        .join(role)
                })
                .find(|p| p.is_dir());
        }
        // Any directory of that name is the role, as in ansible-core (a role may hold only vars);
        // then the collections in force, in their order.
        self.roles_paths
            .iter()
            .map(|p| p.join(name))
            .find(|p| p.is_dir())
            .or_else(|| {
                self.collections
                    .iter()
                    .find_map(|c| self.find_role(&format!("{c}.{name}")))
            })
    }

    /// Expands a role (its dependencies first) into blocks; its handlers join the play's.
    /// `once`: a role of the play's `roles:` or a dependency, which runs once per play with
    /// the same parameters; `import_role` runs its role every time, as in ansible-core.
    pub fn load_role(
        &self,
        name: &str,
        from: &RoleFiles,
        params: Vars,
        entry_vars: &Vars,
        at: &Node,
        once: bool,
    ) -> Result<Vec<Item>, SourceError> {
        if self.depth >= MAX_DEPTH {
            return Err(at.error(format!(
                "role `{name}` nests too deep (a dependency cycle?)"
            )));
        }
        let path = self.find_role(name).ok_or_else(|| {
            at.error(format!("role `{name}` was not found"))
                .with_help(format!(
                    "looked in: {}",
                    self.roles_paths
                        .iter()
                        .map(|p| p.display().to_string())
                        .collect::<Vec<_>>()
                        .join(", ")
                ))
        })?;
        // The same role with other parameters or other entry `vars:` is another role.
        let key = format!(
            "{name}|{}|{}|{}",
            from.key(),
            Json::Object(params.clone()),
            Json::Object(entry_vars.clone())
        );
        let meta = find_yaml(&path.join("meta"), "main")
            .map(|m| yaml::load_file(&m))
            .transpose()?;
        // A role runs once per play with the same parameters unless its meta allows duplicates.
        let allow_duplicates = meta
            .as_ref()
            .and_then(|m| m.get("allow_duplicates"))
            .is_some_and(|v| {
                matches!(v.to_value(), Json::Bool(true))
                    || matches!(v.to_value(), Json::String(s) if ["yes", "true", "on"].contains(&s.to_ascii_lowercase().as_str()))
            });
        // A role that already ran is not run again, but it still counts as the dependency it
        // is (its vars stay visible to the role that depends on it): an empty block carries it.
        let seen = self.seen_roles.borrow().get(&key).cloned();
        if let Some(role) = seen
            && !allow_duplicates
            && once
        {
            return Ok(vec![Item::Block(Arc::new(Block {
                origin: Origin {
                    doc: at.doc.clone(),
                    pos: at.pos,
                },
                common: Common::default(),
                block: Vec::new(),
                rescue: Vec::new(),
                always: Vec::new(),
                role: Some(role),
            }))]);
        }
        let role_name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| name.to_string());
        let role = Arc::new(RoleCtx {
            collections: role_collections(&path, meta.as_ref())?,
            name: role_name,
            path: path.clone(),
            defaults: Arc::new(load_vars_file(role_file(
                &path,
                "defaults",
                &from.defaults,
                at,
            )?)?),
            vars: Arc::new(load_vars_file(role_file(&path, "vars", &from.vars, at)?)?),
            params: Arc::new(params),
            parents: self
                .role
                .iter()
                .flat_map(|r| r.parents.iter().chain(std::iter::once(r)))
                .cloned()
                .collect(),
            deps: Default::default(),
        });
        self.seen_roles.borrow_mut().insert(key, role.clone());
        let inner = LoadCtx {
            base_dir: path.join("tasks"),
            role: Some(role.clone()),
            depth: self.depth + 1,
            collections: role.collections.clone(),
            ..self.clone()
        };
        let mut items = Vec::new();
        if let Some(deps) = meta.as_ref().and_then(|m| m.get("dependencies")) {
            for dep in deps.expect_seq("`dependencies`")? {
                items.extend(role_entry(dep, &inner)?);
            }
        }
        let _ = role.deps.set(direct_roles(&items));
        let mut tasks = match role_file(&path, "tasks", &from.tasks, at)? {
            Some(f) => parse_items(&yaml::load_file(&f)?, &inner)?,
            None => Vec::new(),
        };
        // A role with an argument spec for this entry point checks its variables first.
        if let Some(check) = argument_check(&path, meta.as_ref(), from, &role, &inner)? {
            tasks.insert(0, check);
        }
        if let Some(h) = role_file(&path, "handlers", &from.handlers, at)? {
            // Files the handlers import are looked for beside them first, as ansible-core does.
            let in_handlers = LoadCtx {
                base_dir: path.join("handlers"),
                ..inner.clone()
            };
            let handlers = parse_handlers(&yaml::load_file(&h)?, &in_handlers)?;
            self.handlers.borrow_mut().extend(handlers);
        }
        items.push(Item::Block(Arc::new(Block {
            origin: Origin {
                doc: at.doc.clone(),
                pos: at.pos,
            },
            common: Common::default(),
            block: tasks,
            rescue: Vec::new(),
            always: Vec::new(),
            role: Some(role),
        })));
        Ok(items)
    }

    /// Where a relative task file is looked for: beside the current file, the role's `tasks/`,
    /// then the playbook's directory.
    pub fn resolve_tasks_file(&self, file: &str) -> Option<PathBuf> {
        let p = Path::new(file);
        if p.is_absolute() {
            return p.is_file().then(|| p.to_path_buf());
        }
        let mut dirs = vec![self.base_dir.clone()];
        if let Some(r) = &self.role {
            dirs.push(r.path.join("tasks"));
        }
        dirs.push(self.playbook_dir.clone());
        dirs.into_iter().map(|d| d.join(p)).find(|c| c.is_file())
    }

    /// A static import's templated name rendered with what ansible-core knows while loading:
    /// `role_path`, `role_name`, `playbook_dir` and the command line's extra vars.
    fn static_name(&self, name: &str) -> Result<String, String> {
        let mut vars = serde_json::Map::new();
        for (k, v) in crate::playbook::static_vars() {
            vars.insert(k, v);
        }
        vars.insert(
            "playbook_dir".into(),
            self.playbook_dir.display().to_string().into(),
        );
        if let Some(r) = &self.role {
            vars.insert("role_path".into(), r.path.display().to_string().into());
            vars.insert("role_name".into(), r.name.clone().into());
        }
        let t = crate::template::Templar::new();
        t.render_str(
            name,
            &crate::template::to_jinja(&serde_json::Value::Object(vars)),
        )
        .map_err(|e| e.message)
    }

    /// Parses an `import_tasks` file now.
    pub fn import_tasks(&self, file: &str, at: &Node) -> Result<Vec<Item>, SourceError> {
        let rendered;
        let file = if crate::template::Templar::is_template(file) {
            rendered = self.static_name(file).map_err(|e| {
                at.error(format!(
                    "`import_tasks` is static: its file name can only use what is known before the run ({e})"
                ))
                .with_help("use `include_tasks` for a file chosen at run time")
            })?;
            rendered.as_str()
        } else {
            file
        };
        if self.depth >= MAX_DEPTH {
            return Err(at.error("import_tasks nests too deep (a cycle?)"));
        }
        let path = self
            .resolve_tasks_file(file)
            .ok_or_else(|| at.error(format!("tasks file `{file}` was not found")))?;
        let inner = LoadCtx {
            base_dir: path.parent().map(Path::to_path_buf).unwrap_or_default(),
            depth: self.depth + 1,
            ..self.clone()
        };
        parse_items(&yaml::load_file(&path)?, &inner)
    }
}

/// Loads a dynamic include's task file at run time.
/// `play_collections`: the play's `collections:` (a role's own apply inside the role).
pub fn load_tasks_file(
    path: &Path,
    role: Option<Arc<RoleCtx>>,
    playbook_dir: &Path,
    play_collections: &[String],
) -> Result<Vec<Item>, SourceError> {
    let collections = match &role {
        Some(r) => r.collections.clone(),
        None => play_collections.to_vec(),
    };
    let ctx = LoadCtx {
        base_dir: path.parent().map(Path::to_path_buf).unwrap_or_default(),
        playbook_dir: playbook_dir.to_path_buf(),
        role,
        roles_paths: roles_paths(playbook_dir),
        handlers: Rc::new(RefCell::new(Vec::new())),
        seen_roles: Default::default(),
        depth: 1,
        collections,
    };
    parse_items(&yaml::load_file(path)?, &ctx)
}

/// Loads a role for `include_role` at run time: its blocks and its handlers.
pub fn load_role_dynamic(
    name: &str,
    from: &RoleFiles,
    playbook_dir: &Path,
    at: &Origin,
    collections: &[String],
) -> Result<(Vec<Item>, Vec<Item>), SourceError> {
    let ctx = LoadCtx {
        base_dir: playbook_dir.to_path_buf(),
        playbook_dir: playbook_dir.to_path_buf(),
        role: None,
        roles_paths: roles_paths(playbook_dir),
        handlers: Rc::new(RefCell::new(Vec::new())),
        seen_roles: Default::default(),
        depth: 1,
        collections: collections.to_vec(),
    };
    let node = Node {
        pos: at.pos,
        kind: NodeKind::Null,
        doc: at.doc.clone(),
    };
    let items = ctx.load_role(name, from, Vars::new(), &Vars::new(), &node, false)?;
    let handlers = ctx.handlers.borrow().clone();
    Ok((items, handlers))
}

/// The task ansible-core puts first in a role whose argument specs (`meta/argument_specs.yml`,
/// or `argument_specs` in `meta/main.yml`) cover the entry point (`tasks_from`, else `main`):
/// `validate_argument_spec` with that spec's options and the role's parameters, tagged
/// `always`.
fn argument_check(
    path: &Path,
    meta: Option<&Node>,
    from: &RoleFiles,
    role: &Arc<RoleCtx>,
    ctx: &LoadCtx,
) -> Result<Option<Item>, SourceError> {
    if from.skip_argument_check {
        return Ok(None);
    }
    let (specs, file) = match find_yaml(&path.join("meta"), "argument_specs") {
        Some(f) => (yaml::load_file(&f)?.get("argument_specs").cloned(), f),
        None => match meta.and_then(|m| m.get("argument_specs")) {
            Some(s) => (Some(s.clone()), path.join("meta/main.yml")),
            None => return Ok(None),
        },
    };
    let entry = from
        .tasks
        .as_deref()
        .map(|t| {
            t.trim_end_matches(".yml")
                .trim_end_matches(".yaml")
                .to_string()
        })
        .unwrap_or_else(|| "main".into());
    let Some(spec) = specs.and_then(|s| s.get(&entry).cloned()) else {
        return Ok(None);
    };
    let spec = spec.to_value();
    let mut name = format!("Validating arguments against arg spec '{entry}'");
    if let Some(d) = spec.get("short_description").and_then(Json::as_str) {
        name.push_str(&format!(" - {d}"));
    }
    let task = serde_json::json!([{
        "name": name,
        "tags": ["always"],
        "validate_argument_spec": {
            "argument_spec": spec.get("options").cloned().unwrap_or_else(|| Json::Object(Default::default())),
            "provided_arguments": Json::Object((*role.params).clone()),
            "validate_args_context": {
                "type": "role",
                "name": role.name,
                "argument_spec_name": entry,
                "path": std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf()).display().to_string(),
            },
        },
    }]);
    let text = serde_yaml::to_string(&task)
        .map_err(|e| SourceError::new(&file, None, format!("argument spec: {e}")))?;
    let node = yaml::parse_str(&file, text)?;
    Ok(parse_items(&node, ctx)?.into_iter().next())
}

/// Loads a vars file (for `vars_files` and `include_vars`).
pub fn load_vars(path: &Path) -> Result<Vars, SourceError> {
    load_vars_file(Some(path.to_path_buf()))
}

// hoist web UI: a small single-page app over the HTTP API (/api/v1). No framework and no build
// step; every value from the server is put on the page as text (never as HTML).

const main = document.getElementById("main");
const TOKEN = "hoist.token";
let me = null;
let stopView = () => {};

// ---- helpers ----

function el(tag, attrs = {}, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith("on")) e.addEventListener(k.slice(2), v);
    else if (k === "class") e.className = v;
    else e.setAttribute(k, v === true ? "" : v);
  }
  for (const c of children.flat()) {
    if (c === null || c === undefined || c === false) continue;
    e.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return e;
}

function badge(status) {
  return el("span", { class: `badge s-${status}`, "data-status": status }, status);
}

function when(t) {
  return t ? new Date(t).toLocaleString() : "";
}

function took(run) {
  if (!run.started_at) return "";
  const end = run.finished_at ? new Date(run.finished_at) : new Date();
  const s = Math.max(0, (end - new Date(run.started_at)) / 1000);
  return s < 60 ? `${s.toFixed(1)} s` : `${Math.floor(s / 60)} min ${Math.round(s % 60)} s`;
}

function toast(message, bad = false) {
  const t = document.getElementById("toast");
  t.textContent = message;
  t.className = bad ? "bad" : "";
  t.hidden = false;
  clearTimeout(toast.timer);
  toast.timer = setTimeout(() => (t.hidden = true), 5000);
}

class ApiError extends Error {
  constructor(status, body) {
    super(body && body.message ? body.message : `HTTP ${status}`);
    this.status = status;
  }
}

async function api(method, path, body) {
  const headers = { accept: "application/json" };
  const token = sessionStorage.getItem(TOKEN);
  if (token) headers.authorization = `Bearer ${token}`;
  if (body !== undefined) headers["content-type"] = "application/json";
  const r = await fetch(`/api/v1${path}`, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await r.text();
  const data = text ? JSON.parse(text) : null;
  if (r.status === 401 && path !== "/login") {
    sessionStorage.removeItem(TOKEN);
    route();
    throw new ApiError(r.status, data);
  }
  if (!r.ok) throw new ApiError(r.status, data);
  return data;
}

/// Reads the server-sent events of a run (fetch, so the bearer token can be sent) and calls
/// `onEvent(seq, json)` for each and `onEnd(status)` at the end. Returns a stop function.
function follow(id, onEvent, onEnd) {
  const ctl = new AbortController();
  (async () => {
    const r = await fetch(`/api/v1/runs/${id}/stream`, {
      headers: { authorization: `Bearer ${sessionStorage.getItem(TOKEN)}` },
      signal: ctl.signal,
    });
    const reader = r.body.getReader();
    const dec = new TextDecoder();
    let buf = "";
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      buf += dec.decode(value, { stream: true });
      let cut;
      while ((cut = buf.indexOf("\n\n")) >= 0) {
        const block = buf.slice(0, cut);
        buf = buf.slice(cut + 2);
        let kind = "message", data = "", seq = null;
        for (const line of block.split("\n")) {
          if (line.startsWith("event: ")) kind = line.slice(7);
          else if (line.startsWith("data: ")) data += line.slice(6);
          else if (line.startsWith("id: ")) seq = Number(line.slice(4));
        }
        if (!data) continue;
        const json = JSON.parse(data);
        if (kind === "end") onEnd(json.status);
        else onEvent(seq, json);
      }
    }
  })().catch((e) => {
    if (e.name !== "AbortError") toast(`live view: ${e.message}`, true);
  });
  return () => ctl.abort();
}

function field(label, input) {
  return [el("label", { for: input.id }, label), input];
}

function errorBox() {
  return el("div", { class: "error", id: "form-error", role: "alert" });
}

// ---- views ----

async function loginView() {
  const name = el("input", { type: "text", id: "login-name", autocomplete: "username", required: true });
  const pw = el("input", { type: "password", id: "login-password", autocomplete: "current-password", required: true });
  const err = errorBox();
  const form = el(
    "form",
    {
      class: "grid card",
      onsubmit: async (ev) => {
        ev.preventDefault();
        err.textContent = "";
        try {
          const r = await api("POST", "/login", { name: name.value, password: pw.value });
          sessionStorage.setItem(TOKEN, r.token);
          location.hash = "#/runs";
          route();
        } catch (e) {
          err.textContent = e.message;
        }
      },
    },
    field("User", name),
    field("Password", pw),
    el("span"),
    el("div", { class: "row" }, el("button", { class: "primary", type: "submit", id: "login-submit" }, "Sign in")),
    el("div", { class: "full" }, err),
  );
  main.replaceChildren(el("div", { class: "login" }, el("h1", {}, "Sign in to hoist"), form));
}

let projectsById = new Map();

async function loadProjects() {
  const ps = await api("GET", "/projects");
  projectsById = new Map(ps.map((p) => [p.id, p.name]));
  return ps;
}

async function runsView() {
  await loadProjects();
  const body = el("tbody");
  const table = el(
    "table",
    { id: "runs" },
    el("thead", {}, el("tr", {}, ["Run", "Status", "Project", "Playbook", "Started by", "Created", "Took"].map((h) => el("th", {}, h)))),
    body,
  );
  main.replaceChildren(
    el("div", { class: "row" }, el("h1", {}, "Runs"), el("span", { class: "muted" }, "(refreshes every 2 s)")),
    table,
  );
  const draw = async () => {
    const runs = await api("GET", "/runs?limit=100");
    body.replaceChildren(
      ...runs.map((r) =>
        el(
          "tr",
          { class: "link", "data-run": r.id, onclick: () => (location.hash = `#/runs/${r.id}`) },
          el("td", {}, `#${r.id}`, r.attempt > 1 ? el("span", { class: "muted" }, ` (attempt ${r.attempt})`) : null),
          el("td", {}, badge(r.status)),
          el("td", {}, projectsById.get(r.project_id) || r.project_id),
          el("td", {}, r.playbook, r.options.check ? el("span", { class: "muted" }, " (check)") : null),
          el("td", {}, r.created_by),
          el("td", {}, when(r.created_at)),
          el("td", {}, took(r)),
        ),
      ),
    );
    if (!runs.length) body.append(el("tr", {}, el("td", { colspan: 7, class: "muted" }, "No runs yet.")));
  };
  await draw();
  const timer = setInterval(() => draw().catch(() => {}), 2000);
  return () => clearInterval(timer);
}

const COUNTED = ["ok", "changed", "failed", "unreachable", "skipped"];

async function runView(id) {
  await loadProjects();
  const { run, hosts } = await api("GET", `/runs/${id}`);
  const status = el("span", { id: "run-status" }, badge(run.status));
  const cancel = el(
    "button",
    {
      class: "danger",
      id: "cancel",
      hidden: !["queued", "running"].includes(run.status),
      onclick: async () => {
        try {
          await api("POST", `/runs/${id}/cancel`);
          toast(`Cancel requested for run #${id}`);
        } catch (e) {
          toast(e.message, true);
        }
      },
    },
    "Cancel",
  );
  // Per-host state, from the stored recap and then from live events.
  const perHost = new Map();
  const hostRow = (h) => {
    if (!perHost.has(h)) {
      perHost.set(h, { counts: Object.fromEntries(COUNTED.map((k) => [k, 0])), last: "", state: "pending" });
    }
    return perHost.get(h);
  };
  for (const [h, st] of Object.entries(hosts)) {
    const row = hostRow(h);
    for (const k of COUNTED) row.counts[k] = st[k] || 0;
    row.state = st.unreachable ? "unreachable" : st.failed ? "failed" : st.changed ? "changed" : "ok";
  }
  const hostBody = el("tbody");
  const drawHosts = () => {
    hostBody.replaceChildren(
      ...[...perHost.entries()].map(([h, r]) =>
        el(
          "tr",
          { "data-host": h },
          el("td", {}, h),
          el("td", {}, badge(r.state)),
          ...COUNTED.map((k) => el("td", { "data-count": k }, r.counts[k])),
          el("td", { class: "muted" }, r.last),
        ),
      ),
    );
  };
  const log = el("div", { class: "log", id: "log" });
  const line = (...parts) => {
    log.append(el("div", {}, ...parts));
    log.scrollTop = log.scrollHeight;
  };
  const show = (e) => {
    switch (e.event) {
      case "playbook_start":
        line(el("span", { class: "t" }, `PLAYBOOK ${e.path}${e.check ? " (check mode)" : ""}`));
        break;
      case "play_start":
        line(el("span", { class: "t" }, `PLAY [${e.name}]`));
        for (const h of e.hosts) hostRow(h);
        break;
      case "task_start":
        line(el("span", { class: "t" }, `TASK [${e.name}]`));
        break;
      case "host_result": {
        const r = hostRow(e.host);
        if (e.status in r.counts) r.counts[e.status] += 1;
        const down = ["failed", "unreachable"];
        if (down.includes(e.status)) r.state = e.status;
        else if (!down.includes(r.state)) r.state = "running";
        r.last = e.task;
        const res = e.result || {};
        const detail = res.msg || res.stderr || res.stdout || "";
        line(el("span", { class: e.status }, `${e.status}: [${e.host}]`), detail ? ` ${String(detail).slice(0, 2000)}` : "");
        break;
      }
      case "warning":
        line(el("span", { class: "changed" }, `WARNING: ${e.host ? `[${e.host}] ` : ""}${e.message}`));
        break;
      case "play_aborted":
        line(el("span", { class: "failed" }, `PLAY ABORTED: ${e.reason}`));
        break;
      case "error":
        line(el("span", { class: "failed" }, `ERROR: ${e.message}`));
        break;
      case "recap":
        for (const [h, st] of Object.entries(e.hosts)) {
          const r = hostRow(h);
          for (const k of COUNTED) r.counts[k] = st[k] || 0;
          r.state = st.unreachable ? "unreachable" : st.failed ? "failed" : st.changed ? "changed" : "ok";
        }
        line(el("span", { class: "t" }, `RECAP (${(e.duration_ms / 1000).toFixed(1)} s)`));
        break;
      default:
        break;
    }
    drawHosts();
  };
  const instance = el("dd", {}, run.instance || "(not yet claimed)");
  const facts = el(
    "dl",
    { class: "facts" },
    el("dt", {}, "Project"), el("dd", {}, projectsById.get(run.project_id) || run.project_id),
    el("dt", {}, "Playbook"), el("dd", {}, run.playbook),
    el("dt", {}, "Inventory"), el("dd", {}, run.inventory),
    run.revision ? [el("dt", {}, "Commit"), el("dd", { id: "revision" }, run.revision.slice(0, 12))] : null,
    el("dt", {}, "Options"), el("dd", {}, describeOptions(run.options)),
    el("dt", {}, "Started by"), el("dd", {}, run.created_by),
    el("dt", {}, "Instance"), instance,
    el("dt", {}, "Attempt"), el("dd", {}, String(run.attempt), run.retry_of ? ` (retries run #${run.retry_of})` : ""),
    el("dt", {}, "Created"), el("dd", {}, when(run.created_at)),
  );
  main.replaceChildren(
    el("div", { class: "row" }, el("h1", {}, `Run #${id}`), status, cancel),
    el("div", { class: "card" }, facts),
    el("h2", {}, "Hosts"),
    el(
      "table",
      { id: "hosts" },
      el("thead", {}, el("tr", {}, ["Host", "State", ...COUNTED, "Last task"].map((h) => el("th", {}, h)))),
      hostBody,
    ),
    el("h2", {}, "Output"),
    log,
  );
  drawHosts();
  // The run's own state (queued, then running on an instance) between events.
  let ended = false;
  const poll = setInterval(async () => {
    if (ended) return;
    try {
      const { run: now } = await api("GET", `/runs/${id}`);
      if (!ended) {
        status.replaceChildren(badge(now.status));
        instance.textContent = now.instance || "(not yet claimed)";
      }
    } catch {
      /* the stream reports the end */
    }
  }, 1000);
  const stop = follow(
    id,
    (_seq, e) => {
      if (!ended && e.event === "playbook_start") status.replaceChildren(badge("running"));
      show(e);
    },
    (final) => {
      ended = true;
      status.replaceChildren(badge(final));
      cancel.hidden = true;
      line(el("span", { class: "t" }, `run ${final}`));
    },
  );
  return () => {
    clearInterval(poll);
    stop();
  };
}

function describeOptions(o) {
  const parts = [];
  if (o.limit) parts.push(`limit ${o.limit}`);
  if (o.tags && o.tags.length) parts.push(`tags ${o.tags.join(",")}`);
  if (o.skip_tags && o.skip_tags.length) parts.push(`skip ${o.skip_tags.join(",")}`);
  if (o.check) parts.push("check");
  if (o.diff) parts.push("diff");
  const vars = Object.keys(o.extra_vars || {});
  if (vars.length) parts.push(`extra vars ${vars.join(", ")}`);
  return parts.join("; ") || "none";
}

function splitList(s) {
  return s.split(",").map((t) => t.trim()).filter(Boolean);
}

/// Project, playbook and inventory pickers shared by the run and schedule forms.
async function pickers() {
  const projects = await loadProjects();
  const project = el("select", { id: "project" }, projects.map((p) => el("option", { value: p.name }, p.name)));
  const playbook = el("select", { id: "playbook" });
  const inventory = el("select", { id: "inventory" });
  const fill = async () => {
    if (!project.value) return;
    const f = await api("GET", `/projects/${encodeURIComponent(project.value)}/files`);
    playbook.replaceChildren(...f.playbooks.map((b) => el("option", { value: b }, b)));
    inventory.replaceChildren(...f.inventories.map((i) => el("option", { value: i }, i)));
  };
  project.addEventListener("change", fill);
  await fill();
  return { project, playbook, inventory };
}

async function newRunView() {
  const { project, playbook, inventory } = await pickers();
  const limit = el("input", { type: "text", id: "limit", placeholder: "host pattern, e.g. db*:!db3" });
  const tags = el("input", { type: "text", id: "tags", placeholder: "comma-separated" });
  const skip = el("input", { type: "text", id: "skip-tags", placeholder: "comma-separated" });
  const vars = el("textarea", { id: "extra-vars", placeholder: '{"version": "1.2.3"}' });
  const check = el("input", { type: "checkbox", id: "check" });
  const diff = el("input", { type: "checkbox", id: "diff" });
  const err = errorBox();
  const form = el(
    "form",
    {
      class: "grid card",
      id: "new-run",
      onsubmit: async (ev) => {
        ev.preventDefault();
        err.textContent = "";
        let extra = {};
        if (vars.value.trim()) {
          try {
            extra = JSON.parse(vars.value);
          } catch (e) {
            err.textContent = `Extra vars: not JSON (${e.message})`;
            return;
          }
          if (typeof extra !== "object" || Array.isArray(extra) || extra === null) {
            err.textContent = "Extra vars: expected a JSON object";
            return;
          }
        }
        try {
          const run = await api("POST", "/runs", {
            project: project.value,
            playbook: playbook.value,
            inventory: inventory.value,
            limit: limit.value.trim() || undefined,
            tags: splitList(tags.value),
            skip_tags: splitList(skip.value),
            extra_vars: extra,
            check: check.checked,
            diff: diff.checked,
          });
          location.hash = `#/runs/${run.id}`;
        } catch (e) {
          err.textContent = e.message;
        }
      },
    },
    field("Project", project),
    field("Playbook", playbook),
    field("Inventory", inventory),
    field("Limit", limit),
    field("Tags", tags),
    field("Skip tags", skip),
    field("Extra vars (JSON)", vars),
    el("span"),
    el("div", { class: "row" }, el("label", {}, check, " check mode"), el("label", {}, diff, " diff")),
    el("span"),
    el("div", { class: "row" }, el("button", { class: "primary", type: "submit", id: "start" }, "Start run")),
    el("div", { class: "full" }, err),
  );
  main.replaceChildren(el("h1", {}, "Start a run"), form);
}

async function schedulesView() {
  const list = await api("GET", "/schedules");
  await loadProjects();
  const body = el("tbody");
  body.replaceChildren(
    ...list.map((s) =>
      el(
        "tr",
        { "data-schedule": s.name },
        el("td", {}, s.name),
        el("td", {}, projectsById.get(s.project_id) || s.project_id),
        el("td", {}, el("code", {}, s.cron)),
        el("td", {}, s.playbook),
        el("td", {}, s.enabled ? when(s.next_run_at) : el("span", { class: "muted" }, "disabled")),
        el("td", {}, s.last_run_id ? el("a", { href: `#/runs/${s.last_run_id}` }, `#${s.last_run_id}`) : ""),
        el(
          "td",
          {},
          el(
            "div",
            { class: "row" },
            el("button", { class: "plain", onclick: () => act(() => api("PATCH", `/schedules/${s.id}`, { enabled: !s.enabled })) }, s.enabled ? "Disable" : "Enable"),
            el("button", { class: "danger", onclick: () => confirm(`Delete schedule ${s.name}?`) && act(() => api("DELETE", `/schedules/${s.id}`)) }, "Delete"),
          ),
        ),
      ),
    ),
  );
  if (!list.length) body.append(el("tr", {}, el("td", { colspan: 7, class: "muted" }, "No schedules yet.")));
  const { project, playbook, inventory } = await pickers();
  const name = el("input", { type: "text", id: "schedule-name", placeholder: "nightly-backup" });
  const cron = el("input", { type: "text", id: "schedule-cron", placeholder: "0 3 * * *  or  @daily" });
  const err = errorBox();
  const form = el(
    "form",
    {
      class: "grid card",
      id: "new-schedule",
      onsubmit: async (ev) => {
        ev.preventDefault();
        err.textContent = "";
        try {
          await api("POST", "/schedules", {
            project: project.value,
            name: name.value.trim(),
            cron: cron.value.trim(),
            playbook: playbook.value,
            inventory: inventory.value,
          });
          toast(`Schedule ${name.value.trim()} created`);
          route();
        } catch (e) {
          err.textContent = e.message;
        }
      },
    },
    field("Name", name),
    field("When (cron, UTC)", cron),
    field("Project", project),
    field("Playbook", playbook),
    field("Inventory", inventory),
    el("span"),
    el("div", { class: "row" }, el("button", { class: "primary", type: "submit", id: "create-schedule" }, "Create schedule")),
    el("div", { class: "full" }, err),
  );
  main.replaceChildren(
    el("h1", {}, "Schedules"),
    el(
      "table",
      { id: "schedules" },
      el("thead", {}, el("tr", {}, ["Name", "Project", "When", "Playbook", "Next run", "Last run", ""].map((h) => el("th", {}, h)))),
      body,
    ),
    el("h2", {}, "New schedule"),
    form,
  );
}

async function act(f) {
  try {
    await f();
    route();
  } catch (e) {
    toast(e.message, true);
  }
}

async function usersView() {
  if (me.role !== "admin") {
    main.replaceChildren(el("h1", {}, "Users"), el("p", { class: "muted" }, "Only administrators manage users."));
    return;
  }
  const users = await api("GET", "/users");
  const roleSelect = (u) =>
    el(
      "select",
      { onchange: (ev) => act(() => api("PATCH", `/users/${encodeURIComponent(u.name)}`, { role: ev.target.value })) },
      ["admin", "operator", "viewer"].map((r) => el("option", { value: r, selected: r === u.role }, r)),
    );
  const body = el(
    "tbody",
    {},
    users.map((u) =>
      el(
        "tr",
        { "data-user": u.name },
        el("td", {}, u.name),
        el("td", {}, u.name === me.name ? u.role : roleSelect(u)),
        el("td", {}, u.disabled ? "disabled" : "active"),
        el("td", {}, when(u.created_at)),
        el(
          "td",
          {},
          u.name === me.name
            ? ""
            : el("button", { class: "plain", onclick: () => act(() => api("PATCH", `/users/${encodeURIComponent(u.name)}`, { disabled: !u.disabled })) }, u.disabled ? "Enable" : "Disable"),
        ),
      ),
    ),
  );
  const name = el("input", { type: "text", id: "user-name" });
  const pw = el("input", { type: "password", id: "user-password", autocomplete: "new-password" });
  const role = el("select", { id: "user-role" }, ["viewer", "operator", "admin"].map((r) => el("option", { value: r }, r)));
  const err = errorBox();
  const form = el(
    "form",
    {
      class: "grid card",
      id: "new-user",
      onsubmit: async (ev) => {
        ev.preventDefault();
        err.textContent = "";
        try {
          await api("POST", "/users", { name: name.value.trim(), password: pw.value, role: role.value });
          toast(`User ${name.value.trim()} created`);
          route();
        } catch (e) {
          err.textContent = e.message;
        }
      },
    },
    field("Name", name),
    field("Password", pw),
    field("Role", role),
    el("span"),
    el("div", { class: "row" }, el("button", { class: "primary", type: "submit", id: "create-user" }, "Create user")),
    el("div", { class: "full" }, err),
  );
  main.replaceChildren(
    el("h1", {}, "Users"),
    el("table", { id: "users" }, el("thead", {}, el("tr", {}, ["Name", "Role", "State", "Created", ""].map((h) => el("th", {}, h)))), body),
    el("h2", {}, "New user"),
    form,
  );
}

// ---- routing ----

// One route at a time: a view that is still loading must not paint over the page the user
// moved on to (a slow schedules reload used to land after a click on Users). Calls made while
// one runs are folded into one more pass, which reads the hash as it is then.
let routing = null;
let routeAgain = false;
function route() {
  if (routing) {
    routeAgain = true;
    return routing;
  }
  routing = (async () => {
    do {
      routeAgain = false;
      await routeOnce();
    } while (routeAgain);
    routing = null;
  })();
  return routing;
}

async function routeOnce() {
  stopView();
  stopView = () => {};
  const nav = document.getElementById("nav");
  const logout = document.getElementById("logout");
  if (!sessionStorage.getItem(TOKEN)) {
    nav.hidden = true;
    logout.hidden = true;
    document.getElementById("who").textContent = "";
    return loginView();
  }
  try {
    if (!me) {
      const r = await api("GET", "/me");
      me = r.user;
    }
  } catch {
    return;
  }
  nav.hidden = false;
  logout.hidden = false;
  document.getElementById("who").textContent = `${me.name} (${me.role})`;
  const [, page, arg] = (location.hash || "#/runs").split("/");
  for (const a of nav.querySelectorAll("a")) a.classList.toggle("active", a.dataset.nav === page);
  try {
    let stop;
    if (page === "runs" && arg) stop = await runView(Number(arg));
    else if (page === "new") stop = await newRunView();
    else if (page === "schedules") stop = await schedulesView();
    else if (page === "users") stop = await usersView();
    else stop = await runsView();
    if (typeof stop === "function") stopView = stop;
  } catch (e) {
    main.replaceChildren(el("p", { class: "error" }, e.message));
  }
}

document.getElementById("logout").addEventListener("click", async () => {
  // The server ends the session too: a copied token is worthless after sign-out.
  try {
    await api("POST", "/logout");
  } catch {
    // Already expired or revoked: signing out here is all that is left.
  }
  sessionStorage.removeItem(TOKEN);
  me = null;
  location.hash = "";
  route();
});
window.addEventListener("hashchange", route);
route();

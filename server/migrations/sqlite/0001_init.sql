-- hoist control plane, schema version 1 (SQLite).
CREATE TABLE users (
  id            INTEGER PRIMARY KEY,
  name          TEXT NOT NULL UNIQUE,
  password_hash TEXT,
  role          TEXT NOT NULL CHECK (role IN ('admin', 'operator', 'viewer')),
  disabled      INTEGER NOT NULL DEFAULT 0,
  created_at    TEXT NOT NULL
);

CREATE TABLE tokens (
  id           INTEGER PRIMARY KEY,
  user_id      INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  name         TEXT NOT NULL,
  public_id    TEXT NOT NULL UNIQUE,
  secret_hash  TEXT NOT NULL,
  scopes       TEXT NOT NULL,
  expires_at   TEXT,
  revoked      INTEGER NOT NULL DEFAULT 0,
  created_at   TEXT NOT NULL,
  last_used_at TEXT
);

CREATE TABLE projects (
  id         INTEGER PRIMARY KEY,
  name       TEXT NOT NULL UNIQUE,
  path       TEXT NOT NULL,
  created_at TEXT NOT NULL
);

-- A user's role on one project (overrides the user's global role there, never upward of admin).
CREATE TABLE permissions (
  user_id    INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  project_id INTEGER NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
  role       TEXT NOT NULL CHECK (role IN ('admin', 'operator', 'viewer')),
  PRIMARY KEY (user_id, project_id)
);

CREATE TABLE runs (
  id           INTEGER PRIMARY KEY,
  project_id   INTEGER NOT NULL REFERENCES projects(id),
  playbook     TEXT NOT NULL,
  inventory    TEXT NOT NULL,
  options      TEXT NOT NULL,            -- JSON: limit, tags, skip_tags, extra_vars, check, diff
  status       TEXT NOT NULL CHECK (status IN ('queued', 'running', 'ok', 'failed', 'unreachable', 'cancelled', 'lost')),
  created_by   TEXT NOT NULL,
  schedule_id  INTEGER,
  instance     TEXT,                     -- the server instance running it
  heartbeat_at TEXT,
  cancel       INTEGER NOT NULL DEFAULT 0,
  created_at   TEXT NOT NULL,
  started_at   TEXT,
  finished_at  TEXT,
  exit_code    INTEGER
);
CREATE INDEX runs_status ON runs(status, id);

CREATE TABLE run_events (
  run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
  seq    INTEGER NOT NULL,
  event  TEXT NOT NULL,                  -- the JSON event, secrets already masked
  PRIMARY KEY (run_id, seq)
);

CREATE TABLE run_hosts (
  run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
  host   TEXT NOT NULL,
  stats  TEXT NOT NULL,                  -- JSON: ok, changed, failed, unreachable, ...
  PRIMARY KEY (run_id, host)
);

CREATE TABLE schedules (
  id          INTEGER PRIMARY KEY,
  project_id  INTEGER NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
  name        TEXT NOT NULL,
  cron        TEXT NOT NULL,
  playbook    TEXT NOT NULL,
  inventory   TEXT NOT NULL,
  options     TEXT NOT NULL,
  enabled     INTEGER NOT NULL DEFAULT 1,
  next_run_at TEXT NOT NULL,
  last_run_id INTEGER,
  created_at  TEXT NOT NULL,
  UNIQUE (project_id, name)
);

CREATE TABLE audit (
  id     INTEGER PRIMARY KEY,
  at     TEXT NOT NULL,
  actor  TEXT NOT NULL,
  action TEXT NOT NULL,
  target TEXT NOT NULL,
  detail TEXT NOT NULL                   -- JSON
);

-- hoist control plane, schema version 1 (PostgreSQL). Same tables as SQLite's; times are
-- timestamptz taken from the database's clock (instances on several machines agree on it),
-- JSON documents are jsonb except run events, kept as the exact text the engine emitted.
CREATE TABLE users (
  id            BIGSERIAL PRIMARY KEY,
  name          TEXT NOT NULL UNIQUE,
  password_hash TEXT,
  role          TEXT NOT NULL CHECK (role IN ('admin', 'operator', 'viewer')),
  disabled      BOOLEAN NOT NULL DEFAULT FALSE,
  created_at    TIMESTAMPTZ NOT NULL DEFAULT now()
);

CREATE TABLE tokens (
  id           BIGSERIAL PRIMARY KEY,
  user_id      BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  name         TEXT NOT NULL,
  public_id    TEXT NOT NULL UNIQUE,
  secret_hash  TEXT NOT NULL,
  scopes       TEXT NOT NULL,
  expires_at   TIMESTAMPTZ,
  revoked      BOOLEAN NOT NULL DEFAULT FALSE,
  created_at   TIMESTAMPTZ NOT NULL DEFAULT now(),
  last_used_at TIMESTAMPTZ
);

CREATE TABLE projects (
  id         BIGSERIAL PRIMARY KEY,
  name       TEXT NOT NULL UNIQUE,
  path       TEXT NOT NULL,
  created_at TIMESTAMPTZ NOT NULL DEFAULT now()
);

CREATE TABLE permissions (
  user_id    BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  project_id BIGINT NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
  role       TEXT NOT NULL CHECK (role IN ('admin', 'operator', 'viewer')),
  PRIMARY KEY (user_id, project_id)
);

CREATE TABLE runs (
  id           BIGSERIAL PRIMARY KEY,
  project_id   BIGINT NOT NULL REFERENCES projects(id),
  playbook     TEXT NOT NULL,
  inventory    TEXT NOT NULL,
  options      JSONB NOT NULL,
  status       TEXT NOT NULL CHECK (status IN ('queued', 'running', 'ok', 'failed', 'unreachable', 'cancelled', 'lost')),
  created_by   TEXT NOT NULL,
  schedule_id  BIGINT,
  instance     TEXT,
  heartbeat_at TIMESTAMPTZ,
  cancel       BOOLEAN NOT NULL DEFAULT FALSE,
  created_at   TIMESTAMPTZ NOT NULL DEFAULT now(),
  started_at   TIMESTAMPTZ,
  finished_at  TIMESTAMPTZ,
  exit_code    BIGINT
);
CREATE INDEX runs_status ON runs(status, id);

CREATE TABLE run_events (
  run_id BIGINT NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
  seq    BIGINT NOT NULL,
  event  TEXT NOT NULL,
  PRIMARY KEY (run_id, seq)
);

CREATE TABLE run_hosts (
  run_id BIGINT NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
  host   TEXT NOT NULL,
  stats  JSONB NOT NULL,
  PRIMARY KEY (run_id, host)
);

CREATE TABLE schedules (
  id          BIGSERIAL PRIMARY KEY,
  project_id  BIGINT NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
  name        TEXT NOT NULL,
  cron        TEXT NOT NULL,
  playbook    TEXT NOT NULL,
  inventory   TEXT NOT NULL,
  options     JSONB NOT NULL,
  enabled     BOOLEAN NOT NULL DEFAULT TRUE,
  next_run_at TIMESTAMPTZ NOT NULL,
  last_run_id BIGINT,
  created_at  TIMESTAMPTZ NOT NULL DEFAULT now(),
  UNIQUE (project_id, name)
);

CREATE TABLE audit (
  id     BIGSERIAL PRIMARY KEY,
  at     TIMESTAMPTZ NOT NULL DEFAULT now(),
  actor  TEXT NOT NULL,
  action TEXT NOT NULL,
  target TEXT NOT NULL,
  detail JSONB NOT NULL
);

-- Sessions (handed out by /login) and API tokens are told apart: self-service account changes
-- need a session and the current password, never an API token.
ALTER TABLE tokens ADD COLUMN kind TEXT NOT NULL DEFAULT 'api';
UPDATE tokens SET kind = 'session' WHERE name = 'session';

-- A schedule runs on behalf of its owner, checked each time it fires: a schedule whose owner is
-- disabled or no longer an operator of the project stops starting runs. Existing schedules are
-- owned by whoever created them (from the audit log); one without an owner does not fire until
-- someone who may start runs changes it.
ALTER TABLE schedules ADD COLUMN owner_id INTEGER REFERENCES users(id) ON DELETE SET NULL;
UPDATE schedules SET owner_id = (
  SELECT u.id FROM audit a JOIN users u ON u.name = a.actor
  WHERE a.action = 'schedule.create' AND a.target = schedules.name
  ORDER BY a.id DESC LIMIT 1
);

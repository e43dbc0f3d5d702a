-- Sessions (handed out by /login) and API tokens are told apart: self-service account changes
-- need a session and the current password, never an API token.
ALTER TABLE tokens ADD COLUMN kind TEXT NOT NULL DEFAULT 'api';
UPDATE tokens SET kind = 'session' WHERE name = 'session';

-- A run whose instance died is queued again as a new run (attempt + 1, retry_of = the lost
-- run), up to the server's --max-attempts.
ALTER TABLE runs ADD COLUMN attempt INTEGER NOT NULL DEFAULT 1;
ALTER TABLE runs ADD COLUMN retry_of INTEGER REFERENCES runs(id);

-- Instances learn of each other's work at once instead of polling: every change of a run's
-- status or cancel flag, and every batch of its events, is announced on the channel
-- `hoist_runs` with the run's id, and `0` when the queue gained a run. PostgreSQL sends
-- notifications at commit and folds repeats within a transaction.
CREATE FUNCTION hoist_notify_run() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify('hoist_runs', NEW.id::text);
  IF NEW.status = 'queued' THEN
    PERFORM pg_notify('hoist_runs', '0');
  END IF;
  RETURN NULL;
END $$;
CREATE TRIGGER runs_notify AFTER INSERT OR UPDATE OF status, cancel ON runs
  FOR EACH ROW EXECUTE FUNCTION hoist_notify_run();

CREATE FUNCTION hoist_notify_events() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify('hoist_runs', r.run_id::text) FROM (SELECT DISTINCT run_id FROM new_events) AS r;
  RETURN NULL;
END $$;
CREATE TRIGGER run_events_notify AFTER INSERT ON run_events
  REFERENCING NEW TABLE AS new_events FOR EACH STATEMENT EXECUTE FUNCTION hoist_notify_events();

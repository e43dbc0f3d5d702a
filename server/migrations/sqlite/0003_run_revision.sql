-- The commit a run of a git project works on.
ALTER TABLE runs ADD COLUMN revision TEXT;

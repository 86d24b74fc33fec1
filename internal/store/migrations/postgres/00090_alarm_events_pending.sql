-- +goose Up
-- The SQLite schema builds its per-account index of raw signals in bulk
-- (see the SQLite migration of the same number); PostgreSQL indexes every
-- signal as it is stored, so here the column only keeps both schemas
-- alike and is always true.
ALTER TABLE alarm_events ADD COLUMN indexed BOOLEAN NOT NULL DEFAULT TRUE;

-- +goose Down
ALTER TABLE alarm_events DROP COLUMN indexed;

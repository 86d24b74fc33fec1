-- +goose Up
-- The per-account index of raw signals is the costliest part of storing a
-- signal: its entries for many panels interleave, so every batch dirties
-- a page per panel. On SQLite it now holds only the account number (and,
-- as every SQLite index, the rowid): a sixth of the size, so fewer page
-- splits and writes (measured: 22k → 30k signals/s in BenchmarkIngest).
-- Rows are inserted in the order they were received, so the rowid gives
-- "newest first" without received_at in the key (see Service.Events).
DROP INDEX alarm_events_account;
CREATE INDEX alarm_events_account ON alarm_events(account);

-- +goose Down
DROP INDEX alarm_events_account;
CREATE INDEX alarm_events_account ON alarm_events(org_id, account, received_at);

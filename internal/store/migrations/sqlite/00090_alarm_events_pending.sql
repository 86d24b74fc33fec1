-- +goose Up
-- The per-account index of raw signals is built in bulk, not per signal.
-- Its entries for many panels interleave, so an apply transaction of a few
-- hundred signals wrote a page of it per panel: three in five of the pages
-- such a transaction wrote (measured: 120–134 of 198–216 WAL frames for 160
-- signals from 100 panels). Signals from the inbox now arrive with
-- indexed = 0 and sit in alarm_events_pending, a small index that only
-- grows at its end; the applier later moves thousands of them at once
-- into alarm_events_account, where each panel's page is then written once
-- per thousand signals. Queries by account read both (Service.Events).
-- Rows inserted any other way default to indexed = 1, as do existing rows.
ALTER TABLE alarm_events ADD COLUMN indexed INTEGER NOT NULL DEFAULT 1;
DROP INDEX alarm_events_account;
CREATE INDEX alarm_events_account ON alarm_events(account) WHERE indexed = 1;
CREATE INDEX alarm_events_pending ON alarm_events(indexed) WHERE indexed = 0;

-- +goose Down
DROP INDEX alarm_events_pending;
DROP INDEX alarm_events_account;
CREATE INDEX alarm_events_account ON alarm_events(account);
ALTER TABLE alarm_events DROP COLUMN indexed;

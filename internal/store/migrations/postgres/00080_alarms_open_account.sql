-- +goose Up
-- Open alarms by account: a signal after a communication failure restores
-- the account's comm-failure alarm, and a cancel code cancels the account's
-- open alarms. Without this index each of those scanned every alarm ever
-- raised; in a storm every account's supervision clock comes due at once,
-- and the scans held the writer for over 100 ms every 5 seconds.
CREATE INDEX alarms_open_account ON alarms(account_id) WHERE is_open;

-- +goose Down
DROP INDEX alarms_open_account;

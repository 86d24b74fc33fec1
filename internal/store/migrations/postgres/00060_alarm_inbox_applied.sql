-- +goose Up
-- On SQLite the receiver's inbox lives in its own file (alarm-inbox.db), so
-- its commits never wait for this database's writer. Applying inbox rows
-- and recording how far they were applied happen in one transaction here:
-- seq is the last applied row of the inbox file whose random epoch is
-- given, so after a crash the applier neither repeats nor skips a row, and
-- a new inbox file (another epoch) starts from its beginning.
CREATE TABLE alarm_inbox_applied (
    epoch  TEXT PRIMARY KEY,
    seq    BIGINT NOT NULL
);

-- +goose Down
DROP TABLE alarm_inbox_applied;

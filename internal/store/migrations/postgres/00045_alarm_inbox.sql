-- +goose Up
-- The alarm receiver's durable inbox. A panel is ACKed once its signal is
-- committed here: one row per receiver group commit, appended at the end
-- of a table that stays small, so the commit before the ACK writes a few
-- pages instead of one page per index per signal. The applier moves the
-- rows into alarm_events and alarms in larger transactions and deletes
-- them in the same transaction (see internal/alarm/inbox.go).
CREATE TABLE alarm_inbox (
    seq          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    received_at  TIMESTAMPTZ NOT NULL,
    events       TEXT NOT NULL
);

-- +goose Down
DROP TABLE alarm_inbox;

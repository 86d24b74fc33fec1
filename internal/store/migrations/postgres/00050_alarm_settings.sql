-- +goose Up
-- Per-organisation alarm settings: seconds an alarm may stay unacknowledged,
-- per priority, before it escalates (and again after each further period).
-- 0 = never (not allowed for priority 1). No row: the parent organisation's
-- row applies, else the built-in defaults (alarm.DefaultEscalation).

CREATE TABLE alarm_settings (
    org_id          TEXT PRIMARY KEY REFERENCES orgs(id) ON DELETE CASCADE,
    escalate_p1_s   INTEGER NOT NULL,
    escalate_p2_s   INTEGER NOT NULL,
    escalate_p3_s   INTEGER NOT NULL,
    escalate_p4_s   INTEGER NOT NULL,
    updated_at      TIMESTAMPTZ NOT NULL
);

-- +goose Down
DROP TABLE alarm_settings;

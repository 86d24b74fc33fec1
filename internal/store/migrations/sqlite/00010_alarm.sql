-- +goose Up
-- Alarm receiving and monitoring. alarm_events is the durable record of every
-- signal (a panel is ACKed only after its row committed); alarms are what
-- operators work, grouped from events; alarm_log is each alarm's timestamped
-- history (state changes, SOP steps, notes, dispatch). Times are UTC and come
-- from the application.

CREATE TABLE alarm_accounts (
    id              TEXT PRIMARY KEY,
    org_id          TEXT NOT NULL REFERENCES orgs(id),
    site_id         TEXT NOT NULL REFERENCES sites(id) ON DELETE CASCADE,
    number          TEXT NOT NULL,
    receiver        TEXT NOT NULL DEFAULT '',
    line            TEXT NOT NULL DEFAULT '',
    name            TEXT NOT NULL DEFAULT '',
    key_text        TEXT NOT NULL DEFAULT '',
    key_format      TEXT NOT NULL DEFAULT '',
    encrypted       BOOLEAN NOT NULL DEFAULT FALSE,
    quirks          TEXT NOT NULL DEFAULT '{}',
    supervision_s   INTEGER NOT NULL DEFAULT 0,
    zone_map        TEXT NOT NULL DEFAULT '{}',
    overrides       TEXT NOT NULL DEFAULT '{}',
    on_test_until   TIMESTAMP,
    last_signal_at  TIMESTAMP,
    created_at      TIMESTAMP NOT NULL,
    updated_at      TIMESTAMP NOT NULL
);
CREATE UNIQUE INDEX alarm_accounts_ident ON alarm_accounts(number, receiver, line);
CREATE INDEX alarm_accounts_org ON alarm_accounts(org_id, site_id);

CREATE TABLE alarm_sources (
    id          TEXT PRIMARY KEY,
    org_id      TEXT NOT NULL REFERENCES orgs(id),
    site_id     TEXT NOT NULL REFERENCES sites(id) ON DELETE CASCADE,
    kind        TEXT NOT NULL CHECK (kind IN ('webhook', 'mqtt')),
    name        TEXT NOT NULL,
    token_hash  TEXT UNIQUE,
    broker_url  TEXT NOT NULL DEFAULT '',
    topic       TEXT NOT NULL DEFAULT '',
    device_map  TEXT NOT NULL DEFAULT '{}',
    created_at  TIMESTAMP NOT NULL,
    updated_at  TIMESTAMP NOT NULL
);
CREATE INDEX alarm_sources_org ON alarm_sources(org_id);

CREATE TABLE alarms (
    id                TEXT PRIMARY KEY,
    org_id            TEXT NOT NULL REFERENCES orgs(id),
    site_id           TEXT NOT NULL,
    account_id        TEXT NOT NULL DEFAULT '',
    group_key         TEXT NOT NULL,
    is_open           BOOLEAN NOT NULL,
    type              TEXT NOT NULL,
    priority          INTEGER NOT NULL,
    title             TEXT NOT NULL,
    zone              TEXT NOT NULL DEFAULT '',
    zone_name         TEXT NOT NULL DEFAULT '',
    zone_id           TEXT NOT NULL DEFAULT '',
    device_id         TEXT NOT NULL DEFAULT '',
    state             TEXT NOT NULL,
    signals           INTEGER NOT NULL,
    first_at          TIMESTAMP NOT NULL,
    last_at           TIMESTAMP NOT NULL,
    restored_at       TIMESTAMP,
    cancelled_at      TIMESTAMP,
    owner_id          TEXT NOT NULL DEFAULT '',
    owner_name        TEXT NOT NULL DEFAULT '',
    acked_at          TIMESTAMP,
    escalation        INTEGER NOT NULL DEFAULT 0,
    escalated_at      TIMESTAMP,
    dispatched_to     TEXT NOT NULL DEFAULT '',
    resolved_at       TIMESTAMP,
    disposition       TEXT NOT NULL DEFAULT '',
    closed_at         TIMESTAMP,
    sop               TEXT NOT NULL DEFAULT '',
    updated_at        TIMESTAMP NOT NULL
);
-- At most one open alarm per group: repeat signals join it (upsert).
CREATE UNIQUE INDEX alarms_open_group ON alarms(group_key) WHERE is_open;
CREATE INDEX alarms_queue ON alarms(org_id, state, priority, first_at);

CREATE TABLE alarm_events (
    id           TEXT PRIMARY KEY,
    org_id       TEXT NOT NULL,
    site_id      TEXT NOT NULL DEFAULT '',
    account_id   TEXT NOT NULL DEFAULT '',
    account      TEXT NOT NULL DEFAULT '',
    source       TEXT NOT NULL,
    dedup_key    TEXT NOT NULL,
    received_at  TIMESTAMP NOT NULL,
    event_at     TIMESTAMP,
    code         TEXT NOT NULL DEFAULT '',
    class        TEXT NOT NULL,
    kind         TEXT NOT NULL,
    zone         TEXT NOT NULL DEFAULT '',
    user_no      TEXT NOT NULL DEFAULT '',
    description  TEXT NOT NULL DEFAULT '',
    raw          TEXT NOT NULL DEFAULT '',
    remote       TEXT NOT NULL DEFAULT '',
    on_test      BOOLEAN NOT NULL DEFAULT FALSE,
    alarm_id     TEXT NOT NULL DEFAULT ''
);
-- Retransmitted frames carry the same key and are recorded once.
CREATE UNIQUE INDEX alarm_events_dedup ON alarm_events(dedup_key);
CREATE INDEX alarm_events_account ON alarm_events(org_id, account, received_at);
-- Most events (polls, open/close) belong to no alarm: index only the linked.
CREATE INDEX alarm_events_alarm ON alarm_events(alarm_id) WHERE alarm_id <> '';

CREATE TABLE alarm_log (
    id         TEXT PRIMARY KEY,
    org_id     TEXT NOT NULL,
    alarm_id   TEXT NOT NULL REFERENCES alarms(id),
    at         TIMESTAMP NOT NULL,
    actor_id   TEXT NOT NULL DEFAULT '',
    actor      TEXT NOT NULL DEFAULT '',
    kind       TEXT NOT NULL,
    step       TEXT NOT NULL DEFAULT '',
    status     TEXT NOT NULL DEFAULT '',
    text       TEXT NOT NULL DEFAULT ''
);
CREATE INDEX alarm_log_alarm ON alarm_log(alarm_id, at);

CREATE TABLE alarm_sops (
    id          TEXT PRIMARY KEY,
    org_id      TEXT NOT NULL REFERENCES orgs(id),
    site_id     TEXT NOT NULL DEFAULT '',
    alarm_type  TEXT NOT NULL,
    name        TEXT NOT NULL,
    steps       TEXT NOT NULL,
    created_at  TIMESTAMP NOT NULL,
    updated_at  TIMESTAMP NOT NULL
);
CREATE UNIQUE INDEX alarm_sops_scope ON alarm_sops(org_id, site_id, alarm_type);

-- Frames from accounts nobody provisioned: one row per identity, counted,
-- shown to operator administrators.
CREATE TABLE alarm_unknown (
    ident        TEXT PRIMARY KEY,
    receiver     TEXT NOT NULL DEFAULT '',
    line         TEXT NOT NULL DEFAULT '',
    account      TEXT NOT NULL,
    remote       TEXT NOT NULL DEFAULT '',
    raw          TEXT NOT NULL DEFAULT '',
    frames       INTEGER NOT NULL,
    first_at     TIMESTAMP NOT NULL,
    last_at      TIMESTAMP NOT NULL
);

-- +goose Down
DROP TABLE alarm_unknown;
DROP TABLE alarm_sops;
DROP TABLE alarm_log;
DROP TABLE alarm_events;
DROP TABLE alarms;
DROP TABLE alarm_sources;
DROP TABLE alarm_accounts;

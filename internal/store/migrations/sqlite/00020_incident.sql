-- +goose Up
-- Incidents, their revisions, log entries, attachments, notifications, daily
-- activity reports and saved filters. Details that are never filtered on
-- (people, vehicles, property, liaison, custom fields) live in the JSON
-- `details` column; the columns are what lists, filters and statistics use.

CREATE TABLE incident_types (
    id          TEXT PRIMARY KEY,
    org_id      TEXT NOT NULL REFERENCES orgs(id),
    code        TEXT NOT NULL,
    label       TEXT NOT NULL,
    fields      TEXT NOT NULL DEFAULT '[]',
    active      BOOLEAN NOT NULL DEFAULT TRUE,
    position    INTEGER NOT NULL DEFAULT 0,
    created_at  TIMESTAMP NOT NULL,
    updated_at  TIMESTAMP NOT NULL,
    UNIQUE (org_id, code)
);

CREATE TABLE incident_counters (
    org_id  TEXT PRIMARY KEY REFERENCES orgs(id),
    next    BIGINT NOT NULL
);

-- seq is the integer key the full-text index points at (SQLite rowid).
CREATE TABLE incidents (
    seq             INTEGER PRIMARY KEY,
    id              TEXT NOT NULL UNIQUE,
    org_id          TEXT NOT NULL REFERENCES orgs(id),
    site_id         TEXT NOT NULL REFERENCES sites(id),
    zone_id         TEXT,
    number          BIGINT NOT NULL,
    type            TEXT NOT NULL,
    severity        TEXT NOT NULL,
    status          TEXT NOT NULL,
    title           TEXT NOT NULL,
    narrative       TEXT NOT NULL DEFAULT '',
    search_text     TEXT NOT NULL DEFAULT '',
    -- PostgreSQL keeps the report's tsvector here (a generated column);
    -- SQLite indexes the same text in incident_fts and leaves this NULL.
    search_doc      TEXT,
    occurred_at     TIMESTAMP NOT NULL,
    reported_at     TIMESTAMP NOT NULL,
    discovered_at   TIMESTAMP,
    latitude        DOUBLE PRECISION,
    longitude       DOUBLE PRECISION,
    officer_id      TEXT NOT NULL DEFAULT '',
    officer_name    TEXT NOT NULL DEFAULT '',
    details         TEXT NOT NULL DEFAULT '{}',
    ics             BOOLEAN NOT NULL DEFAULT FALSE,
    revision        INTEGER NOT NULL DEFAULT 1,
    review_comment  TEXT NOT NULL DEFAULT '',
    submitted_at    TIMESTAMP,
    approved_at     TIMESTAMP,
    approved_by     TEXT NOT NULL DEFAULT '',
    closed_at       TIMESTAMP,
    created_at      TIMESTAMP NOT NULL,
    updated_at      TIMESTAMP NOT NULL,
    UNIQUE (org_id, number)
);
CREATE INDEX incidents_org_occurred ON incidents(org_id, occurred_at DESC, seq DESC);
CREATE INDEX incidents_occurred ON incidents(occurred_at DESC, seq DESC);
CREATE INDEX incidents_org_status ON incidents(org_id, status, occurred_at DESC);
CREATE INDEX incidents_org_site ON incidents(org_id, site_id, occurred_at DESC);
CREATE INDEX incidents_org_type ON incidents(org_id, type, occurred_at DESC);
CREATE INDEX incidents_org_officer ON incidents(org_id, officer_id, occurred_at DESC);
-- Covers the statistics query, which counts a period's reports in one pass.
CREATE INDEX incidents_stats ON incidents(org_id, occurred_at, type, site_id, severity, status);

-- Full-text index over title, narrative and search_text (people, vehicles,
-- log entries), kept in step by triggers; it stores no copy of the text.
CREATE VIRTUAL TABLE incident_fts USING fts5(
    title, narrative, search_text,
    content='incidents', content_rowid='seq', tokenize='unicode61 remove_diacritics 2'
);
-- +goose StatementBegin
CREATE TRIGGER incidents_fts_ai AFTER INSERT ON incidents BEGIN
    INSERT INTO incident_fts(rowid, title, narrative, search_text) VALUES (new.seq, new.title, new.narrative, new.search_text);
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER incidents_fts_ad AFTER DELETE ON incidents BEGIN
    INSERT INTO incident_fts(incident_fts, rowid, title, narrative, search_text) VALUES ('delete', old.seq, old.title, old.narrative, old.search_text);
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER incidents_fts_au AFTER UPDATE OF title, narrative, search_text ON incidents BEGIN
    INSERT INTO incident_fts(incident_fts, rowid, title, narrative, search_text) VALUES ('delete', old.seq, old.title, old.narrative, old.search_text);
    INSERT INTO incident_fts(rowid, title, narrative, search_text) VALUES (new.seq, new.title, new.narrative, new.search_text);
END;
-- +goose StatementEnd

-- Append-only: one full snapshot per saved change, so an amendment after
-- approval never loses what was approved.
CREATE TABLE incident_revisions (
    id           TEXT PRIMARY KEY,
    org_id       TEXT NOT NULL REFERENCES orgs(id),
    incident_id  TEXT NOT NULL REFERENCES incidents(id),
    revision     INTEGER NOT NULL,
    status       TEXT NOT NULL,
    reason       TEXT NOT NULL DEFAULT '',
    actor_id     TEXT NOT NULL DEFAULT '',
    actor        TEXT NOT NULL,
    snapshot     TEXT NOT NULL,
    created_at   TIMESTAMP NOT NULL,
    UNIQUE (incident_id, revision)
);

CREATE TABLE incident_log (
    id           TEXT PRIMARY KEY,
    org_id       TEXT NOT NULL REFERENCES orgs(id),
    incident_id  TEXT NOT NULL REFERENCES incidents(id),
    at           TIMESTAMP NOT NULL,
    kind         TEXT NOT NULL,
    actor_id     TEXT NOT NULL DEFAULT '',
    author       TEXT NOT NULL,
    text         TEXT NOT NULL,
    created_at   TIMESTAMP NOT NULL
);
CREATE INDEX incident_log_incident ON incident_log(incident_id, at);

CREATE TABLE incident_attachments (
    id            TEXT PRIMARY KEY,
    org_id        TEXT NOT NULL REFERENCES orgs(id),
    incident_id   TEXT REFERENCES incidents(id),
    sha256        TEXT NOT NULL,
    thumb_sha256  TEXT NOT NULL DEFAULT '',
    preview_sha256 TEXT NOT NULL DEFAULT '',
    filename      TEXT NOT NULL,
    content_type  TEXT NOT NULL,
    size          BIGINT NOT NULL,
    width         INTEGER NOT NULL DEFAULT 0,
    height        INTEGER NOT NULL DEFAULT 0,
    caption       TEXT NOT NULL DEFAULT '',
    actor_id      TEXT NOT NULL DEFAULT '',
    created_at    TIMESTAMP NOT NULL
);
CREATE INDEX incident_attachments_incident ON incident_attachments(incident_id, created_at);

CREATE TABLE incident_notifications (
    id           TEXT PRIMARY KEY,
    org_id       TEXT NOT NULL REFERENCES orgs(id),
    subject_type TEXT NOT NULL,
    subject_id   TEXT NOT NULL,
    channel      TEXT NOT NULL,
    recipients   TEXT NOT NULL,
    subject      TEXT NOT NULL,
    status       TEXT NOT NULL,
    error        TEXT NOT NULL DEFAULT '',
    actor_id     TEXT NOT NULL DEFAULT '',
    created_at   TIMESTAMP NOT NULL
);
CREATE INDEX incident_notifications_subject ON incident_notifications(subject_id, created_at);

CREATE TABLE incident_filters (
    id          TEXT PRIMARY KEY,
    org_id      TEXT NOT NULL REFERENCES orgs(id),
    user_id     TEXT NOT NULL REFERENCES users(id),
    name        TEXT NOT NULL,
    query       TEXT NOT NULL,
    created_at  TIMESTAMP NOT NULL,
    UNIQUE (user_id, org_id, name)
);

CREATE TABLE dar_entries (
    id            TEXT PRIMARY KEY,
    org_id        TEXT NOT NULL REFERENCES orgs(id),
    site_id       TEXT NOT NULL REFERENCES sites(id),
    day           TEXT NOT NULL,
    at            TIMESTAMP NOT NULL,
    kind          TEXT NOT NULL,
    text          TEXT NOT NULL,
    incident_id   TEXT NOT NULL DEFAULT '',
    attachment_id TEXT NOT NULL DEFAULT '',
    officer_id    TEXT NOT NULL DEFAULT '',
    officer_name  TEXT NOT NULL,
    created_at    TIMESTAMP NOT NULL
);
CREATE INDEX dar_entries_site_day ON dar_entries(site_id, day, at);

CREATE TABLE dar_reports (
    id           TEXT PRIMARY KEY,
    org_id       TEXT NOT NULL REFERENCES orgs(id),
    site_id      TEXT NOT NULL REFERENCES sites(id),
    day          TEXT NOT NULL,
    status       TEXT NOT NULL,
    approved_by  TEXT NOT NULL DEFAULT '',
    approved_at  TIMESTAMP,
    sent_at      TIMESTAMP,
    created_at   TIMESTAMP NOT NULL,
    UNIQUE (site_id, day)
);

-- +goose Down
DROP TABLE dar_reports;
DROP TABLE dar_entries;
DROP TABLE incident_filters;
DROP TABLE incident_notifications;
DROP TABLE incident_attachments;
DROP TABLE incident_log;
DROP TABLE incident_revisions;
DROP TRIGGER incidents_fts_au;
DROP TRIGGER incidents_fts_ad;
DROP TRIGGER incidents_fts_ai;
DROP TABLE incident_fts;
DROP TABLE incidents;
DROP TABLE incident_counters;
DROP TABLE incident_types;

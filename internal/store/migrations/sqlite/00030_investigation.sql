-- +goose Up
-- Investigations: need-to-know cases, evidence with an append-only, hash-chained
-- chain of custody, interviews, the anonymous hotline and threat assessment.
-- Evidence, custody, integrity checks, hotline messages and assessments are
-- appended and never updated. Times are UTC and come from the application.

CREATE TABLE inv_settings (
    org_id            TEXT PRIMARY KEY REFERENCES orgs(id),
    case_wide_roles   TEXT NOT NULL DEFAULT '',
    ack_days          INTEGER NOT NULL DEFAULT 7,
    feedback_days     INTEGER NOT NULL DEFAULT 90,
    hotline_enabled   BOOLEAN NOT NULL DEFAULT TRUE,
    hotline_intro     TEXT NOT NULL DEFAULT '',
    updated_at        TIMESTAMP NOT NULL
);

-- Per-scope sequence numbers (case numbers per organisation, exhibit
-- numbers per case): an upsert takes the next one atomically, so concurrent
-- writers on several servers never draw the same number.
CREATE TABLE inv_counters (
    scope  TEXT PRIMARY KEY,
    n      INTEGER NOT NULL
);

CREATE TABLE cases (
    id               TEXT PRIMARY KEY,
    org_id           TEXT NOT NULL REFERENCES orgs(id),
    number           INTEGER NOT NULL,
    type             TEXT NOT NULL,
    title            TEXT NOT NULL,
    summary          TEXT NOT NULL DEFAULT '',
    status           TEXT NOT NULL,
    source           TEXT NOT NULL DEFAULT 'staff',
    lead_id          TEXT REFERENCES users(id),
    due_at           TIMESTAMP,
    root_cause       TEXT NOT NULL DEFAULT '',
    created_by       TEXT NOT NULL DEFAULT '',
    created_at       TIMESTAMP NOT NULL,
    updated_at       TIMESTAMP NOT NULL,
    closed_at        TIMESTAMP,
    ack_due_at       TIMESTAMP,
    acked_at         TIMESTAMP,
    feedback_due_at  TIMESTAMP,
    feedback_at      TIMESTAMP,
    UNIQUE (org_id, number)
);
CREATE INDEX cases_org_status ON cases(org_id, status);
CREATE INDEX cases_org_id ON cases(org_id, id);

CREATE TABLE case_members (
    case_id   TEXT NOT NULL REFERENCES cases(id),
    user_id   TEXT NOT NULL REFERENCES users(id),
    org_id    TEXT NOT NULL REFERENCES orgs(id),
    role      TEXT NOT NULL CHECK (role IN ('lead', 'investigator', 'granted')),
    added_by  TEXT NOT NULL DEFAULT '',
    added_at  TIMESTAMP NOT NULL,
    PRIMARY KEY (case_id, user_id)
);
CREATE INDEX case_members_user ON case_members(user_id);

CREATE TABLE case_parties (
    id          TEXT PRIMARY KEY,
    case_id     TEXT NOT NULL REFERENCES cases(id),
    org_id      TEXT NOT NULL REFERENCES orgs(id),
    kind        TEXT NOT NULL CHECK (kind IN ('subject', 'complainant', 'witness')),
    name        TEXT NOT NULL,
    email       TEXT NOT NULL DEFAULT '',
    user_id     TEXT REFERENCES users(id),
    details     TEXT NOT NULL DEFAULT '',
    created_at  TIMESTAMP NOT NULL
);
CREATE INDEX case_parties_case ON case_parties(case_id);

CREATE TABLE case_allegations (
    id          TEXT PRIMARY KEY,
    case_id     TEXT NOT NULL REFERENCES cases(id),
    org_id      TEXT NOT NULL REFERENCES orgs(id),
    text        TEXT NOT NULL,
    outcome     TEXT NOT NULL DEFAULT '',
    created_at  TIMESTAMP NOT NULL,
    decided_at  TIMESTAMP
);
CREATE INDEX case_allegations_case ON case_allegations(case_id);

CREATE TABLE case_links (
    case_id     TEXT NOT NULL REFERENCES cases(id),
    org_id      TEXT NOT NULL REFERENCES orgs(id),
    kind        TEXT NOT NULL CHECK (kind IN ('incident', 'alarm', 'case')),
    ref         TEXT NOT NULL,
    created_at  TIMESTAMP NOT NULL,
    PRIMARY KEY (case_id, kind, ref)
);

CREATE TABLE case_tasks (
    id           TEXT PRIMARY KEY,
    case_id      TEXT NOT NULL REFERENCES cases(id),
    org_id       TEXT NOT NULL REFERENCES orgs(id),
    title        TEXT NOT NULL,
    assignee_id  TEXT REFERENCES users(id),
    due_at       TIMESTAMP,
    done_at      TIMESTAMP,
    created_at   TIMESTAMP NOT NULL
);
CREATE INDEX case_tasks_case ON case_tasks(case_id);

CREATE TABLE case_notes (
    id          TEXT PRIMARY KEY,
    case_id     TEXT NOT NULL REFERENCES cases(id),
    org_id      TEXT NOT NULL REFERENCES orgs(id),
    author_id   TEXT NOT NULL DEFAULT '',
    author      TEXT NOT NULL,
    body        TEXT NOT NULL,
    shareable   BOOLEAN NOT NULL DEFAULT FALSE,
    created_at  TIMESTAMP NOT NULL
);
CREATE INDEX case_notes_case ON case_notes(case_id);

CREATE TABLE case_actions (
    id           TEXT PRIMARY KEY,
    case_id      TEXT NOT NULL REFERENCES cases(id),
    org_id       TEXT NOT NULL REFERENCES orgs(id),
    kind         TEXT NOT NULL,
    stage        TEXT NOT NULL CHECK (stage IN ('recommended', 'taken')),
    description  TEXT NOT NULL DEFAULT '',
    created_at   TIMESTAMP NOT NULL
);
CREATE INDEX case_actions_case ON case_actions(case_id);

CREATE TABLE case_time (
    id          TEXT PRIMARY KEY,
    case_id     TEXT NOT NULL REFERENCES cases(id),
    org_id      TEXT NOT NULL REFERENCES orgs(id),
    user_id     TEXT NOT NULL DEFAULT '',
    seconds     BIGINT NOT NULL CHECK (seconds > 0),
    note        TEXT NOT NULL DEFAULT '',
    created_at  TIMESTAMP NOT NULL
);
CREATE INDEX case_time_case ON case_time(case_id);

CREATE TABLE interviews (
    id            TEXT PRIMARY KEY,
    case_id       TEXT NOT NULL REFERENCES cases(id),
    org_id        TEXT NOT NULL REFERENCES orgs(id),
    interviewee   TEXT NOT NULL,
    interviewers  TEXT NOT NULL DEFAULT '',
    scheduled_at  TIMESTAMP,
    recorded_at   TIMESTAMP,
    location      TEXT NOT NULL DEFAULT '',
    statement     TEXT NOT NULL DEFAULT '',
    signed        BOOLEAN NOT NULL DEFAULT FALSE,
    created_at    TIMESTAMP NOT NULL,
    updated_at    TIMESTAMP NOT NULL
);
CREATE INDEX interviews_case ON interviews(case_id);

CREATE TABLE evidence (
    id            TEXT PRIMARY KEY,
    case_id       TEXT NOT NULL REFERENCES cases(id),
    org_id        TEXT NOT NULL REFERENCES orgs(id),
    number        INTEGER NOT NULL,
    kind          TEXT NOT NULL CHECK (kind IN ('digital', 'physical')),
    label         TEXT NOT NULL,
    description   TEXT NOT NULL DEFAULT '',
    sha256        TEXT NOT NULL DEFAULT '',
    size          BIGINT NOT NULL DEFAULT 0,
    filename      TEXT NOT NULL DEFAULT '',
    content_type  TEXT NOT NULL DEFAULT '',
    interview_id  TEXT REFERENCES interviews(id),
    created_by    TEXT NOT NULL DEFAULT '',
    created_at    TIMESTAMP NOT NULL,
    UNIQUE (case_id, number)
);

CREATE TABLE custody (
    id            TEXT PRIMARY KEY,
    evidence_id   TEXT NOT NULL REFERENCES evidence(id),
    case_id       TEXT NOT NULL REFERENCES cases(id),
    org_id        TEXT NOT NULL REFERENCES orgs(id),
    seq           INTEGER NOT NULL,
    action        TEXT NOT NULL CHECK (action IN ('intake', 'transfer')),
    from_user_id  TEXT NOT NULL DEFAULT '',
    from_name     TEXT NOT NULL DEFAULT '',
    to_user_id    TEXT NOT NULL,
    to_name       TEXT NOT NULL,
    at            TIMESTAMP NOT NULL,
    reason        TEXT NOT NULL,
    condition     TEXT NOT NULL DEFAULT '',
    location      TEXT NOT NULL DEFAULT '',
    signed_by_id  TEXT NOT NULL,
    signed_by     TEXT NOT NULL,
    prev_hash     TEXT NOT NULL,
    hash          TEXT NOT NULL,
    UNIQUE (evidence_id, seq)
);

CREATE TABLE evidence_checks (
    id           TEXT PRIMARY KEY,
    evidence_id  TEXT NOT NULL REFERENCES evidence(id),
    org_id       TEXT NOT NULL REFERENCES orgs(id),
    at           TIMESTAMP NOT NULL,
    ok           BOOLEAN NOT NULL,
    detail       TEXT NOT NULL DEFAULT ''
);
CREATE INDEX evidence_checks_evidence ON evidence_checks(evidence_id);

CREATE TABLE hotline_reports (
    case_id          TEXT PRIMARY KEY REFERENCES cases(id),
    org_id           TEXT NOT NULL REFERENCES orgs(id),
    key_hash         TEXT NOT NULL UNIQUE,
    password_hash    TEXT NOT NULL,
    category         TEXT NOT NULL,
    contact          TEXT NOT NULL DEFAULT '',
    failed_attempts  INTEGER NOT NULL DEFAULT 0,
    locked_until     TIMESTAMP,
    created_at       TIMESTAMP NOT NULL
);

CREATE TABLE hotline_messages (
    id          TEXT PRIMARY KEY,
    case_id     TEXT NOT NULL REFERENCES cases(id),
    org_id      TEXT NOT NULL REFERENCES orgs(id),
    sender      TEXT NOT NULL CHECK (sender IN ('reporter', 'staff')),
    author_id   TEXT NOT NULL DEFAULT '',
    body        TEXT NOT NULL,
    created_at  TIMESTAMP NOT NULL
);
CREATE INDEX hotline_messages_case ON hotline_messages(case_id);

-- A reporter's short-lived access after key and password (no cookie: the
-- token travels in the page's form).
CREATE TABLE hotline_access (
    token_hash  TEXT PRIMARY KEY,
    case_id     TEXT NOT NULL REFERENCES cases(id),
    expires_at  TIMESTAMP NOT NULL
);

-- Rate limiting without IPs: bucket is HMAC(hourly secret, kind, source);
-- the hour's secret is deleted soon after the hour ends, after which a
-- bucket can no longer be linked to any address.
CREATE TABLE hotline_secrets (
    window_start  TIMESTAMP PRIMARY KEY,
    secret        TEXT NOT NULL
);
CREATE TABLE hotline_throttle (
    bucket        TEXT PRIMARY KEY,
    window_start  TIMESTAMP NOT NULL,
    n             INTEGER NOT NULL
);

CREATE TABLE threat_assessments (
    id              TEXT PRIMARY KEY,
    case_id         TEXT NOT NULL REFERENCES cases(id),
    org_id          TEXT NOT NULL REFERENCES orgs(id),
    behaviours      TEXT NOT NULL DEFAULT '',
    level           TEXT NOT NULL CHECK (level IN ('low', 'moderate', 'high', 'imminent')),
    plan            TEXT NOT NULL DEFAULT '',
    next_review_at  TIMESTAMP,
    assessed_by     TEXT NOT NULL DEFAULT '',
    created_at      TIMESTAMP NOT NULL
);
CREATE INDEX threat_assessments_case ON threat_assessments(case_id);

CREATE TABLE bolos (
    id            TEXT PRIMARY KEY,
    case_id       TEXT NOT NULL REFERENCES cases(id),
    org_id        TEXT NOT NULL REFERENCES orgs(id),
    subject_name  TEXT NOT NULL,
    description   TEXT NOT NULL,
    photo_sha256  TEXT NOT NULL DEFAULT '',
    site_ids      TEXT NOT NULL DEFAULT '',
    active        BOOLEAN NOT NULL DEFAULT TRUE,
    created_by    TEXT NOT NULL DEFAULT '',
    created_at    TIMESTAMP NOT NULL,
    ended_at      TIMESTAMP
);
CREATE INDEX bolos_org ON bolos(org_id, active);

CREATE TABLE access_revocations (
    id           TEXT PRIMARY KEY,
    case_id      TEXT NOT NULL REFERENCES cases(id),
    org_id       TEXT NOT NULL REFERENCES orgs(id),
    person       TEXT NOT NULL,
    credentials  TEXT NOT NULL,
    reason       TEXT NOT NULL,
    status       TEXT NOT NULL DEFAULT 'pending',
    requested_by TEXT NOT NULL DEFAULT '',
    created_at   TIMESTAMP NOT NULL
);
CREATE INDEX access_revocations_org ON access_revocations(org_id, status);

-- +goose Down
DROP TABLE access_revocations;
DROP TABLE bolos;
DROP TABLE threat_assessments;
DROP TABLE hotline_throttle;
DROP TABLE hotline_secrets;
DROP TABLE hotline_access;
DROP TABLE hotline_messages;
DROP TABLE hotline_reports;
DROP TABLE evidence_checks;
DROP TABLE custody;
DROP TABLE evidence;
DROP TABLE interviews;
DROP TABLE case_time;
DROP TABLE case_actions;
DROP TABLE case_notes;
DROP TABLE case_tasks;
DROP TABLE case_links;
DROP TABLE case_allegations;
DROP TABLE case_parties;
DROP TABLE case_members;
DROP TABLE cases;
DROP TABLE inv_counters;
DROP TABLE inv_settings;

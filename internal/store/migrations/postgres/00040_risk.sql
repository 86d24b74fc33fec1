-- +goose Up
-- Risk register, FAIR analyses and facility path models. Each organisation
-- rates its risks on its own matrix (JSON, the risk/matrix engine's shape);
-- likelihood and consequence are 0-based level numbers on that matrix so
-- the heat map and filters work on columns. Analyses and path models keep
-- the analyst's inputs and the engine's results as JSON: they are read
-- whole, never filtered on.

CREATE TABLE risk_matrices (
    org_id      TEXT PRIMARY KEY REFERENCES orgs(id),
    matrix      TEXT NOT NULL,
    updated_at  TIMESTAMPTZ NOT NULL
);

CREATE TABLE risks (
    id                    TEXT PRIMARY KEY,
    org_id                TEXT NOT NULL REFERENCES orgs(id),
    site_id               TEXT NOT NULL REFERENCES sites(id) ON DELETE CASCADE,
    title                 TEXT NOT NULL,
    asset                 TEXT NOT NULL,
    threat                TEXT NOT NULL,
    description           TEXT NOT NULL DEFAULT '',
    owner                 TEXT NOT NULL DEFAULT '',
    status                TEXT NOT NULL,
    strategy              TEXT NOT NULL,
    likelihood            INTEGER NOT NULL,
    consequence           INTEGER NOT NULL,
    rating                TEXT NOT NULL,
    residual_likelihood   INTEGER,
    residual_consequence  INTEGER,
    residual_rating       TEXT NOT NULL DEFAULT '',
    review_at             TIMESTAMPTZ,
    version               INTEGER NOT NULL,
    created_at            TIMESTAMPTZ NOT NULL,
    updated_at            TIMESTAMPTZ NOT NULL
);
CREATE INDEX risks_org_site ON risks (org_id, site_id);

-- A treatment is a control: a device of the site, a guard post or a
-- written procedure (free text for the last two).
CREATE TABLE risk_treatments (
    id           TEXT PRIMARY KEY,
    org_id       TEXT NOT NULL REFERENCES orgs(id),
    risk_id      TEXT NOT NULL REFERENCES risks(id) ON DELETE CASCADE,
    kind         TEXT NOT NULL,
    device_id    TEXT REFERENCES devices(id) ON DELETE SET NULL,
    description  TEXT NOT NULL DEFAULT '',
    position     INTEGER NOT NULL
);
CREATE INDEX risk_treatments_risk ON risk_treatments (risk_id);

-- Every saved state of a risk, appended, never updated.
CREATE TABLE risk_revisions (
    id          TEXT PRIMARY KEY,
    org_id      TEXT NOT NULL REFERENCES orgs(id),
    risk_id     TEXT NOT NULL REFERENCES risks(id) ON DELETE CASCADE,
    version     INTEGER NOT NULL,
    at          TIMESTAMPTZ NOT NULL,
    actor_id    TEXT,
    actor       TEXT NOT NULL,
    data        TEXT NOT NULL,
    UNIQUE (risk_id, version)
);

CREATE TABLE risk_analyses (
    id              TEXT PRIMARY KEY,
    org_id          TEXT NOT NULL REFERENCES orgs(id),
    risk_id         TEXT NOT NULL REFERENCES risks(id) ON DELETE CASCADE,
    name            TEXT NOT NULL,
    model           TEXT NOT NULL,
    control_name    TEXT NOT NULL DEFAULT '',
    control_model   TEXT,
    iterations      INTEGER NOT NULL,
    seed            BIGINT NOT NULL,
    result          TEXT NOT NULL,
    control_result  TEXT,
    created_by      TEXT NOT NULL,
    created_at      TIMESTAMPTZ NOT NULL
);
CREATE INDEX risk_analyses_risk ON risk_analyses (risk_id, created_at);

CREATE TABLE risk_path_models (
    id          TEXT PRIMARY KEY,
    org_id      TEXT NOT NULL REFERENCES orgs(id),
    site_id     TEXT NOT NULL REFERENCES sites(id) ON DELETE CASCADE,
    name        TEXT NOT NULL,
    diagram     TEXT NOT NULL,
    created_at  TIMESTAMPTZ NOT NULL,
    updated_at  TIMESTAMPTZ NOT NULL
);
CREATE INDEX risk_path_models_site ON risk_path_models (org_id, site_id);

-- +goose Down
DROP TABLE risk_path_models;
DROP TABLE risk_analyses;
DROP TABLE risk_revisions;
DROP TABLE risk_treatments;
DROP TABLE risks;
DROP TABLE risk_matrices;

-- Releases: every accepted registry import and every change to plan data is a numbered, immutable
-- version of one dataset ("plan" or "registries/<slug>"). `id` orders releases across datasets;
-- the change feed follows it.
CREATE TABLE releases (
    id INTEGER PRIMARY KEY,
    dataset TEXT NOT NULL,
    number BIGINT NOT NULL,
    created_at TEXT NOT NULL,
    row_count BIGINT NOT NULL,
    added BIGINT NOT NULL,
    changed BIGINT NOT NULL,
    removed BIGINT NOT NULL,
    sha256 TEXT NOT NULL,
    origin TEXT NOT NULL,
    UNIQUE (dataset, number)
);

-- One event per record created, updated or deleted by a release. The record's content at that
-- release lives with the data (item tables, plan_record_versions), so it is stored once.
CREATE TABLE changes (
    id INTEGER PRIMARY KEY,
    release_id BIGINT NOT NULL REFERENCES releases (id),
    record_type TEXT NOT NULL,
    record_id TEXT NOT NULL,
    op TEXT NOT NULL CHECK (op IN ('created', 'updated', 'deleted'))
);
CREATE INDEX changes_release ON changes (release_id, id);

-- Every version of every plan record (a row with its texts and sources, as a JSON document),
-- valid from one plan release until the release that replaced or removed it.
CREATE TABLE plan_record_versions (
    record_type TEXT NOT NULL,
    record_id TEXT NOT NULL,
    valid_from BIGINT NOT NULL,
    valid_to BIGINT,
    document TEXT NOT NULL,
    PRIMARY KEY (record_type, record_id, valid_from)
);
CREATE INDEX plan_record_versions_open ON plan_record_versions (valid_to);

-- Events before `pruned_through` (a change id) were deleted; older cursors get 410 Gone.
CREATE TABLE change_retention (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    pruned_through BIGINT NOT NULL
);

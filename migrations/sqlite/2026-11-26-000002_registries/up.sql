-- Registries (datasets) with their 835 passport and item schema. Items live in one table per
-- registry (`table_name`), created by the application from `fields_json`.
CREATE TABLE registries (
    slug TEXT PRIMARY KEY NOT NULL,
    sample BOOLEAN NOT NULL,
    geometry_kind TEXT NOT NULL,
    id_field TEXT NOT NULL,
    fields_json TEXT NOT NULL,
    indexes_json TEXT NOT NULL,
    license TEXT,
    license_url TEXT,
    publisher_id TEXT,
    contact_name TEXT,
    contact_email TEXT,
    update_frequency TEXT,
    languages TEXT NOT NULL,
    issued TEXT,
    modified TEXT,
    spatial TEXT,
    related_commitment_id TEXT,
    table_name TEXT NOT NULL,
    item_count BIGINT NOT NULL DEFAULT 0,
    imported_at TEXT
);

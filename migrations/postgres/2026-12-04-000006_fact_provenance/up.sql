-- Issue 12: every served fact is traceable. A progress update's event gets its own date beside
-- the date its report was made; a text says whether it is its source's own words, the project's
-- summary of that source, or the project's own wording; and a single non-text field can name the
-- source that states it, or be marked as the project's own classification (not credited to any
-- source).
ALTER TABLE progress_updates ADD COLUMN occurred TEXT;

-- 'source': the source's own words; 'summary': the project's summary of the source;
-- 'project': the project's own wording (source_id is then NULL).
ALTER TABLE localized_texts ADD COLUMN wording TEXT NOT NULL DEFAULT 'source';

CREATE TABLE field_provenance (
    entity_type TEXT NOT NULL,
    entity_id TEXT NOT NULL,
    field TEXT NOT NULL,
    -- The source that states this field's value…
    source_id TEXT REFERENCES sources (id),
    -- …or why the value is the project's own classification.
    classified TEXT,
    PRIMARY KEY (entity_type, entity_id, field),
    CHECK ((source_id IS NULL) <> (classified IS NULL))
);

-- Size in bytes of a release's canonical export (what `sha256` covers), for the catalog's
-- dcat:byteSize. NULL for releases published before this column existed: unknown, not guessed.
ALTER TABLE releases ADD COLUMN byte_size BIGINT;

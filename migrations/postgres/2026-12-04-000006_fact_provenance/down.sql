DROP TABLE field_provenance;
ALTER TABLE localized_texts DROP COLUMN wording;
ALTER TABLE progress_updates DROP COLUMN occurred;

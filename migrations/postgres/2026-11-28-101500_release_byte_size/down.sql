ALTER TABLE releases DROP COLUMN byte_size;

DROP TABLE change_retention;
DROP TABLE plan_record_versions;
DROP TABLE changes;
DROP TABLE releases;

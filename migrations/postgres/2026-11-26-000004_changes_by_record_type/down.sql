DROP INDEX changes_record_type;

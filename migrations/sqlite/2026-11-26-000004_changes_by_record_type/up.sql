-- The Atom feed of plan activity reads the newest events of a few record types (milestones,
-- progress updates); without this index it would walk back through every registry item event.
CREATE INDEX changes_record_type ON changes (record_type, id);

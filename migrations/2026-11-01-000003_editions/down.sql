DROP FUNCTION IF EXISTS touch_parent_edition() CASCADE;
DROP TABLE tracks;
DROP TABLE editions;

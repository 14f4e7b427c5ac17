DROP INDEX events_organizer_edition_idx;
ALTER TABLE events DROP COLUMN session_count;

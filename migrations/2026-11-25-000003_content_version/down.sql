DROP TRIGGER editions_content_version ON editions;
DROP TRIGGER tracks_content_version ON tracks;
DROP TRIGGER labs_content_version ON labs;
DROP TRIGGER organizers_content_version ON organizers;
DROP TRIGGER events_content_version ON events;
DROP FUNCTION bump_content_version();
DROP TABLE content_version;

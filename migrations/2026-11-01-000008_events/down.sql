DROP TABLE event_history;
DROP TABLE event_labs;
DROP TABLE event_sessions;
DROP TABLE events;

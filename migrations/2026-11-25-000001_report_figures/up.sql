-- How many sessions each event has, kept beside the event by the write that replaces its
-- sessions: reports count sessions along every breakdown, and reading the count from the row
-- spares them a probe into event_sessions per event. Most events have one session: that is the
-- default, so that only series (and sessionless drafts) are rewritten here.
ALTER TABLE events ADD COLUMN session_count integer NOT NULL DEFAULT 1 CHECK (session_count >= 0);
-- Filling it in is no change to the events: their version and updated_at stay as they are.
ALTER TABLE events DISABLE TRIGGER events_touch;
UPDATE events SET session_count = counted.n
FROM (SELECT events.id, count(event_sessions.event_id)::integer AS n
      FROM events LEFT JOIN event_sessions ON event_sessions.event_id = events.id
      GROUP BY events.id) AS counted
WHERE counted.id = events.id AND counted.n <> 1;
ALTER TABLE events ENABLE TRIGGER events_touch;

-- First-time organizers: for each organizer counted, whether it has an event in an earlier
-- edition, answered from the index alone (publication included for the public's scope).
CREATE INDEX events_organizer_edition_idx ON events (organizer_id, edition_year) INCLUDE (publication);

-- The statements GET /api/v1/events/{slug} issues, for a random published event.
\set n 10 * random(0, :events / 10 - 1) + random(1, 9)
SELECT events.id, events.slug, events.edition_year, events.track_id, events.organizer_id, events.title, events.summary, events.description, events.format, events.mode, events.audience, events.timezone, events.starts_at, events.ends_at, events.session_count, events.venue_name, events.venue_address, events.venue_postal_code, events.venue_city, events.region_code, events.department_code, events.latitude, events.longitude, events.online_url, events.registration_required, events.registration_url, events.registration_capacity, events.registration_closes_at, events.language, events.accessibility, events.tags, events.co_organizers, events.image_url, events.external_id, events.publication, events.status, events.rejection_reason, events.status_note, events.submitted_at, events.published_at, events.created_by, events.version, events.created_at, events.updated_at FROM events WHERE events.slug = 'event-' || :n LIMIT 1;
-- Not issued by the API: hands the ids to the next statements (an index-only lookup).
SELECT id::text AS e_ids, '{' || organizer_id || '}' AS e_orgs, coalesce('{' || track_id || '}', '{}') AS e_tracks,
  (track_id IS NOT NULL)::int AS e_has_tracks FROM events WHERE slug = 'event-' || :n \gset
SELECT event_sessions.event_id, event_sessions.position, event_sessions.starts_at, event_sessions.ends_at FROM event_sessions WHERE event_sessions.event_id = ANY(ARRAY[:e_ids::uuid]) ORDER BY event_sessions.event_id, event_sessions.position;
SELECT event_labs.event_id, labs.slug, labs.name FROM event_labs INNER JOIN labs ON labs.id = event_labs.lab_id WHERE event_labs.event_id = ANY(ARRAY[:e_ids::uuid]) ORDER BY labs.slug;
\if :e_has_tracks
SELECT tracks.id, tracks.slug, tracks.name FROM tracks WHERE tracks.id = ANY(:e_tracks::uuid[]);
\endif
SELECT organizers.id, organizers.slug, organizers.name, organizers.acronym, organizers.kind, organizers.region_code, organizers.department_code, organizers.website, organizers.description, organizers.contact_email, organizers.verified, organizers.verified_at, organizers.version, organizers.created_at, organizers.updated_at FROM organizers WHERE organizers.id = ANY(:e_orgs::uuid[]);

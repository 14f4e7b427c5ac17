-- The statements GET /api/v1/feeds/events.ics?edition=2025 issues (bench/run.py's feed_ics), in order:
-- the validators' fingerprint (src/feeds/validators.rs), the page of 500 events (latest-starting
-- first), its total, the newest change the filter covers (withdrawn events included), then the
-- events, their sessions, labs, tracks and organizers.
SELECT content_version.version FROM content_version LIMIT 1;
SELECT array_agg(id)::text AS ids, array_agg(DISTINCT organizer_id)::text AS orgs, coalesce(array_remove(array_agg(DISTINCT track_id), NULL), '{}')::text AS tracks, (count(track_id) > 0)::int AS has_tracks FROM (
SELECT events.id, events.organizer_id, events.track_id, events.starts_at AS at, NULL::real AS rank FROM events
WHERE events.publication = 'published'
  AND events.edition_year = 2025
ORDER BY events.starts_at DESC, events.id DESC
LIMIT 501) page \gset
SELECT count(*) AS n FROM events WHERE events.publication = 'published' AND events.edition_year = 2025;
SELECT max(events.updated_at) AS at FROM events WHERE events.publication = ANY('{published,withdrawn}'::text[]) AND events.edition_year = 2025;
SELECT events.id, events.slug, events.edition_year, events.track_id, events.organizer_id, events.title, events.summary, events.description, events.format, events.mode, events.audience, events.timezone, events.starts_at, events.ends_at, events.session_count, events.venue_name, events.venue_address, events.venue_postal_code, events.venue_city, events.region_code, events.department_code, events.latitude, events.longitude, events.online_url, events.registration_required, events.registration_url, events.registration_capacity, events.registration_closes_at, events.language, events.accessibility, events.tags, events.co_organizers, events.image_url, events.external_id, events.publication, events.status, events.rejection_reason, events.status_note, events.submitted_at, events.published_at, events.created_by, events.version, events.created_at, events.updated_at FROM events WHERE events.id = ANY(:ids::uuid[]);
SELECT event_sessions.event_id, event_sessions.position, event_sessions.starts_at, event_sessions.ends_at FROM event_sessions WHERE event_sessions.event_id = ANY(:ids::uuid[]) ORDER BY event_sessions.event_id, event_sessions.position;
SELECT event_labs.event_id, labs.slug, labs.name FROM event_labs INNER JOIN labs ON labs.id = event_labs.lab_id WHERE event_labs.event_id = ANY(:ids::uuid[]) ORDER BY labs.slug;
\if :has_tracks
SELECT tracks.id, tracks.slug, tracks.name FROM tracks WHERE tracks.id = ANY(:tracks::uuid[]);
\endif
SELECT organizers.id, organizers.slug, organizers.name, organizers.acronym, organizers.kind, organizers.region_code, organizers.department_code, organizers.website, organizers.description, organizers.contact_email, organizers.verified, organizers.verified_at, organizers.version, organizers.created_at, organizers.updated_at FROM organizers WHERE organizers.id = ANY(:orgs::uuid[]);

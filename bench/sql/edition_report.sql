-- The statements GET /api/v1/reports/editions/2025 issues (bench/run.py's edition_report), in order:
-- the edition, the one before it, then every figure of both in one statement, in one snapshot.
BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY;
SET LOCAL jit = off; SET LOCAL work_mem = '32MB';
SELECT editions.year, editions.number, editions.title, editions.theme, editions.description, editions.starts_on, editions.ends_on, editions.referencing_opens_at, editions.referencing_closes_at, editions.changes_require_review, editions.version, editions.created_at, editions.updated_at FROM editions WHERE editions.year = 2025;
SELECT max(editions.year) FROM editions WHERE editions.year < 2025;
WITH matched AS MATERIALIZED (
SELECT events.edition_year AS key, events.id, events.edition_year, events.organizer_id, events.format, events.mode, events.audience, events.region_code, events.department_code, events.status, events.publication, events.track_id, events.tags, events.timezone, events.updated_at, events.submitted_at, events.starts_at, events.ends_at, events.session_count AS sessions
FROM events
WHERE events.publication = 'published'
  AND events.edition_year = ANY('{2024,2025}'::int[])
),
tag_counts AS (SELECT m.key, tag, count(*) AS events, sum(m.sessions)::bigint AS sessions FROM matched m CROSS JOIN LATERAL unnest(m.tags) AS tag WHERE tag IS NOT NULL GROUP BY m.key, tag),
session_days AS (
SELECT s.key, s.id, s.organizer_id, ed.starts_on, ed.ends_on, (s.starts_at AT TIME ZONE s.timezone)::date AS first_day, ((s.ends_at - interval '1 microsecond') AT TIME ZONE s.timezone)::date AS last_day FROM (SELECT m.key, m.id, m.organizer_id, m.edition_year, m.timezone, m.starts_at, m.ends_at FROM matched m WHERE m.sessions = 1 UNION ALL SELECT m.key, m.id, m.organizer_id, m.edition_year, m.timezone, s.starts_at, s.ends_at FROM matched m JOIN event_sessions s ON s.event_id = m.id WHERE m.sessions <> 1) s JOIN editions ed ON ed.year = s.edition_year
)
SELECT m.key AS key, CASE WHEN GROUPING(t.slug) = 0 THEN 'track' WHEN GROUPING(m.format) = 0 THEN 'format' WHEN GROUPING(m.mode) = 0 THEN 'mode' WHEN GROUPING(m.audience) = 0 THEN 'audience' WHEN GROUPING(m.region_code) = 0 THEN 'region' WHEN GROUPING(m.department_code) = 0 THEN 'department' WHEN GROUPING(o.kind) = 0 THEN 'organizer_kind' WHEN GROUPING(m.status) = 0 THEN 'status' ELSE 'total' END::text AS dimension, CASE WHEN GROUPING(t.slug) = 0 THEN t.slug WHEN GROUPING(m.format) = 0 THEN m.format WHEN GROUPING(m.mode) = 0 THEN m.mode WHEN GROUPING(m.audience) = 0 THEN m.audience WHEN GROUPING(m.region_code) = 0 THEN m.region_code WHEN GROUPING(m.department_code) = 0 THEN m.department_code WHEN GROUPING(o.kind) = 0 THEN o.kind WHEN GROUPING(m.status) = 0 THEN m.status END AS code, CASE WHEN GROUPING(t.slug) = 0 THEN max(t.name) END AS label, count(*) AS events, coalesce(sum(m.sessions), 0)::bigint AS sessions, 0::bigint AS organizers, max(m.updated_at) AS updated_at FROM matched m LEFT JOIN tracks t ON t.id = m.track_id JOIN organizers o ON o.id = m.organizer_id GROUP BY GROUPING SETS ((m.key), (m.key, t.slug), (m.key, m.format), (m.key, m.mode), (m.key, m.audience), (m.key, m.region_code), (m.key, m.department_code), (m.key, o.kind), (m.key, m.status))
UNION ALL
SELECT firsts.key, 'organizers', NULL::text, NULL::text, count(*), 0::bigint, count(*) FILTER (WHERE NOT EXISTS (SELECT 1 FROM events earlier WHERE earlier.organizer_id = firsts.organizer_id AND earlier.edition_year < firsts.first_here AND earlier.publication = 'published')), NULL::timestamptz FROM (SELECT key, organizer_id, min(edition_year) AS first_here FROM matched GROUP BY key, organizer_id) firsts GROUP BY firsts.key
UNION ALL
SELECT m.key, 'lab', labs.slug, labs.name, count(*), sum(m.sessions)::bigint, 0::bigint, NULL::timestamptz FROM matched m JOIN event_labs ON event_labs.event_id = m.id JOIN labs ON labs.id = event_labs.lab_id GROUP BY m.key, labs.slug, labs.name
UNION ALL
SELECT key, 'tag', tag, NULL::text, events, sessions, 0::bigint, NULL::timestamptz FROM tag_counts WHERE tag IN (SELECT tag FROM tag_counts WHERE key = 2025 ORDER BY events DESC, tag LIMIT 20)
UNION ALL
SELECT key, 'day', to_char(day, 'YYYY-MM-DD'), NULL::text, count(DISTINCT id), count(*), 0::bigint, NULL::timestamptz FROM (SELECT key, id, organizer_id, first_day AS day FROM session_days WHERE first_day = last_day AND first_day BETWEEN starts_on AND ends_on UNION ALL SELECT key, id, organizer_id, day::date FROM session_days CROSS JOIN LATERAL generate_series(greatest(first_day, starts_on), least(last_day, ends_on), interval '1 day') AS day WHERE first_day <> last_day) days GROUP BY key, day;
COMMIT;

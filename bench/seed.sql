-- A realistic data set for the benchmark, generated in bulk by PostgreSQL itself.
-- psql -v events=100000 -f bench/seed.sql  (on a freshly migrated, empty database)
\set ON_ERROR_STOP on
SELECT setseed(0.42);

BEGIN;

-- Editions since 2014: a week until 2019, a month from 2020; referencing opens in September.
INSERT INTO editions (year, number, title, theme, starts_on, ends_on, referencing_opens_at, referencing_closes_at)
SELECT y, y - 2013, 'Mois de l''innovation publique ' || y,
       (ARRAY['L''innovation ouverte', 'La coproduction', 'Les territoires', 'L''expérience usager'])[1 + y % 4],
       make_date(y, 11, CASE WHEN y < 2020 THEN 14 ELSE 2 END),
       make_date(y, 11, CASE WHEN y < 2020 THEN 20 ELSE 30 END),
       make_timestamptz(y, 9, 1, 0, 0, 0, 'Europe/Paris'),
       make_timestamptz(y, 11, CASE WHEN y < 2020 THEN 20 ELSE 30 END, 23, 0, 0, 'Europe/Paris')
FROM generate_series(2014, 2026) AS y;

-- Four tracks (parcours) a year since 2021.
INSERT INTO tracks (id, edition_year, slug, name, position)
SELECT gen_random_uuid(), y, t.slug, t.name, t.position
FROM generate_series(2021, 2026) AS y,
     (VALUES ('experience-usager', 'L''innovation au service de l''expérience usager', 1),
             ('experience-agent', 'L''innovation au service de l''expérience agent', 2),
             ('services-eco-responsables', 'L''innovation pour des services publics éco-responsables', 3),
             ('relance-et-impact', 'L''innovation au service de la relance et de l''impact', 4)) AS t (slug, name, position);

-- Thousands of organizers, in every department, of every kind (labs and associations rarer).
CREATE TEMP TABLE bench_departments AS SELECT row_number() OVER (ORDER BY code) AS n, code, region_code FROM departments;
INSERT INTO organizers (id, slug, name, kind, region_code, department_code, contact_email, verified, verified_at)
SELECT gen_random_uuid(), 'organisateur-' || i,
       (ARRAY['Préfecture', 'Mairie', 'Conseil départemental', 'Hôpital', 'Direction régionale', 'Agence', 'Association',
              'Université', 'Rectorat', 'Caisse'])[1 + i % 10] || ' ' || d.code || '-' || i,
       (ARRAY['central_administration', 'deconcentrated_service', 'local_authority', 'local_authority', 'public_operator',
              'health_social_establishment', 'deconcentrated_service', 'local_authority', 'association', 'innovation_lab',
              'other'])[1 + (i * 7) % 11],
       d.region_code, d.code, 'contact-' || i || '@organisateur.example', i % 20 <> 0, now()
FROM generate_series(1, 5000) AS i
JOIN bench_departments d ON d.n = 1 + i % 101;

INSERT INTO labs (id, slug, name, region_code, founded_year)
SELECT gen_random_uuid(), 'lab-' || i, 'Laboratoire d''innovation ' || i, r.code, 2016 + i % 6
FROM generate_series(1, 20) AS i
JOIN (SELECT row_number() OVER (ORDER BY code) AS n, code FROM regions) r ON r.n = 1 + i % 18;

CREATE TEMP TABLE bench_organizers AS SELECT row_number() OVER (ORDER BY slug) AS n, id, region_code, department_code FROM organizers;
CREATE TEMP TABLE bench_tracks AS SELECT edition_year, array_agg(id ORDER BY position) AS ids FROM tracks GROUP BY edition_year;

-- Events: recent editions weigh more; 90 % published; a few cancelled or full; most onsite
-- events in their organizer's department, with coordinates; one session or a small series.
CREATE TEMP TABLE bench_events AS
SELECT i,
       2014 + LEAST(12, floor(13 * sqrt(random()))::int) AS year,
       1 + floor(random() * 5000)::int AS organizer_n,
       random() AS r1, random() AS r2, random() AS r3, random() AS r4
FROM generate_series(1, :events) AS i;

INSERT INTO events (id, slug, edition_year, track_id, organizer_id, title, summary, description, format, mode, audience,
                    timezone, starts_at, ends_at, venue_city, region_code, department_code, latitude, longitude,
                    online_url, registration_required, tags, publication, rejection_reason, status, submitted_at, published_at)
SELECT gen_random_uuid(), 'event-' || e.i, e.year,
       CASE WHEN e.year >= 2021 THEN t.ids[1 + floor(e.r4 * 4)::int] END,
       o.id,
       (ARRAY['Atelier', 'Webinaire', 'Conférence', 'Table ronde', 'Hackathon', 'Formation', 'Visite', 'Exposition',
              'Démonstration', 'Session créative'])[1 + floor(e.r1 * 10)::int] || ' : ' ||
       (ARRAY['le numérique responsable', 'l''accueil des usagers', 'la donnée publique', 'le design des services',
              'la participation citoyenne', 'le management visuel', 'la simplification administrative',
              'l''innovation managériale', 'les tiers-lieux', 'la transition écologique', 'le télétravail',
              'l''intelligence artificielle'])[1 + floor(e.r2 * 12)::int] || ' #' || e.i,
       'Un temps d''échange pour les agents et les usagers autour de ' ||
       (ARRAY['la simplification', 'la sobriété numérique', 'l''expérience usager', 'la coopération'])[1 + e.i % 4] || '.',
       (ARRAY['Présentation suivie d''ateliers participatifs et de retours d''expérience.',
              'Retours d''expérience de services qui ont transformé leur accueil.',
              'Démonstration des outils, puis questions-réponses avec les équipes.',
              'Une matinée pour découvrir la démarche et rencontrer ceux qui la portent.',
              'Travail en petits groupes sur des cas concrets apportés par les participants.',
              'Échanges entre pairs animés par le laboratoire d''innovation de la région.'])[1 + e.i % 6]
       || ' ' || repeat('Ouvert à tous les services. ', 1 + e.i % 5),
       (ARRAY['webinar', 'conference', 'workshop', 'workshop', 'training', 'round_table', 'hackathon', 'serious_game',
              'creative_session', 'tool_demo', 'exhibition', 'visit', 'open_house', 'podcast', 'call_for_ideas'])[1 + floor(e.r1 * 15)::int],
       CASE WHEN e.r3 < 0.55 THEN 'onsite' WHEN e.r3 < 0.85 THEN 'online' ELSE 'hybrid' END,
       (ARRAY['public_agents', 'public_agents', 'general_public', 'everyone'])[1 + e.i % 4],
       'Europe/Paris',
       s.starts_at, s.starts_at + s.length,
       CASE WHEN e.r3 < 0.55 OR e.r3 >= 0.85 THEN 'Ville ' || o.department_code END,
       o.region_code, o.department_code,
       CASE WHEN e.r3 < 0.55 OR e.r3 >= 0.85 THEN 42.5 + e.r2 * 8.5 END,
       CASE WHEN e.r3 < 0.55 OR e.r3 >= 0.85 THEN -4.5 + e.r4 * 12.5 END,
       CASE WHEN e.r3 >= 0.55 THEN 'https://visio.example/' || e.i END,
       e.i % 3 = 0,
       ARRAY[(ARRAY['numérique', 'données', 'usagers', 'agents', 'écologie', 'design', 'management', 'territoires'])[1 + e.i % 8]],
       CASE WHEN e.i % 10 = 0 THEN (ARRAY['draft', 'submitted', 'rejected'])[1 + (e.i / 10) % 3] ELSE 'published' END,
       CASE WHEN e.i % 10 = 0 AND (e.i / 10) % 3 = 2 THEN 'Précisez le public visé' END,
       CASE WHEN e.i % 40 = 1 THEN 'cancelled' WHEN e.i % 40 = 2 THEN 'full' ELSE 'scheduled' END,
       s.starts_at - interval '30 days',
       CASE WHEN e.i % 10 <> 0 THEN s.starts_at - interval '20 days' END
FROM bench_events e
JOIN bench_organizers o ON o.n = e.organizer_n
LEFT JOIN bench_tracks t ON t.edition_year = e.year
CROSS JOIN LATERAL (
    SELECT make_timestamptz(e.year, 11, CASE WHEN e.year < 2020 THEN 14 + floor(e.r4 * 6)::int ELSE 2 + floor(e.r4 * 28)::int END,
                            9 + floor(e.r2 * 9)::int, 0, 0, 'Europe/Paris') AS starts_at,
           interval '1 hour' * (1 + e.i % 4) AS length
) s
-- Events of an edition are referenced during its year, so they sit together on disk, as in
-- a real database.
ORDER BY e.year, e.r4;

-- Sessions: one per event, and a weekly series for one event in ten.
INSERT INTO event_sessions (event_id, position, starts_at, ends_at)
SELECT id, 0, starts_at, ends_at FROM events;
INSERT INTO event_sessions (event_id, position, starts_at, ends_at)
SELECT id, w, starts_at + interval '7 days' * w, ends_at + interval '7 days' * w
FROM events, generate_series(1, 2) AS w
WHERE slug LIKE '%7' AND edition_year >= 2020 AND extract(day FROM starts_at) < 14;
UPDATE events SET ends_at = s.last_end, session_count = s.n
FROM (SELECT event_id, max(ends_at) AS last_end, count(*)::integer AS n FROM event_sessions GROUP BY event_id HAVING count(*) > 1) s
WHERE events.id = s.event_id;

-- One event in ten is run with a lab.
INSERT INTO event_labs (event_id, lab_id)
SELECT e.id, l.id FROM events e
JOIN (SELECT row_number() OVER (ORDER BY slug) AS n, id FROM labs) l ON l.n = 1 + (abs(hashtext(e.slug)) % 20)
WHERE e.slug LIKE '%3';

COMMIT;

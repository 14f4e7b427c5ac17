-- Discovery: French full text (accents and case ignored, stemmed), geography and the indexes
-- behind the filters of GET /events.
CREATE EXTENSION IF NOT EXISTS unaccent;
CREATE EXTENSION IF NOT EXISTS cube;
CREATE EXTENSION IF NOT EXISTS earthdistance;

-- French stemming after removing accents: "numerique" finds "numérique", "atelier" "Ateliers".
CREATE TEXT SEARCH CONFIGURATION french_unaccent (COPY = french);
ALTER TEXT SEARCH CONFIGURATION french_unaccent
    ALTER MAPPING FOR hword, hword_part, word WITH unaccent, french_stem;

-- Title first, then summary, tags and place, then the description.
ALTER TABLE events ADD COLUMN search_vector tsvector NOT NULL DEFAULT ''::tsvector;

CREATE FUNCTION events_search_vector() RETURNS trigger AS $$
BEGIN
    NEW.search_vector :=
        setweight(to_tsvector('french_unaccent', coalesce(NEW.title, '')), 'A') ||
        setweight(to_tsvector('french_unaccent', coalesce(NEW.summary, '') || ' ' ||
            array_to_string(NEW.tags, ' ') || ' ' || array_to_string(NEW.co_organizers, ' ')), 'B') ||
        setweight(to_tsvector('french_unaccent', coalesce(NEW.venue_city, '') || ' ' || coalesce(NEW.venue_name, '')), 'C') ||
        setweight(to_tsvector('french_unaccent', coalesce(NEW.description, '')), 'D');
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER events_search_vector BEFORE INSERT OR UPDATE OF title, summary, tags, co_organizers, venue_city, venue_name, description
    ON events FOR EACH ROW EXECUTE FUNCTION events_search_vector();

CREATE INDEX events_search_idx ON events USING gin (search_vector);

-- The public programme by date, by last change (partners who sync), and each filter.
CREATE INDEX events_published_starts_idx ON events (starts_at, id) WHERE publication = 'published';
-- A programme is almost always one edition's: its events in date order, without a sort.
CREATE INDEX events_edition_starts_idx ON events (edition_year, starts_at, id) WHERE publication = 'published';
CREATE INDEX events_published_updated_idx ON events (updated_at, id) WHERE publication = 'published';
-- A region's programme (what a region's lab embeds), for one edition or across editions.
CREATE INDEX events_edition_region_idx ON events (edition_year, region_code, starts_at, id) WHERE publication = 'published';
CREATE INDEX events_region_idx ON events (region_code, starts_at, id) WHERE publication = 'published';
-- Facet counts and totals read this index alone (no heap), for an edition's programme and
-- for a region's within it.
CREATE INDEX events_facets_idx ON events (edition_year, region_code)
    INCLUDE (department_code, format, mode, audience, status, track_id, organizer_id)
    WHERE publication = 'published';
CREATE INDEX events_department_idx ON events (department_code) WHERE department_code IS NOT NULL;
CREATE INDEX events_tags_idx ON events USING gin (tags);
-- Maps: a bounding box on the point, a radius on the earth.
CREATE INDEX events_point_idx ON events USING gist (point(longitude, latitude)) WHERE latitude IS NOT NULL;
CREATE INDEX events_earth_idx ON events USING gist (ll_to_earth(latitude, longitude)) WHERE latitude IS NOT NULL;
-- Sessions overlapping a period.
CREATE INDEX event_sessions_period_idx ON event_sessions USING gist (tstzrange(starts_at, ends_at));

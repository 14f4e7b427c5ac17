CREATE TABLE editions (
    year INTEGER PRIMARY KEY CHECK (year BETWEEN 2014 AND 2100),
    number INTEGER NOT NULL UNIQUE CHECK (number > 0),
    title TEXT NOT NULL,
    theme TEXT,
    description TEXT,
    starts_on DATE NOT NULL,
    ends_on DATE NOT NULL,
    referencing_opens_at TIMESTAMPTZ NOT NULL,
    referencing_closes_at TIMESTAMPTZ NOT NULL,
    -- Whether a change to a published event sends it back to moderation.
    changes_require_review BOOLEAN NOT NULL DEFAULT false,
    version INTEGER NOT NULL DEFAULT 1,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    CONSTRAINT editions_ends_after_start CHECK (ends_on >= starts_on),
    CONSTRAINT editions_referencing_window_order CHECK (referencing_closes_at > referencing_opens_at)
);
CREATE TRIGGER editions_touch BEFORE UPDATE ON editions FOR EACH ROW EXECUTE FUNCTION touch_row();

-- Tracks (parcours) group an edition's programme.
CREATE TABLE tracks (
    id UUID PRIMARY KEY,
    edition_year INTEGER NOT NULL REFERENCES editions (year) ON DELETE CASCADE ON UPDATE CASCADE,
    slug TEXT NOT NULL,
    name TEXT NOT NULL,
    description TEXT,
    position INTEGER NOT NULL DEFAULT 0,
    version INTEGER NOT NULL DEFAULT 1,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    CONSTRAINT tracks_edition_slug_key UNIQUE (edition_year, slug)
);
CREATE TRIGGER tracks_touch BEFORE UPDATE ON tracks FOR EACH ROW EXECUTE FUNCTION touch_row();

-- An edition's representation includes its tracks: changing a track changes the edition's
-- version too, so its ETag never claims a stale copy is current.
CREATE FUNCTION touch_parent_edition() RETURNS trigger AS $$
BEGIN
    UPDATE editions SET updated_at = now() WHERE year = COALESCE(NEW.edition_year, OLD.edition_year);
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER tracks_touch_edition AFTER INSERT OR UPDATE OR DELETE ON tracks
    FOR EACH ROW EXECUTE FUNCTION touch_parent_edition();

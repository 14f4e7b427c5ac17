-- Territorial innovation labs (laboratoires d'innovation territoriale).
CREATE TABLE labs (
    id UUID PRIMARY KEY,
    slug TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    region_code TEXT NOT NULL REFERENCES regions (code),
    host TEXT,
    website TEXT,
    founded_year INTEGER CHECK (founded_year BETWEEN 1990 AND 2100),
    active BOOLEAN NOT NULL DEFAULT true,
    description TEXT,
    version INTEGER NOT NULL DEFAULT 1,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX labs_region_code_idx ON labs (region_code);
CREATE TRIGGER labs_touch BEFORE UPDATE ON labs FOR EACH ROW EXECUTE FUNCTION touch_row();

-- What a lab did in a year, as reported to DITP.
CREATE TABLE lab_figures (
    lab_id UUID NOT NULL REFERENCES labs (id) ON DELETE CASCADE,
    year INTEGER NOT NULL CHECK (year BETWEEN 2014 AND 2100),
    projects_led INTEGER CHECK (projects_led >= 0),
    projects_supported INTEGER CHECK (projects_supported >= 0),
    trainings INTEGER CHECK (trainings >= 0),
    PRIMARY KEY (lab_id, year)
);

-- A lab's representation includes its figures: changing them bumps the lab's version.
CREATE FUNCTION touch_parent_lab() RETURNS trigger AS $$
BEGIN
    UPDATE labs SET updated_at = now() WHERE id = COALESCE(NEW.lab_id, OLD.lab_id);
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER lab_figures_touch_lab AFTER INSERT OR UPDATE OR DELETE ON lab_figures
    FOR EACH ROW EXECUTE FUNCTION touch_parent_lab();

-- Organizers: who references events. Accounts of role `organizer` are members of exactly one.
CREATE EXTENSION IF NOT EXISTS unaccent;

-- Lets tables require that a department belongs to the region they name.
ALTER TABLE departments ADD CONSTRAINT departments_code_region_key UNIQUE (code, region_code);

CREATE TABLE organizers (
    id UUID PRIMARY KEY,
    slug TEXT NOT NULL,
    name TEXT NOT NULL,
    acronym TEXT,
    kind TEXT NOT NULL CHECK (kind IN (
        'central_administration', 'deconcentrated_service', 'local_authority', 'public_operator',
        'health_social_establishment', 'innovation_lab', 'association', 'other')),
    region_code TEXT REFERENCES regions (code),
    department_code TEXT,
    website TEXT,
    description TEXT,
    contact_email TEXT NOT NULL,
    verified BOOLEAN NOT NULL DEFAULT false,
    verified_at TIMESTAMPTZ,
    version INTEGER NOT NULL DEFAULT 1,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    CONSTRAINT organizers_slug_key UNIQUE (slug),
    CONSTRAINT organizers_department_in_region FOREIGN KEY (department_code, region_code)
        REFERENCES departments (code, region_code)
);
CREATE INDEX organizers_kind_idx ON organizers (kind);
CREATE INDEX organizers_region_idx ON organizers (region_code);
CREATE TRIGGER organizers_touch BEFORE UPDATE ON organizers FOR EACH ROW EXECUTE FUNCTION touch_row();

ALTER TABLE accounts ADD COLUMN organizer_id UUID REFERENCES organizers (id) ON DELETE RESTRICT;
ALTER TABLE accounts ADD CONSTRAINT accounts_organizer_has_organizer
    CHECK (role = 'admin' OR organizer_id IS NOT NULL);
CREATE INDEX accounts_organizer_idx ON accounts (organizer_id);

-- A lab may reference events as an organizer.
ALTER TABLE labs ADD COLUMN organizer_id UUID REFERENCES organizers (id) ON DELETE SET NULL;

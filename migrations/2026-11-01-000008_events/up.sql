-- Events: what organizers reference, DITP moderates and the programme shows.
-- `publication` (moderation) and `status` (what happens on the day) are kept apart.
CREATE TABLE events (
    id UUID PRIMARY KEY,
    slug TEXT NOT NULL,
    edition_year INTEGER NOT NULL REFERENCES editions (year) ON UPDATE CASCADE ON DELETE RESTRICT,
    track_id UUID REFERENCES tracks (id) ON DELETE RESTRICT,
    organizer_id UUID NOT NULL REFERENCES organizers (id) ON DELETE RESTRICT,
    title TEXT NOT NULL,
    summary TEXT,
    description TEXT,
    format TEXT NOT NULL CHECK (format IN (
        'webinar', 'conference', 'workshop', 'training', 'round_table', 'hackathon', 'serious_game',
        'creative_session', 'tool_demo', 'exhibition', 'visit', 'open_house', 'podcast',
        'call_for_ideas', 'other')),
    mode TEXT NOT NULL CHECK (mode IN ('online', 'onsite', 'hybrid')),
    audience TEXT NOT NULL CHECK (audience IN ('public_agents', 'general_public', 'everyone')),
    timezone TEXT NOT NULL DEFAULT 'Europe/Paris',
    -- The span of all sessions, kept by the application on every write: for sorting and ranges.
    starts_at TIMESTAMPTZ NOT NULL,
    ends_at TIMESTAMPTZ NOT NULL,
    venue_name TEXT,
    venue_address TEXT,
    venue_postal_code TEXT,
    venue_city TEXT,
    region_code TEXT REFERENCES regions (code),
    department_code TEXT,
    latitude DOUBLE PRECISION CHECK (latitude BETWEEN -90 AND 90),
    longitude DOUBLE PRECISION CHECK (longitude BETWEEN -180 AND 180),
    online_url TEXT,
    registration_required BOOLEAN NOT NULL DEFAULT false,
    registration_url TEXT,
    registration_capacity INTEGER CHECK (registration_capacity > 0),
    registration_closes_at TIMESTAMPTZ,
    language TEXT NOT NULL DEFAULT 'fr',
    accessibility TEXT,
    tags TEXT[] NOT NULL DEFAULT '{}',
    co_organizers TEXT[] NOT NULL DEFAULT '{}',
    image_url TEXT,
    external_id TEXT,
    publication TEXT NOT NULL DEFAULT 'draft'
        CHECK (publication IN ('draft', 'submitted', 'published', 'rejected', 'withdrawn')),
    status TEXT NOT NULL DEFAULT 'scheduled'
        CHECK (status IN ('scheduled', 'postponed', 'rescheduled', 'moved_online', 'full', 'cancelled')),
    -- Why moderation rejected it (set with `rejected`).
    rejection_reason TEXT,
    -- What the organizer says about the status (why it is cancelled, where it moved).
    status_note TEXT,
    submitted_at TIMESTAMPTZ,
    published_at TIMESTAMPTZ,
    created_by UUID REFERENCES accounts (id) ON DELETE SET NULL,
    version INTEGER NOT NULL DEFAULT 1,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    CONSTRAINT events_slug_key UNIQUE (slug),
    CONSTRAINT events_organizer_external_id_key UNIQUE (organizer_id, external_id),
    CONSTRAINT events_ends_after_start CHECK (ends_at > starts_at),
    CONSTRAINT events_department_in_region FOREIGN KEY (department_code, region_code)
        REFERENCES departments (code, region_code),
    CONSTRAINT events_rejected_has_reason CHECK (publication <> 'rejected' OR rejection_reason IS NOT NULL)
);
CREATE TRIGGER events_touch BEFORE UPDATE ON events FOR EACH ROW EXECUTE FUNCTION touch_row();
CREATE INDEX events_organizer_idx ON events (organizer_id, starts_at, id);
CREATE INDEX events_edition_idx ON events (edition_year);
CREATE INDEX events_track_idx ON events (track_id) WHERE track_id IS NOT NULL;
CREATE INDEX events_moderation_idx ON events (publication, submitted_at) WHERE publication = 'submitted';

-- A series (every Tuesday) is one event with several sessions.
CREATE TABLE event_sessions (
    event_id UUID NOT NULL REFERENCES events (id) ON DELETE CASCADE,
    position INTEGER NOT NULL CHECK (position >= 0),
    starts_at TIMESTAMPTZ NOT NULL,
    ends_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (event_id, position),
    CONSTRAINT event_sessions_ends_after_start CHECK (ends_at > starts_at)
);

-- The territorial labs an event is run with.
CREATE TABLE event_labs (
    event_id UUID NOT NULL REFERENCES events (id) ON DELETE CASCADE,
    lab_id UUID NOT NULL REFERENCES labs (id) ON DELETE CASCADE,
    PRIMARY KEY (event_id, lab_id)
);
CREATE INDEX event_labs_lab_idx ON event_labs (lab_id);

-- Who changed what and when: every write and every transition, with the changed fields.
CREATE TABLE event_history (
    id BIGSERIAL PRIMARY KEY,
    event_id UUID NOT NULL REFERENCES events (id) ON DELETE CASCADE,
    -- The event's version after the change.
    version INTEGER NOT NULL,
    action TEXT NOT NULL CHECK (action IN (
        'created', 'updated', 'submitted', 'published', 'rejected', 'withdrawn', 'cancelled')),
    account_id UUID REFERENCES accounts (id) ON DELETE SET NULL,
    actor_role TEXT NOT NULL,
    publication_before TEXT,
    publication_after TEXT NOT NULL,
    -- {"field": {"from": …, "to": …}} for the fields the change touched.
    changes JSONB NOT NULL DEFAULT '{}',
    note TEXT,
    at TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX event_history_event_idx ON event_history (event_id, id);

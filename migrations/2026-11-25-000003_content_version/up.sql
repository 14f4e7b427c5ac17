-- What feeds and embeds validate a client's copy by (src/feeds/validators.rs): a counter of the
-- transactions that changed anything they show (events, organizers, labs, tracks, editions).
-- It is bumped at commit, by deferred triggers, once per transaction: so a transaction that
-- started before another but commits after it still moves it, which a timestamp taken when a
-- row is written (`updated_at`) would not. Readers read one row.
CREATE TABLE content_version (
    id boolean PRIMARY KEY DEFAULT true CHECK (id),
    version bigint NOT NULL DEFAULT 0,
    changed_at timestamptz NOT NULL DEFAULT now()
);
INSERT INTO content_version DEFAULT VALUES;

CREATE FUNCTION bump_content_version() RETURNS trigger AS $$
BEGIN
    -- Once per transaction: the first deferred row trigger bumps, the others see the flag.
    IF current_setting('mip.content_version_bumped', true) IS DISTINCT FROM 'on' THEN
        PERFORM set_config('mip.content_version_bumped', 'on', true);
        -- At commit, after the work is done: wait for the other committers (each holds the row
        -- for an instant) rather than fail the commit on the session's lock_timeout.
        PERFORM set_config('lock_timeout', '0', true);
        UPDATE content_version SET version = version + 1, changed_at = clock_timestamp();
    END IF;
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;

CREATE CONSTRAINT TRIGGER events_content_version AFTER INSERT OR UPDATE OR DELETE ON events
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION bump_content_version();
CREATE CONSTRAINT TRIGGER organizers_content_version AFTER INSERT OR UPDATE OR DELETE ON organizers
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION bump_content_version();
CREATE CONSTRAINT TRIGGER labs_content_version AFTER INSERT OR UPDATE OR DELETE ON labs
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION bump_content_version();
CREATE CONSTRAINT TRIGGER tracks_content_version AFTER INSERT OR UPDATE OR DELETE ON tracks
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION bump_content_version();
CREATE CONSTRAINT TRIGGER editions_content_version AFTER INSERT OR UPDATE OR DELETE ON editions
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION bump_content_version();

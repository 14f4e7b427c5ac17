ALTER TABLE event_labs DROP CONSTRAINT event_labs_lab_id_fkey;
ALTER TABLE event_labs ADD CONSTRAINT event_labs_lab_id_fkey
    FOREIGN KEY (lab_id) REFERENCES labs (id) ON DELETE CASCADE;

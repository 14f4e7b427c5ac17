-- A lab that events run with is not deleted from under them (it was silently dropped from
-- them, with no new version and no history): as for an edition in use, the delete is refused.
ALTER TABLE event_labs DROP CONSTRAINT event_labs_lab_id_fkey;
ALTER TABLE event_labs ADD CONSTRAINT event_labs_lab_id_fkey
    FOREIGN KEY (lab_id) REFERENCES labs (id) ON DELETE RESTRICT;

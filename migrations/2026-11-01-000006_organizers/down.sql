ALTER TABLE labs DROP COLUMN organizer_id;
ALTER TABLE accounts DROP COLUMN organizer_id;
DROP TABLE organizers;
ALTER TABLE departments DROP CONSTRAINT departments_code_region_key;

DROP FUNCTION IF EXISTS touch_parent_lab() CASCADE;
DROP TABLE lab_figures;
DROP TABLE labs;

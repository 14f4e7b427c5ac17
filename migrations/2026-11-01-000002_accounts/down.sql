DROP TABLE accounts;
DROP FUNCTION touch_row();

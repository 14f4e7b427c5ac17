DROP TABLE departments;
DROP TABLE regions;

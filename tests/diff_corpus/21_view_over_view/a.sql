-- 21_view_over_view: schema A
CREATE TABLE staff (id bigint PRIMARY KEY, name text, dept text, salary numeric);
CREATE VIEW staff_public AS SELECT id, name, dept FROM staff;
CREATE VIEW dept_sizes AS SELECT dept, count(*) AS n FROM staff_public GROUP BY dept;

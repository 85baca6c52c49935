-- 21_view_over_view: schema B
CREATE TABLE staff (id bigint PRIMARY KEY, name text, dept text, salary numeric);
CREATE VIEW staff_public AS SELECT id, upper(name) AS name, lower(dept) AS dept FROM staff WHERE salary IS NOT NULL;
CREATE VIEW dept_sizes AS SELECT dept, count(*) AS n FROM staff_public GROUP BY dept;

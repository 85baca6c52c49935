-- 82_operators: schema B
CREATE TABLE points (id bigint PRIMARY KEY, x int NOT NULL, y int NOT NULL);
CREATE FUNCTION roughly_equal(a int, b int) RETURNS boolean LANGUAGE sql IMMUTABLE AS $$ SELECT abs(a - b) <= 1 $$;
CREATE OPERATOR ~= (LEFTARG = int, RIGHTARG = int, FUNCTION = roughly_equal, COMMUTATOR = ~=);
COMMENT ON OPERATOR ~= (int, int) IS 'within one';
CREATE VIEW diagonal_points AS SELECT id FROM points WHERE x ~= y;

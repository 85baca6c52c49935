-- An error keeps where it came from: LOCATION names the pgmig source file and function that raised
-- it (not one shared reporting function), and an error caught from PostgreSQL keeps every field of
-- its original report (the schema, table, column, constraint and data type it names).
CREATE EXTENSION pgmig;
\set SHOW_CONTEXT never

-- 1. LOCATION of a pgmig error (psql's verbose report; line numbers cut, they change with the code).
\! psql -X -q -d contrib_regression -v VERBOSITY=verbose -c "SELECT migrate_register('1.x', 'bad_version', 'SELECT 1')" 2>&1 | sed -n 's/:[0-9]*$//; /LOCATION/p'
\! psql -X -q -d contrib_regression -v VERBOSITY=verbose -c "SELECT migrate_rollback(0)" 2>&1 | sed -n 's/:[0-9]*$//; /LOCATION/p'

-- 2. A PostgreSQL error re-raised by pgmig keeps PostgreSQL's own LOCATION (the executor's check).
CREATE SCHEMA origin_app;
CREATE TABLE origin_app.accounts (id int PRIMARY KEY, balance int CONSTRAINT balance_not_negative CHECK (balance >= 0));
SELECT migrate_register('1', 'overdraw', 'INSERT INTO origin_app.accounts VALUES (1, -5);');
\! psql -X -q -d contrib_regression -v VERBOSITY=verbose -c "SELECT * FROM migrate_apply()" 2>&1 | sed -n 's/:[0-9]*$//; /LOCATION/p'

-- 3. The objects the violated constraint names reach the caller.
DO $$
DECLARE
    state text; schema_name text; table_name text; column_name text; constraint_name text; datatype text;
BEGIN
    PERFORM * FROM migrate_apply();
EXCEPTION WHEN others THEN
    GET STACKED DIAGNOSTICS state = RETURNED_SQLSTATE, schema_name = SCHEMA_NAME, table_name = TABLE_NAME,
        column_name = COLUMN_NAME, constraint_name = CONSTRAINT_NAME, datatype = PG_DATATYPE_NAME;
    RAISE NOTICE 'sqlstate %, schema %, table %, constraint %', state, schema_name, table_name, constraint_name;
END
$$;
-- A NOT NULL violation names the column; a domain check names the data type.
CREATE DOMAIN origin_app.positive AS int CHECK (VALUE > 0);
SELECT migrate_register('1', 'overdraw', E'INSERT INTO origin_app.accounts VALUES (NULL, 5);');
DO $$
DECLARE schema_name text; table_name text; column_name text;
BEGIN
    PERFORM * FROM migrate_apply();
EXCEPTION WHEN not_null_violation THEN
    GET STACKED DIAGNOSTICS schema_name = SCHEMA_NAME, table_name = TABLE_NAME, column_name = COLUMN_NAME;
    RAISE NOTICE 'schema %, table %, column %', schema_name, table_name, column_name;
END
$$;
SELECT migrate_register('1', 'overdraw', E'SELECT (-1)::origin_app.positive;');
DO $$
DECLARE schema_name text; datatype text; constraint_name text;
BEGIN
    PERFORM * FROM migrate_apply();
EXCEPTION WHEN check_violation THEN
    GET STACKED DIAGNOSTICS schema_name = SCHEMA_NAME, datatype = PG_DATATYPE_NAME, constraint_name = CONSTRAINT_NAME;
    RAISE NOTICE 'schema %, data type %, constraint %', schema_name, datatype, constraint_name;
END
$$;

DROP EXTENSION pgmig;
DROP SCHEMA origin_app CASCADE;

-- Secrets never reach the audit trail, NOTICEs or error messages: found from the parse tree.
CREATE EXTENSION pgmig;
CREATE EXTENSION postgres_fdw;
\set SHOW_CONTEXT never

-- Each form, redacted by pgmig.redact() (the same code the audit and the error messages use).
SELECT pgmig.redact($$CREATE ROLE app LOGIN PASSWORD 's3cret-1'$$);
SELECT pgmig.redact($$ALTER USER app WITH ENCRYPTED PASSWORD 's3cret-2' VALID UNTIL 'infinity'$$);
SELECT pgmig.redact($$CREATE USER app2 PASSWORD E's3cret\'3' CONNECTION LIMIT 3$$);
SELECT pgmig.redact($$ALTER ROLE app PASSWORD NULL$$);
SELECT pgmig.redact($$CREATE USER MAPPING FOR CURRENT_USER SERVER s OPTIONS (user 'u', password 's3cret-4')$$);
SELECT pgmig.redact($$ALTER USER MAPPING FOR app SERVER s OPTIONS (SET password $pw$s3cret-5$pw$, ADD sslmode 'require')$$);
SELECT pgmig.redact($$CREATE SERVER s FOREIGN DATA WRAPPER postgres_fdw OPTIONS (host 'db', passfile '/s3cret/6')$$);
SELECT pgmig.redact($$CREATE SUBSCRIPTION sub CONNECTION 'host=db user=rep password=s3cret-7' PUBLICATION p$$);
SELECT pgmig.redact($$ALTER SUBSCRIPTION sub CONNECTION 'host=db password=s3cret-8'$$);
-- Not secrets: left alone.
SELECT pgmig.redact($$COMMENT ON TABLE t IS 'the password column is hashed'$$);
-- Unparsable text: the literal after PASSWORD is found from the core scanner's tokens.
SELECT pgmig.redact($$CREATE ROLE x PASSWORD 's3cret-9' NONSENSE$$);

-- Through the event triggers: user mappings and subscriptions reach pgmig.ddl_audit redacted.
CREATE SERVER s FOREIGN DATA WRAPPER postgres_fdw OPTIONS (host 'db');
CREATE USER MAPPING FOR CURRENT_USER SERVER s OPTIONS (user 'u', password 's3cret-10');
ALTER USER MAPPING FOR CURRENT_USER SERVER s OPTIONS (SET password 's3cret-11');
-- (the server's WARNING about the unconnected subscription is worded differently across major versions)
SET client_min_messages = error;
CREATE SUBSCRIPTION audit_sub CONNECTION 'host=db password=s3cret-12' PUBLICATION p
    WITH (connect = false, slot_name = NONE, enabled = false, create_slot = false);
RESET client_min_messages;
SELECT command_tag, statement FROM pgmig.ddl_audit WHERE command_tag IN ('CREATE USER MAPPING', 'ALTER USER MAPPING', 'CREATE SUBSCRIPTION') ORDER BY id;
SELECT count(*) AS rows_with_a_secret FROM pgmig.ddl_audit WHERE statement LIKE '%s3cret%';
DROP SUBSCRIPTION audit_sub;
DROP USER MAPPING FOR CURRENT_USER SERVER s;
DROP SERVER s;

-- A failing migration quotes its statement in the error: redacted there too.
SELECT migrate_register('1', 'role', $$CREATE ROLE regress_pgmig_role PASSWORD 's3cret-13' NOSUCHOPTION 1$$) IS NOT NULL AS registered;
SELECT * FROM migrate_apply();
SELECT migrate_register('1', 'role', $$CREATE ROLE regress_pgmig_role PASSWORD 's3cret-14' IN ROLE no_such_role$$) IS NOT NULL AS registered;
SELECT * FROM migrate_apply();

DROP EXTENSION postgres_fdw;
DROP EXTENSION pgmig;

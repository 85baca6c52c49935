-- ==== deploy steps in the history ====
-- pgmig deploy records its steps beside the migrations' own rows: the backup it took (file, time, size)
-- and how the deploy ended. name is 'deploy <environment>', reason the step, message what happened.
CREATE FUNCTION migrate_record_deploy(environment text, step text, message text, duration interval DEFAULT NULL)
    RETURNS bigint
    AS 'MODULE_PATHNAME', 'migrate_record_deploy' LANGUAGE C VOLATILE;
COMMENT ON FUNCTION migrate_record_deploy(text, text, text, interval) IS
    'pgmig deploy: records a step (backup, succeeded, failed) of a deploy to an environment in pgmig.history';
REVOKE ALL ON FUNCTION migrate_record_deploy(text, text, text, interval) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION migrate_record_deploy(text, text, text, interval) TO pgmig_admin;


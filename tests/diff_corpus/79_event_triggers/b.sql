-- 79_event_triggers: schema B
CREATE FUNCTION note_ddl() RETURNS event_trigger LANGUAGE plpgsql AS $$ BEGIN END $$;
CREATE EVENT TRIGGER corpus_note_ddl ON ddl_command_end EXECUTE FUNCTION note_ddl();
ALTER EVENT TRIGGER corpus_note_ddl DISABLE;
CREATE FUNCTION forbid_drops() RETURNS event_trigger LANGUAGE plpgsql AS $$ BEGIN END $$;
CREATE EVENT TRIGGER corpus_forbid_drops ON sql_drop WHEN TAG IN ('DROP TABLE', 'DROP SCHEMA') EXECUTE FUNCTION forbid_drops();
COMMENT ON EVENT TRIGGER corpus_forbid_drops IS 'no drops in production';

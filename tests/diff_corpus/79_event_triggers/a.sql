-- 79_event_triggers: schema A
CREATE FUNCTION note_ddl() RETURNS event_trigger LANGUAGE plpgsql AS $$ BEGIN END $$;
CREATE EVENT TRIGGER corpus_note_ddl ON ddl_command_end EXECUTE FUNCTION note_ddl();

-- 35_trigger_change: schema A
CREATE TABLE stock (id bigint PRIMARY KEY, qty int, price numeric);
CREATE FUNCTION stock_log() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NEW; END $$;
CREATE TRIGGER stock_changed BEFORE UPDATE ON stock FOR EACH ROW EXECUTE FUNCTION stock_log();
CREATE TRIGGER stock_audit AFTER INSERT ON stock FOR EACH ROW EXECUTE FUNCTION stock_log();
CREATE TRIGGER stock_old AFTER DELETE ON stock FOR EACH STATEMENT EXECUTE FUNCTION stock_log();

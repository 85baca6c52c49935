-- 35_trigger_change: schema B
CREATE TABLE stock (id bigint PRIMARY KEY, qty int, price numeric);
CREATE FUNCTION stock_log() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NEW; END $$;
CREATE TRIGGER stock_changed AFTER UPDATE OF qty, price ON stock FOR EACH ROW
    WHEN (OLD.qty IS DISTINCT FROM NEW.qty) EXECUTE FUNCTION stock_log();
CREATE TRIGGER stock_audit AFTER INSERT ON stock FOR EACH ROW EXECUTE FUNCTION stock_log();
ALTER TABLE stock DISABLE TRIGGER stock_audit;

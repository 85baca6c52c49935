-- 71_comments_every_kind: schema A
CREATE EXTENSION citext;
CREATE SCHEMA billing;
CREATE DOMAIN billing.amount AS numeric(12,2) CONSTRAINT amount_positive CHECK (VALUE >= 0);
CREATE TABLE billing.invoices (id bigint PRIMARY KEY, total billing.amount, owner text,
                               CONSTRAINT invoices_owner_set CHECK (owner <> ''));
COMMENT ON CONSTRAINT invoices_owner_set ON billing.invoices IS 'an owner, always';
CREATE FUNCTION billing.touch() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NEW; END $$;
CREATE TRIGGER invoices_touch BEFORE UPDATE ON billing.invoices FOR EACH ROW EXECUTE FUNCTION billing.touch();
ALTER TABLE billing.invoices ENABLE ROW LEVEL SECURITY;
CREATE POLICY invoices_own ON billing.invoices USING (owner = current_user);
COMMENT ON POLICY invoices_own ON billing.invoices IS 'each sees their own';
CREATE MATERIALIZED VIEW billing.totals AS SELECT owner, sum(total) AS total FROM billing.invoices GROUP BY owner;
CREATE AGGREGATE billing.product(numeric) (SFUNC = numeric_mul, STYPE = numeric, INITCOND = '1');

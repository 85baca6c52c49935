-- 71_comments_every_kind: schema B
CREATE EXTENSION citext;
COMMENT ON EXTENSION citext IS 'emails compare without case';
CREATE SCHEMA billing;
COMMENT ON SCHEMA billing IS 'money';
CREATE DOMAIN billing.amount AS numeric(12,2) CONSTRAINT amount_positive CHECK (VALUE >= 0);
COMMENT ON CONSTRAINT amount_positive ON DOMAIN billing.amount IS 'no negative amounts';
CREATE TABLE billing.invoices (id bigint PRIMARY KEY, total billing.amount, owner text,
                               CONSTRAINT invoices_owner_set CHECK (owner <> ''));
COMMENT ON CONSTRAINT invoices_owner_set ON billing.invoices IS 'an owner, never empty';
COMMENT ON CONSTRAINT invoices_pkey ON billing.invoices IS 'invoice numbers';
CREATE FUNCTION billing.touch() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NEW; END $$;
CREATE TRIGGER invoices_touch BEFORE UPDATE ON billing.invoices FOR EACH ROW EXECUTE FUNCTION billing.touch();
COMMENT ON TRIGGER invoices_touch ON billing.invoices IS 'keeps updated_at honest';
ALTER TABLE billing.invoices ENABLE ROW LEVEL SECURITY;
CREATE POLICY invoices_own ON billing.invoices USING (owner = current_user);
CREATE MATERIALIZED VIEW billing.totals AS SELECT owner, sum(total) AS total FROM billing.invoices GROUP BY owner;
COMMENT ON MATERIALIZED VIEW billing.totals IS 'refreshed nightly';
CREATE AGGREGATE billing.product(numeric) (SFUNC = numeric_mul, STYPE = numeric, INITCOND = '1');
COMMENT ON AGGREGATE billing.product(numeric) IS 'the product of the values';

-- 90_owners: schema A
CREATE SCHEMA billing;
CREATE TABLE billing.invoices (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, total numeric(12,2) NOT NULL);
CREATE VIEW billing.open_totals AS SELECT sum(total) AS total FROM billing.invoices;
CREATE MATERIALIZED VIEW billing.daily AS SELECT count(*) AS n FROM billing.invoices;
CREATE SEQUENCE billing.numbers;
CREATE FUNCTION billing.next_number() RETURNS bigint LANGUAGE sql AS $$ SELECT nextval('billing.numbers') $$;
CREATE PROCEDURE billing.close_day() LANGUAGE sql AS $$ SELECT 1 $$;
CREATE TYPE billing.state AS ENUM ('open', 'paid');
CREATE DOMAIN billing.amount AS numeric(12,2) CHECK (VALUE >= 0);
CREATE TYPE billing.money_pair AS (low numeric, high numeric);
GRANT SELECT ON billing.invoices TO pgmig_corpus_reader;
CREATE TABLE public.legacy_ledger (id int PRIMARY KEY, note text);
ALTER TABLE public.legacy_ledger OWNER TO pgmig_corpus_writer;
ALTER TABLE billing.invoices OWNER TO pgmig_corpus_writer;
ALTER FUNCTION billing.next_number() OWNER TO pgmig_corpus_writer;

-- 47_schemas: schema B
CREATE SCHEMA billing;
COMMENT ON SCHEMA billing IS 'money matters';
GRANT USAGE ON SCHEMA billing TO pgmig_corpus_reader;
CREATE TABLE users (id bigint PRIMARY KEY, name text);
CREATE TABLE billing.invoices (id bigint PRIMARY KEY, user_id bigint REFERENCES public.users, total numeric);
CREATE VIEW billing.user_totals AS SELECT u.name, sum(i.total) AS total FROM public.users u JOIN billing.invoices i ON i.user_id = u.id GROUP BY u.name;
CREATE FUNCTION billing.total_of(uid bigint) RETURNS numeric LANGUAGE sql STABLE AS $$ SELECT sum(total) FROM billing.invoices WHERE user_id = uid $$;

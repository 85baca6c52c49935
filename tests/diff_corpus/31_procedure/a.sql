-- 31_procedure: schema A
CREATE TABLE jobs (id bigint PRIMARY KEY, done boolean NOT NULL DEFAULT false);
CREATE PROCEDURE finish_job(job bigint) LANGUAGE sql AS $$ UPDATE jobs SET done = true WHERE id = job $$;

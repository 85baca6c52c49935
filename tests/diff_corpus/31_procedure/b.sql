-- 31_procedure: schema B
CREATE TABLE jobs (id bigint PRIMARY KEY, done boolean NOT NULL DEFAULT false);
CREATE PROCEDURE finish_job(job bigint) LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
    UPDATE jobs SET done = true WHERE id = job;
END
$$;
CREATE PROCEDURE purge_jobs() LANGUAGE sql AS $$ DELETE FROM jobs WHERE done $$;

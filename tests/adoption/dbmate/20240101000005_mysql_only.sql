-- migrate:up
-- Nothing to do on PostgreSQL: this step only mattered for the MySQL build.

-- migrate:down

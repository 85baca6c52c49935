-- Up Migration
-- Nothing to do on PostgreSQL: this step only mattered for the MySQL build.

-- Down Migration

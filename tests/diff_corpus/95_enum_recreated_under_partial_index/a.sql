-- 95_enum_recreated_under_partial_index: schema A
CREATE TYPE run_status AS ENUM ('PENDING', 'RUNNING', 'DONE');
CREATE TABLE runs (
    id int PRIMARY KEY,
    status run_status NOT NULL DEFAULT 'PENDING',
    CONSTRAINT runs_not_done_twice CHECK (status <> 'DONE'::run_status OR id > 0)
);
CREATE INDEX runs_pending ON runs (id) WHERE status = 'PENDING'::run_status;
CREATE INDEX runs_is_running ON runs ((status = 'RUNNING'::run_status));
CREATE INDEX runs_status ON runs (status);

-- 101_enum_recreated_under_domain: schema A
CREATE TYPE ticket_state AS ENUM ('new', 'open', 'stale', 'closed');
CREATE DOMAIN live_state AS ticket_state CHECK (VALUE <> 'closed');
CREATE TABLE tickets (id bigint PRIMARY KEY, state ticket_state NOT NULL DEFAULT 'new', current live_state DEFAULT 'open');
COMMENT ON DOMAIN live_state IS 'a state that is not closed';
CREATE TABLE desks (desk int, state ticket_state, EXCLUDE USING btree (desk WITH =) WHERE (state = 'open'));

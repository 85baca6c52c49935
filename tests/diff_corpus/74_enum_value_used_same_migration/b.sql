-- 74_enum_value_used_same_migration: schema B
CREATE TYPE ticket_state AS ENUM ('open', 'waiting', 'closed', 'archived');
CREATE TABLE tickets (id bigint PRIMARY KEY, state ticket_state NOT NULL DEFAULT 'waiting',
                      CONSTRAINT tickets_not_archived CHECK (state <> 'archived'));
CREATE VIEW waiting_tickets AS SELECT id FROM tickets WHERE state = 'waiting';
CREATE INDEX tickets_waiting ON tickets (id) WHERE state = 'waiting';

-- 54_drop_objects: schema A
CREATE TABLE items (id bigint PRIMARY KEY, name text);
CREATE VIEW item_names AS SELECT name FROM items;
CREATE FUNCTION item_guard() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NEW; END $$;
CREATE TRIGGER items_guard BEFORE INSERT ON items FOR EACH ROW EXECUTE FUNCTION item_guard();
CREATE INDEX items_name ON items (name);
CREATE TYPE unused_kind AS ENUM ('x', 'y');
CREATE SEQUENCE unused_seq;

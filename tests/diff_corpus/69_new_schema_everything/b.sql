-- 69_new_schema_everything: schema B
CREATE TABLE core (id int PRIMARY KEY);
CREATE SCHEMA shop;
CREATE TYPE shop.size AS ENUM ('s', 'm', 'l');
CREATE DOMAIN shop.price AS numeric(10,2) CHECK (VALUE >= 0);
CREATE SEQUENCE shop.sku_numbers START 1000;
CREATE TABLE shop.products (id bigint PRIMARY KEY, sku bigint NOT NULL DEFAULT nextval('shop.sku_numbers'), size shop.size, price shop.price);
CREATE TABLE shop.cart_items (id bigint PRIMARY KEY, product_id bigint NOT NULL REFERENCES shop.products, core_id int REFERENCES public.core, qty int NOT NULL DEFAULT 1);
CREATE VIEW shop.cart_totals AS SELECT c.id, c.qty * p.price AS total FROM shop.cart_items c JOIN shop.products p ON p.id = c.product_id;
CREATE FUNCTION shop.touch() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN NEW.qty := greatest(NEW.qty, 1); RETURN NEW; END $$;
CREATE TRIGGER cart_items_touch BEFORE INSERT ON shop.cart_items FOR EACH ROW EXECUTE FUNCTION shop.touch();
ALTER TABLE shop.products ENABLE ROW LEVEL SECURITY;
CREATE POLICY products_visible ON shop.products FOR SELECT USING (price IS NOT NULL);
GRANT USAGE ON SCHEMA shop TO pgmig_corpus_reader;
GRANT SELECT ON shop.products, shop.cart_totals TO pgmig_corpus_reader;

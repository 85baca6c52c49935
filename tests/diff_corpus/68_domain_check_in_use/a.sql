-- 68_domain_check_in_use: schema A
CREATE DOMAIN slug AS text CONSTRAINT slug_format CHECK (VALUE ~ '^[a-z]+$');
CREATE TABLE pages (id bigint PRIMARY KEY, slug slug NOT NULL);
CREATE TABLE tags (id bigint PRIMARY KEY, slug slug);
CREATE FUNCTION find_page(s slug) RETURNS bigint LANGUAGE sql STABLE AS $$ SELECT id FROM pages WHERE slug = s $$;

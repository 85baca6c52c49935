-- 53_collation_options: schema A
CREATE TABLE words (id bigint PRIMARY KEY, word text, lang text);
CREATE UNLOGGED TABLE cache (k text PRIMARY KEY, v text);

-- 11_primary_key: schema A
CREATE TABLE tags (name text NOT NULL, color text);
CREATE TABLE post_tags (post_id bigint NOT NULL, tag text NOT NULL);

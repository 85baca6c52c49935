-- 11_primary_key: schema B
CREATE TABLE tags (name text NOT NULL PRIMARY KEY, color text);
CREATE TABLE post_tags (post_id bigint NOT NULL, tag text NOT NULL, PRIMARY KEY (post_id, tag));

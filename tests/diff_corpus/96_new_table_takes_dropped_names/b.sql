-- 96_new_table_takes_dropped_names: schema B
-- mod_sticky_post renamed to mod_feature_post, a column renamed and one added: the primary key, the
-- unique constraint and the serial sequence keep their first names
CREATE TABLE mod_sticky_post (
    id serial PRIMARY KEY,
    post_id int NOT NULL UNIQUE,
    stickied boolean
);
ALTER TABLE mod_sticky_post RENAME TO mod_feature_post;
ALTER TABLE mod_feature_post RENAME COLUMN stickied TO featured;
ALTER TABLE mod_feature_post ADD COLUMN is_featured_community boolean NOT NULL DEFAULT true;

-- 96_new_table_takes_dropped_names: schema A
CREATE TABLE mod_sticky_post (
    id serial PRIMARY KEY,
    post_id int NOT NULL UNIQUE,
    stickied boolean
);

-- 50_fk_new_tables: schema B
CREATE TABLE anchor (id int PRIMARY KEY);
CREATE TABLE z_parent (id bigint PRIMARY KEY, name text);
CREATE TABLE a_child (id bigint PRIMARY KEY, parent_id bigint NOT NULL REFERENCES z_parent, anchor_id int REFERENCES anchor);
CREATE TABLE m_left (id bigint PRIMARY KEY, right_id bigint);
CREATE TABLE m_right (id bigint PRIMARY KEY, left_id bigint REFERENCES m_left);
ALTER TABLE m_left ADD CONSTRAINT m_left_right_id_fkey FOREIGN KEY (right_id) REFERENCES m_right;

-- 94_identity_sequence_kept_name: schema A
CREATE TABLE accounts (id bigint NOT NULL PRIMARY KEY, email text);
CREATE TABLE tags (label text PRIMARY KEY);

-- 77_collations: schema B
CREATE COLLATION nocase (provider = icu, locale = 'und-u-ks-level2', deterministic = false);
COMMENT ON COLLATION nocase IS 'case-insensitive comparisons';
CREATE COLLATION bytewise (lc_collate = 'C', lc_ctype = 'C');
CREATE TABLE users (id bigint PRIMARY KEY, email text NOT NULL, login text COLLATE nocase, code text COLLATE bytewise);
CREATE INDEX users_code ON users (code COLLATE bytewise);

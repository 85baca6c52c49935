-- 40_domain: schema A
CREATE DOMAIN percent AS int CHECK (VALUE BETWEEN 0 AND 100);
CREATE TABLE scores (id bigint PRIMARY KEY, score percent);

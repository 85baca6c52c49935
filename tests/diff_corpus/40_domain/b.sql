-- 40_domain: schema B
CREATE DOMAIN percent AS int NOT NULL DEFAULT 0 CONSTRAINT percent_check CHECK (VALUE BETWEEN 0 AND 1000);
CREATE DOMAIN email AS text CONSTRAINT email_at CHECK (VALUE LIKE '%@%');
CREATE TABLE scores (id bigint PRIMARY KEY, score percent, contact email);

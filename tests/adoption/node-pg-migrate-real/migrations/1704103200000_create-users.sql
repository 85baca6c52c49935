-- Up Migration
CREATE TABLE users (
    id bigserial PRIMARY KEY,
    email text NOT NULL UNIQUE
);

-- Down Migration
DROP TABLE users;

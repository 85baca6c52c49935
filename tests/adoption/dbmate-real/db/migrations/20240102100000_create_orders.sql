-- migrate:up
CREATE TABLE orders (
    id bigserial PRIMARY KEY,
    user_id bigint NOT NULL REFERENCES users,
    placed_at timestamptz NOT NULL DEFAULT now()
);

-- migrate:down
DROP TABLE orders;

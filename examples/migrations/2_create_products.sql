-- pgmig:up
CREATE TABLE IF NOT EXISTS products (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    sku         text          NOT NULL UNIQUE,
    title       text          NOT NULL,
    price       numeric(12,2) NOT NULL CHECK (price >= 0),
    active      boolean       NOT NULL DEFAULT true
);

-- pgmig:down
DROP TABLE IF EXISTS products;

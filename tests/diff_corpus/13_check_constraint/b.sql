-- 13_check_constraint: schema B
CREATE TABLE prices (id bigint PRIMARY KEY, amount numeric CHECK (amount >= 0), currency text CHECK (currency ~ '^[A-Z]{3}$'),
                     discount int CONSTRAINT discount_range CHECK (discount BETWEEN 0 AND 90), legacy int);

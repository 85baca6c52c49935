-- 13_check_constraint: schema A
CREATE TABLE prices (id bigint PRIMARY KEY, amount numeric CHECK (amount >= 0), currency text,
                     discount int CONSTRAINT discount_range CHECK (discount BETWEEN 0 AND 50), legacy int CONSTRAINT legacy_positive CHECK (legacy > 0));

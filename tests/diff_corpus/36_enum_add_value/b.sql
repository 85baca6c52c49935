-- 36_enum_add_value: schema B
CREATE TYPE order_status AS ENUM ('new', 'paid', 'shipped', 'delivered');

-- 36_enum_add_value: schema A
CREATE TYPE order_status AS ENUM ('new', 'paid');

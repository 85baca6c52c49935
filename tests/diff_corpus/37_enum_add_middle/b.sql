-- 37_enum_add_middle: schema B
CREATE TYPE priority AS ENUM ('lowest', 'low', 'medium', 'high');

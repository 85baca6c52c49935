-- 37_enum_add_middle: schema A
CREATE TYPE priority AS ENUM ('low', 'high');

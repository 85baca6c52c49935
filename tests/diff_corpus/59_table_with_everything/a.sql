-- 59_table_with_everything: schema A
CREATE TYPE mood AS ENUM ('sad', 'happy');
CREATE DOMAIN short_text AS varchar(80);

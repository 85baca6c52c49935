-- 59_table_with_everything: schema B
CREATE TYPE mood AS ENUM ('sad', 'happy');
CREATE DOMAIN short_text AS varchar(80);
CREATE TABLE diary (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    day date NOT NULL DEFAULT current_date UNIQUE,
    title short_text NOT NULL,
    body text COLLATE "C",
    mood mood,
    words int GENERATED ALWAYS AS (array_length(regexp_split_to_array(body, '\s+'), 1)) STORED,
    rating smallint CHECK (rating BETWEEN 1 AND 5)
);
COMMENT ON COLUMN diary.mood IS 'how the day felt';

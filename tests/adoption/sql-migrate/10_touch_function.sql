-- +migrate Down
DROP TRIGGER books_touch ON books;
DROP FUNCTION books_touch();
ALTER TABLE books DROP COLUMN updated_at;

-- +migrate Up
ALTER TABLE books ADD COLUMN updated_at timestamptz NOT NULL DEFAULT now();

-- +migrate StatementBegin
CREATE FUNCTION books_touch() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.updated_at := now();
    RETURN NEW;
END;
$$;
-- +migrate StatementEnd

CREATE TRIGGER books_touch BEFORE UPDATE ON books FOR EACH ROW EXECUTE FUNCTION books_touch();

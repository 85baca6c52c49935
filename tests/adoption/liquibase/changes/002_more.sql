--liquibase formatted sql

--changeset bob:touch-function splitStatements:false
ALTER TABLE books ADD COLUMN updated_at timestamptz NOT NULL DEFAULT now();

CREATE FUNCTION books_touch() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.updated_at := now();
    RETURN NEW;
END;
$$;

CREATE TRIGGER books_touch BEFORE UPDATE ON books FOR EACH ROW EXECUTE FUNCTION books_touch();
/* liquibase rollback
DROP TRIGGER books_touch ON books;
DROP FUNCTION books_touch();
ALTER TABLE books DROP COLUMN updated_at;
*/

--changeset alice:mysql-engine dbms:mysql
ALTER TABLE books ENGINE=InnoDB;
--rollback ALTER TABLE books ENGINE=MyISAM;

--changeset alice:placeholder
-- A step only the Oracle build needs: nothing to do on PostgreSQL.

--changeset alice:books-title-index runInTransaction:false
CREATE INDEX CONCURRENTLY books_title_idx ON books (title);
--rollback DROP INDEX CONCURRENTLY books_title_idx;

--changeset carol:comment context:prod
COMMENT ON TABLE books IS 'Books; one row per edition';
--rollback COMMENT ON TABLE books IS NULL;

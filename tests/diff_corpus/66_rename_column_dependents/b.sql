-- 66_rename_column_dependents: schema B
CREATE TABLE countries (code char(2) PRIMARY KEY);
CREATE TABLE cities (id bigint PRIMARY KEY, country_code char(2) NOT NULL REFERENCES countries, name text NOT NULL,
                     CONSTRAINT cities_country_name UNIQUE (country_code, name), CONSTRAINT cities_country_upper CHECK (country_code = upper(country_code)));
ALTER TABLE cities RENAME CONSTRAINT cities_country_code_fkey TO cities_country_fkey;
CREATE FUNCTION cities_log() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NEW; END $$;
CREATE TRIGGER cities_country_changed AFTER UPDATE OF country_code ON cities FOR EACH ROW EXECUTE FUNCTION cities_log();

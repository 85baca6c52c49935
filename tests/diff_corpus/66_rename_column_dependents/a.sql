-- 66_rename_column_dependents: schema A
CREATE TABLE countries (code char(2) PRIMARY KEY);
CREATE TABLE cities (id bigint PRIMARY KEY, country char(2) NOT NULL REFERENCES countries, name text NOT NULL,
                     CONSTRAINT cities_country_name UNIQUE (country, name), CONSTRAINT cities_country_upper CHECK (country = upper(country)));
CREATE FUNCTION cities_log() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NEW; END $$;
CREATE TRIGGER cities_country_changed AFTER UPDATE OF country ON cities FOR EACH ROW EXECUTE FUNCTION cities_log();

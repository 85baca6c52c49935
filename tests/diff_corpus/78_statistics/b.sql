-- 78_statistics: schema B
CREATE TABLE addresses (id bigint PRIMARY KEY, city text, zip text, country text);
CREATE STATISTICS addresses_zip_city (dependencies, mcv) ON zip, city FROM addresses;
CREATE STATISTICS addresses_country_city (ndistinct) ON country, city FROM addresses;
ALTER STATISTICS addresses_country_city SET STATISTICS 1000;
CREATE STATISTICS addresses_all ON city, zip, country FROM addresses;
COMMENT ON STATISTICS addresses_all IS 'for the planner';

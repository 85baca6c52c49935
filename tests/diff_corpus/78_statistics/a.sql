-- 78_statistics: schema A
CREATE TABLE addresses (id bigint PRIMARY KEY, city text, zip text, country text);
CREATE STATISTICS addresses_zip_city (dependencies) ON zip, city FROM addresses;
CREATE STATISTICS addresses_country_city (ndistinct) ON country, city FROM addresses;

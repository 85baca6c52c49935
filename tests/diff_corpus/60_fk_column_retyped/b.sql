-- 60_fk_column_retyped: schema B
CREATE TABLE teams (id bigint PRIMARY KEY, name text);
CREATE TABLE players (id int PRIMARY KEY, team_id bigint REFERENCES teams, name text);
CREATE INDEX players_team ON players (team_id);
CREATE VIEW roster AS SELECT t.name AS team, p.name FROM players p JOIN teams t ON t.id = p.team_id;

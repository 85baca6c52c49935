# pgmig adopt from golang-migrate: its schema_migrations (version bigint, dirty boolean: one row, the
# version the database is at), written here as golang-migrate writes it, and the .up.sql/.down.sql pairs
# as they are. That version and every older one become applied; a dirty state is refused.
# Sourced by run.sh (see lib.sh for the helpers).

agm="$work/adopt_golang_migrate"
mkdir -p "$agm"
printf 'CREATE TABLE agm_users (id int PRIMARY KEY);\n' >"$agm/000001_users.up.sql"
printf 'DROP TABLE agm_users;\n' >"$agm/000001_users.down.sql"
printf 'CREATE TABLE agm_orders (id int PRIMARY KEY);\n' >"$agm/000002_orders.up.sql"
printf 'DROP TABLE agm_orders;\n' >"$agm/000002_orders.down.sql"
printf 'ALTER TABLE agm_orders ADD COLUMN total numeric;\n' >"$agm/000003_total.up.sql"
printf 'ALTER TABLE agm_orders DROP COLUMN total;\n' >"$agm/000003_total.down.sql"

agm_db() {  # NAME DIRTY: a database golang-migrate brought to version 2
    newdb "$1"
    sql "${!1}" "CREATE TABLE IF NOT EXISTS public.schema_migrations (version bigint NOT NULL, dirty boolean NOT NULL,
                     CONSTRAINT schema_migrations_pkey PRIMARY KEY (version));
                 CREATE TABLE agm_users (id int PRIMARY KEY);
                 CREATE TABLE agm_orders (id int PRIMARY KEY);
                 INSERT INTO schema_migrations (version, dirty) VALUES (2, $2);" >/dev/null
}

agm_db agm_ok false
run adopt --yes --dir "$agm" -d "dbname=$agm_ok"
expect "adopt takes over golang-migrate's version" 0 "golang-migrate's history in public.schema_migrations" \
    "become applied, without running (2)" "000001_users" "older than version 2" "adopted 2 migrations" "1 pending"
run apply --dir "$agm" -d "dbname=$agm_ok"
expect "the next migration applies on top" 0 "applied 000003_total"
run rollback --steps 1 -d "dbname=$agm_ok"
expect "and rolls back with its down file" 0 "rolled back 000003_total"
run status --dir "$agm" -d "dbname=$agm_ok"
expect "status after adoption" 0 "2 applied, 1 pending"

agm_db agm_dirty true
run adopt --yes --dir "$agm" -d "dbname=$agm_dirty"
expect "a dirty golang-migrate state is refused" 52 "failed or dirty (1)" "left it dirty" "migrate force VERSION"
if [ "$(ledger_count "$agm_dirty")" = 0 ]; then pass "dirty: nothing adopted"; else fail "dirty: ledger changed" "$(ledger_count "$agm_dirty")"; fi

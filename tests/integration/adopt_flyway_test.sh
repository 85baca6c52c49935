# pgmig adopt from Flyway: a database Flyway migrated (its flyway_schema_history, written here as Flyway
# writes it, in the schema Flyway was given) and the V files as they are. The plan is printed first and
# applied only with --yes; what Flyway recorded becomes applied with its time and user, the rest stays
# pending and applies on top; a failed migration, a recorded one without a file and a ledger with another
# history are refused; several tools' tables and none at all are refused with what to do.
# Sourced by run.sh (see lib.sh for the helpers).

afw="$work/adopt_flyway"
mkdir -p "$afw/migrations"
printf 'CREATE TABLE afw_users (id int PRIMARY KEY);\n' >"$afw/migrations/V1__users.sql"
printf 'CREATE TABLE afw_orders (id int PRIMARY KEY, user_id int REFERENCES afw_users);\n' >"$afw/migrations/V1_1__orders.sql"
printf 'ALTER TABLE afw_users ADD COLUMN email text;\n' >"$afw/migrations/V2__email.sql"
printf 'CREATE OR REPLACE VIEW afw_user_list AS SELECT id FROM afw_users;\n' >"$afw/migrations/R__views.sql"

# What Flyway leaves after migrating to 1.1: its table in schema "app" (flyway.defaultSchema=app), the
# objects of V1 and V1_1 and the repeatable view.
afw_flyway_db() {
    newdb "$1"
    sql "${!1}" "CREATE SCHEMA app;
        CREATE TABLE app.flyway_schema_history (
            installed_rank INT NOT NULL, version VARCHAR(50), description VARCHAR(200) NOT NULL,
            type VARCHAR(20) NOT NULL, script VARCHAR(1000) NOT NULL, checksum INTEGER,
            installed_by VARCHAR(100) NOT NULL, installed_on TIMESTAMP NOT NULL DEFAULT now(),
            execution_time INTEGER NOT NULL, success BOOLEAN NOT NULL,
            CONSTRAINT flyway_schema_history_pk PRIMARY KEY (installed_rank));
        CREATE INDEX flyway_schema_history_s_idx ON app.flyway_schema_history (success);
        CREATE TABLE afw_users (id int PRIMARY KEY);
        CREATE TABLE afw_orders (id int PRIMARY KEY, user_id int REFERENCES afw_users);
        CREATE OR REPLACE VIEW afw_user_list AS SELECT id FROM afw_users;
        INSERT INTO app.flyway_schema_history VALUES
            (0, NULL, '<< Flyway Schema Creation >>', 'SCHEMA', '\"app\"', NULL, 'deployer', '2024-01-01 09:00:00', 0, true),
            (1, '1', 'users', 'SQL', 'V1__users.sql', 1184574012, 'deployer', '2024-01-01 10:00:00', 31, true),
            (2, '1.1', 'orders', 'SQL', 'V1_1__orders.sql', -120913517, 'alice', '2024-01-02 10:00:00', 17, true),
            (3, NULL, 'views', 'SQL', 'R__views.sql', 553002711, 'alice', '2024-01-02 10:00:01', 4, true);" >/dev/null
}
afw_flyway_db afw_db

# Without a terminal and without --yes: the plan, exit 51, nothing changed.
run adopt --dir "$afw/migrations" -d "dbname=$afw_db" </dev/null
expect "adopt prints the plan and stops without --yes or a terminal" 51 "Flyway's history in app.flyway_schema_history" \
    "become applied, without running (2)" "1_users" "1.1_orders" "by alice" "stay pending, for pgmig apply (1)" \
    "2_email" "recorded, but no file has them (0)" "pgmig adopt --from flyway --yes"
if [ "$(ledger_count "$afw_db")" = 0 ]; then pass "the plan alone changes nothing"; else fail "plan changes nothing" "$(ledger_count "$afw_db")"; fi

run adopt --yes --dir "$afw/migrations" -d "dbname=$afw_db"
expect "adopt --yes takes over Flyway's history" 0 "adopted 2 migrations from Flyway's history" "1 pending"
got=$(sql "$afw_db" "SELECT string_agg(version || ' ' || coalesce(to_char(applied_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI'), '-') || ' ' || coalesce(applied_by, '-'), ', ' ORDER BY version_key) FROM pgmig.migrations WHERE version IS NOT NULL")
if [ "$got" = "1 2024-01-01 10:00 deployer, 1.1 2024-01-02 10:00 alice, 2 - -" ]; then
    pass "the ledger has Flyway's times and users"
else
    fail "Flyway's times and users" "$got"
fi
run status --dir "$afw/migrations" -d "dbname=$afw_db"
expect "status shows the adopted history" 0 "2 applied"
run drift -d "dbname=$afw_db"
expect "drift compares against the snapshot taken at adoption" 0 "no drift"
run apply --dir "$afw/migrations" -d "dbname=$afw_db"
expect "a new migration applies on top" 0 "applied 2_email"
run status --dir "$afw/migrations" -d "dbname=$afw_db"
if grep -q "4 applied, 0 pending" <<<"$out"; then
    pass "status: every migration applied (the repeatable one ran again)"
else
    fail "status after apply" "$out"
fi
# Once pgmig applied a migration Flyway does not know, the ledger's history is another one.
run adopt --yes --dir "$afw/migrations" -d "dbname=$afw_db"
expect "a ledger with another history is refused" 53 "the ledger differs (1)" "applied in the ledger, but Flyway's table does not record it"

# On a terminal (script(1) gives it one) adopt asks: "n" changes nothing (exit 51), "y" adopts.
afw_flyway_db afw_tty
afw_tty_run() {  # ANSWER
    printf '%s\n' "$1" | script -q -e -c "$bin adopt --dir $afw/migrations -d dbname=$afw_tty" /dev/null >"$work/out" 2>&1
    rc=$?
    out=$(cat "$work/out")
    err=""
}
afw_tty_run n
expect "on a terminal, adopt asks and stops on no" 51 "mark 2 migrations applied in" "[y/N]" "answer y, or pass --yes"
if [ "$(ledger_count "$afw_tty")" = 0 ]; then pass "no at the prompt changes nothing"; else fail "no at the prompt" "$(ledger_count "$afw_tty")"; fi
afw_tty_run y
expect "on a terminal, y adopts" 0 "adopted 2 migrations from Flyway's history"

# A failed migration (success = false) is refused, with what to do in Flyway.
afw_flyway_db afw_failed
sql "$afw_failed" "INSERT INTO app.flyway_schema_history VALUES
    (4, '2', 'email', 'SQL', 'V2__email.sql', 77, 'alice', '2024-01-03 10:00:00', 3, false)" >/dev/null
run adopt --yes --dir "$afw/migrations" -d "dbname=$afw_failed"
expect "a failed Flyway migration is refused" 52 "failed or dirty (1)" "Flyway recorded it as failed" "flyway repair"
if [ "$(ledger_count "$afw_failed")" = 0 ]; then pass "nothing adopted when refused"; else fail "refused adoption changed the ledger" "$(ledger_count "$afw_failed")"; fi

# A migration Flyway recorded whose file is gone.
afw_flyway_db afw_nofile
mkdir -p "$afw/partial"
cp "$afw/migrations/V1__users.sql" "$afw/partial/"
run adopt --yes --dir "$afw/partial" -d "dbname=$afw_nofile"
expect "a recorded migration without a file is refused" 52 "recorded, but no file has them (1)" "1.1" "restore its file"

# Tables of several tools: refused naming them; --from chooses.
afw_flyway_db afw_two
sql "$afw_two" "CREATE TABLE schema_migrations (version varchar(128) PRIMARY KEY)" >/dev/null
run adopt --yes --dir "$afw/migrations" -d "dbname=$afw_two"
expect "tables of several tools are refused" 52 "history tables of several migration tools" "dbmate (public.schema_migrations)" \
    "flyway (app.flyway_schema_history)" "--from TOOL"
run adopt --yes --from flyway --dir "$afw/migrations" -d "dbname=$afw_two"
expect "--from chooses the tool" 0 "adopted 2 migrations"

# No history table at all: the next step is pgmig baseline.
newdb afw_none
run adopt --yes --dir "$afw/migrations" -d "dbname=$afw_none"
expect "no history table is refused with the baseline path" 52 "no history table of another migration tool" "pgmig baseline VERSION"

# A Flyway baseline (flyway baseline on a database built before Flyway) marks its version and the older
# ones applied although Flyway never ran them: adopted as baselines, so rolling them back needs --force
# (exit 50) as for pgmig's own, while a migration Flyway ran rolls back as usual.
mkdir -p "$afw/undo"
cp "$afw/migrations/V1__users.sql" "$afw/migrations/V1_1__orders.sql" "$afw/migrations/V2__email.sql" "$afw/undo/"
printf 'DROP TABLE afw_orders;\n' >"$afw/undo/U1_1__orders.sql"
printf 'ALTER TABLE afw_users DROP COLUMN email;\n' >"$afw/undo/U2__email.sql"
newdb afw_base
sql "$afw_base" "CREATE SCHEMA app;
    CREATE TABLE app.flyway_schema_history (
        installed_rank INT NOT NULL PRIMARY KEY, version VARCHAR(50), description VARCHAR(200) NOT NULL,
        type VARCHAR(20) NOT NULL, script VARCHAR(1000) NOT NULL, checksum INTEGER,
        installed_by VARCHAR(100) NOT NULL, installed_on TIMESTAMP NOT NULL DEFAULT now(),
        execution_time INTEGER NOT NULL, success BOOLEAN NOT NULL);
    CREATE TABLE afw_users (id int PRIMARY KEY, email text);
    CREATE TABLE afw_orders (id int PRIMARY KEY, user_id int REFERENCES afw_users);
    INSERT INTO app.flyway_schema_history VALUES
        (1, '1.1', '<< Flyway Baseline >>', 'BASELINE', '<< Flyway Baseline >>', NULL, 'carol', '2024-02-01 10:00', 0, true),
        (2, '2', 'email', 'SQL', 'V2__email.sql', 77, 'carol', '2024-02-02 10:00', 5, true);" >/dev/null
run adopt --yes --dir "$afw/undo" -d "dbname=$afw_base"
expect "a Flyway baseline is adopted" 0 "adopted 3 migrations from Flyway's history"
got=$(sql "$afw_base" "SELECT string_agg(version || ' ' || action, ', ' ORDER BY id) FROM pgmig.history WHERE version IS NOT NULL")
if [ "$got" = "1 baseline, 1.1 baseline, 2 adopt" ]; then
    pass "the versions Flyway's baseline covers are recorded as baselines"
else
    fail "history actions of an adopted Flyway baseline" "$got"
fi
run rollback --steps 1 -d "dbname=$afw_base" </dev/null
expect "a migration Flyway ran rolls back without --force" 0 "2_email"
run rollback --steps 1 -d "dbname=$afw_base" </dev/null
expect "a version under Flyway's baseline is guarded like a baseline" 50 "1.1" "--force"
if [ "$(sql "$afw_base" "SELECT count(*) FROM pg_class WHERE relname = 'afw_orders'")" = 1 ]; then
    pass "the guarded rollback dropped nothing"
else
    fail "the guarded rollback dropped afw_orders" ""
fi

# Rolling back a baseline migration (marked applied without running: pgmig baseline, --from-database,
# drift --adopt) runs a down script that never ran here and drops what was there before pgmig: refused
# (exit 50, naming what its down script drops) without --force; with --force on a terminal, a confirmation
# that names those objects must be answered with the version. Migrations applied for real roll back as
# before. Sourced by run.sh (see lib.sh for the helpers).

br_applied() { sql "$1" "SELECT count(*) FROM pgmig.migrations WHERE applied_at IS NOT NULL"; }
br_check() {  # NAME GOT WANT
    if [ "$2" = "$3" ]; then pass "$1"; else fail "$1" "got '$2', expected '$3'"; fi
}

br_dir="$work/baseline_rollback"
mig "$br_dir" 1_base.sql "CREATE TABLE base_a (id int PRIMARY KEY); CREATE TABLE base_b (id int);" \
    "DROP TABLE base_b; DROP TABLE base_a;"
mig "$br_dir" 2_more.sql "CREATE TABLE more_c (id int);" "DROP TABLE more_c;"
chmod -R a+rX "$br_dir"

newdb brdb
sql "$brdb" "CREATE TABLE base_a (id int PRIMARY KEY); CREATE TABLE base_b (id int); INSERT INTO base_a VALUES (1);" >/dev/null
run baseline 1 --dir "$br_dir" -d "dbname=$brdb"
expect "setup: baseline 1" 0 "baselined 1_base"
run apply --dir "$br_dir" -d "dbname=$brdb"
expect "setup: apply 2 for real" 0 "applied 2_more"

# A migration applied for real rolls back as before, without --force.
run rollback -d "dbname=$brdb" </dev/null
expect "rollback of an applied migration needs no --force" 0 "rolled back 2_more"
run apply --dir "$br_dir" -d "dbname=$brdb"

# --steps 2 reaches the baseline: refused as a whole, nothing rolled back.
run rollback --steps 2 -d "dbname=$brdb" </dev/null
expect "rollback reaching a baseline migration is refused without --force (exit 50)" 50 "1_base" "baseline" \
    "DROP TABLE base_b" "DROP TABLE base_a" "--force" "(pgmig baseline, drift --adopt or an adopted Flyway baseline)"
br_check "... nothing was rolled back" "$(br_applied "$brdb")" "2"
br_check "... the tables are still there" "$(sql "$brdb" "SELECT count(*) FROM base_a")" "1"

# On a terminal, --force asks, naming the objects; a wrong answer (or none) rolls back nothing.
term=$(on_terminal 'to confirm:' no rollback --steps 2 --force -d "dbname=$brdb")
if grep -q "asked=True" <<<"$term" && grep -q "DROP TABLE base_a" <<<"$term" && grep -q "exit=50" <<<"$term"; then
    pass "on a terminal, --force asks and names what would be dropped; a wrong answer refuses"
else
    fail "on a terminal, --force asks and names what would be dropped; a wrong answer refuses" "$(head -c 600 <<<"$term")"
fi
br_check "... nothing was rolled back" "$(br_applied "$brdb")" "2"
term=$(on_terminal 'to confirm:' - rollback --steps 2 --force -d "dbname=$brdb")
if grep -q "asked=True" <<<"$term" && grep -q "exit=50" <<<"$term"; then pass "on a terminal, no answer refuses"; else
    fail "on a terminal, no answer refuses" "$(head -c 600 <<<"$term")"; fi
term=$(on_terminal 'to confirm:' 1 rollback --steps 2 --force -d "dbname=$brdb")
if grep -q "asked=True" <<<"$term" && grep -q "rolled back 1_base" <<<"$term" && grep -q "exit=0" <<<"$term"; then
    pass "on a terminal, answering the version rolls the baseline back"
else
    fail "on a terminal, answering the version rolls the baseline back" "$(head -c 600 <<<"$term")"
fi
br_check "... both are rolled back, the tables dropped" \
    "$(br_applied "$brdb") $(sql "$brdb" "SELECT to_regclass('base_a') IS NULL")" "0 t"

# Without a terminal, --force is the consent.
newdb brdb2
sql "$brdb2" "CREATE TABLE base_a (id int PRIMARY KEY); CREATE TABLE base_b (id int);" >/dev/null
run baseline 1 --dir "$br_dir" -d "dbname=$brdb2"
run rollback -d "dbname=$brdb2" </dev/null
expect "rollback of a baseline without --force, no terminal: refused (exit 50)" 50 "1_base" "--force"
run rollback --force -d "dbname=$brdb2" </dev/null
expect "rollback --force of a baseline, no terminal" 0 "rolled back 1_base"
br_check "... the baselined tables are dropped" "$(sql "$brdb2" "SELECT to_regclass('base_a') IS NULL")" "t"
# Applied again for real, it is no longer a baseline: no --force needed.
run apply --dir "$br_dir" --to 1 -d "dbname=$brdb2"
run rollback -d "dbname=$brdb2" </dev/null
expect "once applied for real, it rolls back without --force" 0 "rolled back 1_base"

# The migration written by baseline --from-database.
newdb brlive
sql "$brlive" "CREATE TABLE live_t (id int PRIMARY KEY); CREATE VIEW live_v AS SELECT id FROM live_t;" >/dev/null
run baseline --from-database baseline --dir "$work/baseline_rollback_live" -d "dbname=$brlive"
expect "setup: baseline --from-database" 0 "baselined"
run rollback --to 0 -d "dbname=$brlive" </dev/null
expect "rollback --to 0 of a --from-database baseline is refused (exit 50)" 50 "DROP TABLE public.live_t" "--force"
br_check "... the schema is still there" "$(sql "$brlive" "SELECT to_regclass('live_v') IS NOT NULL")" "t"

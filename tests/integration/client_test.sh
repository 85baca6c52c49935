# The client against a real cluster: help, apply, status, bad input, failures, secrets, local.
# Sourced by run.sh (see lib.sh for the helpers).

# --- help and version ---------------------------------------------------------------------------
run --help
expect "--help" 0 "status" "apply" "local" "--dbname" "Exit codes"
want_version=$(sed -n "s/^default_version = '\(.*\)'/\1/p" "$root/extension/pgmig.control")
run --version
if [ "$rc" -eq 0 ] && [ "$out" = "pgmig $want_version" ]; then pass "--version"; else fail "--version" "rc=$rc out='$out', expected 'pgmig $want_version'"; fi
run apply --help
expect "apply --help" 0 "--dir" "--to"
run status --help
expect "status --help" 0 "--json"
run local --help
expect "local --help" 0 "start" "stop" "url"
run --no-such-option
expect "unknown option is a usage error" 2 "pgmig: error:"

# --- apply a project, then status ----------------------------------------------------------------
newdb db
proj="$work/project/migrations"
mig "$proj" 1_create_customers.sql "CREATE TABLE customers (id bigint PRIMARY KEY, email text NOT NULL);" "DROP TABLE customers;"
mig "$proj" 2_create_orders.sql "CREATE TABLE orders (id bigint PRIMARY KEY, customer_id bigint REFERENCES customers);" "DROP TABLE orders;"
mig "$proj" 10_index_orders.sql "CREATE INDEX orders_customer ON orders (customer_id);" "DROP INDEX orders_customer;"
echo "# notes, not a migration" >"$proj/README.md"
run apply --dir "$proj" -d "dbname=$db"
expect "apply a folder" 0 "applied 1_create_customers (" "applied 2_create_orders (" "applied 10_index_orders (" \
    "3 applied, database up to date at version 10"
if [ "$(sql "$db" "SELECT to_regclass('orders') IS NOT NULL AND to_regclass('orders_customer') IS NOT NULL")" = t ]; then
    pass "apply created the objects"
else
    fail "apply created the objects" "table orders or index orders_customer missing"
fi
run status -d "dbname=$db"
expect "status after apply" 0 "3 applied, 0 pending" "create_customers" "index_orders"
if [ "$rc" -eq 0 ] && ! grep -q pending <<<"$(grep -E '^(1|2|10) ' <<<"$out")"; then pass "status lists every migration as applied"; else fail "status lists every migration as applied" "$out"; fi
if [ "$(grep -E '^(1|2|10) ' <<<"$out" | awk '{print $1}' | tr '\n' ' ')" = "1 2 10 " ]; then pass "status in version order"; else fail "status in version order" "$out"; fi

run apply --dir "$proj" -d "dbname=$db"
expect "re-apply is a no-op" 0 "nothing to apply, database up to date at version 10"
if grep -q "^applied" <<<"$out"; then fail "re-apply applies nothing" "$out"; else pass "re-apply applies nothing"; fi
if [ "$(ledger_count "$db")" = 3 ]; then pass "ledger holds 3 migrations"; else fail "ledger holds 3 migrations" "count=$(ledger_count "$db")"; fi

run status --json -d "dbname=$db"
if [ "$rc" -eq 0 ] && python3 -c '
import json, sys
d = json.load(sys.stdin)
assert isinstance(d, list) and len(d) == 3, d
assert [m["version"] for m in d] == ["1", "2", "10"], d
assert all(m["state"] == "applied" and m["applied_at"] and len(m["checksum"]) == 64 for m in d), d
' <<<"$out"; then pass "status --json parses"; else fail "status --json parses" "rc=$rc $(head -c 300 <<<"$out$err")"; fi

# PG* environment without -d.
PGDATABASE=$db "$bin" status >"$work/out" 2>"$work/err"
rc=$?; out=$(cat "$work/out"); err=$(cat "$work/err")
expect "PG* environment without -d" 0 "3 applied, 0 pending"

# --to applies up to a version.
newdb db_to
run apply --dir "$proj" --to 2 -d "dbname=$db_to"
expect "apply --to" 0 "2 applied, database at version 2, 1 pending"

# A changed applied migration is a ledger conflict (PM002).
edited="$work/edited"
cp -r "$proj" "$edited"
mig "$edited" 1_create_customers.sql "CREATE TABLE customers (id bigint PRIMARY KEY, email text);" "DROP TABLE customers;"
run apply --dir "$edited" -d "dbname=$db"
expect "changed applied migration exits 6" 6 "1_create_customers"

# --- bad input: nothing is registered -------------------------------------------------------------
newdb dbbad
bad_case() {  # NAME FOLDER TEXT...
    local name=$1 dir=$2
    shift 2
    run apply --dir "$dir" -d "dbname=$dbbad"
    expect "$name" 3 "$@"
    if [ "$(grep -c 'pgmig: error:' <<<"$err")" -ne 1 ]; then fail "$name: one error line" "$err"; fi
    local n
    n=$(ledger_count "$dbbad")
    if [ "$n" = 0 ]; then pass "$name: nothing registered"; else fail "$name: nothing registered" "pgmig.migrations has $n rows"; fi
}
bad_case "no such folder" "$work/nowhere" "$work/nowhere"
mig "$work/missing_up" 1_ok.sql "CREATE TABLE ok1 ();"
printf 'CREATE TABLE t2 ();\n' >"$work/missing_up/2_no_up.sql"
bad_case "missing up section" "$work/missing_up" "2_no_up.sql"
mig "$work/dup" 1_ok.sql "CREATE TABLE ok1 ();"
mig "$work/dup" 001_other.sql "CREATE TABLE other ();"
bad_case "duplicate versions" "$work/dup" "1_ok.sql" "001_other.sql"
mig "$work/badname" 1_ok.sql "CREATE TABLE ok1 ();"
mig "$work/badname" "add table.sql" "CREATE TABLE t ();"
bad_case "bad file name" "$work/badname" "add table.sql"
mig "$work/badversion" 1_ok.sql "CREATE TABLE ok1 ();"
mig "$work/badversion" v2_thing.sql "CREATE TABLE t ();"
bad_case "bad version" "$work/badversion" "v2_thing.sql"
if [ "$(sql "$dbbad" "SELECT to_regclass('ok1') IS NULL")" = t ]; then pass "bad input: nothing applied"; else fail "bad input: nothing applied" "table ok1 exists"; fi

# --- a failing migration: all or nothing ----------------------------------------------------------
newdb dbfail
mig "$work/failing" 1_first.sql "CREATE TABLE first_t (id int);"
mig "$work/failing" 2_second.sql "CREATE TABLE second_t (id int);"
mig "$work/failing" 3_broken.sql "INSERT INTO no_such_table VALUES (1);"
run apply --dir "$work/failing" -d "dbname=$dbfail"
expect "failing migration exits 5" 5 "3" "broken"
if grep -q '^applied' <<<"$out"; then fail "failing migration: no 'applied' lines" "$out"; else pass "failing migration: no 'applied' lines"; fi
if [ "$(sql "$dbfail" "SELECT to_regclass('first_t') IS NULL AND to_regclass('second_t') IS NULL")" = t ]; then
    pass "failing migration: first two not applied"
else
    fail "failing migration: first two not applied" "first_t or second_t exists"
fi
n=$(sql "$dbfail" "SELECT count(*) FROM pgmig.migrations WHERE applied_at IS NOT NULL")
if [ "$n" = 0 ]; then pass "failing migration: ledger has nothing applied"; else fail "failing migration: ledger has nothing applied" "$n applied rows"; fi

# --- connection: errors and secrets ---------------------------------------------------------------
run status -d "host=$PGHOST port=$PGPORT dbname=nosuchdb user=postgres password=s3cretPW"
expect "cannot connect exits 4" 4 "nosuchdb"
if grep -q s3cretPW <<<"$out$err"; then fail "password never shown (conninfo)" "$err"; else pass "password never shown (conninfo)"; fi
host_enc=$(python3 -c 'import sys, urllib.parse; print(urllib.parse.quote(sys.argv[1], safe=""))' "$PGHOST")
run apply --dir "$proj" -d "postgresql://postgres:s3cretPW@/nosuchdb?host=$host_enc&port=$PGPORT"
expect "cannot connect exits 4 (URI)" 4 "nosuchdb"
if grep -q s3cretPW <<<"$out$err"; then fail "password never shown (URI)" "$err"; else pass "password never shown (URI)"; fi
run status -d "password=s3cretPW host"
expect "malformed connection string exits 54 (bad connection parameters)" 54
if grep -q s3cretPW <<<"$out$err"; then fail "password never shown (malformed)" "$err"; else pass "password never shown (malformed)"; fi

newdb dbnoext noext
run status -d "dbname=$dbnoext"
expect "status without the extension exits 8" 8 "CREATE EXTENSION pgmig"
run apply --dir "$proj" -d "dbname=$dbnoext"
expect "apply without the extension exits 8" 8 "CREATE EXTENSION pgmig"

# --- pgmig local: a second cluster ----------------------------------------------------------------
c2="$work/cluster2"
run local start --dir "$c2"
expect "local start" 0 "local cluster started"
run local url --dir "$c2"
url=$out
if [ "$rc" -eq 0 ] && [[ "$url" == "postgresql:///pgmig?host=%2F"*"&port="*"&user=postgres" ]]; then pass "local url"; else fail "local url" "rc=$rc '$url'"; fi
if [ "$(psql -X -A -t -d "$url" -c "SELECT extname FROM pg_extension WHERE extname = 'pgmig'" 2>&1)" = pgmig ]; then
    pass "local cluster has database pgmig with the extension"
else
    fail "local cluster has database pgmig with the extension" "psql could not see it"
fi
run apply --dir "$proj" -d "$url"
expect "apply to the local cluster" 0 "3 applied"
run local status --dir "$c2"
expect "local status (running)" 0 "running: postgresql:///pgmig"
run local start --dir "$c2"
expect "local start again" 0 "already running"
run local env --dir "$c2"
expect "local env" 0 "export PGHOST=" "export PGPORT=" "export PGUSER=postgres" "export PGDATABASE=pgmig"
# eval'd in a shell without PG* variables, they reach the programs it starts
local_env=$("$bin" local env --dir "$c2")
seen=$(env -u PGHOST -u PGPORT -u PGUSER -u PGDATABASE bash -c 'eval "$1"; psql -X -A -t -c "SELECT current_database()"' _ "$local_env" 2>&1)
if [ "$seen" = pgmig ]; then pass "local env: psql started after eval reaches the cluster"
else fail "local env: psql started after eval reaches the cluster" "$seen"; fi
run local stop --dir "$c2"
expect "local stop" 0 "stopped"
run local status --dir "$c2"
expect "local status (stopped) exits 7" 7 "not running"
run local url --dir "$c2"
expect "local url when stopped exits 7" 7 "not running"
if [ "$(id -u)" -eq 0 ]; then
    private="$work/private"
    mkdir -m 700 "$private"
    run local start --dir "$private/cluster"
    expect "local start as root in a private folder exits 7" 7 "$private is not searchable by OS user postgres"
fi

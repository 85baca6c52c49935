# pgmig validate --format=json|github|sarif (SARIF checked against the official 2.1.0 schema), its exit
# codes and their precedence, pgmig check-integrity, and pgmig apply --check-integrity's difference.
# Sourced by run.sh (see lib.sh for the helpers).

vf_schema=${PGMIG_SARIF_SCHEMA:-$root/.deps/sarif-schema-2.1.0.json}
# sarif_valid NAME: checks that $out is a SARIF 2.1.0 log valid per the schema, then runs the python
# assertions given on stdin against it (as `log`).
sarif_valid() {
    local name=$1 checks
    checks=$(cat)
    if [ ! -f "$vf_schema" ]; then
        fail "$name" "no SARIF schema at $vf_schema: run scripts/install-deps --tests"
        return 1
    fi
    local why
    if why=$(python3 -c '
import json, sys, jsonschema
schema = json.load(open(sys.argv[1]))
jsonschema.Draft4Validator.check_schema(schema)
log = json.loads(sys.argv[2])
errors = sorted(jsonschema.Draft4Validator(schema).iter_errors(log), key=str)
if errors:
    sys.exit("not valid SARIF 2.1.0: " + "; ".join(e.message + " at " + "/".join(map(str, e.absolute_path)) for e in errors[:3]))
assert log["version"] == "2.1.0" and log["runs"][0]["tool"]["driver"]["name"] == "pgmig", log
rc = int(sys.argv[4])
exec(sys.argv[3])
' "$vf_schema" "$out" "$checks" "$rc" 2>&1); then
        pass "$name"
    else
        fail "$name" "rc=$rc $(tail -c 400 <<<"$why")"
    fi
}

# --- a project with one applied, one pending migration and an orphaned row -------------------------
newdb vf_db
vf_proj="$work/vf project"
mig "$vf_proj/migrations" 1_shop.sql \
    "CREATE TABLE customers (id serial PRIMARY KEY); CREATE TABLE orders (id int PRIMARY KEY, customer_id int REFERENCES customers);" \
    "DROP TABLE orders, customers;"
run apply --dir "$vf_proj/migrations" -d "dbname=$vf_db"
expect "validate formats: apply the first migration" 0 "1 applied"
mig "$vf_proj/migrations" 2_notes.sql "CREATE TABLE notes (body text);"
sql "$vf_db" "SET session_replication_role = replica; INSERT INTO orders VALUES (1, 42);" >/dev/null

# Run from the project folder, as CI does: paths come out relative.
vf_run() { (cd "$vf_proj" && "$bin" "$@") >"$work/out" 2>"$work/err"; rc=$?; out=$(cat "$work/out"); err=$(cat "$work/err"); }

vf_run validate --format=json -d "dbname=$vf_db"
if [ "$rc" -eq 17 ] && python3 -c '
import json, sys
d = json.load(sys.stdin)
assert d["ok"] is False and d["exit_code"] == 17, d
assert d["integrity"]["status"] == "checked", d
assert d["lint"]["status"] == "checked" or d["lint"]["status"].startswith("not available"), d
by = {(f["source"], f["check"]): f for f in d["findings"]}
assert by[("integrity", "fk-orphans")]["severity"] == "error", d
assert "(customer_id)=(42)" in by[("integrity", "fk-orphans")]["message"], d
assert ("integrity", "table-without-primary-key") not in by, d  # notes is only pending
assert by[("files", "missing_down")]["file"] == "migrations/2_notes.sql", d
' <<<"$out"; then pass "validate --format=json: integrity errors exit 17"; else fail "validate --format=json" "rc=$rc $(head -c 400 <<<"$out$err")"; fi
vf_run validate --json -d "dbname=$vf_db"
if [ "$rc" -eq 17 ] && python3 -c 'import json, sys; assert json.load(sys.stdin)["exit_code"] == 17' <<<"$out"; then
    pass "--json is --format=json"
else
    fail "--json is --format=json" "rc=$rc $(head -c 300 <<<"$out")"
fi

vf_run validate --format=github -d "dbname=$vf_db"
expect "validate --format=github" 17 "::error title=pgmig integrity/fk-orphans::" \
    "::warning file=migrations/2_notes.sql,title=pgmig missing_down::no down script" \
    "validation found 1 integrity problem in"
if grep -v '^::' <<<"$out" | grep -qv '^pgmig validate: '; then fail "github: only workflow commands and the summary" "$out"; else pass "github: only workflow commands and the summary"; fi

vf_run validate --format=sarif -d "dbname=$vf_db"
sarif_valid "validate --format=sarif is valid SARIF 2.1.0 (exit 17)" <<'PY'
assert rc == 17, rc
results = log["runs"][0]["results"]
rules = [r["id"] for r in log["runs"][0]["tool"]["driver"]["rules"]]
fk = [r for r in results if r["ruleId"] == "integrity/fk-orphans"]
assert len(fk) == 1 and fk[0]["level"] == "error", fk
# GitHub code scanning rejects a log with any result lacking a location: database findings are anchored
# to the newest migration file.
assert all(r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] for r in results), results
assert fk[0]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == "migrations/2_notes.sql", fk
down = [r for r in results if r["ruleId"] == "missing_down"][0]
loc = down["locations"][0]["physicalLocation"]
assert loc["artifactLocation"]["uri"] == "migrations/2_notes.sql", loc
assert all(rules[r["ruleIndex"]] == r["ruleId"] for r in results), (rules, results)
assert log["runs"][0]["properties"]["exitCode"] == 17
PY


# A lint finding maps to the file's line: migrate_lint counts lines of the up script only. The pending
# migration gets a second statement that the real lint rejects (a NOT NULL column without a default on
# an existing table): file line 4, since the up script starts on line 3.
cp "$vf_proj/migrations/2_notes.sql" "$work/vf_2_notes.sql"
mig "$vf_proj/migrations" 2_notes.sql "CREATE TABLE notes (body text);
ALTER TABLE orders ADD COLUMN note text NOT NULL;"
vf_run validate --format=sarif -d "dbname=$vf_db"
sarif_valid "lint findings in SARIF with the file's line and column (exit 14 beats 17)" <<'PY'
results = log["runs"][0]["results"]
lint = [r for r in results if r["ruleId"] == "lint/add-column-not-null-no-default"]
assert len(lint) == 1 and lint[0]["level"] == "error", results
region = lint[0]["locations"][0]["physicalLocation"]["region"]
assert region == {"startLine": 4, "startColumn": 1}, region
assert lint[0]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == "migrations/2_notes.sql", lint
assert log["runs"][0]["properties"]["lint"] == "checked"
assert log["runs"][0]["properties"]["exitCode"] == 14
PY
if [ "$rc" -eq 14 ]; then pass "lint errors exit 14 before integrity's 17"; else fail "lint errors exit 14" "rc=$rc"; fi
vf_run validate -d "dbname=$vf_db"
expect "text: lint line with file:line:col" 14 "error: migrations/2_notes.sql:4:1: " \
    "[lint add-column-not-null-no-default]" "1 lint error in pending migrations, 1 integrity problem in"
# A waiver in the file is honoured by validate too.
mig "$vf_proj/migrations" 2_notes.sql "CREATE TABLE notes (body text);
ALTER TABLE orders ADD COLUMN note text NOT NULL; -- pgmig:allow add-column-not-null-no-default"
vf_run validate -d "dbname=$vf_db"
expect "a waived lint finding does not fail validate (integrity's 17 remains)" 17 "integrity"
cp "$work/vf_2_notes.sql" "$vf_proj/migrations/2_notes.sql"

# validate lints with the file's own options, as migrate_apply's gate does: lock-timeout 0 turns the
# protection off, so an ALTER of an existing table is missing a lock_timeout.
printf '%s\n' "-- pgmig:lock-timeout 0" "-- pgmig:up" "ALTER TABLE orders ADD COLUMN memo text;" >"$vf_proj/migrations/2_notes.sql"
vf_run validate -d "dbname=$vf_db"
expect "validate lints with the file's lock-timeout option" 17 "missing-lock-timeout"
cp "$work/vf_2_notes.sql" "$vf_proj/migrations/2_notes.sql"

# Precedence: a files/ledger problem (9) wins over integrity (17); all are still reported.
cp "$vf_proj/migrations/1_shop.sql" "$work/vf_1_shop.sql"
mig "$vf_proj/migrations" 1_shop.sql "CREATE TABLE customers (id bigserial PRIMARY KEY);" "DROP TABLE customers;"
vf_run validate --format=sarif -d "dbname=$vf_db"
sarif_valid "changed file and integrity problem: SARIF holds both, exit 9" <<'PY'
ids = {r["ruleId"] for r in log["runs"][0]["results"]}
assert {"changed", "integrity/fk-orphans"} <= ids, ids
assert log["runs"][0]["properties"]["exitCode"] == 9
PY
if [ "$rc" -eq 9 ]; then pass "files/ledger problems exit 9 before 17"; else fail "files/ledger problems exit 9" "rc=$rc"; fi
cp "$work/vf_1_shop.sql" "$vf_proj/migrations/1_shop.sql"

# Offline: files only, said so, still valid SARIF.
vf_run validate --offline --format=sarif
sarif_valid "validate --offline --format=sarif" <<'PY'
props = log["runs"][0]["properties"]
assert props["lint"] == "skipped (--offline)" and props["integrity"] == "skipped (--offline)", props
assert [r["ruleId"] for r in log["runs"][0]["results"]] == ["missing_down"], log
PY
if [ "$rc" -eq 0 ]; then pass "offline with warnings only exits 0"; else fail "offline with warnings only exits 0" "rc=$rc"; fi
vf_run validate --offline
expect "validate --offline says lint and integrity are skipped" 0 "lint: skipped (--offline)" "integrity: skipped (--offline)"
vf_run validate --json --format=github
expect "--json with --format=github is a usage error" 2 "contradict"
vf_run validate --format=xml
expect "unknown format is a usage error" 2 "xml"

# --- pgmig check-integrity --------------------------------------------------------------------------
run check-integrity -d "dbname=$vf_db"
expect "check-integrity with an orphan exits 17" 17 "error: fk-orphans orders_customer_id_fkey on public.orders" \
    "sample key (customer_id)=(42)" "integrity check found 1 problem,"
run check-integrity --json -d "dbname=$vf_db"
if [ "$rc" -eq 17 ] && python3 -c '
import json, sys
d = json.load(sys.stdin)
assert d["ok"] is False and d["errors"] == 1, d
f = [f for f in d["findings"] if f["problem"] == "fk-orphans"][0]
assert f["count"] == 1 and f["sample"] == "(customer_id)=(42)" and f["object"] == "orders_customer_id_fkey on public.orders", f
' <<<"$out"; then pass "check-integrity --json"; else fail "check-integrity --json" "rc=$rc $(head -c 300 <<<"$out")"; fi
# A real invalid index: a unique CREATE INDEX CONCURRENTLY on duplicate data fails and leaves it behind.
sql "$vf_db" "CREATE TABLE dupes (id int PRIMARY KEY, v int); INSERT INTO dupes VALUES (1, 7), (2, 7);" >/dev/null
sql "$vf_db" "CREATE UNIQUE INDEX CONCURRENTLY dupes_v ON dupes (v)" >/dev/null 2>&1
run check-integrity -d "dbname=$vf_db"
expect "check-integrity finds the index a failed CREATE INDEX CONCURRENTLY left" 17 "error: invalid-index public.dupes_v on public.dupes"
sql "$vf_db" "DROP TABLE dupes; DELETE FROM orders WHERE customer_id = 42;" >/dev/null
run check-integrity -d "dbname=$vf_db"
expect "check-integrity without errors exits 0 (warnings only)" 0 "0 problems"

# --- pgmig apply --check-integrity -------------------------------------------------------------------
mig "$vf_proj/migrations" 3_check.sql "ALTER TABLE orders ADD CONSTRAINT positive_id CHECK (id > 1) NOT VALID;" \
    "ALTER TABLE orders DROP CONSTRAINT positive_id;"
sql "$vf_db" "INSERT INTO customers VALUES (1); INSERT INTO orders VALUES (1, 1); SELECT setval('customers_id_seq', 1);" >/dev/null
run apply --check-integrity --dir "$vf_proj/migrations" -d "dbname=$vf_db"
expect "apply --check-integrity reports new problems, exit 0" 0 "applied 3_check" \
    "new error: not-valid-constraint positive_id on public.orders" "new warning: table-without-primary-key public.notes" \
    "2 new, 0 resolved"
run rollback -d "dbname=$vf_db"
expect "rollback of 3_check" 0 "rolled back 3_check"
run apply --check-integrity=strict --dir "$vf_proj/migrations" -d "dbname=$vf_db"
expect "apply --check-integrity=strict exits 18 on a new error" 18 "applied 3_check" \
    "new error: not-valid-constraint" "the migrations stay applied"
if [ "$(sql "$vf_db" "SELECT state FROM migrate_status() WHERE version = '3'")" = applied ]; then pass "strict: the migration stays applied"; else fail "strict: the migration stays applied" "$(sql "$vf_db" "SELECT version, state FROM migrate_status()")"; fi
mig "$vf_proj/migrations" 4_fix.sql "DELETE FROM orders WHERE id <= 1; ALTER TABLE orders VALIDATE CONSTRAINT positive_id;"
run apply --check-integrity=strict --dir "$vf_proj/migrations" -d "dbname=$vf_db"
expect "apply --check-integrity: resolved problems" 0 "applied 4_fix" "resolved: not-valid-constraint positive_id on public.orders" "0 new, 1 resolved"

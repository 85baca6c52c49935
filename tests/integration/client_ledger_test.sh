# The client's ledger commands against a real cluster: init, new, file formats and directives, validate,
# status with files, rollback, baseline, repair. Sourced by run.sh (see lib.sh for the helpers).

# --- init and new ---------------------------------------------------------------------------------
p="$work/proj_init"
mkdir -p "$p"
(cd "$p" && "$bin" init) >"$work/out" 2>"$work/err"; rc=$?; out=$(cat "$work/out"); err=$(cat "$work/err")
expect "init" 0 "pgmig.toml"
if [ "$(cat "$p/pgmig.toml" | grep -v '^#')" = 'migrations = "migrations"' ] && [ -d "$p/migrations" ] &&
   [ -z "$(ls -A "$p/migrations")" ]; then pass "init wrote pgmig.toml and an empty migrations/"; else fail "init files" "$(ls -la "$p")"; fi
(cd "$p" && "$bin" init) >"$work/out" 2>"$work/err"; rc=$?; out=$(cat "$work/out"); err=$(cat "$work/err")
expect "init refuses to overwrite pgmig.toml" 3 "pgmig.toml exists already"
(cd "$p" && "$bin" new add_orders) >"$work/out" 2>"$work/err"; rc=$?; out=$(cat "$work/out"); err=$(cat "$work/err")
expect "new" 0 "migrations/"
newfile="$p/$out"
if [[ "$(basename "$newfile")" =~ ^[0-9]{14}_add_orders\.sql$ ]] && grep -q "CREATE TABLE IF NOT EXISTS" "$newfile" &&
   grep -q "DROP TABLE IF EXISTS" "$newfile" && grep -q -- "-- pgmig:down" "$newfile"; then
    pass "new wrote <UTC timestamp>_add_orders.sql from the template"
else
    fail "new wrote the template" "$newfile: $(cat "$newfile" 2>&1 | head -5)"
fi
(cd "$p" && "$bin" new "bad name") >"$work/out" 2>"$work/err"; rc=$?; out=$(cat "$work/out"); err=$(cat "$work/err")
expect "new refuses a bad name" 3 "bad migration name"
(cd "$p" && "$bin" new second) >/dev/null 2>&1
if [ "$(ls "$p/migrations" | wc -l)" = 2 ] && [ "$(ls "$p/migrations" | cut -c1-14 | sort -u | wc -l)" = 2 ]; then
    pass "two new in the same second get distinct versions"
else
    fail "two new get distinct versions" "$(ls "$p/migrations")"
fi
echo 'migrations = "m"' >"$work/badtoml.toml"
mkdir -p "$work/tomlkey" && printf 'migrations = "m"\nenv = "x"\n' >"$work/tomlkey/pgmig.toml"
(cd "$work/tomlkey" && "$bin" validate --offline) >"$work/out" 2>"$work/err"; rc=$?; out=$(cat "$work/out"); err=$(cat "$work/err")
expect "pgmig.toml unknown key is named" 3 "unknown key 'env'"

# --- every file format, directives reach the ledger options ---------------------------------------
newdb dbf
ff="$work/formats"
mkdir -p "$ff"
printf 'CREATE TABLE fw (id int);\n' >"$ff/V1__flyway.sql"
printf 'DROP TABLE fw;\n' >"$ff/U1__flyway.sql"
printf -- '-- pgmig:lock-timeout 2s\n-- pgmig:retries 0\nCREATE TABLE fw2 (id int);\n' >"$ff/V1_1__dotted.sql"
printf -- '-- pgmig:refs ISSUE-3\n-- pgmig:allow drop-table,add-column-volatile-default\nCREATE TABLE ud (id int);\n' >"$ff/2_pair.up.sql"
printf 'DROP TABLE ud;\n' >"$ff/2_pair.down.sql"
printf -- '-- pgmig:statement-timeout 1min\n-- pgmig:up\nCREATE TABLE sec (id int);\n-- pgmig:down\nDROP TABLE sec;\n' >"$ff/3_sections.sql"
printf 'CREATE OR REPLACE VIEW v_fw AS SELECT count(*) AS n FROM fw;\n' >"$ff/R__views.sql"
run apply --dir "$ff" -d "dbname=$dbf"
expect "apply mixed formats" 0 "applied 1_flyway (" "applied 1.1_dotted (" "applied 2_pair (" "applied 3_sections (" \
    "applied R__views (" "database up to date at version 3"
got=$(sql "$dbf" "SELECT coalesce(version, 'R') || ' ' || name || ' ' || options::text || ' ' || (down_sql IS NOT NULL) FROM pgmig.migrations ORDER BY version_key")
want='1 flyway {} true
1.1 dotted {"retries": 0, "lock_timeout": "2s"} false
2 pair {"refs": ["ISSUE-3"], "allow": ["drop-table", "add-column-volatile-default"]} true
3 sections {"statement_timeout": "1min"} true
R views {"repeatable": true} false'
if [ "$got" = "$want" ]; then pass "directives and formats reach the ledger"; else fail "directives and formats reach the ledger" "got: $got"; fi
run validate --dir "$ff" -d "dbname=$dbf"
expect "validate clean (missing down is a warning)" 0 "warning:" "V1_1__dotted.sql" "0 problems"
cp -r "$ff" "$work/dupfmt" && printf -- '-- pgmig:up\nSELECT 1;\n' >"$work/dupfmt/1_other.sql"
run apply --dir "$work/dupfmt" -d "dbname=$dbf"
expect "duplicate across formats names both files" 3 "V1__flyway.sql" "1_other.sql"
printf -- '-- pgmig:up\n-- pgmig:frobnicate\nSELECT 1;\n' >"$work/dupfmt/1_other.sql"
run validate --offline --dir "$work/dupfmt"
expect "unknown directive is a validate problem (offline)" 9 "unknown directive -- pgmig:frobnicate (line 2)" "1_other.sql"
# A waiver is checked when the file is read, as the extension's lint checks one: an unknown rule is a bad file
# (exit 3) before anything connects, and a validate problem offline.
printf -- '-- pgmig:up\n-- pgmig:allow drop-tabel\nSELECT 1;\n' >"$work/dupfmt/1_other.sql"
run validate --offline --dir "$work/dupfmt"
expect "unknown waiver rule is a validate problem (offline)" 9 'unknown lint rule "drop-tabel" (-- pgmig:allow at line 2)' \
    "1_other.sql"
mkdir -p "$work/badwaiver"
printf -- '-- pgmig:up\n-- pgmig:allow drop-tabel\nCREATE TABLE bw (id int);\n' >"$work/badwaiver/1_bad.sql"
run apply --dir "$work/badwaiver" -d "dbname=nonexistent_$dbf"
expect "unknown waiver rule: bad file, nothing connects" 3 'unknown lint rule "drop-tabel"' "1_bad.sql" "known rules:"

# --- status with files ----------------------------------------------------------------------------
sf="$work/statusfiles"
cp -r "$ff" "$sf"
rm "$sf/3_sections.sql"
printf -- '-- pgmig:up\nCREATE TABLE later (id int);\n' >"$sf/4_later.sql"
run status --dir "$sf" -d "dbname=$dbf"
expect "status shows unregistered files and missing files" 0 "pending (not registered)" "4_later.sql" "missing file" "repeatable" "1 missing file"
if grep -E '^3 ' <<<"$out" | grep -q "missing file" && grep -E '^4 ' <<<"$out" | grep -q "pending (not registered)"; then
    pass "status rows: 3 missing file, 4 not registered"
else
    fail "status rows" "$out"
fi
run status --json --dir "$sf" -d "dbname=$dbf"
if [ "$rc" -eq 0 ] && python3 -c '
import json, sys
d = {(m["version"] or "R"): m for m in json.load(sys.stdin)}
assert d["4"]["registered"] is False and d["4"]["state"] == "pending (not registered)", d["4"]
assert d["3"]["file"] is None and d["3"]["registered"] is True, d["3"]
assert d["R"]["kind"] == "repeatable" and d["R"]["file"] == "R__views.sql", d["R"]
' <<<"$out"; then pass "status --json with files"; else fail "status --json with files" "$(head -c 400 <<<"$out$err")"; fi
run validate --dir "$sf" -d "dbname=$dbf"
expect "validate: applied migration without file" 9 "missing_file" "3_sections"

# --- validate: real edit vs cosmetic edit, out of order, tampering -------------------------------
newdb dbv
vd="$work/validate"
mig "$vd" 1_a.sql "CREATE TABLE va (id int);" "DROP TABLE va;"
mig "$vd" 2_b.sql "CREATE TABLE vb (id int);" "DROP TABLE vb;"
run apply --dir "$vd" -d "dbname=$dbv"
expect "apply for validate" 0 "2 applied"
run validate --dir "$vd" -d "dbname=$dbv"
expect "validate clean" 0 "0 problems, 0 warnings"
before=$(sql "$dbv" "SELECT count(*) FROM pgmig.history")
mig "$vd" 1_a.sql "create   table va (id int) ;  -- reformatted" "DROP TABLE va;"
run validate --dir "$vd" -d "dbname=$dbv"
expect "validate: whitespace-only edit is cosmetic (exit 0)" 0 "cosmetic_edit" "1_a.sql" "0 problems, 1 warning"
mig "$vd" 1_a.sql "CREATE TABLE va (id bigint);" "DROP TABLE va;"
run validate --dir "$vd" -d "dbname=$dbv"
expect "validate: real edit is a problem (exit 9)" 9 "[changed]" "1_a.sql" "pgmig repair 1"
run validate --json --dir "$vd" -d "dbname=$dbv"
if [ "$rc" -eq 9 ] && python3 -c '
import json, sys
d = json.load(sys.stdin)
assert d["ok"] is False
assert [f["check"] for f in d["findings"] if f["severity"] == "error"] == ["changed"], d
' <<<"$out"; then pass "validate --json"; else fail "validate --json" "rc=$rc $(head -c 400 <<<"$out")"; fi
if [ "$(sql "$dbv" "SELECT count(*) FROM pgmig.history")" = "$before" ] &&
   [ "$(sql "$dbv" "SELECT count(*) FROM pgmig.migrations WHERE up_sql LIKE '%bigint%'")" = 0 ]; then
    pass "validate changed nothing"
else
    fail "validate changed nothing" "history or ledger changed"
fi
mig "$vd" 1_a.sql "CREATE TABLE va (id int);" "DROP TABLE va;"
mig "$vd" 1.5_between.sql "CREATE TABLE vbetween (id int);"
run validate --dir "$vd" -d "dbname=$dbv"
expect "validate: out-of-order pending file" 9 "out_of_order" "1.5_between.sql" "missing_down"
run apply --dir "$vd" -d "dbname=$dbv"
expect "apply refuses out of order (exit 11)" 11 "1.5"
rm "$vd/1.5_between.sql"
sql "$dbv" "SELECT migrate_register('3', 'nofile', 'CREATE TABLE vnofile (id int);'); SELECT count(*) FROM migrate_apply()" >/dev/null
sql "$dbv" "UPDATE pgmig.migrations SET up_sql = 'CREATE TABLE va (id int, x int);' WHERE version = '1'" >/dev/null
run validate --dir "$vd" -d "dbname=$dbv"
expect "validate reports migrate_verify() (tampered ledger)" 9 "script_changed" "missing_file"
# Re-registering a file rewrites its stored text, so tamper with a migration that has no file.
sql "$dbv" "UPDATE pgmig.migrations SET up_sql = 'CREATE TABLE vnofile (id int, x int);' WHERE version = '3'" >/dev/null
run apply --dir "$vd" -d "dbname=$dbv"
expect "apply on a tampered ledger exits 10" 10 "PM008" "pgmig validate"
newdb dbnx noext
run validate --dir "$vd" -d "dbname=$dbnx"
expect "validate without the extension exits 8" 8 "CREATE EXTENSION pgmig"
run validate --offline --dir "$vd"
expect "validate --offline needs no database" 0 "files only"

# --- rollback, baseline, repair -------------------------------------------------------------------
newdb dbr
rd="$work/rollback"
mig "$rd" 1_r1.sql "CREATE TABLE r1 (id int);" "DROP TABLE r1;"
mig "$rd" 2_r2.sql "CREATE TABLE r2 (id int);" "DROP TABLE r2;"
mig "$rd" 3_r3.sql "CREATE TABLE r3 (id int);" "DROP TABLE r3;"
mig "$rd" 4_r4.sql "CREATE TABLE r4 (id int);"
run apply --dir "$rd" -d "dbname=$dbr"
expect "apply for rollback" 0 "4 applied"
run rollback -d "dbname=$dbr"
expect "rollback without a down script exits 12" 12 "4"
if [ "$(sql "$dbr" "SELECT count(*) FROM pgmig.migrations WHERE applied_at IS NOT NULL")" = 4 ]; then pass "refused rollback changed nothing"; else fail "refused rollback changed nothing" "applied count changed"; fi
mig "$rd" 4_r4.sql "CREATE TABLE r4 (id int);" "DROP TABLE r4;"
run apply --dir "$rd" -d "dbname=$dbr"  # records the new down script
run rollback --steps 2 -d "dbname=$dbr"
expect "rollback --steps 2" 0 "rolled back 4_r4" "rolled back 3_r3" "2 rolled back"
if [ "$(sql "$dbr" "SELECT to_regclass('r3') IS NULL AND to_regclass('r4') IS NULL AND to_regclass('r2') IS NOT NULL")" = t ]; then pass "rollback --steps dropped r3, r4"; else fail "rollback --steps objects" "wrong tables"; fi
run rollback --to 0 -d "dbname=$dbr"
expect "rollback --to 0" 0 "rolled back 2_r2" "rolled back 1_r1" "2 rolled back"
run rollback --to 1 --steps 2 -d "dbname=$dbr"
expect "rollback --to and --steps exclude each other" 2

newdb dbb
sql "$dbb" "CREATE TABLE r1 (id int); CREATE TABLE r2 (id int);" >/dev/null
run baseline 2 --dir "$rd" -d "dbname=$dbb"
expect "baseline 2" 0 "baselined 1_r1" "baselined 2_r2" "2 baselined"
run apply --dir "$rd" -d "dbname=$dbb"
expect "apply after baseline runs only the rest" 0 "applied 3_r3" "applied 4_r4" "2 applied"

mig "$rd" 1_r1.sql "CREATE TABLE r1 (id int, note text);" "DROP TABLE r1;"
run apply --dir "$rd" -d "dbname=$dbb"
expect "edited applied migration exits 6" 6 "1_r1"
old=$(sql "$dbb" "SELECT checksum FROM pgmig.migrations WHERE version = '1'")
run repair 1 --dir "$rd" --reason "column added by hand" -d "dbname=$dbb"
expect "repair" 0 "old checksum $old" "new checksum"
if [ "$(sql "$dbb" "SELECT reason FROM pgmig.history WHERE action = 'repair' AND version = '1'")" = "column added by hand" ]; then pass "repair reason in history"; else fail "repair reason in history" "$(sql "$dbb" "SELECT action, reason FROM pgmig.history")"; fi
run validate --dir "$rd" -d "dbname=$dbb"
expect "validate clean after repair" 0 "0 problems"
run repair 9 --dir "$rd" -d "dbname=$dbb"
expect "repair of a version without file exits 3" 3 "no file for version 9"

# --- registering many files: one statement, and one at a time after a refusal ---------------------
# The changed files of a folder are registered in one statement; when the server refuses one, they are
# registered again one at a time so that the error names the file, and nothing is left registered.
newdb dbreg
rf="$work/register_many"
mkdir -p "$rf"
for i in 1 2; do printf 'CREATE TABLE rf%s (id int);\n' "$i" >"$rf/V${i}__t$i.sql"; done
run apply --dir "$rf" -d "dbname=$dbreg"
expect "apply two files" 0 "2 applied"
printf 'CREATE TABLE rf2 (id int, v text);\n' >"$rf/V2__t2.sql"
# Quotes, backslashes, braces and commas must reach the ledger as written (the files' checksums).
printf 'CREATE TABLE rf3 (id int);\nCOMMENT ON TABLE rf3 IS %s;\n' "E'a \"quoted\" {brace}, comma \\\\ back'" >"$rf/V3__t3.sql"
printf 'CREATE TABLE rf4 (id int);\n' >"$rf/V4__t4.sql"
run apply --dir "$rf" -d "dbname=$dbreg"
expect "a refused file among several is named with its path" 6 "registering 2_t2 ($rf/V2__t2.sql)" \
    "nothing was changed"
got=$(sql "$dbreg" "SELECT string_agg(version, ',' ORDER BY version_key) FROM pgmig.migrations")
if [ "$got" = "1,2" ]; then pass "nothing of the refused registration is left"; else fail "nothing left registered" "$got"; fi
printf 'CREATE TABLE rf2 (id int);\n' >"$rf/V2__t2.sql"
run apply --dir "$rf" -d "dbname=$dbreg"
expect "the rest registers and applies together" 0 "applied 3_t3 (" "applied 4_t4 (" "database up to date at version 4"
got=$(sql "$dbreg" "SELECT obj_description('rf3'::regclass)")
if [ "$got" = 'a "quoted" {brace}, comma \ back' ]; then pass "odd characters reach the ledger as written"; else fail "odd characters" "$got"; fi
run validate --dir "$rf" -d "dbname=$dbreg"
expect "the stored scripts match their files" 0 "0 problems"

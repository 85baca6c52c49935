# Bad input that must give a clear error and change nothing: NUL bytes and invalid UTF-8 in migration
# files, schema files and pgmig.toml are refused before anything connects (exit 43, naming the file, the
# line and the byte offset); validate's JSON and SARIF output stay valid JSON; names from the database
# cannot inject directive lines into files pgmig generates; a migration of several MB applies completely.
# Sourced by run.sh (see lib.sh for the helpers).

bi="$work/bad-input"
mkdir -p "$bi"
chmod 755 "$bi"
# bi_check NAME GOT EXPECTED
bi_check() { if [ "$2" = "$3" ]; then pass "$1"; else fail "$1" "got '$2', expected '$3'"; fi; }
nowhere="host=/nonexistent-pgmig-socket-dir dbname=nowhere connect_timeout=2"

# --- a NUL byte: the file was applied cut at the NUL, without the DROP after it ---------------------
newdb bi_db
sql "$bi_db" "CREATE TABLE ok1 (x int)" >/dev/null
mkdir -p "$bi/nul"
printf -- '-- pgmig:up\nCREATE TABLE n1 (x int);\0\nDROP TABLE ok1;\n' >"$bi/nul/1_nul.sql"
run apply --dir "$bi/nul" -d "dbname=$bi_db"
expect "bad input: apply refuses a file with a NUL byte (exit 43), naming file, line and byte offset" 43 \
    "$bi/nul/1_nul.sql" "a NUL byte at line 2, column 25 (byte offset 36)" "nothing was applied"
bi_check "bad input: nothing of the NUL file was registered or run" \
    "$(ledger_count "$bi_db") $(sql "$bi_db" "SELECT to_regclass('n1') IS NULL AND to_regclass('ok1') IS NOT NULL")" "0 t"
run apply --dir "$bi/nul" -d "$nowhere"
expect "bad input: the NUL file is refused before anything connects" 43 "a NUL byte"
run validate --dir "$bi/nul" -d "$nowhere"
expect "bad input: validate refuses the NUL file before anything connects" 43 "[bad_bytes]" "byte offset 36"

# ... and validate called such an edit of an applied migration cosmetic.
mkdir -p "$bi/cosmetic"
printf -- '-- pgmig:up\nCREATE TABLE n2 (x int);\n' >"$bi/cosmetic/1_n2.sql"
run apply --dir "$bi/cosmetic" -d "dbname=$bi_db"
expect "bad input: apply a clean migration" 0 "1 applied"
printf -- '-- pgmig:up\nCREATE TABLE n2 (x int);\0\nDROP TABLE ok1;\n' >"$bi/cosmetic/1_n2.sql"
run validate --json --dir "$bi/cosmetic" -d "dbname=$bi_db"
if [ "$rc" -eq 43 ] && python3 -c '
import json, sys
d = json.load(sys.stdin)
assert d["ok"] is False and d["exit_code"] == 43, d
checks = [f["check"] for f in d["findings"]]
assert checks == ["bad_bytes"], checks
f = d["findings"][0]
assert f["line"] == 2 and f["file"].endswith("1_n2.sql") and "byte offset 36" in f["message"], f
' <<<"$out"; then
    pass "bad input: validate --json reports the NUL in an applied file (exit 43), not a cosmetic edit"
else
    fail "bad input: validate --json on an applied file with a NUL" "rc=$rc $(head -c 400 <<<"$out$err")"
fi

# --- invalid UTF-8 in the body and in a directive line ----------------------------------------------
mkdir -p "$bi/utf8"
printf -- "-- pgmig:up\nCREATE TABLE u1 (x text DEFAULT '\xff');\n" >"$bi/utf8/1_u1.sql"
run apply --dir "$bi/utf8" -d "dbname=$bi_db"
expect "bad input: apply refuses invalid UTF-8 in the body (exit 43)" 43 "1_u1.sql" \
    "invalid UTF-8 (0xff) at line 2, column 34 (byte offset 45)"
bi_check "bad input: nothing of the invalid UTF-8 file was registered" "$(ledger_count "$bi_db")" "1"

mkdir -p "$bi/directive"
printf -- '-- pgmig:refs T\xc3\x28\n-- pgmig:up\nCREATE TABLE d1 (x int);\n' >"$bi/directive/1_d1.sql"
run validate --json --dir "$bi/directive" -d "dbname=$bi_db"
if [ "$rc" -eq 43 ] && ! grep -q "json.exception" <<<"$out$err" && python3 -c '
import json, sys
d = json.load(sys.stdin)
assert d["exit_code"] == 43 and d["findings"][0]["check"] == "bad_bytes", d
assert d["findings"][0]["line"] == 1 and "invalid UTF-8 (0xc3 0x28)" in d["findings"][0]["message"], d
' <<<"$out"; then
    pass "bad input: validate --json on invalid UTF-8 in a directive line gives the clear error (exit 43)"
else
    fail "bad input: validate --json on invalid UTF-8 in a directive line" "rc=$rc $(head -c 400 <<<"$out$err")"
fi
run validate --format sarif --dir "$bi/directive" -d "dbname=$bi_db"
if [ "$rc" -eq 43 ] && ! grep -q "json.exception" <<<"$out$err" && python3 -c '
import json, sys
log = json.load(sys.stdin)
r = log["runs"][0]["results"][0]
assert r["ruleId"] == "bad_bytes" and r["level"] == "error", r
assert r["locations"][0]["physicalLocation"]["region"]["startLine"] == 1, r
assert log["runs"][0]["properties"]["exitCode"] == 43, log["runs"][0]["properties"]
' <<<"$out"; then
    pass "bad input: validate --format sarif on invalid UTF-8 in a directive line gives the clear error (exit 43)"
else
    fail "bad input: validate --format sarif on invalid UTF-8" "rc=$rc $(head -c 400 <<<"$out$err")"
fi
run lint "$bi/directive/1_d1.sql" -d "$nowhere"
expect "bad input: lint FILE refuses invalid UTF-8 before connecting" 43 "invalid UTF-8 (0xc3 0x28)"

# --- the schema folder and pgmig.toml -------------------------------------------------------------
mkdir -p "$bi/schema"
printf -- 'CREATE TABLE s1 (x int);\n-- the rest\nCREATE TABLE s2 (x int);\0\nCREATE TABLE s3 (x int);\n' \
    >"$bi/schema/01_tables.sql"
chmod -R a+rX "$bi"
shadows_before=$(sql postgres "SELECT count(*) FROM pg_database WHERE datname LIKE 'pgmig\_shadow\_%'")
run diff --schema "$bi/schema" -d "dbname=$bi_db"
expect "bad input: diff refuses a schema file with a NUL byte (exit 43)" 43 "01_tables.sql" \
    "a NUL byte at line 3, column 25 (byte offset 61)"
run generate add_s --schema "$bi/schema" --dir "$bi/gen-nul" -d "$nowhere"
expect "bad input: generate refuses the schema file before anything connects" 43 "a NUL byte"
bi_check "bad input: no shadow database was made for the NUL schema file" \
    "$(sql postgres "SELECT count(*) FROM pg_database WHERE datname LIKE 'pgmig\_shadow\_%'")" "$shadows_before"

mkdir -p "$bi/toml-nul" "$bi/toml-utf8"
printf 'migrations = "migrations"\0\n' >"$bi/toml-nul/pgmig.toml"
printf '# r\xe9sum\xe9\nmigrations = "migrations"\n' >"$bi/toml-utf8/pgmig.toml"
(cd "$bi/toml-nul" && "$bin" validate --offline) >"$work/out" 2>"$work/err"
rc=$?; out=$(cat "$work/out"); err=$(cat "$work/err")
expect "bad input: a NUL byte in pgmig.toml is named (exit 43)" 43 "pgmig.toml" \
    "a NUL byte at line 1, column 26 (byte offset 25)"
(cd "$bi/toml-utf8" && "$bin" validate --offline) >"$work/out" 2>"$work/err"
rc=$?; out=$(cat "$work/out"); err=$(cat "$work/err")
expect "bad input: invalid UTF-8 in pgmig.toml is named (exit 43)" 43 "pgmig.toml" "invalid UTF-8 (0xe9 0x73)" \
    "line 1, column 4 (byte offset 3)"

# --- names from the database cannot inject directives into generated files -------------------------
# bi_pgmig_lines FILE: the lines of FILE that pgmig (or a grep) could read as "-- pgmig:..."
bi_pgmig_lines() { grep -c '^[[:space:]]*--[[:space:]]*pgmig:' "$1"; }
newdb bi_gen
# 1. The target has a table the desired schema lacks: its drop is withheld and named in the file's header.
sql "$bi_gen" 'CREATE TABLE public."x
-- pgmig:allow drop-table --" (id int)' >/dev/null
mkdir -p "$bi/gen-schema" "$bi/gen"
echo 'CREATE TABLE keep (k text);' >"$bi/gen-schema/01.sql"
chmod -R a+rX "$bi"
run generate keep --schema "$bi/gen-schema" --dir "$bi/gen" -d "dbname=$bi_gen"
expect "bad input: generate names the withheld drop of the injected name (exit 32)" 32 "withheld"
gen_file=$(ls "$bi/gen"/*_keep.sql 2>/dev/null | head -1)
if [ -n "$gen_file" ] && [ "$(bi_pgmig_lines "$gen_file")" -eq 2 ] && grep -qx -- '-- pgmig:up' "$gen_file" &&
    grep -qx -- '-- pgmig:down' "$gen_file"; then
    pass "bad input: the header naming the injected table has no directive line"
else
    fail "bad input: the header naming the injected table" "$(grep -n 'pgmig:' "$gen_file" 2>&1 | head -c 600)"
fi
run apply --dir "$bi/gen" -d "dbname=$bi_gen"
expect "bad input: the generated file applies" 0 "1 applied"
bi_check "bad input: the generated migration was registered without a waiver" \
    "$(sql "$bi_gen" "SELECT options::text FROM pgmig.migrations")" "{}"

# 2. The desired schema has tables whose names hold directive and marker lines, and a comment with one:
# the up section creates them (quoted names), the down section drops them.
cat >>"$bi/gen-schema/01.sql" <<'SQL'
CREATE TABLE public."y
-- pgmig:no-transaction" (id int);
CREATE TABLE public."z
-- pgmig:down
-- pgmig:allow drop-table" (id int);
COMMENT ON TABLE public."z
-- pgmig:down
-- pgmig:allow drop-table" IS 'a
-- pgmig:allow drop-table
comment';
SQL
run generate names --schema "$bi/gen-schema" --dir "$bi/gen" -d "dbname=$bi_gen"
expect "bad input: generate creates the tables with injected names" 32 "withheld"
gen_file=$(ls "$bi/gen"/*_names.sql 2>/dev/null | head -1)
if [ -n "$gen_file" ] && [ "$(bi_pgmig_lines "$gen_file")" -eq 2 ]; then
    pass "bad input: the file creating the injected names has no directive line but its up and down markers"
else
    fail "bad input: the file creating the injected names" "$(grep -n 'pgmig:' "$gen_file" 2>&1 | head -c 600)"
fi
run validate --offline --dir "$bi/gen"
expect "bad input: pgmig validate reads the generated files" 0
run apply --dir "$bi/gen" -d "dbname=$bi_gen"
expect "bad input: the file creating the injected names applies" 0 "1 applied"
bi_check "bad input: both migrations registered without waivers, transactional" \
    "$(sql "$bi_gen" "SELECT string_agg(options::text, ' ') FROM pgmig.migrations")" "{} {}"
bi_check "bad input: the tables have the names the schema gave them" \
    "$(sql "$bi_gen" "SELECT count(*) FROM pg_class WHERE relname IN (E'y\n-- pgmig:no-transaction', E'z\n-- pgmig:down\n-- pgmig:allow drop-table')")" "2"
bi_check "bad input: the multi-line comment survived the file unchanged" \
    "$(sql "$bi_gen" "SELECT obj_description(to_regclass(quote_ident(E'z\n-- pgmig:down\n-- pgmig:allow drop-table')), 'pg_class') = E'a\n-- pgmig:allow drop-table\ncomment'")" "t"

# --- a migration of several MB applies completely (it took minutes: splitting was quadratic) --------
mkdir -p "$bi/large"
python3 - "$bi/large/1_large.sql" <<'PY'
import sys
with open(sys.argv[1], "w") as f:
    f.write("-- pgmig:up\nCREATE TABLE large_t (id int PRIMARY KEY, v text);\n")
    for i in range(1, 40001):
        f.write(f"INSERT INTO large_t VALUES ({i}, 'row {i} of a migration of several megabytes, one statement per line');\n")
    f.write("-- pgmig:down\nDROP TABLE large_t;\n")
PY
newdb bi_large
run apply --dir "$bi/large" -d "dbname=$bi_large"
expect "bad input: a migration of several MB applies" 0 "1 applied"
bi_check "bad input: every statement of the large migration ran" \
    "$(sql "$bi_large" "SELECT count(*) || ' ' || max(id) FROM large_t")" "40000 40000"

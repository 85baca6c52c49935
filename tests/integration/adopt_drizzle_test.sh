# pgmig adopt from Drizzle Kit, with drizzle-kit itself (npm): drizzle-kit migrate runs
# tests/adoption/drizzle-real, pgmig adopt takes drizzle.__drizzle_migrations over (matched by the
# SHA-256 of each file), status shows every migration applied and a new one (file + journal entry)
# applies on top. A file edited after Drizzle applied it no longer matches: refused. Drizzle runs a
# migrate in one transaction: a real failure records nothing and stays pending. Sourced by run.sh.
. "$here/adopt_lib.sh"

if adopt_need drizzle-kit; then
adz="$work/adopt_drizzle"
cp -r "$root/tests/adoption/drizzle-real" "$adz"
adz_migrate() {  # DB
    tool_run drizzle-kit env -C "$adz" DATABASE_URL="$(adopt_url "$1")" "$adopt_tools/drizzle-kit" migrate --config drizzle.config.js
}
adz_add() {  # SQL: the third migration, with its journal entry
    printf '%s\n' "$1" >"$adz/drizzle/0002_add_total.sql"
    python3 - "$adz/drizzle/meta/_journal.json" <<'PY'
import json, sys
path = sys.argv[1]
journal = json.load(open(path))
journal["entries"] = [e for e in journal["entries"] if e["idx"] < 2]
journal["entries"].append({"idx": 2, "version": "7", "when": 1704276000000, "tag": "0002_add_total", "breakpoints": True})
json.dump(journal, open(path, "w"), indent=2)
PY
}
adz_files() {  # the files as the Drizzle reader names them: tool_id = SHA-256 of the file
    local f v=0 out=""
    for f in "$adz"/drizzle/000*.sql; do
        out+="${out:+, }{\"version\": \"$v\", \"tool_id\": \"$(sha256sum "$f" | cut -d' ' -f1)\"}"
        v=$((v + 1))
    done
    echo "[$out]"
}

newdb adz_db
adz_migrate "$adz_db"
expect "drizzle-kit migrates the database" 0 "migrations applied successfully"
adz_add 'ALTER TABLE "orders" ADD COLUMN "total" numeric;'
expect_value "migrate_adopt reads __drizzle_migrations by hash" "$(adopt_states "$adz_db" drizzle "$(adz_files)")" \
    "0:adopt 1:adopt 2:pending"
run adopt --yes --from drizzle --dir "$adz/drizzle" -d "dbname=$adz_db"
expect "pgmig adopt takes over Drizzle's history" 0 "adopted 2 migrations from Drizzle Kit's history" "1 pending"
run status --dir "$adz/drizzle" -d "dbname=$adz_db"
expect "status: Drizzle's migrations applied" 0 "2 applied, 1 pending"
run apply --dir "$adz/drizzle" -d "dbname=$adz_db"
expect "a new migration applies on top" 0 "1 applied"
run status --dir "$adz/drizzle" -d "dbname=$adz_db"
if grep -q "3 applied, 0 pending" <<<"$out"; then pass "Drizzle: every migration applied"; else fail "Drizzle: status after apply" "$out"; fi

# A file edited after Drizzle applied it: its hash is no longer in the table.
newdb adz_edited
rm "$adz/drizzle/0002_add_total.sql"
cp "$root/tests/adoption/drizzle-real/drizzle/meta/_journal.json" "$adz/drizzle/meta/_journal.json"
adz_migrate "$adz_edited"
printf -- '-- edited after it ran\n' >>"$adz/drizzle/0001_create_orders.sql"
adz_old=$(sha256sum "$root/tests/adoption/drizzle-real/drizzle/0001_create_orders.sql" | cut -d' ' -f1)
expect_value "an edited file does not match its hash" "$(adopt_states "$adz_edited" drizzle "$(adz_files)")" \
    "0:adopt 1:pending $adz_old:no_file"
run adopt --yes --from drizzle --dir "$adz/drizzle" -d "dbname=$adz_edited"
expect "pgmig adopt refuses the edited file" 52 "recorded, but no file has them (1)"
cp "$root/tests/adoption/drizzle-real/drizzle/0001_create_orders.sql" "$adz/drizzle/"

# A real failure: drizzle-kit rolls the whole run back.
newdb adz_fail
adz_migrate "$adz_fail"
adz_add 'ALTER TABLE "orders" ADD COLUMN "total" numeric;
--> statement-breakpoint
ALTER TABLE "no_such_table" ADD COLUMN "x" integer;'
adz_migrate "$adz_fail"
if [ "$rc" -ne 0 ] || grep -q "no_such_table" <<<"$out"; then pass "drizzle-kit fails the broken migration"; else fail "drizzle-kit failure" "rc $rc: $out"; fi
expect_value "migrate_adopt after Drizzle's failure" "$(adopt_states "$adz_fail" drizzle "$(adz_files)")" "0:adopt 1:adopt 2:pending"
run adopt --yes --from drizzle --dir "$adz/drizzle" -d "dbname=$adz_fail"
expect "adopt after a failed drizzle-kit run: the failed one stays pending" 0 "adopted 2 migrations" "1 pending"
fi

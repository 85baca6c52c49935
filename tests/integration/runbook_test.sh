# docs/runbook.md: every block marked <!-- runbook:NAME --> is run here as written, after the situation
# its section describes was created (failed deploy, half-applied non-transactional migration, stuck lock,
# drift, restore, missing library, broken audit chain). Sourced by run.sh (see lib.sh for the helpers).

rb_doc="$root/docs/runbook.md"
rb_proj="$work/runbook"
rb_bin="$work/runbook-bin"
mkdir -p "$rb_proj/migrations" "$rb_bin"
ln -sf "$bin" "$rb_bin/pgmig"
rb_pgbin=${PGMIG_PG_BINDIR:-$(dirname "$(command -v pg_config)")}

# The runbook's database is called shop (its restore section switches names): made here, dropped at the end.
for rb_db in shop shop_restored shop_damaged; do
    psql -X -q -d postgres -c "DROP DATABASE IF EXISTS $rb_db" >/dev/null 2>&1
    databases+=("$rb_db")
done
psql -X -q -d postgres -c "CREATE DATABASE shop" >/dev/null && sql shop "CREATE EXTENSION pgmig" >/dev/null ||
    fail "runbook: setup" "cannot create database shop with the extension"
cat >"$rb_proj/pgmig.toml" <<'EOF'
migrations = "migrations"

[backup]
dir = "backups"
key_file = "backup.key"

[environments.production]
dbname = "dbname=shop"
EOF
openssl rand -hex 32 >"$rb_proj/backup.key"

# rb_block NAME: the shell block under <!-- runbook:NAME --> in docs/runbook.md.
rb_block() {
    python3 - "$rb_doc" "$1" <<'PY'
import re, sys
text = open(sys.argv[1]).read()
m = re.search(r"<!-- runbook:" + re.escape(sys.argv[2]) + r" -->\n```sh\n(.*?)```", text, re.S)
if not m:
    sys.exit(1)
print(m.group(1), end="")
PY
}

# rb_run NAME [strict] [DIR]: runs the block in the project folder (or DIR) with pgmig and the server's
# programs on PATH and libpq pointed at shop; "strict" stops at the first failing command (set -e).
# Sets $rc, $out, $err like run.
rb_run() {
    local code flags=""
    if ! code=$(rb_block "$1"); then
        rc=99 out="" err="docs/runbook.md has no block <!-- runbook:$1 -->"
        return
    fi
    [ "${2:-}" = strict ] && flags="-e"
    (cd "${3:-$rb_proj}" && PATH="$rb_bin:$rb_pgbin:$PATH" PGDATABASE=shop bash $flags -c "$code") \
        >"$work/out" 2>"$work/err"
    rc=$?
    out=$(cat "$work/out")
    err=$(cat "$work/err")
}

rb_cd_run() {  # pgmig in the project folder
    pushd "$rb_proj" >/dev/null || return
    run "$@" -d "dbname=shop"
    popd >/dev/null || return
}

# ---- A deploy failed ----
mig "$rb_proj/migrations" 1_items.sql "CREATE TABLE IF NOT EXISTS items (id int PRIMARY KEY, name text);
INSERT INTO items VALUES (1, 'pen'), (2, 'ink');" "DROP TABLE items;"
mig "$rb_proj/migrations" 2_price.sql "ALTER TABLE itemz ADD COLUMN IF NOT EXISTS price int;" \
    "ALTER TABLE items DROP COLUMN price;"
rb_cd_run apply
expect "runbook failed deploy: the situation (exit 5, nothing of the run applied)" 5 'relation "itemz" does not exist'
rb_run failed-deploy/diagnose
if grep -qF "0 applied" <<<"$out" && grep -qF 'relation "itemz" does not exist' <<<"$out$err"; then
    pass "runbook failed deploy: status and plan show what failed"
else
    fail "runbook failed deploy: diagnose" "rc=$rc $(head -c 500 <<<"$out$err")"
fi
sed -i 's/itemz/items/' "$rb_proj/migrations/2_price.sql"
rb_run failed-deploy/fix strict
expect "runbook failed deploy: validate, plan, apply after the fix" 0 "2 applied, 0 pending"

# ---- A non-transactional migration stopped halfway ----
mig "$rb_proj/migrations" 3_accounts.sql "CREATE TABLE IF NOT EXISTS accounts (id int PRIMARY KEY, email text);
INSERT INTO accounts VALUES (1, 'a@example.com'), (2, 'a@example.com'), (3, 'b@example.com');" "DROP TABLE accounts;"
{
    echo "-- pgmig:no-transaction"
    echo "-- pgmig:up"
    echo "CREATE INDEX CONCURRENTLY IF NOT EXISTS accounts_id_idx ON accounts (id);"
    echo "CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS accounts_email_key ON accounts (email);"
    echo "-- pgmig:down"
    echo "DROP INDEX CONCURRENTLY IF EXISTS accounts_email_key;"
    echo "DROP INDEX CONCURRENTLY IF EXISTS accounts_id_idx;"
} >"$rb_proj/migrations/4_accounts_email.sql"
rb_cd_run apply
expect "runbook half-applied: the situation (exit 5, statement 2 failed, 1 stays)" 5 \
    "statement 2 of non-transactional migration 4_accounts_email failed" "statements 1 to 1 are done and stay"
rb_run half-applied/diagnose
if grep -qF "in_progress" <<<"$out" && grep -qF "accounts_email_key" <<<"$out"; then
    pass "runbook half-applied: status shows in_progress, psql the invalid index"
else
    fail "runbook half-applied: diagnose" "rc=$rc $(head -c 500 <<<"$out$err")"
fi
rb_run half-applied/fix strict
if expect "runbook half-applied: fix the data, apply resumes" 0 "4 applied, 0 pending" &&
    [ "$(sql shop "SELECT count(*) FROM pg_index WHERE indexrelid = 'accounts_email_key'::regclass AND indisvalid")" != 1 ]; then
    fail "runbook half-applied: the unique index is valid" "it is not"
fi

# ---- A stuck ledger lock ----
mig "$rb_proj/migrations" 5_items_stock.sql "ALTER TABLE items ADD COLUMN IF NOT EXISTS stock int;" \
    "ALTER TABLE items DROP COLUMN stock;"
timeout 120 psql -X -q -d shop -c "SELECT pg_advisory_lock(482771560807)" -c "SELECT pg_sleep(110)" >/dev/null 2>&1 &
rb_holder=$!
if poll_sql shop "SELECT EXISTS (SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND granted AND objid = 1735223655)" 30; then
    rb_holder_pid=$(sql shop "SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND granted AND objid = 1735223655")
    rb_run stuck-lock/diagnose
    if [ "$rc" -eq 0 ] && grep -qw -- "$rb_holder_pid" <<<"$out"; then
        pass "runbook stuck lock: the query finds the holder (pid $rb_holder_pid)"
    else
        fail "runbook stuck lock: diagnose" "rc=$rc pid $rb_holder_pid not in $(head -c 500 <<<"$out$err")"
    fi
    rb_run stuck-lock/fix strict
    expect "runbook stuck lock: terminate the holder, apply goes on" 0 "applied 5_items_stock"
else
    fail "runbook stuck lock: setup" "the holder never took the ledger lock"
fi
kill "$rb_holder" 2>/dev/null
wait "$rb_holder" 2>/dev/null

# ---- Drift on production ----
sql shop "CREATE INDEX items_name_idx ON items (name)" >/dev/null
rb_run drift/diagnose
expect "runbook drift: drift shows the out-of-band change" 0 "public.items_name_idx"
rb_run drift/undo strict
if expect "runbook drift: --fix, apply, no drift left" 0 &&
    [ "$(sql shop "SELECT to_regclass('items_name_idx') IS NULL")" != t ]; then
    fail "runbook drift: the undo dropped the index" "it is still there"
fi
sql shop "ALTER TABLE items ADD COLUMN hotfix_note text" >/dev/null
rb_run drift/keep strict
if expect "runbook drift: --adopt records it, no drift left" 0 &&
    [ "$(sql shop "SELECT count(*) FROM pg_attribute WHERE attrelid = 'items'::regclass AND attname = 'hotfix_note'")" != 1 ]; then
    fail "runbook drift: the adopted column stays" "it is gone"
fi

# ---- Restore from a backup ----
rb_cd_run backup --env production
expect "runbook restore: a backup to restore" 0 "backup written"
sql shop "DELETE FROM items" >/dev/null  # the damage
rb_run restore/restore strict
expect "runbook restore: list, verify, restore into shop_restored" 0
if [ "$(sql shop_restored "SELECT count(*) FROM items")" = 2 ]; then
    pass "runbook restore: shop_restored holds the rows"
else
    fail "runbook restore: shop_restored holds the rows" "$(sql shop_restored "SELECT count(*) FROM items")"
fi
rb_run restore/switch strict
if expect "runbook restore: switch the names, status and audit verify" 0 "0 pending" &&
    [ "$(sql shop "SELECT count(*) FROM items")" != 2 ]; then
    fail "runbook restore: shop is the restored database" "$(sql shop "SELECT count(*) FROM items")"
fi

# ---- The library is missing after an upgrade ----
rb_libdir=$("$rb_pgbin/pg_config" --pkglibdir)
rb_restore_lib() {
    if [ -f "$rb_libdir/pgmig.so.runbook-moved" ]; then mv -f "$rb_libdir/pgmig.so.runbook-moved" "$rb_libdir/pgmig.so"; fi
}
trap 'rb_restore_lib; cleanup' EXIT
if mv "$rb_libdir/pgmig.so" "$rb_libdir/pgmig.so.runbook-moved"; then
    rb_sym=$(psql -X -q -d shop -c "CREATE TABLE after_upgrade (id int)" 2>&1)
    if grep -qF 'could not access file "$libdir/pgmig": No such file or directory' <<<"$rb_sym" &&
        grep -qF 'could not access file "$libdir/pgmig": No such file or directory' "$rb_doc"; then
        pass "runbook library: DDL fails with the error the runbook quotes"
    else
        fail "runbook library: the symptom" "$rb_sym"
    fi
    rb_run library/diagnose
    rb_version=$(sed -n "s/^default_version = '\(.*\)'/\1/p" "$root/extension/pgmig.control")
    expect "runbook library: diagnose shows the version and the missing file" 0 "$rb_version" "pgmig.so is missing from"
    rb_run library/disable strict
    if expect "runbook library: the event triggers switched off" 0 &&
        ! sql shop "CREATE TABLE during_outage (id int)" >/dev/null; then
        fail "runbook library: DDL runs once the triggers are off" "it still fails"
    fi
    rb_run library/reinstall strict "$root"
    if [ "$rc" -ne 0 ] || [ ! -f "$rb_libdir/pgmig.so" ]; then
        fail "runbook library: make install puts the library back" "rc=$rc $(tail -c 400 <<<"$out$err")"
        rb_restore_lib
    else
        rm -f "$rb_libdir/pgmig.so.runbook-moved"
        pass "runbook library: make install puts the library back"
    fi
    rb_run library/fix strict
    if expect "runbook library: triggers on again, status and audit verify" 0 "applied" &&
        [ "$(sql shop "SELECT count(*) FROM pg_event_trigger WHERE evtname LIKE 'pgmig%' AND evtenabled = 'A'")" != 4 ]; then
        fail "runbook library: the four triggers are ENABLE ALWAYS" "$(sql shop "SELECT evtname, evtenabled FROM pg_event_trigger")"
    fi
    if [ "$(sql shop "CREATE TABLE after_fix (id int); SELECT count(*) > 0 FROM pgmig.ddl_audit WHERE object_identity = 'public.after_fix'")" = t ]; then
        pass "runbook library: DDL is audited again"
    else
        fail "runbook library: DDL is audited again" "no audit row for public.after_fix"
    fi
else
    fail "runbook library: setup" "cannot move $rb_libdir/pgmig.so"
fi
rb_restore_lib

# ---- A broken audit chain ----
sql shop "CREATE TABLE chain_probe (id int)" >/dev/null
rb_cd_run audit verify
expect "runbook audit chain: sealed and anchored before the break" 0
sql shop "ALTER TABLE pgmig.ddl_audit DISABLE TRIGGER ddl_audit_immutable;
          UPDATE pgmig.ddl_audit SET statement = 'CREATE TABLE nothing_to_see (id int)' WHERE object_identity = 'public.chain_probe';
          ALTER TABLE pgmig.ddl_audit ENABLE TRIGGER ddl_audit_immutable;" >/dev/null
rb_run audit-chain/diagnose
if grep -qF "the audit chain is broken at row" <<<"$out$err" && grep -qF "public.chain_probe" <<<"$out"; then
    pass "runbook audit chain: verify names the break, the query shows the rows"
else
    fail "runbook audit chain: diagnose" "rc=$rc $(head -c 500 <<<"$out$err")"
fi

# ==== pgmig audit reseal: the runbook's way back, then verify passes and the broken row is kept ====
rb_run audit-chain/reseal strict
expect "runbook audit chain: reseal, then verify passes" 0
if [ "$(sql shop "SELECT count(*) FROM pgmig.ddl_audit WHERE statement = 'CREATE TABLE nothing_to_see (id int)'")" = 1 ]; then
    pass "runbook audit chain: the broken row is kept for inspection"
else
    fail "runbook audit chain: the broken row is kept for inspection" "it is gone"
fi
cd "$root" || exit 1

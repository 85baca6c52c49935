# pgmig backup / backup list / backup verify / restore against a real cluster: encrypted backups with
# manifests, each kind of damage with its own exit code, restore with fingerprint equality, retention, a
# passphrase from key_env, and no key, passphrase or password in any output, log or file.
# Sourced by run.sh (see lib.sh for the helpers).

run backup --help
expect "backup --help" 0 "--env" "--out" "--key-file" "list" "verify"
run restore --help
expect "restore --help" 0 "--to" "--key-file" "FILE"

newdb db
bk_password="pw-$RANDOM-SeCrEt-$$"
bk_key=$(openssl rand -hex 32)
bk_pass="passphrase-$RANDOM-HoRsE-$$"
bk_proj="$work/backup-proj"
mkdir -p "$bk_proj/migrations"
chmod -R a+rwX "$bk_proj"
printf '%s\n' "$bk_key" >"$bk_proj/backup.key"
openssl rand -hex 32 >"$bk_proj/other.key"
cat >"$bk_proj/migrations/1_items.sql" <<'SQL'
-- pgmig:up
CREATE TABLE items (id bigint PRIMARY KEY, name text NOT NULL);
INSERT INTO items SELECT g, 'item ' || g FROM generate_series(1, 5000) g;
-- pgmig:down
DROP TABLE items;
SQL
cat >"$bk_proj/migrations/2_index.sql" <<'SQL'
-- pgmig:up
CREATE INDEX items_name ON items (name);
-- pgmig:down
DROP INDEX items_name;
SQL
# A password in the connection string (the test cluster trusts local connections, so it is not checked,
# but pgmig must still keep it out of argv, files and output).
bk_conn="dbname=$db password=$bk_password"
cat >"$bk_proj/pgmig.toml" <<TOML
[backup]
dir = "$bk_proj/backups"
key_file = "$bk_proj/backup.key"

[environments.staging]
dbname_env = "BK_STAGING_URL"
backup_keep = 2
TOML
bk_all_output="$work/backup-all-output"
: >"$bk_all_output"
bk_run() {  # run in the project folder, keeping every output for the secret grep
    pushd "$bk_proj" >/dev/null || return
    run "$@"
    popd >/dev/null || return
    printf '%s\n%s\n' "$out" "$err" >>"$bk_all_output"
}

bk_run apply -d "$bk_conn"
expect "backup: migrations applied" 0

# No key at all: refused, nothing written (backups are never unencrypted).
pushd "$work" >/dev/null && run backup -d "dbname=$db" --out "$work/nokey" && popd >/dev/null
expect "backup without a key is refused (exit 19)" 19 "no backup key"
if [ -z "$(ls -A "$work/nokey/default" 2>/dev/null)" ]; then pass "no file is written without a key"; else fail "no file is written without a key" "$(ls "$work/nokey/default")"; fi

# Backup of the default environment: the file, its manifest, its fields.
bk_run backup -d "$bk_conn"
expect "backup written" 0 "backup written: $bk_proj/backups/default/" ".pgmig-backup"
bk_file=$(ls "$bk_proj"/backups/default/*.pgmig-backup | head -1)
bk_manifest="$bk_file.manifest.json"
if [[ "$(basename "$bk_file")" =~ ^[0-9]{8}T[0-9]{6}Z_${db}\.pgmig-backup$ ]]; then pass "backup file name <UTC>_<db>"; else fail "backup file name <UTC>_<db>" "$bk_file"; fi
bk_fp=$(sql "$db" "SELECT migrate_fingerprint()")
bk_check=$(python3 - "$bk_manifest" "$bk_file" "$db" "$bk_fp" <<'PY'
import hashlib, json, os, sys
m = json.load(open(sys.argv[1]))
data = open(sys.argv[2], 'rb').read()
problems = []
expect = {"format": "pgmig-backup/1", "database": sys.argv[3], "environment": "default", "ledger_version": "2",
          "fingerprint": sys.argv[4], "size": len(data), "sha256": hashlib.sha256(data).hexdigest()}
for k, v in expect.items():
    if m.get(k) != v: problems.append(f"{k}={m.get(k)!r}, expected {v!r}")
for k in ("server_version", "created_at", "pgmig_version", "key_id"):
    if not m.get(k): problems.append(f"{k} missing")
if not data.startswith(b"PGMIGBK1"): problems.append("no PGMIGBK1 magic")
if b"PGDMP" in data or b"item 42" in data: problems.append("plaintext in the backup")
print("; ".join(problems) or "ok")
PY
)
if [ "$bk_check" = ok ]; then pass "manifest fields, sha256, size; ciphertext only"; else fail "manifest fields, sha256, size; ciphertext only" "$bk_check"; fi
if [ ! -e "$bk_file.partial" ] && [ "$(stat -c %a "$bk_file")" = 600 ]; then pass "no partial file; backup mode 600"; else fail "no partial file; backup mode 600" "$(ls -l "$bk_file"*)"; fi

bk_run backup list
expect "backup list" 0 "$(basename "$bk_file")" "$bk_fp"
bk_run backup list --json
if python3 -c 'import json,sys; d=json.loads(sys.argv[1]); assert d[0]["manifest"]["fingerprint"] == sys.argv[2]' "$out" "$bk_fp" 2>/dev/null
then pass "backup list --json"; else fail "backup list --json" "$out"; fi

bk_run backup verify "$bk_file"
expect "verify ok" 0 "ok $bk_file" "archive entries" "MB/s"

# Damage: each kind with its own exit code.
cp "$bk_file" "$work/bk-good"
cp "$bk_manifest" "$work/bk-good.manifest"
python3 - "$bk_file" <<'PY'
import os, sys
p = sys.argv[1]; size = os.path.getsize(p)
with open(p, 'r+b') as f:
    f.seek(size // 2); b = f.read(1); f.seek(size // 2); f.write(bytes([b[0] ^ 0x01]))
PY
bk_run backup verify "$bk_file"
expect "verify: a flipped byte is corruption (exit 21)" 21 "FAILED" "the backup is corrupted" "failed authentication"
cp "$work/bk-good" "$bk_file"
truncate -s $(( $(stat -c %s "$bk_file") - 100 )) "$bk_file"
bk_run backup verify "$bk_file"
expect "verify: a truncated file (exit 22)" 22 "the backup is truncated"
cp "$work/bk-good" "$bk_file"
bk_run backup verify --key-file "$bk_proj/other.key" "$bk_file"
expect "verify: a wrong key (exit 20)" 20 "wrong key" "key id"
mv "$bk_manifest" "$work/bk-manifest-away"
bk_run backup verify "$bk_file"
expect "verify: a missing manifest (exit 23)" 23 "manifest" "is missing"
echo '{"format": "pgmig-backup/1"}' >"$bk_manifest"
bk_run backup verify "$bk_file"
expect "verify: an invalid manifest (exit 23)" 23 "the manifest is invalid"
cp "$work/bk-good.manifest" "$bk_manifest"
printf 'PGMIGBK1' >"$work/not-a-backup.pgmig-backup"; head -c 5000 /dev/urandom >>"$work/not-a-backup.pgmig-backup"
cp "$bk_manifest" "$work/not-a-backup.pgmig-backup.manifest.json"
bk_run backup verify "$bk_file" "$work/not-a-backup.pgmig-backup"
expect "verify of two files: one ok, one damaged (exit 21)" 21 "ok $bk_file" "FAILED $work/not-a-backup.pgmig-backup"
bk_run backup verify --json "$bk_file"
if python3 -c 'import json,sys; d=json.loads(sys.argv[1]); assert d[0]["ok"] and d[0]["toc_entries"] > 3' "$out" 2>/dev/null
then pass "verify --json"; else fail "verify --json" "$out"; fi

# Restore into a new database: fingerprint equal; an existing database is refused; a damaged backup fails.
bk_new="${db}_restored"
databases+=("$bk_new")
bk_run restore "$bk_file" --to "$bk_new" -d "dbname=postgres password=$bk_password"
expect "restore into a new database" 0 "restored" "fingerprint $bk_fp equals"
if [ "$(sql "$bk_new" "SELECT migrate_fingerprint()")" = "$bk_fp" ] && [ "$(sql "$bk_new" "SELECT count(*) FROM items")" = 5000 ]
then pass "restored database: same fingerprint, same rows"; else fail "restored database: same fingerprint, same rows" "$(sql "$bk_new" "SELECT count(*) FROM items")"; fi
bk_ledger=$(sql "$db" "SELECT string_agg(version || ':' || state, ',') FROM migrate_status()")
if [ "$(sql "$bk_new" "SELECT string_agg(version || ':' || state, ',') FROM migrate_status()")" = "$bk_ledger" ] &&
    [ "$(sql "$bk_new" "SELECT count(*) FROM pgmig.history")" = "$(sql "$db" "SELECT count(*) FROM pgmig.history")" ]
then pass "restored database: the same ledger and history"; else fail "restored database: the same ledger and history" "$(sql "$bk_new" "SELECT string_agg(version || ':' || state, ',') FROM migrate_status()") vs $bk_ledger"; fi
bk_run status -d "dbname=$bk_new"
expect "status of the restored database works" 0
# The expected schema is restored object by object (no drift), and its OIDs are the original's: the next
# snapshot describes the whole schema instead of deriving from them, and there is still no drift.
check "restored database: the expected schema came with it, no drift" \
    "$(sql "$bk_new" "SELECT (SELECT count(*) FROM pgmig.expected_objects) > 0 AND NOT EXISTS (SELECT 1 FROM migrate_drift())")" "t"
sql "$bk_new" "SELECT migrate_register('9000', 'after_restore', 'CREATE TABLE after_restore (id int)', 'DROP TABLE after_restore')" >/dev/null
sql "$bk_new" "SELECT count(*) FROM migrate_apply()" >/dev/null
check "restored database: the first apply describes the whole schema (OIDs differ), no drift after it" \
    "$(sql "$bk_new" "SELECT full_because || ' ' || NOT EXISTS (SELECT 1 FROM migrate_drift()) FROM pgmig.snapshots ORDER BY id DESC LIMIT 1")" \
    "the expected schema was recorded in another database (restored or copied here) true"
# A backup taken on another PostgreSQL major version: restored, its fingerprint not compared (the
# catalogs of another major version describe the same schema differently), and the output says so.
bk_other="$work/other-major.pgmig-backup"
cp "$bk_file" "$bk_other"
python3 - "$bk_manifest" "$bk_other.manifest.json" <<'PY'
import json, sys
m = json.load(open(sys.argv[1]))
m["server_version"] = "14.9 (taken elsewhere)"
m["fingerprint"] = "0" * 64
json.dump(m, open(sys.argv[2], "w"))
PY
databases+=("${db}_other_major")
bk_run restore "$bk_other" --to "${db}_other_major" -d "dbname=postgres password=$bk_password" --json
expect "restore of a backup from another major version: restored, fingerprint not compared" 0 \
    "not compared: the backup was taken on PostgreSQL 14 and restored into $(sql postgres "SELECT current_setting('server_version_num')::int / 10000")" \
    '"fingerprint_compared": false'

sql "$bk_new" "INSERT INTO pgmig.history (name, action, current_user_name) VALUES ('x', 'repair', 'x')" >/dev/null &&
    pass "restored history's identity continues after the restored rows" ||
    fail "restored history's identity continues after the restored rows" "insert failed"
bk_run restore "$bk_file" --to "$bk_new" -d "dbname=postgres"
expect "restore refuses an existing database" 19 "already exists"
# A manifest whose fingerprint is not the backup's: exit 24 (sha256 still matches, so it restores).
python3 - "$bk_manifest" <<'PY'
import json, sys
m = json.load(open(sys.argv[1])); m["fingerprint"] = "0" * 64; json.dump(m, open(sys.argv[1], "w"))
PY
databases+=("${db}_mismatch")
bk_run restore "$bk_file" --to "${db}_mismatch" -d "dbname=postgres"
expect "restore: fingerprint mismatch (exit 24)" 24 "differs from the backup's" "database ${db}_mismatch is left as it is" "DROP DATABASE"
cp "$work/bk-good.manifest" "$bk_manifest"
# A manifest whose SHA-256 is not the file's: restore checks it before saying restored (exit 21).
python3 - "$bk_manifest" <<'PY'
import json, sys
m = json.load(open(sys.argv[1])); m["sha256"] = "0" * 64; json.dump(m, open(sys.argv[1], "w"))
PY
databases+=("${db}_badsha")
bk_run restore "$bk_file" --to "${db}_badsha" -d "dbname=postgres"
expect "restore: a file that does not match its manifest's SHA-256 (exit 21)" 21 "does not match its manifest" "database ${db}_badsha is left as it is" "DROP DATABASE"
cp "$work/bk-good.manifest" "$bk_manifest"

# Retention: keep = 2 of environment staging (connection from dbname_env), after 3 backups.
export BK_STAGING_URL="$bk_conn"
for i in 1 2 3; do bk_run backup --env staging; done
expect "three backups of staging" 0 "removed by retention (keep = 2)"
bk_count=$(ls "$bk_proj"/backups/staging/*.pgmig-backup | wc -l)
bk_mcount=$(ls "$bk_proj"/backups/staging/*.manifest.json | wc -l)
if [ "$bk_count" = 2 ] && [ "$bk_mcount" = 2 ]; then pass "retention keeps the newest 2"; else fail "retention keeps the newest 2" "$(ls "$bk_proj/backups/staging")"; fi
bk_run backup list --env staging
expect "backup list --env staging" 0 "ledger_version"
unset BK_STAGING_URL

# Passphrase from key_env (scrypt); its key id differs; verify needs the same passphrase.
cat >"$bk_proj/pgmig.toml" <<TOML
[backup]
dir = "$bk_proj/backups"
key_env = "BK_PASSPHRASE"

[environments.vault]
dbname = "dbname=$db"
TOML
export BK_PASSPHRASE="$bk_pass"
bk_run backup --env vault
expect "backup with a passphrase (key_env)" 0 "backup written"
bk_vfile=$(ls "$bk_proj"/backups/vault/*.pgmig-backup | head -1)
bk_run backup verify --env vault "$bk_vfile"
expect "verify with the passphrase" 0 "ok $bk_vfile"
if grep -q '"kdf": "scrypt"' "$bk_vfile.manifest.json"; then pass "manifest says scrypt"; else fail "manifest says scrypt" "$(cat "$bk_vfile.manifest.json")"; fi
export BK_PASSPHRASE="not-$bk_pass"
bk_run backup verify --env vault "$bk_vfile"
expect "verify with another passphrase (exit 20)" 20 "wrong key"
export BK_PASSPHRASE="$bk_pass"
# A failure inside the decryption other than damage (here scrypt out of memory under ulimit -v) is that
# file's error (exit 21), not an internal one, and verify goes on to the next file.
# AddressSanitizer reserves terabytes of address space at start, so a sanitized binary cannot run under
# ulimit -v at all (scripts/test-sanitize sets PGMIG_SANITIZED): the check runs in the ordinary suite.
if [ -n "${PGMIG_SANITIZED:-}" ]; then
    echo "skip: verify under ulimit -v (not possible with AddressSanitizer)"
else
bk_oom_out=$(cd "$bk_proj" && (ulimit -v 50000; "$bin" backup verify --env vault "$bk_vfile" "$work/not-a-backup.pgmig-backup") 2>&1; echo "rc=$?")
if grep -q "could not be decrypted" <<<"$bk_oom_out" && grep -q "FAILED $work/not-a-backup.pgmig-backup" <<<"$bk_oom_out" &&
    grep -q "rc=21" <<<"$bk_oom_out" && ! grep -q "report this as a bug" <<<"$bk_oom_out"
then pass "verify: a decryption failure (scrypt out of memory) is the file's error, the next file is checked"
else fail "verify: a decryption failure (scrypt out of memory) is the file's error, the next file is checked" "$bk_oom_out"; fi
printf '%s\n' "$bk_oom_out" >>"$bk_all_output"
fi
PGMIG_BACKUP_KEY_FILE="$bk_proj/backup.key" bk_run backup verify --env vault "$bk_vfile"
expect "PGMIG_BACKUP_KEY_FILE wins over key_env (exit 20: a raw key for a passphrase backup)" 20 "wrong key"
unset BK_PASSPHRASE

# pg_dump failing (no such database): exit 19, nothing left behind.
bk_run backup -d "dbname=${db}_nonexistent password=$bk_password" --out "$work/bk-failing" --key-file "$bk_proj/backup.key"
expect "backup of a missing database fails (exit 4)" 4 "${db}_nonexistent"
if [ -z "$(find "$work/bk-failing" -type f 2>/dev/null)" ]; then pass "a failed backup leaves no file"; else fail "a failed backup leaves no file" "$(find "$work/bk-failing" -type f)"; fi

# The password reaches pg_dump through PGPASSWORD, never its argv (visible in ps): a wrapper records both.
bk_bindir="$work/bk-bin"
mkdir -p "$bk_bindir"
bk_real_dump="$(dirname "$(command -v pg_dump)")/pg_dump"
[ -n "${PGMIG_PG_BINDIR:-}" ] && bk_real_dump="$PGMIG_PG_BINDIR/pg_dump"
cat >"$bk_bindir/pg_dump" <<SH
#!/bin/sh
echo "argv: \$*" >>"$work/bk-dump-args"
[ "\$PGPASSWORD" = "$bk_password" ] && echo "PGPASSWORD set" >>"$work/bk-dump-args"
exec "$bk_real_dump" "\$@"
SH
chmod +x "$bk_bindir/pg_dump"
PGMIG_PG_BINDIR="$bk_bindir" bk_run backup -d "$bk_conn" --key-file "$bk_proj/backup.key" --out "$work/wrapped"
expect "backup through the pg_dump wrapper" 0 "backup written"
if grep -q "PGPASSWORD set" "$work/bk-dump-args" && grep -q "argv: -Fc --snapshot=" "$work/bk-dump-args" &&
    ! grep -qF -- "$bk_password" "$work/bk-dump-args"
then pass "pg_dump gets the password in PGPASSWORD, not in argv"; else fail "pg_dump gets the password in PGPASSWORD, not in argv" "$(sed "s/$bk_password/<PASSWORD>/g" "$work/bk-dump-args")"; fi
# sslpassword has no environment variable: refused (exit 19) before pg_dump/pg_restore could get it in argv.
bk_sslpw="sslpw-$RANDOM-SeCrEt-$$"
PGMIG_PG_BINDIR="$bk_bindir" bk_run backup -d "$bk_conn sslpassword=$bk_sslpw" --key-file "$bk_proj/backup.key" --out "$work/wrapped-ssl"
expect "backup with sslpassword is refused (exit 19)" 19 "sslpassword" "service file"
bk_run restore "$bk_file" --to "${db}_sslpw" --key-file "$bk_proj/backup.key" -d "dbname=postgres sslpassword=$bk_sslpw"
expect "restore with sslpassword is refused (exit 19)" 19 "sslpassword"
if ! grep -qF -- "$bk_sslpw" "$work/bk-dump-args" && [ "$(sql postgres "SELECT count(*) FROM pg_database WHERE datname = '${db}_sslpw'")" = 0 ]
then pass "sslpassword never reaches pg_dump's argv; restore creates no database"; else fail "sslpassword never reaches pg_dump's argv; restore creates no database" "$(sed "s/$bk_sslpw/<SSLPASSWORD>/g" "$work/bk-dump-args")"; fi

# pg_dump failing after some output: exit 19 with pg_dump's message, no partial file, no manifest.
bk_failbin="$work/bk-failbin"
mkdir -p "$bk_failbin"
printf '#!/bin/sh\nprintf "PGDMP some bytes"\necho "pg_dump: error: simulated failure half-way" >&2\nexit 1\n' >"$bk_failbin/pg_dump"
chmod +x "$bk_failbin/pg_dump"
PGMIG_PG_BINDIR="$bk_failbin" bk_run backup -d "$bk_conn" --key-file "$bk_proj/backup.key" --out "$work/dumpfail"
expect "pg_dump failing: exit 19 with its message" 19 "pg_dump failed (exit code 1): pg_dump: error: simulated failure half-way" "no backup was written"
if [ -z "$(find "$work/dumpfail" -type f 2>/dev/null)" ]; then pass "a failed pg_dump leaves no file"; else fail "a failed pg_dump leaves no file" "$(find "$work/dumpfail" -type f)"; fi

# No secret anywhere: outputs, backups and manifests, the audit log, the server's log.
if [ -f "$(dirname "$PGHOST")/server.log" ]; then pass "the server log is there to be searched"; else fail "the server log is there to be searched" "$(dirname "$PGHOST")/server.log"; fi
bk_leaks=""
for secret in "$bk_key" "$bk_pass" "$bk_password" "$bk_sslpw"; do
    grep -rlF -- "$secret" "$bk_all_output" "$bk_proj/backups" "$bk_proj/logs" "$work/wrapped" 2>/dev/null && bk_leaks+=" ${secret:0:6}..."
    grep -lF -- "$secret" "$(dirname "$PGHOST")/server.log" 2>/dev/null && bk_leaks+=" (server log)"
done
if [ -z "$bk_leaks" ]; then pass "no key, passphrase or password in outputs, backups, manifests or logs"; else fail "secrets leaked" "$bk_leaks"; fi

# Sealing and verifying a long audit chain hold one batch of it in memory, not the chain: the trail of a
# busy database reaches millions of rows, and pgmig health runs migrate_audit_verify() on every check.
# Both read every row into memory at once before (about 2 KB per row: 2 GB at a million rows, and a
# backend that runs out of memory takes the server through crash recovery if the kernel kills it). Here
# the verifying session's address space is capped (prlimit) 200 MB above what it maps before the call,
# under a trail that needed several times that. Sourced by run.sh (see lib.sh).

newdb chaindb
chain_rows=300000
# Rows as the trail holds them, written directly (much faster than running the DDL); nothing seals them
# before the capped session does.
sql "$chaindb" "INSERT INTO pgmig.ddl_audit (at, current_user_name, event, command_tag, statement, policy,
                                            object_type, object_identity)
                SELECT pg_catalog.now() - interval '1 year' + g * interval '1 second', 'postgres',
                       'ddl_command_end', 'CREATE TABLE', 'CREATE TABLE t_' || g || ' (id int, note text)', 'log',
                       'table', 'public.t_' || g
                  FROM pg_catalog.generate_series(1, $chain_rows) g" >/dev/null
# cap PID: limits the address space of the backend PID to 200 MB more than it maps now, as the user the
# backend runs as (the postgres OS user when we are root: lowering a limit of one's own process needs no
# privilege, another user's needs CAP_SYS_RESOURCE).
cat >"$work/cap_backend.sh" <<'SH'
size_kb=$(awk '/^VmSize:/ {print $2}' "/proc/$1/status")
as_owner=()
owner=$(stat -c %U "/proc/$1")
[ "$owner" = "$(id -un)" ] || as_owner=(runuser -u "$owner" --)
"${as_owner[@]}" prlimit --pid "$1" --as=$(( (size_kb + 200 * 1024) * 1024 )) && echo "capped"
SH
capped_out=$(psql -X -A -t -q -d "$chaindb" 2>&1 <<SQL
SELECT pg_backend_pid() AS pid \gset
\setenv CAP_PID :pid
\! bash $work/cap_backend.sh "\$CAP_PID"
SELECT 'seal', sealed, first_broken_id IS NULL FROM migrate_audit_verify();
SELECT 'walk', checked, sealed, unsealed, first_broken_id IS NULL FROM migrate_audit_verify();
SQL
)
check "long chain: the session is capped" "$(grep -c '^capped$' <<<"$capped_out")" 1
check "long chain: $chain_rows rows sealed in a capped session" "$(grep '^seal|' <<<"$capped_out")" "seal|$chain_rows|t"
check "long chain: $chain_rows rows verified in a capped session" "$(grep '^walk|' <<<"$capped_out")" \
    "walk|$chain_rows|0|0|t"
# The batches make one chain: an edit deep in it is found, at its position.
edited=$(sql "$chaindb" "SELECT id FROM pgmig.ddl_audit WHERE chain_seq = 123457")
sql "$chaindb" "ALTER TABLE pgmig.ddl_audit DISABLE TRIGGER ddl_audit_immutable;
                UPDATE pgmig.ddl_audit SET statement = 'CREATE TABLE forged (id int)' WHERE chain_seq = 123457;
                ALTER TABLE pgmig.ddl_audit ENABLE ALWAYS TRIGGER ddl_audit_immutable" >/dev/null
check "long chain: an edit in a later batch is found" \
    "$(sql "$chaindb" "SELECT checked >= $chain_rows, first_broken_id FROM migrate_audit_verify()")" "t|$edited"

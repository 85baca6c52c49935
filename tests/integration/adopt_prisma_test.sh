# pgmig adopt from Prisma. Prisma's CLI cannot run here (its schema engine is downloaded at install time
# from outside the npm registry: docs/adopting.md), so the database is migrated as `prisma migrate deploy`
# does it: its _prisma_migrations table with Prisma's own definition (schema-engine, the PostgreSQL
# flavour's create_migrations_table), a row per migration started, the migration.sql run, the row
# finished. pgmig adopt takes it over (matched by the migration's folder name); a failed migration
# (finished_at and rolled_back_at NULL) is refused; once resolved as rolled back it stays pending.
# Sourced by run.sh.
. "$here/adopt_lib.sh"

apr="$work/adopt_prisma"
cp -r "$root/tests/adoption/prisma-real" "$apr"
apr_migs="$apr/prisma/migrations"
apr_deploy() {  # DB NAME [fail]: what prisma migrate deploy does for one migration
    local file="$apr_migs/$2/migration.sql" id
    id=$(sql "$1" "SELECT gen_random_uuid()")
    sql "$1" "CREATE TABLE IF NOT EXISTS _prisma_migrations (
                  id                      VARCHAR(36) PRIMARY KEY NOT NULL,
                  checksum                VARCHAR(64) NOT NULL,
                  finished_at             TIMESTAMPTZ,
                  migration_name          VARCHAR(255) NOT NULL,
                  logs                    TEXT,
                  rolled_back_at          TIMESTAMPTZ,
                  started_at              TIMESTAMPTZ NOT NULL DEFAULT now(),
                  applied_steps_count     INTEGER NOT NULL DEFAULT 0);
              INSERT INTO _prisma_migrations (id, checksum, migration_name, started_at)
              VALUES ('$id', '$(sha256sum "$file" | cut -d' ' -f1)', '$2', now())" >/dev/null
    if psql -X -q -v ON_ERROR_STOP=1 -d "$1" -f "$file" >/dev/null 2>&1; then
        sql "$1" "UPDATE _prisma_migrations SET finished_at = now(), applied_steps_count = applied_steps_count + 1
                   WHERE id = '$id'" >/dev/null
    else
        sql "$1" "UPDATE _prisma_migrations SET logs = 'Database error code: 42P01' WHERE id = '$id'" >/dev/null
    fi
}
apr_files='[{"version": "20240101100000", "tool_id": "20240101100000_create_users"},
            {"version": "20240102100000", "tool_id": "20240102100000_create_orders"},
            {"version": "20240103100000", "tool_id": "20240103100000_add_total"}]'

newdb apr_db
apr_deploy "$apr_db" 20240101100000_create_users
apr_deploy "$apr_db" 20240102100000_create_orders
expect_value "migrate_adopt reads _prisma_migrations" "$(adopt_states "$apr_db" prisma "$apr_files")" \
    "20240101100000:adopt 20240102100000:adopt 20240103100000:pending"
mkdir -p "$apr_migs/20240103100000_add_total"
printf -- '-- AlterTable\nALTER TABLE "Order" ADD COLUMN "total" DECIMAL(65,30);\n' >"$apr_migs/20240103100000_add_total/migration.sql"
run adopt --yes --from prisma --dir "$apr_migs" -d "dbname=$apr_db"
expect "pgmig adopt takes over Prisma's history" 0 "adopted 2 migrations from Prisma's history" "1 pending"
run status --dir "$apr_migs" -d "dbname=$apr_db"
expect "status: Prisma's migrations applied" 0 "2 applied, 1 pending"
run apply --dir "$apr_migs" -d "dbname=$apr_db"
expect "a new migration applies on top" 0 "1 applied"

# A migration that failed: Prisma leaves its row unfinished.
printf -- '-- AlterTable\nALTER TABLE "Order" ADD COLUMN "total" DECIMAL(65,30);\nALTER TABLE "NoSuch" ADD COLUMN "x" INTEGER;\n' \
    >"$apr_migs/20240103100000_add_total/migration.sql"
newdb apr_fail
apr_deploy "$apr_fail" 20240101100000_create_users
apr_deploy "$apr_fail" 20240102100000_create_orders
apr_deploy "$apr_fail" 20240103100000_add_total
expect_value "migrate_adopt sees the failed migration" "$(adopt_states "$apr_fail" prisma "$apr_files")" \
    "20240101100000:adopt 20240102100000:adopt 20240103100000:failed"
run adopt --yes --from prisma --dir "$apr_migs" -d "dbname=$apr_fail"
expect "a failed Prisma migration is refused" 52 "Prisma recorded it as failed" "prisma migrate resolve"
# prisma migrate resolve --rolled-back 20240103100000_add_total
sql "$apr_fail" "UPDATE _prisma_migrations SET rolled_back_at = now() WHERE migration_name = '20240103100000_add_total'" >/dev/null
run adopt --yes --from prisma --dir "$apr_migs" -d "dbname=$apr_fail"
expect "resolved as rolled back, it stays pending" 0 "adopted 2 migrations" "1 pending"

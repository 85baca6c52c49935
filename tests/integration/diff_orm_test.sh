# The desired schema from an ORM: schema = "drizzle:src/db/schema.ts" / "prisma:prisma/schema.prisma" in
# pgmig.toml (or --schema / --to). pgmig runs the project's own drizzle-kit export / prisma migrate diff
# (real tools from npm, scripts/install-orm-tools, cached outside the clone) on the sample apps of
# examples/orm, loads the SQL into the shadow and diffs as usual: diff, generate + apply and sync reach the
# fingerprint of a database built by the tool's own SQL; the error cases exit 55. Sourced by run.sh.

orm_fp() { sql "$1" "SELECT migrate_fingerprint()"; }
orm_check() {  # NAME GOT WANT
    if [ "$2" = "$3" ]; then pass "$1"; else fail "$1" "got '$(head -c 200 <<<"$2")', expected '$(head -c 200 <<<"$3")'"; fi
}
orm_run() {  # FOLDER ARGS...: pgmig ARGS in the project folder FOLDER (as a user runs it there)
    local dir=$1
    shift
    pushd "$dir" >/dev/null || return
    run "$@"
    popd >/dev/null || return
}
orm_tools=${PGMIG_ORM_TOOLS:-/var/cache/pgmig/orm-tools}
# The tools are installed (or reused) here: without the npm registry and without a cache this FAILS.
if orm_install=$("$root/scripts/install-orm-tools" 2>&1); then
    pass "the ORM tools are installed ($(tr '\n' ';' <<<"$orm_install"))"
    orm_ready=1
else
    fail "setup: scripts/install-orm-tools" "$(tail -n 5 <<<"$orm_install")"
    orm_ready=0
fi

if [ "$orm_ready" = 1 ]; then
# A copy of a sample app with the cached node_modules, and its pgmig.toml pointing at DB.
orm_project() {  # NAME APP DB
    local dir="$work/$1"
    rm -rf "$dir"
    mkdir -p "$dir"
    cp -r "$root/examples/orm/$2/." "$dir/"
    ln -s "$orm_tools/$2/node_modules" "$dir/node_modules"
    printf '\n[environments.development]\ndbname = "dbname=%s"\n' "$3" >>"$dir/pgmig.toml"
    chmod -R a+rX "$dir"
}

# ---- Drizzle ---------------------------------------------------------------------------------------
newdb dz_db
newdb dz_ref
dz="$work/orm_drizzle"
orm_project orm_drizzle drizzle "$dz_db"
dz_export() { (cd "$dz" && node_modules/.bin/drizzle-kit export --dialect postgresql --schema src/db/schema.ts); }
dz_export >"$work/dz_ref.sql" 2>"$work/dz_ref.err" && sql "$dz_ref" "$(cat "$work/dz_ref.sql")" >/dev/null
orm_check "drizzle-kit export builds the reference database" "$(sql "$dz_ref" "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'")" 2

before=$(orm_fp "$dz_db")
orm_run "$dz" diff -d "dbname=$dz_db"
expect "pgmig diff reads the Drizzle schema through drizzle-kit" 0 'CREATE TABLE public.users' 'CREATE TYPE public.role' \
    'FOREIGN KEY (author_id) REFERENCES public.users(id) ON DELETE CASCADE' 'posts_author_id_idx'
orm_check "diff does not change the target" "$(orm_fp "$dz_db")" "$before"

orm_run "$dz" generate init -d "dbname=$dz_db"
expect "pgmig generate writes the migration from the Drizzle schema" 0 "migrations/" "_init.sql"
if grep -q "^-- desired schema: Drizzle schema src/db/schema.ts (drizzle-kit output" "$dz"/migrations/*_init.sql; then
    pass "the generated file names the Drizzle schema it came from"
else
    fail "generated header" "$(head -n 8 "$dz"/migrations/*_init.sql)"
fi
orm_run "$dz" apply -d "dbname=$dz_db"
expect "the generated migration applies" 0 "1 applied"
orm_check "after apply: the fingerprint of the database drizzle-kit's own SQL builds" "$(orm_fp "$dz_db")" "$(orm_fp "$dz_ref")"

orm_run "$dz" diff --exit-code --to drizzle:src/db/schema.ts -d "dbname=$dz_db"
expect "diff --to drizzle:FILE: no differences left" 0 "no differences"

# The app changes its schema: sync (drizzle-kit push's job) generates and applies it.
# (A new column goes last: a column added in the middle is the column-order limitation of docs/diff.md.)
sed -i 's|^\(    createdAt: .*\)$|\1\n    bio: text("bio"),|' "$dz/src/db/schema.ts"
cat >>"$dz/src/db/schema.ts" <<'EOF'

export const tags = pgTable("tags", {
  id: serial("id").primaryKey(),
  label: text("label").notNull().unique(),
});
EOF
newdb dz_ref2
dz_export >"$work/dz_ref2.sql" && sql "$dz_ref2" "$(cat "$work/dz_ref2.sql")" >/dev/null
orm_run "$dz" sync --env development
expect "pgmig sync --env development applies the changed Drizzle schema" 0 "wrote migrations/" "_sync.sql"
orm_check "after sync: the fingerprint of drizzle-kit's SQL of the new schema" "$(orm_fp "$dz_db")" "$(orm_fp "$dz_ref2")"

# A drizzle.config.ts brings the project's own settings: drizzle:drizzle.config.ts runs export --config.
cat >"$dz/drizzle.config.ts" <<'EOF'
import { defineConfig } from "drizzle-kit";
export default defineConfig({ dialect: "postgresql", schema: "./src/db/schema.ts" });
EOF
orm_run "$dz" diff --schema drizzle:drizzle.config.ts -d "dbname=$dz_db"
expect "--schema drizzle:drizzle.config.ts runs drizzle-kit export --config" 0 "no differences"

# A dropped column is destructive: withheld by sync, as by generate.
sed -i '/    bio: text("bio"),/d' "$dz/src/db/schema.ts"
orm_run "$dz" sync --env development
expect "sync withholds the drop of a column removed from the Drizzle schema" 32 "withheld (destructive)" "public.users.bio"
orm_check "the column stays" "$(sql "$dz_db" "SELECT count(*) FROM information_schema.columns WHERE table_name = 'users' AND column_name = 'bio'")" 1


# ---- Prisma ----------------------------------------------------------------------------------------
# Prisma's schema engine program is downloaded from outside the npm registry: the test runs Prisma's
# JavaScript schema engine (examples/orm/prisma/prisma.config.ts), which connects to a database without a
# password and writes nothing to it.
export PRISMA_JS_SCHEMA_ENGINE=1
export DATABASE_URL="postgresql://$PGUSER@localhost/postgres?host=$PGHOST&port=$PGPORT"
newdb pr_db
newdb pr_ref
pr="$work/orm_prisma"
orm_project orm_prisma prisma "$pr_db"
(cd "$pr" && node_modules/.bin/prisma migrate diff --from-empty --to-schema-datamodel prisma/schema.prisma --script) \
    >"$work/pr_ref.sql" 2>"$work/pr_ref.err" && sql "$pr_ref" "$(cat "$work/pr_ref.sql")" >/dev/null
orm_check "prisma migrate diff builds the reference database" "$(sql "$pr_ref" "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'")" 2
orm_run "$pr" diff -d "dbname=$pr_db"
expect "pgmig diff reads the Prisma schema through prisma migrate diff" 0 'CREATE TABLE public.users' \
    'CREATE TYPE public."Role"' 'REFERENCES public.users(id) ON UPDATE CASCADE ON DELETE CASCADE' 'posts_author_id_idx'
orm_run "$pr" generate init -d "dbname=$pr_db"
expect "pgmig generate writes the migration from the Prisma schema" 0 "migrations/" "_init.sql"
orm_run "$pr" apply -d "dbname=$pr_db"
expect "the Prisma migration applies" 0 "1 applied"
orm_check "after apply: the fingerprint of the database Prisma's own SQL builds" "$(orm_fp "$pr_db")" "$(orm_fp "$pr_ref")"
orm_check "Prisma's JavaScript engine wrote nothing to the database it connected to" \
    "$(sql postgres "SELECT count(*) FROM pg_class WHERE relnamespace = 'public'::regnamespace")" 0

# A schema Prisma refuses: exit 55 with Prisma's own message.
printf '\nmodel Broken {\n  id Int @id\n  owner Nope\n}\n' >>"$pr/prisma/schema.prisma"
orm_run "$pr" diff -d "dbname=$pr_db"
expect "a bad Prisma schema: exit 55 with prisma's message" 55 "prisma failed" 'Type "Nope" is neither a built-in type'
unset PRISMA_JS_SCHEMA_ENGINE DATABASE_URL

# ---- errors ----------------------------------------------------------------------------------------
# The tool is not installed in the project: which package to install, and where pgmig looked.
newdb orm_err
bare="$work/orm_bare"
orm_project orm_bare drizzle "$orm_err"
rm "$bare/node_modules"
orm_run "$bare" diff -d "dbname=$orm_err"
expect "drizzle-kit missing: exit 55 with the npm install hint" 55 "drizzle-kit is not installed in the project" \
    "npm install -D drizzle-kit drizzle-orm" "looked in $bare/node_modules/.bin"
orm_run "$bare" diff --schema prisma:prisma/schema.prisma -d "dbname=$orm_err"
expect "prisma:FILE with no schema file: exit 55 naming the file" 55 "the Prisma schema file does not exist" "prisma/schema.prisma"
mkdir -p "$bare/prisma" && cp "$root/examples/orm/prisma/prisma/schema.prisma" "$bare/prisma/"
orm_run "$bare" diff --schema prisma:prisma/schema.prisma -d "dbname=$orm_err"
expect "prisma missing: exit 55 with the npm install hint" 55 "prisma is not installed in the project" "npm install -D prisma"

# A schema file drizzle-kit cannot read: exit 55 with its message; the target is not touched.
ln -s "$orm_tools/drizzle/node_modules" "$bare/node_modules"
printf 'export const broken = pgTable("x", {\n' >"$bare/src/db/schema.ts"
orm_run "$bare" diff -d "dbname=$orm_err"
expect "a bad Drizzle schema: exit 55 with drizzle-kit's message" 55 "drizzle-kit failed" "schema.ts:2:0: ERROR: Expected identifier but found end of file"
orm_check "nothing was made on the server" "$(sql postgres "SELECT count(*) FROM pg_database WHERE datname LIKE 'pgmig_shadow_%'")" 0
printf '// nothing here\n' >"$bare/src/db/schema.ts"
orm_run "$bare" diff -d "dbname=$orm_err"
expect "a Drizzle schema that defines nothing: exit 55" 55 "drizzle-kit printed no SQL"

# Node.js missing.
cp "$root/examples/orm/drizzle/src/db/schema.ts" "$bare/src/db/schema.ts"
pushd "$bare" >/dev/null && { PATH=/nonexistent "$bin" diff -d "dbname=$orm_err" >"$work/out" 2>"$work/err"; rc=$?; }
popd >/dev/null
out=$(cat "$work/out") err=$(cat "$work/err")
expect "Node.js missing: exit 55" 55 "Node.js is not installed"

# The tool's environment holds no PG* variable (PGPASSWORD!), and it runs in the project folder.
fake="$work/orm_fake"
orm_project orm_fake drizzle "$orm_err"
rm "$fake/node_modules"
mkdir -p "$fake/node_modules/.bin"
printf '#!/bin/sh\necho "cwd=$(pwd) pgvars=$(env | grep -c "^PG")" >&2\nexit 3\n' >"$fake/node_modules/.bin/drizzle-kit"
chmod +x "$fake/node_modules/.bin/drizzle-kit"
mkdir -p "$fake/sub" && pushd "$fake/sub" >/dev/null && PGPASSWORD=orm-secret-pw run diff --schema drizzle:../src/db/schema.ts -d "dbname=$orm_err"; popd >/dev/null
expect "the tool runs in the package folder without PG* variables" 55 "drizzle-kit failed (exit 3): cwd=$fake pgvars=0"
printf '#!/bin/sh\nsleep 30\n' >"$fake/node_modules/.bin/drizzle-kit"
PGMIG_ORM_TIMEOUT=1 orm_run "$fake" diff -d "dbname=$orm_err"
expect "a tool that hangs is stopped after PGMIG_ORM_TIMEOUT" 55 "did not finish within 1 s"
fi

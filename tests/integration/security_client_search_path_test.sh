# A database owner plants, in a schema it puts before pg_catalog on the database's search_path, an
# operator, a function and a cast that shadow PostgreSQL's built-in ones and record who ran them. The
# superuser's pgmig must never run them: every command refuses such a session right after connecting
# (exit 44) and does nothing else; PGOPTIONS overrides the setting for pgmig's session.
# Sourced by run.sh (see lib.sh for the helpers).

csp_owner="it_csp_owner_$$"
psql -X -q -d postgres -c "CREATE ROLE $csp_owner LOGIN" >/dev/null
newdb csp_db
sql "$csp_db" "ALTER DATABASE $csp_db OWNER TO $csp_owner" >/dev/null
# The owner's plants: every call is logged with the role that ran it (a superuser running one is the attack).
psql -X -q -v ON_ERROR_STOP=1 -d "dbname=$csp_db" -U "$csp_owner" >/dev/null <<'SQL'
CREATE SCHEMA csp_evil;
CREATE TABLE csp_evil.ran (what text, by_role name, super boolean);
GRANT INSERT ON csp_evil.ran TO PUBLIC;
GRANT USAGE ON SCHEMA csp_evil TO PUBLIC;
CREATE FUNCTION csp_evil.log_call(what text) RETURNS boolean LANGUAGE sql AS $$
    INSERT INTO csp_evil.ran SELECT what, current_user, (SELECT rolsuper FROM pg_catalog.pg_roles
                                                      WHERE rolname OPERATOR(pg_catalog.=) current_user);
    SELECT true $$;
CREATE FUNCTION csp_evil.text_eq(a text, b text) RETURNS boolean LANGUAGE sql AS $$
    SELECT csp_evil.log_call('text = text') AND a OPERATOR(pg_catalog.=) b $$;
CREATE OPERATOR csp_evil.= (LEFTARG = text, RIGHTARG = text, FUNCTION = csp_evil.text_eq);
CREATE FUNCTION csp_evil.name_eq(a name, b name) RETURNS boolean LANGUAGE sql AS $$
    SELECT csp_evil.log_call('name = name') AND a OPERATOR(pg_catalog.=) b $$;
CREATE OPERATOR csp_evil.= (LEFTARG = name, RIGHTARG = name, FUNCTION = csp_evil.name_eq);
CREATE FUNCTION csp_evil.now() RETURNS timestamptz LANGUAGE sql AS $$
    SELECT csp_evil.log_call('now()') AND true; SELECT pg_catalog.now() $$;
CREATE FUNCTION csp_evil.count(bigint) RETURNS bigint LANGUAGE sql AS $$
    SELECT csp_evil.log_call('count(bigint)') AND true; SELECT $1 $$;
SQL
sql "$csp_db" "ALTER DATABASE $csp_db SET search_path = csp_evil, pg_catalog, public" >/dev/null
csp_proj="$work/client_search_path"
mig "$csp_proj/migrations" 1_things.sql "CREATE TABLE things (id int, name text);
INSERT INTO things VALUES (1, 'a');" "DROP TABLE things;"
mig "$csp_proj/migrations" 2_more.sql "INSERT INTO things SELECT 2, name FROM things WHERE name = 'a';" \
    "DELETE FROM things WHERE id = 2;"
csp_run() { (cd "$csp_proj" && "$bin" "$@") >"$work/out" 2>"$work/err"; rc=$?; out=$(cat "$work/out"); err=$(cat "$work/err"); }
csp_ran() { sql "$csp_db" "SELECT coalesce(string_agg(DISTINCT what || ' by ' || by_role, ', '), 'nothing') FROM csp_evil.ran"; }

# What it shows: a superuser's own query under this search_path runs the owner's operator.
sql "$csp_db" "SELECT 'a'::text = 'a'::text" >/dev/null
if [ "$(csp_ran)" != nothing ]; then pass "the planted operator runs for a superuser's own query (the attack is live)";
else fail "the planted operator runs for a superuser's own query (the attack is live)" "nothing ran"; fi
sql "$csp_db" "TRUNCATE csp_evil.ran" >/dev/null

for cmd in apply status validate drift audit rollback "audit verify" check-integrity plan; do
    # shellcheck disable=SC2086
    csp_run $cmd -d "dbname=$csp_db"
    expect "$cmd refuses a search_path with a schema before pg_catalog (exit 44)" 44 \
        'search_path puts csp_evil before pg_catalog' "nothing was done" "PGOPTIONS"
done
csp_run health -d "dbname=$csp_db"
expect "health reports the search_path as a failed connection (exit 4)" 4 \
    'search_path puts csp_evil before pg_catalog' "cannot reach"
if [ "$(csp_ran)" = nothing ]; then pass "nothing planted ran in any pgmig command"; else fail "nothing planted ran in any pgmig command" "$(csp_ran)"; fi
if [ "$(sql "$csp_db" "SELECT count(*) FROM pg_tables WHERE tablename = 'things'")" = 0 ]; then
    pass "nothing was applied"
else
    fail "nothing was applied" "table things exists"
fi

# PGOPTIONS sets pgmig's session search_path over the database's: the migrations run, nothing planted does.
PGOPTIONS='-c search_path=public' csp_run apply -d "dbname=$csp_db"
expect "apply with PGOPTIONS='-c search_path=public'" 0 "applied 1_things" "applied 2_more"
PGOPTIONS='-c search_path=public' csp_run rollback -d "dbname=$csp_db"
expect "rollback with PGOPTIONS" 0
if [ "$(csp_ran)" = nothing ] && [ "$(sql "$csp_db" "SELECT count(*) FROM public.things")" = 1 ]; then
    pass "nothing planted ran; the migrations found their table through search_path"
else
    fail "nothing planted ran; the migrations found their table through search_path" "$(csp_ran)"
fi

# A schema after pg_catalog is no threat pgmig refuses: an exact built-in match always wins there.
sql "$csp_db" "ALTER DATABASE $csp_db SET search_path = public, csp_evil" >/dev/null
csp_run status -d "dbname=$csp_db"
expect "a schema after pg_catalog (implicit first) is accepted" 0
sql "$csp_db" "ALTER DATABASE $csp_db RESET search_path" >/dev/null

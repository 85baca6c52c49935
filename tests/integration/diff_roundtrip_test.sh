# Round trip of the schema diff over tests/diff_corpus: for every pair A/B and both directions,
# `pgmig generate` in a database built from one side, with the other side as the schema folder, must give
# migrations that pass migrate_lint, apply to exactly the other side's fingerprint and roll back to exactly
# the first side's. Also: destructive steps are withheld (exit 32) without --allow-destructive, a probable
# rename is refused (exit 33) with --allow-destructive and no --rename, an empty diff writes nothing.
# Sourced by run.sh (see lib.sh for the helpers). PGMIG_CORPUS=NN_name,... runs only those pairs.

corpus="$root/tests/diff_corpus"
rt="$work/roundtrip"
mkdir -p "$rt"
chmod 755 "$rt"
rt_ok=0
rt_failed=0
rt_failures=()

# The roles the corpus grants to are cluster-wide: created once, tolerated when they exist already.
if ! psql -X -q -v ON_ERROR_STOP=1 -d postgres -f "$corpus/roles.sql" >"$work/roles.out" 2>&1; then
    fail "diff roundtrip: setup" "cannot create the corpus roles: $(head -c 300 "$work/roles.out")"
fi

# rt_load DB FILE MIGS: FILE run by psql (newdb made the extension), then registered as migration 1 in MIGS and marked
# applied with `pgmig baseline`, so that the database has a ledger whose expected schema is FILE's. --force: the
# database is FILE's by construction, and baseline's check (a shadow database per pair, minutes over the corpus)
# is tested in baseline_check_test.sh.
rt_load() {
    local db=$1 file=$2 migs=$3
    psql -X -q -v ON_ERROR_STOP=1 -d "$db" -f "$file" >"$work/load.out" 2>&1 ||
        { echo "loading ${file#"$corpus"/} failed: $(head -c 300 "$work/load.out")"; return 1; }
    mkdir -p "$migs"
    { echo "-- pgmig:up"; cat "$file"; } >"$migs/1_schema.sql"
    run baseline 1 --force --dir "$migs" -d "dbname=$db"
    [ "$rc" -eq 0 ] || { echo "pgmig baseline exit $rc: $(head -c 300 <<<"$err")"; return 1; }
}

# rt_objects DB FILE: the database's canonical objects, one "key<TAB>description" line each, sorted.
rt_objects() {
    psql -X -A -t -q -F $'\t' -v ON_ERROR_STOP=1 -d "$1" \
        -c "SELECT object_key, description::text FROM pgmig.snapshot_objects() ORDER BY object_key" >"$2"
}
rt_fingerprint() { sql "$1" "SELECT migrate_fingerprint()"; }

# rt_explain WANT_FILE DB: which objects differ between the saved objects and the database's, with both descriptions.
rt_explain() {
    rt_objects "$2" "$work/have.tsv"
    python3 - "$1" "$work/have.tsv" <<'PY'
import sys
def load(p):
    d = {}
    for line in open(p, encoding="utf-8"):
        if "\t" in line:
            k, v = line.rstrip("\n").split("\t", 1)
            d[k] = v
    return d
want, have = load(sys.argv[1]), load(sys.argv[2])
for k in sorted(set(want) | set(have)):
    if want.get(k) != have.get(k):
        print(f"    {k}\n      want: {want.get(k, '(missing)')}\n      have: {have.get(k, '(missing)')}")
PY
}

# rt_section FILE up|down: the text of one section of a migration file.
rt_section() {
    awk -v want="$2" '/^-- pgmig:(up|down)[[:space:]]*$/ { sec = $2; sub(/^pgmig:/, "", sec); next } sec == want' "$1"
}

# rt_lint DB FILE: error-level findings of migrate_lint on FILE's up section (non-transactional if the file says so).
rt_lint() {
    local opts='{}'
    if grep -q '^-- pgmig:no-transaction' "$2"; then opts='{"transactional": false}'; fi
    rt_section "$2" up >"$work/lint.sql"
    psql -X -A -t -q -v ON_ERROR_STOP=1 -d "$1" -v opts="$opts" 2>&1 <<'SQL'
\set up `cat "$PGMIG_RT_LINT"`
SELECT rule || ' (line ' || coalesce(line::text, '?') || '): ' || message
  FROM migrate_lint(:'up', :'opts'::jsonb) WHERE severity = 'error' AND NOT waived;
SQL
}

# rt_direction DB FROM_OBJECTS TO_OBJECTS TO_SQL MIGS ARGS...: one direction of one pair; prints the reason
# and returns 1 on failure; on success prints a note, if any.
rt_direction() {
    local db=$1 from_objs=$2 to_objs=$3 to_sql=$4 migs=$5
    shift 5
    local schema="$migs.schema" before after f
    mkdir -p "$schema"
    cp "$to_sql" "$schema/schema.sql"
    chmod -R a+rX "$schema" "$migs"
    local fp_from fp_to
    fp_from=$(rt_fingerprint "$db")
    fp_to=$(cut -f1 "$to_objs.fp")
    before=$(cd "$migs" && ls)
    run generate roundtrip --schema "$schema" --dir "$migs" --allow-destructive "$@" -d "dbname=$db"
    if [ "$rc" -ne 0 ]; then
        echo "pgmig generate exit $rc: $(head -c 600 <<<"$err")"
        return 1
    fi
    after=$(cd "$migs" && ls)
    local new=()
    while read -r f; do [ -n "$f" ] && new+=("$f"); done < <(comm -13 <(sort <<<"$before") <(sort <<<"$after"))
    if [ "$fp_from" = "$fp_to" ]; then
        if [ ${#new[@]} -ne 0 ]; then echo "identical schemas, but generate wrote ${new[*]}"; return 1; fi
        if ! grep -q "nothing to do" <<<"$err"; then echo "identical schemas, but generate does not say 'nothing to do': $err"; return 1; fi
        return 0
    fi
    if [ ${#new[@]} -eq 0 ]; then echo "the schemas differ, but generate wrote no file (stdout: $(head -c 300 <<<"$out"))"; return 1; fi
    local findings
    for f in "${new[@]}"; do
        findings=$(PGMIG_RT_LINT="$work/lint.sql" rt_lint "$db" "$migs/$f")
        if [ -n "$findings" ]; then
            echo "migrate_lint errors in the up section of $f: $findings"
            sed 's/^/    | /' "$migs/$f"
            return 1
        fi
    done
    run apply --dir "$migs" -d "dbname=$db"
    if [ "$rc" -ne 0 ]; then
        echo "pgmig apply exit $rc: $(head -c 600 <<<"$err")"
        for f in "${new[@]}"; do echo "  $f:"; sed 's/^/    | /' "$migs/$f"; done
        return 1
    fi
    if [ "$(rt_fingerprint "$db")" != "$fp_to" ]; then
        echo "after up, the fingerprint differs from the desired schema's:"
        rt_explain "$to_objs" "$db"
        for f in "${new[@]}"; do echo "  $f:"; sed 's/^/    | /' "$migs/$f"; done
        return 1
    fi
    # pgmig rollback runs the whole down: the transactional migration in a transaction, the no-transaction
    # one (CONCURRENTLY, VALIDATE) statement by statement, newest first.
    run rollback --steps ${#new[@]} --yes -d "dbname=$db"  # the downs drop what the ups created: consent
    if [ "$rc" -ne 0 ]; then
        echo "pgmig rollback --steps ${#new[@]} exit $rc: $(head -c 600 <<<"$err")"
        for f in "${new[@]}"; do echo "  $f:"; sed 's/^/    | /' "$migs/$f"; done
        return 1
    fi
    if [ "$(sql "$db" "SELECT count(*) FROM pgmig.migrations WHERE version IS NOT NULL AND applied_at IS NOT NULL")" != 1 ]; then
        echo "after pgmig rollback, the ledger does not have only migration 1 applied"
        return 1
    fi
    if [ "$(rt_fingerprint "$db")" != "$fp_from" ]; then
        echo "after down, the fingerprint differs from the original schema's:"
        rt_explain "$from_objs" "$db"
        for f in "${new[@]}"; do echo "  $f:"; sed 's/^/    | /' "$migs/$f"; done
        return 1
    fi
}

# rt_swap ARGS...: the reverse direction's options: each --rename OLD=NEW becomes --rename NEW=OLD.
rt_swap() {
    local prev="" a
    for a in "$@"; do
        if [ "$prev" = --rename ]; then printf '%s\n' "${a#*=}=${a%%=*}"; else printf '%s\n' "$a"; fi
        prev=$a
    done
}

rt_report() {  # NAME REASON|"" SUFFIX
    if [ -z "$2" ]; then
        rt_ok=$((rt_ok + 1))
        pass "diff roundtrip $1$3"
    else
        rt_failed=$((rt_failed + 1))
        rt_failures+=("$1")
        fail "diff roundtrip $1" "$2"
    fi
}

for pair_dir in "$corpus"/[0-9][0-9]*_*/; do
    pair=$(basename "$pair_dir")
    if [ -n "${PGMIG_CORPUS:-}" ] && [[ ",$PGMIG_CORPUS," != *",$pair,"* ]]; then continue; fi
    args=() why="" why2=""
    if [ -f "$pair_dir/args" ]; then read -r -a args <"$pair_dir/args"; fi
    rev=()
    while read -r a; do [ -n "$a" ] && rev+=("$a"); done < <(rt_swap "${args[@]}")
    d="$rt/$pair"
    mkdir -p "$d"
    newdb rt_a || continue
    newdb rt_b || continue
    if ! why=$(rt_load "$rt_a" "$pair_dir/a.sql" "$d/a_migs") || ! why2=$(rt_load "$rt_b" "$pair_dir/b.sql" "$d/b_migs"); then
        rt_report "$pair setup" "${why:-}${why2:-}" ""
        continue
    fi
    rt_objects "$rt_a" "$d/a.tsv"; rt_fingerprint "$rt_a" >"$d/a.tsv.fp"
    rt_objects "$rt_b" "$d/b.tsv"; rt_fingerprint "$rt_b" >"$d/b.tsv.fp"
    # Sides that differ must differ in the snapshot: equal fingerprints where the pair's README does not say
    # "identical schemas" mean the snapshot does not see what the pair changes, and the round trip proves nothing.
    if cmp -s "$d/a.tsv.fp" "$d/b.tsv.fp" && ! grep -q '^identical schemas' "$pair_dir/README"; then
        rt_report "$pair snapshot" "schemas A and B differ, but their snapshots are equal: the snapshot does not describe what this pair changes" ""
        psql -X -q -d postgres -c "DROP DATABASE IF EXISTS $rt_a" -c "DROP DATABASE IF EXISTS $rt_b" >/dev/null 2>&1
        continue
    fi
    if why=$(rt_direction "$rt_a" "$d/a.tsv" "$d/b.tsv" "$pair_dir/b.sql" "$d/a_migs" "${args[@]}"); then
        rt_report "$pair a->b" "" "$why"
    else
        rt_report "$pair a->b" "${why:-failed}" ""
    fi
    if why=$(rt_direction "$rt_b" "$d/b.tsv" "$d/a.tsv" "$pair_dir/a.sql" "$d/b_migs" "${rev[@]}"); then
        rt_report "$pair b->a" "" "$why"
    else
        rt_report "$pair b->a" "${why:-failed}" ""
    fi
    psql -X -q -d postgres -c "DROP DATABASE IF EXISTS $rt_a" -c "DROP DATABASE IF EXISTS $rt_b" >/dev/null 2>&1
done
echo "diff roundtrip: $rt_ok directions ok, $rt_failed failed${rt_failures[*]:+ (${rt_failures[*]})}"

# --- safety: destructive steps withheld, probable renames never guessed -----------------------------------
if [ -z "${PGMIG_CORPUS:-}" ]; then
    s="$rt/safety"
    mkdir -p "$s/drop.schema" "$s/rename.schema"
    cp "$corpus/02_drop_table/b.sql" "$s/drop.schema/schema.sql"
    cp "$corpus/51_rename_column/b.sql" "$s/rename.schema/schema.sql"
    chmod -R a+rX "$s"
    newdb rt_a
    if why=$(rt_load "$rt_a" "$corpus/02_drop_table/a.sql" "$s/drop_migs"); then
        run diff --schema "$s/drop.schema" -d "dbname=$rt_a"
        expect "diff without --allow-destructive withholds DROP TABLE (exit 32)" 32 "public.legacy_audit"
        if grep -q "DROP TABLE" <<<"$out"; then fail "diff prints no withheld step as SQL on stdout" "$out"; else pass "diff prints no withheld step as SQL on stdout"; fi
        fp_before=$(rt_fingerprint "$rt_a")
        run generate dropper --schema "$s/drop.schema" --dir "$s/drop_migs" -d "dbname=$rt_a"
        expect "generate without --allow-destructive exits 32 and names the withheld table" 32 "public.legacy_audit"
        if [ "$(rt_fingerprint "$rt_a")" = "$fp_before" ] &&
            [ "$(sql "$rt_a" "SELECT to_regclass('public.legacy_audit') IS NOT NULL")" = t ]; then
            pass "generate changes nothing in the database"
        else
            fail "generate changes nothing in the database" "legacy_audit is gone or the schema changed"
        fi
        run diff --schema "$s/drop.schema" --allow-destructive -d "dbname=$rt_a"
        expect "diff --allow-destructive prints the DROP TABLE" 0 "DROP TABLE" "legacy_audit"
    else
        fail "diff safety: setup" "$why"
    fi
    newdb rt_b
    if why=$(rt_load "$rt_b" "$corpus/51_rename_column/a.sql" "$s/rename_migs"); then
        run generate renamer --schema "$s/rename.schema" --dir "$s/rename_migs" --allow-destructive -d "dbname=$rt_b"
        expect "a probable rename with --allow-destructive and no --rename is refused (exit 33)" 33 "name" "full_name" "--rename"
        if [ "$(cd "$s/rename_migs" && ls)" = 1_schema.sql ]; then
            pass "a refused rename writes no migration file"
        else
            fail "a refused rename writes no migration file" "files: $(cd "$s/rename_migs" && ls | tr '\n' ' ')"
        fi
        run diff --schema "$s/rename.schema" -d "dbname=$rt_b"
        expect "diff reports the probable rename without guessing it (the drop is withheld: exit 32)" 32 "public.users.name" "public.users.full_name"
        if grep -qi "RENAME" <<<"$out"; then fail "diff does not rename without --rename" "$out"; else pass "diff does not rename without --rename"; fi
    else
        fail "diff safety: setup" "$why"
    fi
fi

# Other tools' folders read as they are: each sample project of tests/adoption/ (goose, dbmate, sql-migrate,
# node-pg-migrate, Ory popx, Liquibase formatted SQL) is applied by pgmig from the folder as it stands, detected
# and with --format; rolling everything back gives an empty database's fingerprint, applying again the same
# fingerprint as the first time, and the same up SQL run by psql gives that fingerprint too. Sourced by run.sh.

af_samples="$root/tests/adoption"
af_fp() { sql "$1" "SELECT migrate_fingerprint()"; }

newdb af_empty
af_empty_fp=$(af_fp "$af_empty")

for af_tool in goose dbmate sql-migrate node-pg-migrate popx liquibase; do
    af_dir="$work/adoption/$af_tool"
    mkdir -p "$work/adoption"
    cp -r "$af_samples/$af_tool" "$af_dir"
    af_count=$(find "$af_dir" -name '*.sql' | wc -l)

    # Detected from the files.
    newdb af_db
    run apply --dir "$af_dir" -d "dbname=$af_db"
    expect "$af_tool: apply the folder as it is (detected)" 0 "applied" || continue
    af_up=$(af_fp "$af_db")
    if [ "$af_up" != "$af_empty_fp" ]; then pass "$af_tool: the schema changed"; else fail "$af_tool: schema" "unchanged"; fi
    run status --dir "$af_dir" --json -d "dbname=$af_db"
    if [ "$(jq '[.[] | select(.state == "applied")] | length' <<<"$out")" = "$(jq 'length' <<<"$out")" ] &&
       [ "$(jq '[.[] | select(.empty == true)] | length' <<<"$out")" -ge 1 ]; then
        pass "$af_tool: status shows every migration applied, the placeholder as empty"
    else
        fail "$af_tool: status" "$out"
    fi

    run rollback --to 0 --yes -d "dbname=$af_db"  # its down scripts drop tables: consent
    expect "$af_tool: roll back everything" 0 || continue
    if [ "$(af_fp "$af_db")" = "$af_empty_fp" ]; then
        pass "$af_tool: after rolling back, the fingerprint is an empty database's"
    else
        fail "$af_tool: rollback fingerprint" "$(sql "$af_db" "SELECT relname FROM pg_class WHERE relnamespace = 'public'::regnamespace")"
    fi
    run apply --dir "$af_dir" -d "dbname=$af_db"
    expect "$af_tool: apply again" 0 "applied"
    if [ "$(af_fp "$af_db")" = "$af_up" ]; then
        pass "$af_tool: applied again, the same fingerprint"
    else
        fail "$af_tool: re-apply fingerprint" "differs"
    fi

    # Chosen with --format.
    newdb af_fmt
    run --format "$af_tool" apply --dir "$af_dir" -d "dbname=$af_fmt"
    expect "$af_tool: apply with --format $af_tool" 0 "applied"
    if [ "$(af_fp "$af_fmt")" = "$af_up" ]; then pass "$af_tool: --format gives the same schema"; else fail "$af_tool: --format fingerprint" "differs"; fi
    # Read as pgmig's own format instead, the folder is refused before anything connects.
    run --format pgmig apply --dir "$af_dir" -d "dbname=$af_fmt"
    expect "$af_tool: the folder is not pgmig's own format" 3

    # The same up SQL, in the tool's order, run by psql.
    newdb af_psql
    python3 "$af_samples/up_sql.py" "$af_tool" "$af_dir" >"$work/adoption/$af_tool.psql.sql"
    if psql -X -q -v ON_ERROR_STOP=1 -d "$af_psql" -f "$work/adoption/$af_tool.psql.sql" >"$work/out" 2>&1 &&
       [ "$(af_fp "$af_psql")" = "$af_up" ]; then
        pass "$af_tool: pgmig's schema is the one psql builds from the same up SQL ($af_count files)"
    else
        fail "$af_tool: psql comparison" "$(head -c 300 "$work/out")"
    fi
done

# A tool's folder with one file in pgmig's own format is refused, naming both formats and the line.
af_mixed="$work/adoption/mixed"
cp -r "$af_samples/goose" "$af_mixed"
printf -- '-- pgmig:up\nCREATE TABLE mixed ();\n' >"$af_mixed/00006_pgmig_style.sql"
newdb af_mix
run apply --dir "$af_mixed" -d "dbname=$af_mix"
expect "a goose folder with a pgmig file is refused" 3 "00006_pgmig_style.sql" "pgmig's own -- pgmig:up marker in a folder read as goose (-- +goose Up)" "(line 1)"
if [ "$(ledger_count "$af_mix")" = 0 ]; then pass "nothing was registered"; else fail "mixed folder" "registered"; fi

# Something a reader cannot interpret is refused with its file and line.
af_bad="$work/adoption/bad"
cp -r "$af_samples/dbmate" "$af_bad"
printf -- '-- migrate:up transaction:maybe\nSELECT 1;\n-- migrate:down\n' >"$af_bad/20240101000009_bad.sql"
run apply --dir "$af_bad" -d "dbname=$af_mix"
expect "a dbmate option pgmig cannot interpret is refused" 3 "20240101000009_bad.sql" "unknown dbmate option 'transaction:maybe' (line 1)"

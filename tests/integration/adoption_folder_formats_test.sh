# Other tools' folder-per-migration and plan-driven layouts, applied as they are: for each sample project of
# tests/adoption/ (diesel, prisma, drizzle, sqitch), pgmig applies the folder (its format detected, and once
# more chosen with --format) to the same fingerprint as running the tool's up scripts in the tool's order with
# psql; where the tool has down scripts, rolling everything back gives an empty database's fingerprint (as the
# down scripts run by psql do) and applying again the same fingerprint as before. Sourced by run.sh (see lib.sh).

afs_root="$root/tests/adoption"
afs_fp() { sql "$1" "SELECT migrate_fingerprint()"; }
newdb afs_empty
afs_empty_fp=$(afs_fp "$afs_empty")

# afs_psql DB FILE...: runs each file with psql, in order; prints the first failure.
afs_psql() {
    local db=$1 f
    shift
    for f in "$@"; do
        if ! psql -X -q -v ON_ERROR_STOP=1 -d "$db" -f "$f" >"$work/afs_psql.out" 2>&1; then
            echo "psql failed on ${f#"$afs_root"/}: $(head -c 300 "$work/afs_psql.out")"
            return 1
        fi
    done
}

# afs_check TOOL COUNT SHOWN NONTX UPS DOWNS: SHOWN is a file name `pgmig status` must print (a path in the
# folder), NONTX the version that must be non-transactional ("" for none), UPS the up scripts in the tool's
# order and DOWNS the down scripts newest first (both relative to the sample, space-separated; DOWNS "" when
# the tool has none).
afs_check() {
    local tool=$1 count=$2 shown=$3 nontx=$4 ups=$5 downs=$6
    local dir="$afs_root/$tool" f
    local up_files=() down_files=()
    for f in $ups; do up_files+=("$dir/$f"); done
    for f in $downs; do down_files+=("$dir/$f"); done

    newdb afs_a
    run apply --dir "$dir" -d "dbname=$afs_a"
    expect "$tool: apply detects the format and applies the folder as it is" 0 "$count applied" || return
    local fp_up
    fp_up=$(afs_fp "$afs_a")

    newdb afs_b
    run --format "$tool" apply --dir "$dir" -d "dbname=$afs_b"
    expect "$tool: apply with --format $tool" 0 "$count applied"
    if [ "$(afs_fp "$afs_b")" = "$fp_up" ]; then pass "$tool: --format gives the same fingerprint"; else
        fail "$tool: --format fingerprint" "$(afs_fp "$afs_b") vs $fp_up"; fi

    newdb afs_psql_db
    local psql_err
    if psql_err=$(afs_psql "$afs_psql_db" "${up_files[@]}"); then
        if [ "$(afs_fp "$afs_psql_db")" = "$fp_up" ] && [ "$fp_up" != "$afs_empty_fp" ]; then
            pass "$tool: up gives the fingerprint of the up scripts run by psql"
        else
            fail "$tool: up fingerprint" "pgmig $fp_up, psql $(afs_fp "$afs_psql_db"), empty $afs_empty_fp"
        fi
    else
        fail "$tool: psql reference run" "$psql_err"
    fi

    run status --dir "$dir" -d "dbname=$afs_a"
    expect "$tool: status names the files by their path in the folder and marks the empty one" 0 "$shown" "(empty)"
    if [ -n "$nontx" ]; then
        local tx
        tx=$(sql "$afs_a" "SELECT options->>'transactional' FROM pgmig.migrations WHERE version = '$nontx'")
        if [ "$tx" = false ]; then pass "$tool: the tool's no-transaction migration is non-transactional"; else
            fail "$tool: no-transaction migration $nontx" "options transactional = '$tx'"; fi
    fi

    [ -n "$downs" ] || return 0
    run rollback --steps "$count" --yes -d "dbname=$afs_a"  # its down scripts drop tables: consent
    expect "$tool: rollback of every migration" 0 "$count rolled back"
    if [ "$(afs_fp "$afs_a")" = "$afs_empty_fp" ]; then pass "$tool: down gives an empty database's fingerprint"; else
        fail "$tool: down fingerprint" "$(afs_fp "$afs_a") vs empty $afs_empty_fp"; fi
    if psql_err=$(afs_psql "$afs_psql_db" "${down_files[@]}") && [ "$(afs_fp "$afs_psql_db")" = "$afs_empty_fp" ]; then
        pass "$tool: the down scripts run by psql agree"
    else
        fail "$tool: psql down run" "${psql_err:-fingerprint $(afs_fp "$afs_psql_db")}"
    fi
    run apply --dir "$dir" -d "dbname=$afs_a"
    expect "$tool: up again" 0 "$count applied"
    if [ "$(afs_fp "$afs_a")" = "$fp_up" ]; then pass "$tool: up again gives the same fingerprint"; else
        fail "$tool: up again fingerprint" "$(afs_fp "$afs_a") vs $fp_up"; fi
}

afs_diesel=(00000000000000_diesel_initial_setup 2024-01-10-090000_create_customers 2024-01-11-100000_create_orders
    2024-01-12-110000_order_totals_view 2024-01-13-120000_mysql_only 2024-01-14-130000_orders_created_index
    2024-01-15-140000_order_summary_function)
afs_ups="" afs_downs=""
for f in "${afs_diesel[@]}"; do afs_ups+="$f/up.sql "; afs_downs="$f/down.sql $afs_downs"; done
afs_check diesel 7 "2024-01-10-090000_create_customers/up.sql" 20240114130000 "$afs_ups" "$afs_downs"

afs_prisma=(20240110090000_init 20240111100000_orders 20240112110000_order_totals_view 20240113120000_noop
    20240114130000_orders_created_index 20240115140000_order_summary)
afs_ups="" afs_downs=""
for f in "${afs_prisma[@]}"; do
    afs_ups+="$f/migration.sql "
    [ -f "$afs_root/prisma/$f/down.sql" ] && afs_downs="$f/down.sql $afs_downs"
done
afs_check prisma 6 "20240110090000_init/migration.sql" 20240114130000 "$afs_ups" "$afs_downs"

afs_ups=""
for f in 0000_init_customers 0001_orders 0002_order_totals_view 0003_placeholder 0004_order_summary \
    0005_orders_created_at; do afs_ups+="$f.sql "; done
afs_check drizzle 6 "0001_orders.sql" "" "$afs_ups" ""

afs_sqitch=(shop_schema customers orders order_totals@v1.0 noop orders_created_index order_totals order_summary)
afs_ups="" afs_downs=""
for f in "${afs_sqitch[@]}"; do afs_ups+="deploy/$f.sql "; afs_downs="revert/$f.sql $afs_downs"; done
afs_check sqitch 8 "deploy/order_totals@v1.0.sql" 6 "$afs_ups" "$afs_downs"

# What the readers refuse reaches the user as exit 3 naming the file and the line, before anything connects.
afs_bad="$work/afs_bad"
cp -r "$afs_root/sqitch" "$afs_bad"
printf 'BEGIN;\n\\set owner app\nCREATE SCHEMA s;\nCOMMIT;\n' >"$afs_bad/deploy/noop.sql"
run apply --dir "$afs_bad" -d "dbname=$afs_empty"
expect "sqitch: a psql meta-command is refused naming the file and the line" 3 "deploy/noop.sql" \
    "psql meta-command \\set (line 2)"
if [ "$(sql "$afs_empty" "SELECT count(*) FROM pgmig.migrations")" = 0 ]; then
    pass "sqitch: nothing was registered"
else
    fail "sqitch: refused folder registered something" "$(sql "$afs_empty" "SELECT version FROM pgmig.migrations")"
fi

# pgmig adopt from Sqitch, with Sqitch itself (Debian's package): sqitch deploy runs
# tests/adoption/sqitch-real, pgmig adopt takes sqitch.changes over (matched by change name), status
# shows every change applied and a new change applies on top. A change that fails for real (its newest
# event is a fail) is refused until it is fixed and deployed by Sqitch. Sourced by run.sh.
. "$here/adopt_lib.sh"

if adopt_need sqitch; then
asq="$work/adopt_sqitch"
cp -r "$root/tests/adoption/sqitch-real" "$asq"
export SQITCH_FULLNAME="Dee Sample" SQITCH_EMAIL=dee@example.com
asq_deploy() {  # DB
    tool_run sqitch env -C "$asq" sqitch deploy "db:$(adopt_url "$1")"
}
asq_add() {  # NAME DEPLOY_SQL: a change at the end of the plan, as sqitch add writes it
    echo "$1 [orders] 2024-01-03T10:00:00Z Dee Sample <dee@example.com> # $1" >>"$asq/sqitch.plan"
    printf -- '-- Deploy shop:%s to pg\n\nBEGIN;\n\n%s\n\nCOMMIT;\n' "$1" "$2" >"$asq/deploy/$1.sql"
    printf -- '-- Revert shop:%s from pg\n\nBEGIN;\n\nALTER TABLE orders DROP COLUMN IF EXISTS total;\n\nCOMMIT;\n' "$1" >"$asq/revert/$1.sql"
}
asq_files='[{"version": "1", "tool_id": "users"}, {"version": "2", "tool_id": "orders"}, {"version": "3", "tool_id": "total"}]'

newdb asq_db
asq_deploy "$asq_db"
expect "sqitch deploys the project" 0 "+ orders .. ok"
expect_value "migrate_adopt reads sqitch.changes" "$(adopt_states "$asq_db" sqitch "$asq_files")" "1:adopt 2:adopt 3:pending"
asq_add total "ALTER TABLE orders ADD COLUMN total numeric;"
run adopt --yes --from sqitch --dir "$asq" -d "dbname=$asq_db"
expect "pgmig adopt takes over Sqitch's history" 0 "adopted 2 migrations from Sqitch's history" "1 pending" "by Dee Sample"
run status --dir "$asq" -d "dbname=$asq_db"
expect "status: Sqitch's changes applied" 0 "2 applied, 1 pending"
run apply --dir "$asq" -d "dbname=$asq_db"
expect "a new change applies on top" 0 "1 applied"
run status --dir "$asq" -d "dbname=$asq_db"
if grep -q "3 applied, 0 pending" <<<"$out"; then pass "Sqitch: every change applied"; else fail "Sqitch: status after apply" "$out"; fi

# A change that fails for real: Sqitch logs a fail event (and reverts what that run deployed); adoption
# is refused until the change is fixed and deployed.
cp "$root/tests/adoption/sqitch-real/sqitch.plan" "$asq/sqitch.plan"
newdb asq_fail
asq_deploy "$asq_fail"
asq_add total "ALTER TABLE orders ADD COLUMN total numeric;
ALTER TABLE no_such_table ADD COLUMN x int;"
asq_deploy "$asq_fail"
if [ "$rc" -ne 0 ] && grep -q "no_such_table" <<<"$out"; then pass "sqitch fails the broken change"; else fail "sqitch failure" "rc $rc: $out"; fi
expect_value "migrate_adopt sees the failed change" "$(adopt_states "$asq_fail" sqitch "$asq_files")" "1:adopt 2:adopt 3:failed"
run adopt --yes --from sqitch --dir "$asq" -d "dbname=$asq_fail"
expect "a failed Sqitch change is refused" 52 "failed or dirty (1)" "Sqitch recorded it as failed" "sqitch deploy"
asq_add total "ALTER TABLE orders ADD COLUMN total numeric;"
sed -i '$d' "$asq/sqitch.plan"  # the change is in the plan once
asq_deploy "$asq_fail"
expect "fixed, sqitch deploys it" 0 "+ total"
run adopt --yes --from sqitch --dir "$asq" -d "dbname=$asq_fail"
expect "once deployed, the history is adopted" 0 "adopted 3 migrations"
unset SQITCH_FULLNAME SQITCH_EMAIL
fi

# Helpers of the adopt_<tool>_test.sh files (sourced by them, not a test itself): where the real tools
# are (scripts/install-adoption-tools) and how they reach the test cluster's unix socket.

adopt_tools=${PGMIG_ADOPTION_TOOLS:-/var/cache/pgmig/adoption-tools}/npm/node_modules/.bin
export NODE_PATH=${PGMIG_ADOPTION_TOOLS:-/var/cache/pgmig/adoption-tools}/npm/node_modules

# adopt_need TOOL: true when the tool is installed; otherwise a failure, never a silent skip (CI installs
# the tools with scripts/install-deps --tests, which runs scripts/install-adoption-tools).
adopt_need() {
    if [ "$1" = sqitch ]; then command -v sqitch >/dev/null && return 0; else [ -x "$adopt_tools/$1" ] && return 0; fi
    fail "setup: $1" "$1 is not installed: run scripts/install-adoption-tools (scripts/install-deps --tests runs it)"
    return 1
}

# adopt_url DB: a libpq-style URL to DB on the test cluster's socket (node-postgres, Sqitch's DBD::Pg).
adopt_url() { echo "postgres://$PGUSER@/$1?host=$PGHOST&port=$PGPORT"; }

# tool_run NAME COMMAND...: runs a real tool; sets $rc and $out (stdout and stderr together).
tool_run() {
    shift
    "$@" >"$work/tool_out" 2>&1
    rc=$?
    out=$(cat "$work/tool_out")
    err=""
}

# adopt_states DB TOOL FILES_JSON: "version:state ..." of migrate_adopt's plan for those files, in order.
adopt_states() {
    sql "$1" "SELECT string_agg(coalesce(version, tool_id) || ':' || state, ' ' ORDER BY version IS NULL, version)
                FROM migrate_adopt('$2', '$3')"
}

# expect_value NAME GOT WANTED
expect_value() {
    if [ "$2" = "$3" ]; then pass "$1"; else fail "$1" "got '$2', expected '$3'"; fi
}

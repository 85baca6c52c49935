# pgmig local as root in a project the postgres OS user cannot enter (a checkout under /root, mode 0700):
# without --dir the cluster goes to a folder of its own under /var/tmp, named after the project's path, and
# start, status, url, env and stop all find it there. Sourced by run.sh (see lib.sh for the helpers).

# run_in DIR ARGS...: runs pgmig in folder DIR; sets $rc, $out, $err like run.
run_in() {
    local dir=$1
    shift
    (cd "$dir" && "$bin" "$@") >"$work/out" 2>"$work/err"
    rc=$?
    out=$(cat "$work/out")
    err=$(cat "$work/err")
}

if [ "$(id -u)" -ne 0 ]; then
    echo "note: local_unreachable_checkout_test.sh needs root (the server then runs as OS user postgres); skipped"
else
    home="$work/roothome"
    mkdir -m 700 "$home"
    project="$home/project"
    mkdir -p "$project"

    run_in "$project" local start
    expect "local start in a checkout postgres cannot enter" 0 "local cluster started" \
        "$home is not searchable by OS user postgres" "/var/tmp/pgmig-local-project-"
    fallback=$(sed -n 's/^data: \(.*\)\/data$/\1/p' <<<"$out")
    case "$fallback" in
    /var/tmp/pgmig-local-project-*) pass "the cluster's folder is named after the project" ;;
    *) fail "the cluster's folder is named after the project" "data line: $(grep '^data:' <<<"$out")" ;;
    esac
    if [ -e "$project/.pgmig/local/data" ]; then
        fail "nothing of the cluster in the unreachable checkout" "$project/.pgmig/local/data exists"
    else
        pass "nothing of the cluster in the unreachable checkout"
    fi
    if [ -n "$fallback" ] && [ "$(stat -c %U "$fallback")" = postgres ] && [ "$(stat -c %a "$fallback")" = 755 ]; then
        pass "the cluster's folder belongs to postgres"
    else
        fail "the cluster's folder belongs to postgres" "$(stat -c '%U %a %n' "$fallback" 2>&1)"
    fi

    run_in "$project" local status
    expect "local status finds it" 0 "running: postgresql:///pgmig" "data: $fallback/data"
    run_in "$project" local url
    url=$out
    if [ "$rc" -eq 0 ] && [ "$(psql -X -A -t -d "$url" -c "SELECT extname FROM pg_extension WHERE extname = 'pgmig'" 2>&1)" = pgmig ]; then
        pass "local url connects to it"
    else
        fail "local url connects to it" "rc=$rc url='$url' err=$err"
    fi
    run_in "$project" local env
    expect "local env finds it" 0 "PGHOST='$fallback/socket'" "PGDATABASE=pgmig"
    run_in "$project" local start
    expect "local start again finds it running" 0 "already running"
    # Another project of the same name elsewhere gets a folder of its own.
    other="$home/elsewhere/project"
    mkdir -p "$other"
    run_in "$other" local status  # not created, so not running: exit 7
    if [ "$rc" -eq 7 ] && ! grep -qF "$fallback" <<<"$out$err"; then
        pass "another project of the same name is another cluster"
    else
        fail "another project of the same name is another cluster" "rc=$rc $out"
    fi

    run_in "$project" local stop
    expect "local stop finds it" 0 "local cluster stopped ($fallback)"
    run_in "$project" local status
    expect "local status after stop" 7 "not running ($fallback)"
    run_in "$project" local url
    expect "local url after stop exits 7" 7 "not running"
    run_in "$project" local start
    expect "local start again restarts it in the same folder" 0 "local cluster started" "data: $fallback/data"
    run_in "$project" local stop
    expect "local stop (again)" 0 "stopped"

    (cd "$project" && "$bin" local stop >/dev/null 2>&1) || true  # in case a step above failed half-way

    # A folder of that name that someone else owns is never used (anyone may create folders in /var/tmp).
    if [ -n "$fallback" ] && [ -d "$fallback" ]; then
        rm -rf "$fallback"
        mkdir -m 755 "$fallback"
        chown nobody "$fallback"
        run_in "$project" local start
        expect "a squatted folder is refused" 7 "$fallback" "owned by"
        rm -rf "$fallback"
        # One root left there (e.g. an earlier start that failed) is taken and given to postgres.
        mkdir -m 755 "$fallback"
        run_in "$project" local start
        expect "a folder root left there is used" 0 "local cluster started" "data: $fallback/data"
        (cd "$project" && "$bin" local stop >/dev/null 2>&1) || true
        rm -rf "$fallback"
    fi
fi

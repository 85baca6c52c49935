#!/usr/bin/env bash
# bench/real-schemas.sh: the desired-state diff on real applications' schemas. For each public migration
# history of bench/real-schemas.list it builds, with psql (ON_ERROR_STOP), A = the schema after the first
# half of the history and B = after all of it, then checks on A that
#   up:    `pgmig generate --to B` (--allow-destructive, the probable renames it reports confirmed) and
#          `pgmig apply` give B's migrate_fingerprint() (or B's modulo column order, reported as such);
#   down:  `pgmig rollback` of the generated files gives A's fingerprint again;
#   migra: `migra A B --unsafe --with-privileges` (npm @pgkit/migra, pinned in bench/real-schemas/package.json) applied to
#          a copy of A gives B's fingerprint;
# and prints a table (per pair: exact or the first difference). A bench, not a test: it is not part of
# scripts/test-all, and it exits 0 when a pair is not exact (non-zero only when it could not run).
#
# The histories' files are never committed: the list holds names, commits and globs; the files are read
# with git from a copy of each repository, found under $PGMIG_MIRRORS (default /work/.mirror) as
# OWNER+REPO/repo[/.git] (the layout of this machine's mirrors), OWNER+REPO.git, or OWNER/REPO[/.git];
# with FETCH=1 and network access a missing one is cloned bare into $PGMIG_BENCH_TOOLS/repos.
#
#   bench/real-schemas.sh                      every history of the list
#   ONLY="lemmy basejump" bench/real-schemas.sh
#   PEERS=0 bench/real-schemas.sh              pgmig only (no migra)
#   KEEP=1 ...                                 keep the work folder (histories, generated files, logs)
#   FETCH=1 ...                                clone what no mirror has (needs github.com)
#   RENAMES=none ...                           refuse the probable renames (--no-rename) instead of confirming them
# Needs build/pgmig (or PGMIG=...), the pgmig extension installed in the PostgreSQL whose programs
# pgmig local uses (PGMIG_PG_BINDIR), psql, git, python3; for migra: node >= 18 and npm with registry
# access (installed once into $PGMIG_BENCH_TOOLS/migra, default /var/cache/pgmig/bench-tools).
set -euo pipefail
BENCH=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$BENCH/.." && pwd)
PGMIG=${PGMIG:-$ROOT/build/pgmig}
LIST=${LIST:-$BENCH/real-schemas.list}
MIRRORS=${PGMIG_MIRRORS:-/work/.mirror}
TOOLS=${PGMIG_BENCH_TOOLS:-/var/cache/pgmig/bench-tools}
PEERS=${PEERS:-1}
FETCH=${FETCH:-0}
ONLY=${ONLY:-}
KEEP=${KEEP:-0}
RENAMES=${RENAMES:-probable}

say() { printf '%s\n' "$*" >&2; }
die() { say "real-schemas.sh: $*"; exit 1; }
# shellcheck source=bench/lib.sh
. "$BENCH/lib.sh"

[[ -x $PGMIG ]] || die "$PGMIG not found: build it first (cmake -S . -B build && cmake --build build -j2)"
for c in psql git python3; do command -v "$c" >/dev/null || die "$c not found"; done
[[ -f $LIST ]] || die "no manifest $LIST"

# ---------------------------------------------------------------- peer: migra, pinned, outside the clone
MIGRA=$TOOLS/migra/node_modules/.bin/migra
migra_note=""
install_migra() {
    local lock=$BENCH/real-schemas stamp
    command -v npm >/dev/null || { migra_note="npm not found (apt-get install npm)"; return; }
    stamp=$(cat "$lock/package.json" "$lock/package-lock.json" | sha256sum | cut -d' ' -f1)
    if [[ ! -x $MIGRA || "$(cat "$TOOLS/migra/.stamp" 2>/dev/null)" != "$stamp" ]]; then
        say "installing @pgkit/migra (bench/real-schemas/package-lock.json) into $TOOLS/migra..."
        rm -rf "$TOOLS/migra"
        mkdir -p "$TOOLS/migra" "$TOOLS/npm-cache"
        cp "$lock/package.json" "$lock/package-lock.json" "$TOOLS/migra/"
        if ! (cd "$TOOLS/migra" && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error \
            --cache "$TOOLS/npm-cache" >/dev/null 2>&1); then
            migra_note="npm ci in $TOOLS/migra failed (offline, or no registry access)"
            return
        fi
        echo "$stamp" >"$TOOLS/migra/.stamp"
    fi
    "$MIGRA" --help >/dev/null 2>&1 ||
        migra_note="migra is installed but does not run here (node --version: $(node --version 2>&1))"
}
if [[ $PEERS == 1 ]]; then install_migra; else migra_note="PEERS=0"; fi
[[ -z $migra_note ]] || say "migra: not run: $migra_note"

# ---------------------------------------------------------------- the repositories
# git_dir OWNER/REPO COMMIT: a git directory that has COMMIT, on stdout.
git_dir() {
    local repo=$1 commit=$2 flat=${1/\//+} g
    for g in "$MIRRORS/$flat/repo/.git" "$MIRRORS/$flat/repo" "$MIRRORS/$flat.git" "$MIRRORS/$flat" \
        "$MIRRORS/$repo/.git" "$MIRRORS/$repo" "$TOOLS/repos/$flat.git"; do
        if [[ -d $g ]] && git --git-dir="$g" cat-file -e "$commit^{commit}" 2>/dev/null; then
            echo "$g"
            return
        fi
    done
    if [[ $FETCH == 1 ]]; then
        g=$TOOLS/repos/$flat.git
        say "cloning https://github.com/$repo into $g..."
        [[ -d $g ]] || git clone -q --bare --filter=blob:none "https://github.com/$repo" "$g" >&2 || return 1
        git --git-dir="$g" fetch -q origin "$commit" >&2 || return 1
        echo "$g"
        return
    fi
    return 1
}

# ---------------------------------------------------------------- helpers
bench_cluster real-schemas
SOCK=$PGHOST
url() { echo "postgresql://$PGUSER@localhost:$PGPORT/$1?host=$SOCK"; }
fingerprint() { q -d "$1" -c "SELECT migrate_fingerprint()"; }
snapshot() { q -d "$1" -c "SELECT migrate_snapshot()" >"$2"; }

# Whether the extension offers the column-order-blind fingerprint (another part of the diff work adds it).
has_ico() {
    [[ $(q -d "$1" -c "SELECT count(*) FROM pg_catalog.pg_proc WHERE proname = 'migrate_fingerprint'
          AND pg_catalog.pg_get_function_arguments(oid) LIKE '%ignore_column_order%'") != 0 ]]
}
fingerprint_ico() { q -d "$1" -c "SELECT migrate_fingerprint(ignore_column_order => true)"; }

# snapdiff GOT.json WANT.json: the first object (by key) whose description differs, and where; with
# --order, only says (exit status) whether the two are equal once each table's columns are sorted by name.
snapdiff() {
    python3 - "$@" <<'PY'
import json, sys
args = [a for a in sys.argv[1:] if a != "--order"]
got, want = (json.load(open(p)) for p in args)
if "--order" in sys.argv:
    def by_name(doc):
        for d in doc.values():
            if isinstance(d, dict) and isinstance(d.get("columns"), list):
                d["columns"] = sorted(d["columns"], key=lambda c: json.dumps(c, sort_keys=True))
        return doc
    sys.exit(0 if by_name(got) == by_name(want) else 1)
def short(v, n=90):
    s = json.dumps(v, sort_keys=True)
    return s if len(s) <= n else s[:n] + "..."
def where(a, b, path=""):
    if type(a) != type(b):
        return f"{path or '.'}: {short(a)} vs {short(b)}"
    if isinstance(a, dict):
        for k in sorted(set(a) | set(b)):
            if k not in a:
                return f"{path}.{k}: missing (wanted {short(b[k])})"
            if k not in b:
                return f"{path}.{k}: unexpected {short(a[k])}"
            if a[k] != b[k]:
                return where(a[k], b[k], f"{path}.{k}")
    elif isinstance(a, list):
        for i, (x, y) in enumerate(zip(a, b)):
            if x != y:
                return where(x, y, f"{path}[{i}]")
        if len(a) != len(b):
            return f"{path}: {len(a)} items vs {len(b)}"
    return f"{path or '.'}: {short(a)} vs {short(b)}"
keys = sorted(k for k in set(got) | set(want) if got.get(k) != want.get(k))
if not keys:
    print("snapshots equal (the fingerprints differ only in their text form)")
    sys.exit()
k = keys[0]
if k not in got:
    msg = f"missing {k}"
elif k not in want:
    msg = f"unexpected {k}"
else:
    msg = f"{k} {where(got[k], want[k])}"
print(f"{len(keys)} objects differ; first: {msg}")
PY
}

# compare DB WANT_FP WANT_ICO WANT.json: "exact", "exact modulo column order", or "no: <first difference>".
# WANT_ICO is the wanted migrate_fingerprint(ignore_column_order => true), empty when the extension has no
# such option: then the snapshots are compared with each table's columns sorted (said in the result).
compare() {
    local db=$1 want_fp=$2 want_ico=$3 want_snap=$4
    if [[ $(fingerprint "$db") == "$want_fp" ]]; then
        echo "exact"
        return
    fi
    snapshot "$db" "$W/got.json"
    if [[ -n $want_ico ]]; then
        if [[ $(fingerprint_ico "$db") == "$want_ico" ]]; then
            echo "exact modulo column order"
            return
        fi
    elif snapdiff --order "$W/got.json" "$want_snap"; then
        echo "exact modulo column order (by the bench's comparison of the snapshots)"
        return
    fi
    echo "no: $(snapdiff "$W/got.json" "$want_snap")"
}

# load DB PRELUDE FILE...: the prelude, then each file in its own psql session, as a migration tool would
# run it; on failure, prints the error (the file and line, by psql) and returns 1.
load() {
    local db=$1 prelude=$2 f
    shift 2
    q -d postgres -c "CREATE DATABASE $db TEMPLATE template0"
    if [[ $prelude != - ]]; then
        q -d "$db" -f "$BENCH/real-schemas/$prelude" >"$LOG" 2>&1 || { tail -n 3 "$LOG"; return 1; }
    fi
    for f in "$@"; do
        q -d "$db" -f "$f" >"$LOG" 2>&1 || { grep -m1 -A2 'ERROR' "$LOG" || tail -n 3 "$LOG"; return 1; }
    done
}

# copy_db FROM TO: a copy of FROM with its database-level settings (a prelude's search_path).
copy_db() {
    q -d postgres -c "CREATE DATABASE $2 TEMPLATE $1"
    q -d postgres -At -c "SELECT pg_catalog.unnest(setconfig) FROM pg_catalog.pg_db_role_setting s
                            JOIN pg_catalog.pg_database d ON d.oid = s.setdatabase
                           WHERE d.datname = '$1' AND s.setrole = 0" |
        while IFS='=' read -r k v; do q -d postgres -c "ALTER DATABASE $2 SET $k = $v"; done
}

# generate_failure ERR: why generate wrote nothing, short: the unsupported objects (count, first) or the error.
generate_failure() {
    local n
    n=$(grep -c '^pgmig: unsupported: ' "$1" || true)
    if ((n > 0)); then
        echo "$n unsupported, first: $(sed -n 's/^pgmig: unsupported: //p' "$1" | head -n 1 | cut -c1-160)"
    else
        grep -m1 -v '^$' "$1" | cut -c1-200
    fi
}

# run_failure OUT: a failed pgmig apply/rollback, short: the server's message and the statement.
run_failure() {
    local msg stmt
    msg=$(sed -n 's/^pgmig: error: migration .* failed[a-z ]*: \(.*\) (SQLSTATE [0-9A-Z]*).*/\1/p' "$1" | head -n 1)
    stmt=$(sed -n 's/.* script): \(.*\); the transaction .*/\1/p' "$1" | head -n 1 | cut -c1-160)
    if [[ -n $msg ]]; then
        echo "$msg${stmt:+, at: $stmt}"
    else
        grep -m1 -i 'error' "$1" | cut -c1-200
    fi
}

# order FORMAT: the paths read on stdin in the order the history's tool runs them: byte order, but for
# diesel by version, the folder name before its first `_` with the dashes removed (crates.io has both
# `20161115111853_x` and `2017-08-31-230457_y`).
order() {
    if [[ $1 == diesel ]]; then
        python3 -c '
import sys
paths = sys.stdin.read().split("\n")[:-1]
def version(p):
    parts = p.split("/")
    return parts[-2].split("_")[0].replace("-", "") if len(parts) > 1 else ""
print("\n".join(sorted(paths, key=lambda p: (version(p), p.encode()))))'
    else
        LC_ALL=C sort
    fi
}

# extract FORMAT: the up migration of a file read on stdin.
extract() {
    case $1 in
    plain | diesel) cat ;;
    goose) awk '/^--[ \t]*\+goose[ \t]+Up/ {up = 1; next} /^--[ \t]*\+goose[ \t]+Down/ {up = 0} up' ;;
    *) die "unknown format $1" ;;
    esac
}

# ---------------------------------------------------------------- each history
ROWS=$RES/rows
: >"$ROWS"
# row NAME SOURCE SIZE UP DOWN MIGRA: one line of the table (each cell on one line, pipes escaped)
row() {
    local c cells=()
    for c in "$@"; do
        c=${c//$'\n'/ }
        cells+=("${c//|/\\|}")
    done
    printf '%s\t%s\t%s\t%s\t%s\t%s\n' "${cells[@]}" >>"$ROWS"
}

# The list on fd 3: nothing run inside the loop (psql, pgmig, node) can read it from stdin.
while read -r name repo commit glob format prelude last <&3; do
    [[ -z $name || $name == \#* ]] && continue
    if [[ -n $ONLY && " $ONLY " != *" $name "* ]]; then continue; fi
    say "== $name ($repo at ${commit:0:12})"
    H=$W/$name
    mkdir -p "$H/files" "$H/gen"
    if ! g=$(git_dir "$repo" "$commit"); then
        row "$name" "$repo@${commit:0:12}" "-" "not run: no copy of the repository has $commit (mirror it, or FETCH=1)" "-" "-"
        continue
    fi
    # shellcheck disable=SC2053 # $glob is a pattern: unquoted on purpose
    mapfile -t paths < <(git --git-dir="$g" ls-tree -r --name-only "$commit" |
        while IFS= read -r p; do [[ $p == $glob ]] && printf '%s\n' "$p"; done | order "$format" |
        if [[ ${last:--} == - ]]; then cat; else awk -v last="$last" '{ print } $0 == last { exit }'; fi)
    n=${#paths[@]}
    ((n >= 2)) || { row "$name" "$repo@${commit:0:12}" "$n" "not run: fewer than 2 files match $glob" "-" "-"; continue; }
    files=()
    for i in "${!paths[@]}"; do
        f=$(printf '%s/%04d.sql' "$H/files" "$i")
        git --git-dir="$g" show "$commit:${paths[$i]}" | extract "$format" >"$f"
        files+=("$f")
    done
    half=$((n / 2))
    printf '%s\n' "${paths[@]}" >"$H/paths"
    say "   $n migrations: A = the first $half (to ${paths[$((half - 1))]}), B = all"
    A=${name}_a B=${name}_b AM=${name}_a_migra
    if ! e=$(load "$A" "$prelude" "${files[@]:0:half}"); then
        row "$name" "$repo@${commit:0:12}" "$n" "history does not load (A): $e" "-" "-"; continue
    fi
    if ! e=$(load "$B" "$prelude" "${files[@]}"); then
        row "$name" "$repo@${commit:0:12}" "$n" "history does not load (B): $e" "-" "-"; continue
    fi
    for db in "$A" "$B"; do q -d "$db" -c "CREATE EXTENSION pgmig"; done
    copy_db "$A" "$AM"
    fp_a=$(fingerprint "$A") fp_b=$(fingerprint "$B")
    ico_a="" ico_b=""
    if has_ico "$A"; then ico_a=$(fingerprint_ico "$A") ico_b=$(fingerprint_ico "$B"); fi
    snapshot "$A" "$H/a.json"
    snapshot "$B" "$H/b.json"
    objs_a=$(q -d "$A" -c "SELECT count(*) FROM migrate_fingerprint_objects()")
    objs_b=$(q -d "$B" -c "SELECT count(*) FROM migrate_fingerprint_objects()")
    size="$n migrations; A $objs_a objects, B $objs_b"

    # ---- pgmig: generate, apply (up), rollback (down)
    up="-" down="-"
    # Renames: each probable rename pgmig reports is confirmed (RENAMES=probable) or refused (none). Either
    # reaches B's structure (a probable rename is the same type, or the same columns, at the same place);
    # confirming keeps the column's place, as the histories' own RENAMEs did.
    rename_args=(--no-rename)
    if [[ $RENAMES == probable ]]; then
        "$PGMIG" -d "dbname=$A" diff --to "dbname=$B" --json >"$H/diff.json" 2>"$H/diff.err" || true
        mapfile -t renames < <(python3 -c '
import json, sys
for r in json.load(open(sys.argv[1])).get("probable_renames", []):
    print(r["argument"].split(" ", 1)[1])' "$H/diff.json" 2>/dev/null)
        rename_args=()
        for r in "${renames[@]}"; do rename_args+=(--rename "$r"); done
        size+="; ${#renames[@]} probable renames confirmed"
    fi
    set +e
    "$PGMIG" -d "dbname=$A" generate real --dir "$H/gen" --to "dbname=$B" --allow-destructive "${rename_args[@]}" \
        >"$H/generate.out" 2>"$H/generate.err"
    rc=$?
    set -e
    nfiles=$(find "$H/gen" -name '*.sql' | wc -l)
    if ((nfiles == 0)); then
        up="no: generate exit $rc, no file written: $(generate_failure "$H/generate.err")"
    else
        [[ $rc == 0 ]] || up_note=" (generate exit $rc: $(grep -m1 -v '^$' "$H/generate.err" | cut -c1-200))"
        if "$PGMIG" -d "dbname=$A" apply --dir "$H/gen" >"$H/apply.out" 2>&1; then
            up=$(compare "$A" "$fp_b" "$ico_b" "$H/b.json")${up_note:-}
            if "$PGMIG" -d "dbname=$A" rollback --to 0 --yes >"$H/rollback.out" 2>&1; then
                down=$(compare "$A" "$fp_a" "$ico_a" "$H/a.json")
            else
                down="no: rollback fails: $(run_failure "$H/rollback.out")"
            fi
        else
            up="no: apply fails: $(run_failure "$H/apply.out")"
        fi
    fi
    unset up_note

    # ---- migra: its SQL applied to a copy of A
    mg="-"
    if [[ -z $migra_note ]]; then
        set +e
        "$MIGRA" run "$(url "$AM")" "$(url "$B")" --unsafe true --with-privileges true >"$H/migra.sql" 2>"$H/migra.err"
        rc=$?
        set -e
        # migra 0.6.1 prints a warning with a stack trace on stdout, before the SQL
        sed -i '/^WARNING: Creating a duplicate database object/,/^$/d' "$H/migra.sql"
        if [[ $rc != 0 && $rc != 2 ]]; then
            mg="no: migra exit $rc: $(grep -m1 -v '^$' "$H/migra.err" | cut -c1-200)"
        elif ! q -d "$AM" -f "$H/migra.sql" >"$H/migra-apply.out" 2>&1; then
            mg="no: its SQL fails: $(grep -m1 'ERROR' "$H/migra-apply.out" | sed 's/^psql:[^:]*://' | cut -c1-300)"
        else
            mg=$(compare "$AM" "$fp_b" "$ico_b" "$H/b.json")
        fi
    fi
    row "$name" "$repo@${commit:0:12}" "$size" "$up" "$down" "$mg"
done 3<"$LIST"

# ---------------------------------------------------------------- report
echo
echo "real schemas: $("$PGMIG" --version 2>/dev/null | head -n 1), PostgreSQL $(q -c 'SHOW server_version'), in $((SECONDS / 60)) min $((SECONDS % 60)) s;"
if [[ -z $migra_note ]]; then
    echo "migra $(node -p "require('$TOOLS/migra/node_modules/@pgkit/migra/package.json').version") (node $(node --version))"
else
    echo "migra not run: $migra_note"
fi
echo
echo "| history | size | pgmig up | pgmig down | migra |"
echo "|---|---|---|---|---|"
while IFS=$'\t' read -r name src size up down mg; do
    echo "| $name ($src) | $size | $up | $down | $mg |"
done <"$ROWS"

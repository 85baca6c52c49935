# Every program the tests and test scripts run comes from a package that scripts/install-deps --tests
# installs (or one of its dependencies, or Sqitch's), or from a package every Debian has (Essential or
# Priority required, as debootstrap --variant=minbase lays it down): on a bare Debian 12 nothing else is
# there. A program only this machine has (curl once) fails here instead of on the first fresh machine.
# Sourced by run.sh (see lib.sh for the helpers).

id_programs=(curl wget jq openssl ps pgrep pkill script runuser python3 npm node sqitch xxd nc socat git perl
    gzip xz zstd lz4 bc timeout sha256sum psql pg_dump pg_restore createdb valgrind clang++ dpkg-source
    dpkg-buildpackage dpkg-checkbuilddeps dpkg-deb pg_buildext debootstrap chroot flock mkfifo)
id_files=("$root"/tests/integration/*.sh "$root"/scripts/install-deps "$root"/scripts/install-adoption-tools
    "$root"/scripts/with-cluster "$root"/scripts/test-all "$root"/scripts/test-sanitize "$root"/scripts/fuzz
    "$root"/scripts/build-pg "$root"/scripts/test-pg-regress "$root"/scripts/test-valgrind "$root"/scripts/package
    "$root"/scripts/test-packages)
# Programs used as a command: first word of a line or after a shell operator, `$(`, then/do/if/!/time;
# comment lines are skipped.
id_used=()
for prog in "${id_programs[@]}"; do
    if grep -hvE '^[[:space:]]*#' "${id_files[@]}" 2>/dev/null |
        grep -qE "(^[[:space:]]*|[|;&(\`][[:space:]]*|\\\$\\([[:space:]]*|(then|do|if|!|time)[[:space:]]+)${prog//+/\\+}[[:space:]]"; then
        id_used+=("$prog")
    fi
done
# The Debian package of each (one dpkg query for all; /usr/bin and /bin alike, a merged /usr lists either).
id_paths=()
id_bad=()
for prog in "${id_used[@]}"; do
    path=$(command -v "$prog" 2>/dev/null) || { id_bad+=("$prog (not installed)"); continue; }
    id_paths+=("$path" "$(readlink -f "$path")" "/usr/bin/$prog" "/bin/$prog" "/usr/sbin/$prog" "/sbin/$prog")
done
id_owners=$(dpkg-query -S "${id_paths[@]}" 2>/dev/null | sed -n 's/^\([^:, ]*\)\(:[a-z0-9]*\)\{0,1\}: \(.*\)$/\3 \1/p')
id_allowed=""  # install-deps --tests's packages, Sqitch's, and what they depend on: computed when needed
id_checked=0
for prog in "${id_used[@]}"; do
    command -v "$prog" >/dev/null 2>&1 || continue
    path=$(command -v "$prog")
    pkg=""
    for p in "$path" "$(readlink -f "$path")" "/usr/bin/$prog" "/bin/$prog" "/usr/sbin/$prog" "/sbin/$prog"; do
        pkg=$(awk -v p="$p" '$1 == p {print $2; exit}' <<<"$id_owners")
        [ -z "$pkg" ] || break
    done
    if [ -z "$pkg" ]; then
        id_bad+=("$prog ($path belongs to no Debian package)")
        continue
    fi
    id_checked=$((id_checked + 1))
    read -r essential priority < <(dpkg-query -W -f='${Essential} ${Priority}\n' "$pkg" 2>/dev/null | head -n 1)
    [ "$essential" = yes ] || [ "$priority" = required ] && continue
    "$root/scripts/install-deps" --tests --list | grep -qxF "$pkg" && continue
    if [ -z "$id_allowed" ]; then
        id_allowed=$({ "$root/scripts/install-deps" --tests --list; echo sqitch; echo libdbd-pg-perl; } |
            xargs apt-cache depends --recurse --no-recommends --no-suggests --no-conflicts --no-breaks \
                --no-replaces --no-enhances 2>/dev/null | sed -n 's/^\([a-z0-9][a-z0-9.+-]*\)\(:[a-z0-9]*\)\{0,1\}$/\1/p' |
            sort -u)
    fi
    grep -qxF "$pkg" <<<"$id_allowed" && continue
    id_bad+=("$prog (package $pkg)")
done
if [ ${#id_bad[@]} -eq 0 ] && [ "$id_checked" -ge 8 ]; then
    pass "install-deps --tests installs every program the tests run ($id_checked checked: ${id_used[*]})"
else
    fail "install-deps --tests installs every program the tests run" \
        "not from install-deps --tests nor from a bare Debian: ${id_bad[*]:-none} ($id_checked checked: ${id_used[*]})"
fi

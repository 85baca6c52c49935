#!/usr/bin/env bash
# Integration tests: drive the real pgmig binary (and psql sessions) against a running cluster
# (PGHOST/PGPORT/PGUSER), e.g. scripts/with-cluster tests/integration/run.sh. Runs every
# tests/integration/*_test.sh (or only those named as arguments), each test in its own database and
# folders. Ends with "integration: N passed, N failed" and exits non-zero when anything failed.
set -u
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tests/integration/lib.sh
. "$here/lib.sh"

if [ $# -gt 0 ]; then files=("$@"); else files=("$here"/*_test.sh); fi
for f in "${files[@]}"; do
    it_file=${f##*/}  # (a test may use $f itself)
    it_start=$SECONDS
    echo "# $it_file"
    # shellcheck disable=SC1090
    . "$f"
    echo "# $it_file: $((SECONDS - it_start)) s"
done

echo "integration: $passed passed, $failed failed"
[ "$failed" -eq 0 ]

# Builds an update script (extension/pgmig--A--B.sql) from its source (extension/update/A--B.sql) and
# the install script of the release it updates to, so that a function's definition is written once:
#   -- @copy: <first line of a statement in the install script>
#   -- @replace: <first line of a CREATE FUNCTION statement in the install script>
# are replaced by that whole statement (up to the ';' that ends it outside dollar quotes); @replace
# makes it CREATE OR REPLACE FUNCTION. Every other line is copied as it stands. A directive whose
# statement is not found, or is found twice, fails the build.
#   usage: awk -v install=extension/pgmig--B.sql -f extension/update/statements.awk SOURCE > OUT
function statement_at(start,    i, out, line, quoted, n) {
    out = ""
    quoted = 0
    for (i = start; i <= nlines; i++) {
        line = lines[i]
        out = out line "\n"
        n = gsub(/\$[A-Za-z_]*\$/, "&", line)
        if (n % 2 == 1) quoted = !quoted
        if (!quoted && line ~ /;[ \t]*(--.*)?$/) return out
    }
    printf "update script: the statement at line %d of %s does not end\n", start, install > "/dev/stderr"
    failed = 1
    exit 1
}
function find(first,    i, found) {
    found = 0
    for (i = 1; i <= nlines; i++) {
        if (lines[i] == first) {
            if (found) {
                printf "update script: \"%s\" is twice in %s\n", first, install > "/dev/stderr"
                failed = 1
                exit 1
            }
            found = i
        }
    }
    if (!found) {
        printf "update script: \"%s\" is not in %s\n", first, install > "/dev/stderr"
        failed = 1
        exit 1
    }
    return found
}
BEGIN {
    if (install == "") { print "update script: -v install=FILE is required" > "/dev/stderr"; failed = 1; exit 1 }
    nlines = 0
    while ((getline l < install) > 0) lines[++nlines] = l
    close(install)
    if (nlines == 0) { printf "update script: cannot read %s\n", install > "/dev/stderr"; failed = 1; exit 1 }
}
/^-- @copy: / {
    first = substr($0, length("-- @copy: ") + 1)
    printf "%s", statement_at(find(first))
    next
}
/^-- @replace: / {
    first = substr($0, length("-- @replace: ") + 1)
    if (first !~ /^CREATE FUNCTION /) {
        printf "update script: @replace takes a CREATE FUNCTION line, not \"%s\"\n", first > "/dev/stderr"
        failed = 1
        exit 1
    }
    s = statement_at(find(first))
    sub(/^CREATE FUNCTION /, "CREATE OR REPLACE FUNCTION ", s)
    printf "%s", s
    next
}
{ print }
END { if (failed) exit 1 }

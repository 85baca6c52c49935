#!/usr/bin/env python3
"""Prints the up SQL of a sample project (tests/adoption/<tool>) in the order its tool applies it, for psql:
a second reading of the samples, independent of pgmig's readers, that adoption_formats_test.sh runs with
psql to compare fingerprints. It knows only what the samples use of each format.

usage: up_sql.py TOOL FOLDER
"""
import os
import re
import sys


def between(text, start, stop):
    """Lines after the first line matching `start` up to the next line matching `stop` (or the end)."""
    out, inside = [], False
    for line in text.splitlines():
        if re.match(start, line):
            inside = True
            continue
        if inside and re.match(stop, line):
            inside = False
            continue
        if inside:
            out.append(line)
    return "\n".join(out) + "\n"


def files(folder):
    return sorted(f for f in os.listdir(folder) if f.endswith(".sql"))


def read(folder, name):
    with open(os.path.join(folder, name), encoding="utf-8") as f:
        return f.read()


def goose(folder):
    for name in sorted(files(folder), key=lambda n: int(n.split("_")[0])):
        yield between(read(folder, name), r"-- \+goose Up", r"-- \+goose Down")


def dbmate(folder):
    for name in files(folder):
        yield between(read(folder, name), r"-- migrate:up", r"-- migrate:down")


def sql_migrate(folder):
    def key(n):
        m = re.match(r"(\d+)", n)
        return (0, int(m.group(1)), n) if m else (1, 0, n)
    for name in sorted(files(folder), key=key):
        yield between(read(folder, name), r"-- \+migrate Up", r"-- \+migrate Down")


def node_pg_migrate(folder):
    for name in sorted(files(folder), key=lambda n: int(re.match(r"\d+", n).group(0))):
        yield between(read(folder, name), r"-- Up Migration", r"-- Down Migration")


def popx(folder):
    ups = {}
    for name in files(folder):
        m = re.match(r"^(\d+)_([^.]+)(\.[a-z0-9]+)?(\.autocommit)?\.up\.sql$", name)
        if not m:
            continue
        dialect = m.group(3) or ".all"
        if dialect == ".autocommit":
            dialect = ".all"
        if dialect in (".postgres", ".all"):
            best = ups.get(m.group(1))
            if best is None or dialect == ".postgres":
                ups[m.group(1)] = (dialect, name)
    for version in sorted(ups):
        yield read(folder, ups[version][1])


def liquibase(folder):
    master = read(folder, "db.changelog-master.xml")
    for include in re.findall(r'<include file="([^"]+)"', master):
        text = read(folder, include)
        for changeset in re.split(r"(?m)^--changeset ", text)[1:]:
            head, _, body = changeset.partition("\n")
            if "dbms:mysql" in head:
                continue
            body = re.sub(r"(?s)/\* liquibase rollback.*?\*/", "", body)
            yield "\n".join(l for l in body.splitlines() if not l.startswith("--")) + "\n"


READERS = {"goose": goose, "dbmate": dbmate, "sql-migrate": sql_migrate, "node-pg-migrate": node_pg_migrate,
           "popx": popx, "liquibase": liquibase}

if __name__ == "__main__":
    tool, folder = sys.argv[1], sys.argv[2]
    sys.stdout.write("".join(READERS[tool](folder)))

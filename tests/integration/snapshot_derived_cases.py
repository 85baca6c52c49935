#!/usr/bin/env python3
"""A random sequence of migrations and out-of-band changes for snapshot_derived_test.sh.

Prints one psql script for a database with pgmig and citext: the base schema of
rollback_scope_cases.py plus objects whose drop reports only a part of another object (an operator's
commutator, a publication's table, a default), then STEPS random steps:
- apply a new migration (1-3 random DDL statements, its down their inverse), or
- roll back the newest migration, or
- run a random DDL statement outside migrations (audited: the next snapshot describes everything), or
- rename a role from another database (unaudited here: the roles' names decide).
The first four steps are one of each (the first migration is a GRANT on a function, whose objects
pgmig cannot tell), so that every way of taking a snapshot is taken whatever the seed.
Statements that do not fit the schema as the steps left it fail and are skipped, the same way in every
database. After each step the table snap_steps gets: what ran, whether it succeeded, how the newest
snapshot was taken, whether the expected schema equals the whole live schema, and the drift report.
The script is the same for every value of pgmig.snapshot_scope; the caller sets it per database.
Usage: snapshot_derived_cases.py SEED STEPS ROLE DATABASE (ROLE: a role the script creates; DATABASE:
the one it runs in, to come back to after renaming a role from database postgres)
"""
import os
import random
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from rollback_scope_cases import BASE, Case  # noqa: E402  (the random DDL and its base schema)

EXTRA_BASE = """
CREATE FUNCTION mood_lt(a mood, b mood) RETURNS boolean LANGUAGE sql IMMUTABLE AS 'SELECT a < b';
CREATE FUNCTION mood_gt(a mood, b mood) RETURNS boolean LANGUAGE sql IMMUTABLE AS 'SELECT a > b';
CREATE OPERATOR <<< (LEFTARG = mood, RIGHTARG = mood, FUNCTION = mood_lt, COMMUTATOR = >>>);
CREATE OPERATOR >>> (LEFTARG = mood, RIGHTARG = mood, FUNCTION = mood_gt, COMMUTATOR = <<<);
CREATE FUNCTION next_score() RETURNS int LANGUAGE sql AS 'SELECT 1';
ALTER TABLE items ADD COLUMN score int DEFAULT next_score();
CREATE PUBLICATION shop FOR TABLE customers;
CREATE ROLE {role}_x NOLOGIN;
CREATE TABLE owned_by_x (id int);
ALTER TABLE owned_by_x OWNER TO {role}_x;
"""


class SequenceCase(Case):
    """Case's DDL, plus DDL whose drop reports only a part of an object that stays (the part's address is
    all that is left: pgmig.expected_parts finds the object)."""

    def op(self):
        r, n = self.rng, self.n
        extra = r.randrange(10)
        if extra == 0:  # DROP TABLE reports the publication's member, not the publication
            self.pair(f"CREATE TABLE pt{n} (id int); ALTER PUBLICATION shop ADD TABLE pt{n};", f"DROP TABLE pt{n};")
        elif extra == 1:  # DROP OPERATOR reports that operator only, and clears its commutator's link
            self.pair("DROP OPERATOR >>> (mood, mood);",
                      "CREATE OPERATOR >>> (LEFTARG = mood, RIGHTARG = mood, FUNCTION = mood_gt, COMMUTATOR = <<<);")
        elif extra == 2:  # DROP FUNCTION ... CASCADE reports the default it drops, not its table
            self.pair("DROP FUNCTION next_score() CASCADE;",
                      "CREATE FUNCTION next_score() RETURNS int LANGUAGE sql AS 'SELECT 1'; "
                      "ALTER TABLE items ALTER COLUMN score SET DEFAULT next_score();")
        elif extra == 3:
            t = r.choice(["orders", "items"])
            self.pair(f"ALTER PUBLICATION shop ADD TABLE {t};", f"ALTER PUBLICATION shop DROP TABLE {t};")
        else:
            super().op()


def out_of_band(rng, n, role):
    """One DDL statement run outside migrations."""
    case = SequenceCase(rng, n, role)
    case.op()
    return case.up[0]


def main():
    seed, steps, role, database = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], sys.argv[4]
    rng = random.Random(seed)
    out = [BASE.format(role=role), EXTRA_BASE.format(role=role)]
    out.append("CREATE SCHEMA steps; CREATE TABLE steps.snap_steps (step int, what text, ok boolean, derived boolean, full_because text, "
               "described int, same boolean, drift text);")
    out.append("SELECT migrate_register('1', 'start', 'SELECT 1', 'SELECT 1') IS NOT NULL;")
    out.append("SELECT count(*) FROM migrate_apply();")  # the first snapshot describes everything
    renamed = False
    version = 1
    # The first four steps take each way once, whatever the seed: a migration whose objects pgmig cannot
    # tell (a GRANT on a function), its rollback, a role renamed elsewhere, DDL outside migrations.
    fixed = [0.0, 0.6, 0.99, 0.8]
    for step in range(1, steps + 1):
        roll = fixed[step - 1] if step <= len(fixed) else rng.random()
        if step == 1:
            version += 1
            up, down = f"GRANT EXECUTE ON FUNCTION twice(int) TO {role};", f"REVOKE EXECUTE ON FUNCTION twice(int) FROM {role};"
            what = f"apply {version}: " + up
            run = [f"SELECT migrate_register('{version}', 'm{version}', $up${up}$up$, $down${down}$down$) IS NOT NULL;",
                   "SELECT count(*) FROM migrate_apply();"]
        elif roll < 0.55:
            version += 1
            case = SequenceCase(rng, version, role)
            for _ in range(rng.randint(1, 3)):
                case.op()
            up, down = case.scripts()
            what = f"apply {version}: " + up.replace("\n", " ")
            run = [f"SELECT migrate_register('{version}', 'm{version}', $up${up}$up$, $down${down}$down$) IS NOT NULL;",
                   "SELECT count(*) FROM migrate_apply();"]
        elif roll < 0.75:
            what = "rollback"
            run = ["SELECT count(*) FROM migrate_rollback(1);"]
        elif roll < 0.93:
            statement = out_of_band(rng, 10000 + step, role)
            what = "out of band: " + statement.replace("\n", " ")
            run = [statement]
        else:
            old, new = (f"{role}_y", f"{role}_x") if renamed else (f"{role}_x", f"{role}_y")
            renamed = not renamed
            what = f"rename role {old} to {new} from database postgres"
            run = [f"\\c postgres", f"ALTER ROLE {old} RENAME TO {new};", f"\\c {database}"]
        out.append(f"-- step {step}: {what}")
        out.append("SELECT coalesce(max(id), 0) AS before_id FROM pgmig.snapshots \\gset")
        out.append("\\set ON_ERROR_STOP 0")
        out.append("\\set ok true")
        for line in run:
            out.append(line)
            if not line.startswith("\\c"):
                out.append("\\if :ERROR\n\\set ok false\n\\endif")
        out.append("\\set ON_ERROR_STOP 1")
        # A migration that failed or was rolled back leaves the ledger: the next apply runs only its own.
        out.append("DELETE FROM pgmig.migrations WHERE applied_at IS NULL;")
        quoted = what.replace("'", "''")
        # "same": right after a snapshot the expected schema is the whole live schema, whichever way it was taken
        out.append(f"""INSERT INTO steps.snap_steps
    SELECT {step}, '{quoted}', :ok, s.derived, s.full_because, s.described,
           CASE WHEN s.id > :before_id THEN migrate_expected_snapshot() = migrate_snapshot() END,
           (SELECT coalesce(string_agg(format('%s %s %s [%s]', d.object_type, d.identity, d.change, d.detail),
                                       '; ' ORDER BY d.object_type, d.identity), '')
              FROM migrate_drift() d)
      FROM (SELECT * FROM pgmig.snapshots ORDER BY id DESC LIMIT 1) s;""")
    print("\n".join(out))


if __name__ == "__main__":
    main()

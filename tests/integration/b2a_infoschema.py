"""Checks of t1009-binlog2avro-infoschema.sh: one workload written three
times (binlog_row_metadata FULL, MINIMAL, NO_LOG), read live from the start
of each phase; the changes of every phase, in every run, must equal those of
the FULL phase, and every run must announce the same schemas.

  b2a_infoschema.py workload SEED DB NOPS DDL DML
                                 b2a_diff.py's tables and workload, plus
                                 x_extra, as two SQL files
  b2a_infoschema.py same TNAME BOUNDS RUN...
                                 BOUNDS: "FILE:POS FILE:POS ..." (phase i
                                 from bound i to bound i+1); RUN: streamcat
                                 output of a run that started at bound k,
                                 given as K=PATH
"""
import json
import os
import sys

sys.path.insert(0, os.path.dirname(__file__))
import b2a_diff  # noqa: E402

# MariaDB's own types, latin1 ENUM/SET values, a key that is a unique index
# of NOT NULL columns (no PRIMARY KEY), YEAR and an unsigned DECIMAL.
EXTRA_DDL = """CREATE TABLE `x_extra` (a INT NOT NULL,
  b VARCHAR(5) CHARACTER SET latin1 NOT NULL, u UUID, i6 INET6,
  el ENUM('é','x y','it''s') CHARACTER SET latin1,
  sl SET('ä','b','ç') CHARACTER SET latin1, y YEAR, dt DATETIME(6),
  dd DECIMAL(20,4) UNSIGNED, js JSON, n INT UNSIGNED, KEY (y),
  UNIQUE KEY ab (a, b)) ENGINE=InnoDB;"""


def extra_dml(n):
    out = []
    for i in range(1, n + 1):
        out.append("INSERT INTO `x_extra` VALUES (%d, 'é%d', '123e4567-e89b-12d3-a456-%012d', "
                   "'::%x', '%s', '%s', %d, '2024-02-29 12:34:56.%06d', %d.%04d, '{\"k\": %d}', %d);" % (
                       i, i % 7, i, i, ["é", "x y", "it's"][i % 3].replace("'", "''"),
                       ["ä,b", "", "ç", "b,ç"][i % 4], 1901 + i, i, i * 1000, i, i, 4000000000 + i))
        if i % 3 == 0:
            out.append("UPDATE `x_extra` SET el = NULL, sl = 'ä,ç', n = n + 1 WHERE a = %d;" % (i - 1))
        if i % 5 == 0:
            out.append("DELETE FROM `x_extra` WHERE a = %d;" % (i - 2))
    return out


def cmd_workload(seed, db, nops, ddl_path, dml_path):
    with open(ddl_path, "w") as f:
        f.write("\n".join(b2a_diff.ddl(db) + [EXTRA_DDL]) + "\n")
    dml = b2a_diff.Gen(seed).workload(nops)
    # x_extra's rows among the others, each phase alike.
    dml[2:2] = ["SET NAMES utf8mb4;"] + extra_dml(40)
    with open(dml_path, "w") as f:
        f.write("\n".join(dml) + "\n")


def key(src):
    return (src["file"], src["pos"])


def parse_bound(s):
    f, p = s.rsplit(":", 1)
    return (f, int(p))


def read_run(path):
    """The run's schemas (fingerprint -> text) and its changes, each with
    what differs between phases removed: positions, times, GTIDs, the
    client's thread id."""
    schemas, changes = {}, []
    with open(path, encoding="utf-8") as f:
        for line in f:
            o = json.loads(line)
            if o["kind"] == "schema":
                schemas[o["fingerprint"]] = json.dumps(o["schema"], separators=(",", ":"),
                                                       ensure_ascii=False)
            elif o["kind"] == "change":
                v = o["value"]
                at = None
                if v is not None:
                    at = key(v["source"])
                    for k in ("ts_ms", "file", "pos", "gtid", "thread"):
                        v["source"].pop(k, None)
                    v.pop("ts_ms", None)
                    if v.get("transaction"):
                        v["transaction"].pop("id", None)
                for k in ("position", "version"):
                    o.pop(k, None)
                changes.append((at, json.dumps(o, ensure_ascii=False)))
    # A tombstone belongs where its delete was.
    last = None
    for i, (at, c) in enumerate(changes):
        if at is None:
            changes[i] = (last, c)
        last = changes[i][0]
    return schemas, changes


def cmd_same(tname, bounds, runs):
    b = [parse_bound(x) for x in bounds.split()]
    fails = 0

    def say(ok, what, why=""):
        nonlocal fails
        if ok:
            print("ok %s: %s" % (tname, what))
        else:
            fails += 1
            print("not ok %s: %s: %s" % (tname, what, why))

    names = ["FULL", "MINIMAL", "NO_LOG"]
    parsed = []
    for r in runs:
        k, path = r.split("=", 1)
        parsed.append((int(k), path) + read_run(path))
    ref = None
    for start, path, schemas, changes in parsed:
        for ph in range(start, len(b) - 1):
            got = [c for at, c in changes if at is not None and b[ph] <= at < b[ph + 1]]
            if ref is None:
                ref = got
                say(len(ref) > 500, "the %s phase has %d changes" % (names[ph], len(ref)))
                continue
            if got == ref:
                say(True, "run from %s: the %s phase's %d changes equal FULL's "
                    "(values, keys, fingerprints)" % (names[start], names[ph], len(got)))
            else:
                diff = next((i for i, (x, y) in enumerate(zip(got, ref)) if x != y), min(len(got), len(ref)))
                why = "%d changes, %d wanted; first difference at %d: %s | %s" % (
                    len(got), len(ref), diff, got[diff][:300] if diff < len(got) else "-",
                    ref[diff][:300] if diff < len(ref) else "-")
                say(False, "run from %s: the %s phase equals FULL" % (names[start], names[ph]), why)
    first = parsed[0][2]
    for start, path, schemas, changes in parsed[1:]:
        if schemas == first:
            say(True, "run from %s announces the FULL run's %d schemas, byte for byte" % (
                names[start], len(schemas)))
        else:
            extra = sorted(set(schemas.items()) - set(first.items()))
            say(False, "run from %s announces FULL's schemas" % names[start],
                "%d schemas, %d wanted; one not in FULL: %s" % (
                    len(schemas), len(first), extra[0][1][:400] if extra else "-"))
    return fails


def main():
    if sys.argv[1] == "workload":
        cmd_workload(int(sys.argv[2]), sys.argv[3], int(sys.argv[4]), sys.argv[5], sys.argv[6])
        return 0
    if sys.argv[1] == "same":
        return 1 if cmd_same(sys.argv[2], sys.argv[3], sys.argv[4:]) else 0
    print(__doc__, file=sys.stderr)
    return 64


if __name__ == "__main__":
    sys.exit(main())

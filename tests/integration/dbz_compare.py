"""binlog2avro against Debezium, value for value (t6001, bench/debezium).

  dbz_compare.py OURS DEBEZIUM [MODE]

OURS: `binlog2avro ... | streamcat` (JSON lines); DEBEZIUM: the events of
bench/DebeziumRunner.java (the JSON converter with schemas), both of the
same binlog range, the stop table left out. MODE names Debezium's settings:
"defaults" (decimal.handling.mode=precise, time.precision.mode=
adaptive_time_microseconds, bigint.unsigned.handling.mode=long) or
"precise" (bigint.unsigned.handling.mode=precise too).

Both sides are brought to one canonical form (integers, Decimal, float32
for FLOAT, bytes, microseconds since the epoch for TIMESTAMP, (WKB, SRID)
for GEOMETRY), then compared change by change: op, before, after column by
column, and the source coordinates. Each difference must match one entry of
KNOWN, the differences docs/binlog2avro.md explains ("Debezium"); any other
fails. Prints `ok ...` / `not ok ...` lines and a summary per entry.
"""
import base64
import collections
import datetime
import decimal
import json
import struct
import sys

TNAME = "t6001-debezium-compare"
EPOCH = datetime.datetime(1970, 1, 1, tzinfo=datetime.timezone.utc)
U64 = 1 << 64


def line(ok, what, why=""):
    print(("ok %s: %s" % (TNAME, what)) if ok else ("not ok %s: %s: %s" % (TNAME, what, why)))
    return ok


def f32(x):
    return struct.unpack("<f", struct.pack("<f", x))[0]


def zoned_us(s):
    """ISO-8601 UTC text (Debezium's ZonedTimestamp) to microseconds."""
    d = datetime.datetime.fromisoformat(s.replace("Z", "+00:00"))
    return (d - EPOCH) // datetime.timedelta(microseconds=1)


# ---- Debezium's JSON converter with schemas ---------------------------------

def dbz_value(fs, v):
    if v is None:
        return None
    name, typ = fs.get("name", ""), fs["type"]
    if name == "org.apache.kafka.connect.data.Decimal":
        raw = base64.b64decode(v)
        n = int.from_bytes(raw, "big", signed=True)
        return decimal.Decimal(n).scaleb(-int(fs["parameters"]["scale"]))
    if name in ("io.debezium.data.geometry.Geometry", "io.debezium.data.geometry.Point"):
        # No SRID and SRID 0 say the same in MySQL.
        return (base64.b64decode(v["wkb"]), v.get("srid") or 0)
    if name == "io.debezium.time.ZonedTimestamp":
        return zoned_us(v)
    if typ == "bytes":
        return base64.b64decode(v)
    if typ == "float":
        return f32(v)
    return v


def dbz_row(schema, row):
    if row is None:
        return None
    return {f["field"]: dbz_value(f, row.get(f["field"])) for f in schema["fields"]}


def dbz_changes(path):
    out, tombstones = [], collections.Counter()
    for raw in open(path, encoding="utf-8"):
        e = json.loads(raw)
        if "tombstone" in e:
            tombstones["keyed" if e["tombstone"] is not None else "keyless"] += 1
            continue
        if e["payload"]["source"]["table"] == "dbz_stop":
            continue
        p, fields = e["payload"], {f["field"]: f for f in e["schema"]["fields"]}
        rs = fields["after"] if p["after"] is not None else fields["before"]
        out.append({
            "op": p["op"],
            "before": dbz_row(rs, p["before"]),
            "after": dbz_row(rs, p["after"]),
            "source": p["source"],
        })
    return out, tombstones


# ---- binlog2avro through streamcat ------------------------------------------

def avro_branch(t):
    if isinstance(t, list):
        return [x for x in t if x != "null"][0]
    return t


def our_value(fs, v):
    if v is None or v == "ABSENT":
        return v
    if isinstance(v, dict) and "wkb" in v:  # the Geometry record, by name or not
        return (v["wkb"].encode("latin-1"), v.get("srid") or 0)
    t = avro_branch(fs["type"])
    cdc = fs.get("cdc.type", "")
    if isinstance(t, dict):
        cname, lt, base = t.get("connect.name", ""), t.get("logicalType"), t.get("type")
        if cdc.startswith("bigint unsigned"):
            return int(v)
        if cname == "org.apache.kafka.connect.data.Decimal" or lt == "decimal":
            return decimal.Decimal(v)
        if cname == "io.debezium.time.ZonedTimestamp":
            return zoned_us(v)
        t = base
    if cdc.startswith("bigint unsigned"):
        return int(v)
    if t in ("bytes", "fixed"):
        return v.encode("latin-1")
    if t == "float":
        return f32(v)
    return v


def our_changes(path):
    schemas, out, tombstones = {}, [], 0
    for raw in open(path, encoding="utf-8"):
        f = json.loads(raw)
        if f["kind"] == "schema":
            schemas[f["fingerprint"]] = f["schema"]
        if f["kind"] != "change":
            continue
        if f["value"] is None:
            tombstones += 1
            continue
        s = schemas[f["value_schema"]]
        rec = [x for x in s["fields"] if x["name"] == "before"][0]["type"][1]
        fields = {x["name"]: x for x in rec["fields"]}
        v = f["value"]

        def row(r):
            if r is None:
                return None
            return {k: our_value(fields[k], x) for k, x in r.items()}
        out.append({"op": v["op"], "before": row(v["before"]), "after": row(v["after"]),
                    "source": v["source"], "types": {k: x.get("cdc.type", "") for k, x in fields.items()}})
    return out, tombstones


# ---- the differences that are explained --------------------------------------
# (name, applies to which column type, predicate on (ours, debezium), modes)

def bigint_wrap(o, d):
    return isinstance(o, int) and o >= (1 << 63) and d == o - U64


def rounded_28(o, d):
    """Debezium's DECIMAL keeps 28 significant digits (more are rounded)."""
    if not isinstance(o, decimal.Decimal) or not isinstance(d, decimal.Decimal):
        return False
    return any(decimal.Context(prec=28, rounding=r).plus(o) == d
               for r in (decimal.ROUND_HALF_UP, decimal.ROUND_HALF_EVEN))


C1 = "\x81\x8d\x8f\x90\x9d"


def c1_replaced(o, d):
    """MySQL's latin1 (cp1252) maps 0x81 0x8D 0x8F 0x90 0x9D to U+0081 ...;
    Debezium's windows-1252 decoder replaces them with U+FFFD."""
    return (isinstance(o, str) and any(c in o for c in C1) and
            d == "".join("\ufffd" if c in C1 else c for c in o))


def year0(o, d):
    """A date of year 0 (0000-MM-DD, month and day set): binlog2avro gives
    its proleptic Gregorian value, Debezium null (0 in a NOT NULL column)."""
    if d not in (None, 0) or not isinstance(o, int):
        return False
    days = -719528  # 0000-01-01
    return any(days * u <= o < (days + 366) * u for u in (1, 86400000, 86400000000))


def binary_text(o, d):
    return isinstance(o, bytes) and isinstance(d, str) and d.encode("latin-1") == o


def is_type(*prefixes):
    return lambda typ: typ.startswith(prefixes)


KNOWN = [
    ("BIGINT UNSIGNED over 2^63 under bigint.unsigned.handling.mode=long: "
     "Debezium wraps to a negative long, binlog2avro keeps the value",
     is_type("bigint unsigned"), bigint_wrap, ("defaults",)),
    ("DECIMAL of more than 28 significant digits: Debezium rounds to 28, "
     "binlog2avro is exact", is_type("decimal"), rounded_28, ("defaults", "precise")),
    ("YEAR 0000: Debezium 1900, binlog2avro 0", is_type("year"),
     lambda o, d: o == 0 and d == 1900, ("defaults", "precise")),
    ("latin1 bytes 0x81 0x8D 0x8F 0x90 0x9D: Debezium U+FFFD, binlog2avro "
     "U+0081 ... as MySQL converts them", is_type("char", "varchar", "text", "tinytext",
                                                 "mediumtext", "longtext"),
     c1_replaced, ("defaults", "precise")),
    ("VARCHAR(n) CHARACTER SET binary (a VARBINARY): Debezium a string of the bytes "
     "read as ISO-8859-1, binlog2avro the bytes", is_type("varbinary"), binary_text,
     ("defaults", "precise")),
    ("DATE/DATETIME in year 0 with month and day set: Debezium null (0, "
     "1970-01-01, in a NOT NULL column), binlog2avro the value", is_type("date"), year0, ("defaults", "precise")),
    ("the zero TIMESTAMP (0000-00-00 00:00:00): Debezium 1970-01-01T00:00:00Z, "
     "binlog2avro null", is_type("timestamp"), lambda o, d: o is None and d == 0,
     ("defaults", "precise")),
    ("the zero DATETIME in a NOT NULL column: Debezium 0 (1970-01-01), "
     "binlog2avro null", is_type("datetime"), lambda o, d: o is None and d == 0,
     ("defaults", "precise")),
]


def explain(typ, o, d, mode):
    for name, applies, pred, modes in KNOWN:
        if mode in modes and applies(typ) and pred(o, d):
            return name
    return None


TOMB_KEYLESS = ("a delete from a table without a primary key: Debezium follows it with "
                "a tombstone of null key (which no compaction can use), binlog2avro with none")

SOURCE_FIELDS = ("db", "table", "server_id", "gtid", "file", "pos", "row", "ts_ms", "thread", "query")


def main():
    ours, tomb = our_changes(sys.argv[1])
    dbz, dtomb = dbz_changes(sys.argv[2])
    mode = sys.argv[3] if len(sys.argv) > 3 else "defaults"
    ok = line(len(ours) == len(dbz) > 0,
              "%s: as many changes on both sides (%d, %d)" % (mode, len(ours), len(dbz)))
    ok = line(tomb == dtomb["keyed"], "%s: as many tombstones on both sides (%d, %d)"
              % (mode, tomb, dtomb["keyed"])) and ok
    if dtomb["keyless"]:
        print("# %s: explained difference, %d values: %s" % (mode, dtomb["keyless"], TOMB_KEYLESS))
    seen = collections.Counter()
    unexplained = collections.defaultdict(list)
    src = collections.defaultdict(list)
    for i, (o, d) in enumerate(zip(ours, dbz)):
        where = "%s.%s change %d (%s)" % (o["source"]["db"], o["source"]["table"], i, o["source"]["pos"])
        if o["op"] != d["op"]:
            unexplained["op"].append("%s: %s vs %s" % (where, o["op"], d["op"]))
            continue
        for f in SOURCE_FIELDS:
            if o["source"].get(f) != d["source"].get(f):
                src[f].append("%s: %r vs %r" % (where, o["source"].get(f), d["source"].get(f)))
        for img in ("before", "after"):
            a, b = o[img], d[img]
            if (a is None) != (b is None):
                unexplained["image"].append("%s: %s %s vs %s" % (where, img, a is None, b is None))
                continue
            if a is None:
                continue
            for col in sorted(set(a) | set(b)):
                x, y = a.get(col, "MISSING"), b.get(col, "MISSING")
                if x == y:
                    continue
                typ = o["types"].get(col, "?")
                why = explain(typ, x, y, mode)
                if why:
                    seen[why] += 1
                else:
                    unexplained["%s.%s (%s)" % (o["source"]["table"], col, typ)].append(
                        "%s %s: %r vs %r" % (where, img, x, y))
    for k, v in sorted(unexplained.items()):
        ok = line(False, "%s: %s: %d unexplained differences" % (mode, k, len(v)), "; ".join(v[:2])) and ok
    if not unexplained and ok:
        line(True, "%s: every value equal or explained (%d changes)" % (mode, len(ours)))
    for f in SOURCE_FIELDS:
        v = src.get(f, [])
        ok = line(not v, "%s: source.%s equal on every change" % (mode, f),
                  "%d differ, first %s" % (len(v), "; ".join(v[:2]))) and ok
    for name, n in sorted(seen.items()):
        print("# %s: explained difference, %d values: %s" % (mode, n, name))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())

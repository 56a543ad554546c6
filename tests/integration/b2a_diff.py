"""Differential test of binlog2avro on the local MariaDB, run by
t1002-binlog2avro-differential.sh.

  b2a_diff.py sql SEED DB [NOPS [full]]
                                 the schema and a random workload (SQL on stdout);
                                 full: no MINIMAL or NOBLOB row images
  b2a_diff.py selects DB         SELECTs that dump the final tables canonically
  b2a_diff.py check TNAME DB SQL VV JSONL DUMP
                                 compare: mariadb-binlog -vv against our stream,
                                 our stream against the workload and against
                                 the final tables (DUMP: output of `selects`)

Every column type of MariaDB is covered: all integer widths signed and
unsigned, DECIMAL up to (65,30), FLOAT, DOUBLE, BIT(1..64), YEAR, DATE,
DATETIME / TIMESTAMP / TIME with 0..6 fractional digits (negative TIME, zero
and partial dates), CHAR / VARCHAR / TEXT in utf8mb4 and latin1, BINARY /
VARBINARY / BLOB, ENUM, SET, JSON and GEOMETRY. The workload is generated
from the seed: multi-row inserts, updates (of the primary key too), deletes,
multi-statement transactions, rolled-back transactions and savepoints whose
rows must not appear.
"""
import datetime
import json
import random
import re
import struct
import sys

sys.path.insert(0, __import__("os").path.dirname(__file__))
import b2a_vv  # noqa: E402

MARK = 2000000000          # ids of rows written only by rolled-back work
U64 = 18446744000000000000  # t_num's BIGINT UNSIGNED keys start here
BIG = [10]                  # values of 64 KB to 1 MB left to generate
EPOCH = datetime.datetime(1970, 1, 1)
ABSENT = type("Absent", (), {"__repr__": lambda self: "ABSENT"})()


# ---- value generators: each returns an SQL literal --------------------------

def q_text(s, cs="utf8mb4"):
    return "_%s X'%s'" % (cs, s.encode("utf-8" if cs == "utf8mb4" else "cp1252").hex())


def q_bytes(b):
    return "X'%s'" % b.hex()


UNI = ("abcxyzABC019 _-'\"\\%`\t\n\r\x00\x01\x1f\x7f" "éüßøÆ€ž" "日本語中文한국"
       "\U0001F600\U0001F4A9\U00010348" "\u200b\ufeff")


def r_unistr(r, n):
    return "".join(r.choice(UNI) for _ in range(r.randint(0, n)))


# MySQL's latin1 is cp1252 with 0x81 0x8D 0x8F 0x90 0x9D as U+0081 ... U+009D;
# those five come only in one transaction at the end (Gen.latin1_c1).
LATIN1_C1 = b"\x81\x8d\x8f\x90\x9d"
LATIN1 = bytes(b for b in range(256) if b not in LATIN1_C1)


def r_latin1(r, n):
    return bytes(r.choice(LATIN1) for _ in range(r.randint(0, n)))


def g_int(bits, unsigned):
    lo, hi = (0, 2 ** bits - 1) if unsigned else (-2 ** (bits - 1), 2 ** (bits - 1) - 1)

    def g(r):
        c = r.random()
        if c < 0.25:
            return str(r.choice([lo, hi, 0, 1, hi - 1, lo + 1] + ([] if unsigned else [-1])))
        return str(r.randint(lo, hi))
    return g


def g_dec(p, s):
    def g(r):
        c = r.random()
        ip = p - s
        if c < 0.15:
            digits = "9" * p
        elif c < 0.25:
            digits = "0" * p
        else:
            digits = "".join(r.choice("0123456789") for _ in range(p))
            digits = "0" * r.randint(0, p) + digits
            digits = digits[-p:]
        txt = (digits[:ip] or "0") + ("." + digits[ip:] if s else "")
        return ("-" if r.random() < 0.4 else "") + txt
    return g


def g_float(r):
    c = r.random()
    if c < 0.2:
        v = r.choice([0.0, 1.0, -1.5, 3.4028234663852886e38, -3.4028234663852886e38,
                      1.1754943508222875e-38, 0.1, 16777216.0, 16777217.0])
    else:
        while True:
            v = struct.unpack("<f", r.getrandbits(32).to_bytes(4, "little"))[0]
            if v == v and abs(v) != float("inf") and (v == 0 or abs(v) >= 1.1754943508222875e-38):
                break
    return repr(struct.unpack("<f", struct.pack("<f", v))[0])


def g_double(r):
    c = r.random()
    if c < 0.2:
        v = r.choice([0.0, 1.7976931348623157e308, -1.7976931348623157e308, 5e-324,
                      2.2250738585072014e-308, 0.1, -2.5, 9007199254740993.0, 1e23])
    else:
        while True:
            v = struct.unpack("<d", r.getrandbits(64).to_bytes(8, "little"))[0]
            if v == v and abs(v) != float("inf"):
                break
    return repr(v)


def g_bit(n):
    def g(r):
        c = r.random()
        if c < 0.3:
            return str(r.choice([0, 1, 2 ** n - 1, 2 ** (n - 1)]))
        return str(r.getrandbits(n))
    return g


def g_year(r):
    return str(r.choice([0, 1901, 2155, r.randint(1901, 2155), r.randint(1901, 2155)]))


def r_date(r):
    c = r.random()
    if c < 0.05:
        return "0000-00-00"
    if c < 0.08:
        return r.choice(["2024-00-10", "2024-05-00", "0000-01-01", "0000-00-15"])
    if c < 0.15:
        return r.choice(["1000-01-01", "9999-12-31", "1970-01-01", "2000-02-29", "1969-12-31"])
    d = datetime.date(1000, 1, 1) + datetime.timedelta(days=r.randint(0, 3280000))
    return d.isoformat()


def frac(r, n):
    if n == 0:
        return ""
    c = r.random()
    if c < 0.2:
        return "." + r.choice(["0" * n, "9" * n, "0" * (n - 1) + "1"])
    return "." + "".join(r.choice("0123456789") for _ in range(n))


def g_datetime(n):
    def g(r):
        d = r_date(r)
        if r.random() < 0.1:
            t = r.choice(["00:00:00", "23:59:59"])
        else:
            t = "%02d:%02d:%02d" % (r.randint(0, 23), r.randint(0, 59), r.randint(0, 59))
        return "'%s %s%s'" % (d, t, frac(r, n))
    return g


def g_timestamp(n):
    def g(r):
        c = r.random()
        if c < 0.05:
            return "'0000-00-00 00:00:00'"
        if c < 0.15:
            s = r.choice([1, 2147483647, 86400, 951825600])
        else:
            s = r.randint(1, 2147483647)
        # up to 2038-01-19 03:14:07.999999
        return "'%s%s'" % ((EPOCH + datetime.timedelta(seconds=s)).strftime("%Y-%m-%d %H:%M:%S"), frac(r, n))
    return g


def g_time(n):
    def g(r):
        c = r.random()
        if c < 0.15:
            v = r.choice(["-838:59:59", "838:59:59", "00:00:00", "-00:00:01", "-12:34:56"])
            return "'%s'" % v
        h = r.randint(0, 838)
        sign = "-" if r.random() < 0.4 else ""
        t = "%s%d:%02d:%02d" % (sign, h, r.randint(0, 59), r.randint(0, 59))
        if h == 838:
            t = "%s838:59:58" % sign  # with a fraction, 838:59:59 is out of range
        return "'%s%s'" % (t, frac(r, n))
    return g


def g_text(n, cs="utf8mb4"):
    def g(r):
        if cs == "latin1":
            b = r_latin1(r, n)
            return "_latin1 X'%s'" % b.hex()
        return q_text(r_unistr(r, n))
    return g


def g_char(n):
    def g(r):
        s = r_unistr(r, n)
        if r.random() < 0.2:
            s = s[: max(0, n - 2)] + "  "  # CHAR drops trailing spaces
        return q_text(s[:n])
    return g


def g_bytes(n, big=0):
    def g(r):
        if big and BIG[0] > 0 and r.random() < 0.01:
            BIG[0] -= 1
            return q_bytes(bytes(r.getrandbits(8) for _ in range(r.randint(n, big))))
        k = r.randint(0, n)
        if r.random() < 0.1:
            return q_bytes(b"\x00" * k)
        return q_bytes(bytes(r.getrandbits(8) for _ in range(k)))
    return g


def g_bigtext(n, big):
    def g(r):
        if BIG[0] > 0 and r.random() < 0.01:
            BIG[0] -= 1
            return q_text("€日x\U0001F600" * (r.randint(n, big) // 10))
        return q_text(r_unistr(r, n))
    return g


ENUM = ["a", "b", "ç", "日本", "x y", "Z"]
ENUM_BIG = ["v%03d" % i for i in range(300)]
SET = ["a", "b", "ç", "日本", "d"]
SET64 = ["m%02d" % i for i in range(64)]


def g_enum(symbols):
    def g(r):
        if r.random() < 0.05:
            return q_text("not-a-member")  # stored as the error value ''
        return q_text(r.choice(symbols))
    return g


def g_set(symbols):
    def g(r):
        k = [s for s in symbols if r.random() < 0.3]
        return q_text(",".join(k))
    return g


def r_json(r, depth=0):
    c = r.random()
    if depth > 3 or c < 0.4:
        return r.choice([None, True, False, r.randint(-2 ** 63, 2 ** 63 - 1), r.random() * 1e6,
                         r_unistr(r, 8), 0, -1.5, "", "\"\\/"])
    if c < 0.7:
        return [r_json(r, depth + 1) for _ in range(r.randint(0, 4))]
    return {r_unistr(r, 5): r_json(r, depth + 1) for _ in range(r.randint(0, 4))}


def g_json(r):
    sep = r.choice([(",", ":"), (", ", ": ")])
    return q_text(json.dumps(r_json(r), ensure_ascii=r.random() < 0.3, separators=sep))


def r_coord(r):
    return "%.9f" % r.choice([0.0, 1.5, -180.0, 90.0, r.uniform(-1e6, 1e6)])


def g_geom(r):
    k = r.random()
    if k < 0.4:
        wkt = "POINT(%s %s)" % (r_coord(r), r_coord(r))
    elif k < 0.7:
        wkt = "LINESTRING(%s)" % ",".join("%s %s" % (r_coord(r), r_coord(r)) for _ in range(r.randint(2, 5)))
    else:
        pts = ["%s %s" % (r_coord(r), r_coord(r)) for _ in range(3)]
        wkt = "POLYGON((%s,%s))" % (",".join(pts), pts[0])
    return "ST_GeomFromText('%s', %d)" % (wkt, r.choice([0, 4326]))


def g_point(r):
    return "ST_GeomFromText('POINT(%s %s)', %d)" % (r_coord(r), r_coord(r), r.choice([0, 4326]))


# ---- the tables ------------------------------------------------------------

class Col:
    def __init__(self, name, sql, kind, gen, nullable=True):
        self.name, self.sql, self.kind, self.gen, self.nullable = name, sql, kind, gen, nullable


def C(name, sql, kind, gen, nullable=True):
    return Col(name, sql + ("" if nullable else " NOT NULL"), kind, gen, nullable)


def int_cols():
    out = []
    for t, bits in (("TINYINT", 8), ("SMALLINT", 16), ("MEDIUMINT", 24), ("INT", 32), ("BIGINT", 64)):
        for u in (False, True):
            out.append(C("%s%s" % (t.lower(), "_u" if u else ""), t + (" UNSIGNED" if u else ""),
                         "int", g_int(bits, u)))
    out.append(C("nn", "INT", "int", g_int(32, False), nullable=False))
    return out


TABLES = {
    "t_int": ([C("id", "INT", "int", None, False)] + int_cols(), ["id"]),
    "t_num": ([C("id", "BIGINT UNSIGNED", "int", None, False),
               C("d1", "DECIMAL(1,0)", "dec", g_dec(1, 0)),
               C("d2", "DECIMAL(5,2)", "dec", g_dec(5, 2)),
               C("d3", "DECIMAL(9,9)", "dec", g_dec(9, 9)),
               C("d4", "DECIMAL(18,9)", "dec", g_dec(18, 9)),
               C("d5", "DECIMAL(19,0)", "dec", g_dec(19, 0)),
               C("d6", "DECIMAL(38,10)", "dec", g_dec(38, 10)),
               C("d7", "DECIMAL(65,0)", "dec", g_dec(65, 0)),
               C("d8", "DECIMAL(65,30)", "dec", g_dec(65, 30)),
               C("d9", "DECIMAL(10,2) UNSIGNED", "udec", g_dec(10, 2)),
               C("f", "FLOAT", "float", g_float),
               C("dbl", "DOUBLE", "double", g_double),
               C("dnn", "DECIMAL(12,4)", "dec", g_dec(12, 4), nullable=False)], ["id"]),
    "t_bit": ([C("id", "INT", "int", None, False)]
              + [C("b%d" % n, "BIT(%d)" % n, "bit", g_bit(n)) for n in (1, 2, 7, 8, 9, 15, 16, 17, 31, 32, 33, 48, 63, 64)]
              + [C("b1nn", "BIT(1)", "bit", g_bit(1), nullable=False),
                 C("y", "YEAR", "year", g_year)], ["id"]),
    "t_time": ([C("id", "INT", "int", None, False), C("dte", "DATE", "date", lambda r: "'%s'" % r_date(r))]
               + [C("dt%d" % n, "DATETIME(%d)" % n, "datetime", g_datetime(n)) for n in range(7)]
               + [C("ts%d" % n, "TIMESTAMP(%d) NULL DEFAULT NULL" % n, "timestamp", g_timestamp(n)) for n in range(7)]
               + [C("tm%d" % n, "TIME(%d)" % n, "time", g_time(n)) for n in range(7)]
               + [C("dtnn", "DATETIME(6)", "datetime", g_datetime(6), nullable=False)], ["id"]),
    "t_str": ([C("id", "VARCHAR(20)", "text", None, False),
               C("c", "CHAR(10)", "text", g_char(10)),
               C("vc", "VARCHAR(300)", "text", g_text(300)),
               C("tt", "TINYTEXT", "text", g_text(60)),
               C("tx", "TEXT", "text", g_text(500)),
               C("mt", "MEDIUMTEXT", "text", g_bigtext(200, 70000)),
               C("lt", "LONGTEXT", "text", g_bigtext(200, 300000)),
               C("c1", "CHAR(10) CHARACTER SET latin1", "latin1", g_text(10, "latin1")),
               C("v1", "VARCHAR(200) CHARACTER SET latin1", "latin1", g_text(200, "latin1")),
               C("t1", "TEXT CHARACTER SET latin1", "latin1", g_text(300, "latin1")),
               C("bn", "BINARY(8)", "binary", g_bytes(8)),
               C("vb", "VARBINARY(300)", "binary", g_bytes(300)),
               C("tb", "TINYBLOB", "binary", g_bytes(255)),
               C("bl", "BLOB", "binary", g_bytes(300, 65535)),
               C("mb", "MEDIUMBLOB", "binary", g_bytes(300, 100000)),
               C("lb", "LONGBLOB", "binary", g_bytes(300, 1000000)),
               C("vcb", "VARCHAR(50) CHARACTER SET binary", "binary", g_bytes(50)),
               C("e", "ENUM('a','b','ç','日本','x y','Z')", "text", g_enum(ENUM)),
               C("e2", "ENUM(%s)" % ",".join("'%s'" % s for s in ENUM_BIG), "text", g_enum(ENUM_BIG)),
               C("s", "SET('a','b','ç','日本','d')", "text", g_set(SET)),
               C("s64", "SET(%s)" % ",".join("'%s'" % s for s in SET64), "text", g_set(SET64)),
               C("j", "JSON", "text", g_json),
               C("g", "GEOMETRY", "geom", g_geom),
               C("p", "POINT", "geom", g_point),
               C("vnn", "VARCHAR(5)", "text", g_text(5), nullable=False)], ["id"]),
    "t_comp": ([C("a", "INT", "int", None, False), C("b", "VARCHAR(20)", "text", None, False),
                C("v", "VARCHAR(30) CHARACTER SET latin1", "latin1", g_text(30, "latin1")),
                C("d", "DATE", "date", lambda r: "'%s'" % r_date(r))], ["a", "b"]),
    "t_nopk": ([C("a", "INT", "int", g_int(32, False)),
                C("b", "VARCHAR(20) CHARACTER SET latin1", "latin1", g_text(20, "latin1")),
                C("c", "DOUBLE", "double", g_double)], []),
}
LATIN1_COLS = {(t, c.name) for t, (cols, _) in TABLES.items() for c in cols if c.kind == "latin1"}


def ddl(db):
    out = ["SET NAMES utf8mb4;", "CREATE DATABASE `%s` CHARACTER SET utf8mb4;" % db,
           "USE `%s`;" % db]
    for t, (cols, pk) in TABLES.items():
        defs = ["`%s` %s" % (c.name, c.sql) for c in cols]
        if pk:
            defs.append("PRIMARY KEY (%s)" % ",".join("`%s`" % k for k in pk))
        out.append("CREATE TABLE `%s` (%s) ENGINE=InnoDB;" % (t, ", ".join(defs)))
    return out


# ---- the workload ----------------------------------------------------------

class Gen:
    def __init__(self, seed):
        self.r = random.Random(seed)
        self.keys = {t: [] for t in TABLES}    # live primary keys (no-PK: values of a)
        self.next = {t: 1 for t in TABLES}
        self.out = []

    def new_key(self, t, mark=False):
        n = self.next[t]
        self.next[t] += 1
        if mark:
            n += MARK
        if t == "t_str":
            return (q_text("k%07d" % n if not mark else "RB%07d" % n),)
        if t == "t_comp":
            return (str(n // 3), q_text(("b%d" % n) if not mark else "RB%d" % n))
        if t == "t_num":
            return (str(U64 + n),)
        return (str(n),)

    def row(self, t, key):
        cols, pk = TABLES[t]
        vals = []
        for c in cols:
            if c.name in pk:
                vals.append(key[pk.index(c.name)])
            elif c.gen is None:
                vals.append("NULL")
            elif t == "t_nopk" and c.name == "a":
                vals.append(key[0])
            elif c.nullable and self.r.random() < 0.12:
                vals.append("NULL")
            else:
                vals.append(c.gen(self.r))
        return "(%s)" % ", ".join(vals)

    def where(self, t, key):
        cols, pk = TABLES[t]
        if not pk:
            return "`a` = %s" % key[0]
        return " AND ".join("`%s` = %s" % (k, v) for k, v in zip(pk, key))

    def insert(self, t, n, mark=False):
        keys = [self.new_key(t, mark) for _ in range(n)]
        self.out.append("INSERT INTO `%s` VALUES %s;" % (t, ",\n ".join(self.row(t, k) for k in keys)))
        if not mark:
            self.keys[t].extend(keys)

    def setlist(self, t, all_cols=False):
        cols, pk = TABLES[t]
        cand = [c for c in cols if c.name not in pk and c.gen is not None and not (t == "t_nopk" and c.name == "a")]
        pick = cand if all_cols else self.r.sample(cand, self.r.randint(1, min(4, len(cand))))
        parts = []
        for c in pick:
            v = "NULL" if c.nullable and self.r.random() < 0.15 else c.gen(self.r)
            parts.append("`%s` = %s" % (c.name, v))
        return ", ".join(parts)

    def update(self, t, mark=False):
        if not self.keys[t]:
            return
        k = self.r.choice(self.keys[t])
        self.out.append("UPDATE `%s` SET %s WHERE %s;" % (t, self.setlist(t, self.r.random() < 0.2), self.where(t, k)))

    def update_range(self, t):
        cols, pk = TABLES[t]
        if len(pk) != 1 or t == "t_str" or not self.keys[t]:
            return
        lo = int(self.r.choice(self.keys[t])[0])
        self.out.append("UPDATE `%s` SET %s WHERE `%s` BETWEEN %d AND %d;" % (
            t, self.setlist(t), pk[0], lo, lo + self.r.randint(1, 40)))

    def update_pk(self, t):
        cols, pk = TABLES[t]
        if not pk or not self.keys[t]:
            return
        i = self.r.randrange(len(self.keys[t]))
        old = self.keys[t][i]
        new = self.new_key(t)
        if t == "t_comp" and self.r.random() < 0.5:
            new = (old[0], new[1])  # only the second key column changes
        sets = ", ".join("`%s` = %s" % (k, v) for k, v in zip(pk, new) if v != old[pk.index(k)])
        extra = self.setlist(t) if self.r.random() < 0.5 else ""
        self.out.append("UPDATE `%s` SET %s%s WHERE %s;" % (t, sets, ", " + extra if extra else "", self.where(t, old)))
        self.keys[t][i] = new

    def delete(self, t):
        if not self.keys[t]:
            return
        k = self.keys[t].pop(self.r.randrange(len(self.keys[t])))
        self.out.append("DELETE FROM `%s` WHERE %s;" % (t, self.where(t, k)))

    def delete_range(self, t):
        cols, pk = TABLES[t]
        if len(pk) != 1 or t == "t_str" or not self.keys[t]:
            return
        lo = int(self.r.choice(self.keys[t])[0])
        hi = lo + self.r.randint(1, 15)
        self.out.append("DELETE FROM `%s` WHERE `%s` BETWEEN %d AND %d;" % (t, pk[0], lo, hi))
        self.keys[t] = [k for k in self.keys[t] if not lo <= int(k[0]) <= hi]

    def op(self):
        t = self.r.choice(list(TABLES))
        c = self.r.random()
        if c < 0.30:
            self.insert(t, self.r.randint(1, 25))
        elif c < 0.55:
            self.update(t)
        elif c < 0.65:
            self.update_range(t)
        elif c < 0.75:
            self.update_pk(t)
        elif c < 0.90:
            self.delete(t)
        else:
            self.delete_range(t)

    def rolled_back(self):
        """Work that is undone: inserts of marked keys, updates to marked
        values and deletes, all inside a transaction that rolls back."""
        self.out.append("BEGIN;")
        saved = {t: list(k) for t, k in self.keys.items()}
        nxt = dict(self.next)
        for _ in range(self.r.randint(1, 4)):
            t = self.r.choice(list(TABLES))
            self.insert(t, self.r.randint(1, 5), mark=True)
            self.update(t)
            self.delete(t)
        self.out.append("ROLLBACK;")
        self.keys, self.next = saved, nxt

    def savepoint(self):
        self.out.append("BEGIN;")
        self.op()
        self.out.append("SAVEPOINT sp;")
        saved = {t: list(k) for t, k in self.keys.items()}
        t = self.r.choice(list(TABLES))
        self.insert(t, self.r.randint(1, 3), mark=True)
        self.update(t)
        self.delete(t)
        self.out.append("ROLLBACK TO SAVEPOINT sp;")
        self.keys = saved
        self.op()
        self.out.append("COMMIT;")

    def workload(self, nops, partial=True):
        self.out.append("SET SESSION sql_mode = '';")
        self.out.append("SET SESSION time_zone = '+00:00';")
        for t in TABLES:
            for _ in range(4):
                self.insert(t, self.r.randint(20, 60))
        i = 0
        while i < nops:
            c = self.r.random()
            if c < 0.15:
                self.out.append("BEGIN;")
                for _ in range(self.r.randint(2, 8)):
                    self.op()
                    i += 1
                self.out.append("COMMIT;")
            elif c < 0.20:
                self.rolled_back()
            elif c < 0.23:
                self.savepoint()
            else:
                self.op()
                i += 1
        # partial row images: a column that is not in the image is absent
        for image in (("MINIMAL", "NOBLOB") if partial else ()):
            self.out.append("SET SESSION binlog_row_image = '%s';" % image)
            for _ in range(nops // 8):
                if self.r.random() < 0.2:
                    self.out.append("BEGIN;")
                    for _ in range(self.r.randint(2, 5)):
                        self.op()
                    self.out.append("COMMIT;")
                else:
                    self.op()
        self.out.append("SET SESSION binlog_row_image = 'FULL';")
        self.latin1_c1()
        return self.out

    def latin1_c1(self):
        """The five latin1 bytes that cp1252 leaves undefined, last."""
        self.out.append("BEGIN;")
        k = self.new_key("t_str")
        self.out.append("INSERT INTO `t_str` (`id`, `c1`, `v1`, `t1`, `vnn`) VALUES (%s, _latin1 X'%s', "
                        "_latin1 X'%s', _latin1 X'%s', 'c1');" % (
                            k[0], LATIN1_C1[:1].hex(), (b"a" + LATIN1_C1 + b"z").hex(), (LATIN1_C1 * 3).hex()))
        self.keys["t_str"].append(k)
        k = self.new_key("t_nopk")
        self.out.append("INSERT INTO `t_nopk` VALUES (%s, _latin1 X'%s', 1.5);" % (k[0], LATIN1_C1.hex()))
        self.keys["t_nopk"].append(k)
        self.out.append("COMMIT;")


def cmd_sql(seed, db, nops, partial=True):
    g = Gen(seed)
    print("\n".join(ddl(db)))
    print("\n".join(g.workload(nops, partial)))


# ---- the final tables ------------------------------------------------------

def select_expr(c):
    n = "`%s`" % c.name
    return {
        "int": "CAST(%s AS CHAR)", "dec": "CAST(%s AS CHAR)", "udec": "CAST(%s AS CHAR)",
        "float": "CAST(CAST(%s AS DOUBLE) AS CHAR)", "double": "CAST(%s AS CHAR)",
        "bit": "CAST(%s + 0 AS CHAR)", "year": "CAST(%s + 0 AS CHAR)",
        "date": "CAST(%s AS CHAR)", "datetime": "CAST(%s AS CHAR)",
        "timestamp": "CAST(%s AS CHAR)", "time": "CAST(%s AS CHAR)",
        "text": "HEX(%s)", "latin1": "HEX(%s)", "binary": "HEX(%s)", "geom": "HEX(%s)",
    }[c.kind] % n


def cmd_selects(db):
    print("SET SESSION time_zone = '+00:00';")
    for t, (cols, pk) in TABLES.items():
        order = ", ".join("`%s`" % k for k in (pk or [c.name for c in cols]))
        print("SELECT '%s', %s FROM `%s`.`%s` ORDER BY %s;" % (
            t, ", ".join(select_expr(c) for c in cols), db, t, order))


def canon_sql(c, text):
    """The canonical form of a value as SELECT printed it."""
    if text == "NULL":
        return None
    k = c.kind
    if k in ("text", "latin1", "binary", "geom"):
        return bytes.fromhex(text)
    if k in ("int", "bit", "year"):
        return int(text)
    if k in ("float", "double"):
        return float(text)
    if k in ("date", "datetime", "timestamp"):
        if re.match(r"\d{4}-00-|\d{4}-\d\d-00", text):
            return None  # zero or partial date: ours is null (docs/stream.md 4.3)
        return text
    return text


def canon_ours(c, v, ctype):
    """The canonical form of one of our values (streamcat's JSON)."""
    if v is None:
        return None
    k = c.kind
    if k == "text":
        return v.encode("utf-8")
    if k == "latin1":
        return b2a_vv.latin1_mysql(v)
    if k == "binary":
        return v.encode("latin-1")
    if k == "geom":
        return struct.pack("<I", v["srid"] or 0) + v["wkb"].encode("latin-1")
    if k == "int":
        return int(v)
    if k == "bit":
        return int(v) if isinstance(v, bool) else int.from_bytes(v.encode("latin-1"), "little")
    if k == "year":
        return v
    if k == "float":
        return struct.unpack("<f", struct.pack("<f", v))[0]
    if k == "double":
        return float(v)
    if k in ("dec", "udec"):
        return v
    n = int(re.search(r"\((\d)\)", ctype)[1]) if "(" in ctype else 0
    if k == "date":
        return "%04d-%02d-%02d" % b2a_vv.civil(v)
    if k == "datetime":
        return b2a_vv.fmt_datetime(v * 1000 if n <= 3 else v, n)
    if k == "timestamp":
        m = re.fullmatch(r"(\d{4}-\d\d-\d\d)T(\d\d:\d\d:\d\d)(\.\d+)?Z", v)
        return "%s %s%s" % (m[1], m[2], m[3] or "") if m else "bad %r" % v
    if k == "time":
        sign = "-" if v < 0 else ""
        s, us = divmod(abs(v), 1000000)
        return "%s%02d:%02d:%02d%s" % (sign, s // 3600, s // 60 % 60, s % 60, b2a_vv.fmt_frac(us, n))
    return v


def load_dump(path):
    rows = {t: [] for t in TABLES}
    with open(path, encoding="utf-8") as f:
        for line in f:
            parts = line.rstrip("\n").split("\t")
            t = parts[0]
            cols, _ = TABLES[t]
            rows[t].append(tuple(canon_sql(c, x) for c, x in zip(cols, parts[1:])))
    return rows


# ---- the checks ------------------------------------------------------------

def want_cdc_type(sql):
    """cdc.type as docs/stream.md 4.2 has it: the column type as MariaDB
    shows it; JSON and POINT reach the binlog as LONGTEXT and GEOMETRY."""
    t = re.sub(r" (NOT NULL|NULL DEFAULT NULL)$", "", sql)
    binary = "CHARACTER SET binary" in t
    t = re.sub(r" CHARACTER SET \w+", "", t)
    m = re.match(r"([A-Z]+)(\(.*\))?( UNSIGNED)?$", t, re.S)
    name, args, uns = m[1].lower(), m[2] or "", " unsigned" if m[3] else ""
    if binary:
        name = {"varchar": "varbinary", "char": "binary"}[name]
    if args == "(0)":
        args = ""
    if name == "json":
        return ("json", "longtext")
    if name == "point":
        return ("point", "geometry")
    return (name + args + uns,)


def want_avro(c):
    """(Avro type, connect.name) of a column per docs/stream.md 4.3."""
    sql = c.sql
    n = re.search(r"\((\d+)", sql)
    n = int(n[1]) if n else 0
    k = c.kind
    if k == "int":
        if sql.startswith("BIGINT UNSIGNED"):
            return "bytes", "org.apache.kafka.connect.data.Decimal"
        return ("long" if sql.startswith(("BIGINT", "INT UNSIGNED")) else "int"), None
    if k in ("dec", "udec"):
        return "bytes", "org.apache.kafka.connect.data.Decimal"
    if k == "bit":
        return ("boolean", None) if n == 1 else ("bytes", "io.debezium.data.Bits")
    return {
        "float": ("float", None), "double": ("double", None), "year": ("int", "io.debezium.time.Year"),
        "date": ("int", "io.debezium.time.Date"), "time": ("long", "io.debezium.time.MicroTime"),
        "datetime": ("long", "io.debezium.time.Timestamp" if n <= 3 else "io.debezium.time.MicroTimestamp"),
        "timestamp": ("string", "io.debezium.time.ZonedTimestamp"),
        "latin1": ("string", None), "binary": ("bytes", None),
        "geom": ("record", "io.debezium.data.geometry.Geometry"),
        "text": ("string", {"E": "io.debezium.data.Enum", "S": "io.debezium.data.EnumSet"}.get(sql[0])),
    }[k]


def type_problems(fields, cols, named):
    bad = []
    for f, c in zip(fields, cols):
        w = want_cdc_type(c.sql)
        if f.get("cdc.type") not in w:
            bad.append("%s: cdc.type %s, want %s" % (c.name, f.get("cdc.type"), " or ".join(w)))
        t = f["type"]
        nullable = isinstance(t, list) and "null" in t
        want_null = c.nullable or c.kind in ("date", "datetime", "timestamp")
        if nullable != want_null:
            bad.append("%s: nullable %s, want %s" % (c.name, nullable, want_null))
        b = b2a_vv.branch(t)
        if isinstance(b, str) and b in named:
            b = named[b]
        avro = b if isinstance(b, str) else b["type"]
        cname = None if isinstance(b, str) else b.get("connect.name")
        wa, wc = want_avro(c)
        if (avro, cname) != (wa, wc) and not (c.sql.startswith("JSON") and cname is None):
            bad.append("%s: %s/%s, want %s/%s" % (c.name, avro, cname, wa, wc))
        if wc == "org.apache.kafka.connect.data.Decimal":
            m = re.search(r"\((\d+),(\d+)\)", c.sql)
            p, sc = (int(m[1]), int(m[2])) if m else (20, 0)
            if (b.get("precision"), b.get("scale")) != (p, sc):
                bad.append("%s: decimal(%s,%s), want (%d,%d)" % (c.name, b.get("precision"), b.get("scale"), p, sc))
    return bad

def line(tname, ok, what, why=""):
    print(("ok " if ok else "not ok ") + "%s: %s%s" % (tname, what, "" if ok or not why else ": " + why))


def replay(tname, ours):
    """The final tables obtained by applying our changes in order; problems
    found on the way (an update or delete whose before image is not the row
    as it was, a create of a key that exists)."""
    state = {t: {} for t in TABLES}
    nopk = {t: [] for t in TABLES}
    bad = []
    prev, prev_row, partial_creates = None, None, 0
    for c in ours:
        cols, pk = TABLES[c.table]
        types = [f.get("cdc.type", "") for f in c.fields]

        def canon(img):
            return tuple(ABSENT if img[f["name"]] == "ABSENT" else canon_ours(col, img[f["name"]], ty)
                         for col, f, ty in zip(cols, c.fields, types))

        def fits(row, img):  # the columns an image has are the row's
            return row is not None and all(a is ABSENT or a == b for a, b in zip(img, row))

        def apply(row, img):
            return tuple(b if a is ABSENT else a for a, b in zip(img, row))
        before = canon(c.before) if c.before is not None else None
        after = canon(c.after) if c.after is not None else None
        if pk:
            key = json.dumps(c.key, sort_keys=True)
            st = state[c.table]
            if c.op == "c":
                if key in st:
                    bad.append("%s: create of existing key %s" % (c.position, key))
                if ABSENT in after:
                    # a key change of a partial image: the create has the
                    # changed columns, the others are the deleted row's
                    partial_creates += 1
                    if prev is not None and prev.op == "d" and prev.table == c.table and \
                            prev.frame["version"] == c.frame["version"] and prev_row is not None:
                        after = apply(prev_row, after)
                st[key] = after
            else:
                prev_row = st.get(key)
                if not fits(st.get(key), before):
                    bad.append("%s: %s before image of %s.%s %s is not the row as it was" % (
                        c.position, c.op, c.db, c.table, key))
                if c.op == "u":
                    st[key] = apply(st.get(key) or before, after)
                else:
                    st.pop(key, None)
        else:
            lst = nopk[c.table]
            old = None
            if c.op != "c":
                old = next((row for row in lst if fits(row, before)), None)
                if old is not None:
                    lst.remove(old)
                else:
                    bad.append("%s: %s of a row not in %s" % (c.position, c.op, c.table))
            if c.op != "d":
                lst.append(apply(old or before, after) if c.op == "u" else after)
        prev = c
    line(tname, True, "%d creates of key changes in partial images (their unchanged columns "
         "absent, taken from the delete before them)" % partial_creates)
    return state, nopk, bad


def cmd_check(tname, db, sqlpath, vvpath, jpath, dumppath):
    rc = 0
    with open(vvpath, "rb") as f:
        vv = [r for r in b2a_vv.parse_vv(f.read()) if r.db == db]
    ours, frames = b2a_vv.load_stream(jpath, {db})
    with open(sqlpath, encoding="utf-8") as f:
        sql = f.read()

    # 1. every row value, in order, against mariadb-binlog -vv
    b2a_vv.LATIN1_ONLY.clear()
    b2a_vv.LATIN1_ONLY.update((db, t, c) for t, c in LATIN1_COLS)
    bad, compared, notes = b2a_vv.compare_rows(vv, ours)
    b2a_vv.report(tname, "every row value equals mariadb-binlog -vv, in order", bad,
                  "%d binlog rows, %d changes, %d values" % (len(vv), len(ours), compared))
    rc |= bool(bad)

    # 2. op kinds; a key change is a delete then a create
    ops = {}
    for c in ours:
        ops[c.op] = ops.get(c.op, 0) + 1
    pkchg = sum(1 for r in vv if r.op == "u" and TABLES[r.table][1] and any(
        i + 1 in r.after and r.before.get(i + 1) != r.after[i + 1]
        for i, col in enumerate(TABLES[r.table][0]) if col.name in TABLES[r.table][1]))
    want = {"c": sum(r.op == "c" for r in vv) + pkchg, "d": sum(r.op == "d" for r in vv) + pkchg,
            "u": sum(r.op == "u" for r in vv) - pkchg}
    ok = ops == {k: v for k, v in want.items() if v}
    line(tname, ok and pkchg > 0, "op kinds: %s, with %d primary-key changes as delete + create" % (
        ", ".join("%s=%d" % kv for kv in sorted(ops.items())), pkchg), "want %r" % want)
    rc |= not ok

    # 3. the stream: invariants, transactions delimited by commit marks,
    # statements from our workload, nothing of the rolled-back work
    probs = b2a_vv.stream_problems(frames)
    line(tname, not probs, "stream well formed (%d frames)" % len(frames), "; ".join(probs[:3]))
    rc |= bool(probs)
    def is_marked(c):
        vals = list((c.key or {}).values()) or [(c.after or c.before)["a"]]
        for v in vals:
            if isinstance(v, str) and v.startswith("RB"):
                return True
            if isinstance(v, (int, str)) and re.fullmatch(r"\d+", str(v)):
                n = int(v) - (U64 if c.table == "t_num" else 0)
                if n >= MARK or (c.table == "t_comp" and n >= MARK // 3):
                    return True
        return False
    marked = [c.position for c in ours if is_marked(c)]
    line(tname, not marked, "no change of rolled-back work", "at %s" % marked[:3])
    rc |= bool(marked)
    noq = [c.position for c in ours if not c.frame["value"]["source"]["query"]
           or c.frame["value"]["source"]["query"] not in sql]
    line(tname, not noq, "source.query of every change is its statement (ANNOTATE_ROWS)",
         "%d without, first at %s" % (len(noq), noq[:1]))
    rc |= bool(noq)
    txs = [c.frame["value"]["transaction"]["id"] for c in ours]
    line(tname, len(set(txs)) > 1 and all(
        c.frame["value"]["source"]["gtid"] == c.frame["value"]["transaction"]["id"] for c in ours),
        "transaction.id is the MariaDB GTID (%d transactions)" % len(set(txs)))

    # 4. the value schemas: every column's Avro type and attributes
    schemas = {}
    named = {}
    for fr in frames:
        if fr["kind"] == "schema":
            sch = fr["schema"]

            def walk(x):
                if isinstance(x, dict):
                    if x.get("type") == "record" and "name" in x:
                        named["%s.%s" % (x["namespace"], x["name"]) if "namespace" in x else x["name"]] = x
                        named[x["name"]] = x
                    for v in x.values():
                        walk(v)
                elif isinstance(x, list):
                    for v in x:
                        walk(v)
            walk(sch)
            if sch.get("name") == "Envelope" and sch.get("cdc.database") == db and not sch.get("cdc.partial"):
                schemas[sch["cdc.table"]] = sch["fields"][0]["type"][1]["fields"]
    for t, (cols, pk) in TABLES.items():
        probs = type_problems(schemas.get(t, []), cols, named)
        if len(schemas.get(t, [])) != len(cols):
            probs.append("%d fields for %d columns" % (len(schemas.get(t, [])), len(cols)))
        line(tname, not probs, "value schema of %s: Avro types, connect.name, cdc.type, nullability" % t,
             "; ".join(probs[:4]) + (" (%d more)" % (len(probs) - 4) if len(probs) > 4 else ""))
        rc |= bool(probs)

    # 5. the final tables against our changes replayed
    state, nopk, bad = replay(tname, ours)
    dump = load_dump(dumppath)
    for t, (cols, pk) in TABLES.items():
        if pk:
            got = sorted(state[t].values(), key=repr)
        else:
            got = sorted(nopk[t], key=repr)
        want = sorted(dump[t], key=repr)
        if got == want:
            line(tname, True, "replaying our changes gives table %s (%d rows)" % (t, len(want)))
            continue
        rc = 1
        diff = []
        gs, ws = set(got), set(want)
        for w in want:
            if w not in gs:
                near = [g for g in got if g[:len(pk) or 1] == w[:len(pk) or 1]]
                if near:
                    cols_bad = [(cols[i].name, near[0][i], w[i]) for i in range(len(w)) if near[0][i] != w[i]]
                    diff.append("key %r: %s" % (w[:len(pk) or 1], "; ".join(
                        "%s ours %r table %r" % (n, a if not isinstance(a, bytes) else a[:40],
                                                 b if not isinstance(b, bytes) else b[:40])
                        for n, a, b in cols_bad[:3])))
                else:
                    diff.append("row %r missing from ours" % (w[:len(pk) or 1],))
            if len(diff) >= 3:
                break
        extra = [g for g in got if g not in ws]
        line(tname, False, "replaying our changes gives table %s" % t, "%d rows ours, %d table, %d of ours not in the table: %s" % (
            len(got), len(want), len(extra), " | ".join(diff)))
    line(tname, not bad, "every before image is the row as it was (%d changes replayed)" % len(ours),
         "; ".join(bad[:3]))
    rc |= bool(bad)
    return rc


if __name__ == "__main__":
    cmd = sys.argv[1]
    if cmd == "sql":
        cmd_sql(int(sys.argv[2]), sys.argv[3], int(sys.argv[4]) if len(sys.argv) > 4 else 700,
                sys.argv[5:6] != ["full"])
    elif cmd == "selects":
        cmd_selects(sys.argv[2])
    elif cmd == "check":
        sys.exit(cmd_check(*sys.argv[2:8]))
    else:
        raise SystemExit(__doc__)

"""Writes change streams shaped like binlog2avro's output (docs/stream.md,
sections 2-4: Debezium-style envelopes, the type mapping of section 4.3, the
cdc.* attributes) with Apache Avro's Python library (Debian's python3-avro),
for tests of the tools downstream of binlog2avro.

    import envstream as es
    t = es.Table("shop", "items", [
        es.Col("id", "bigint", key=1),
        es.Col("price", "decimal(10,2)"),
        es.Col("sel ect", "varchar(20)", nullable=True)])
    with es.Stream(open("s.avro", "wb")) as s:
        s.insert(t, {"id": 1, "price": Decimal("1.50"), "sel ect": None})
        s.update(t, before, after)
        s.delete(t, before)
        s.truncate(t)
        s.commit()
        s.ddl("shop", "DROP TABLE items")

Values are given as Python values (int, Decimal, float, str, bytes,
datetime.date, datetime.datetime for DATETIME/TIMESTAMP read as UTC,
datetime.timedelta for TIME, list of float for VECTOR, {"wkb", "srid"} for
geometry); es.ABSENT marks a column missing from a partial row image (the
table then uses the Absent-union schema of section 4.1). Versions and
positions count up by themselves unless given.

Run as a script, it writes a small sample stream: envstream.py > s.avro
"""
import datetime
import decimal
import io
import json
import os
import re
import sys

import avro.datafile
import avro.io
import avro.schema

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from stream_python import fingerprint  # noqa: E402

FRAME_SCHEMA = json.dumps([
    {"type": "record", "name": "Change", "namespace": "cdc.stream", "fields": [
        {"name": "topic", "type": "string"},
        {"name": "key", "type": ["null", "bytes"]},
        {"name": "value", "type": ["null", "bytes"]},
        {"name": "position", "type": "string"},
        {"name": "version", "type": "long"}]},
    {"type": "record", "name": "Schema", "namespace": "cdc.stream", "fields": [
        {"name": "fingerprint", "type": {"type": "fixed", "name": "Fingerprint", "size": 8}},
        {"name": "schema", "type": "string"}]},
    {"type": "record", "name": "Commit", "namespace": "cdc.stream", "fields": [
        {"name": "seq", "type": "long"},
        {"name": "position", "type": "string"},
        {"name": "version", "type": "long"},
        {"name": "ts_ms", "type": "long"}]},
    {"type": "record", "name": "Ddl", "namespace": "cdc.stream", "fields": [
        {"name": "position", "type": "string"},
        {"name": "database", "type": "string"},
        {"name": "statement", "type": "string"},
        {"name": "ts_ms", "type": "long"}]},
    {"type": "record", "name": "Heartbeat", "namespace": "cdc.stream", "fields": [
        {"name": "position", "type": "string"},
        {"name": "now_ms", "type": "long"}]}])

ABSENT = object()
EPOCH = datetime.datetime(1970, 1, 1)
EPOCH_DATE = datetime.date(1970, 1, 1)


def sanitise(name):
    """Debezium's Avro name rule (docs/stream.md 4.2)."""
    s = re.sub(r"[^A-Za-z0-9_]", "_", name)
    return "_" + s if not s or s[0].isdigit() else s


def topic_part(name):
    return re.sub(r"[^A-Za-z0-9._-]", "_", name)


def _arg(t, default):
    m = re.search(r"\((\d+)", t)
    return int(m.group(1)) if m else default


def _symbols(t):
    """The symbols of enum('a','b''c') or set(...)."""
    body = t[t.index("(") + 1:t.rindex(")")]
    return [s.replace("''", "'") for s in re.findall(r"'((?:[^']|'')*)'", body)]


class Col:
    """A MySQL column: name, type text as MySQL shows it, NULL allowed,
    position in the primary key (1-based) or 0."""

    def __init__(self, name, mysql_type, nullable=False, key=0):
        self.name = name
        self.mysql_type = mysql_type
        self.nullable = nullable
        self.key = key

    def avro_type(self, geometry_defined):
        t = self.mysql_type.lower()
        base = re.match(r"[a-z]+", t).group(0)
        unsigned = "unsigned" in t
        dec = "org.apache.kafka.connect.data.Decimal"
        if base in ("tinyint", "smallint", "mediumint"):
            return "int"
        if base in ("int", "integer"):
            return "long" if unsigned else "int"
        if base == "bigint":
            if unsigned:
                return {"type": "bytes", "logicalType": "decimal", "precision": 20,
                        "scale": 0, "connect.name": dec, "connect.parameters":
                        {"scale": "0", "connect.decimal.precision": "20"}}
            return "long"
        if base in ("decimal", "numeric"):
            m = re.search(r"\((\d+)(?:,\s*(\d+))?\)", t)
            p, s = (int(m.group(1)), int(m.group(2) or 0)) if m else (10, 0)
            return {"type": "bytes", "logicalType": "decimal", "precision": p,
                    "scale": s, "connect.name": dec, "connect.parameters":
                    {"scale": str(s), "connect.decimal.precision": str(p)}}
        if base == "float":
            return "float"
        if base in ("double", "real"):
            return "double"
        if base == "bit":
            n = _arg(t, 1)
            if n == 1:
                return "boolean"
            return {"type": "bytes", "connect.name": "io.debezium.data.Bits",
                    "connect.parameters": {"length": str(n)}}
        if base == "year":
            return {"type": "int", "connect.name": "io.debezium.time.Year"}
        if base == "date":
            return {"type": "int", "connect.name": "io.debezium.time.Date"}
        if base == "time":
            return {"type": "long", "connect.name": "io.debezium.time.MicroTime"}
        if base == "datetime":
            if _arg(t, 0) <= 3:
                return {"type": "long", "connect.name": "io.debezium.time.Timestamp"}
            return {"type": "long", "connect.name": "io.debezium.time.MicroTimestamp"}
        if base == "timestamp":
            return {"type": "string", "connect.name": "io.debezium.time.ZonedTimestamp"}
        if base in ("char", "varchar", "tinytext", "text", "mediumtext", "longtext"):
            return "string"
        if base in ("binary", "varbinary", "tinyblob", "blob", "mediumblob", "longblob"):
            return "bytes"
        if base == "enum":
            return {"type": "string", "connect.name": "io.debezium.data.Enum",
                    "connect.parameters": {"allowed": ",".join(_symbols(self.mysql_type))}}
        if base == "set":
            return {"type": "string", "connect.name": "io.debezium.data.EnumSet",
                    "connect.parameters": {"allowed": ",".join(_symbols(self.mysql_type))}}
        if base == "json":
            return {"type": "string", "connect.name": "io.debezium.data.Json"}
        if base in ("geometry", "point", "linestring", "polygon", "multipoint",
                    "multilinestring", "multipolygon", "geometrycollection"):
            name = "io.debezium.data.geometry.Geometry"
            if geometry_defined[0]:
                return name
            geometry_defined[0] = True
            return {"type": "record", "name": "Geometry",
                    "namespace": "io.debezium.data.geometry",
                    "connect.name": name, "fields": [
                        {"name": "wkb", "type": "bytes"},
                        {"name": "srid", "type": ["null", "int"], "default": None}]}
        if base == "vector":
            return {"type": "array", "items": "float",
                    "connect.name": "io.debezium.data.FloatVector"}
        raise ValueError("no Avro type for MySQL type %r" % self.mysql_type)

    def datum(self, v):
        """The Avro datum of a Python value for this column."""
        if v is None:
            return None
        t = self.mysql_type.lower()
        base = re.match(r"[a-z]+", t).group(0)
        if base == "bigint" and "unsigned" in t:
            return decimal.Decimal(v)
        if base in ("decimal", "numeric"):
            # python3-avro writes the digits as they are: give them the
            # column's scale.
            m = re.search(r"\((\d+)(?:,\s*(\d+))?\)", t)
            s = int(m.group(2) or 0) if m else 0
            ctx = decimal.Context(prec=100)
            return decimal.Decimal(v).quantize(decimal.Decimal(1).scaleb(-s), context=ctx)
        if base == "bit" and _arg(t, 1) > 1 and isinstance(v, int):
            return v.to_bytes((_arg(t, 1) + 7) // 8, "little")
        if base == "date" and isinstance(v, datetime.date):
            return (v - EPOCH_DATE).days
        if base == "time" and isinstance(v, datetime.timedelta):
            return (v.days * 86400 + v.seconds) * 1000000 + v.microseconds
        if base == "datetime" and isinstance(v, datetime.datetime):
            d = v.replace(tzinfo=None) - EPOCH
            us = (d.days * 86400 + d.seconds) * 1000000 + d.microseconds
            return us // 1000 if _arg(t, 0) <= 3 else us
        if base == "timestamp" and isinstance(v, datetime.datetime):
            n = _arg(t, 0)
            s = v.strftime("%Y-%m-%dT%H:%M:%S")
            if n > 0:
                s += "." + ("%06d" % v.microsecond)[:n]
            return s + "Z"
        if base == "binary" and isinstance(v, (bytes, bytearray)):
            return bytes(v).ljust(_arg(t, 1), b"\0")
        return v


class Table:
    """A MySQL table as binlog2avro describes it; partial=True gives the
    value schema of partial row images (section 4.1)."""

    def __init__(self, db, name, cols, prefix="cdc"):
        self.db = db
        self.name = name
        self.cols = cols
        self.prefix = prefix
        self.topic = "%s.%s.%s" % (prefix, topic_part(db), topic_part(name))
        self.namespace = "%s.%s.%s" % (prefix, sanitise(db), sanitise(name))
        self._schemas = {}

    def _names(self):
        seen, out = {}, []
        for c in self.cols:
            n = sanitise(c.name)
            if n in seen:
                seen[n] += 1
                n = "%s_%d" % (n, seen[n])
            else:
                seen[n] = 1
            out.append(n)
        return out

    def _field(self, c, avro_name, geo, partial, in_key):
        t = c.avro_type(geo)
        f = {"name": avro_name, "cdc.name": c.name, "cdc.type": c.mysql_type}
        if c.key and not in_key:
            f["cdc.key"] = c.key
        if partial:
            branches = ["cdc.stream.Absent" if partial == "ref" else
                        {"type": "enum", "name": "Absent", "namespace": "cdc.stream",
                         "symbols": ["ABSENT"]}]
            if c.nullable:
                branches.append("null")
            branches.append(t)
            f["type"] = branches
        elif c.nullable:
            f["type"] = ["null", t]
            f["default"] = None
        else:
            f["type"] = t
        return f

    def value_schema(self, partial=False):
        if partial in self._schemas:
            return self._schemas[partial]
        geo = [False]
        fields = []
        for i, (c, n) in enumerate(zip(self.cols, self._names())):
            p = False
            if partial:
                p = "def" if i == 0 else "ref"
            fields.append(self._field(c, n, geo, p, False))
        source = {"type": "record", "name": "Source",
                  "namespace": "io.debezium.connector.mysql", "fields": [
                      {"name": "version", "type": "string"},
                      {"name": "connector", "type": "string"},
                      {"name": "name", "type": "string"},
                      {"name": "ts_ms", "type": "long"},
                      {"name": "snapshot", "type": ["string", "null"], "default": "false"},
                      {"name": "db", "type": "string"},
                      {"name": "sequence", "type": ["null", "string"], "default": None},
                      {"name": "table", "type": ["null", "string"], "default": None},
                      {"name": "server_id", "type": "long"},
                      {"name": "gtid", "type": ["null", "string"], "default": None},
                      {"name": "file", "type": "string"},
                      {"name": "pos", "type": "long"},
                      {"name": "row", "type": "int"},
                      {"name": "thread", "type": ["null", "long"], "default": None},
                      {"name": "query", "type": ["null", "string"], "default": None}]}
        txn = {"type": "record", "name": "Transaction", "namespace": "event.block",
               "fields": [{"name": "id", "type": "string"},
                          {"name": "total_order", "type": "long"},
                          {"name": "data_collection_order", "type": "long"}]}
        env = {"type": "record", "name": "Envelope", "namespace": self.namespace,
               "cdc.database": self.db, "cdc.table": self.name,
               "connect.name": self.namespace + ".Envelope", "fields": [
                   {"name": "before", "type": ["null", {
                       "type": "record", "name": "Value", "fields": fields}],
                    "default": None},
                   {"name": "after", "type": ["null", "Value"], "default": None},
                   {"name": "source", "type": source},
                   {"name": "op", "type": "string"},
                   {"name": "ts_ms", "type": ["null", "long"], "default": None},
                   {"name": "transaction", "type": ["null", txn], "default": None}]}
        s = avro.schema.parse(json.dumps(env))
        self._schemas[partial] = (s, json.dumps(env))
        return self._schemas[partial]

    def key_schema(self):
        if "key" in self._schemas:
            return self._schemas["key"]
        keys = sorted((c for c in self.cols if c.key), key=lambda c: c.key)
        if not keys:
            self._schemas["key"] = None
            return None
        names = dict(zip((id(c) for c in self.cols), self._names()))
        geo = [False]
        k = {"type": "record", "name": "Key", "namespace": self.namespace,
             "fields": [self._field(c, names[id(c)], geo, False, True) for c in keys]}
        self._schemas["key"] = (avro.schema.parse(json.dumps(k)), json.dumps(k))
        return self._schemas["key"]

    def key(self, row):
        """The single-object encoded key of a row."""
        ks = self.key_schema()
        keys = sorted((c for c in self.cols if c.key), key=lambda c: c.key)
        return _soe(ks[0], dict(zip([f.name for f in ks[0].fields],
                                    [c.datum(row.get(c.name)) for c in keys])))

    def image(self, row, partial):
        out = {}
        for c, n in zip(self.cols, self._names()):
            v = row.get(c.name, None)
            if v is ABSENT:
                out[n] = "ABSENT"
            else:
                out[n] = c.datum(v)
        return out


def _soe(schema, datum):
    buf = io.BytesIO()
    avro.io.DatumWriter(schema).write(datum, avro.io.BinaryEncoder(buf))
    return b"\xc3\x01" + fingerprint(schema) + buf.getvalue()


class Stream:
    """A stream writer on a binary file object."""

    def __init__(self, f, codec="null", producer="envstream 1", version=100,
                 ts_ms=1700000000000):
        self.w = avro.datafile.DataFileWriter(
            f, avro.io.DatumWriter(), avro.schema.parse(FRAME_SCHEMA), codec=codec)
        self.w.set_meta("cdc.format", b"1")
        self.w.set_meta("cdc.producer", producer.encode())
        self.announced = set()
        self.version = version
        self.maxver = 0
        self.seq = 0
        self.npos = 0
        self.ts_ms = ts_ms

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def close(self):
        self.w.close()

    def _announce(self, pair):
        schema, text = pair
        fp = fingerprint(schema)
        if fp not in self.announced:
            self.w.append({"fingerprint": fp, "schema": text})
            self.announced.add(fp)

    def announce_again(self, table, partial=False):
        """Announces a table's value schema again (allowed by the format)."""
        pair = table.value_schema(partial)
        self.w.append({"fingerprint": fingerprint(pair[0]), "schema": pair[1]})

    def _pos(self):
        self.npos += 1
        return "binlog:mysql-bin.000001:%d" % (self.npos * 100)

    def change(self, table, op, before=None, after=None, version=None,
               ts_ms=None, key_row=None):
        """Writes one change; returns its version."""
        partial = any(v is ABSENT for r in (before, after) if r for v in r.values())
        vs = table.value_schema(partial)
        ks = table.key_schema()
        self._announce(vs)
        if ks is not None:
            self._announce(ks)
        if version is None:
            self.version += 1
            version = self.version
        self.maxver = max(self.maxver, version)
        ts = self.ts_ms if ts_ms is None else ts_ms
        value = {
            "before": table.image(before, partial) if before is not None else None,
            "after": table.image(after, partial) if after is not None else None,
            "source": {"version": "0.1.0", "connector": "mysql", "name": table.prefix,
                       "ts_ms": ts, "snapshot": "false", "db": table.db,
                       "sequence": None, "table": table.name, "server_id": 1,
                       "gtid": None, "file": "mysql-bin.000001", "pos": 4, "row": 0,
                       "thread": None, "query": None},
            "op": op, "ts_ms": ts, "transaction": None}
        key = None
        kr = key_row or after or before
        if ks is not None and kr is not None:
            key = table.key(kr)
        self.w.append({"topic": table.topic, "key": key,
                       "value": _soe(vs[0], value), "position": self._pos(),
                       "version": version})
        return version

    def insert(self, table, row, **kw):
        return self.change(table, "c", after=row, **kw)

    def read(self, table, row, **kw):
        return self.change(table, "r", after=row, **kw)

    def update(self, table, before, after, **kw):
        return self.change(table, "u", before=before, after=after, **kw)

    def delete(self, table, before, **kw):
        return self.change(table, "d", before=before, **kw)

    def truncate(self, table, **kw):
        return self.change(table, "t", **kw)

    def tombstone(self, table, key_row):
        self.w.append({"topic": table.topic, "key": table.key(key_row),
                       "value": None, "position": self._pos(), "version": self.version})

    def commit(self, position=None, version=None, ts_ms=None):
        """Writes a commit mark and ends the block; returns its seq."""
        self.seq += 1
        self.w.append({"seq": self.seq, "position": position or self._pos(),
                       "version": self.maxver if version is None else version,
                       "ts_ms": self.ts_ms if ts_ms is None else ts_ms})
        self.w.flush()
        return self.seq

    def ddl(self, database, statement, position=None):
        self.w.append({"position": position or self._pos(), "database": database,
                       "statement": statement, "ts_ms": self.ts_ms})

    def heartbeat(self, position=None):
        self.w.append({"position": position or self._pos(), "now_ms": self.ts_ms})
        self.w.flush()

    def flush(self):
        self.w.flush()


if __name__ == "__main__":
    t = Table("shop", "items", [Col("id", "bigint", key=1),
                                Col("price", "decimal(10,2)"),
                                Col("sel ect", "varchar(20)", nullable=True)])
    with Stream(sys.stdout.buffer) as s:
        s.insert(t, {"id": 1, "price": decimal.Decimal("1.50"), "sel ect": "x"})
        s.commit()

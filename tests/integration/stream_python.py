"""Cross-implementation checks of the stream format with Apache Avro's own
Python library (Debian's python3-avro), run by t0002-stream-python.sh.

  stream_python.py read FILE     check a stream written by streamgen
  stream_python.py write FILE C  write a stream with codec C for streamcat
"""
import datetime
import decimal
import io
import json
import re
import sys

import avro.datafile
import avro.io
import avro.schema

EMPTY = 0xC15D213AA4D7A795
TABLE = []
for i in range(256):
    fp = i
    for _ in range(8):
        fp = (fp >> 1) ^ (EMPTY & -(fp & 1))
    TABLE.append(fp)


def crc64(data):
    fp = EMPTY
    for b in data:
        fp = (fp >> 8) ^ TABLE[(fp ^ b) & 0xFF]
    return fp


def canonical(schema):
    """python3-avro 1.11.1 leaves a primitive with a logical type as
    {"type":"bytes"}; the specification's PRIMITIVES rule and the Java
    reference implementation (whose test vectors tests/unit/test_fingerprint.c
    checks) make it "bytes". Apply that one rule on top of python's form."""
    return re.sub(r'\{"type":"(null|boolean|int|long|float|double|bytes|string)"\}',
                  r'"\1"', schema.canonical_form)


def fingerprint(schema):
    return crc64(canonical(schema).encode()).to_bytes(8, "little")


def soe_decode(data, schemas):
    assert data[:2] == b"\xc3\x01", "no single-object marker"
    schema = schemas[data[2:10]]
    return avro.io.DatumReader(schema).read(avro.io.BinaryDecoder(io.BytesIO(data[10:])))


def soe_encode(schema, datum):
    out = io.BytesIO()
    avro.io.DatumWriter(schema).write(datum, avro.io.BinaryEncoder(out))
    return b"\xc3\x01" + fingerprint(schema) + out.getvalue()


def check(name, cond):
    print(("ok " if cond else "not ok ") + "t0002-stream-python: " + name)
    return cond


UTC = datetime.timezone.utc


def read(path):
    with open(path, "rb") as f:
        reader = avro.datafile.DataFileReader(f, avro.io.DatumReader())
        meta = reader.meta
        frames = list(reader)
    check("header cdc.format is 1", meta.get("cdc.format") == b"1")
    check("header names the producer", meta.get("cdc.producer") == b"streamgen 1")
    schemas = {}
    kinds = []
    changes = []
    fp_ok = True
    for fr in frames:
        if "fingerprint" in fr:
            kinds.append("schema")
            s = avro.schema.parse(fr["schema"])
            fp_ok &= fingerprint(s) == fr["fingerprint"]
            schemas[fr["fingerprint"]] = s
        elif "topic" in fr:
            kinds.append("change")
            key = soe_decode(fr["key"], schemas)
            value = soe_decode(fr["value"], schemas) if fr["value"] is not None else None
            changes.append((fr, key, value))
        elif "seq" in fr:
            kinds.append("commit")
        elif "statement" in fr:
            kinds.append("ddl")
        else:
            kinds.append("heartbeat")
    check("fingerprints equal python's canonical form + CRC-64-AVRO", fp_ok)
    check("frame kinds in order", kinds == [
        "schema", "schema", "change", "change", "commit", "ddl", "change", "change",
        "commit", "heartbeat"])
    c0, c1, c2, c3 = changes
    check("insert key", c0[1] == {"id": 1})
    after = c0[2]["after"]
    check("insert: decimal 123.45", after["price"] == decimal.Decimal("123.45"))
    check("insert: null decimal", after["big"] is None)
    check("insert: MySQL name kept in cdc.name",
          [f.get_prop("cdc.name") for f in schemas[c0[0]["value"][2:10]].fields[0].type.schemas[1].fields][3] == "sel ect")
    check("insert: int minimum", after["n"] == -2147483648)
    check("insert: epoch timestamp", after["ts"] == datetime.datetime(1970, 1, 1, tzinfo=UTC))
    check("insert: op and version", c0[2]["op"] == "c" and c0[0]["version"] == 10)
    a = c1[2]["after"]
    check("update: before is the old row", c1[2]["before"] == after)
    check("update: negative decimal", a["price"] == decimal.Decimal("-1.00"))
    check("update: unsigned 64-bit maximum exact", a["big"] == decimal.Decimal(18446744073709551615))
    check("update: UTF-8 text", a["sel_ect"] == "h\u00e9llo \u20ac \U0001F600 \"q\" \\ \n")
    check("update: bytes", a["data"] == b"\x00\x01\x02\x7f\x80\xfe\xffbinary\"\\")
    check("update: double", a["ratio"] == -1e308)
    check("update: int maximum", a["n"] == 2147483647)
    check("update: microsecond timestamp",
          a["ts"] == datetime.datetime(9999, 12, 31, 23, 59, 59, 999999, tzinfo=UTC))
    check("delete: key at long maximum", c2[1] == {"id": 9223372036854775807})
    check("delete: after is null", c2[2]["after"] is None and c2[2]["op"] == "d")
    check("delete: decimal zero", c2[2]["before"]["big"] == decimal.Decimal(0))
    check("tombstone has a null value", c3[2] is None and c3[1] == c2[1])
    commits = [f for f in frames if "seq" in f]
    check("commit marks", [(c["seq"], c["position"], c["version"]) for c in commits] == [
        (1, "binlog:mysql-bin.000001:300", 11), (2, "binlog:mysql-bin.000001:600", 12)])
    ddl = [f for f in frames if "statement" in f][0]
    check("ddl frame", ddl["database"] == "shop" and ddl["statement"] == "ALTER TABLE `items` ADD `x` INT")


FRAME_SCHEMA_FILE = None

KEY = avro.schema.parse(json.dumps({
    "type": "record", "name": "Key", "namespace": "py.db.t",
    "fields": [{"name": "k", "type": "string"}]}))
VALUE = avro.schema.parse(json.dumps({
    "type": "record", "name": "Envelope", "namespace": "py.db.t",
    "fields": [
        {"name": "after", "type": ["null", {"type": "record", "name": "Value", "fields": [
            {"name": "k", "type": "string"},
            {"name": "amount", "type": {"type": "bytes", "logicalType": "decimal",
                                        "precision": 65, "scale": 30}},
            {"name": "tags", "type": {"type": "array", "items": "string"}},
            {"name": "attrs", "type": {"type": "map", "values": "long"}},
            {"name": "e", "type": {"type": "enum", "name": "E", "symbols": ["A", "B"]}},
            {"name": "fx", "type": {"type": "fixed", "name": "F", "size": 3}},
        ]}]},
        {"name": "op", "type": "string"}]}))


def write(path, codec, frame_schema_text):
    schema = avro.schema.parse(frame_schema_text)
    with open(path, "wb") as f:
        w = avro.datafile.DataFileWriter(f, avro.io.DatumWriter(), schema, codec=codec)
        w.set_meta("cdc.format", b"1")
        w.set_meta("cdc.producer", b"python3-avro")
        for s in (KEY, VALUE):
            w.append({"fingerprint": fingerprint(s), "schema": json.dumps(s.to_json())})
        row = {"k": "x\u00e9", "amount": decimal.Decimal("-12345678901234567890123456789012345.123456789012345678901234567890"),
               "tags": ["a", "b"], "attrs": {"z": -1}, "e": "B", "fx": b"\x00\xff\x10"}
        w.append({"topic": "py.db.t", "key": soe_encode(KEY, {"k": "x\u00e9"}),
                  "value": soe_encode(VALUE, {"after": row, "op": "c"}),
                  "position": "p:1", "version": 5})
        w.append({"seq": 1, "position": "p:2", "version": 5, "ts_ms": 7})
        w.append({"position": "p:3", "database": "db", "statement": "DROP TABLE t", "ts_ms": 8})
        w.append({"position": "p:4", "now_ms": 9})
        w.close()


if __name__ == "__main__":
    if sys.argv[1] == "read":
        read(sys.argv[2])
    else:
        write(sys.argv[2], sys.argv[3], sys.argv[4])

"""binlog2avro's stream read by Apache Avro's Python library (python3-avro),
an implementation independent of ours, and compared with streamcat's JSON,
frame by frame and value by value. Run by t1003-binlog2avro-python.sh.

  b2a_python.py TNAME LABEL STREAM STREAMCAT_JSONL

python3-avro reads the container (header, codec, blocks, sync markers),
checks that every announced fingerprint is the CRC-64-AVRO of the schema's
Parsing Canonical Form (streamcat prints it as a number: the 8 little-endian
bytes in reverse), and decodes each single-object key and value with
the schema its fingerprint announced, applying the logical types (decimal,
date, timestamp-millis/micros) itself.
"""
import datetime
import decimal
import json
import math
import os
import struct
import sys

import avro.datafile
import avro.io
import avro.schema

sys.path.insert(0, os.path.dirname(__file__))
import stream_python  # noqa: E402  (CRC-64-AVRO and single-object decoding)

UTC = datetime.timezone.utc
EPOCH = datetime.datetime(1970, 1, 1, tzinfo=UTC)


def logical(schema):
    """The non-null branch's logical type, if any."""
    if isinstance(schema, avro.schema.UnionSchema):
        return None
    return schema.get_prop("logicalType")


def to_json(v, schema):
    """A python3-avro datum in the form streamcat prints (docs/stream.md 8):
    bytes as one code point per byte, decimals as exact text, dates and
    timestamps as the numbers that Avro encodes."""
    if isinstance(schema, avro.schema.UnionSchema):
        for b in schema.schemas:
            if fits(v, b):
                return to_json(v, b)
        raise ValueError("no branch of %s fits %r" % (schema, v))
    t = schema.type
    lt = schema.get_prop("logicalType")
    if v is None:
        return None
    if lt == "decimal" and isinstance(v, decimal.Decimal):
        return format(v, "f")
    if lt == "date" and isinstance(v, datetime.date):
        return (v - datetime.date(1970, 1, 1)).days
    if lt == "timestamp-millis" and isinstance(v, datetime.datetime):
        d = v - EPOCH
        return (d.days * 86400 + d.seconds) * 1000 + d.microseconds // 1000
    if lt == "timestamp-micros" and isinstance(v, datetime.datetime):
        d = v - EPOCH
        return (d.days * 86400 + d.seconds) * 1000000 + d.microseconds
    if t in ("bytes", "fixed"):
        return v.decode("latin-1")
    if t == "record":
        return {f.name: to_json(v[f.name], f.type) for f in schema.fields}
    if t == "array":
        return [to_json(x, schema.items) for x in v]
    if t == "map":
        return {k: to_json(x, schema.values) for k, x in v.items()}
    return v


def fits(v, s):
    t = s.type
    lt = s.get_prop("logicalType")
    if v is None:
        return t == "null"
    if t == "enum":
        return isinstance(v, str) and v in s.symbols
    if lt == "decimal":
        return isinstance(v, decimal.Decimal)
    if lt == "date":
        return isinstance(v, datetime.date) and not isinstance(v, datetime.datetime)
    if lt in ("timestamp-millis", "timestamp-micros"):
        return isinstance(v, datetime.datetime)
    return {
        "null": lambda: False, "boolean": lambda: isinstance(v, bool),
        "int": lambda: isinstance(v, int) and not isinstance(v, bool),
        "long": lambda: isinstance(v, int) and not isinstance(v, bool),
        "float": lambda: isinstance(v, float), "double": lambda: isinstance(v, float),
        "bytes": lambda: isinstance(v, bytes), "fixed": lambda: isinstance(v, bytes),
        "string": lambda: isinstance(v, str), "record": lambda: isinstance(v, dict),
        "array": lambda: isinstance(v, list), "map": lambda: isinstance(v, dict),
    }.get(t, lambda: False)()


def equal(a, b, path, diffs):
    """a: from python3-avro (as JSON-like), b: streamcat's JSON."""
    if isinstance(a, dict) and isinstance(b, dict):
        if list(a) != list(b):
            diffs.append("%s: fields %s vs %s" % (path, list(a), list(b)))
            return
        for k in a:
            equal(a[k], b[k], path + "." + k, diffs)
    elif isinstance(a, list) and isinstance(b, list):
        if len(a) != len(b):
            diffs.append("%s: %d items vs %d" % (path, len(a), len(b)))
            return
        for i, (x, y) in enumerate(zip(a, b)):
            equal(x, y, "%s[%d]" % (path, i), diffs)
    elif isinstance(a, float) or isinstance(b, float):
        if not isinstance(b, (int, float)) or isinstance(b, bool) or not isinstance(a, (int, float)):
            diffs.append("%s: %r vs %r" % (path, a, b))
        elif a != b and not (math.isnan(a) and math.isnan(b)):
            # streamcat prints a float with 9 significant digits: the same
            # float32 when read back
            f32 = struct.unpack("<f", struct.pack("<f", float(b)))[0]
            if a != f32:
                diffs.append("%s: %r vs %r" % (path, a, b))
    elif a != b or type(a) is not type(b):
        diffs.append("%s: %r vs %r" % (path, a, b))


def main(tname, label, stream, jsonl):
    def out(ok, what, why=""):
        print(("ok " if ok else "not ok ") + "%s: %s: %s%s" % (tname, label, what, "" if ok else ": " + why))

    try:
        with open(stream, "rb") as f:
            reader = avro.datafile.DataFileReader(f, avro.io.DatumReader())
            meta = dict(reader.meta)
            frames = list(reader)
    except Exception as e:  # any failure of the reference reader is the finding
        out(False, "python3-avro reads the container", "%s: %s" % (type(e).__name__, e))
        return 1
    codec = meta.get("avro.codec", b"null").decode()
    ok = meta.get("cdc.format") == b"1" and meta.get("cdc.producer", b"").startswith(b"binlog2avro ")
    out(ok, "python3-avro reads the %s container: %d frames, cdc.format 1, cdc.producer binlog2avro" % (
        codec, len(frames)), repr({k: v[:40] for k, v in meta.items() if k != "avro.schema"}))
    ours = [json.loads(line) for line in open(jsonl, encoding="utf-8")]
    schemas, diffs, fp_bad, nvalues = {}, [], [], 0
    if len(ours) != len(frames):
        diffs.append("%d frames, streamcat %d" % (len(frames), len(ours)))
    for i, (fr, js) in enumerate(zip(frames, ours)):
        where = "frame %d" % i
        try:
            if "fingerprint" in fr:
                s = avro.schema.parse(fr["schema"])
                if stream_python.fingerprint(s) != fr["fingerprint"]:
                    fp_bad.append("%s: %s is not the fingerprint of its schema" % (where, fr["fingerprint"].hex()))
                schemas[fr["fingerprint"]] = s
                got = {"kind": "schema", "fingerprint": fr["fingerprint"][::-1].hex(), "schema": json.loads(fr["schema"])}
            elif "topic" in fr:
                got = {"kind": "change", "topic": fr["topic"]}
                for part in ("key", "value"):
                    data = fr[part]
                    if data is None:
                        got[part] = None
                    else:
                        s = schemas[data[2:10]]
                        got[part] = to_json(stream_python.soe_decode(data, schemas), s)
                        got[part + "_schema"] = data[2:10][::-1].hex()
                        nvalues += 1
                got["position"], got["version"] = fr["position"], fr["version"]
                got = {k: got[k] for k in js if k in got}
            elif "seq" in fr:
                got = dict(kind="commit", **fr)
            elif "statement" in fr:
                got = dict(kind="ddl", **fr)
            else:
                got = dict(kind="heartbeat", **fr)
        except Exception as e:
            diffs.append("%s: python3-avro: %s: %s" % (where, type(e).__name__, e))
            continue
        equal(got, js, where, diffs)
        if len(diffs) > 20:
            break
    out(not fp_bad, "every announced fingerprint is CRC-64-AVRO of the schema's canonical form", "; ".join(fp_bad[:2]))
    out(not diffs, "python3-avro's keys and values (%d single-object data) equal streamcat's" % nvalues,
        "; ".join(diffs[:3])[:1500])
    return 1 if diffs or fp_bad else 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:5]))

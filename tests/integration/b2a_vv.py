"""Compare binlog2avro's decoding (as streamcat prints it) with the row
values that mysqlbinlog / mariadb-binlog print with -vv, type by type.

  b2a_vv.py compare TNAME LABEL VV_TEXT STREAMCAT_JSONL [--db DB]...

prints one line: `ok TNAME: LABEL: ...` or `not ok TNAME: LABEL: ...` (with
the first mismatches), and, with B2A_VV_DETAILS=FILE, every mismatch in FILE.

mysqlbinlog -vv prints each row as

  ### INSERT INTO `db`.`t`          ### UPDATE `db`.`t`     ### DELETE FROM ...
  ### SET                           ### WHERE               ### WHERE
  ###   @1=VALUE /* TYPE meta=M nullable=N is_null=K */   (one per column)

Our values are rendered in its textual form, per binlog type (the TYPE of
the comment) and per our Avro type (docs/stream.md 4.3), and compared as bytes.
"""
import datetime
import json
import re
import struct
import sys

EPOCH = datetime.datetime(1970, 1, 1)
EPOCH_DATE = datetime.date(1970, 1, 1)

HEAD = re.compile(rb"^### (INSERT INTO|UPDATE|DELETE FROM) `(.*)`\.`(.*)`$")
COL = re.compile(rb"^###   @(\d+)=(.*) /\* (.*?) meta=(\d+) nullable=(\d) is_null=(\d) \*/$")


class VvRow:
    """One row of a rows event: op is c, u or d; before/after map a column
    number (1-based) to (value text, type text)."""

    def __init__(self, op, db, table):
        self.op, self.db, self.table = op, db, table
        self.before, self.after = None, None


def parse_vv(data):
    """Rows of a mysqlbinlog -vv text (bytes), in order."""
    rows, cur, img = [], None, None
    for line in data.split(b"\n"):
        line = line.rstrip(b"\r")
        if not line.startswith(b"###"):
            continue
        m = HEAD.match(line)
        if m:
            op = {b"INSERT INTO": "c", b"UPDATE": "u", b"DELETE FROM": "d"}[m[1]]
            cur = VvRow(op, m[2].decode("utf-8", "replace"), m[3].decode("utf-8", "replace"))
            rows.append(cur)
            img = None
            continue
        if line == b"### SET":
            cur.after, img = {}, "after"
            continue
        if line == b"### WHERE":
            cur.before, img = {}, "before"
            continue
        m = COL.match(line)
        if m and cur is not None and img is not None:
            getattr(cur, img)[int(m[1])] = (m[2], m[3].decode("ascii", "replace"))
            continue
        raise ValueError("unparsed -vv line: %r" % line[:200])
    return rows


# ---- our stream ------------------------------------------------------------

class Change:
    def __init__(self, frame, schema):
        v = frame["value"]
        self.frame = frame
        self.op = v["op"]
        self.db = v["source"]["db"]
        self.table = v["source"]["table"]
        self.before, self.after = v["before"], v["after"]
        self.key = frame["key"]
        self.position = frame["position"]
        # the Value record's fields, in column order
        vt = schema["fields"][0]["type"][1]
        self.fields = vt["fields"]
        self.keycols = sorted((f["cdc.key"], i) for i, f in enumerate(self.fields) if "cdc.key" in f)


def load_stream(path, dbs=None):
    """(changes, frames): our row changes (tombstones left out) and every
    frame, from streamcat's JSON lines."""
    schemas, changes, frames = {}, [], []
    with open(path, encoding="utf-8") as f:
        for line in f:
            fr = json.loads(line)
            frames.append(fr)
            if fr["kind"] == "schema":
                schemas[fr["fingerprint"]] = fr["schema"]
            elif fr["kind"] == "change" and fr["value"] is not None:
                c = Change(fr, schemas[fr["value_schema"]])
                if dbs is None or c.db in dbs:
                    changes.append(c)
    return changes, frames


def branch(t):
    """The non-null, non-Absent branch of a field type, and its name."""
    if isinstance(t, list):
        t = [b for b in t if b not in ("null", "cdc.stream.Absent") and not
             (isinstance(b, dict) and b.get("name") == "Absent")][0]
    return t


def as_bytes(s):
    """streamcat prints a byte string as one code point per byte."""
    return s.encode("latin-1")


# MySQL's latin1 is cp1252 with the five undefined bytes mapped to C1 controls.
def latin1_mysql(s):
    out = bytearray()
    for ch in s:
        o = ord(ch)
        if o < 0x80 or 0xA0 <= o <= 0xFF or o in (0x81, 0x8D, 0x8F, 0x90, 0x9D):
            out.append(o)
        else:
            out += ch.encode("cp1252")
    return bytes(out)


def quote_bytes(b, mysql):
    """mysqlbinlog's my_b_write_quoted(): bytes below 0x20 as \\xNN; MySQL's
    also ' and \\ (MariaDB's writes those two as they are)."""
    out = bytearray()
    for c in b:
        if c < 0x20 or (mysql and c in (0x27, 0x5C)):
            out += b"\\x%02x" % c
        else:
            out.append(c)
    return bytes(out)


def quoted(b):
    return b.startswith(b"'") and b.endswith(b"'") and len(b) >= 2


def vv_int(text):
    m = re.fullmatch(rb"(-?\d+)(?: \((\d+)\))?", text)
    if not m:
        return None
    return int(m[1]), int(m[2] or m[1])


def fmt_frac(us, n):
    """n fractional digits of a microsecond count; digits beyond n kept
    when they are not zero (so that a value finer than the column shows)."""
    s = "%06d" % us
    keep = s[:n] if s[n:].strip("0") == "" else s
    return "." + keep if keep else ""


def civil(days):
    """(year, month, day) of a day number since 1970-01-01, proleptic
    Gregorian, year 0 included (H. Hinnant's days_from_civil inverse)."""
    z = days + 719468
    era = z // 146097
    doe = z - era * 146097
    yoe = (doe - doe // 1460 + doe // 36524 - doe // 146096) // 365
    doy = doe - (365 * yoe + yoe // 4 - yoe // 100)
    mp = (5 * doy + 2) // 153
    d = doy - (153 * mp + 2) // 5 + 1
    m = mp + 3 if mp < 10 else mp - 9
    return (yoe + era * 400 + (m <= 2), m, d)


def fmt_datetime(us, n):
    days, rem = divmod(us, 86400 * 1000000)
    s, frac_us = divmod(rem, 1000000)
    return "%04d-%02d-%02d %02d:%02d:%02d" % (civil(days) + (s // 3600, s // 60 % 60, s % 60)) + fmt_frac(frac_us, n)


def is_zero_date(text):
    m = re.match(rb"'?(\d{4})[-:](\d{2})[-:](\d{2})", text)
    return m is not None and (int(m[2]) == 0 or int(m[3]) == 0)


def render(v, field, vtype, theirs):
    """Our value v as mysqlbinlog would print it for binlog type vtype, or
    None when v matches theirs by a rule that rendering cannot express.
    Returns (text or None, note)."""
    t = branch(field["type"])
    cname = t.get("connect.name", "") if isinstance(t, dict) else ""
    ctype = field.get("cdc.type", "")
    base = vtype.split("(")[0]
    if v is None:
        return b"NULL", ""
    if base in ("TINYINT", "SHORTINT", "MEDIUMINT", "INT", "LONGINT"):
        n = int(v) if not isinstance(v, bool) else int(v)
        pair = vv_int(theirs)
        if pair is None:
            return str(n).encode(), ""
        want = pair[1] if "unsigned" in ctype else pair[0]
        return (theirs if n == want else str(n).encode()), ""
    if base == "FLOAT":
        return ("%-20g" % float(v)).encode(), ""
    if base == "DOUBLE":
        return ("%-.20g" % float(v)).encode(), ""
    if base == "DECIMAL":
        return str(v).encode(), ""
    if base == "YEAR":
        return ("%04d" % (1900 if v == 0 else v)).encode(), ""
    if base in ("DATE", "NEWDATE"):
        return ("'%04d:%02d:%02d'" % civil(v)).encode(), ""
    if base == "DATETIME":
        us = v * 1000 if cname == "io.debezium.time.Timestamp" else v
        n = int(vtype[9:-1]) if vtype.startswith("DATETIME(") else 0
        return ("'%s'" % fmt_datetime(us, n)).encode(), ""
    if base == "TIMESTAMP":
        m = re.fullmatch(r"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d+))?Z", v)
        if not m:
            return ("bad ZonedTimestamp %r" % v).encode(), ""
        n = int(vtype[10:-1]) if vtype.startswith("TIMESTAMP(") else 0
        secs = int((datetime.datetime.strptime(m[1], "%Y-%m-%dT%H:%M:%S") - EPOCH).total_seconds())
        frac = m[2] or ""
        if len(frac) != n:  # docs/stream.md: exactly n fractional digits
            return ("%d.%s (want %d digits)" % (secs, frac, n)).encode(), ""
        return ("%d%s" % (secs, "." + frac if frac else "")).encode(), ""
    if base == "TIME":
        n = int(vtype[5:-1]) if vtype.startswith("TIME(") else 0
        sign = "-" if v < 0 else ""
        a = abs(v)
        s, us = divmod(a, 1000000)
        return ("'%s%02d:%02d:%02d%s'" % (sign, s // 3600, s // 60 % 60, s % 60,
                                          fmt_frac(us, n))).encode(), ""
    if base == "BIT":
        nbits = int(re.search(r"\((\d+)\)", vtype)[1])
        x = int(v) if isinstance(v, bool) else int.from_bytes(as_bytes(v), "little")
        return ("b'%s'" % format(x, "0%db" % nbits)).encode(), ""
    if base in ("ENUM", "SET"):
        # without the table map's symbols, ours carries the number
        allowed = [a for a in t["connect.parameters"]["allowed"].split(",") if a]
        if not allowed and re.fullmatch(r"\d+", v):
            n = int(v)
        elif base == "ENUM":
            n = allowed.index(v) + 1 if v in allowed else 0 if v == "" else None
        else:
            n = 0
            for s in (v.split(",") if v else []):
                n = n | 1 << allowed.index(s) if s in allowed and n is not None else None
        if n is None:
            return ("%r not among the symbols %r" % (v, allowed)).encode(), ""
        if base == "ENUM":
            return str(n).encode(), ""
        mask = n
        # a SET is a little-endian integer, printed byte by byte in order
        nbytes = int(re.search(r"\((\d+) bytes?\)", vtype)[1])
        return ("b'%s'" % "".join(format(x, "08b") for x in mask.to_bytes(nbytes, "little"))).encode(), ""
    if base == "GEOMETRY":
        raw = struct.pack("<I", v["srid"] or 0) + as_bytes(v["wkb"])
        return raw, "bytes"
    if base in ("STRING", "VARSTRING", "VARCHAR") or "BLOB" in base or base == "JSON":
        if isinstance(v, dict):
            return ("unexpected %r" % v).encode(), ""
        if t == "bytes" or (isinstance(t, dict) and t.get("type") == "bytes"):
            raw = as_bytes(v)
            m = re.fullmatch(r"binary\((\d+)\)", ctype)
            if m and base == "STRING":
                if len(raw) != int(m[1]):
                    return ("BINARY length %d, want %s" % (len(raw), m[1])).encode(), ""
                return raw, "binary"
            return raw, "bytes"
        return v, "text"
    return None, "type %s not compared" % vtype


# (db, table, column) of text columns in latin1: only that encoding counts.
LATIN1_ONLY = set()


def value_matches(v, field, theirs, vtype, latin1=False):
    """(ok, our rendering, note)."""
    if v == "ABSENT" and theirs is None:
        return True, b"ABSENT", ""
    if theirs is None:
        return False, repr(v).encode(), "column absent from the binlog image"
    if v == "ABSENT":
        return False, b"ABSENT", ""
    if v is None and theirs != b"NULL":
        # docs/stream.md 4.3: zero and partial dates become null
        base = vtype.split("(")[0]
        if base in ("DATE", "NEWDATE", "DATETIME") and is_zero_date(theirs):
            return True, b"", ""
        if base == "TIMESTAMP" and (theirs == b"0" or re.fullmatch(rb"0\.0+", theirs)):
            return True, b"", ""
    got, how = render(v, field, vtype, theirs)
    if got is None:
        return True, b"", how
    if how in ("bytes", "binary", "text"):
        if not quoted(theirs):
            return False, repr(got).encode(), "want a quoted string"
        inner = theirs[1:-1]
        if how == "text":
            cands = [] if latin1 else [got.encode("utf-8")]
            try:
                cands.append(latin1_mysql(got))
            except UnicodeEncodeError:
                pass
        else:
            # binlogs leave out BINARY(n)'s trailing zero bytes; we pad
            cands = [got, got.rstrip(b"\0")] if how == "binary" else [got]
        for b in cands:
            if inner in (quote_bytes(b, False), quote_bytes(b, True)):
                return True, b"", ""
        return False, quote_bytes(cands[0], False) if cands else got.encode("utf-8"), ""
    if how.startswith("type "):
        return True, b"", how
    return got.rstrip() == theirs.rstrip(), got, ""


def expand(vv, ours):
    """mysqlbinlog rows as the changes we must emit: an UPDATE that changes
    the primary key is a delete and a create (Debezium's behaviour). The key
    columns are those of our schema of the table."""
    keycols = {}
    for c in ours:
        keycols.setdefault((c.db, c.table), [i + 1 for _, i in c.keycols])
    out = []
    for r in vv:
        cols = keycols.get((r.db, r.table))
        # a partial after image without the key keeps it
        if r.op == "u" and cols and any(n in r.after and r.before.get(n) != r.after[n] for n in cols):
            out.append(("d", r, r.before, None))
            # the create carries the whole new key: key columns that a
            # minimal after image lacks did not change (the before's)
            after = dict(r.after)
            for n in cols:
                if n not in after and n in r.before:
                    after[n] = r.before[n]
            out.append(("c", r, None, after))
        else:
            out.append((r.op, r, r.before, r.after))
    return out


def compare_images(where, c, before, after, bad, notes):
    n = 0
    for img, theirs_img, ours_img in (("before", before, c.before), ("after", after, c.after)):
        if (theirs_img is None) != (ours_img is None):
            bad.append("%s: %s image present in only one" % (where, img))
            continue
        if theirs_img is None:
            continue
        vals = list(ours_img.values())
        if len(vals) != len(c.fields):
            bad.append("%s: %d values for %d fields" % (where, len(vals), len(c.fields)))
            continue
        extra = [k for k in theirs_img if k > len(vals)]
        if extra:
            bad.append("%s: %s has columns %s beyond ours" % (where, img, extra))
        for i, f in enumerate(c.fields):
            t = theirs_img.get(i + 1)
            vtype = t[1] if t else ""
            ok, got, note = value_matches(vals[i], f, t[0] if t else None, vtype,
                                          (c.db, c.table, f.get("cdc.name")) in LATIN1_ONLY)
            if note:
                notes.add(note)
            n += 1
            if not ok:
                bad.append("%s: %s column %d '%s' (%s, %s): mysqlbinlog %s, ours %s%s" % (
                    where, img, i + 1, f.get("cdc.name"), f.get("cdc.type"), vtype,
                    (t[0][:120] if t else b"(absent)").decode("utf-8", "replace"),
                    got[:120].decode("utf-8", "replace"),
                    " (%s)" % note if note else ""))
    return n


def compare_rows(vv, ours):
    """Mismatch messages between mysqlbinlog's rows and our changes, in
    order; after a change that does not line up (table or op), the two
    sequences are lined up again a few changes further on."""
    bad, notes = [], set()
    want = expand(vv, ours)
    compared = 0
    i = j = 0

    def same(a, b):
        return a < len(want) and b < len(ours) and (ours[b].db, ours[b].table, ours[b].op) == (
            want[a][1].db, want[a][1].table, want[a][0])
    while i < len(want) and j < len(ours):
        op, r, before, after = want[i]
        c = ours[j]
        where = "row %d (%s.%s %s at %s)" % (i, r.db, r.table, op, c.position)
        if not same(i, j):
            bad.append("%s: ours is %s.%s %s" % (where, c.db, c.table, c.op))
            for di, dj in ((1, 1), (0, 1), (1, 0), (2, 1), (1, 2), (2, 0), (0, 2), (2, 2)):
                if all(same(i + di + k, j + dj + k) for k in range(3)):
                    i, j = i + di, j + dj
                    break
            else:
                bad.append("cannot line the changes up again after %s" % where)
                return bad, compared, notes
            continue
        compared += compare_images(where, c, before, after, bad, notes)
        i, j = i + 1, j + 1
    if i < len(want):
        op, r = want[i][:2]
        bad.append("row %d: %d rows missing in ours, first %s %s.%s" % (i, len(want) - i, op, r.db, r.table))
    if j < len(ours):
        c = ours[j]
        bad.append("ours has %d more changes, first %s.%s %s at %s" % (
            len(ours) - j, c.db, c.table, c.op, c.position))
    return bad, compared, notes


def stream_problems(frames, prefix="cdc"):
    """What is wrong with a stream's frames as docs/stream.md section 2 and
    4 describe them: change versions growing along the stream and strictly
    increasing for each key (a primary-key change's delete and create may
    share one), commit marks
    numbered 1, 2, ... carrying the greatest version before them, a commit
    mark last, topics named after the source table, transaction orders
    counting from 1."""
    bad = []
    last_version, max_version, seq = None, 0, 0
    open_changes = 0
    order, key_version = {}, {}
    for i, fr in enumerate(frames):
        k = fr["kind"]
        if k == "change":
            open_changes += 1
            v = fr["version"]
            if last_version is not None and v < last_version:
                bad.append("frame %d: version %d after %d" % (i, v, last_version))
            last_version = v
            max_version = max(max_version, v)
            val = fr["value"]
            if val is None:
                continue
            kv = (fr["topic"], json.dumps(fr["key"], sort_keys=True))
            if fr["key"] is not None and key_version.get(kv, -1) >= v:
                bad.append("frame %d: version %d not above %d of an earlier change of key %s" % (
                    i, v, key_version[kv], kv[1]))
            key_version[kv] = v
            src = val["source"]
            want = "%s.%s.%s" % (prefix, re.sub(r"[^A-Za-z0-9._-]", "_", src["db"]),
                                 re.sub(r"[^A-Za-z0-9._-]", "_", src["table"]))
            if fr["topic"] != want:
                bad.append("frame %d: topic %s, want %s" % (i, fr["topic"], want))
            t = val.get("transaction")
            if t is not None:
                n = order.get(t["id"], 0) + 1
                if t["total_order"] != n:
                    bad.append("frame %d: total_order %d, want %d" % (i, t["total_order"], n))
                order[t["id"]] = n
            if val["op"] not in ("c", "u", "d"):
                bad.append("frame %d: op %r" % (i, val["op"]))
            if (val["before"] is None) != (val["op"] == "c") or (val["after"] is None) != (val["op"] == "d"):
                bad.append("frame %d: op %s with before %s and after %s" % (
                    i, val["op"], val["before"] is not None, val["after"] is not None))
        elif k == "commit":
            seq += 1
            if fr["seq"] != seq:
                bad.append("frame %d: commit seq %d, want %d" % (i, fr["seq"], seq))
            if fr["version"] != max_version:
                bad.append("frame %d: commit version %d, want %d" % (i, fr["version"], max_version))
            if not fr["position"].startswith("binlog:"):
                bad.append("frame %d: commit position %r" % (i, fr["position"]))
            open_changes = 0
    if open_changes:
        bad.append("the stream ends with %d changes after its last commit mark" % open_changes)
    return bad


def cmd_fixture(argv):
    """fixture TNAME LABEL JSONL [VV]: the stream's invariants, then its
    rows against mysqlbinlog's when VV is given."""
    tname, label, jpath = argv[:3]
    ours, frames = load_stream(jpath)
    bad = stream_problems(frames)
    report(tname, label + ": stream well formed", bad, "%d frames, %d changes" % (len(frames), len(ours)))
    rc = 1 if bad else 0
    if len(argv) > 3:
        rc |= cmd_compare([tname, label + ": values equal mysqlbinlog -vv (" + argv[4] + ")",
                           argv[3], jpath])
    return rc


def cmd_compare(argv):
    tname, label, vvpath, jpath = argv[:4]
    dbs = None
    rest = argv[4:]
    while rest:
        if rest[0] == "--db":
            dbs = (dbs or set()) | {rest[1]}
            rest = rest[2:]
        else:
            raise SystemExit("unknown argument %r" % rest[0])
    with open(vvpath, "rb") as f:
        data = f.read()
    if data.startswith(b"\xff\xfe"):
        data = data.decode("utf-16-le").lstrip("\ufeff").encode("utf-8")
    vv = parse_vv(data)
    if dbs is not None:
        vv = [r for r in vv if r.db in dbs]
    ours, _ = load_stream(jpath, dbs)
    bad, compared, notes = compare_rows(vv, ours)
    report(tname, label, bad, "%d rows, %d values%s" % (
        len(vv), compared, "; " + "; ".join(sorted(notes)) if notes else ""))
    return 1 if bad else 0


def report(tname, label, bad, summary):
    import os
    if bad:
        path = os.environ.get("B2A_VV_DETAILS")
        if path:
            with open(path, "a") as f:
                for b in bad:
                    f.write("%s: %s\n" % (label, b))
        print("not ok %s: %s: %d mismatches: %s" % (tname, label, len(bad), " | ".join(bad[:3])))
    else:
        print("ok %s: %s: %s" % (tname, label, summary))


if __name__ == "__main__":
    if sys.argv[1] == "compare":
        sys.exit(cmd_compare(sys.argv[2:]))
    if sys.argv[1] == "fixture":
        try:
            sys.exit(cmd_fixture(sys.argv[2:]))
        except (ValueError, KeyError, IndexError, TypeError) as e:
            print("not ok %s: %s: comparison failed: %s: %s" % (
                sys.argv[2], sys.argv[3], type(e).__name__, e))
            sys.exit(1)
    raise SystemExit("usage: b2a_vv.py compare TNAME LABEL VV JSONL [--db DB]...")

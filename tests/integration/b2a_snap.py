"""Helpers of t1005-binlog2avro-snapshot.sh. Streams are read as
`streamcat -r` prints them (keys and values as Avro byte strings), and the
Avro of each value is walked with its announced schema, so that the records
compared are the exact bytes binlog2avro wrote.

  b2a_snap.py same TNAME BINLOG_JSONL SNAPSHOT_JSONL COUNTS
        the snapshot's op=r rows against the binlog's changes replayed (the
        same table contents): schemas identical text, every row's key and
        Value record identical bytes, source.snapshot and versions right
  b2a_snap.py state TNAME LABEL FINAL_JSONL STREAM_JSONL...
        the streams replayed in order, latest version per key winning,
        against FINAL (a snapshot of the tables at the end)
  b2a_snap.py order TNAME LABEL STREAM_JSONL...
        reads versioned below every binlog change, no binlog change twice
  b2a_snap.py lastpos STREAM_JSONL   the position of the last commit mark
  b2a_snap.py reached STREAM_JSONL FILE POS
        exit 0 when a commit mark or heartbeat is at binlog FILE:POS or after
"""
import json
import sys


def ok(tname, what):
    print("ok %s: %s" % (tname, what))


def fail(tname, what, why):
    print("not ok %s: %s: %s" % (tname, what, why))


def frames(path):
    """The frames of a `streamcat -r` output; a torn last line (a stream cut
    by kill -9) is dropped."""
    out = []
    with open(path, encoding="utf-8") as f:
        for line in f:
            line = line.strip()
            if not line.startswith("{"):
                continue
            try:
                out.append(json.loads(line))
            except ValueError:
                break
    return out


def raw(s):
    return s.encode("latin-1") if s is not None else None


# ---- Avro: walking a datum to find the bytes of its parts ------------------

def varint(b, i):
    shift = n = 0
    while True:
        c = b[i]
        i += 1
        n |= (c & 0x7F) << shift
        shift += 7
        if c < 0x80:
            return (n >> 1) ^ -(n & 1), i


class Walker:
    def __init__(self):
        self.named = {}

    def name_of(self, s, ns):
        n = s["name"]
        if "." not in n and s.get("namespace", ns):
            n = s.get("namespace", ns) + "." + n
        return n

    def register(self, s, ns=""):
        """Learns the named types of schema s, references included."""
        if isinstance(s, list):
            for x in s:
                self.register(x, ns)
        elif isinstance(s, dict):
            t = s["type"]
            if t in ("record", "enum", "fixed"):
                full = self.name_of(s, ns)
                self.named[full] = s
                self.named.setdefault(s["name"], s)
                if t == "record":
                    sub = full.rsplit(".", 1)[0] if "." in full else ""
                    for f in s["fields"]:
                        self.register(f["type"], sub)
            elif t == "array":
                self.register(s["items"], ns)
            elif isinstance(t, (dict, list)):
                self.register(t, ns)

    def skip(self, s, b, i, ns=""):
        """The offset after the datum of schema s at b[i]."""
        if isinstance(s, list):
            k, i = varint(b, i)
            return self.skip(s[k], b, i, ns)
        if isinstance(s, str):
            if s in ("null",):
                return i
            if s == "boolean":
                return i + 1
            if s in ("int", "long"):
                return varint(b, i)[1]
            if s == "float":
                return i + 4
            if s == "double":
                return i + 8
            if s in ("bytes", "string"):
                n, i = varint(b, i)
                return i + n
            t = self.named.get(s) or self.named.get(ns + "." + s)
            return self.skip(t, b, i, ns)
        t = s["type"]
        if t == "record":
            full = self.name_of(s, ns)
            self.named[full] = s
            self.named[s["name"]] = s
            sub = full.rsplit(".", 1)[0] if "." in full else ""
            for f in s["fields"]:
                i = self.skip(f["type"], b, i, sub)
            return i
        if t == "enum":
            self.named[self.name_of(s, ns)] = s
            self.named[s["name"]] = s
            return varint(b, i)[1]
        if t == "fixed":
            self.named[self.name_of(s, ns)] = s
            return i + s["size"]
        if t == "array":
            while True:
                n, i = varint(b, i)
                if n == 0:
                    return i
                if n < 0:
                    n = -n
                    i = varint(b, i)[1]
                for _ in range(n):
                    i = self.skip(s["items"], b, i, ns)
        return self.skip(t, b, i, ns)

    def envelope(self, schema, value):
        """(before, after, rest_offset) record bytes (None when null) of
        an Envelope datum, value without its 10-byte single-object header."""
        ns = schema.get("namespace", "")
        fields = schema["fields"]
        i = 0
        parts = []
        for f in fields[:2]:
            k, j = varint(value, i)
            if k == 0:
                parts.append(None)
                i = j
            else:
                e = self.skip(f["type"][1], value, j, ns)
                parts.append(value[j:e])
                i = e
        src = fields[2]["type"]
        e = self.skip(src, value, i, ns)
        source = value[i:e]
        n, j = varint(value, e)
        op = value[j:j + n].decode()
        return parts[0], parts[1], op, source


class Stream:
    """Changes of a stream with their decoded parts."""

    def __init__(self, path, plain_path=None):
        self.frames = frames(path)
        self.schemas = {}
        self.changes = []
        self.commits = []
        plain = frames(plain_path) if plain_path else None
        walkers = {}
        for n, f in enumerate(self.frames):
            if f["kind"] == "schema":
                self.schemas[f["fingerprint"]] = f["schema"]
            elif f["kind"] == "change":
                v = raw(f["value"])
                fp = v[2:10][::-1].hex() if v else None
                c = {"topic": f["topic"], "key": raw(f["key"]), "version": f["version"],
                     "position": f["position"], "fp": fp,
                     "kfp": raw(f["key"])[2:10][::-1].hex() if f["key"] else None}
                if v is not None:
                    sch = self.schemas[fp]
                    if fp not in walkers:
                        walkers[fp] = Walker()
                        walkers[fp].register(sch)
                    before, after, op, source = walkers[fp].envelope(sch, v[10:])
                    c.update(before=before, after=after, op=op, source=source)
                if plain is not None:
                    c["plain"] = plain[n]
                self.changes.append(c)
            elif f["kind"] == "commit":
                self.commits.append(f)


def replay(changes, state=None):
    """Per topic, per key (or per whole row without a key): the latest
    version's after record. Equal versions keep stream order."""
    state = {} if state is None else state
    for c in changes:
        if c.get("op") is None:
            continue
        t = state.setdefault(c["topic"], {"keyed": {}, "rows": []})
        if c["key"] is not None:
            k = c["key"][10:]
            old = t["keyed"].get(k)
            if old is not None and old[0] > c["version"]:
                continue
            t["keyed"][k] = (c["version"], c["after"])
        else:
            # No key: a delete removes one equal row, an update replaces.
            if c["before"] is not None and c["before"] in t["rows"]:
                t["rows"].remove(c["before"])
            if c["after"] is not None:
                t["rows"].append(c["after"])
    out = {}
    for topic, t in state.items():
        rows = {k: v[1] for k, v in t["keyed"].items() if v[1] is not None}
        out[topic] = (rows, sorted(t["rows"]))
    return out


def cmd_same(tname, bpath, spath, counts):
    b = Stream(bpath, bpath + ".plain")
    s = Stream(spath, spath + ".plain")
    bstate = replay(b.changes)
    reads = [c for c in s.changes if c.get("op") is not None]
    want = {}
    with open(counts) as f:
        for line in f:
            topic, n = line.split()
            want[topic] = int(n)
    got = {}
    for c in reads:
        got[c["topic"]] = got.get(c["topic"], 0) + 1
    got = {t: n for t, n in got.items()}
    if {t: n for t, n in want.items() if n} == got:
        ok(tname, "every row of the %d tables read once (%d rows)" % (len(want), len(reads)))
    else:
        bad = [t for t in set(want) | set(got) if want.get(t, 0) != got.get(t, 0)]
        fail(tname, "every row read once", "; ".join(
            "%s: %d read, %d in the table" % (t, got.get(t, 0), want.get(t, 0)) for t in bad[:4]))
    bad = [c for c in reads if c["op"] != "r"]
    if bad:
        fail(tname, "snapshot changes are reads", "%d with op %s" % (len(bad), bad[0]["op"]))
    else:
        ok(tname, "snapshot: %d changes, all op=r" % len(reads))
    snap = [c["plain"]["value"]["source"]["snapshot"] for c in reads]
    if snap and snap[-1] == "last" and all(x == "true" for x in snap[:-1]):
        ok(tname, "source.snapshot is true, and last on the last row")
    else:
        fail(tname, "source.snapshot", "%s ... %s" % (snap[:2], snap[-2:]))
    # Keyed tables' reads share the snapshot's version; a keyless table's
    # reads count down from it, one version each (a multiset needs them).
    src = reads[0]["plain"]["value"]["source"] if reads else None
    want = (((int(src["file"].rsplit(".", 1)[1]) << 32) + src["pos"]) << 10) - 1 if src else None
    keyed = sorted({c["version"] for c in reads if c.get("kfp")})
    keyless = {}
    for c in reads:
        if not c.get("kfp"):
            keyless.setdefault(c["topic"], []).append(c["version"])
    bad_keyless = [t for t, v in keyless.items()
                   if len(set(v)) != len(v) or max(v) > want]
    if keyed in ([want], []) and not bad_keyless:
        ok(tname, "snapshot version (((file << 32) + pos) << 10) - 1 on every keyed read, "
           "distinct versions below it for keyless tables")
    else:
        fail(tname, "snapshot versions", "%s, want %s; keyless bad: %s" % (keyed[:3], want, bad_keyless[:2]))
    # Schemas: the same fingerprints and the same text (attributes included).
    bfp, sfp = {}, {}
    for c in b.changes:
        bfp.setdefault(c["topic"], set()).add((c["fp"], c["kfp"]))
    for c in reads:
        sfp.setdefault(c["topic"], set()).add((c["fp"], c["kfp"]))
    diffs = []
    for topic, fps in sorted(sfp.items()):
        if topic in bfp and not fps <= bfp[topic]:
            diffs.append("%s: snapshot %s binlog %s" % (topic, sorted(fps), sorted(bfp[topic])))
        for fp, kfp in fps:
            for x in (fp, kfp):
                if x is not None and x in b.schemas and \
                        json.dumps(b.schemas[x]) != json.dumps(s.schemas[x]):
                    diffs.append("%s: schema %s text differs" % (topic, x))
    if diffs:
        fail(tname, "schemas identical to the binlog's", "; ".join(diffs[:3]))
    else:
        ok(tname, "schemas identical to the binlog's (%d tables)" % len(sfp))
    sstate = replay(reads)
    topics = sorted(set(bstate) | set(sstate))
    for topic in topics:
        brows, bfree = bstate.get(topic, ({}, []))
        srows, sfree = sstate.get(topic, ({}, []))
        what = "%s: %d rows byte-identical to the binlog's" % (topic, len(srows) + len(sfree))
        if brows == srows and bfree == sfree:
            ok(tname, what)
            continue
        why = []
        for k in sorted(set(brows) | set(srows)):
            if brows.get(k) != srows.get(k):
                why.append(describe(topic, k, brows.get(k), srows.get(k), b, s))
                if len(why) >= 2:
                    break
        if bfree != sfree:
            why.append("keyless rows: binlog %d, snapshot %d" % (len(bfree), len(sfree)))
        fail(tname, what, "; ".join(why))


def describe(topic, key, bv, sv, b, s):
    """The decoded after images of a differing row, for the message."""
    def plain(st, rec):
        for c in reversed(st.changes):
            if c["topic"] == topic and c["key"] is not None and c["key"][10:] == key \
                    and c.get("after") == rec:
                a = c["plain"]["value"]["after"]
                return a
        return None
    pb, ps = plain(b, bv), plain(s, sv)
    if isinstance(pb, dict) and isinstance(ps, dict):
        cols = [n for n in pb if pb.get(n) != ps.get(n)]
        return "key %s: %s" % (key.hex(), ", ".join(
            "%s binlog %r snapshot %r" % (n, pb.get(n), ps.get(n)) for n in cols[:3]))
    return "key %s: binlog %r, snapshot %r" % (key.hex(), pb, ps)


def cmd_state(tname, label, final, streams):
    f = Stream(final)
    want = replay(f.changes)
    state = {}
    changes = []
    for p in streams:
        st = Stream(p)
        # A stream cut by kill -9 counts up to its last commit mark.
        last = max((i for i, fr in enumerate(st.frames) if fr["kind"] == "commit"), default=-1)
        kept = sum(1 for fr in st.frames[:last + 1] if fr["kind"] == "change")
        changes += st.changes[:kept]
    got = replay(changes, state)
    reads = {}
    dup = 0
    for c in changes:
        if c.get("op") == "r" and c["key"] is not None:
            k = (c["topic"], c["key"][10:])
            dup += k in reads
            reads[k] = 1
    for topic in sorted(want):
        wrows, wfree = want[topic]
        grows, gfree = got.get(topic, ({}, []))
        what = "%s: %s: %d rows equal the table's" % (label, topic, len(wrows) + len(wfree))
        if wrows == grows and wfree == gfree:
            ok(tname, what)
        else:
            miss = [k for k in wrows if k not in grows]
            extra = [k for k in grows if k not in wrows]
            diff = [k for k in wrows if k in grows and wrows[k] != grows[k]]
            fail(tname, what, "%d missing, %d extra, %d different (e.g. %s)" % (
                len(miss), len(extra), len(diff),
                (miss + extra + diff)[0].hex() if miss + extra + diff else "-"))
    if dup:
        fail(tname, "%s: each key read once" % label, "%d keys read twice" % dup)
    else:
        ok(tname, "%s: each key read once by the snapshot" % label)


def cmd_order(tname, label, paths):
    """The reads' version is below every binlog change's; no binlog change
    twice; the binlog part starts right after the snapshot's last read."""
    changes = []
    for p in paths:
        st = Stream(p)
        last = max((i for i, fr in enumerate(st.frames) if fr["kind"] == "commit"), default=-1)
        kept = sum(1 for fr in st.frames[:last + 1] if fr["kind"] == "change")
        changes += st.changes[:kept]
    reads = [c for c in changes if c.get("op") == "r"]
    rest = [c for c in changes if c.get("op") not in ("r", None)]
    top = max((c["version"] for c in reads), default=None)
    low = min((c["version"] for c in rest), default=None)
    if reads and rest and top < low:
        ok(tname, "%s: %d reads, all below the %d binlog changes' versions" % (label, len(reads), len(rest)))
    else:
        fail(tname, "%s: read versions below the binlog's" % label,
             "%d reads (max %s), %d changes (min %s)" % (len(reads), top, len(rest), low))
    seen = set()
    dup = 0
    for c in rest:
        k = (c["topic"], c["key"], c["version"], c["op"])
        dup += k in seen
        seen.add(k)
    if dup:
        fail(tname, "%s: each binlog change once" % label, "%d doubled" % dup)
    else:
        ok(tname, "%s: each binlog change once" % label)


def cmd_lastpos(path):
    last = None
    for f in frames(path):
        if f["kind"] == "commit":
            last = f["position"]
    print(last or "")


def cmd_reached(path, file, pos):
    want = (file, int(pos))
    for f in frames(path):
        if f["kind"] in ("commit", "heartbeat") and f["position"].startswith("binlog:"):
            p = f["position"][7:].split(";")[0]
            name, _, off = p.rpartition(":")
            if (name, int(off)) >= want:
                return 0
    return 1


def main(argv):
    if argv[1] == "same":
        cmd_same(argv[2], argv[3], argv[4], argv[5])
    elif argv[1] == "order":
        cmd_order(argv[2], argv[3], argv[4:])
    elif argv[1] == "state":
        cmd_state(argv[2], argv[3], argv[4], argv[5:])
    elif argv[1] == "lastpos":
        cmd_lastpos(argv[2])
    elif argv[1] == "reached":
        return cmd_reached(argv[2], argv[3], argv[4])
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))

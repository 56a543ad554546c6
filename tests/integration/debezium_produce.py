"""Writes Debezium-shaped change events to Kafka with confluent-kafka-python's
AvroSerializer against the schema registry, as Debezium's MySQL connector
through Kafka Connect's Avro converter would: records named
<prefix>.<db>.<table>.Envelope / .Key / .Value with connect.name and
connect.parameters, keys framed too, a tombstone after each delete, a
primary-key change as a delete and a create, a keyless table with null
keys, and a column added mid-stream (a second value schema). Nothing of
this project is used to write them.

Then prints the rows the tables must hold at the end, one tab-separated
line per row, "table<TAB>columns...", sorted: the rows after applying the
changes, rendered as the test's ClickHouse query renders them.

usage: debezium_produce.py BROKERS REGISTRY_URL PREFIX DB PARTITIONS
"""
import datetime
import decimal
import sys

from confluent_kafka import Producer
from confluent_kafka.admin import AdminClient, NewTopic
from confluent_kafka.schema_registry import SchemaRegistryClient
from confluent_kafka.schema_registry.avro import AvroSerializer
from confluent_kafka.serialization import MessageField, SerializationContext

# Debezium 2.7's MySQL Source schema as its Avro converter writes it, typed
# out here rather than taken from envstream.py: this producer shares no
# code with the project it tests.
SOURCE = {
    "type": "record", "name": "Source",
    "namespace": "io.debezium.connector.mysql",
    "fields": [
        {"name": "version", "type": "string"},
        {"name": "connector", "type": "string"},
        {"name": "name", "type": "string"},
        {"name": "ts_ms", "type": "long"},
        {"name": "snapshot", "type": [
            {"type": "string", "connect.version": 1,
             "connect.parameters": {"allowed": "true,last,false,incremental"},
             "connect.default": "false",
             "connect.name": "io.debezium.data.Enum"}, "null"],
         "default": "false"},
        {"name": "db", "type": "string"},
        {"name": "sequence", "type": ["null", "string"], "default": None},
        {"name": "table", "type": ["null", "string"], "default": None},
        {"name": "server_id", "type": "long"},
        {"name": "gtid", "type": ["null", "string"], "default": None},
        {"name": "file", "type": "string"},
        {"name": "pos", "type": "long"},
        {"name": "row", "type": "int"},
        {"name": "thread", "type": ["null", "long"], "default": None},
        {"name": "query", "type": ["null", "string"], "default": None}],
    "connect.name": "io.debezium.connector.mysql.Source"}


def value_fields(with_note):
    f = [
        {"name": "id", "type": "int"},
        {"name": "name", "type": ["null", "string"], "default": None},
        {"name": "price", "type": {
            "type": "bytes", "scale": 2, "precision": 10,
            "connect.version": 1,
            "connect.parameters": {"scale": "2",
                                   "connect.decimal.precision": "10"},
            "connect.name": "org.apache.kafka.connect.data.Decimal",
            "logicalType": "decimal"}},
        {"name": "created", "type": {
            "type": "int", "connect.version": 1,
            "connect.name": "io.debezium.time.Date"}},
        {"name": "updated", "type": {
            "type": "long", "connect.version": 1,
            "connect.name": "io.debezium.time.MicroTimestamp"}},
        {"name": "flag", "type": "boolean"},
        {"name": "qty", "type": "long"}]
    if with_note:
        f.append({"name": "note", "type": ["null", "string"],
                  "default": None})
    return f


def envelope(prefix, db, table, fields):
    ns = "%s.%s.%s" % (prefix, db, table)
    value = {"type": "record", "name": "Value", "namespace": ns,
             "fields": fields, "connect.name": ns + ".Value"}
    return {
        "type": "record", "name": "Envelope", "namespace": ns,
        "fields": [
            {"name": "before", "type": ["null", value], "default": None},
            {"name": "after", "type": ["null", ns + ".Value"],
             "default": None},
            {"name": "source", "type": SOURCE},
            {"name": "op", "type": "string"},
            {"name": "ts_ms", "type": ["null", "long"], "default": None},
            {"name": "transaction", "type": ["null", {
                "type": "record", "name": "block",
                "namespace": "event",
                "fields": [
                    {"name": "id", "type": "string"},
                    {"name": "total_order", "type": "long"},
                    {"name": "data_collection_order", "type": "long"}],
                "connect.version": 1,
                "connect.name": "event.block"}], "default": None}],
        "connect.version": 1,
        "connect.name": ns + ".Envelope"}


def key_schema(prefix, db, table):
    ns = "%s.%s.%s" % (prefix, db, table)
    return {"type": "record", "name": "Key", "namespace": ns,
            "fields": [{"name": "id", "type": "int"}],
            "connect.name": ns + ".Key"}


class Table:
    """One topic: its serializers and the rows it must end with."""

    def __init__(self, registry, prefix, db, name, fields, keyed):
        import json
        self.topic = "%s.%s.%s" % (prefix, db, name)
        self.name, self.db, self.prefix = name, db, prefix
        self.registry = registry
        conf = {"auto.register.schemas": True}
        self.value = AvroSerializer(
            registry, json.dumps(envelope(prefix, db, name, fields)),
            conf=conf)
        self.key = None
        if keyed:
            self.key = AvroSerializer(
                registry, json.dumps(key_schema(prefix, db, name)),
                conf=conf)
        self.rows = []  # a multiset for a keyless table

    def evolve(self, fields):
        import json
        self.value = AvroSerializer(
            self.registry,
            json.dumps(envelope(self.prefix, self.db, self.name, fields)),
            conf={"auto.register.schemas": True})


class Run:
    def __init__(self, producer, db):
        self.p, self.db = producer, db
        self.pos = 1000
        self.ts = 1714557600000

    def send(self, t, op, before, after):
        self.pos += 100
        self.ts += 1000
        src = {"version": "2.7.0.Final", "connector": "mysql",
               "name": t.prefix, "ts_ms": self.ts,
               "snapshot": "true" if op == "r" else "false",
               "db": self.db, "table": t.name, "server_id": 1,
               "file": "mysql-bin.000003", "pos": self.pos, "row": 0,
               "thread": 7}
        env = {"before": before, "after": after, "source": src, "op": op,
               "ts_ms": self.ts + 5, "transaction": None}
        row = after if after is not None else before
        key = None
        if t.key is not None:
            key = t.key({"id": row["id"]},
                        SerializationContext(t.topic, MessageField.KEY))
        val = t.value(env, SerializationContext(t.topic, MessageField.VALUE))
        self.p.produce(t.topic, key=key, value=val)
        if op == "d" and t.key is not None:
            self.p.produce(t.topic, key=key, value=None)  # the tombstone
        if before is not None:
            t.rows.remove(before)
        if after is not None:
            t.rows.append(after)
        self.p.poll(0)


def row(i, name, price, day, note=False, noteval=None, qty=1, flag=True):
    r = {"id": i, "name": name, "price": decimal.Decimal(price),
         "created": day,
         "updated": 1714557600123456 + i * 1000001,
         "flag": flag, "qty": qty}
    if note:
        r["note"] = noteval
    return r


def render(table, r, with_note):
    def nul(v):
        return "\\N" if v is None else str(v)
    day = datetime.date(1970, 1, 1) + datetime.timedelta(days=r["created"])
    cols = [str(r["id"]), nul(r["name"]), "%.2f" % r["price"],
            day.isoformat(),
            "%d.%06d" % (r["updated"] // 10**6, r["updated"] % 10**6),
            "1" if r["flag"] else "0", str(r["qty"])]
    if with_note:
        cols.append(nul(r.get("note")))
    return "\t".join([table] + cols)


def main():
    brokers, url, prefix, db, parts = sys.argv[1:6]
    admin = AdminClient({"bootstrap.servers": brokers})
    # Debezium's topics have one partition unless made otherwise: a
    # table's schema change and a keyless table's changes are then seen
    # in order. "many" has PARTITIONS, keyed: only its keys' order counts.
    new = [NewTopic("%s.%s.%s" % (prefix, db, t), n, 1)
           for t, n in (("items", 1), ("log", 1), ("many", int(parts)))]
    for f in admin.create_topics(new).values():
        f.result()
    registry = SchemaRegistryClient({"url": url})
    p = Producer({"bootstrap.servers": brokers, "enable.idempotence": True})
    run = Run(p, db)
    items = Table(registry, prefix, db, "items", value_fields(False), True)
    log = Table(registry, prefix, db, "log", value_fields(False), False)
    many = Table(registry, prefix, db, "many", value_fields(False), True)

    # The snapshot, then the binlog.
    for i in (1, 2, 3):
        run.send(items, "r", None, row(i, "n%d" % i, "1%d.50" % i, 19000 + i))
    run.send(items, "c", None, row(4, None, "0.01", 19844))
    a = row(1, "n1", "11.50", 19001)
    run.send(items, "u", a, dict(a, name="uno", qty=11, flag=False))
    run.send(items, "d", row(2, "n2", "12.50", 19002), None)
    b = row(3, "n3", "13.50", 19003)
    run.send(items, "d", b, None)  # the key change 3 -> 30
    run.send(items, "c", None, dict(b, id=30))
    for k in range(3):  # keyless: two equal rows, then one of them goes
        run.send(log, "c", None, row(7, "dup", "1.00", 19500))
    run.send(log, "d", row(7, "dup", "1.00", 19500), None)
    run.send(log, "c", None, row(8, "other", "-2.25", 18000, qty=-3))

    # Keys spread over partitions, each changed several times.
    for i in range(40):
        run.send(many, "c", None, row(i, "m", "0.00", 19000, qty=0))
    for k in range(1, 4):
        for i in range(0, 40, k):
            r = [x for x in many.rows if x["id"] == i][0]
            if i % 7 == 3 and k == 3:
                run.send(many, "d", r, None)
            else:
                run.send(many, "u", r, dict(r, qty=r["qty"] + k))

    # ALTER TABLE items ADD COLUMN note: a second value schema.
    items.evolve(value_fields(True))
    for r in items.rows:
        r["note"] = None
    c = dict(items.rows[1])
    run.send(items, "u", c, dict(c, note="noted", qty=c["qty"] + 1))
    run.send(items, "c", None, row(5, "five", "99999999.99", 1, True,
                                   "fünf", qty=2**40))
    d = row(5, "five", "99999999.99", 1, True, "fünf", qty=2**40)
    run.send(items, "u", d, dict(d, price=decimal.Decimal("-0.99")))
    run.send(items, "d", [r for r in items.rows if r["id"] == 4][0], None)
    p.flush(30)
    if len(p) != 0:
        raise SystemExit("%d records not delivered" % len(p))

    out = [render("items", r, True) for r in items.rows]
    out += [render("log", r, False) for r in log.rows]
    out += [render("many", r, False) for r in many.rows]
    for line in sorted(out):
        print(line)


main()

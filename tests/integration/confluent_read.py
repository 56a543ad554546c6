"""Reads a topic to its end with confluent-kafka-python and its Avro
deserializer (fastavro) against the schema registry, and prints each
record's key and value as one JSON line: a reader of the Confluent wire
format that nobody in this project wrote.

Decimals print as their digits, bytes as Avro's JSON encoding does (a
code point per byte), dates and times as the numbers Avro carries (no
datetime objects), as streamcat prints them.

usage: confluent_read.py BROKERS REGISTRY_URL TOPIC GROUP
"""
import decimal
import json
import sys

import fastavro.read
from confluent_kafka import Consumer, KafkaError
from confluent_kafka.schema_registry import SchemaRegistryClient
from confluent_kafka.schema_registry.avro import AvroDeserializer
from confluent_kafka.serialization import MessageField, SerializationContext


# The numbers of date, time and timestamp logical types, as they are.
for k in list(fastavro.read.LOGICAL_READERS):
    if "time" in k or "date" in k:
        del fastavro.read.LOGICAL_READERS[k]


def plain(v):
    """json.dumps' fallback for what fastavro decodes beyond JSON."""
    if isinstance(v, decimal.Decimal):
        return format(v, "f")
    if isinstance(v, bytes):
        return v.decode("latin-1")
    raise TypeError(type(v))


def main():
    brokers, url, topic, group = sys.argv[1:5]
    registry = SchemaRegistryClient({"url": url})
    decode = AvroDeserializer(registry)
    c = Consumer({"bootstrap.servers": brokers, "group.id": group,
                  "auto.offset.reset": "earliest",
                  "enable.partition.eof": True,
                  "isolation.level": "read_committed"})
    c.subscribe([topic])
    idle = 0
    while idle < 100:
        m = c.poll(0.1)
        if m is None:
            idle += 1
            continue
        if m.error():
            if m.error().code() == KafkaError._PARTITION_EOF:
                break
            raise SystemExit("kafka: %s" % m.error())
        idle = 0
        key = decode(m.key(), SerializationContext(topic, MessageField.KEY))
        val = None
        if m.value() is not None:
            val = decode(m.value(),
                         SerializationContext(topic, MessageField.VALUE))
        print(json.dumps({"key": key, "value": val}, sort_keys=True,
                         default=plain))
    c.close()


main()

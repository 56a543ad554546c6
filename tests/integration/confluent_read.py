"""Reads a topic to its end with confluent-kafka-python and its Avro
deserializer (fastavro) against the schema registry, and prints each
record's key and value as one JSON line: a reader of the Confluent wire
format that nobody in this project wrote.

usage: confluent_read.py BROKERS REGISTRY_URL TOPIC GROUP
"""
import json
import sys

from confluent_kafka import Consumer, KafkaError
from confluent_kafka.schema_registry import SchemaRegistryClient
from confluent_kafka.schema_registry.avro import AvroDeserializer
from confluent_kafka.serialization import MessageField, SerializationContext


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
        print(json.dumps({"key": key, "value": val}, sort_keys=True))
    c.close()


main()

#!/usr/bin/env bash
# scripts/stack: the Kafka broker takes a message and gives it back, to a
# plain consumer and to a consumer group.
. "$(dirname "$0")/lib.sh"
need_stack

topic=t0004-kafka-$$-$RANDOM
msg="hello $topic"

check "metadata lists broker 1" sh -c \
    'kcat -b "$1" -L -m 10 | grep -q "broker 1 at $1"' sh "$CDC_KAFKA_BROKERS"

rc=0
printf '%s\n' "$msg" | timeout 60 kcat -b "$CDC_KAFKA_BROKERS" -P -t "$topic" \
    >"$T/produce.out" 2>"$T/produce.err" || rc=$?
check_eq "produce exits 0" "$rc" 0

rc=0
got=$(timeout 60 kcat -b "$CDC_KAFKA_BROKERS" -C -t "$topic" -o beginning \
    -e -c 1 -q 2>"$T/consume.err") || rc=$?
check_eq "consume exits 0" "$rc" 0
check_eq "consumed message" "$got" "$msg"

# kafka2ch commits offsets through a group: __consumer_offsets must work
# with one broker.
rc=0
got=$(timeout 60 kcat -b "$CDC_KAFKA_BROKERS" -G "g-$topic" \
    -X auto.offset.reset=earliest -e -c 1 -q "$topic" \
    2>"$T/group.err") || rc=$?
check_eq "group consume exits 0" "$rc" 0
check_eq "group consumed message" "$got" "$msg"

#!/usr/bin/env bash
# The pipeline with a schema registry (scripts/cdc-source and cdc-sink
# --schema-registry: Confluent wire format through Kafka) under t5001's
# write workload, on a private stack, through two failures:
#
# 1. The registry is stopped while a column is added (ALTER TABLE: a new
#    value schema, which avro2kafka must register and kafka2ch fetch), and
#    started again some seconds later.
# 2. Another column is added and avro2kafka is killed with SIGKILL after
#    the registry accepted the new schema and before avro2kafka produced
#    anything with it: the source talks to the registry through
#    registry_gate.py, a pass-through proxy that holds every request after
#    that registration (avro2kafka reads a new id back before it produces
#    with it) until the kill is done.
#
# Then the workload stops, the pipeline catches up, and scripts/cdc-verify
# must find MariaDB and ClickHouse equal: every change exactly once.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/crash_lib.sh"

trap 'touch "$T/stop" "$T/stop-load"
	for p in "${groups[@]}"; do kill -KILL -- "-$p" 2>/dev/null; done
	[ -n "${CDC_TEST_KEEP:-}" ] && cp -r "$T"/*.log "$T"/*.out "$CDC_TEST_KEEP" 2>/dev/null
	"$ROOT/scripts/stack" down >/dev/null 2>&1; rm -rf "$T"' EXIT
groups=()
crash_stack 25
. "$(dirname "$0")/kafka_lib.sh"
need_confluent
set +e # a stage that exits while the registry is away is normal
REG=$CDC_STACK_REGISTRY_URL
db=t52 topic=t52s.t52.orders
export CDC_TOPIC_PREFIX=t52s

crash_tables "$db"
GATE_URL=http://127.0.0.1:31095
setsid "$PY" "$ROOT/tests/integration/registry_gate.py" 31095 "$REG" \
	'\"c2\"' "$T/gate" "$T/release" 2>"$T/gate.log" &
groups+=($!)
supervise source "$ROOT/scripts/cdc-source" --id t52-src \
	--schema-registry "$GATE_URL" -- --server-id 7101 --include "$db.*" \
	--avro2kafka -p t52s -w 8
groups+=($!)
supervise sink "$ROOT/scripts/cdc-sink" --group t52-g \
	--schema-registry "$REG" -- --prefix t52s -w 8 \
	-X session.timeout.ms=6000 -X group.instance.id=t52-sink \
	--chload -s 0 -r 30
groups+=($!)
wait_log "$T/source.log" "replicating from" 20
workload 1 "$db" &
wpid=$!
for ((i = 0; i < 300; i++)); do
	curl -sf "$REG/subjects" | grep -q "\"$topic-value\"" && break
	sleep 0.1
done
check "changes flow through the registry" sh -c \
	'curl -sf "$1/subjects" | grep -q "\"$2-value\""' sh "$REG" "$topic"

# latest_has COLUMN: the value subject's latest schema has COLUMN.
latest_has() {
	curl -sf "$REG/subjects/$topic-value/versions/latest" |
	    grep -qF "name\\\":\\\"$1\\\""
}

# schemas: the value subject's distinct schemas, counted. (Hortonworks'
# registry adds a version, with a new id and the same text, when a schema
# it already had is registered after it restarted: docs/kafka.md.)
schemas() {
	local v
	for v in $(curl -sf "$REG/subjects/$topic-value/versions" | tr -d '[]' | tr , ' '); do
		curl -sf "$REG/subjects/$topic-value/versions/$v" |
		    sed 's/.*"schema":"//; s/","version".*//; s/"}$//'
		echo
	done | sort -u | grep -c .
}

# 1. The registry goes away across a schema change.
sleep 3
"$ROOT/scripts/stack" down registry >>"$T/chaos.log" 2>&1
my "$db" -e "ALTER TABLE orders ADD COLUMN c1 INT NULL"
my "$db" -e "UPDATE orders SET c1 = id"
sleep 6
"$ROOT/scripts/stack" up registry >>"$T/chaos.log" 2>&1
check "registry back up" "$ROOT/scripts/stack" status
for ((i = 0; i < 300; i++)); do
	latest_has c1 && break
	sleep 0.1
done
check "after the restart the new schema is registered" latest_has c1
sleep 3

# 2. avro2kafka killed between registering a schema and producing with it.
my "$db" -e "ALTER TABLE orders ADD COLUMN c2 VARCHAR(10) NULL"
my "$db" -e "UPDATE orders SET c2 = 'v2'"
for ((i = 0; i < 600; i++)); do
	[ -e "$T/gate" ] && break
	sleep 0.1
done
check "the gate closed after avro2kafka registered c2" test -e "$T/gate"
check "the registry accepted the schema with c2" latest_has c2
timeout 120 "$PY" "$ROOT/tests/integration/confluent_read.py" \
    "$CDC_KAFKA_BROKERS" "$REG" "$topic" t52-py >"$T/py.json" 2>"$T/py.err"
check "and nothing was produced with it" sh -c \
	'[ -s "$1" ] && ! grep -q "\"c2\"" "$1"' sh "$T/py.json"
killed=0
pid=$(pgrep -g "${groups[1]}" -f "^avro2kafka -t t52-src ")
[ -n "$pid" ] && kill -KILL $pid && killed=1
touch "$T/release"
check_eq "avro2kafka killed between registering and producing" "$killed" 1
sleep 4
touch "$T/stop-load"
wait "$wpid" 2>/dev/null

ok=0
catch_up "$db" && ok=1
touch "$T/stop"
rows=$(crash_rows "$db")
if [ "$ok" = 1 ]; then
	t_ok "MariaDB = ClickHouse ($rows rows), every change once"
else
	t_fail "MariaDB = ClickHouse" \
	    "$(tail -n 6 "$T/verify.out" | tr '\n' ' ') | source: $(grep -v info "$T/source.log" | tail -n 3 | tr '\n' ' ') | sink: $(grep -v info "$T/sink.log" | tail -n 3 | tr '\n' ' ')"
fi
check "the source retried or restarted while the registry was away" \
	grep -Eq "registry|exited 69" "$T/source.log"
check "the source restarted after the kill" sh -c \
	'[ "$(grep -c "resuming at" "$1")" -ge 1 ]' sh "$T/source.log"
check_eq "the value subject has 3 schemas" "$(schemas)" 3
for p in "${groups[@]}"; do kill -TERM -- "-$p" 2>/dev/null; done
exit 0

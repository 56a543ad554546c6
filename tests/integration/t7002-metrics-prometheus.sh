#!/usr/bin/env bash
# The pipeline's metrics in Prometheus: scripts/cdc-source and
# scripts/cdc-sink write each stage's metrics (--metrics, through
# CDC_METRICS_DIR) for a private node-exporter and Prometheus brought up by
# `scripts/stack up prometheus` in a folder of this test, with short scrape,
# rule and alert intervals. Under a workload of a known number of changes,
# Prometheus's HTTP API must show every stage's counter equal to it, and no
# lag once drained; a stage stopped with SIGSTOP must fire CdcStageStalled,
# which clears once it gets SIGCONT. No check depends on how fast anything
# is: every wait has a generous deadline.
. "$(dirname "$0")/lib.sh"
need_stack
. "$(dirname "$0")/pipeline_lib.sh"
export MYSQL_PWD=$CDC_MYSQL_PASSWORD CDC_BIN=$BIN TMPDIR=$T
DB=t7m_$$
P=t7p_$$
NTX=${T7002_TRANSACTIONS:-200}
freeport() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

MON=$T/mon
PROM_PORT=$(freeport)
NODE_PORT=$(freeport)
mon_stack() {
	CDC_STACK_DIR=$MON CDC_STACK_PROMETHEUS_PORT=$PROM_PORT \
	    CDC_STACK_NODE_EXPORTER_PORT=$NODE_PORT CDC_STACK_PROMETHEUS_SCRAPE=1s \
	    CDC_STACK_PROMETHEUS_FOR=2s CDC_STACK_PROMETHEUS_STALL=15 \
	    "$ROOT/scripts/stack" "$@"
}
cleanup() {
	pipeline_down
	mon_stack down prometheus node-exporter >/dev/null 2>&1 || true
	[ -z "${CDC_TEST_KEEP:-}" ] || cp -r "$T"/*.log "$MON/metrics" "$CDC_TEST_KEEP" 2>/dev/null || true
	rm -rf "$T"
}
trap cleanup EXIT

if ! mon_stack up prometheus >"$T/mon-up.log" 2>&1; then
	t_fail "stack up prometheus" "$(tail -n 5 "$T/mon-up.log" | tr '\n' ' ')"
	exit 1
fi
t_ok "stack up prometheus (node-exporter and Prometheus answer)"
PROM=http://127.0.0.1:$PROM_PORT

# q EXPR: the value of an instant query's single sample, or nothing.
q() {
	curl -sS --max-time 5 "$PROM/api/v1/query" --data-urlencode "query=$1" |
	    python3 -c 'import json,sys
r = json.load(sys.stdin)["data"]["result"]
print(r[0]["value"][1] if len(r) == 1 else "")' 2>/dev/null || true
}
# wait_q EXPR WANT SECS: until q EXPR prints WANT; prints the last value.
wait_q() {
	local i v=
	for ((i = 0; i < $3 * 2; i++)); do
		v=$(q "$1")
		[ "$v" = "$2" ] && break
		sleep 0.5
	done
	printf '%s\n' "$v"
}
# wait_some EXPR SECS: until q EXPR prints something; prints it.
wait_some() {
	local i v=
	for ((i = 0; i < $2 * 2; i++)); do
		v=$(q "$1")
		[ -n "$v" ] && break
		sleep 0.5
	done
	printf '%s\n' "$v"
}
# firing TOOL: whether CdcStageStalled fires for this pipeline's TOOL.
firing() {
	curl -sS --max-time 5 "$PROM/api/v1/alerts" | python3 -c 'import json,sys
a = json.load(sys.stdin)["data"]["alerts"]
sys.exit(0 if any(x["labels"].get("alertname") == "CdcStageStalled" and
    x["labels"].get("pipeline") == sys.argv[1] and
    x["labels"].get("tool") == sys.argv[2] and x["state"] == "firing"
    for x in a) else 1)' "$P" "$1"
}
not_firing() { ! firing "$1"; }

pipeline_db "$DB"
export CDC_METRICS_DIR=$MON/metrics CDC_PIPELINE=$P CDC_TOPIC_PREFIX=$P \
    CDC_STATE_DIR=$T/state
pipeline_up "$P" "$P-g" $((20000 + $$ % 10000)) "$DB.*"
REPLICATING=$(date +%s)

# The counters before the workload: the snapshot's commit marks count as
# transactions too.
sel="pipeline=\"$P\""
# A scrape of a file binlog2avro wrote once replicating, after the snapshot.
wait_some "cdc_metrics_write_timestamp_seconds{$sel,tool=\"binlog2avro\"} > $REPLICATING" 60 >/dev/null
TX0=$(q "cdc_binlog2avro_transactions_total{$sel}")
check "binlog2avro's metrics in Prometheus ($TX0 transactions)" [ -n "$TX0" ]

# The workload: NTX transactions of 3 inserts, an update and a delete, so
# 5 changes each.
for ((i = 0; i < NTX; i++)); do
	k=$((i * 3))
	echo "BEGIN; INSERT INTO t VALUES ($k, 0), ($((k + 1)), 1), ($((k + 2)), 2);
	    UPDATE t SET v = v + 10 WHERE id = $k; DELETE FROM t WHERE id = $((k + 1)); COMMIT;"
done | sql "$DB"
N=$((NTX * 5))

check_eq "chload's acknowledged changes reach $N" \
    "$(wait_q "cdc_chload_changes_total{$sel}" "$N" 180)" "$N"
check_eq "no transaction pending at chload" \
    "$(wait_q "cdc_chload_pending_transactions{$sel}" 0 60)" 0
check_eq "rows in ClickHouse" \
    "$(ch "SELECT count() FROM $DB.t_current" 2>&1)" $((NTX * 2))
check_eq "cdc_binlog2avro_changes_total = $N" \
    "$(wait_q "cdc_binlog2avro_changes_total{$sel}" "$N" 60)" "$N"
# The Kafka stages also carry a tombstone after each delete (NTX of them).
for t in avro2kafka kafka2ch; do
	check_eq "cdc_${t}_changes_total - tombstones = $N" \
	    "$(wait_q "cdc_${t}_changes_total{$sel} - cdc_${t}_tombstones_total{$sel}" "$N" 60)" "$N"
	check_eq "cdc_${t}_tombstones_total = $NTX" \
	    "$(q "cdc_${t}_tombstones_total{$sel}")" "$NTX"
done
check_eq "binlog2avro transactions + $NTX" \
    "$(wait_q "cdc_binlog2avro_transactions_total{$sel} - $TX0" "$NTX" 60)" "$NTX"
check_eq "chload rows = $N" "$(wait_q "cdc_chload_rows_total{$sel}" "$N" 60)" "$N"
check_eq "consumer lag 0 after draining" \
    "$(wait_q "cdc_kafka2ch_consumer_lag_records{$sel}" 0 60)" 0
check_eq "committed lag 0 after draining" \
    "$(wait_q "cdc_kafka2ch_committed_lag_records{$sel}" 0 60)" 0
check_eq "binlog2avro lag 0 when caught up" \
    "$(wait_q "cdc_binlog2avro_lag_seconds{$sel}" 0 60)" 0
v=$(q "cdc_chload_freshness_seconds_count{$sel}")
check "freshness histogram observed commits ($v)" [ "${v:-0}" -gt 0 ]
v=$(q "cdc:changes:rate1m{$sel,tool=\"chload\"}")
check "recording rule cdc:changes:rate1m evaluates ($v)" [ -n "$v" ]
for t in binlog2avro avro2kafka kafka2ch chload; do
	check "no stalled alert for $t while running" not_firing "$t"
done

# The broker's JMX exporter, when the stack runs one (CDC_STACK_KAFKA_JMX_PORT
# when its Kafka started): Prometheus scrapes it too.
if [ -n "${CDC_STACK_KAFKA_JMX_PORT:-}" ]; then
	check_eq "Prometheus scrapes the broker's JMX exporter" \
	    "$(wait_q 'up{job="kafka"}' 1 60)" 1
	v=$(wait_some 'kafka_server_replicamanager_partitioncount' 60)
	check "the broker's partition count from JMX ($v)" [ "${v:-0}" -gt 0 ]
fi

# A stopped stage: its metrics stop; the alert fires, then clears.
K2C=$(pgrep -g "$SINK_PID" -x kafka2ch | head -n 1)
check "kafka2ch found" [ -n "$K2C" ]
kill -STOP "$K2C"
for ((i = 0; i < 180; i++)); do firing kafka2ch && break; sleep 0.5; done
check "CdcStageStalled fires for the stopped kafka2ch" firing kafka2ch
kill -CONT "$K2C"
for ((i = 0; i < 180; i++)); do firing kafka2ch || break; sleep 0.5; done
check "CdcStageStalled clears once kafka2ch resumes" not_firing kafka2ch

# The stages still work after the pause: one more transaction goes through.
sql "$DB" -e "INSERT INTO t VALUES (-1, -1)"
check_eq "a change after the resume reaches chload" \
    "$(wait_q "cdc_chload_changes_total{$sel}" $((N + 1)) 120)" $((N + 1))

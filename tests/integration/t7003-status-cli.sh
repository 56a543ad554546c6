#!/usr/bin/env bash
# scripts/cdc-status against the real servers: a pipeline (scripts/cdc-source
# and scripts/cdc-sink) loads a workload, then the sink stops and more
# changes wait in Kafka. cdc-status --json must agree with Kafka's own
# ConsumerGroupCommand on the group's lag, partition by partition, and with
# SHOW MASTER STATUS on the binlog's end; the source must be 0 bytes behind
# once caught up; the ClickHouse table's newest _ts and row count must be
# what ClickHouse says; a stage stopped with SIGSTOP shows as stopped; a
# threshold crossed exits 1, one not crossed 0.
. "$(dirname "$0")/lib.sh"
need_stack
. "$(dirname "$0")/pipeline_lib.sh"
export MYSQL_PWD=$CDC_MYSQL_PASSWORD CDC_BIN=$BIN TMPDIR=$T
DB=t7s_$$
P=t7s_$$
G=$P-g
cleanup() {
	pipeline_down
	rm -rf "$T"
}
trap cleanup EXIT
J=$(python3 -c 'import re,sys; print(re.search(r"<kafka.version>(.*)</kafka.version>", open(sys.argv[1]).read()).group(1))' \
    "$ROOT/scripts/kafka-tools/pom.xml")
J=${CDC_DEPS_DIR:-$ROOT/.deps}/kafka-tools-$J/lib
check "Kafka's tools installed (scripts/deps)" [ -d "$J" ]
cgc() {
	java -cp "$J/*" org.apache.kafka.tools.consumer.group.ConsumerGroupCommand \
	    --bootstrap-server "$CDC_KAFKA_BROKERS" --describe --group "$G" --offsets
}
status() { "$ROOT/scripts/cdc-status" --group "$G" --database "$DB" "$@"; }
# js FILE EXPR: a Python expression over the JSON report r of FILE.
js() { python3 -c 'import json,sys; r = json.load(open(sys.argv[1])); print(eval(sys.argv[2]))' "$1" "$2"; }

pipeline_db "$DB"
export CDC_METRICS_DIR=$T/metrics CDC_PIPELINE=$P CDC_TOPIC_PREFIX=$P CDC_STATE_DIR=$T/state
pipeline_up "$P" "$G" $((30000 + $$ % 10000)) "$DB.*"
for ((i = 0; i < 100; i++)); do echo "INSERT INTO t VALUES ($i, $i);"; done | sql "$DB"
for ((i = 0; i < 600; i++)); do
	[ "$(ch "SELECT count() FROM $DB.t_current" 2>/dev/null)" = 100 ] && break
	sleep 0.2
done
check_eq "100 rows in ClickHouse" "$(ch "SELECT count() FROM $DB.t_current")" 100

# The sink stops; 50 more changes wait in Kafka.
stop_group "$SINK_PID"
SINK_PID=
for ((i = 100; i < 150; i++)); do echo "INSERT INTO t VALUES ($i, $i);"; done | sql "$DB"
# Until the source's metrics say it is caught up (0 bytes behind).
rc=0
for ((i = 0; i < 60; i++)); do
	status --json >"$T/s.json" || rc=$?
	[ "$(js "$T/s.json" '[s["behind_bytes"] for s in r["sources"] if s["pipeline"] == "'"$P"'"]')" = "[0]" ] && break
	sleep 1
done
check_eq "cdc-status exits 0 without thresholds" "$rc" 0
check_eq "source 0 bytes and 0 s behind once caught up" \
    "$(js "$T/s.json" '[(s["behind_bytes"], s["behind_seconds"]) for s in r["sources"] if s["pipeline"] == "'"$P"'"]')" "[(0, 0)]"
# Other writers may move the end meanwhile: it must lie between SHOW MASTER
# STATUS just before and just after.
before=$(sql -N -e "SHOW MASTER STATUS" | cut -f1,2 | tr '\t' ' ')
status --json >"$T/end.json" || true
after=$(sql -N -e "SHOW MASTER STATUS" | cut -f1,2 | tr '\t' ' ')
got=$(js "$T/end.json" '"%s %d" % (r["server"]["file"], r["server"]["position"])')
check "the binlog's end ($got) agrees with SHOW MASTER STATUS ($before .. $after)" python3 -c '
import sys
k = lambda s: (s.split()[0], int(s.split()[1]))
sys.exit(0 if k(sys.argv[1]) <= k(sys.argv[2]) <= k(sys.argv[3]) else 1)' "$before" "$got" "$after"

cgc >"$T/cgc.out" 2>"$T/cgc.err" || true
want=$(awk -v g="$G" '$1 == g && $3 ~ /^[0-9]+$/ {print $2, $3, $4, $5, $6}' "$T/cgc.out" | sort)
got=$(js "$T/s.json" '"\n".join("%s %d %s %s %s" % (t["topic"], p["partition"], p["committed"], p["end_offset"], p["lag"]) for g in r["groups"] for t in g["topics"] for p in t["partitions"])' | sort)
check "ConsumerGroupCommand lists the group's partitions" [ -n "$want" ]
check_eq "per partition: committed, end offset and lag as ConsumerGroupCommand" "$got" "$want"
lag=$(js "$T/s.json" 'r["groups"][0]["lag"]')
check "lag counts the 50 waiting changes ($lag)" [ "$lag" -ge 50 ]
check_eq "total lag as ConsumerGroupCommand's" "$lag" \
    "$(awk -v g="$G" '$1 == g && $6 ~ /^[0-9]+$/ {s += $6} END {print s + 0}' "$T/cgc.out")"

check_eq "table rows as ClickHouse says" \
    "$(js "$T/s.json" '" ".join("%s %d %d" % (t["table"], t["rows"], t["newest_ts"]) for t in r["tables"])')" \
    "$DB.t $(ch "SELECT count(), toUInt64(max(_ts)) FROM $DB.t" | tr '\t' ' ')"

check_rc "--max-lag 0 crossed: exit 1" 1 status --max-lag 0
check_rc "--max-lag $((lag + 1000)) not crossed: exit 0" 0 status --max-lag $((lag + 1000))
check_fails "--watch 0 refused" 64 "invalid --watch" status --watch 0

# A stopped stage.
B2A=$(pgrep -g "$SRC_PID" -x binlog2avro | head -n 1)
kill -STOP "$B2A"
status --json >"$T/s2.json" || true
kill -CONT "$B2A"
check_eq "a stage stopped by SIGSTOP shows as stopped" \
    "$(js "$T/s2.json" '[(p["tool"], p["state"]) for p in r["processes"] if p["pid"] == '"$B2A"']')" \
    "[('binlog2avro', 'stopped')]"
status >"$T/screen.out" 2>&1 || true
check "the screen has every part" grep -q "^STAGES" "$T/screen.out"

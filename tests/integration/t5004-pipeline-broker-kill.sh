#!/usr/bin/env bash
# The pipeline on a Kafka cluster (issue 18): three KRaft nodes of
# scripts/stack (kafka-b1..3, private, on their own ports), topics of 3
# partitions with replication factor 3 and min.insync.replicas 2.
# Two scripts/cdc-source (a table each, under one prefix, with their own
# transactional and server ids) and two scripts/cdc-sink in one group run under
# supervisors that restart a stage that exits, as systemd would, while a
# write workload runs; one broker, chosen at random, is killed with SIGKILL
# and brought back later. When the workload stops, scripts/cdc-verify must
# find MariaDB and ClickHouse equal.
#
# CDC_BROKER_SEEDS: the seeds (default "1 2 3" on 18.16, "2" on current).
ENGINES="18.16 current"
. "$(dirname "$0")/lib.sh"
need_stack
. "$(dirname "$0")/crash_lib.sh"
if on current; then
	SEEDS=${CDC_BROKER_SEEDS:-2}
else
	SEEDS=${CDC_BROKER_SEEDS:-1 2 3}
fi
st2() {
	CDC_STACK_DIR=$T/stack CDC_STACK_TIMEOUT=120 \
	    CDC_STACK_KAFKA_CLUSTER_PORT=22200 "$ROOT/scripts/stack" "$@"
}
# Every process of the pipeline names $T on its command line (the
# supervisors, cdc-sink's fifo) or its seed's ids.
stop_pipeline() {
	touch "$T/stop"
	pkill -"$1" -f "$T/stop|$T/cdc-sink|t54-src-$$|t54-g-$$|--server-id 74[0-9][0-9]" 2>/dev/null
}
trap 'stop_pipeline KILL; st2 down >/dev/null 2>&1;
	[ -n "${CDC_TEST_KEEP:-}" ] && cp -r "$T"/*.log "$CDC_TEST_KEEP" 2>/dev/null;
	rm -rf "$T"' EXIT
export MYSQL_PWD=$CDC_MYSQL_PASSWORD CDC_BIN=$BIN TMPDIR=$T \
	CDC_METRICS_DIR=$T/metrics
on current && export CDC_CLICKHOUSE_URL=$CDC_CLICKHOUSE_CURRENT_URL

rc=0
st2 up kafka-b1 kafka-b2 kafka-b3 >"$T/up.log" 2>&1 || rc=$?
check_eq "private Kafka cluster up (three nodes)" "$rc" 0
if [ "$rc" -ne 0 ]; then
	t_fail "cluster" "$(tail -n 5 "$T/up.log" | tr '\n' ' ')"
	exit 0
fi
eval "$(st2 env | grep CDC_STACK_KAFKA_CLUSTER_BROKERS)"
export CDC_KAFKA_BROKERS=$CDC_STACK_KAFKA_CLUSTER_BROKERS
. "$(dirname "$0")/kafka_lib.sh"
need_confluent
topic_config() { # TOPIC NAME: its value and where it comes from
	"$PY" - "$CDC_KAFKA_BROKERS" "$1" "$2" <<'PYEOF'
import sys
from confluent_kafka.admin import AdminClient, ConfigResource, ConfigSource
brokers, topic, name = sys.argv[1:]
admin = AdminClient({"bootstrap.servers": brokers})
res = ConfigResource(ConfigResource.Type.TOPIC, topic)
for r, f in admin.describe_configs([res], request_timeout=30).items():
    e = f.result()[name]
    print(e.value, ConfigSource(e.source).name)
PYEOF
}
set +e # chaos: a stage that exits and is restarted is normal

first=1
for seed in $SEEDS; do
	RANDOM=$((seed * 7919))
	rm -f "$T/stop" "$T/stop-load"
	db=t54_$$_$seed
	crash_tables "$db"
	export CDC_TOPIC_PREFIX=t54s$$x$seed CDC_STATE_DIR=$T/state$seed
	# Two sources under one prefix, a table each: their own
	# transactional ids (so their own resume positions in the offsets
	# topic) and server ids; the schema and DDL topics are shared.
	supervise "source$seed" "$ROOT/scripts/cdc-source" --id "t54-src-$$-$seed-a" \
		-- --server-id $((7400 + seed * 10 + 1)) --include "$db.orders" \
		--avro2kafka -P 3 -w 60
	supervise "source$seed.b" "$ROOT/scripts/cdc-source" --id "t54-src-$$-$seed-b" \
		-- --server-id $((7400 + seed * 10 + 2)) --include "$db.events" \
		--avro2kafka -P 3 -w 60
	for n in 1 2; do
		supervise "sink$seed.$n" "$ROOT/scripts/cdc-sink" --group "t54-g-$$-$seed" \
			-- -w 60 -X session.timeout.ms=6000 -X heartbeat.interval.ms=500 \
			--chload -s 0 -r 30
	done
	wait_log "$T/source$seed.log" "replicating from" 30
	wait_log "$T/source$seed.b.log" "replicating from" 30
	workload "$seed" "$db" &
	wpid=$!
	sleep $((3 + RANDOM % 4))
	victim=$((1 + RANDOM % 3))
	bounce st2 "kafka-b$victim" $((4 + RANDOM % 5))
	sleep $((2 + RANDOM % 3))
	touch "$T/stop-load"
	wait "$wpid" 2>/dev/null
	ok=0
	catch_up "$db" && ok=1
	stop_pipeline TERM
	sleep 1
	rows=$(crash_rows "$db")
	restarts=$(cat "$T"/source$seed.*log "$T"/sink$seed.*.log 2>/dev/null | grep -c '^exited')
	if [ "$ok" = 1 ]; then
		t_ok "seed $seed: two sources, two sinks, kafka-b$victim of 3 killed -9 and back, $restarts stage restarts, MariaDB = ClickHouse ($rows rows)"
	else
		t_fail "seed $seed: kafka-b$victim killed -9 and back" \
		    "$(tail -n 6 "$T/verify.out" | tr '\n' ' ') | sources: $(grep -hv info "$T"/source$seed.*log | tail -n 3 | tr '\n' ' ') | sinks: $(grep -hv info "$T"/sink$seed.*.log | tail -n 3 | tr '\n' ' ')"
	fi
	if [ "$first" = 1 ]; then
		# The topics as avro2kafka made them on the cluster.
		desc=$(kcat -b "$CDC_KAFKA_BROKERS" -L -t "$CDC_TOPIC_PREFIX.$db.orders" 2>&1 |
		    grep -c 'replicas: [0-9],[0-9],[0-9],')
		check_eq "the change topic has 3 partitions of 3 replicas" "$desc" 3
		# avro2kafka set it on the topic, not the broker's default.
		# No 2>&1 in these $( ): a line on stderr (librdkafka logs
		# there) would become part of the value; t5003's grow check
		# once failed on such a second line.
		check_eq "and min.insync.replicas 2, set on the topic by avro2kafka" \
		    "$(topic_config "$CDC_TOPIC_PREFIX.$db.orders" min.insync.replicas 2>"$T/tc.err")" \
		    "2 DYNAMIC_TOPIC_CONFIG"
		pa=$("$BIN/avro2kafka" --resume-position -t "t54-src-$$-$seed-a" 2>"$T/pa.err")
		pb=$("$BIN/avro2kafka" --resume-position -t "t54-src-$$-$seed-b" 2>"$T/pb.err")
		check "each source has a resume position of its own ('$pa', '$pb')" \
		    test -n "$pa" -a -n "$pb"
		first=0
	fi
	stop_pipeline KILL
	my -e "DROP DATABASE IF EXISTS $db"
	curl -sS "$CDC_CLICKHOUSE_URL" --data-binary "DROP DATABASE IF EXISTS $db" >/dev/null 2>&1
done
exit 0

#!/usr/bin/env bash
# Many sinks in one consumer group (issue 18):
#  1. a rebalance re-reads nothing acknowledged: a second kafka2ch joins
#     the group of a first one mid-stream, both behind streamsink; together
#     they write every change of the topics exactly once, and each wrote
#     some (the partitions did move);
#  2. under a write workload, scripts/cdc-source feeds topics of 6
#     partitions and three scripts/cdc-sink share them; one sink is killed
#     with SIGKILL at a random moment and a fourth starts later. When the
#     workload stops, scripts/cdc-verify must find MariaDB and ClickHouse
#     equal, and every sink left must have loaded changes. Meanwhile the
#     topics grow from 6 to 9 partitions (keys move to other partitions;
#     versions keep the state right, docs/kafka.md "Many sinks").
# On the shared stack: own prefixes, groups, databases, server ids.
#
# CDC_SINKS_SEEDS: the seeds of part 2 (default "1 2 3"); T5003_K2C_X: one
# more kafka2ch property for part 1 (partition.assignment.strategy=
# cooperative-sticky shows what part 1 catches).
ENGINES="18.16 current"
. "$(dirname "$0")/lib.sh"
need_stack
. "$(dirname "$0")/kafka_lib.sh"
. "$(dirname "$0")/crash_lib.sh"
# Metrics of the stages in $T, not in the stack's textfile folder.
export MYSQL_PWD=$CDC_MYSQL_PASSWORD CDC_BIN=$BIN TMPDIR=$T \
	CDC_METRICS_DIR=$T/metrics
trap '[ -e "$T/stop" ] || touch "$T/stop"; pkill -KILL -f "$T/" 2>/dev/null;
	[ -n "${CDC_TEST_KEEP:-}" ] && cp -r "$T"/*.log "$T"/*.err "$CDC_TEST_KEEP" 2>/dev/null; rm -rf "$T"' EXIT

# 1. A member joins mid-stream (no ClickHouse: on the 18.16 run only). The
# throttle makes the first member's share last a few seconds, so that the
# second one joins while it reads.
throttle() {
	/usr/bin/python3 -c 'import sys, time
r, w = sys.stdin.buffer, sys.stdout.buffer
while True:
    b = r.read1(16384)
    if not b:
        break
    w.write(b); w.flush(); time.sleep(0.02)'
}
member() { # N: kafka2ch | throttle | streamsink, to the end of the topics
	mkfifo "$T/ack$1"
	"$K2C" -p "$PFX" -g "$PFX-g" -A "$T/ack$1" -e -m 500 -i 200 \
	    -X session.timeout.ms=6000 -X heartbeat.interval.ms=500 \
	    ${T5003_K2C_X:+-X "$T5003_K2C_X"} 2>"$T/m$1.err" | throttle |
	    "$SINK" -A "$T/ack$1" "$T/m$1.avro" 2>"$T/s$1.err"
}
nchanges() { "$BIN/streamcat" -r "$1" 2>/dev/null | grep -c '^{"kind":"change"' || true; }
if on 18.16; then
	"$GEN" -n 40000 -t 3 -k 500 -p "$PFX" >"$T/in.avro"
	"$A2K" -q -p "$PFX" -P 4 <"$T/in.avro"
	member 1 &
	p1=$!
	sleep 1.5
	member 2 &
	p2=$!
	rc1=0 rc2=0
	wait "$p1" || rc1=$?
	wait "$p2" || rc2=$?
	check_eq "both members end at the end of the topics (exit 0, 0)" "$rc1, $rc2" "0, 0"
	n1=$(nchanges "$T/m1.avro") n2=$(nchanges "$T/m2.avro")
	check "each member wrote changes (the partitions moved): $n1 and $n2" \
	    test "$n1" -gt 0 -a "$n2" -gt 0
	{ "$BIN/streamcat" -r "$T/m1.avro"; "$BIN/streamcat" -r "$T/m2.avro"; } 2>/dev/null |
	    perkey_lines | cut -f1 | LC_ALL=C sort >"$T/got"
	perkey "$T/in.avro" | cut -f1 | LC_ALL=C sort >"$T/want"
	check_eq "together, every change exactly once (none read again after the rebalance)" \
	    "$(comm -3 "$T/want" "$T/got" | head -n 3 | tr '\n\t' '  ')" ""
	check "and the rebalance committed synchronously, with no failed commit" \
	    test -z "$(grep -h "cannot commit" "$T/m1.err" "$T/m2.err")"
fi

# 2. Three sinks, one killed, a fourth: the database equals MariaDB.
set +e # a kill that finds nothing, a wait on a killed sink, are normal
on current && export CDC_CLICKHOUSE_URL=$CDC_CLICKHOUSE_CURRENT_URL
sink() { # SEED N: a cdc-sink in a process group of its own; pid in sink_pid
	setsid "$ROOT/scripts/cdc-sink" --group "t53-g-$$-$1" -- \
	    -w 30 -X session.timeout.ms=6000 \
	    -X heartbeat.interval.ms=500 -G "$T/sink$1.$2.prom" \
	    --chload -s 0 -r 30 >/dev/null 2>"$T/sink$1.$2.log" &
	sink_pid=$!
}
need_confluent
busy() { # how many sinks of $seed, but the victim, consumed changes
	local n c k=0
	for n in 1 2 3 4; do
		[ "$n" = "$victim" ] && continue
		c=$(awk '$1 ~ /^cdc_kafka2ch_changes_total/ { print $2 }' "$T/sink$seed.$n.prom" 2>/dev/null)
		[ "${c:-0}" -gt 0 ] && k=$((k + 1))
	done
	echo "$k"
}
grow() { # TOPIC... N: the topics get N partitions (confluent-kafka's admin)
	"$PY" - "$CDC_KAFKA_BROKERS" "$@" <<'PYEOF'
import sys
from confluent_kafka.admin import AdminClient, NewPartitions
brokers, topics, n = sys.argv[1], sys.argv[2:-1], int(sys.argv[-1])
admin = AdminClient({"bootstrap.servers": brokers})
fs = admin.create_partitions(
    [NewPartitions(t, n) for t in topics], request_timeout=30)
for t, f in fs.items():
    f.result()
print("grown")
PYEOF
}
for seed in ${CDC_SINKS_SEEDS:-1 2 3}; do
	RANDOM=$((seed * 104729))
	rm -f "$T/stop-load"
	db=t53_$$_$seed
	crash_tables "$db"
	export CDC_STATE_DIR=$T/state$seed CDC_TOPIC_PREFIX=t53s$$x$seed
	setsid "$ROOT/scripts/cdc-source" --id "t53-src-$$-$seed" -- \
	    --server-id $((7300 + seed)) --include "$db.*" \
	    --avro2kafka -P 6 -w 30 \
	    >/dev/null 2>"$T/source$seed.log" &
	src=$!
	wait_log "$T/source$seed.log" "replicating from" 20
	workload "$seed" "$db" &
	wpid=$!
	pids=()
	for n in 1 2 3; do
		sink "$seed" "$n"
		pids[n]=$sink_pid
	done
	sleep $((3 + RANDOM % 4))
	victim=$((1 + RANDOM % 3))
	kill -KILL -- "-${pids[victim]}" 2>/dev/null
	# Reaped here, so that bash reports the killed job now, to /dev/null,
	# not as a "Killed" line on the test's stderr at its exit.
	wait "${pids[victim]}" 2>/dev/null
	sleep $((2 + RANDOM % 4))
	sink "$seed" 4
	pids[4]=$sink_pid
	sleep $((1 + RANDOM % 3))
	# Partitions added while it runs: keys move, versions keep the state.
	# Judged by its exit status; what it says goes to a file. It was
	# captured with 2>&1 once and came back as "grown" and a second
	# line (a log line of librdkafka in the admin client, most likely).
	if grow "$CDC_TOPIC_PREFIX.$db.orders" "$CDC_TOPIC_PREFIX.$db.events" 9 \
	    >"$T/grow$seed.out" 2>&1; then
		grown=grown
	else
		grown="failed: $(tail -n 2 "$T/grow$seed.out" | tr '\n' ' ')"
	fi
	sleep $((3 + RANDOM % 4))
	# The workload goes on until the sinks left all loaded some changes
	# (the last one joins late: the group rebalances once the killed
	# one's session ends), or 40 s.
	for ((i = 0; i < 80 && $(busy) < 3; i++)); do sleep 0.5; done
	touch "$T/stop-load"
	wait "$wpid" 2>/dev/null
	ok=0
	catch_up "$db" && ok=1
	for n in 1 2 3 4; do
		[ "$n" = "$victim" ] || kill -TERM -- "-${pids[n]}" 2>/dev/null
	done
	kill -TERM -- "-$src" 2>/dev/null
	for n in 1 2 3 4; do
		[ "$n" = "$victim" ] || wait "${pids[n]}" 2>/dev/null
	done
	wait "$src" 2>/dev/null
	rows=$(crash_rows "$db")
	if [ "$ok" = 1 ]; then
		t_ok "seed $seed: sink $victim of 3 killed, a fourth started, MariaDB = ClickHouse ($rows rows)"
	else
		t_fail "seed $seed: sink $victim killed, a fourth started" \
		    "$(tail -n 6 "$T/verify.out" | tr '\n' ' ') | $(grep -hv info "$T"/sink$seed.*.log | tail -n 4 | tr '\n' ' ')"
	fi
	check_eq "seed $seed: the three sinks left all loaded changes" "$(busy)" 3
	check_eq "seed $seed: the topics went from 6 to 9 partitions mid-run" "$grown" grown
	my -e "DROP DATABASE IF EXISTS $db"
	curl -sS "$CDC_CLICKHOUSE_URL" --data-binary "DROP DATABASE IF EXISTS $db" >/dev/null 2>&1
done
exit 0

#!/usr/bin/env bash
# The whole pipeline (scripts/cdc-source and scripts/cdc-sink, through Kafka)
# under a write workload of inserts, updates and deletes, while every stage
# is killed with SIGKILL at random moments and restarted by a supervisor,
# and Kafka, ClickHouse and MariaDB are stopped and started again. Then the
# workload stops, the pipeline catches up, and scripts/cdc-verify must find
# MariaDB and ClickHouse equal. Runs on a private stack (its own ports), so
# restarting services disturbs nothing else. On both engines: the sink
# loads ClickHouse 18.16, or the current engine (chdb behind
# tests/tools/chdb_http.py), and the chaos restarts that one.
#
# CDC_CRASH_SEEDS: the seeds (default "1 2" on 18.16, "2" on current: it kills avro2kafka, then restarts the engine, early);
# CDC_CRASH_SECONDS: chaos time per seed (default 25).
ENGINES="18.16 current"
. "$(dirname "$0")/lib.sh"
if on current; then
	SEEDS=${CDC_CRASH_SEEDS:-2} CH_SVC=clickhouse-current
else
	SEEDS=${CDC_CRASH_SEEDS:-1 2} CH_SVC=clickhouse
fi
CHAOS=${CDC_CRASH_SECONDS:-25}

export CDC_STACK_DIR=$T/stack CDC_STACK_MYSQL_PORT=33306 \
	CDC_STACK_KAFKA_PORT=39092 CDC_STACK_KAFKA_CONTROLLER_PORT=39093 \
	CDC_STACK_CH_HTTP_PORT=38123 CDC_STACK_CH_TCP_PORT=39000 \
	CDC_STACK_CH_INTERSERVER_PORT=39009 CDC_STACK_CH_CURRENT_PORT=38124 \
	CDC_STACK_REGISTRY_PORT=39090
trap '[ -e "$T/stop" ] || touch "$T/stop"; pkill -KILL -f "$T/stop|$T/cdc-sink|t5-src-|t5-g-|--server-id 70[0-9][0-9]" 2>/dev/null;
	[ -n "${CDC_TEST_KEEP:-}" ] && cp -r "$T"/*.log "$T"/*.out "$T"/stack/mariadb/binlog "$CDC_TEST_KEEP" 2>/dev/null;
	"$ROOT/scripts/stack" down >/dev/null 2>&1; rm -rf "$T"' EXIT
if ! "$ROOT/scripts/stack" up >"$T/up.log" 2>&1; then
	t_fail "private stack" "$(tail -n 5 "$T/up.log" | tr '\n' ' ')"
	exit 1
fi
t_ok "private stack up"
set +e # chaos: a kill that finds nothing, a stage that exits, are normal
eval "$("$ROOT/scripts/stack" env)"
on current && export CDC_CLICKHOUSE_URL=$CDC_CLICKHOUSE_CURRENT_URL
# TMPDIR: cdc-sink's fifo lands in $T, where the chaos finds chload by it.
export MYSQL_PWD=$CDC_MYSQL_PASSWORD CDC_BIN=$BIN CDC_STATE_DIR=$T/state TMPDIR=$T
my() { mariadb -h"$CDC_MYSQL_HOST" -P"$CDC_MYSQL_PORT" -u"$CDC_MYSQL_USER" "$@"; }

# supervise NAME CMD...: runs CMD again and again until $T/stop exists,
# in its own process group (a stage of it may be killed at any time).
supervise() {
	local name=$1
	shift
	setsid bash -c '
		log=$0 stop=$1
		shift
		while [ ! -e "$stop" ]; do
			"$@" >/dev/null 2>>"$log"
			echo "exited $?" >>"$log"
			sleep 0.3
		done' "$T/$name.log" "$T/stop" "$@" &
}

# The workload: random inserts, updates (key changes too) and deletes in
# transactions, on a keyed table and a keyless one, until $T/stop-load.
workload() {
	local seed=$1 db=$2
	RANDOM=$seed
	while [ ! -e "$T/stop-load" ]; do
		echo "BEGIN;"
		for ((k = 0; k < 5; k++)); do
			id=$((RANDOM % 500))
			case $((RANDOM % 6)) in
			0|1|2) echo "INSERT INTO orders VALUES ($id, $RANDOM, $RANDOM.$((RANDOM % 100)),
			    'o$RANDOM', NOW(6)) ON DUPLICATE KEY UPDATE qty = qty + 1, ts = NOW(6);" ;;
			3) echo "UPDATE orders SET note = CONCAT(note, 'u'), amount = amount + 0.01 WHERE id = $id;" ;;
			4) echo "DELETE FROM orders WHERE id = $id;" ;;
			5) echo "UPDATE IGNORE orders SET id = id + 1000 WHERE id = $id;" ;;
			esac
			echo "INSERT INTO events VALUES ($RANDOM, 'e$((RANDOM % 10))');"
		done
		echo "COMMIT;"
		sleep 0.05
	done | my -f "t5_$db" 2>>"$T/workload.log"
}

for seed in $SEEDS; do
	rm -f "$T/stop" "$T/stop-load"
	# A database per seed: ClickHouse keeps what the seed before loaded.
	my -e "DROP DATABASE IF EXISTS t5_$seed; CREATE DATABASE t5_$seed"
	my "t5_$seed" -e "CREATE TABLE orders (id INT PRIMARY KEY, qty INT NOT NULL,
	    amount DECIMAL(12,2), note VARCHAR(200), ts DATETIME(6));
	    CREATE TABLE events (n INT, what VARCHAR(8))"
	export CDC_TOPIC_PREFIX=t5s$seed CDC_STATE_DIR=$T/state$seed
	supervise "source$seed" "$ROOT/scripts/cdc-source" --id "t5-src-$seed" \
		-- --server-id $((7000 + seed)) --include "t5_$seed.*" \
		--avro2kafka -p "t5s$seed" -w 20
	supervise "sink$seed" "$ROOT/scripts/cdc-sink" --group "t5-g-$seed" \
		-- --prefix "t5s$seed" -w 20 -X session.timeout.ms=6000 \
		-X group.instance.id="t5-sink-$seed" --chload -s 0 -r 30
	# The source's first run starts where the binlog ends (or snapshots):
	# the workload starts once it runs, so the test does not depend on it.
	for ((i = 0; i < 100; i++)); do
		grep -q "replicating from" "$T/source$seed.log" 2>/dev/null && break
		sleep 0.1
	done
	workload "$seed" "$seed" &
	wpid=$!

	# Chaos: kill a stage or restart a service every 1..4 seconds.
	RANDOM=$((seed * 7919))
	end=$((SECONDS + CHAOS)) kills=0 restarts=0
	while [ "$SECONDS" -lt "$end" ]; do
		sleep $((1 + RANDOM % 4))
		action=$((RANDOM % 7))
		case $action in
		0) pkill -KILL -f "binlog2avro.*--server-id $((7000 + seed))" && kills=$((kills + 1)) ;;
		1) pkill -KILL -f "avro2kafka -t t5-src-$seed" && kills=$((kills + 1)) ;;
		2) pkill -KILL -f "kafka2ch -g t5-g-$seed" && kills=$((kills + 1)) ;;
		3) pkill -KILL -f "chload --ack $T" && kills=$((kills + 1)) ;;
		4) svc=kafka ;;
		5) svc=$CH_SVC ;;
		6) svc=mariadb ;;
		esac
		echo "$(date +%T.%N) seed $seed action $action" >>"$T/actions.log"
		if [ -n "${svc:-}" ]; then
			"$ROOT/scripts/stack" down "$svc" >>"$T/chaos.log" 2>&1
			sleep 1
			"$ROOT/scripts/stack" up "$svc" >>"$T/chaos.log" 2>&1
			restarts=$((restarts + 1))
			svc=
		fi
		# The workload's connection dies with MariaDB: start it again.
		if ! kill -0 "$wpid" 2>/dev/null; then
			workload $((seed + SECONDS)) "$seed" &
			wpid=$!
		fi
	done
	touch "$T/stop-load"
	wait "$wpid" 2>/dev/null
	"$ROOT/scripts/stack" up >>"$T/chaos.log" 2>&1

	# Catch up: cdc-verify passes, or give up after 120 s.
	ok=0
	for ((i = 0; i < 60; i++)); do
		if "$ROOT/scripts/cdc-verify" -q "t5_$seed" >"$T/verify.out" 2>&1; then
			ok=1
			break
		fi
		sleep 2
	done
	touch "$T/stop"
	# The supervisors and the pipeline, not the private stack's servers
	# (their command lines name $T too).
	pkill -TERM -f "$T/stop|$T/cdc-sink|t5-src-$seed|t5-g-$seed|server-id $((7000 + seed))" 2>/dev/null
	sleep 1
	rows=$(my -N "t5_$seed" -e "SELECT (SELECT COUNT(*) FROM orders), (SELECT COUNT(*) FROM events)" | tr '\t' '/')
	if [ "$ok" = 1 ]; then
		t_ok "seed $seed: $kills kills, $restarts service restarts, MariaDB = ClickHouse ($rows rows)"
	else
		t_fail "seed $seed: $kills kills, $restarts service restarts" \
		    "$(tail -n 6 "$T/verify.out" | tr '\n' ' ') | source: $(grep -v info "$T/source$seed.log" | tail -n 3 | tr '\n' ' ') | sink: $(grep -v info "$T/sink$seed.log" | tail -n 3 | tr '\n' ' ')"
	fi
	pkill -KILL -f "$T/stop|$T/cdc-sink|t5-src-$seed|t5-g-$seed|server-id $((7000 + seed))" 2>/dev/null
done
exit 0

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
. "$(dirname "$0")/crash_lib.sh"
if on current; then
	SEEDS=${CDC_CRASH_SEEDS:-2} CH_SVC=clickhouse-current
else
	SEEDS=${CDC_CRASH_SEEDS:-1 2} CH_SVC=clickhouse
fi
CHAOS=${CDC_CRASH_SECONDS:-25}

trap '[ -e "$T/stop" ] || touch "$T/stop"; pkill -KILL -f "$T/stop|$T/cdc-sink|t5-src-|t5-g-|--server-id 70[0-9][0-9]" 2>/dev/null;
	[ -n "${CDC_TEST_KEEP:-}" ] && cp -r "$T"/*.log "$T"/*.out "$T"/stack/mariadb/binlog "$CDC_TEST_KEEP" 2>/dev/null;
	"$ROOT/scripts/stack" down >/dev/null 2>&1; rm -rf "$T"' EXIT
crash_stack 24
set +e # chaos: a kill that finds nothing, a stage that exits, are normal
on current && export CDC_CLICKHOUSE_URL=$CDC_CLICKHOUSE_CURRENT_URL

for seed in $SEEDS; do
	rm -f "$T/stop" "$T/stop-load"
	# A database per seed: ClickHouse keeps what the seed before loaded.
	crash_tables "t5_$seed"
	export CDC_TOPIC_PREFIX=t5s$seed CDC_STATE_DIR=$T/state$seed
	supervise "source$seed" "$ROOT/scripts/cdc-source" --id "t5-src-$seed" \
		-- --server-id $((7000 + seed)) --include "t5_$seed.*" \
		--avro2kafka -p "t5s$seed" -w 20
	supervise "sink$seed" "$ROOT/scripts/cdc-sink" --group "t5-g-$seed" \
		-- --prefix "t5s$seed" -w 20 -X session.timeout.ms=6000 \
		-X group.instance.id="t5-sink-$seed" --chload -s 0 -r 30
	# The source's first run starts where the binlog ends (or snapshots):
	# the workload starts once it runs, so the test does not depend on it.
	wait_log "$T/source$seed.log" "replicating from" 10
	workload "$seed" "t5_$seed" &
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
			workload $((seed + SECONDS)) "t5_$seed" &
			wpid=$!
		fi
	done
	touch "$T/stop-load"
	wait "$wpid" 2>/dev/null
	"$ROOT/scripts/stack" up >>"$T/chaos.log" 2>&1

	# Catch up: cdc-verify passes, or give up after 120 s.
	ok=0
	catch_up "t5_$seed" && ok=1
	touch "$T/stop"
	# The supervisors and the pipeline, not the private stack's servers
	# (their command lines name $T too).
	pkill -TERM -f "$T/stop|$T/cdc-sink|t5-src-$seed|t5-g-$seed|server-id $((7000 + seed))" 2>/dev/null
	sleep 1
	rows=$(crash_rows "t5_$seed")
	if [ "$ok" = 1 ]; then
		t_ok "seed $seed: $kills kills, $restarts service restarts, MariaDB = ClickHouse ($rows rows)"
	else
		t_fail "seed $seed: $kills kills, $restarts service restarts" \
		    "$(tail -n 6 "$T/verify.out" | tr '\n' ' ') | source: $(grep -v info "$T/source$seed.log" | tail -n 3 | tr '\n' ' ') | sink: $(grep -v info "$T/sink$seed.log" | tail -n 3 | tr '\n' ' ')"
	fi
	pkill -KILL -f "$T/stop|$T/cdc-sink|t5-src-$seed|t5-g-$seed|server-id $((7000 + seed))" 2>/dev/null
done
exit 0

# Helpers of the pipeline crash tests (t5*): a private stack on ports of the
# test's own, supervisors that restart a stage forever, the write workload,
# and the wait for cdc-verify. Sourced after lib.sh; every process they
# start names $T on its command line or runs in a process group of its own.

# crash_stack BASE: a private stack under $T/stack on ports BASE306 (MariaDB),
# (BASE+6)092/093 (Kafka), (BASE+5)123, (BASE+6)000, (BASE+6)009
# (ClickHouse), (BASE+5)124 (clickhouse-current), (BASE+6)090 and 091
# (registry); BASE 24 or 25 keeps them all below 32768 (lib.sh, Ports).
# Brings it up and sets the environment of scripts/stack env, or fails the
# test.
crash_stack() {
	local b=$1
	export CDC_STACK_DIR=$T/stack CDC_STACK_MYSQL_PORT=${b}306 \
		CDC_STACK_KAFKA_PORT=$((b + 6))092 \
		CDC_STACK_KAFKA_CONTROLLER_PORT=$((b + 6))093 \
		CDC_STACK_CH_HTTP_PORT=$((b + 5))123 \
		CDC_STACK_CH_TCP_PORT=$((b + 6))000 \
		CDC_STACK_CH_INTERSERVER_PORT=$((b + 6))009 \
		CDC_STACK_CH_CURRENT_PORT=$((b + 5))124 \
		CDC_STACK_REGISTRY_PORT=$((b + 6))090
	if ! "$ROOT/scripts/stack" up >"$T/up.log" 2>&1; then
		t_fail "private stack" "$(tail -n 5 "$T/up.log" | tr '\n' ' ')"
		exit 1
	fi
	t_ok "private stack up"
	eval "$("$ROOT/scripts/stack" env)"
	# TMPDIR: cdc-sink's fifo lands in $T, where the chaos finds chload
	# by it.
	export MYSQL_PWD=$CDC_MYSQL_PASSWORD CDC_BIN=$BIN \
		CDC_STATE_DIR=$T/state TMPDIR=$T
}

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

# crash_tables DB: a fresh database DB with the workload's tables, a keyed
# one and a keyless one.
crash_tables() {
	my -e "DROP DATABASE IF EXISTS $1; CREATE DATABASE $1"
	my "$1" -e "CREATE TABLE orders (id INT PRIMARY KEY, qty INT NOT NULL,
	    amount DECIMAL(12,2), note VARCHAR(200), ts DATETIME(6));
	    CREATE TABLE events (n INT, what VARCHAR(8))"
}

# workload SEED DB: random inserts, updates (key changes too) and deletes in
# transactions, on the keyed table and the keyless one, until
# $T/stop-load. Columns are named, so columns may be added meanwhile.
workload() {
	local seed=$1 db=$2
	RANDOM=$seed
	while [ ! -e "$T/stop-load" ]; do
		echo "BEGIN;"
		for ((k = 0; k < 5; k++)); do
			id=$((RANDOM % 500))
			case $((RANDOM % 6)) in
			0|1|2) echo "INSERT INTO orders (id, qty, amount, note, ts)
			    VALUES ($id, $RANDOM, $RANDOM.$((RANDOM % 100)),
			    'o$RANDOM', NOW(6)) ON DUPLICATE KEY UPDATE qty = qty + 1, ts = NOW(6);" ;;
			3) echo "UPDATE orders SET note = CONCAT(note, 'u'), amount = amount + 0.01 WHERE id = $id;" ;;
			4) echo "DELETE FROM orders WHERE id = $id;" ;;
			5) echo "UPDATE IGNORE orders SET id = id + 1000 WHERE id = $id;" ;;
			esac
			echo "INSERT INTO events (n, what) VALUES ($RANDOM, 'e$((RANDOM % 10))');"
		done
		echo "COMMIT;"
		sleep 0.05
	done | my -f "$db" 2>>"$T/workload.log"
}

# wait_log FILE TEXT SECS: until FILE says TEXT.
wait_log() {
	local i
	for ((i = 0; i < $3 * 10; i++)); do
		grep -q "$2" "$1" 2>/dev/null && return 0
		sleep 0.1
	done
	return 1
}

# catch_up DB: cdc-verify until it passes (0) or 120 s went by (1); its
# last output in $T/verify.out.
catch_up() {
	local i
	for ((i = 0; i < 60; i++)); do
		"$ROOT/scripts/cdc-verify" -q "$1" >"$T/verify.out" 2>&1 &&
		    return 0
		sleep 2
	done
	return 1
}

# crash_rows DB: "ORDERS/EVENTS", the rows of the workload's tables in
# MariaDB, for the result line.
crash_rows() {
	my -N "$1" -e "SELECT (SELECT COUNT(*) FROM orders), (SELECT COUNT(*) FROM events)" | tr '\t' '/'
}

# bounce STACK SVC SECS: kill -9 service SVC of the private stack under
# $T/stack, wait SECS, and start it again with STACK (the test's wrapper
# of scripts/stack for that folder).
bounce() {
	kill -KILL "$(cat "$T/stack/$2.pid")"
	echo "$(date +%T.%N) killed $2" >>"$T/actions.log"
	sleep "$3"
	"$1" up "$2" >>"$T/up.log" 2>&1
	echo "$(date +%T.%N) $2 back: $?" >>"$T/actions.log"
}

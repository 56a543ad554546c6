# A live pipeline for the monitoring tests (t7002, t7003); sourced after
# lib.sh and need_stack.

# pipeline_up P GROUP SERVER_ID INCLUDE: scripts/cdc-source (id P-src, topic
# prefix P) and scripts/cdc-sink (GROUP, chload -s 1), each in a process
# group of its own (SRC_PID, SINK_PID), logs in $T/source.log and
# $T/sink.log; returns once the source replicates (a check line says so).
pipeline_up() {
	local p=$1 group=$2 id=$3 include=$4 i
	setsid "$ROOT/scripts/cdc-source" --id "$p-src" -- --server-id "$id" \
	    --include "$include" --avro2kafka -p "$p" -w 30 \
	    >/dev/null 2>"$T/source.log" &
	SRC_PID=$!
	setsid "$ROOT/scripts/cdc-sink" --group "$group" -- -p "$p" -w 30 \
	    --chload -s 1 >/dev/null 2>"$T/sink.log" &
	SINK_PID=$!
	for ((i = 0; i < 600; i++)); do
		grep -q "replicating from" "$T/source.log" 2>/dev/null && break
		sleep 0.1
	done
	check "source replicating" grep -q "replicating from" "$T/source.log"
}

# stop_group PGID: SIGCONT and SIGTERM to a process group, SIGKILL after
# 10 s.
stop_group() {
	local i
	kill -CONT -- "-$1" 2>/dev/null || true
	kill -TERM -- "-$1" 2>/dev/null || true
	for ((i = 0; i < 100; i++)); do
		kill -0 -- "-$1" 2>/dev/null || return 0
		sleep 0.1
	done
	kill -KILL -- "-$1" 2>/dev/null || true
}

sql() { mariadb -h"$CDC_MYSQL_HOST" -P"$CDC_MYSQL_PORT" -u"$CDC_MYSQL_USER" "$@"; }
ch() { curl -sS --fail-with-body "$CDC_CLICKHOUSE_URL" --data-binary "$1"; }

# pipeline_db DB: a new database DB with a table t (id INT key, v INT),
# none of that name in ClickHouse; pipeline_down drops both.
SRC_PID='' SINK_PID='' PIPELINE_DB=''
pipeline_db() {
	PIPELINE_DB=$1
	sql -e "DROP DATABASE IF EXISTS $1; CREATE DATABASE $1;
	    CREATE TABLE $1.t (id INT PRIMARY KEY, v INT NOT NULL)"
	ch "DROP DATABASE IF EXISTS $1" >/dev/null
}

# pipeline_down: stops the pipeline's stages and drops its databases.
pipeline_down() {
	[ -z "$SRC_PID" ] || stop_group "$SRC_PID"
	[ -z "$SINK_PID" ] || stop_group "$SINK_PID"
	if [ -n "$PIPELINE_DB" ]; then
		sql -e "DROP DATABASE IF EXISTS $PIPELINE_DB" >/dev/null 2>&1 || true
		ch "DROP DATABASE IF EXISTS $PIPELINE_DB" >/dev/null 2>&1 || true
	fi
}

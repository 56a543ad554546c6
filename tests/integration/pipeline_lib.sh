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

# Shared by the pipeline scripts (cdc-source, cdc-sink, cdc-direct,
# cdc-segment): where the binaries are, and how a pipeline's exit code is
# chosen. Sourced, not run.

CDC_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
CDC_BIN=${CDC_BIN:-$CDC_ROOT/bin}
PATH=$CDC_BIN:$PATH

cdc_say() { printf '%s: %s\n' "${0##*/}" "$*" >&2; }

# cdc_status CODE...: the exit code of a pipeline, from PIPESTATUS: the first
# stage that failed for its own reason. 141 (SIGPIPE) only says that the
# stage after it went away, so it never wins over that stage's own code.
cdc_status() {
	local c
	for c in "$@"; do
		if [ "$c" -ne 0 ] && [ "$c" -ne 141 ]; then
			echo "$c"
			return
		fi
	done
	for c in "$@"; do
		if [ "$c" -ne 0 ]; then
			echo "$c"
			return
		fi
	done
	echo 0
}

# cdc_state_dir: where a pipeline keeps its resume position.
cdc_state_dir() {
	local d=${CDC_STATE_DIR:-${CDC_STACK_DIR:-$CDC_ROOT/.stack}/pipeline}
	mkdir -p "$d"
	echo "$d"
}

# cdc_last_ack FILE: the position of the last acknowledgement line in
# FILE ("ack SEQ POSITION"), or nothing.
cdc_last_ack() {
	[ -s "$1" ] || return 0
	tail -n 1 "$1" | sed -n 's/^ack [0-9][0-9]* //p'
}

# cdc_metrics TOOL...: with CDC_METRICS_DIR set, each TOOL writes its
# Prometheus metrics to $CDC_METRICS_DIR/<pipeline>-<tool>.prom (for
# node_exporter's textfile collector; docs/metrics.md), where the pipeline
# is CDC_PIPELINE (default cdc), also the label of every sample. A
# CDC_<TOOL>_METRICS already set wins.
cdc_metrics() {
	local t v
	[ -n "${CDC_METRICS_DIR:-}" ] || return 0
	mkdir -p "$CDC_METRICS_DIR"
	export CDC_PIPELINE=${CDC_PIPELINE:-cdc}
	for t in "$@"; do
		v=CDC_$(echo "$t" | tr a-z A-Z)_METRICS
		[ -n "${!v:-}" ] || export "$v=$CDC_METRICS_DIR/$CDC_PIPELINE-$t.prom"
	done
}

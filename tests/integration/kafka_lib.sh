# Helpers for the avro2kafka and kafka2ch tests (t2*, t3*); sourced after
# lib.sh and need_stack. Every run uses its own topic prefix, consumer
# groups and transactional ids, since the broker is shared.

GEN=$BIN/../tests/changegen
SINK=$BIN/../tests/streamsink
A2K=$BIN/avro2kafka
K2C=$BIN/kafka2ch
PFX=$(printf '%s_%s_%s' "$TNAME" "$$" "$RANDOM" | tr -c 'A-Za-z0-9_\n' _)

# perkey STREAM: the change frames of STREAM as streamcat -r lines, sorted
# stably by topic and key: two streams give the same output exactly when
# they have the same changes, byte for byte, in the same order per key.
perkey() {
	"$BIN/streamcat" -r "$1" | perkey_lines
}

# perkey_lines: the same for streamcat -r lines on stdin.
perkey_lines() {
	LC_ALL=C awk '
	    index($0, "{\"kind\":\"change\"") == 1 {
		i = index($0, ",\"value\":")
		print substr($0, 1, i) "\t" $0
	    }' | LC_ALL=C sort -s -t "$(printf '\t')" -k1,1
}

# kinds STREAM KIND: the frames of one kind, as streamcat -r lines, sorted.
kinds() {
	"$BIN/streamcat" -r "$1" | grep "^{\"kind\":\"$2\"" | LC_ALL=C sort
}

# consume_all OUT [kafka2ch options]: everything committed under the test's
# prefix, read by a new group to the end.
consume_all() {
	local out=$1
	shift
	timeout 120 "$K2C" -q -p "$PFX" -g "$PFX-all-$RANDOM" -e "$@" \
	    >"$out" 2>"$out.err"
}

# wait_for_file FILE SECS: until FILE is not empty.
wait_for_file() {
	local i=0
	while [ ! -s "$1" ] && [ "$i" -lt $(($2 * 10)) ]; do
		sleep 0.1
		i=$((i + 1))
	done
	[ -s "$1" ]
}

# need_confluent: PY, the Python of the venv with confluent-kafka and
# fastavro (scripts/deps), and REG, the stack's schema registry URL.
need_confluent() {
	PY=${CDC_DEPS_DIR:-$ROOT/.deps}/venv-cdc/bin/python3
	REG=$CDC_STACK_REGISTRY_URL
	[ -x "$PY" ] || { t_fail venv "no $PY: run scripts/deps"; exit 1; }
}

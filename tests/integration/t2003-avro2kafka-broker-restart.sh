#!/usr/bin/env bash
# A private Kafka broker is stopped and started again under avro2kafka and
# kafka2ch: both ride it out and nothing is lost or repeated in Kafka. When
# it stays down past their retry budget they exit 69 or 75, and a restart
# from --resume-position still leaves every change exactly once.
. "$(dirname "$0")/lib.sh"
need_stack
. "$(dirname "$0")/kafka_lib.sh"

dir=$T/stack
st2() {
	CDC_STACK_DIR=$dir CDC_STACK_TIMEOUT=90 \
	    CDC_STACK_KAFKA_PORT=29392 CDC_STACK_KAFKA_CONTROLLER_PORT=29393 \
	    CDC_STACK_MYSQL_PORT=23396 CDC_STACK_CH_HTTP_PORT=28393 \
	    CDC_STACK_CH_TCP_PORT=29394 CDC_STACK_CH_INTERSERVER_PORT=29395 \
	    "$ROOT/scripts/stack" "$@"
}
trap 'st2 down >/dev/null 2>&1 || true; rm -rf "$T"' EXIT
rc=0
st2 up kafka >"$T/up.out" 2>&1 || rc=$?
if [ "$rc" -ne 0 ]; then
	if [ "${CI:-}" = true ]; then
		t_fail "private kafka" "scripts/stack up kafka failed: $(tail -n 1 "$T/up.out")"
		exit 1
	fi
	t_skip "private kafka" "scripts/stack up kafka failed: $(tail -n 1 "$T/up.out")"
	exit 0
fi
export CDC_KAFKA_BROKERS=127.0.0.1:29392
mkfifo "$T/data" "$T/ack"

# await_changes IN OUT: until OUT holds as many changes as IN, 60 s at
# most; fails when it does not.
await_changes() {
	local total have i=0
	total=$(kinds "$1" change | wc -l)
	for (( ; ; i++)); do
		have=$("$BIN/streamcat" -r "$2" 2>/dev/null |
		    grep -c '"kind":"change"' || true)
		[ "$have" -lt "$total" ] && [ "$i" -lt 300 ] || break
		sleep 0.2
	done
	[ "$have" -ge "$total" ]
}

gen() { "$GEN" -n 30000 -t 3 -k 500 -p "$PFX" "$@"; }
gen >"$T/in.avro"

# Ride it out: the broker goes away for a few seconds mid-run.
"$A2K" -q -p "$PFX" -P 2 -t "$PFX-tx" -I 200 -w 90 < <(gen -r 6000) \
    2>"$T/a.err" &
apid=$!
"$SINK" -A "$T/ack" "$T/o1" <"$T/data" 2>/dev/null &
spid=$!
"$K2C" -q -p "$PFX" -g "$PFX-g" -A "$T/ack" -w 90 -m 1000 >"$T/data" \
    2>"$T/k.err" &
kpid=$!
sleep 2
st2 down >/dev/null 2>&1
sleep 2
st2 up kafka >/dev/null 2>&1
rc=0
wait "$apid" || rc=$?
check_eq "avro2kafka rides out a broker restart" "$rc" 0
await_changes "$T/in.avro" "$T/o1" || true
kill -TERM "$kpid" 2>/dev/null || true
rc=0
wait "$kpid" || rc=$?
wait "$spid" || true
check_eq "kafka2ch rides out a broker restart" "$rc" 0
missing=$(comm -23 <(kinds "$T/in.avro" change | uniq) \
    <(kinds "$T/o1" change | uniq) | wc -l)
check_eq "kafka2ch lost nothing" "$missing" 0
consume_all "$T/all1.avro"
check "kafka holds every change once, in order per key" \
    cmp -s <(perkey "$T/in.avro") <(perkey "$T/all1.avro")

# Down for good: both give up within their budget.
p2=${PFX}_down
"$GEN" -n 30000 -t 2 -k 500 -p "$p2" >"$T/in2.avro"
"$A2K" -q -p "$p2" -P 2 -t "$p2-tx" -I 200 -w 5 \
    < <("$GEN" -n 30000 -t 2 -k 500 -p "$p2" -r 6000) 2>"$T/a2.err" &
apid=$!
"$K2C" -q -p "$p2" -g "$p2-g" -w 5 >/dev/null 2>"$T/k2.err" &
kpid=$!
sleep 2
st2 down >/dev/null 2>&1
rc=0
wait "$apid" || rc=$?
check "avro2kafka gives up with 69 or 75" test "$rc" -eq 69 -o "$rc" -eq 75
check "avro2kafka says why in one line" test "$(wc -l <"$T/a2.err")" -le 3
rc=0
wait "$kpid" || rc=$?
check "kafka2ch gives up with 69 or 75" test "$rc" -eq 69 -o "$rc" -eq 75
check "kafka2ch says kafka is unreachable" grep -q 'unreachable' "$T/k2.err"

st2 up kafka >/dev/null 2>&1
pos=$("$A2K" -q -p "$p2" -t "$p2-tx" -R)
rc=0
"$A2K" -q -p "$p2" -P 2 -t "$p2-tx" \
    < <("$GEN" -n 30000 -t 2 -k 500 -p "$p2" ${pos:+-S "$pos"}) || rc=$?
check_eq "restart from --resume-position exits 0" "$rc" 0
PFX=$p2 consume_all "$T/all2.avro"
check "after giving up, still every change once" \
    cmp -s <(perkey "$T/in2.avro") <(perkey "$T/all2.avro")

# Hung, not down: the broker stops answering (SIGSTOP) and kafka2ch is told
# to stop. Its last commit and its leaving the group share one -w;
# librdkafka's own waits held it for as long as the broker hung.
p3=${PFX}_hung
"$GEN" -n 3000 -t 1 -p "$p3" >"$T/in3.avro"
"$A2K" -q -p "$p3" <"$T/in3.avro"
"$K2C" -p "$p3" -g "$p3-g" -w 3 >"$T/o3" 2>"$T/k3.err" &
kpid=$!
check "kafka2ch reads the changes" await_changes "$T/in3.avro" "$T/o3"
bpid=$(cat "$dir/kafka.pid")
trap 'kill -CONT "$bpid" 2>/dev/null; st2 down >/dev/null 2>&1 || true
	rm -rf "$T"' EXIT
kill -STOP "$bpid"
kill -TERM "$kpid" 2>/dev/null || true
t0=$(date +%s%N)
# Expected: one -w for the commit and the leave together, 3 s (6 s before
# they shared it); with librdkafka's own waits it was still up after 20 s.
# 20 s leaves room for a loaded machine.
i=0
while kill -0 "$kpid" 2>/dev/null && [ "$i" -lt 100 ]; do
	sleep 0.2
	i=$((i + 1))
done
alive=no
kill -0 "$kpid" 2>/dev/null && alive=yes
echo "# kafka2ch's stop with the broker hung: $((($(date +%s%N) - t0) / 1000000)) ms"
kill -CONT "$bpid"
check_eq "kafka2ch stops though the broker hangs" "$alive" no
[ "$alive" = no ] || kill -KILL "$kpid" 2>/dev/null || true
rc=0
wait "$kpid" || rc=$?
check_eq "unconfirmed last commit exits 75" "$rc" 75
check "says the group did not answer" \
    grep -q 'did not answer the group leave within -w (3s)' "$T/k3.err"

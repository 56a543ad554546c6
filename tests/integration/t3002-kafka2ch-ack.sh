#!/usr/bin/env bash
# kafka2ch commits offsets only for what downstream acknowledged: killed
# with SIGKILL before acknowledgements it resumes right after the last
# acknowledged commit mark (nothing skipped, only the unacknowledged part
# again); killed after them it reads nothing again; stopped by SIGTERM it
# drains and exits 0.
. "$(dirname "$0")/lib.sh"
need_stack
. "$(dirname "$0")/kafka_lib.sh"

"$GEN" -n 30000 -t 3 -k 500 -p "$PFX" >"$T/in.avro"
"$A2K" -q -p "$PFX" -P 2 <"$T/in.avro"
total=$(kinds "$T/in.avro" change | wc -l)
mkfifo "$T/data" "$T/ack"

# pipe OUT GROUP [SINK OPTS] [-- KAFKA2CH OPTS]: kafka2ch | streamsink with
# the acknowledgement fifo; sets kpid and spid.
pipe() {
	local out=$1 group=$2
	shift 2
	local sopts=()
	while [ "$#" -gt 0 ] && [ "$1" != -- ]; do
		sopts+=("$1")
		shift
	done
	[ "$#" -gt 0 ] && shift
	"$SINK" -A "$T/ack" "${sopts[@]}" "$out" <"$T/data" 2>"$out.serr" &
	spid=$!
	# A short session: the restart waits for the killed member's
	# session to end before the group rebalances.
	"$K2C" -p "$PFX" -g "$group" -A "$T/ack" -X session.timeout.ms=6000 \
	    -X heartbeat.interval.ms=500 "$@" >"$T/data" 2>"$out.kerr" &
	kpid=$!
}
count() { "$BIN/streamcat" -r "$1" 2>/dev/null | grep -c "\"kind\":\"$2\"" || true; }
waitcount() { # FILE KIND N SECS
	local i=0
	while [ "$(count "$1" "$2")" -lt "$3" ] && [ "$i" -lt $(($4 * 10)) ]; do
		sleep 0.1
		i=$((i + 1))
	done
}

# Before acknowledgements: the sink acknowledges marks 1..3 only.
g=$PFX-g1
pipe "$T/o1" "$g" -u 3 -- -m 2000
waitcount "$T/o1" change "$total" 30
sleep 1
kill -9 "$kpid" || true
wait "$kpid" 2>/dev/null || true
wait "$spid" 2>/dev/null || true
check_eq "first run saw everything" "$(count "$T/o1" change)" "$total"
check "first run wrote more than 3 marks" test "$(count "$T/o1" commit)" -gt 3
pipe "$T/o2" "$g" -- -e
rc=0
wait "$kpid" || rc=$?
wait "$spid" || true
check_eq "restart exits 0 at the end" "$rc" 0
{
	"$BIN/streamcat" -r "$T/o1" 2>/dev/null |
	    awk '/^\{"kind":"commit","seq":3,/ { exit } { print }'
	"$BIN/streamcat" -r "$T/o2"
} | perkey_lines >"$T/joined.keys"
perkey "$T/in.avro" >"$T/in.keys"
check "acknowledged part + restart = everything once, in order per key" \
    cmp -s "$T/joined.keys" "$T/in.keys"
acked=$("$BIN/streamcat" -r "$T/o1" 2>/dev/null |
    awk '/^\{"kind":"commit","seq":3,/ { exit } /"kind":"change"/ { n++ } END { print n }')
check_eq "restart redelivers only the unacknowledged part" \
    "$(count "$T/o2" change)" $((total - acked))

# After acknowledgements: nothing again.
g=$PFX-g2
pipe "$T/o3" "$g" -- -m 2000
waitcount "$T/o3" change "$total" 30
sleep 1.5
kill -9 "$kpid" || true
wait "$kpid" 2>/dev/null || true
wait "$spid" 2>/dev/null || true
check_eq "second group saw everything" "$(count "$T/o3" change)" "$total"
pipe "$T/o4" "$g" -- -e
rc=0
wait "$kpid" || rc=$?
wait "$spid" || true
check_eq "restart after acknowledgements exits 0" "$rc" 0
check_eq "nothing acknowledged comes again" "$(count "$T/o4" change)" 0

# SIGTERM mid-stream, while avro2kafka still writes: drain, acknowledge,
# exit 0; a restart reads the rest.
g=$PFX-g3
"$GEN" -n 30000 -t 3 -k 500 -p "$PFX" -s 2 >"$T/in2.avro"
"$A2K" -q -p "$PFX" -P 2 < <("$GEN" -n 30000 -t 3 -k 500 -p "$PFX" -s 2 \
    -r 10000) &
apid=$!
pipe "$T/o5" "$g" -- -m 500
waitcount "$T/o5" change $((total + 5000)) 30
kill -TERM "$kpid" || true
rc=0
wait "$kpid" || rc=$?
wait "$spid" || true
check_eq "SIGTERM exits 0" "$rc" 0
wait "$apid" || true
check "SIGTERM stopped mid-stream" \
    test "$(count "$T/o5" change)" -lt $((2 * total))
pipe "$T/o6" "$g" -- -e
wait "$kpid" || true
wait "$spid" || true
{
	"$BIN/streamcat" -r "$T/o5"
	"$BIN/streamcat" -r "$T/o6"
} | perkey_lines >"$T/j2.keys"
{
	"$BIN/streamcat" -r "$T/in.avro"
	"$BIN/streamcat" -r "$T/in2.avro"
} | perkey_lines >"$T/in2.keys"
check "after SIGTERM nothing lost or repeated" cmp -s "$T/j2.keys" "$T/in2.keys"

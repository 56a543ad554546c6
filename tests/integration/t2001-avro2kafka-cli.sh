#!/usr/bin/env bash
# avro2kafka's command line, environment and failure modes: usage, config
# errors, an unreachable broker, a truncated stream, tombstones, and the
# acknowledgement channel upstream.
. "$(dirname "$0")/lib.sh"
need_stack
. "$(dirname "$0")/kafka_lib.sh"

# rc NAME WANT CMD...: check_rc, keeping the output in $T/last.out.
rc_out() {
	check_rc "$@"
	cp "$T/check.out" "$T/last.out"
}

rc_out "--help exits 0" 0 "$A2K" --help
check "--help prints usage" grep -q '^usage: avro2kafka' "$T/last.out"
rc_out "--version exits 0" 0 "$A2K" --version
check "--version names librdkafka" grep -q 'librdkafka 2\.' "$T/last.out"
rc_out "-X list exits 0" 0 "$A2K" -X list
check "-X list lists properties" grep -q 'enable.idempotence' "$T/last.out"
rc_out "bad flag exits 64" 64 "$A2K" --no-such-flag
rc_out "bad number exits 64" 64 "$A2K" --partitions 0
check "bad number says why" grep -q "invalid --partitions '0': must be" \
    "$T/last.out"
rc_out "--resume-position without id exits 64" 64 "$A2K" -R
rc_out "no brokers exits 78" 78 env -u CDC_KAFKA_BROKERS "$A2K" </dev/null
check "no brokers says so" grep -q 'no brokers' "$T/last.out"
rc_out "bad -X exits 78" 78 "$A2K" -X no.such.property=1 </dev/null
check "bad -X names it" grep -q "no.such.property" "$T/last.out"
rc_out "bad environment exits 78" 78 \
    env CDC_AVRO2KAFKA_TIMEOUT=soon "$A2K" </dev/null

"$GEN" -n 2000 -t 2 -p "$PFX" >"$T/in.avro"

rc=0
"$A2K" -b 127.0.0.1:1 -w 2 <"$T/in.avro" >/dev/null 2>"$T/unreach.err" ||
    rc=$?
check_eq "unreachable broker exit code" "$rc" 69
check "unreachable broker says so" grep -q "cannot reach kafka at '127.0.0.1:1'" \
    "$T/unreach.err"

# A truncated stream: what came before the bad block is not committed
# past its last commit mark; the run fails with 65.
size=$(wc -c <"$T/in.avro")
head -c $((size - 100)) "$T/in.avro" >"$T/trunc.avro"
rc=0
"$A2K" -p "$PFX" -t "$PFX-tx" <"$T/trunc.avro" >/dev/null 2>"$T/trunc.err" ||
    rc=$?
check_eq "truncated stream exits 65" "$rc" 65
check "truncated stream names the offset" grep -q 'truncated block' \
    "$T/trunc.err"
pos=$("$A2K" -q -p "$PFX" -t "$PFX-tx" -R)
check "the committed position is a commit mark before the cut" sh -c \
    '"$1" -r "$2" 2>/dev/null | grep -q "\"kind\":\"commit\",\"seq\":[0-9]*,\"position\":\"$3\""' \
    sh "$BIN/streamcat" "$T/trunc.avro" "$pos"
rc_out "--resume-position of an unknown id prints nothing" 0 \
    sh -c 'test -z "$("$1" -q -p "$2" -t "$2-none" -R)"' sh "$A2K" "$PFX"
check_eq "--resume-position with the id from CDC_AVRO2KAFKA_TRANSACTIONAL_ID" \
    "$(CDC_AVRO2KAFKA_TRANSACTIONAL_ID="$PFX-tx" "$A2K" -q -p "$PFX" -R)" "$pos"

# Tombstones: forwarded as they come in the stream, or dropped.
p2=${PFX}_nt
"$GEN" -n 2000 -t 2 -p "$p2" >"$T/in2.avro"
"$A2K" -q -p "$p2" --no-tombstones <"$T/in2.avro"
consume_all "$T/nt.avro" -p "$p2"
check_eq "--no-tombstones drops null values" \
    "$("$BIN/streamcat" -r "$T/nt.avro" | grep -c '"value":null' || true)" 0
check_eq "--no-tombstones keeps the rest" \
    "$("$BIN/streamcat" -r "$T/nt.avro" | grep -c '"kind":"change"')" \
    "$("$BIN/streamcat" -r "$T/in2.avro" | grep '"kind":"change"' |
    grep -vc '"value":null')"
consume_all "$T/wt.avro"
check "tombstones are forwarded by default" test "$(
    "$BIN/streamcat" -r "$T/wt.avro" | grep -c '"value":null')" -gt 0

# The schema topic is compacted and keyed by fingerprint.
check "schema topic keyed by fingerprint" sh -c \
    'kcat -b "$1" -C -t "$2.schemas" -o beginning -e -q -f "%k\n" |
    grep -Eqx "[0-9a-f]{16}"' sh "$CDC_KAFKA_BROKERS" "$PFX"

# Acknowledgements upstream: the last line names the last commit mark.
p3=${PFX}_ack
"$GEN" -n 3000 -t 2 -p "$p3" >"$T/in3.avro"
rc=0
"$A2K" -q -p "$p3" -a 3 <"$T/in3.avro" 3>"$T/acks" || rc=$?
check_eq "with --ack-fd exits 0" "$rc" 0
last=$("$BIN/streamcat" "$T/in3.avro" | grep '"kind":"commit"' | tail -n 1 |
    sed 's/.*"seq":\([0-9]*\),"position":"\([^"]*\)".*/ack \1 \2/')
check_eq "last acknowledgement is the last mark" "$(tail -n 1 "$T/acks")" \
    "$last"
rc=0
"$A2K" -q -p "$p3" -t "$p3-tx" -a 3 <"$T/in3.avro" 3>"$T/acks2" || rc=$?
check_eq "transactional acknowledgement too" "$(tail -n 1 "$T/acks2")" "$last"

# SIGTERM mid-stream: stops reading, commits, exits 0.
# (10 s of input; the signal comes after 3 s, when even a loaded broker
# has let the producer start its transactions.)
"$A2K" -q -p "$PFX" -t "$PFX-tx2" < <("$GEN" -n 200000 -t 2 -p "$PFX" \
    -r 20000) 2>"$T/term.err" &
pid=$!
sleep 3
kill -TERM "$pid"
rc=0
wait "$pid" || rc=$?
check_eq "SIGTERM exits 0" "$rc" 0
check "SIGTERM committed a position" test -n \
    "$("$A2K" -q -p "$PFX" -t "$PFX-tx2" -R)"

# One prefix for all of a pipeline's topics: a stream that binlog2avro wrote
# under another prefix is refused (78) before any of its topics is made.
p4=${PFX}_pf
"$GEN" -n 50 -p "$p4" >"$T/in4.avro"
rc=0
"$A2K" -p "${p4}x" <"$T/in4.avro" 2>"$T/pf.err" || rc=$?
check_eq "a change topic outside -p exits 78" "$rc" 78
check "and names the topic and the prefix" grep -q \
    "change topic '$p4\.[^']*' is not under the prefix '${p4}x'" "$T/pf.err"
check "no change topic of the other prefix was made" sh -c \
    '! kcat -b "$1" -L -q 2>/dev/null | grep -q "topic \"$2\."' \
    sh "$CDC_KAFKA_BROKERS" "$p4"
rc=0
CDC_TOPIC_PREFIX=$p4 "$A2K" -q <"$T/in4.avro" 2>"$T/pf2.err" || rc=$?
check_eq "CDC_TOPIC_PREFIX names the prefix (exit 0)" "$rc" 0
check "and its schema topic" sh -c \
    'kcat -b "$1" -L -t "$2.schemas" -q 2>/dev/null | grep -q "topic \"$2.schemas\""' \
    sh "$CDC_KAFKA_BROKERS" "$p4"
rc=0
CDC_AVRO2KAFKA_PREFIX=$p4 "$A2K" <"$T/in4.avro" 2>"$T/pf3.err" || rc=$?
check_eq "the former CDC_AVRO2KAFKA_PREFIX still works" "$rc" 0
check "with a deprecation warning" grep -q \
    'CDC_AVRO2KAFKA_PREFIX is deprecated: use CDC_TOPIC_PREFIX' "$T/pf3.err"

#!/usr/bin/env bash
# kafka2ch's command line, environment and failure modes: usage, config
# errors, an unreachable broker, records it cannot decode, a closed or full
# stdout.
. "$(dirname "$0")/lib.sh"
need_stack
. "$(dirname "$0")/kafka_lib.sh"

# rc_out NAME WANT CMD...: check_rc, keeping the output in $T/last.out.
rc_out() {
	check_rc "$@"
	cp "$T/check.out" "$T/last.out"
}

rc_out "--help exits 0" 0 "$K2C" --help
check "--help prints usage" grep -q '^usage: kafka2ch' "$T/last.out"
rc_out "--version exits 0" 0 "$K2C" --version
check "--version names librdkafka" grep -q 'librdkafka 2\.' "$T/last.out"
rc_out "bad flag exits 64" 64 "$K2C" --no-such-flag
rc_out "no group exits 64" 64 env -u CDC_KAFKA2CH_GROUP "$K2C"
check "no group says so" grep -q 'no consumer group' "$T/last.out"
rc_out "both --from flags exit 64" 64 "$K2C" -g g -B -E
rc_out "no brokers exits 78" 78 env -u CDC_KAFKA_BROKERS "$K2C" -g g
rc_out "bad -X exits 78" 78 "$K2C" -g g -X no.such.property=1
check "bad -X names it" grep -q "no.such.property" "$T/last.out"
rc_out "bad environment exits 78" 78 env CDC_KAFKA2CH_TIMEOUT=x "$K2C" -g g
rc_out "unreachable broker exits 69" 69 "$K2C" -g g -b 127.0.0.1:1 -w 2
check "unreachable broker says so" \
    grep -q "cannot reach kafka at '127.0.0.1:1'" "$T/last.out"

"$GEN" -n 3000 -t 2 -p "$PFX" >"$T/in.avro"
"$A2K" -q -p "$PFX" <"$T/in.avro"

rc=0
"$K2C" -q -p "$PFX" -g "$PFX-full" -e >/dev/full 2>"$T/full.err" || rc=$?
check_eq "stdout on /dev/full exits 74" "$rc" 74
check "stdout on /dev/full says so" grep -q 'No space left' "$T/full.err"

rc=$(set +o pipefail; "$K2C" -q -p "$PFX" -g "$PFX-head" -e \
    2>"$T/head.err" | head -c1 >/dev/null; echo "${PIPESTATUS[0]}")
check_eq "| head -c1 exits 141" "$rc" 141
check "| head -c1 is silent" test ! -s "$T/head.err"

# Records that are not ours: unknown fingerprint, not single-object
# encoded. Each is an error naming topic, partition and offset.
bad=$PFX.db.bad
printf '\303\001\001\002\003\004\005\006\007\010\002' |
    kcat -b "$CDC_KAFKA_BROKERS" -P -t "$bad" -H cdc.position=x \
    -H cdc.version=1 2>/dev/null
rc=0
"$K2C" -p "$PFX" -g "$PFX-bad" -s 1 -e "$bad" >"$T/bad.avro" \
    2>"$T/bad.err" || rc=$?
check_eq "unknown fingerprint exits 65" "$rc" 65
check "unknown fingerprint names topic, partition, offset" grep -q \
    "cannot decode '$bad' partition 0 offset 0: unknown schema fingerprint 0807060504030201" \
    "$T/bad.err"
bad2=$PFX.db.bad2
printf 'hello' | kcat -b "$CDC_KAFKA_BROKERS" -P -t "$bad2" \
    -H cdc.position=x -H cdc.version=1 2>/dev/null
rc=0
"$K2C" -p "$PFX" -g "$PFX-bad2" -e "$bad2" >/dev/null 2>"$T/bad2.err" || rc=$?
check_eq "not single-object encoded exits 65" "$rc" 65
check "not single-object encoded says so" grep -q \
    "cannot decode '$bad2' partition 0 offset 0: not single-object encoded" \
    "$T/bad2.err"

# Topics by name and by regex; --from-end skips what is there.
consume_all "$T/byname.avro" "$PFX.db.t1"
check_eq "a topic by name" "$(kinds "$T/byname.avro" change |
    grep -vc "\"topic\":\"$PFX.db.t1\"" || true)" 0
consume_all "$T/byre.avro" "^$PFX\\.db\\.t[12]\$"
check_eq "topics by regex" "$(kinds "$T/byre.avro" change | wc -l)" \
    "$(kinds "$T/in.avro" change | wc -l)"
rc=0
timeout 60 "$K2C" -q -p "$PFX" -g "$PFX-end" -E -e "$PFX.db.t1" \
    >"$T/end.avro" 2>&1 || rc=$?
check_eq "--from-end exits 0" "$rc" 0
check_eq "--from-end reads nothing old" "$(kinds "$T/end.avro" change | wc -l)" 0

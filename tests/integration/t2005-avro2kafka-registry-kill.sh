#!/usr/bin/env bash
# avro2kafka --schema-registry -t: killed -9 after registering a schema and
# before producing with it, and started while the registry is down (it
# restarts within the retry budget), it leaves every change in Kafka
# exactly once; kafka2ch --schema-registry reads them all back.
. "$(dirname "$0")/lib.sh"
need_stack
. "$(dirname "$0")/kafka_lib.sh"
REG=$CDC_STACK_REGISTRY_URL

gen() { "$GEN" -n 3000 -t 2 -k 200 -x 10 -p "$PFX" "$@"; }
gen >"$T/in.avro"
tid=$PFX-tx
a2k() { "$A2K" -q -p "$PFX" -U "$REG" -t "$tid" -I 100 -w 60 "$@"; }

# 1. Stopped by the test hook right after the first registration.
CDC_AVRO2KAFKA_TEST_STOP_AFTER_REGISTER=1 "$A2K" -q -p "$PFX" -U "$REG" \
    -t "$tid" -I 100 -w 60 <"$T/in.avro" 2>"$T/a1.err" &
pid=$!
i=0
while [ "$(ps -o stat= -p "$pid" 2>/dev/null | cut -c1)" != T ] &&
    [ "$i" -lt 300 ]; do
	sleep 0.1
	i=$((i + 1))
done
check "stopped between registering and producing" \
    sh -c '[ "$(ps -o stat= -p "$1" | cut -c1)" = T ]' sh "$pid"
kill -9 "$pid" 2>/dev/null || true
wait "$pid" 2>/dev/null || true
check "a subject was registered" sh -c \
    'curl -sf "$1/subjects" | grep -q "\"$2\."' sh "$REG" "$PFX"

# 2. The restart finds the registry down; it comes back meanwhile.
"$ROOT/scripts/stack" down registry >/dev/null 2>&1
pos=$(a2k -R)
rc=0
a2k < <(gen ${pos:+-S "$pos"}) 2>"$T/a2.err" &
pid=$!
sleep 2
"$ROOT/scripts/stack" up registry >/dev/null 2>"$T/up.err" ||
    t_fail "registry restart" "$(tail -n 3 "$T/up.err")"
wait "$pid" || rc=$?
check_eq "the run through the registry's restart exits 0" "$rc" 0

rc=0
consume_all "$T/out.avro" -U "$REG" || rc=$?
check_eq "kafka2ch --schema-registry exits 0" "$rc" 0
perkey "$T/in.avro" >"$T/in.keys"
perkey "$T/out.avro" >"$T/out.keys"
check_eq "change count" "$(wc -l <"$T/out.keys")" "$(wc -l <"$T/in.keys")"
check "every change exactly once, in order per key" \
    cmp -s "$T/in.keys" "$T/out.keys"

# 3. An unreachable registry: exit 69 within the budget, nothing produced.
rc=0
"$A2K" -q -p "$PFX" -U http://127.0.0.1:1/ -w 2 <"$T/in.avro" \
    2>"$T/a3.err" || rc=$?
check_eq "unreachable registry: exit 69" "$rc" 69
check "one line naming the registry" sh -c \
    '[ "$(wc -l <"$1")" -eq 1 ] && grep -q "schema registry at .http://127.0.0.1:1. unavailable" "$1"' \
    sh "$T/a3.err"

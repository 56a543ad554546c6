#!/usr/bin/env bash
# avro2kafka --transactional-id: killed with SIGKILL at random points and
# restarted from --resume-position, it leaves every change in Kafka exactly
# once for a read_committed consumer, in order per key.
. "$(dirname "$0")/lib.sh"
need_stack
. "$(dirname "$0")/kafka_lib.sh"

gen() { "$GEN" -n 40000 -t 3 -k 500 -x 30 -p "$PFX" "$@"; }
gen >"$T/in.avro"
tid=$PFX-tx

resume() {
	"$A2K" -q -p "$PFX" -t "$tid" -w 30 --resume-position
}

kills=0
for seed in 11 22 33 44; do
	RANDOM=$seed
	pos=$(resume) || { t_fail "resume-position before seed $seed"; continue; }
	"$A2K" -q -p "$PFX" -P 3 -t "$tid" -I 100 -w 30 \
	    < <(gen -r 10000 ${pos:+-S "$pos"}) 2>"$T/a.$seed.err" &
	pid=$!
	sleep "0.$((3 + RANDOM % 7))"
	if kill -9 "$pid" 2>/dev/null; then
		kills=$((kills + 1))
	fi
	wait "$pid" 2>/dev/null || true
done
check "killed mid-stream at least 3 times" test "$kills" -ge 3

pos=$(resume)
check "a position was committed" test -n "$pos"
check "the position is a commit mark's" \
    sh -c '"$1" -r "$2" | grep -q "\"kind\":\"commit\",\"seq\":[0-9]*,\"position\":\"$3\""' \
    sh "$BIN/streamcat" "$T/in.avro" "$pos"
rc=0
"$A2K" -q -p "$PFX" -P 3 -t "$tid" -I 100 -w 30 < <(gen ${pos:+-S "$pos"}) \
    2>"$T/a.last.err" || rc=$?
check_eq "the last run exits 0" "$rc" 0
check_eq "the last position is the end of the stream" "$(resume)" \
    "$("$BIN/streamcat" "$T/in.avro" | grep '"kind":"commit"' | tail -n 1 |
    sed 's/.*"position":"\([^"]*\)".*/\1/')"

rc=0
consume_all "$T/out.avro" || rc=$?
check_eq "read_committed consumer exits 0" "$rc" 0
perkey "$T/in.avro" >"$T/in.keys"
perkey "$T/out.avro" >"$T/out.keys"
check_eq "change count" "$(wc -l <"$T/out.keys")" "$(wc -l <"$T/in.keys")"
check "every change exactly once, in order per key" \
    cmp -s "$T/in.keys" "$T/out.keys"

# Without a transactional id a kill can duplicate but never lose.
pfx2=${PFX}_alo
"$A2K" -q -p "$pfx2" -P 2 < <("$GEN" -n 20000 -t 2 -p "$pfx2" -r 20000) \
    2>/dev/null &
pid=$!
sleep 0.5
kill -9 "$pid" 2>/dev/null || true
wait "$pid" 2>/dev/null || true
"$A2K" -q -p "$pfx2" -P 2 < <("$GEN" -n 20000 -t 2 -p "$pfx2") 2>/dev/null
timeout 60 "$K2C" -q -p "$pfx2" -g "$pfx2-g" -e >"$T/alo.avro" 2>/dev/null
"$GEN" -n 20000 -t 2 -p "$pfx2" >"$T/alo.in"
missing=$(comm -23 <(kinds "$T/alo.in" change | uniq) \
    <(kinds "$T/alo.avro" change | uniq) | wc -l)
check_eq "at-least-once: nothing lost" "$missing" 0

#!/usr/bin/env bash
# chload: a private ClickHouse (scripts/stack up clickhouse in its own
# folder) restarted mid-load: chload rides it out, and the result equals a
# load into the shared server; down for longer than --retry-time, chload
# exits 75 and everything it acknowledged is in ClickHouse. On both
# engines: the private server is a ClickHouse 18.16 or the current engine's
# front end (tests/tools/chdb_http.py), killed -9 the same way.
ENGINES="18.16 current"
. "$(dirname "$0")/lib.sh"
need_stack
N=200000
if on current; then
	SVC=clickhouse-current URL2=http://127.0.0.1:27124/
else
	SVC=clickhouse URL2=http://127.0.0.1:27123/
fi
st2() {
	CDC_STACK_DIR=$T/stack CDC_STACK_TIMEOUT=120 CDC_STACK_CH_HTTP_PORT=27123 \
	    CDC_STACK_CH_TCP_PORT=27000 CDC_STACK_CH_INTERSERVER_PORT=27009 \
	    CDC_STACK_CH_CURRENT_PORT=27124 "$ROOT/scripts/stack" "$@"
}
ref=t4_restart_ref_$$
ch() { curl -sS --fail-with-body "$CDC_CLICKHOUSE_URL" --data-binary "$1"; }
ch2() { curl -sS --fail-with-body "$URL2" --data-binary "$1"; }
trap 'st2 down >/dev/null 2>&1 || true; ch "DROP DATABASE IF EXISTS $ref" >/dev/null 2>&1; rm -rf "$T"' EXIT

rc=0
st2 up "$SVC" >"$T/up.out" 2>"$T/up.err" || rc=$?
check_eq "private clickhouse up" "$rc" 0
[ "$rc" -eq 0 ] || exit 0

"$BIN/../tests/chload_benchgen" "$N" t4_restart >"$T/s.avro"
"$BIN/../tests/chload_benchgen" "$N" "$ref" >"$T/ref.avro"
"$BIN/chload" -q -u "$CDC_CLICKHOUSE_URL" <"$T/ref.avro"
split -n 40 "$T/s.avro" "$T/part."
# feed: the stream in pieces, slowly, so that the restart falls mid-load.
feed() { for p in "$T"/part.*; do cat "$p"; sleep 0.15; done; }
# crash: kill -9 the private server (a graceful stop would wait for
# chload's keep-alive connection to go quiet).
crash() { kill -KILL "$(cat "$T/stack/$SVC.pid")"; sleep 0.5; }

feed | "$BIN/chload" -u "$URL2" -b 5000 -r 60 --ack "$T/ack" >"$T/out" 2>"$T/err" &
pid=$!
sleep 1.5
crash
sleep 2
st2 up "$SVC" >/dev/null 2>&1
rc=0
wait "$pid" || rc=$?
check_eq "rides out the restart (exit 0)" "$rc" 0
check "says it retried" grep -q "retrying" "$T/err"
sum() { "$1" "SELECT count(), sum(cityHash64(concat(toString(id), '|', toString(qty), '|', toString(price), '|', name, '|', toString(created), '|', toString(score), '|', ifNull(note, 'NULL'), '|', toString(_version)))) FROM $2.orders_current FORMAT CSV" 2>&1; }
got=$(sum ch2 t4_restart)
check_eq "same current state as an undisturbed load" "$got" "$(sum ch "$ref")"
check "that state has rows" sh -c "echo '$got' | grep -Eq '^[1-9][0-9]*,[0-9]+$'"
check_eq "the last commit mark is acknowledged" "$(tail -n1 "$T/ack" | cut -d' ' -f1,2)" "ack $((N / 1000))"

# Down for longer than --retry-time: 75, and the acknowledged marks are in.
# The table is sorted by version here, so that no merge replaces a row and
# every change can be counted (not a plain MergeTree: the view's FINAL
# needs a Replacing one on current servers).
ch2 "DROP DATABASE t4_restart"
"$BIN/chload" -q --dry-run --server-version "$CH_VERSION" <"$T/s.avro" 2>/dev/null | grep -E '^CREATE (DATABASE|TABLE)' |
    sed 's/;$//; s/ENGINE = ReplacingMergeTree.*/ENGINE = ReplacingMergeTree ORDER BY (`_version`, `_deleted`, `id`)/' >"$T/ddl.sql"
while IFS= read -r sql; do ch2 "$sql"; done <"$T/ddl.sql"
feed | "$BIN/chload" -u "$URL2" -b 5000 -r 2 --ack "$T/ack2" >"$T/out" 2>"$T/err2" &
pid=$!
sleep 1.5
crash
rc=0
wait "$pid" || rc=$?
check_eq "gives up with work in flight (exit 75)" "$rc" 75
check "says why" grep -q "gave up" "$T/err2"
st2 up "$SVC" >/dev/null 2>&1
acked=$(tail -n1 "$T/ack2" 2>/dev/null | cut -d' ' -f2)
acked=${acked:-0}
check_eq "every acknowledged change is in ClickHouse" \
    "$(ch2 "SELECT uniqExact(_version) FROM t4_restart.orders WHERE _version <= $((1000 + acked * 1000))")" \
    "$((acked * 1000))"
check "something was acknowledged before the stop" test "$acked" -gt 0

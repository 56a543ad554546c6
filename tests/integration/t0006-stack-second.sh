#!/usr/bin/env bash
# scripts/stack: a second stack in its own folder on other ports comes up
# beside the main one, and down leaves none of its processes behind.
. "$(dirname "$0")/lib.sh"
need_stack

dir=$T/stack
st2() {
	CDC_STACK_DIR=$dir CDC_STACK_TIMEOUT=60 \
	    CDC_STACK_MYSQL_PORT=23306 \
	    CDC_STACK_KAFKA_PORT=29092 CDC_STACK_KAFKA_CONTROLLER_PORT=29093 \
	    CDC_STACK_CH_HTTP_PORT=28123 CDC_STACK_CH_TCP_PORT=29000 \
	    CDC_STACK_CH_INTERSERVER_PORT=29009 CDC_STACK_CH_CURRENT_PORT=28124 \
	    CDC_STACK_REGISTRY_PORT=29090 \
	    "$ROOT/scripts/stack" "$@"
}
# Whatever happens, stop the second stack before its folder goes.
trap 'st2 down >/dev/null 2>&1 || true; rm -rf "$T"' EXIT

main_pids=$(cat "$CDC_STACK_DIR"/*.pid | tr '\n' ' ')

rc=0
st2 up >"$T/up.out" 2>"$T/up.err" || rc=$?
check_eq "up exits 0" "$rc" 0
[ "$rc" -eq 0 ] || sed 's/^/# /' "$T/up.err" >&2
check "up says nothing on stdout" test ! -s "$T/up.out"
check_rc "status exits 0" 0 st2 status
check_eq "status has five running services" \
    "$(grep -c ' running pid ' "$T/check.out")" 5

st2 env >"$T/env.out" 2>/dev/null || true
check "env points at the new ports" grep -qx \
    'export CDC_KAFKA_BROKERS=127.0.0.1:29092' "$T/env.out"
check_eq "mariadb answers from its own folder" "$(
    MYSQL_PWD=$CDC_MYSQL_PASSWORD mariadb --no-defaults -N -B \
    -h 127.0.0.1 -P 23306 -u cdc -e 'SELECT @@datadir' 2>&1)" "$dir/mariadb/data/"
check "kafka answers" sh -c \
    'kcat -b 127.0.0.1:29092 -L -m 10 | grep -q "broker 1 at 127.0.0.1:29092"'
check_eq "clickhouse answers" "$(curl -sS --max-time 10 \
    'http://127.0.0.1:28123/?query=SELECT%201' 2>&1)" 1
check_eq "clickhouse-current answers, as 26.9" "$(curl -sS --max-time 10 \
    'http://127.0.0.1:28124/?query=SELECT%20version()' 2>&1)" 26.9.2.1
st2 env >"$T/env.out" 2>/dev/null || true
check "env gives its URL" grep -qx \
    'export CDC_CLICKHOUSE_CURRENT_URL=http://127.0.0.1:28124/' "$T/env.out"
check "processes run from the folder" pgrep -f -- "$dir/"

rc=0
st2 down >"$T/down.out" 2>"$T/down.err" || rc=$?
check_eq "down exits 0" "$rc" 0
check_rc "status after down exits 1" 1 st2 status
check_eq "status after down" "$(grep -c ' stopped$' "$T/check.out")" 5
check_rc "no process left" 1 pgrep -f -- "$dir/"
check_eq "no pid file left" "$(ls "$dir"/*.pid 2>/dev/null | wc -l)" 0
check "data stays" test -d "$dir/mariadb/data/mysql"
check "down again is harmless" st2 down

check_eq "main stack untouched" "$(cat "$CDC_STACK_DIR"/*.pid | tr '\n' ' ')" \
    "$main_pids"
check "main stack still up" "$ROOT/scripts/stack" status

check "down --purge removes the folder" st2 down --purge
check "folder gone" test ! -e "$dir"

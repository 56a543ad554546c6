#!/usr/bin/env bash
# scripts/stack: up on a running stack changes nothing; status, env and
# usage errors.
. "$(dirname "$0")/lib.sh"
need_stack

stack() { "$ROOT/scripts/stack" "$@"; }
pids() { cat "$CDC_STACK_DIR/mariadb.pid" "$CDC_STACK_DIR/kafka.pid" \
    "$CDC_STACK_DIR/clickhouse.pid" 2>/dev/null | tr '\n' ' '; }

before=$(pids)
t0=${EPOCHREALTIME/./}
check_rc "second up exits 0" 0 stack up
ms=$(((${EPOCHREALTIME/./} - t0) / 1000))
cp "$T/check.out" "$T/up.out"
check_eq "second up keeps the pids" "$(pids)" "$before"
check "second up is fast" test "$ms" -lt 10000
check "second up says already running" grep -q \
    '^stack: kafka already running' "$T/up.out"

rc=0
stack status >"$T/status.out" 2>"$T/status.err" || rc=$?
check_eq "status exits 0" "$rc" 0
check_eq "status has one running line per service" \
    "$(grep -cE '^(mariadb|kafka|clickhouse) +running pid [0-9]+ port ' \
        "$T/status.out")" 3

rc=0
stack env >"$T/env.out" 2>"$T/env.err" || rc=$?
check_eq "env exits 0" "$rc" 0
check_eq "env prints only export lines" "$(grep -vc '^export CDC_' \
    "$T/env.out")" 0
check_eq "env sets the brokers" "$(. "$T/env.out" &&
    printf '%s' "$CDC_KAFKA_BROKERS")" "$CDC_KAFKA_BROKERS"
check "env names the binlog folder" sh -c \
    '. "$1" && test -d "$CDC_MYSQL_BINLOG_DIR"' sh "$T/env.out"

check_rc "no command is a usage error" 64 stack
check_rc "unknown command is a usage error" 64 stack start
check_rc "extra argument is a usage error" 64 stack up now
rc=0
stack bogus >"$T/usage.out" 2>"$T/usage.err" || rc=$?
check_eq "usage exit code" "$rc" 64
check "usage goes to stderr" grep -q '^usage: scripts/stack' "$T/usage.err"
check "nothing on stdout for usage" test ! -s "$T/usage.out"
